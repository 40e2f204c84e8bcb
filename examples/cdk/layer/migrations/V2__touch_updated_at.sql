-- A function body is one statement however many `;` it holds: Holdfast splits on statement
-- boundaries, not on every semicolon, so the dollar-quoted body below is sent whole.
CREATE FUNCTION touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    -- 'it''s a string; not a statement end'
    NEW.updated_at := now();
    RETURN NEW;
END;
$fn$;

CREATE TRIGGER accounts_touch_updated_at
    BEFORE UPDATE ON accounts
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- A trigger body holds semicolons of its own: the splitter keeps it whole.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    entity TEXT NOT NULL,
    entity_id INTEGER NOT NULL,
    note TEXT NOT NULL -- e.g. 'plan changed; was free'
);

CREATE TRIGGER accounts_plan_changed AFTER UPDATE OF plan ON accounts
BEGIN
    INSERT INTO audit_log (entity, entity_id, note)
    VALUES ('account', NEW.id, 'plan changed; was ' || OLD.plan);
END;

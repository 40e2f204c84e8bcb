-- Repeatable: applied after the versioned files, and again whenever this text changes.
CREATE OR REPLACE VIEW account_summary AS
SELECT a.id, a.name, a.plan, count(u.id) AS users
FROM accounts a
LEFT JOIN users u ON u.account_id = a.id
GROUP BY a.id, a.name, a.plan;

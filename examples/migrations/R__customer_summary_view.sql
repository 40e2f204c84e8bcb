-- Repeatable: re-applied whenever this file changes.
DROP VIEW IF EXISTS customer_summary;
CREATE VIEW customer_summary AS
SELECT c.id, c.email, COUNT(a.id) AS accounts
FROM customers c LEFT JOIN accounts a ON a.customer_id = c.id
GROUP BY c.id, c.email;

CREATE INDEX customers_created_at ON customers (created_at);
ALTER TABLE customers ADD COLUMN country TEXT;

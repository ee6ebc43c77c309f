-- The bucket a cluster layout spreads rows by (PostgreSQL with Citus): a
-- SQLite store is never spread, so every row's bucket is 0; the column
-- lets both backends run the same statements.
ALTER TABLE participants ADD COLUMN bucket INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN bucket INTEGER NOT NULL DEFAULT 0;

-- The database's own clock for each audit row (PostgreSQL's trigger writes
-- it there). A SQLite file has no server clock apart from the client's:
-- db_at stays empty, and journeyctl keeps the lifecycle itself.
ALTER TABLE audit ADD COLUMN db_at BIGINT;

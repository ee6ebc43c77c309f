-- Trust (SPEC §6): on PostgreSQL the database writes the login into each
-- audit row. A SQLite file has no logins: its permissions are the
-- boundary, and db_user stays empty.
ALTER TABLE audit ADD COLUMN db_user TEXT;

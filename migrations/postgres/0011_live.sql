-- Live changes: every audit row, and every change of a version's status,
-- hold or delivery gate, notifies the store's channel `journeyctl_SCHEMA`
-- (at most 63 bytes) from the transaction that made it, so consoles and
-- `watch` learn of it after the commit, whoever made it (journeyctl or
-- `psql`). One notification a statement: PostgreSQL folds repeats of a
-- transaction into one.
CREATE FUNCTION notify_status() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM pg_catalog.pg_notify(pg_catalog.left('journeyctl_' || TG_TABLE_SCHEMA, 63), 'status');
    RETURN NULL;
END;
$$;
CREATE TRIGGER audit_notify AFTER INSERT ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION notify_status();
CREATE TRIGGER versions_notify AFTER UPDATE OF status, paused_at, gate_until ON versions
    FOR EACH STATEMENT EXECUTE FUNCTION notify_status();

DO $pin$
BEGIN
    EXECUTE pg_catalog.format(
        'ALTER FUNCTION %I.notify_status() SET search_path = pg_catalog, %I, pg_temp',
        pg_catalog.current_schema(), pg_catalog.current_schema());
END;
$pin$;

-- Nothing outside the product can fail a stop: PostgreSQL checks its
-- server-wide notification queue at commit, so a notification sent from
-- a stop's transaction lets any login that fills the queue make the stop
-- fail. journeyctl's own sessions set `journeyctl.notify` to
-- `after_commit` and announce their changes once committed (best effort;
-- consoles fall back to polling); the trigger still notifies for every
-- other writer (`psql`).
CREATE OR REPLACE FUNCTION notify_status() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    IF pg_catalog.current_setting('journeyctl.notify', true) = 'after_commit' THEN
        RETURN NULL;
    END IF;
    PERFORM pg_catalog.pg_notify(pg_catalog.left('journeyctl_' || TG_TABLE_SCHEMA, 63), 'status');
    RETURN NULL;
END;
$$;

DO $pin$
BEGIN
    EXECUTE pg_catalog.format(
        'ALTER FUNCTION %I.notify_status() SET search_path = pg_catalog, %I, pg_temp',
        pg_catalog.current_schema(), pg_catalog.current_schema());
END;
$pin$;

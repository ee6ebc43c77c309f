-- A message whose last attempt ended without a definite answer (a
-- time-out, a connection cut after the request was written, a worker that
-- died holding it) may have arrived: `uncertain` stays 1 until it is sent.
-- A claim whose lease ran out unrecorded counts too (claimed_until left set).
ALTER TABLE outbox ADD COLUMN uncertain BIGINT NOT NULL DEFAULT 0;
CREATE INDEX outbox_uncertain ON outbox (version_id, action) WHERE uncertain = 1;

-- What a stop or pause did to messages, as its outcome said: cancelled,
-- how many of those may have arrived, and how many went out while it
-- waited for deliveries in flight.
ALTER TABLE audit ADD COLUMN cancelled BIGINT;
ALTER TABLE audit ADD COLUMN cancelled_uncertain BIGINT;
ALTER TABLE audit ADD COLUMN sent_waiting BIGINT;

-- Flow control per channel, shared by every delivery worker of the store.
-- `next_us`: the first free send slot of a rate-limited channel (database
-- clock, microseconds); a Retry-After pushes it forward.
CREATE TABLE channel_slots (
    channel TEXT PRIMARY KEY,
    next_us BIGINT NOT NULL
);
-- What each worker holds of a channel's concurrency, until its lease runs
-- out (a worker that dies holds nothing for long).
CREATE TABLE channel_leases (
    channel TEXT NOT NULL,
    worker TEXT NOT NULL,
    n BIGINT NOT NULL,
    until_ms BIGINT NOT NULL,
    PRIMARY KEY (channel, worker)
);

-- A resume's choice for the messages that fell due during the hold
-- (`skip` or `spread`; NULL: send them, or already applied), applied by
-- the next delivery claim of the version, under its row lock.
ALTER TABLE versions ADD COLUMN overdue_mode TEXT
    CHECK (overdue_mode IS NULL OR overdue_mode IN ('skip', 'spread'));
ALTER TABLE versions ADD COLUMN overdue_before BIGINT;
ALTER TABLE versions ADD COLUMN overdue_spread_ms BIGINT;
-- The resume's audit row keeps the choice and how many messages it took.
ALTER TABLE audit ADD COLUMN overdue TEXT;
ALTER TABLE audit ADD COLUMN overdue_count BIGINT;

-- The choice is set only by the resume that ends a hold, and cleared only
-- by the engine's logins (the delivery claim that applies it).
CREATE FUNCTION versions_overdue() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    IF OLD.paused_at IS NOT NULL AND NEW.paused_at IS NULL THEN
        RETURN NEW;
    END IF;
    IF NEW.overdue_mode IS NULL
        AND pg_catalog.has_table_privilege('participants'::pg_catalog.regclass, 'INSERT') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'v%''s choice for overdue messages is set by its resume and applied by delivery', OLD.number
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER versions_overdue BEFORE UPDATE ON versions
    FOR EACH ROW WHEN ((OLD.overdue_mode, OLD.overdue_before, OLD.overdue_spread_ms)
        IS DISTINCT FROM (NEW.overdue_mode, NEW.overdue_before, NEW.overdue_spread_ms))
    EXECUTE FUNCTION versions_overdue();
DO $pin$
BEGIN
    EXECUTE pg_catalog.format(
        'ALTER FUNCTION %I.versions_overdue() SET search_path = pg_catalog, %I, pg_temp',
        pg_catalog.current_schema(), pg_catalog.current_schema());
END;
$pin$;

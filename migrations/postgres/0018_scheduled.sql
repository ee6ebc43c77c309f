-- Actions at a time (`journeyctl stop sale --at 23:59`): the intent, kept
-- and audited when it is set, carried out by the engine at its time
-- through the same call as the command, as the operator who set it. Its
-- `state` goes pending -> running (an engine has taken it) -> done,
-- skipped (it could no longer apply: `outcome` says why) or cancelled
-- (`unschedule`); running goes back to pending when the store could not
-- be reached. What was asked never changes once kept.
CREATE TABLE scheduled_actions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    due_at BIGINT NOT NULL,
    verb TEXT NOT NULL
        CHECK (verb IN ('finish', 'stop', 'pause', 'resume', 'publish', 'hold', 'release')),
    what TEXT NOT NULL CHECK (pg_catalog.char_length(what) <= 2000),
    journey TEXT CHECK (journey IS NULL OR pg_catalog.char_length(journey) <= 200),
    version BIGINT,
    intent TEXT NOT NULL CHECK (pg_catalog.char_length(intent) <= 20000),
    set_by TEXT NOT NULL CHECK (pg_catalog.char_length(set_by) <= 200),
    set_host TEXT NOT NULL CHECK (pg_catalog.char_length(set_host) <= 300),
    set_at BIGINT NOT NULL,
    reason TEXT CHECK (reason IS NULL OR pg_catalog.char_length(reason) <= 1000),
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'running', 'done', 'skipped', 'cancelled')),
    claimed_at BIGINT,
    ended_at BIGINT,
    ended_by TEXT CHECK (ended_by IS NULL OR pg_catalog.char_length(ended_by) <= 200),
    outcome TEXT CHECK (outcome IS NULL OR pg_catalog.char_length(outcome) <= 2000)
);
CREATE INDEX scheduled_actions_open ON scheduled_actions (state, due_at);

-- The audit row of an action carried out at its time names the schedule
-- (its way: `scheduled`), as do the rows that set and take one back.
ALTER TABLE audit ADD COLUMN schedule BIGINT;

-- When each engine (`journeyctl run`, `tick`) last went round, by host:
-- `list` and the console say when none has run for a while, since a
-- scheduled action waits for one.
CREATE TABLE engine_seen (
    host TEXT PRIMARY KEY CHECK (pg_catalog.char_length(host) <= 300),
    at BIGINT NOT NULL
);

-- What was asked is kept as it was asked; a state moves only forward
-- (running may go back to pending); nothing is deleted.
CREATE FUNCTION scheduled_actions_kept() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'a scheduled action is never deleted: unschedule it'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (NEW.id, NEW.due_at, NEW.verb, NEW.what, NEW.journey, NEW.version, NEW.intent,
        NEW.set_by, NEW.set_host, NEW.set_at, NEW.reason)
       IS DISTINCT FROM
       (OLD.id, OLD.due_at, OLD.verb, OLD.what, OLD.journey, OLD.version, OLD.intent,
        OLD.set_by, OLD.set_host, OLD.set_at, OLD.reason) THEN
        RAISE EXCEPTION 'scheduled action % is kept as it was asked: unschedule it and set another', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.state IN ('done', 'skipped', 'cancelled') AND NEW.state IS DISTINCT FROM OLD.state THEN
        RAISE EXCEPTION 'scheduled action % has ended (%)', OLD.id, OLD.state
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER scheduled_actions_kept BEFORE UPDATE OR DELETE ON scheduled_actions
    FOR EACH ROW EXECUTE FUNCTION scheduled_actions_kept();

-- A schedule is set, carried out, skipped or taken back only with this
-- transaction's audit row naming it, whoever connects.
CREATE FUNCTION scheduled_actions_audited() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.state IN ('running') OR (TG_OP = 'UPDATE' AND NEW.state = OLD.state)
       OR (TG_OP = 'UPDATE' AND NEW.state = 'pending' AND OLD.state = 'running') THEN
        RETURN NULL;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM audit a WHERE a.xact = pg_catalog.txid_current()
        AND a.schedule = NEW.id) THEN
        RAISE EXCEPTION 'scheduled action % changed (%) without an audit row saying so', NEW.id, NEW.state
            USING HINT = 'set and take back scheduled actions with journeyctl --at and unschedule',
                  ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER scheduled_actions_audited AFTER INSERT OR UPDATE ON scheduled_actions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION scheduled_actions_audited();

DO $pin$
BEGIN
    EXECUTE pg_catalog.format(
        'ALTER FUNCTION %I.scheduled_actions_kept() SET search_path = pg_catalog, %I, pg_temp',
        pg_catalog.current_schema(), pg_catalog.current_schema());
    EXECUTE pg_catalog.format(
        'ALTER FUNCTION %I.scheduled_actions_audited() SET search_path = pg_catalog, %I, pg_temp',
        pg_catalog.current_schema(), pg_catalog.current_schema());
END;
$pin$;

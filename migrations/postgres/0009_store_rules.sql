-- The store keeps its own rules, whoever connects (SPEC §1, §6): a
-- version's status moves only along the lifecycle, its audit row must say
-- what really changed, a published definition never changes, and no
-- trigger resolves a name through the caller's search_path.

-- The database's own clock for each audit row (milliseconds), beside the
-- client's `at` (which may be a simulated or given time).
ALTER TABLE audit ADD COLUMN db_at BIGINT;

-- Every function runs with a fixed search_path (pg_catalog first, then
-- this schema, temporary objects last; set at the end of this file) and
-- calls the catalog by its full name: a function a login puts earlier on
-- its own search_path (say a `txid_current` of its own) is never the one
-- called, and a temporary table never stands in for one of the store's.
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;

CREATE OR REPLACE FUNCTION audit_stamp() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    NEW.db_user := session_user;
    NEW.xact := pg_catalog.txid_current();
    NEW.db_at := CAST(EXTRACT(EPOCH FROM pg_catalog.clock_timestamp()) * 1000 AS BIGINT);
    RETURN NEW;
END;
$$;

-- The lifecycle's table, for every client: draft -> live; live ->
-- finished or stopped; finished -> stopped. `stopped` is terminal and
-- nothing returns to `draft`. A hold (pause) is a live or finished
-- version's paused_at; it begins and ends whole. A published version's
-- definition, goal and entry end never change, nor does who changed its
-- status unless the status changes with it.
CREATE FUNCTION versions_rules() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'draft' OR NEW.paused_at IS NOT NULL THEN
            RAISE EXCEPTION 'a version is born a draft (v% was inserted as %)', NEW.number, NEW.status
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.id <> OLD.id OR NEW.journey_id <> OLD.journey_id OR NEW.number <> OLD.number THEN
        RAISE EXCEPTION 'v% cannot be renumbered or moved to another journey', OLD.number
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.status <> OLD.status AND NOT (
        (OLD.status = 'draft' AND NEW.status = 'live')
        OR (OLD.status = 'live' AND NEW.status IN ('finished', 'stopped'))
        OR (OLD.status = 'finished' AND NEW.status = 'stopped')) THEN
        RAISE EXCEPTION 'v% cannot go from % to %: the lifecycle allows draft -> live -> finished -> stopped (or live -> stopped), and a stopped version stays stopped',
            OLD.number, OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    IF OLD.status <> 'draft' AND (NEW.definition IS DISTINCT FROM OLD.definition
        OR NEW.goal IS DISTINCT FROM OLD.goal
        OR NEW.entry_end_at IS DISTINCT FROM OLD.entry_end_at) THEN
        RAISE EXCEPTION 'v% is published: its definition never changes (apply a new version instead)', OLD.number
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.status = OLD.status AND OLD.status <> 'draft' AND (
        NEW.status_at IS DISTINCT FROM OLD.status_at
        OR NEW.status_by IS DISTINCT FROM OLD.status_by
        OR NEW.status_host IS DISTINCT FROM OLD.status_host) THEN
        RAISE EXCEPTION 'who changed v%''s status, and when, changes only with its status', OLD.number
            USING ERRCODE = 'check_violation';
    END IF;
    IF (OLD.paused_at IS NULL) = (NEW.paused_at IS NULL) AND (
        NEW.paused_at IS DISTINCT FROM OLD.paused_at
        OR NEW.paused_until IS DISTINCT FROM OLD.paused_until
        OR NEW.paused_on_expiry IS DISTINCT FROM OLD.paused_on_expiry
        OR NEW.paused_by IS DISTINCT FROM OLD.paused_by) THEN
        RAISE EXCEPTION 'v%''s hold begins (pause) and ends (resume, stop) whole; it is never rewritten', OLD.number
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.paused_at IS NOT NULL AND (NEW.status NOT IN ('live', 'finished')
        OR NEW.paused_until IS NULL OR NEW.paused_on_expiry NOT IN ('stop', 'resume')) THEN
        RAISE EXCEPTION 'only a live or finished version is held, until a time, then stopped or resumed'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
-- Only where one of the columns it guards changes: the engine's counter
-- updates never call it.
CREATE TRIGGER versions_rules_insert BEFORE INSERT ON versions
    FOR EACH ROW EXECUTE FUNCTION versions_rules();
CREATE TRIGGER versions_rules BEFORE UPDATE ON versions
    FOR EACH ROW WHEN (
        (OLD.id, OLD.journey_id, OLD.number, OLD.status, OLD.status_at, OLD.status_by, OLD.status_host,
         OLD.definition, OLD.goal, OLD.entry_end_at,
         OLD.paused_at, OLD.paused_until, OLD.paused_on_expiry, OLD.paused_by)
        IS DISTINCT FROM
        (NEW.id, NEW.journey_id, NEW.number, NEW.status, NEW.status_at, NEW.status_by, NEW.status_host,
         NEW.definition, NEW.goal, NEW.entry_end_at,
         NEW.paused_at, NEW.paused_until, NEW.paused_on_expiry, NEW.paused_by))
    EXECUTE FUNCTION versions_rules();

-- A change of status or hold commits only with this transaction's audit
-- row saying what really happened: the action that makes this transition,
-- from the row's old status (or `paused`) to its new one. Its tables are
-- the schema's own (the pinned search_path), never a temporary table.
CREATE OR REPLACE FUNCTION versions_status_audited() RETURNS trigger LANGUAGE plpgsql
AS $$
DECLARE
    actions text[];
    froms text[];
    goes_to text;
    found boolean;
BEGIN
    IF OLD.status IS DISTINCT FROM NEW.status THEN
        goes_to := NEW.status;
        froms := ARRAY[OLD.status];
        IF NEW.status = 'live' THEN
            actions := ARRAY['publish'];
        ELSIF NEW.status = 'finished' THEN
            actions := ARRAY['finish'];
        ELSIF OLD.paused_at IS NOT NULL THEN
            actions := ARRAY['stop', 'hold_expired'];
            froms := ARRAY[OLD.status, 'paused'];
        ELSE
            actions := ARRAY['stop'];
        END IF;
    ELSIF NEW.paused_at IS NOT NULL THEN
        actions := ARRAY['pause'];
        froms := ARRAY[OLD.status];
        goes_to := 'paused';
    ELSE
        actions := ARRAY['resume', 'hold_expired'];
        froms := ARRAY['paused'];
        goes_to := NEW.status;
    END IF;
    found := EXISTS (SELECT 1 FROM audit a JOIN journeys j ON j.name = a.journey
        WHERE a.xact = pg_catalog.txid_current() AND j.id = NEW.journey_id
        AND a.version = NEW.number AND a.action = ANY (actions)
        AND a.from_status = ANY (froms) AND a.to_status = goes_to);
    IF NOT found THEN
        RAISE EXCEPTION 'v% (version id %) changed (% -> %) without an audit row saying so (action %, from %, to %)',
            NEW.number, NEW.id, pg_catalog.array_to_string(froms, '|'), goes_to,
            pg_catalog.array_to_string(actions, '|'), pg_catalog.array_to_string(froms, '|'), goes_to
            USING HINT = 'change a version''s status with journeyctl (publish, finish, stop, pause, resume): it writes the audit row';
    END IF;
    RETURN NULL;
END;
$$;
-- A version is born a draft (versions_rules), so its birth needs no audit.
DROP TRIGGER versions_born_audited ON versions;

-- A journey keeps its name: renaming it would cut it from its audit trail.
CREATE FUNCTION journeys_keep_name() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.name IS DISTINCT FROM OLD.name OR NEW.id IS DISTINCT FROM OLD.id THEN
        RAISE EXCEPTION 'journey % keeps its name: its audit trail is kept by name', OLD.name
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER journeys_keep_name BEFORE UPDATE ON journeys
    FOR EACH ROW EXECUTE FUNCTION journeys_keep_name();

-- A stored A/B decision never changes, whoever connects.
CREATE FUNCTION ab_decisions_final() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'a stored A/B decision never changes';
END;
$$;
CREATE TRIGGER ab_decisions_final BEFORE UPDATE OR DELETE ON ab_decisions
    FOR EACH ROW EXECUTE FUNCTION ab_decisions_final();
CREATE TRIGGER ab_decisions_no_truncate BEFORE TRUNCATE ON ab_decisions
    FOR EACH STATEMENT EXECUTE FUNCTION ab_decisions_final();

-- A test's variants are a draft's to write: once published, its variants
-- are only counted (their names, weights and positions stay).
CREATE FUNCTION variants_of_drafts() RETURNS trigger LANGUAGE plpgsql
AS $$
DECLARE
    status text;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.version_id = OLD.version_id AND NEW.test = OLD.test
        AND NEW.name = OLD.name AND NEW.position = OLD.position THEN
        RETURN NEW;
    END IF;
    SELECT v.status INTO status FROM versions v
        WHERE v.id = CASE WHEN TG_OP = 'DELETE' THEN OLD.version_id ELSE NEW.version_id END;
    IF status IS DISTINCT FROM 'draft' THEN
        RAISE EXCEPTION 'the variants of a published version are only counted, never added, removed or renamed'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$;
CREATE TRIGGER variants_of_drafts BEFORE INSERT OR DELETE ON variants
    FOR EACH ROW EXECUTE FUNCTION variants_of_drafts();
-- The engine's count updates never call it.
CREATE TRIGGER variants_of_drafts_update BEFORE UPDATE ON variants
    FOR EACH ROW WHEN ((OLD.version_id, OLD.test, OLD.name, OLD.position)
        IS DISTINCT FROM (NEW.version_id, NEW.test, NEW.name, NEW.position))
    EXECUTE FUNCTION variants_of_drafts();

-- Separate duties. The engine's logins (the owner, and roles granted
-- `--engine`: they can write participants) move counters, minutes and
-- messages. Any other login that can update versions (an `--operator`)
-- changes counters only as a stop moves them, the delivery gate only as a
-- stop waiting for deliveries in flight sets it, and the last activity
-- only as a publish does.
CREATE FUNCTION versions_operator_columns() RETURNS trigger LANGUAGE plpgsql
AS $$
DECLARE
    latest bigint;
    now_ms bigint := CAST(EXTRACT(EPOCH FROM pg_catalog.clock_timestamp()) * 1000 AS BIGINT);
BEGIN
    IF pg_catalog.has_table_privilege('participants'::pg_catalog.regclass, 'INSERT') THEN
        RETURN NEW;
    END IF;
    IF NEW.entered <> OLD.entered OR NEW.completed <> OLD.completed OR NEW.exited <> OLD.exited
        OR NEW.converted <> OLD.converted OR NEW.msg_sent <> OLD.msg_sent
        OR NEW.msg_failed <> OLD.msg_failed THEN
        RAISE EXCEPTION 'only the engine''s logins move v%''s counters (journeyctl grant --engine)', OLD.number
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (NEW.active, NEW.stopped, NEW.msg_pending, NEW.msg_cancelled, NEW.swept)
        IS DISTINCT FROM (OLD.active, OLD.stopped, OLD.msg_pending, OLD.msg_cancelled, OLD.swept)
        AND NOT (OLD.status = 'stopped' AND NEW.status = 'stopped' AND NEW.active = 0
            AND NEW.stopped = OLD.stopped + OLD.active AND NEW.msg_pending = 0
            AND NEW.msg_cancelled = OLD.msg_cancelled + OLD.msg_pending AND NEW.swept = 0) THEN
        RAISE EXCEPTION 'an operator moves v%''s counters only as its stop does (journeyctl grant --engine for the engine)', OLD.number
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.last_activity_at IS DISTINCT FROM OLD.last_activity_at
        AND NOT (OLD.status = 'draft' AND NEW.status = 'live') THEN
        RAISE EXCEPTION 'only the engine''s logins record v%''s activity', OLD.number
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.gate_until IS NOT NULL AND NEW.gate_until IS DISTINCT FROM OLD.gate_until THEN
        SELECT MAX(o.claimed_until) INTO latest FROM outbox o
            WHERE o.version_id = NEW.id AND o.claimed_until IS NOT NULL;
        IF NEW.gate_until > GREATEST(COALESCE(latest, now_ms), now_ms) + 5000 THEN
            RAISE EXCEPTION 'a stop closes v%''s delivery gate only until the deliveries in flight are done', OLD.number
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER versions_operator_columns BEFORE UPDATE ON versions
    FOR EACH ROW WHEN (
        (OLD.entered, OLD.active, OLD.completed, OLD.exited, OLD.stopped, OLD.converted,
         OLD.msg_pending, OLD.msg_sent, OLD.msg_failed, OLD.msg_cancelled, OLD.swept,
         OLD.last_activity_at, OLD.gate_until)
        IS DISTINCT FROM
        (NEW.entered, NEW.active, NEW.completed, NEW.exited, NEW.stopped, NEW.converted,
         NEW.msg_pending, NEW.msg_sent, NEW.msg_failed, NEW.msg_cancelled, NEW.swept,
         NEW.last_activity_at, NEW.gate_until))
    EXECUTE FUNCTION versions_operator_columns();

-- The same for the per-action delivery counters: an operator's stop moves
-- pending to cancelled, nothing else.
CREATE FUNCTION outbox_actions_operator() RETURNS trigger LANGUAGE plpgsql
AS $$
DECLARE
    status text;
BEGIN
    IF pg_catalog.has_table_privilege('participants'::pg_catalog.regclass, 'INSERT') THEN
        RETURN NEW;
    END IF;
    SELECT v.status INTO status FROM versions v WHERE v.id = OLD.version_id;
    IF NOT (status = 'stopped' AND NEW.version_id = OLD.version_id AND NEW.action = OLD.action
        AND NEW.pending = 0 AND NEW.retrying = 0 AND NEW.cancelled = OLD.cancelled + OLD.pending
        AND NEW.sent = OLD.sent AND NEW.failed = OLD.failed
        AND NEW.last_error IS NOT DISTINCT FROM OLD.last_error
        AND NEW.last_error_at IS NOT DISTINCT FROM OLD.last_error_at
        AND NEW.last_sent_at IS NOT DISTINCT FROM OLD.last_sent_at) THEN
        RAISE EXCEPTION 'an operator moves delivery counters only as a stop does (journeyctl grant --engine for the engine)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER outbox_actions_operator BEFORE UPDATE ON outbox_actions
    FOR EACH ROW EXECUTE FUNCTION outbox_actions_operator();

-- Pin every function of this schema (the earlier migrations' too) to
-- pg_catalog, this schema, and temporary objects last.
DO $pin$
DECLARE
    f record;
BEGIN
    FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_catalog.pg_proc p
             WHERE p.pronamespace = pg_catalog.current_schema()::regnamespace LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = pg_catalog, %I, pg_temp',
            f.sig, pg_catalog.current_schema());
    END LOOP;
END;
$pin$;

-- One action held (`journeyctl hold --action webhook:crm`): its messages
-- stay pending and no worker claims one (a claim reads this under its
-- version's lock, which the hold takes), while entries, waits and every
-- other action go on. `action` covers itself and `action:*`. At `until_ms`
-- the engine releases it, or cancels its pending messages (`on_expiry`).
CREATE TABLE action_holds (
    action TEXT PRIMARY KEY
        CHECK (pg_catalog.char_length(action) BETWEEN 1 AND 200),
    held_at BIGINT NOT NULL,
    held_by TEXT NOT NULL CHECK (pg_catalog.char_length(held_by) <= 200),
    until_ms BIGINT,
    on_expiry TEXT NOT NULL DEFAULT 'release' CHECK (on_expiry IN ('release', 'cancel')),
    reason TEXT CHECK (reason IS NULL OR pg_catalog.char_length(reason) <= 1000)
);

-- What a release (or a hold that ran out) chose for the messages of the
-- action that fell due while it was held, one row per running version:
-- `skip` cancels those due by `before_ms` (all of them, at an expiry's
-- cancel), `spread` spreads them over `spread_ms`. The next delivery
-- claim of the version applies it under the version's lock, before any
-- of them can be claimed, and deletes the row: the operator's release
-- needs no right on the outbox.
CREATE TABLE action_overdue (
    version_id BIGINT NOT NULL,
    action TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('skip', 'spread')),
    before_ms BIGINT NOT NULL,
    spread_ms BIGINT,
    PRIMARY KEY (version_id, action)
);

-- A hold begins and ends only with this transaction's audit row saying so
-- (action `hold`, `release` or `hold_expired`, subject `action:<name>`).
CREATE FUNCTION action_holds_audited() RETURNS trigger LANGUAGE plpgsql
AS $$
DECLARE
    named text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        named := OLD.action;
    ELSE
        named := NEW.action;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM audit a WHERE a.xact = pg_catalog.txid_current()
        AND a.action IN ('hold', 'release', 'hold_expired') AND a.subject = 'action:' || named) THEN
        RAISE EXCEPTION 'the hold of % changed without an audit row saying so', named
            USING HINT = 'hold and release an action with journeyctl hold and release: they write the audit row',
                  ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER action_holds_audited AFTER INSERT OR UPDATE OR DELETE ON action_holds
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION action_holds_audited();

-- A choice for a held action's overdue messages is recorded only by its
-- release (or its expiry), with that audit row in the same transaction.
CREATE FUNCTION action_overdue_audited() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM audit a WHERE a.xact = pg_catalog.txid_current()
        AND a.action IN ('release', 'hold_expired') AND a.subject = 'action:' || NEW.action) THEN
        RAISE EXCEPTION 'a choice for the overdue messages of % without the release that makes it', NEW.action
            USING HINT = 'release a held action with journeyctl release --overdue',
                  ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER action_overdue_audited AFTER INSERT OR UPDATE ON action_overdue
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION action_overdue_audited();

DO $pin$
BEGIN
    EXECUTE pg_catalog.format(
        'ALTER FUNCTION %I.action_holds_audited() SET search_path = pg_catalog, %I, pg_temp',
        pg_catalog.current_schema(), pg_catalog.current_schema());
    EXECUTE pg_catalog.format(
        'ALTER FUNCTION %I.action_overdue_audited() SET search_path = pg_catalog, %I, pg_temp',
        pg_catalog.current_schema(), pg_catalog.current_schema());
END;
$pin$;

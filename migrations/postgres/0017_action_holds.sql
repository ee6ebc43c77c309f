-- One action held (`journeyctl hold --action webhook:crm`): its messages
-- stay pending and no worker claims one (a claim reads this under its
-- version's lock, which the hold takes), while entries, waits and every
-- other action go on. `action` covers itself and `action:*`. At `until_ms`
-- the engine releases it.
CREATE TABLE action_holds (
    action TEXT PRIMARY KEY
        CHECK (pg_catalog.char_length(action) BETWEEN 1 AND 200),
    held_at BIGINT NOT NULL,
    held_by TEXT NOT NULL CHECK (pg_catalog.char_length(held_by) <= 200),
    until_ms BIGINT,
    reason TEXT CHECK (reason IS NULL OR pg_catalog.char_length(reason) <= 1000)
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

DO $pin$
BEGIN
    EXECUTE pg_catalog.format(
        'ALTER FUNCTION %I.action_holds_audited() SET search_path = pg_catalog, %I, pg_temp',
        pg_catalog.current_schema(), pg_catalog.current_schema());
END;
$pin$;

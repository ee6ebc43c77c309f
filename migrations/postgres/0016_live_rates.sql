-- A channel's rate and concurrency set live by an operator (`journeyctl
-- rate`), by the action named: every delivery worker of the store follows
-- it within a second over the channel that action goes through. NULL: the
-- channels file's value. No row: the file's values.
CREATE TABLE channel_rates (
    action TEXT PRIMARY KEY
        CHECK (pg_catalog.char_length(action) BETWEEN 1 AND 200),
    per_window BIGINT CHECK (per_window IS NULL OR per_window BETWEEN 1 AND 1000000),
    window_s BIGINT CHECK (window_s IS NULL OR window_s IN (1, 60)),
    concurrency BIGINT CHECK (concurrency IS NULL OR concurrency BETWEEN 1 AND 10000),
    set_by TEXT NOT NULL CHECK (pg_catalog.char_length(set_by) <= 200),
    set_at BIGINT NOT NULL,
    reason TEXT CHECK (reason IS NULL OR pg_catalog.char_length(reason) <= 1000),
    CHECK ((per_window IS NULL) = (window_s IS NULL)),
    CHECK (per_window IS NOT NULL OR concurrency IS NOT NULL)
);

-- What the workers' channels file says of each channel's flow, beside the
-- route (`channels` shows the file's value under a live one).
ALTER TABLE delivery_routes ADD COLUMN file_rate TEXT;
ALTER TABLE delivery_routes ADD COLUMN file_concurrency BIGINT;

-- What an audit row acts on when it is not a journey's version
-- (`action:webhook:crm` for a rate).
ALTER TABLE audit ADD COLUMN subject TEXT;

-- A live rate changes only with this transaction's audit row saying so
-- (action `rate`, subject `action:<name>`), whoever connects.
CREATE FUNCTION channel_rates_audited() RETURNS trigger LANGUAGE plpgsql
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
        AND a.action = 'rate' AND a.subject = 'action:' || named) THEN
        RAISE EXCEPTION 'the rate of % changed without an audit row saying so', named
            USING HINT = 'change a rate with journeyctl rate: it writes the audit row',
                  ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER channel_rates_audited AFTER INSERT OR UPDATE OR DELETE ON channel_rates
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION channel_rates_audited();

DO $pin$
BEGIN
    EXECUTE pg_catalog.format(
        'ALTER FUNCTION %I.channel_rates_audited() SET search_path = pg_catalog, %I, pg_temp',
        pg_catalog.current_schema(), pg_catalog.current_schema());
END;
$pin$;

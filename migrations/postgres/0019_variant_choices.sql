-- A/B by hand (`journeyctl variant JOURNEY --disable B` or `--winner A`):
-- an operator's choice for one arm of a version's test, kept apart from
-- the engine's statistical decisions (`ab_decisions`). A disabled arm
-- takes no new participant (the others share them by their weights); a
-- winner takes every new one. `assigned_then` keeps every arm's count at
-- the change (JSON), so the sample ratio check compares what came after
-- with the weights from then on.
CREATE TABLE variant_choices (
    version_id BIGINT NOT NULL,
    test TEXT NOT NULL,
    variant TEXT NOT NULL CHECK (pg_catalog.char_length(variant) <= 200),
    choice TEXT NOT NULL CHECK (choice IN ('disabled', 'winner')),
    set_by TEXT NOT NULL CHECK (pg_catalog.char_length(set_by) <= 200),
    set_at BIGINT NOT NULL,
    reason TEXT CHECK (reason IS NULL OR pg_catalog.char_length(reason) <= 1000),
    assigned_then TEXT NOT NULL CHECK (pg_catalog.char_length(assigned_then) <= 100000),
    PRIMARY KEY (version_id, test, variant)
);

-- A choice is made only with this transaction's audit row saying so
-- (action `variant`, subject `variant:<test>/<name>`), and is never
-- changed or taken back: it stands for the version's life.
CREATE FUNCTION variant_choices_audited() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'an operator''s A/B choice is kept as it was made'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM audit a WHERE a.xact = pg_catalog.txid_current()
        AND a.action = 'variant' AND a.subject = 'variant:' || NEW.test || '/' || NEW.variant) THEN
        RAISE EXCEPTION 'an A/B choice for % without an audit row saying so', NEW.variant
            USING HINT = 'choose by hand with journeyctl variant: it writes the audit row',
                  ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER variant_choices_audited AFTER INSERT OR UPDATE OR DELETE ON variant_choices
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION variant_choices_audited();

DO $pin$
BEGIN
    EXECUTE pg_catalog.format(
        'ALTER FUNCTION %I.variant_choices_audited() SET search_path = pg_catalog, %I, pg_temp',
        pg_catalog.current_schema(), pg_catalog.current_schema());
END;
$pin$;

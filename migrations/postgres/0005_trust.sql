-- Trust on PostgreSQL (SPEC §6): the database, not the client, says who
-- made each audit row, and no version changes status without one.

-- The login that wrote each audit row, and the transaction it came in.
-- A trigger writes both over whatever the client sent: a client cannot
-- claim another login (the `actor` column stays the client's label).
ALTER TABLE audit ADD COLUMN db_user TEXT;
ALTER TABLE audit ADD COLUMN xact BIGINT;
CREATE INDEX audit_xact ON audit (xact);

CREATE FUNCTION audit_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.db_user := session_user;
    NEW.xact := txid_current();
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_stamp BEFORE INSERT ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_stamp();

-- A version's status (or its hold) changes only in a transaction that
-- also writes the version's audit row: journeyctl does both; an UPDATE by
-- hand without the row is refused at commit. The check runs at commit, so
-- the order of the two inside the transaction does not matter. The tables
-- are named with the trigger's own schema, so a table of the same name in
-- another schema (or a temporary one) cannot stand in for the audit log.
CREATE FUNCTION versions_status_audited() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    found boolean;
BEGIN
    EXECUTE format(
        'SELECT EXISTS (SELECT 1 FROM %1$I.audit a JOIN %1$I.journeys j ON j.name = a.journey '
        'WHERE a.xact = txid_current() AND j.id = $1 AND a.version = $2)',
        TG_TABLE_SCHEMA)
        INTO found USING NEW.journey_id, NEW.number;
    IF NOT found THEN
        RAISE EXCEPTION 'v% (version id %) changed status (% -> %) without an audit row',
            NEW.number, NEW.id,
            CASE WHEN TG_OP = 'INSERT' THEN 'none' ELSE OLD.status END, NEW.status
            USING HINT = 'change a version''s status with journeyctl (publish, finish, stop, pause, resume): it writes the audit row';
    END IF;
    RETURN NULL;
END;
$$;
CREATE CONSTRAINT TRIGGER versions_status_audited AFTER UPDATE ON versions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          OR (OLD.paused_at IS NULL) IS DISTINCT FROM (NEW.paused_at IS NULL))
    EXECUTE FUNCTION versions_status_audited();
CREATE CONSTRAINT TRIGGER versions_born_audited AFTER INSERT ON versions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.status <> 'draft' OR NEW.paused_at IS NOT NULL)
    EXECUTE FUNCTION versions_status_audited();

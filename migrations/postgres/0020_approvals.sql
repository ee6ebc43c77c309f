-- Four eyes (`journeyctl policy --require-approval publish,resume,release`):
-- the store's policy, and the requests an action it names becomes. A
-- request is carried out by another login (`journeyctl approve ID`)
-- through the same call as the command; the action's audit row names the
-- request and who asked. What was asked never changes; nothing is deleted.
CREATE TABLE store_policy (
    name TEXT PRIMARY KEY CHECK (name IN ('require_approval', 'approval_expiry_ms')),
    value TEXT NOT NULL CHECK (pg_catalog.char_length(value) <= 200),
    set_at BIGINT NOT NULL,
    set_by TEXT NOT NULL CHECK (pg_catalog.char_length(set_by) <= 200)
);

CREATE TABLE approval_requests (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    verb TEXT NOT NULL CHECK (verb IN ('resume', 'publish', 'release')),
    what TEXT NOT NULL CHECK (pg_catalog.char_length(what) <= 2000),
    journey TEXT CHECK (journey IS NULL OR pg_catalog.char_length(journey) <= 200),
    version BIGINT,
    intent TEXT NOT NULL CHECK (pg_catalog.char_length(intent) <= 20000),
    asked_by TEXT NOT NULL CHECK (pg_catalog.char_length(asked_by) <= 200),
    asked_host TEXT NOT NULL CHECK (pg_catalog.char_length(asked_host) <= 300),
    asked_login TEXT,
    asked_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    reason TEXT CHECK (reason IS NULL OR pg_catalog.char_length(reason) <= 1000),
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done')),
    approved_by TEXT CHECK (approved_by IS NULL OR pg_catalog.char_length(approved_by) <= 200),
    approved_login TEXT,
    approved_at BIGINT,
    approved_xact BIGINT
);
CREATE INDEX approval_requests_open ON approval_requests (state, expires_at);

-- The action a request became names it, and who asked.
ALTER TABLE audit ADD COLUMN approval BIGINT;
ALTER TABLE audit ADD COLUMN asked_by TEXT;

-- The database says who asked and who approved, whatever a client
-- claims; the login that asked never approves; an approved request, or
-- one approved at or after its expiry (by the approving client's clock,
-- as every time journeyctl writes), stays as it is; nothing is deleted.
CREATE FUNCTION approval_requests_kept() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'an approval request is never deleted'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'INSERT' THEN
        NEW.asked_login := session_user;
        NEW.state := 'open';
        NEW.approved_by := NULL;
        NEW.approved_login := NULL;
        NEW.approved_at := NULL;
        NEW.approved_xact := NULL;
        RETURN NEW;
    END IF;
    IF (NEW.id, NEW.verb, NEW.what, NEW.journey, NEW.version, NEW.intent, NEW.asked_by,
        NEW.asked_host, NEW.asked_login, NEW.asked_at, NEW.expires_at, NEW.reason)
       IS DISTINCT FROM
       (OLD.id, OLD.verb, OLD.what, OLD.journey, OLD.version, OLD.intent, OLD.asked_by,
        OLD.asked_host, OLD.asked_login, OLD.asked_at, OLD.expires_at, OLD.reason) THEN
        RAISE EXCEPTION 'approval request % is kept as it was asked', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.state <> 'open' OR NEW.state <> 'done' THEN
        RAISE EXCEPTION 'approval request % was approved already', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.approved_at IS NULL OR NEW.approved_at >= OLD.expires_at THEN
        RAISE EXCEPTION 'approval request % has expired: ask again', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    NEW.approved_login := session_user;
    NEW.approved_xact := pg_catalog.txid_current();
    IF NEW.approved_login = OLD.asked_login THEN
        RAISE EXCEPTION 'four eyes: % asked for request % and cannot approve it; another login must', OLD.asked_login, OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER approval_requests_kept BEFORE INSERT OR UPDATE OR DELETE ON approval_requests
    FOR EACH ROW EXECUTE FUNCTION approval_requests_kept();

-- An action the policy names is written only as a request approved in
-- this same transaction by another login, whoever connects.
CREATE FUNCTION audit_four_eyes() RETURNS trigger LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.action IN ('publish', 'resume', 'release') AND EXISTS (
        SELECT 1 FROM store_policy p WHERE p.name = 'require_approval'
        AND NEW.action = ANY (pg_catalog.string_to_array(p.value, ','))) THEN
        IF NEW.approval IS NULL OR NOT EXISTS (
            SELECT 1 FROM approval_requests r WHERE r.id = NEW.approval AND r.state = 'done'
            AND r.verb = NEW.action AND r.approved_xact = pg_catalog.txid_current()
            AND r.approved_login IS DISTINCT FROM r.asked_login) THEN
            RAISE EXCEPTION 'four eyes: % needs another login''s approval on this store (journeyctl approvals)', NEW.action
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_four_eyes BEFORE INSERT ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_four_eyes();

DO $pin$
BEGIN
    EXECUTE pg_catalog.format(
        'ALTER FUNCTION %I.approval_requests_kept() SET search_path = pg_catalog, %I, pg_temp',
        pg_catalog.current_schema(), pg_catalog.current_schema());
    EXECUTE pg_catalog.format(
        'ALTER FUNCTION %I.audit_four_eyes() SET search_path = pg_catalog, %I, pg_temp',
        pg_catalog.current_schema(), pg_catalog.current_schema());
END;
$pin$;

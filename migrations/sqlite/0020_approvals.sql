-- Four eyes (`journeyctl policy --require-approval publish,resume,release`):
-- the store's policy, and the requests an action it names becomes,
-- carried out by another operator (`journeyctl approve ID`). A SQLite
-- store has no logins: the operator's name is compared.
CREATE TABLE store_policy (
    name TEXT PRIMARY KEY CHECK (name IN ('require_approval', 'approval_expiry_ms')),
    value TEXT NOT NULL CHECK (length(value) <= 200),
    set_at INTEGER NOT NULL,
    set_by TEXT NOT NULL CHECK (length(set_by) <= 200)
);

CREATE TABLE approval_requests (
    id INTEGER PRIMARY KEY,
    verb TEXT NOT NULL CHECK (verb IN ('resume', 'publish', 'release')),
    what TEXT NOT NULL CHECK (length(what) <= 2000),
    journey TEXT CHECK (journey IS NULL OR length(journey) <= 200),
    version INTEGER,
    intent TEXT NOT NULL CHECK (length(intent) <= 20000),
    asked_by TEXT NOT NULL CHECK (length(asked_by) <= 200),
    asked_host TEXT NOT NULL CHECK (length(asked_host) <= 300),
    asked_login TEXT,
    asked_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    reason TEXT CHECK (reason IS NULL OR length(reason) <= 1000),
    state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done')),
    approved_by TEXT CHECK (approved_by IS NULL OR length(approved_by) <= 200),
    approved_login TEXT,
    approved_at INTEGER,
    approved_xact INTEGER
);
CREATE INDEX approval_requests_open ON approval_requests (state, expires_at);

ALTER TABLE audit ADD COLUMN approval INTEGER;
ALTER TABLE audit ADD COLUMN asked_by TEXT;

CREATE TRIGGER approval_requests_no_delete BEFORE DELETE ON approval_requests
BEGIN
    SELECT RAISE(ABORT, 'an approval request is never deleted');
END;

CREATE TRIGGER approval_requests_four_eyes BEFORE UPDATE ON approval_requests
WHEN NEW.approved_by = OLD.asked_by OR OLD.state <> 'open'
BEGIN
    SELECT RAISE(ABORT, 'four eyes: the operator who asked cannot approve the request, and an approved one stays as it is');
END;

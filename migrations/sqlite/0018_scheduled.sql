-- Actions at a time (`journeyctl stop sale --at 23:59`): the intent, kept
-- and audited when it is set, carried out by the engine at its time
-- through the same call as the command, as the operator who set it. Its
-- `state` goes pending -> running (an engine has taken it) -> done,
-- skipped (it could no longer apply: `outcome` says why) or cancelled
-- (`unschedule`); running goes back to pending when the store could not
-- be reached.
CREATE TABLE scheduled_actions (
    id INTEGER PRIMARY KEY,
    due_at INTEGER NOT NULL,
    verb TEXT NOT NULL
        CHECK (verb IN ('finish', 'stop', 'pause', 'resume', 'publish', 'hold', 'release')),
    what TEXT NOT NULL CHECK (length(what) <= 2000),
    journey TEXT CHECK (journey IS NULL OR length(journey) <= 200),
    version INTEGER,
    intent TEXT NOT NULL CHECK (length(intent) <= 20000),
    set_by TEXT NOT NULL CHECK (length(set_by) <= 200),
    set_host TEXT NOT NULL CHECK (length(set_host) <= 300),
    set_at INTEGER NOT NULL,
    reason TEXT CHECK (reason IS NULL OR length(reason) <= 1000),
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'running', 'done', 'skipped', 'cancelled')),
    claimed_at INTEGER,
    ended_at INTEGER,
    ended_by TEXT CHECK (ended_by IS NULL OR length(ended_by) <= 200),
    outcome TEXT CHECK (outcome IS NULL OR length(outcome) <= 2000)
);
CREATE INDEX scheduled_actions_open ON scheduled_actions (state, due_at);

-- The audit row of an action carried out at its time names the schedule
-- (its way: `scheduled`), as do the rows that set and take one back.
ALTER TABLE audit ADD COLUMN schedule INTEGER;

-- When each engine (`journeyctl run`, `tick`) last went round, by host.
CREATE TABLE engine_seen (
    host TEXT PRIMARY KEY CHECK (length(host) <= 300),
    at INTEGER NOT NULL
);

-- A scheduled action is never deleted: it is taken back (unschedule).
CREATE TRIGGER scheduled_actions_no_delete BEFORE DELETE ON scheduled_actions
BEGIN
    SELECT RAISE(ABORT, 'a scheduled action is never deleted: unschedule it');
END;

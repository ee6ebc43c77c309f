-- One action held (`journeyctl hold --action webhook:crm`): its messages
-- stay pending and no worker claims one, while entries, waits and every
-- other action go on. `action` covers itself and `action:*`. At `until_ms`
-- the engine releases it, or cancels its pending messages (`on_expiry`).
CREATE TABLE action_holds (
    action TEXT PRIMARY KEY CHECK (length(action) BETWEEN 1 AND 200),
    held_at INTEGER NOT NULL,
    held_by TEXT NOT NULL CHECK (length(held_by) <= 200),
    until_ms INTEGER,
    on_expiry TEXT NOT NULL DEFAULT 'release' CHECK (on_expiry IN ('release', 'cancel')),
    reason TEXT CHECK (reason IS NULL OR length(reason) <= 1000)
);

-- What a release (or a hold that ran out) chose for the messages of the
-- action that fell due while it was held, one row per running version:
-- `skip` cancels those due by `before_ms` (all of them, at an expiry's
-- cancel), `spread` spreads them over `spread_ms`. The next delivery
-- claim of the version applies it under the version's lock, before any
-- of them can be claimed, and deletes the row: the operator's release
-- needs no right on the outbox.
CREATE TABLE action_overdue (
    version_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('skip', 'spread')),
    before_ms INTEGER NOT NULL,
    spread_ms INTEGER,
    PRIMARY KEY (version_id, action)
);

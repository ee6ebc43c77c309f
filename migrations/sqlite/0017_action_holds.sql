-- One action held (`journeyctl hold --action webhook:crm`): its messages
-- stay pending and no worker claims one, while entries, waits and every
-- other action go on. `action` covers itself and `action:*`. At `until_ms`
-- the engine releases it.
CREATE TABLE action_holds (
    action TEXT PRIMARY KEY CHECK (length(action) BETWEEN 1 AND 200),
    held_at INTEGER NOT NULL,
    held_by TEXT NOT NULL CHECK (length(held_by) <= 200),
    until_ms INTEGER,
    reason TEXT CHECK (reason IS NULL OR length(reason) <= 1000)
);

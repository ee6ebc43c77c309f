-- Delivery (SPEC §2c): messages leave the store through channels.
-- An outbox row is pending, sent, failed or cancelled; a pending row may be
-- claimed by a delivery worker until `claimed_until` (wall-clock epoch ms),
-- and is due again at `next_at` after a failed attempt.
ALTER TABLE versions ADD COLUMN msg_failed BIGINT NOT NULL DEFAULT 0;
-- A stop or pause that waits for deliveries in flight closes the version's
-- gate until this time: no new delivery of the version starts meanwhile.
ALTER TABLE versions ADD COLUMN gate_until BIGINT;

DROP VIEW outbox_effective;
CREATE TABLE outbox_new (
    id INTEGER PRIMARY KEY,
    version_id BIGINT NOT NULL REFERENCES versions (id),
    participant_id BIGINT NOT NULL,
    profile TEXT NOT NULL,
    action TEXT NOT NULL,
    variant TEXT,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'cancelled')),
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL DEFAULT 0,
    claimed_until BIGINT,
    claimed_by TEXT,
    last_error TEXT
);
INSERT INTO outbox_new (id, version_id, participant_id, profile, action, state, created_at, sent_at)
SELECT id, version_id, participant_id, profile, action, state, created_at, sent_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (version_id, next_at, id) WHERE state = 'pending';
CREATE INDEX outbox_claimed ON outbox (version_id, claimed_until) WHERE claimed_until IS NOT NULL;

CREATE VIEW outbox_effective AS
SELECT o.id, o.version_id, o.participant_id, o.profile, o.action, o.variant,
       CASE WHEN o.state = 'pending' AND v.status = 'stopped' THEN 'cancelled' ELSE o.state END AS state,
       o.created_at, o.sent_at, o.attempts, o.next_at, o.last_error
FROM outbox o JOIN versions v ON v.id = o.version_id;

-- Delivery counters per version and action, moved in the same transaction
-- as the outbox rows they count (the channels screen reads these, never
-- the outbox). `retrying`: pending messages whose last attempt failed.
CREATE TABLE outbox_actions (
    version_id BIGINT NOT NULL REFERENCES versions (id),
    action TEXT NOT NULL,
    pending BIGINT NOT NULL DEFAULT 0,
    sent BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0,
    cancelled BIGINT NOT NULL DEFAULT 0,
    retrying BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    last_error_at BIGINT,
    last_sent_at BIGINT,
    PRIMARY KEY (version_id, action)
);
INSERT INTO outbox_actions (version_id, action, pending, sent, cancelled)
SELECT version_id, action,
       SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END),
       SUM(CASE WHEN state = 'sent' THEN 1 ELSE 0 END),
       SUM(CASE WHEN state = 'cancelled' THEN 1 ELSE 0 END)
FROM outbox_effective GROUP BY version_id, action;

-- What the running delivery workers route each action to (`channel` NULL:
-- no channel), so every console can show it without the channels file.
CREATE TABLE delivery_routes (
    action TEXT PRIMARY KEY,
    channel TEXT,
    worker TEXT NOT NULL,
    seen_at BIGINT NOT NULL
);

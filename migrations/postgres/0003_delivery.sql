-- Delivery (SPEC §2c): messages leave the store through channels.
-- An outbox row is pending, sent, failed or cancelled; a pending row may be
-- claimed by a delivery worker until `claimed_until` (wall-clock epoch ms),
-- and is due again at `next_at` after a failed attempt.
ALTER TABLE versions ADD COLUMN msg_failed BIGINT NOT NULL DEFAULT 0;
-- A stop or pause that waits for deliveries in flight closes the version's
-- gate until this time: no new delivery of the version starts meanwhile.
ALTER TABLE versions ADD COLUMN gate_until BIGINT;

DROP VIEW outbox_effective;
ALTER TABLE outbox DROP CONSTRAINT outbox_state_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_state_check
    CHECK (state IN ('pending', 'sent', 'failed', 'cancelled'));
ALTER TABLE outbox ADD COLUMN variant TEXT;
ALTER TABLE outbox ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN claimed_until BIGINT;
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
DROP INDEX outbox_pending;
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

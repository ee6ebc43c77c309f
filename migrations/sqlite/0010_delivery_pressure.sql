-- A message whose last attempt ended without a definite answer (a
-- time-out, a connection cut after the request was written, a worker that
-- died holding it) may have arrived: `uncertain` stays 1 until it is sent.
-- A claim whose lease ran out unrecorded counts too (claimed_until left set).
ALTER TABLE outbox ADD COLUMN uncertain BIGINT NOT NULL DEFAULT 0;
CREATE INDEX outbox_uncertain ON outbox (version_id, action) WHERE uncertain = 1;

-- What a stop or pause did to messages, as its outcome said: cancelled,
-- how many of those may have arrived, and how many went out while it
-- waited for deliveries in flight.
ALTER TABLE audit ADD COLUMN cancelled BIGINT;
ALTER TABLE audit ADD COLUMN cancelled_uncertain BIGINT;
ALTER TABLE audit ADD COLUMN sent_waiting BIGINT;

-- Flow control per channel, shared by every delivery worker of the store.
-- `next_us`: the first free send slot of a rate-limited channel (database
-- clock, microseconds); a Retry-After pushes it forward.
CREATE TABLE channel_slots (
    channel TEXT PRIMARY KEY,
    next_us BIGINT NOT NULL
);
-- What each worker holds of a channel's concurrency, until its lease runs
-- out (a worker that dies holds nothing for long).
CREATE TABLE channel_leases (
    channel TEXT NOT NULL,
    worker TEXT NOT NULL,
    n BIGINT NOT NULL,
    until_ms BIGINT NOT NULL,
    PRIMARY KEY (channel, worker)
);

-- A resume's choice for the messages that fell due during the hold
-- (`skip` or `spread`; NULL: send them, or already applied), applied by
-- the next delivery claim of the version, under its row lock.
ALTER TABLE versions ADD COLUMN overdue_mode TEXT;
ALTER TABLE versions ADD COLUMN overdue_before BIGINT;
ALTER TABLE versions ADD COLUMN overdue_spread_ms BIGINT;
-- The resume's audit row keeps the choice and how many messages it took.
ALTER TABLE audit ADD COLUMN overdue TEXT;
ALTER TABLE audit ADD COLUMN overdue_count BIGINT;

-- Times are epoch milliseconds (BIGINT) on both backends.
CREATE TABLE journeys (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    goal TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE versions (
    id INTEGER PRIMARY KEY,
    journey_id BIGINT NOT NULL REFERENCES journeys (id),
    number BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'live', 'finished', 'stopped')),
    status_at BIGINT NOT NULL,
    status_by TEXT NOT NULL,
    status_host TEXT NOT NULL,
    goal TEXT,
    definition TEXT NOT NULL,
    entry_end_at BIGINT,
    created_at BIGINT NOT NULL,
    entered BIGINT NOT NULL DEFAULT 0,
    active BIGINT NOT NULL DEFAULT 0,
    completed BIGINT NOT NULL DEFAULT 0,
    exited BIGINT NOT NULL DEFAULT 0,
    stopped BIGINT NOT NULL DEFAULT 0,
    converted BIGINT NOT NULL DEFAULT 0,
    msg_pending BIGINT NOT NULL DEFAULT 0,
    msg_sent BIGINT NOT NULL DEFAULT 0,
    msg_cancelled BIGINT NOT NULL DEFAULT 0,
    last_activity_at BIGINT,
    swept BIGINT NOT NULL DEFAULT 0,
    UNIQUE (journey_id, number)
);
CREATE INDEX versions_status ON versions (status);

CREATE TABLE variants (
    version_id BIGINT NOT NULL REFERENCES versions (id),
    test TEXT NOT NULL,
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    assigned BIGINT NOT NULL DEFAULT 0,
    converted BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (version_id, test, name)
);

CREATE TABLE ab_decisions (
    version_id BIGINT NOT NULL REFERENCES versions (id),
    test TEXT NOT NULL,
    winner TEXT NOT NULL,
    decided_at BIGINT NOT NULL,
    p_value DOUBLE PRECISION NOT NULL,
    figures TEXT NOT NULL,
    PRIMARY KEY (version_id, test)
);

CREATE TABLE participants (
    id INTEGER PRIMARY KEY,
    version_id BIGINT NOT NULL REFERENCES versions (id),
    journey_id BIGINT NOT NULL,
    profile TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('active', 'completed', 'exited', 'stopped')),
    step BIGINT NOT NULL,
    due_at BIGINT NOT NULL,
    entered_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    variant TEXT,
    converted_at BIGINT,
    variant_converted BIGINT NOT NULL DEFAULT 0,
    exit_reason TEXT,
    UNIQUE (version_id, profile)
);
CREATE INDEX participants_due ON participants (version_id, due_at, id) WHERE state = 'active';
CREATE INDEX participants_profile ON participants (profile, journey_id);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    version_id BIGINT NOT NULL REFERENCES versions (id),
    participant_id BIGINT NOT NULL,
    profile TEXT NOT NULL,
    action TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'cancelled')),
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE INDEX outbox_pending ON outbox (version_id, id) WHERE state = 'pending';

CREATE TABLE segment_members (
    segment TEXT NOT NULL,
    profile TEXT NOT NULL,
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (segment, profile)
);

CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    host TEXT NOT NULL,
    action TEXT NOT NULL,
    journey TEXT NOT NULL,
    version BIGINT,
    from_status TEXT,
    to_status TEXT,
    reason TEXT,
    affected_active BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX audit_journey ON audit (journey, id);

-- The audit log is append-only, whoever connects.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- What delivery workers and reports read: a row still marked pending or
-- active in a stopped version is cancelled or stopped from the moment the
-- stop committed (the stop changes one version row, not every row).
CREATE VIEW outbox_effective AS
SELECT o.id, o.version_id, o.participant_id, o.profile, o.action,
       CASE WHEN o.state = 'pending' AND v.status = 'stopped' THEN 'cancelled' ELSE o.state END AS state,
       o.created_at, o.sent_at
FROM outbox o JOIN versions v ON v.id = o.version_id;

CREATE VIEW participants_effective AS
SELECT p.id, p.version_id, p.journey_id, p.profile,
       CASE WHEN p.state = 'active' AND v.status = 'stopped' THEN 'stopped' ELSE p.state END AS state,
       p.step, p.due_at, p.entered_at, p.updated_at, p.variant, p.converted_at,
       p.variant_converted, p.exit_reason
FROM participants p JOIN versions v ON v.id = p.version_id;

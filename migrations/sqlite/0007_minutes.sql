-- Trends: per version and minute (epoch ms / 60000), what happened then.
-- Written in the same transaction as the rows they count, each by the
-- time stamped on its row: entries by entered_at, conversions by
-- converted_at, exits by updated_at of the exited row, messages by
-- sent_at or failed_at. The engine drops minutes older than its window
-- and moves minutes_kept forward, so `check` compares the minutes kept.
CREATE TABLE version_minutes (
    version_id BIGINT NOT NULL,
    minute BIGINT NOT NULL,
    entered BIGINT NOT NULL DEFAULT 0,
    converted BIGINT NOT NULL DEFAULT 0,
    exited BIGINT NOT NULL DEFAULT 0,
    sent BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (version_id, minute)
);
CREATE INDEX version_minutes_minute ON version_minutes (minute);

CREATE TABLE minutes_kept (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    from_minute BIGINT NOT NULL
);
INSERT INTO minutes_kept (id, from_minute) VALUES (1, 0);

ALTER TABLE outbox ADD COLUMN failed_at BIGINT;
UPDATE outbox SET failed_at = created_at WHERE state = 'failed';

INSERT INTO version_minutes (version_id, minute, entered, converted, exited, sent, failed)
SELECT version_id, minute, SUM(e), SUM(c), SUM(x), SUM(s), SUM(f) FROM (
    SELECT version_id, entered_at / 60000 AS minute, 1 AS e, 0 AS c, 0 AS x, 0 AS s, 0 AS f FROM participants
    UNION ALL SELECT version_id, converted_at / 60000, 0, 1, 0, 0, 0 FROM participants WHERE converted_at IS NOT NULL
    UNION ALL SELECT version_id, updated_at / 60000, 0, 0, 1, 0, 0 FROM participants WHERE state = 'exited'
    UNION ALL SELECT version_id, sent_at / 60000, 0, 0, 0, 1, 0 FROM outbox WHERE state = 'sent'
    UNION ALL SELECT version_id, failed_at / 60000, 0, 0, 0, 0, 1 FROM outbox WHERE state = 'failed'
) AS r GROUP BY version_id, minute;

-- What the engine keeps of a live A/B test between its looks (SPEC §3):
-- per pair of variants, the running intersection of the confidence
-- sequence and the running minimum of the always-valid p-value (JSON), so
-- every console shows figures that never widen again.
CREATE TABLE ab_running (
    version_id BIGINT NOT NULL REFERENCES versions (id),
    test TEXT NOT NULL,
    looks BIGINT NOT NULL,
    looked_at BIGINT NOT NULL,
    pairs TEXT NOT NULL,
    PRIMARY KEY (version_id, test)
);

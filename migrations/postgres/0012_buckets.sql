-- Scaling out over a cluster (Citus): every participant and message
-- carries its bucket, a function of the profile ((hashtext & max) % 64),
-- by which a Citus layout spreads one journey's rows over every worker.
-- The unique key names it too, as a distributed table's keys must (it
-- adds nothing: the bucket follows from the profile). On plain
-- PostgreSQL the column is only carried along.
ALTER TABLE participants ADD COLUMN bucket INTEGER NOT NULL DEFAULT 0;
UPDATE participants SET bucket = (hashtext(profile) & 2147483647) % 64;
ALTER TABLE outbox ADD COLUMN bucket INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET bucket = (hashtext(profile) & 2147483647) % 64;
ALTER TABLE participants DROP CONSTRAINT participants_profile_version;
ALTER TABLE participants ADD CONSTRAINT participants_profile_version UNIQUE (profile, version_id, bucket);

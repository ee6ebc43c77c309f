-- Citus layout (run by `journeyctl migrate` after the PostgreSQL
-- migrations, on a database with the citus extension): participants and
-- outbox are distributed by `bucket` (a function of the profile), so one
-- journey's rows spread over every worker; the small tables are reference
-- tables (a copy on every node); the audit log stays on the coordinator.
-- The shards are the session's `citus.shard_count` (Citus's default is
-- 32: 16 per worker on two workers).
SET LOCAL citus.enable_unsafe_triggers = on;
SET LOCAL citus.multi_shard_modify_mode = 'sequential';

-- A trigger on a reference table runs on every node's copy, where it
-- cannot read another table ("cannot execute a distributed query from a
-- query on a shard"): the rules that need one do not hold on Citus (the
-- README says which). The rules that read only the row they guard (the
-- lifecycle, a published definition, a kept name, a final A/B decision)
-- and the audit log's own stay.
DROP TRIGGER versions_status_audited ON versions;
DROP TRIGGER versions_operator_columns ON versions;
DROP TRIGGER outbox_actions_operator ON outbox_actions;
DROP TRIGGER variants_of_drafts ON variants;
DROP TRIGGER variants_of_drafts_update ON variants;
-- Nor can a copy on a worker notify: its part of the transaction is
-- prepared (two-phase commit), and a prepared transaction cannot NOTIFY.
-- Changes of status and hold still notify, through their audit row
-- (written on the coordinator).
DROP TRIGGER versions_notify ON versions;

-- Distributed tables take no identity column and no unique key without
-- the distribution column: ids come from sequences (unique over the
-- cluster), and every key leads with the bucket.
ALTER TABLE participants ALTER COLUMN id DROP IDENTITY;
CREATE SEQUENCE participants_id_seq;
SELECT setval('participants_id_seq', COALESCE((SELECT MAX(id) FROM participants), 0) + 1, false);
ALTER TABLE participants ALTER COLUMN id SET DEFAULT nextval('participants_id_seq');
ALTER TABLE participants DROP CONSTRAINT participants_pkey;
ALTER TABLE participants ADD PRIMARY KEY (bucket, id);

ALTER TABLE outbox ALTER COLUMN id DROP IDENTITY;
CREATE SEQUENCE outbox_id_seq;
SELECT setval('outbox_id_seq', COALESCE((SELECT MAX(id) FROM outbox), 0) + 1, false);
ALTER TABLE outbox ALTER COLUMN id SET DEFAULT nextval('outbox_id_seq');
ALTER TABLE outbox DROP CONSTRAINT outbox_pkey;
ALTER TABLE outbox ADD PRIMARY KEY (bucket, id);

SELECT create_reference_table('journeys');
SELECT create_reference_table('versions');
SELECT create_reference_table('variants');
SELECT create_reference_table('ab_decisions');
SELECT create_reference_table('ab_running');
SELECT create_reference_table('segment_members');
SELECT create_reference_table('outbox_actions');
SELECT create_reference_table('version_minutes');
SELECT create_reference_table('minutes_kept');
SELECT create_reference_table('delivery_routes');
SELECT create_reference_table('channel_slots');
SELECT create_reference_table('channel_leases');
SELECT citus_add_local_table_to_metadata('audit');
SELECT create_distributed_table('participants', 'bucket');
SELECT create_distributed_table('outbox', 'bucket', colocate_with => 'participants');

-- Engines side by side (issue: scaling out). The foreign keys from the two
-- largest tables to `versions` checked every inserted row against the
-- version row (half the cost of enqueueing a message). Versions are never
-- deleted: journeyctl has no such statement and `grant` gives no role the
-- privilege, so the check guarded nothing; `journeyctl check` recounts
-- every row per version.
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_version_id_fkey;
ALTER TABLE participants DROP CONSTRAINT IF EXISTS participants_version_id_fkey;

-- Engines side by side (issue: scaling out). Moving a participant writes a
-- new row version into every index of the table (its due time is indexed,
-- so the update is never HOT): four indexes cost a third more than three.
-- The unique key now leads with the profile, so it also serves every
-- lookup by profile (named events, `profile`, entry in another version)
-- that `participants_profile` served; `ON CONFLICT (version_id, profile)`
-- matches it whatever the column order. The detail view's exit reasons of
-- one version get a partial index of exited rows, which moves never touch.
ALTER TABLE participants DROP CONSTRAINT participants_version_id_profile_key;
DROP INDEX participants_profile;
ALTER TABLE participants ADD CONSTRAINT participants_profile_version UNIQUE (profile, version_id);
CREATE INDEX participants_exited ON participants (version_id, exit_reason) WHERE state = 'exited';

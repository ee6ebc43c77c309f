-- A store-wide brake (`pause --all`, `stop --all`, the console's `!`) is
-- one incident: its audit rows share an id, and the versions it paused
-- keep it, so `resume --incident ID` resumes exactly those.
ALTER TABLE audit ADD COLUMN incident TEXT;
ALTER TABLE versions ADD COLUMN paused_incident TEXT;

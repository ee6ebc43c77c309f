-- Pause (SPEC §2 rules 11-12): a live or finished version may be held.
-- The status stays as it is; these say since when, until when, what
-- happens then ('stop' or 'resume') and who paused it. NULL: not paused.
ALTER TABLE versions ADD COLUMN paused_at BIGINT;
ALTER TABLE versions ADD COLUMN paused_until BIGINT;
ALTER TABLE versions ADD COLUMN paused_on_expiry TEXT;
ALTER TABLE versions ADD COLUMN paused_by TEXT;
CREATE INDEX versions_paused_until ON versions (paused_until) WHERE paused_until IS NOT NULL;

-- A channel's rate and concurrency set live by an operator (`journeyctl
-- rate`), by the action named: every delivery worker of the store follows
-- it within a second over the channel that action goes through. NULL: the
-- channels file's value. No row: the file's values.
CREATE TABLE channel_rates (
    action TEXT PRIMARY KEY CHECK (length(action) BETWEEN 1 AND 200),
    per_window INTEGER CHECK (per_window IS NULL OR per_window BETWEEN 1 AND 1000000),
    window_s INTEGER CHECK (window_s IS NULL OR window_s IN (1, 60)),
    concurrency INTEGER CHECK (concurrency IS NULL OR concurrency BETWEEN 1 AND 10000),
    set_by TEXT NOT NULL CHECK (length(set_by) <= 200),
    set_at INTEGER NOT NULL,
    reason TEXT CHECK (reason IS NULL OR length(reason) <= 1000),
    CHECK ((per_window IS NULL) = (window_s IS NULL)),
    CHECK (per_window IS NOT NULL OR concurrency IS NOT NULL)
);

-- What the workers' channels file says of each channel's flow, beside the
-- route (`channels` shows the file's value under a live one).
ALTER TABLE delivery_routes ADD COLUMN file_rate TEXT;
ALTER TABLE delivery_routes ADD COLUMN file_concurrency INTEGER;

-- What an audit row acts on when it is not a journey's version
-- (`action:webhook:crm` for a rate).
ALTER TABLE audit ADD COLUMN subject TEXT;

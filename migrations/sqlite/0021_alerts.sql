-- The alerts being told (`journeyctl alerts --to URL`, `run --alerts`):
-- one row per episode that was posted as firing and not yet as resolved,
-- so a restart, or a second process beside it, never tells one twice.
CREATE TABLE alert_state (
    key TEXT PRIMARY KEY CHECK (length(key) <= 500),
    alert TEXT NOT NULL CHECK (length(alert) <= 300),
    journey TEXT CHECK (journey IS NULL OR length(journey) <= 200),
    text TEXT NOT NULL CHECK (length(text) <= 2000),
    since INTEGER NOT NULL
);

-- Each action's delivered and failed totals as an alerts round saw them
-- (kept 20 minutes), so "failing above 20% over 10 minutes" is measured
-- per action, by whichever process looks.
CREATE TABLE alert_samples (
    action TEXT NOT NULL CHECK (length(action) <= 300),
    at INTEGER NOT NULL,
    sent INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    PRIMARY KEY (action, at)
);

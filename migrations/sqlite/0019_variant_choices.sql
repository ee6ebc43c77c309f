-- A/B by hand (`journeyctl variant JOURNEY --disable B` or `--winner A`):
-- an operator's choice for one arm of a version's test, kept apart from
-- the engine's statistical decisions (`ab_decisions`). `assigned_then`
-- keeps every arm's count at the change (JSON).
CREATE TABLE variant_choices (
    version_id INTEGER NOT NULL,
    test TEXT NOT NULL,
    variant TEXT NOT NULL CHECK (length(variant) <= 200),
    choice TEXT NOT NULL CHECK (choice IN ('disabled', 'winner')),
    set_by TEXT NOT NULL CHECK (length(set_by) <= 200),
    set_at INTEGER NOT NULL,
    reason TEXT CHECK (reason IS NULL OR length(reason) <= 1000),
    assigned_then TEXT NOT NULL CHECK (length(assigned_then) <= 100000),
    PRIMARY KEY (version_id, test, variant)
);

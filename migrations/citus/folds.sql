-- When the buckets' shares were last folded into the versions' figures
-- (Citus layout only): one row, on the coordinator like the audit log.
-- A version with shares not folded yet has figures exact as of then, and
-- the faces say so (`list --json` `as_of`, the console's header).
CREATE TABLE figures_folded (
    one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),
    at BIGINT NOT NULL
);
SELECT citus_add_local_table_to_metadata('figures_folded');

-- Every share within bounds, whoever writes it (Citus layout only): a key
-- of a known figure (or set aside, `!`), and a value no figure of a real
-- campaign reaches (see src/store/figures/aside.rs, FIGURE_MOST). NOT
-- VALID: rows written before are left for the fold to set aside.
ALTER TABLE version_shares ADD CONSTRAINT version_shares_bounded CHECK (
    n BETWEEN -1000000000000000 AND 1000000000000000
    AND length(key) <= 300
    AND key ~ '^!?(|active|completed|msg_pending|msg_sent|msg_failed|@activity|assigned/.+|(pending|sent|failed|retrying|@sent_at|@error)/.+|minute_(sent|failed)/-?[0-9]+)$'
) NOT VALID;

-- Each bucket's share of a version's figures (Citus layout only): an
-- engine batch, or a delivery claim and record, writes the rows of its
-- bucket beside the participants and messages it moves, so it writes on
-- one shard; folding moves the shares into the version's figures (see
-- src/store/shares.rs). The key '' is the bucket's fence.
SET LOCAL citus.multi_shard_modify_mode = 'sequential';
CREATE TABLE version_shares (
    bucket INTEGER NOT NULL,
    version_id BIGINT NOT NULL,
    key TEXT NOT NULL,
    n BIGINT NOT NULL DEFAULT 0,
    note TEXT,
    PRIMARY KEY (bucket, version_id, key)
);
SELECT create_distributed_table('version_shares', 'bucket', colocate_with => 'participants');

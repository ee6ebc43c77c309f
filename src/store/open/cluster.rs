//! Where a store's rows sit on a Citus cluster: per node, how many
//! participants and messages its shards hold.

use serde::Serialize;

use crate::store::{Error, Result, Store};

/// One node's share of the distributed tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeRows {
    /// `host:port` of the node.
    pub node: String,
    pub participants: i64,
    pub messages: i64,
}

impl Store {
    /// On a cluster, lays a migrated store out over its nodes once
    /// (`migrations/citus/layout.sql`, then `shares.sql`, `folds.sql` and
    /// `shares_bounded.sql`, which a store laid out before they came gets
    /// on its next `migrate`); elsewhere nothing.
    pub(in crate::store) async fn lay_out(&self) -> Result<()> {
        if !self.backend().is_cluster() {
            return Ok(());
        }
        let layouts = [
            (
                "participants",
                include_str!("../../../migrations/citus/layout.sql"),
            ),
            (
                "version_shares",
                include_str!("../../../migrations/citus/shares.sql"),
            ),
            (
                "figures_folded",
                include_str!("../../../migrations/citus/folds.sql"),
            ),
        ];
        for (table, sql) in layouts {
            if self.distributed(table).await? {
                continue;
            }
            let mut tx = self.pool.begin().await?;
            sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(|e| {
                Error::Invalid(format!(
                    "cannot lay the store out over the Citus cluster: {e}"
                ))
            })?;
            tx.commit().await?;
        }
        self.bound_shares().await
    }

    /// Bounds every share row, whoever writes it
    /// (`migrations/citus/shares_bounded.sql`), once.
    async fn bound_shares(&self) -> Result<()> {
        if !self.shares_bounded().await? {
            sqlx::raw_sql(include_str!("../../../migrations/citus/shares_bounded.sql"))
                .execute(&self.pool)
                .await
                .map_err(|e| Error::Invalid(format!("cannot bound the cluster's shares: {e}")))?;
        }
        Ok(())
    }

    /// Whether the store is laid out as its backend needs: on a cluster,
    /// its participants and the buckets' shares of the figures are
    /// distributed tables (elsewhere, always).
    pub(in crate::store) async fn laid_out(&self) -> Result<bool> {
        if !self.backend().is_cluster() {
            return Ok(true);
        }
        Ok(self.distributed("participants").await?
            && self.distributed("version_shares").await?
            && self.distributed("figures_folded").await?
            && self.shares_bounded().await?)
    }

    /// Whether the shares' bound is in place.
    async fn shares_bounded(&self) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_constraint WHERE conname = 'version_shares_bounded' \
             AND conrelid = to_regclass('version_shares')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// Whether `table` of this schema is in the cluster's metadata (a
    /// distributed table, or one of the coordinator's own).
    async fn distributed(&self, table: &'static str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_dist_partition WHERE logicalrelid = to_regclass($1)",
        )
        .bind(table)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// Rows per node of the distributed tables (counted on every shard), in
    /// node order; empty unless the store is laid out over a cluster.
    pub async fn rows_per_node(&self) -> Result<Vec<NodeRows>> {
        if !self.backend().is_cluster() {
            return Ok(Vec::new());
        }
        let participants = self.per_node("participants").await?;
        let messages = self.per_node("outbox").await?;
        Ok(participants
            .into_iter()
            .map(|(node, participants)| NodeRows {
                messages: messages
                    .iter()
                    .find(|(n, _)| *n == node)
                    .map_or(0, |(_, m)| *m),
                node,
                participants,
            })
            .collect())
    }

    /// On a cluster, how the participants are laid out: `(shards, nodes)`.
    pub async fn cluster_layout(&self) -> Result<Option<(i64, i64)>> {
        if !self.backend().is_cluster() {
            return Ok(None);
        }
        Ok(Some(
            sqlx::query_as(
                "SELECT COUNT(DISTINCT s.shardid), COUNT(DISTINCT p.groupid) FROM pg_dist_shard s \
                 JOIN pg_dist_placement p ON p.shardid = s.shardid \
                 WHERE s.logicalrelid = to_regclass('participants')",
            )
            .fetch_one(&self.pool)
            .await?,
        ))
    }

    /// `(node, rows)` of one distributed table of this schema.
    async fn per_node(&self, table: &'static str) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT n.nodename || ':' || n.nodeport AS node, CAST(SUM(CAST(r.result AS BIGINT)) AS BIGINT) AS rows \
             FROM run_command_on_shards(CAST(to_regclass($1) AS regclass), 'SELECT count(*) FROM %s') r \
             JOIN pg_dist_placement p ON p.shardid = r.shardid \
             JOIN pg_dist_node n ON n.groupid = p.groupid \
             GROUP BY n.nodename, n.nodeport ORDER BY n.nodeport",
        )
        .bind(table)
        .fetch_all(&self.pool)
        .await?)
    }
}

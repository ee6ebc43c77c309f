//! Delivery claims: a worker takes due messages of a running version for
//! a lease. On a cluster each claim takes one bucket's messages, so its
//! transaction writes on one shard.

use sqlx::Row;

use crate::store::delivery::Claimed;
use crate::store::{Result, Store};

/// What a claim asks for: messages of these actions, at most `limit`,
/// leased to `token` for `lease_ms`.
#[derive(Clone, Copy)]
pub(in crate::store) struct Want<'a> {
    actions: &'a [String],
    limit: i64,
    lease_ms: i64,
    token: &'a str,
}

impl Store {
    /// Claims up to `limit` due messages of the version whose action is one
    /// of `actions`, for `lease_ms` of the database's clock. Nothing when
    /// the version no longer runs, is paused, or a stop or pause is waiting
    /// at its gate. On a cluster each claim takes one bucket's messages, so
    /// it writes on one shard.
    pub async fn claim(
        &self,
        version_id: i64,
        actions: &[String],
        limit: i64,
        lease_ms: i64,
        token: &str,
    ) -> Result<Vec<Claimed>> {
        if actions.is_empty() {
            return Ok(Vec::new());
        }
        let want = Want {
            actions,
            limit,
            lease_ms,
            token,
        };
        if self.backend().buckets().is_none() {
            return Ok(self
                .claim_in(version_id, None, &want)
                .await?
                .unwrap_or_default());
        }
        let mut out = Vec::new();
        for bucket in self.due_buckets(version_id).await? {
            let want = Want {
                limit: limit - out.len() as i64,
                ..want
            };
            if want.limit <= 0 {
                break;
            }
            match self.claim_in(version_id, Some(bucket), &want).await? {
                Some(claimed) => out.extend(claimed),
                // Closed: so it is for every bucket.
                None => break,
            }
        }
        out.sort_by_key(|c| c.id);
        Ok(out)
    }

    /// The buckets of the version with a message due, each worker going
    /// through them from its own place (read over every shard, without
    /// locks).
    async fn due_buckets(&self, version_id: i64) -> Result<Vec<i32>> {
        let now = self.backend().db_now();
        // Only the clock expression is formatted in.
        let sql = format!(
            "SELECT DISTINCT bucket FROM outbox WHERE version_id = $1 AND state = 'pending' \
             AND next_at <= {now} AND (claimed_until IS NULL OR claimed_until <= {now}) ORDER BY bucket"
        );
        let mut buckets: Vec<i32> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(version_id)
            .fetch_all(&self.pool)
            .await?;
        if !buckets.is_empty() {
            let from = crate::domain::time::now_millis().unsigned_abs() as usize % buckets.len();
            buckets.rotate_left(from);
        }
        Ok(buckets)
    }

    /// One claim, of the version's due messages or on a cluster of one
    /// bucket's; `None` when the version's gate is closed.
    async fn claim_in(
        &self,
        version_id: i64,
        bucket: Option<i32>,
        want: &Want<'_>,
    ) -> Result<Option<Vec<Claimed>>> {
        let mut tx = self.begin_background_write().await?;
        let Some(locked) = self.lock_open_gate(&mut tx, version_id, bucket).await? else {
            tx.rollback().await?;
            return Ok(None);
        };
        crate::store::lifecycle::overdue::apply_overdue(
            &mut tx,
            self.backend(),
            version_id,
            &locked,
        )
        .await?;
        // A held action is claimed by no worker: read under the version's
        // lock, which a hold takes too.
        let (actions, _) = super::holds::unheld(&mut tx, want.actions).await?;
        if actions.is_empty() {
            tx.commit().await?;
            return Ok(Some(Vec::new()));
        }
        let want = &Want {
            actions: &actions,
            ..*want
        };
        let now = self.backend().db_now();
        let list: Vec<String> = (0..want.actions.len())
            .map(|i| format!("${}", i + 6))
            .collect();
        let one_bucket = if bucket.is_some() {
            " AND bucket = $5"
        } else {
            ""
        };
        // Only placeholders, a fixed condition and the clock expression
        // are formatted in.
        let sql = format!(
            "UPDATE outbox SET claimed_until = {now} + $2, claimed_by = $3, attempts = attempts + 1, \
             uncertain = CASE WHEN claimed_until IS NOT NULL THEN 1 ELSE uncertain END \
             WHERE id IN (SELECT id FROM outbox WHERE version_id = $1 AND state = 'pending' \
             AND next_at <= {now} AND (claimed_until IS NULL OR claimed_until <= {now}) \
             AND action IN ({}){one_bucket} ORDER BY next_at, id LIMIT $4){one_bucket} \
             RETURNING id, profile, action, variant, created_at, attempts, last_error, bucket",
            list.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(version_id)
            .bind(want.lease_ms)
            .bind(want.token)
            .bind(want.limit)
            .bind(bucket.unwrap_or(0));
        for a in want.actions {
            q = q.bind(a.as_str());
        }
        let rows = q.fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok(Claimed {
                    id: r.try_get("id")?,
                    version_id,
                    profile: r.try_get("profile")?,
                    action: r.try_get("action")?,
                    variant: r.try_get("variant")?,
                    created_at: r.try_get("created_at")?,
                    attempts: r.try_get("attempts")?,
                    retrying: r.try_get::<Option<String>, _>("last_error")?.is_some(),
                    bucket: r.try_get::<i64, _>("bucket").map(|b| b as i32)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|c| c.id);
        Ok(Some(out))
    }
}

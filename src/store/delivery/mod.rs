//! The outbox's delivery side: delivery workers claim pending messages of
//! running versions for a lease, hand them to channels, and record what
//! happened (claims in `claims.rs`). Claims and records lock the version
//! row (on a cluster, their bucket's fence), as a stop does, so a stop
//! sees every claim that started before it (and waits for it, see `gate`),
//! and no claim starts after it.

pub(in crate::store) mod claims;
pub mod flow;
pub mod holds;
pub mod rates;
pub(in crate::store) mod record;

use crate::store::order::waits::Turn;
use std::collections::BTreeMap;

use sqlx::{Any, Row, Transaction};

use crate::domain::{Millis, VersionStatus};
use crate::store::delivery::record::{ActionDelta, Delivered};
use crate::store::{Result, Store};

/// A running version with pending messages, and every action its steps send.
#[derive(Debug, Clone)]
pub struct PendingVersion {
    pub version_id: i64,
    pub journey: String,
    pub version: i64,
    pub actions: Vec<String>,
}

/// A message claimed by one worker until its lease runs out.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub version_id: i64,
    pub profile: String,
    pub action: String,
    pub variant: Option<String>,
    pub created_at: Millis,
    /// Attempts so far, this one included.
    pub attempts: i64,
    /// Whether an earlier attempt failed (the message counts as retrying).
    pub retrying: bool,
    /// The bucket of its profile (on a cluster, the shard it sits on).
    pub bucket: i32,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Sent,
    /// Try again `after_ms` from now.
    Retry {
        after_ms: i64,
        error: String,
    },
    Failed {
        error: String,
    },
    /// No definite answer (a time-out, a connection cut after the request
    /// was written): the message may have arrived, and stays `uncertain`
    /// until it is sent. Tried again `after_ms` from now, or failed (`None`)
    /// when its attempts ran out.
    Unanswered {
        after_ms: Option<i64>,
        error: String,
    },
    /// Not attempted (the lease ran short): back to the queue as it was.
    Released,
}

/// What `record` wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recorded {
    pub sent: u64,
    pub retried: u64,
    pub failed: u64,
    /// Of the retried and failed, attempts without an answer.
    pub unanswered: u64,
}

impl Recorded {
    /// Adds what another record wrote.
    pub fn add(&mut self, other: Recorded) {
        self.sent += other.sent;
        self.retried += other.retried;
        self.failed += other.failed;
        self.unanswered += other.unanswered;
    }
}

impl Store {
    /// Running versions (live or finished, not paused, gate open) that have
    /// pending messages, oldest first.
    pub async fn delivery_queue(&self) -> Result<Vec<PendingVersion>> {
        let sql = format!(
            "SELECT v.id, j.name AS journey, v.number, v.definition FROM versions v \
             JOIN journeys j ON j.id = v.journey_id WHERE v.status IN ('live', 'finished') \
             AND v.msg_pending > 0 AND v.paused_at IS NULL \
             AND (v.gate_until IS NULL OR v.gate_until <= {}) ORDER BY v.id",
            self.backend().db_now()
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let (definition, unreadable) =
                crate::store::read_definition(&r.try_get::<String, _>("definition")?);
            if let Some(why) = unreadable {
                // Its messages stay pending; `list` shows it unreadable.
                tracing::warn!(
                    "delivery skips {} v{}: {why}",
                    r.try_get::<String, _>("journey")?,
                    r.try_get::<i64, _>("number")?
                );
                continue;
            }
            out.push({
                let mut actions: Vec<String> = definition
                    .steps
                    .iter()
                    .flat_map(|s| s.actions())
                    .map(str::to_string)
                    .collect();
                actions.sort();
                actions.dedup();
                PendingVersion {
                    version_id: r.try_get("id")?,
                    journey: r.try_get("journey")?,
                    version: r.try_get("number")?,
                    actions,
                }
            });
        }
        Ok(out)
    }

    /// Locks the version row (on a cluster with a bucket, that bucket's
    /// fence); the row (with a resume's choice for overdue messages) when
    /// the version runs and its gate is open, else `None`.
    pub(in crate::store) async fn lock_open_gate(
        &self,
        tx: &mut Transaction<'static, Any>,
        version_id: i64,
        bucket: Option<i32>,
    ) -> Result<Option<sqlx::any::AnyRow>> {
        crate::store::order::exclude_engines(tx, self.backend(), version_id, Turn::Background)
            .await?;
        self.fence(tx, version_id, bucket).await?;
        let lock = self.backend().row_lock();
        let sql = format!(
            "SELECT status, CASE WHEN paused_at IS NULL AND (gate_until IS NULL OR gate_until <= {}) \
             THEN 1 ELSE 0 END AS open, overdue_mode, overdue_before, overdue_spread_ms \
             FROM versions WHERE id = $1{lock}",
            self.backend().db_now()
        );
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(version_id)
            .fetch_optional(&mut **tx)
            .await?
        else {
            return Ok(None);
        };
        let status: String = row.try_get("status")?;
        let open: i64 = row.try_get("open")?;
        let status: VersionStatus = status.parse().map_err(crate::store::Error::Invalid)?;
        Ok((status.runs_steps() && open == 1).then_some(row))
    }

    /// Records the attempts on messages this worker (`token`) claimed, with
    /// their counters. A version stopped meanwhile (a lease that ran out)
    /// keeps its messages cancelled: nothing is recorded. On a cluster each
    /// bucket's attempts are recorded in a transaction of their own, which
    /// writes on one shard.
    pub async fn record(
        &self,
        version_id: i64,
        token: &str,
        attempts: &[(Claimed, Attempt)],
        at: Millis,
    ) -> Result<Recorded> {
        if self.backend().buckets().is_none() {
            let all: Vec<&(Claimed, Attempt)> = attempts.iter().collect();
            return self.record_in(version_id, None, &all, token, at).await;
        }
        let mut by_bucket: BTreeMap<i32, Vec<&(Claimed, Attempt)>> = BTreeMap::new();
        for a in attempts {
            by_bucket.entry(a.0.bucket).or_default().push(a);
        }
        let mut report = Recorded::default();
        for (bucket, attempts) in by_bucket {
            report.add(
                self.record_in(version_id, Some(bucket), &attempts, token, at)
                    .await?,
            );
        }
        Ok(report)
    }

    /// Records attempts of the version, or on a cluster of one bucket.
    async fn record_in(
        &self,
        version_id: i64,
        bucket: Option<i32>,
        attempts: &[&(Claimed, Attempt)],
        token: &str,
        at: Millis,
    ) -> Result<Recorded> {
        let mut tx = self.begin_write().await?;
        crate::store::order::exclude_engines(&mut tx, self.backend(), version_id, Turn::Background)
            .await?;
        self.fence(&mut tx, version_id, bucket).await?;
        let sql = format!(
            "SELECT status FROM versions WHERE id = $1{}",
            self.backend().row_lock()
        );
        let status: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(version_id)
            .fetch_optional(&mut *tx)
            .await?;
        if status.as_deref() == Some("stopped") || status.is_none() {
            tx.rollback().await?;
            return Ok(Recorded::default());
        }
        let mut report = Recorded::default();
        let mut deltas: BTreeMap<&str, ActionDelta> = BTreeMap::new();
        let sent: Vec<i64> = attempts
            .iter()
            .filter(|(_, a)| *a == Attempt::Sent)
            .map(|(c, _)| c.id)
            .collect();
        let sent = self.record_sent(&mut tx, token, bucket, &sent, at).await?;
        for (c, attempt) in attempts.iter().copied() {
            let held = match attempt {
                Attempt::Sent => sent.contains(&c.id),
                _ => self.record_one(&mut tx, token, c, attempt, at).await?,
            };
            if !held {
                continue;
            }
            let d = deltas.entry(c.action.as_str()).or_default();
            d.tally(&mut report, attempt, i64::from(c.retrying));
        }
        let counted = Delivered {
            version_id,
            report: &report,
            deltas: &deltas,
            at,
        };
        self.count_delivered(&mut tx, bucket, counted).await?;
        tx.commit().await?;
        self.fold_soon().await?;
        self.announce_figures().await;
        Ok(report)
    }

    /// Takes the version row's lock (see `write_lock_version`), or on a
    /// cluster with a bucket that bucket's fence (see `shares::fence`).
    async fn fence(
        &self,
        tx: &mut Transaction<'static, Any>,
        version_id: i64,
        bucket: Option<i32>,
    ) -> Result<()> {
        match bucket {
            Some(b) => crate::store::order::fences::fence(tx, version_id, b).await,
            None => crate::store::order::write_lock_version(tx, self.backend(), version_id).await,
        }
    }

    /// Marks sent the messages this worker still holds; their ids.
    async fn record_sent(
        &self,
        tx: &mut Transaction<'static, Any>,
        token: &str,
        bucket: Option<i32>,
        ids: &[i64],
        at: Millis,
    ) -> Result<std::collections::HashSet<i64>> {
        let mut out = std::collections::HashSet::new();
        let one_bucket = if bucket.is_some() {
            " AND bucket = $3"
        } else {
            ""
        };
        for chunk in ids.chunks(self.chunk_rows()) {
            let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 4)).collect();
            // Only placeholders and a fixed condition are formatted in.
            let sql = format!(
                "UPDATE outbox SET state = 'sent', sent_at = $2, claimed_until = NULL, claimed_by = NULL \
                 WHERE claimed_by = $1 AND state = 'pending'{one_bucket} AND id IN ({}) RETURNING id",
                list.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(token)
                .bind(at)
                .bind(bucket.unwrap_or(0));
            for id in chunk {
                q = q.bind(*id);
            }
            for row in q.fetch_all(&mut **tx).await? {
                out.insert(row.try_get::<i64, _>("id")?);
            }
        }
        Ok(out)
    }

    /// Writes one attempt that did not send to its row, if this worker
    /// still holds the claim.
    async fn record_one(
        &self,
        tx: &mut Transaction<'static, Any>,
        token: &str,
        c: &Claimed,
        attempt: &Attempt,
        at: Millis,
    ) -> Result<bool> {
        let now = self.backend().db_now();
        let free = "claimed_until = NULL, claimed_by = NULL";
        // The bucket names the one shard the row sits on.
        let held = "WHERE id = $1 AND claimed_by = $2 AND state = 'pending' AND bucket = $3";
        let (sql, error, after) = match attempt {
            Attempt::Sent => return Ok(false),
            Attempt::Retry { after_ms, error } => (
                format!("UPDATE outbox SET next_at = {now} + $5, last_error = $4, {free} {held}"),
                Some(error.as_str()),
                *after_ms,
            ),
            Attempt::Unanswered {
                after_ms: Some(after_ms),
                error,
            } => (
                format!(
                    "UPDATE outbox SET next_at = {now} + $5, last_error = $4, uncertain = 1, {free} {held}"
                ),
                Some(error.as_str()),
                *after_ms,
            ),
            Attempt::Unanswered {
                after_ms: None,
                error,
            } => (
                format!(
                    "UPDATE outbox SET state = 'failed', failed_at = $5, last_error = $4, uncertain = 1, \
                     {free} {held}"
                ),
                Some(error.as_str()),
                at,
            ),
            Attempt::Failed { error } => (
                format!(
                    "UPDATE outbox SET state = 'failed', failed_at = $5, last_error = $4, {free} {held}"
                ),
                Some(error.as_str()),
                at,
            ),
            Attempt::Released => (
                format!("UPDATE outbox SET attempts = attempts - 1, {free} {held}"),
                None,
                0,
            ),
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(c.id).bind(token);
        q = q.bind(c.bucket);
        if let Some(e) = error {
            q = q.bind(e).bind(after);
        }
        Ok(q.execute(&mut **tx).await?.rows_affected() == 1)
    }
}

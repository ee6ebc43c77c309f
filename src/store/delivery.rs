//! The outbox's delivery side: delivery workers claim pending messages of
//! running versions for a lease, hand them to channels, and record what
//! happened. Claims and records lock the version row, as a stop does, so a
//! stop sees every claim that started before it (and waits for it, see
//! `gate`), and no claim starts after it.

use std::collections::BTreeMap;

use sqlx::{Any, Row, Transaction};

use super::minutes::{MinuteCounts, minute_of};
use super::{Result, Store};
use crate::domain::{Millis, VersionStatus};

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

/// Counter moves of one action in one record.
#[derive(Default)]
struct ActionDelta {
    pending: i64,
    sent: i64,
    failed: i64,
    retrying: i64,
    error: Option<String>,
}

impl ActionDelta {
    /// Counts one recorded attempt of a message that was retrying (`was`
    /// 1) or not.
    fn tally(&mut self, report: &mut Recorded, attempt: &Attempt, was: i64) {
        let (retry, error) = match attempt {
            Attempt::Sent => {
                report.sent += 1;
                (self.pending, self.sent, self.retrying) =
                    (self.pending - 1, self.sent + 1, self.retrying - was);
                return;
            }
            Attempt::Released => return,
            Attempt::Retry { error, .. } => (true, error),
            Attempt::Failed { error } => (false, error),
            Attempt::Unanswered { after_ms, error } => {
                report.unanswered += 1;
                (after_ms.is_some(), error)
            }
        };
        if retry {
            report.retried += 1;
            self.retrying += 1 - was;
        } else {
            report.failed += 1;
            (self.pending, self.failed, self.retrying) =
                (self.pending - 1, self.failed + 1, self.retrying - was);
        }
        self.error = Some(error.clone());
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
            self.backend.db_now()
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let (definition, unreadable) =
                super::read_definition(&r.try_get::<String, _>("definition")?);
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

    /// Claims up to `limit` due messages of the version whose action is one
    /// of `actions`, for `lease_ms` of the database's clock. Nothing when
    /// the version no longer runs, is paused, or a stop or pause is waiting
    /// at its gate.
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
        let mut tx = self.begin_background_write().await?;
        let Some(locked) = self.lock_open_gate(&mut tx, version_id).await? else {
            tx.rollback().await?;
            return Ok(Vec::new());
        };
        super::overdue::apply_overdue(&mut tx, self.backend, version_id, &locked).await?;
        let now = self.backend.db_now();
        let list: Vec<String> = (0..actions.len()).map(|i| format!("${}", i + 5)).collect();
        // Only placeholders and the clock expression are formatted in.
        let sql = format!(
            "UPDATE outbox SET claimed_until = {now} + $2, claimed_by = $3, attempts = attempts + 1, \
             uncertain = CASE WHEN claimed_until IS NOT NULL THEN 1 ELSE uncertain END \
             WHERE id IN (SELECT id FROM outbox WHERE version_id = $1 AND state = 'pending' \
             AND next_at <= {now} AND (claimed_until IS NULL OR claimed_until <= {now}) \
             AND action IN ({}) ORDER BY next_at, id LIMIT $4) \
             RETURNING id, profile, action, variant, created_at, attempts, last_error",
            list.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(version_id)
            .bind(lease_ms)
            .bind(token)
            .bind(limit);
        for a in actions {
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
                })
            })
            .collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|c| c.id);
        Ok(out)
    }

    /// Locks the version row; the row (with a resume's choice for overdue
    /// messages) when the version runs and its gate is open, else `None`.
    async fn lock_open_gate(
        &self,
        tx: &mut Transaction<'static, Any>,
        version_id: i64,
    ) -> Result<Option<sqlx::any::AnyRow>> {
        super::exclude_engines(tx, self.backend, version_id).await?;
        super::write_lock_version(tx, self.backend, version_id).await?;
        let lock = self.backend.row_lock();
        let sql = format!(
            "SELECT status, CASE WHEN paused_at IS NULL AND (gate_until IS NULL OR gate_until <= {}) \
             THEN 1 ELSE 0 END AS open, overdue_mode, overdue_before, overdue_spread_ms \
             FROM versions WHERE id = $1{lock}",
            self.backend.db_now()
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
        let status: VersionStatus = status.parse().map_err(super::Error::Invalid)?;
        Ok((status.runs_steps() && open == 1).then_some(row))
    }

    /// Records the attempts on messages this worker (`token`) claimed, with
    /// their counters. A version stopped meanwhile (a lease that ran out)
    /// keeps its messages cancelled: nothing is recorded.
    pub async fn record(
        &self,
        version_id: i64,
        token: &str,
        attempts: &[(Claimed, Attempt)],
        at: Millis,
    ) -> Result<Recorded> {
        let mut tx = self.begin_write().await?;
        super::exclude_engines(&mut tx, self.backend, version_id).await?;
        super::write_lock_version(&mut tx, self.backend, version_id).await?;
        let sql = format!(
            "SELECT status FROM versions WHERE id = $1{}",
            self.backend.row_lock()
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
        let sent = self.record_sent(&mut tx, token, &sent, at).await?;
        for (c, attempt) in attempts {
            let held = match attempt {
                Attempt::Sent => sent.contains(&c.id),
                _ => self.record_one(&mut tx, token, c, (attempt, at)).await?,
            };
            if !held {
                continue;
            }
            let d = deltas.entry(c.action.as_str()).or_default();
            d.tally(&mut report, attempt, i64::from(c.retrying));
        }
        self.count_delivered(&mut tx, version_id, &report, &deltas)
            .await?;
        let minute = MinuteCounts {
            sent: report.sent as i64,
            failed: report.failed as i64,
            ..MinuteCounts::default()
        };
        if minute != MinuteCounts::default() {
            let minutes = BTreeMap::from([(minute_of(at), minute)]);
            super::counters::add_minutes(&mut tx, self.backend, version_id, &minutes).await?;
        }
        tx.commit().await?;
        self.announce_figures().await;
        Ok(report)
    }

    /// Marks sent the messages this worker still holds; their ids.
    async fn record_sent(
        &self,
        tx: &mut Transaction<'static, Any>,
        token: &str,
        ids: &[i64],
        at: Millis,
    ) -> Result<std::collections::HashSet<i64>> {
        let mut out = std::collections::HashSet::new();
        for chunk in ids.chunks(self.chunk_rows()) {
            let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
            // Only placeholders are formatted in.
            let sql = format!(
                "UPDATE outbox SET state = 'sent', sent_at = $2, claimed_until = NULL, claimed_by = NULL \
                 WHERE claimed_by = $1 AND state = 'pending' AND id IN ({}) RETURNING id",
                list.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(token).bind(at);
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
        (attempt, at): (&Attempt, Millis),
    ) -> Result<bool> {
        let now = self.backend.db_now();
        let free = "claimed_until = NULL, claimed_by = NULL";
        let held = "WHERE id = $1 AND claimed_by = $2 AND state = 'pending'";
        let (sql, error, after) = match attempt {
            Attempt::Sent => return Ok(false),
            Attempt::Retry { after_ms, error } => (
                format!("UPDATE outbox SET next_at = {now} + $4, last_error = $3, {free} {held}"),
                Some(error.as_str()),
                *after_ms,
            ),
            Attempt::Unanswered {
                after_ms: Some(after_ms),
                error,
            } => (
                format!(
                    "UPDATE outbox SET next_at = {now} + $4, last_error = $3, uncertain = 1, {free} {held}"
                ),
                Some(error.as_str()),
                *after_ms,
            ),
            Attempt::Unanswered {
                after_ms: None,
                error,
            } => (
                format!(
                    "UPDATE outbox SET state = 'failed', failed_at = $4, last_error = $3, uncertain = 1, \
                     {free} {held}"
                ),
                Some(error.as_str()),
                at,
            ),
            Attempt::Failed { error } => (
                format!(
                    "UPDATE outbox SET state = 'failed', failed_at = $4, last_error = $3, {free} {held}"
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
        if let Some(e) = error {
            q = q.bind(e);
        }
        if error.is_some() {
            q = q.bind(after);
        }
        Ok(q.execute(&mut **tx).await?.rows_affected() == 1)
    }

    async fn count_delivered(
        &self,
        tx: &mut Transaction<'static, Any>,
        version_id: i64,
        report: &Recorded,
        deltas: &BTreeMap<&str, ActionDelta>,
    ) -> Result<()> {
        let (sent, failed) = (report.sent as i64, report.failed as i64);
        sqlx::query(
            "UPDATE versions SET msg_pending = msg_pending - $2 - $3, msg_sent = msg_sent + $2, \
             msg_failed = msg_failed + $3 WHERE id = $1",
        )
        .bind(version_id)
        .bind(sent)
        .bind(failed)
        .execute(&mut **tx)
        .await?;
        // The database's clock, read first: on a cluster a write to a
        // table on every node takes no clock inside a CASE.
        let now = super::db_clock_ms(tx, self.backend).await?;
        let sql = "UPDATE outbox_actions SET pending = pending + $3, sent = sent + $4, failed = failed + $5, \
             retrying = retrying + $6, \
             last_error = CASE WHEN $7 IS NULL THEN last_error ELSE $7 END, \
             last_error_at = CASE WHEN $7 IS NULL THEN last_error_at ELSE $8 END, \
             last_sent_at = CASE WHEN $4 > 0 THEN $8 ELSE last_sent_at END \
             WHERE version_id = $1 AND action = $2";
        for (action, d) in deltas {
            sqlx::query(sql)
                .bind(version_id)
                .bind(*action)
                .bind(d.pending)
                .bind(d.sent)
                .bind(d.failed)
                .bind(d.retrying)
                .bind(d.error.clone())
                .bind(now)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// What the running workers route each action to: `(action, channel)`,
    /// written by each worker as it starts and again every few seconds.
    pub async fn advertise_routes(
        &self,
        routes: &[(String, Option<String>)],
        worker: &str,
        at: Millis,
    ) -> Result<()> {
        let mut tx = self.begin_background_write().await?;
        for (action, channel) in routes {
            sqlx::query(
                "INSERT INTO delivery_routes (action, channel, worker, seen_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (action) DO UPDATE SET channel = excluded.channel, worker = excluded.worker, \
                 seen_at = excluded.seen_at",
            )
            .bind(action.as_str())
            .bind(channel.clone())
            .bind(worker)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

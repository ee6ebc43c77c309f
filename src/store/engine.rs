//! The engine: runs due steps, applies date rules, sweeps stopped versions,
//! and sweeps stopped versions.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use super::lifecycle::end_version;
use super::moves::{count_enqueued, insert_outbox, update_participants};
use super::verdicts::check_verdicts;
use super::walk::{Due, Move, Send, due_query, walk};
use super::{Actor, Result, Store, select_version_info, version_info, with_retry};
use crate::domain::{EndKind, Millis};

/// Counter changes of one version within one transaction.
#[derive(Debug, Default, Clone)]
pub(crate) struct CounterDelta {
    pub entered: i64,
    pub active: i64,
    pub completed: i64,
    pub exited: i64,
    pub converted: i64,
    pub msg_pending: i64,
    pub msg_sent: i64,
    pub variant_assigned: BTreeMap<String, i64>,
    pub variant_converted: BTreeMap<String, i64>,
    /// Entries, conversions and exits by the minute stamped on their rows.
    pub minutes: BTreeMap<i64, super::minutes::MinuteCounts>,
}

/// Moves the counters in the same transaction as the rows they count.
pub(crate) async fn apply_deltas(
    tx: &mut Transaction<'static, Any>,
    deltas: &HashMap<i64, CounterDelta>,
    at: Millis,
) -> Result<()> {
    let mut ids: Vec<&i64> = deltas.keys().collect();
    ids.sort();
    for id in ids {
        let d = &deltas[id];
        sqlx::query(
            "UPDATE versions SET entered = entered + $2, active = active + $3, completed = completed + $4, \
             exited = exited + $5, converted = converted + $6, msg_pending = msg_pending + $7, \
             msg_sent = msg_sent + $8, last_activity_at = CASE WHEN last_activity_at IS NULL OR last_activity_at < $9 \
             THEN $9 ELSE last_activity_at END WHERE id = $1",
        )
        .bind(*id)
        .bind(d.entered)
        .bind(d.active)
        .bind(d.completed)
        .bind(d.exited)
        .bind(d.converted)
        .bind(d.msg_pending)
        .bind(d.msg_sent)
        .bind(at)
        .execute(&mut **tx)
        .await?;
        let names: std::collections::BTreeSet<&String> = d
            .variant_assigned
            .keys()
            .chain(d.variant_converted.keys())
            .collect();
        for name in names {
            sqlx::query(
                "UPDATE variants SET assigned = assigned + $3, converted = converted + $4 \
                 WHERE version_id = $1 AND name = $2",
            )
            .bind(*id)
            .bind(name)
            .bind(d.variant_assigned.get(name).copied().unwrap_or(0))
            .bind(d.variant_converted.get(name).copied().unwrap_or(0))
            .execute(&mut **tx)
            .await?;
        }
        super::minutes::add_minutes(tx, *id, &d.minutes).await?;
    }
    Ok(())
}

/// What one `tick` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TickReport {
    /// Steps run (message, split and wait steps).
    pub steps: u64,
    pub messages: u64,
    pub completed: u64,
    /// Versions finished by their entry end date.
    pub finished_by_date: Vec<String>,
    /// Holds that ran out, and the rule applied: `promo v1: hold expired, stop`.
    pub holds_expired: Vec<String>,
}

/// Told the running totals of a tick after each batch.
pub type Progress<'a> = &'a (dyn Fn(&TickReport) + Sync);

/// Whether a batch waits for a version row another process holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    Skip,
    Queue,
}

/// What one batch found.
enum Batch {
    /// Another engine holds the version (only when skipping).
    Busy,
    /// Nothing (more) to run: none due, or the version no longer runs.
    Ended,
    /// A batch ran: what it did, and how many due participants it read.
    Ran { report: TickReport, read: i64 },
}

/// The A/B winner stored for a version, if one is decided.
async fn decided_winner(
    tx: &mut Transaction<'static, Any>,
    version_id: i64,
) -> Result<Option<String>> {
    Ok(
        sqlx::query("SELECT winner FROM ab_decisions WHERE version_id = $1")
            .bind(version_id)
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| r.try_get("winner"))
            .transpose()?,
    )
}

/// The due participants of a version, read under its lock.
async fn read_due(
    tx: &mut Transaction<'static, Any>,
    version_id: i64,
    steps: &[crate::domain::Step],
    held: bool,
    now: Millis,
) -> Result<Vec<Due>> {
    sqlx::query(sqlx::AssertSqlSafe(due_query(steps, held)))
        .bind(version_id)
        .bind(now)
        .bind(TICK_BATCH)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| {
            Ok(Due {
                id: r.try_get("id")?,
                profile: r.try_get("profile")?,
                step: r.try_get("step")?,
                due_at: r.try_get("due_at")?,
                variant: r.try_get("variant")?,
            })
        })
        .collect()
}

/// Due participants taken per transaction: a stop queues behind at most
/// one batch (tens of milliseconds), and each batch's fixed round trips
/// (lock, read, counters, commit) are spread over enough rows.
pub const TICK_BATCH: i64 = 2000;

impl Store {
    /// Runs the date rules, then every due step, then sweeps stopped
    /// versions; `now` is the engine's clock.
    pub async fn tick(&self, now: Millis) -> Result<TickReport> {
        self.tick_with(now, &|_| {}).await
    }

    /// The same, telling `progress` the running totals after each batch
    /// (the CLI's progress bar).
    pub async fn tick_with(&self, now: Millis, progress: Progress<'_>) -> Result<TickReport> {
        let mut report = TickReport {
            holds_expired: self.expire_holds(now).await?,
            ..TickReport::default()
        };
        self.finish_by_date(now, &mut report).await?;
        let running: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM versions WHERE status IN ('live', 'finished') ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        // First pass: a version another engine is working on is left for
        // later, so engines side by side spread over versions. Second
        // pass: what was left, waiting in turn.
        let mut busy = Vec::new();
        for id in running {
            if !self
                .run_version(id, now, (Wait::Skip, progress), &mut report)
                .await?
            {
                busy.push(id);
            }
        }
        for id in busy {
            self.run_version(id, now, (Wait::Queue, progress), &mut report)
                .await?;
        }
        self.sweep_stopped(5_000).await?;
        self.drop_old_minutes(now).await?;
        Ok(report)
    }

    /// Runs one version's due participants, a batch at a time; false when
    /// (skipping) it found the version held by another engine.
    async fn run_version(
        &self,
        version_id: i64,
        now: Millis,
        (wait, progress): (Wait, Progress<'_>),
        report: &mut TickReport,
    ) -> Result<bool> {
        loop {
            let part = with_retry(|| self.run_due(version_id, now, wait)).await?;
            match part {
                Batch::Busy => return Ok(false),
                Batch::Ended => return Ok(true),
                Batch::Ran { report: r, read } => {
                    report.steps += r.steps;
                    report.messages += r.messages;
                    report.completed += r.completed;
                    progress(report);
                    // A full batch that moved nobody must not be read again.
                    if read < TICK_BATCH || r.steps + r.completed == 0 {
                        return Ok(true);
                    }
                }
            }
        }
    }

    async fn finish_by_date(&self, now: Millis, report: &mut TickReport) -> Result<()> {
        let rows = sqlx::query(concat!(
            select_version_info!(),
            "WHERE v.status = 'live' AND v.entry_end_at IS NOT NULL AND v.entry_end_at <= $1 ORDER BY v.id"
        ))
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let actor = Actor::schedule();
        for row in rows {
            let v = version_info(&row)?;
            let mut tx = self.begin_write().await?;
            match end_version(
                &mut tx,
                self.backend,
                &v,
                EndKind::Finish,
                &actor,
                Some("entry end date reached"),
                now,
            )
            .await
            {
                Ok(_) => {
                    tx.commit().await?;
                    report.finished_by_date.push(v.label());
                }
                // Someone ended it first: nothing to do.
                Err(super::Error::Refused(_)) => tx.rollback().await?,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// One batch of a version, all under its row lock: a stop that
    /// commits before this waits for nothing and is seen here; one that
    /// comes after waits for this commit and then cancels what this batch
    /// enqueued. The due participants are read under the lock, so engines
    /// side by side never take the same ones.
    async fn run_due(&self, version_id: i64, now: Millis, wait: Wait) -> Result<Batch> {
        let mut tx = self.begin_write().await?;
        if let Some(setup) = self.backend.engine_batch_setup() {
            sqlx::raw_sql(setup).execute(&mut *tx).await?;
        }
        let lock = match wait {
            Wait::Queue => self.backend.lock_version(),
            Wait::Skip => self.backend.lock_version_or_skip(),
        };
        let Some(row) = sqlx::query(lock)
            .bind(version_id)
            .fetch_optional(&mut *tx)
            .await?
        else {
            // Versions are never deleted: no row is a row another holds.
            tx.rollback().await?;
            return Ok(Batch::Busy);
        };
        let v = super::version_info(&row)?;
        if !v.status.runs_steps() {
            tx.rollback().await?;
            return Ok(Batch::Ended);
        }
        let steps = &v.definition.steps;
        let held = v.paused.is_some();
        let due = read_due(&mut tx, version_id, steps, held, now).await?;
        let read = due.len() as i64;
        if due.is_empty() {
            tx.rollback().await?;
            return Ok(Batch::Ended);
        }
        let decided = decided_winner(&mut tx, version_id).await?;
        let mut report = TickReport::default();
        let mut delta = CounterDelta::default();
        let mut outbox: Vec<(i64, &str, &Send)> = Vec::new();
        // A participant held where it stood has nothing to write.
        let moves: Vec<Move> = due
            .iter()
            .map(|p| walk(p, steps, decided.as_deref(), now, held))
            .filter(|m| m.ran > 0 || m.completed)
            .collect();
        // One conditional update; only the rows it really moved count.
        let moved = update_participants(&mut tx, self.backend, &moves, now).await?;
        for m in moves.iter().filter(|m| moved.contains(&m.due.id)) {
            report.steps += m.ran;
            if m.completed {
                report.completed += 1;
                delta.active -= 1;
                delta.completed += 1;
            }
            if let Some(name) = &m.assigned {
                *delta.variant_assigned.entry(name.clone()).or_default() += 1;
            }
            for send in &m.sends {
                outbox.push((m.due.id, m.due.profile.as_str(), send));
            }
        }
        report.messages = outbox.len() as u64;
        delta.msg_pending += outbox.len() as i64;
        insert_outbox(&mut tx, self.backend, version_id, &outbox).await?;
        let mut per_action: BTreeMap<&str, i64> = BTreeMap::new();
        for (_, _, send) in &outbox {
            *per_action.entry(send.action.as_str()).or_default() += 1;
        }
        count_enqueued(&mut tx, version_id, &per_action).await?;
        let touched = !delta.variant_assigned.is_empty();
        let mut deltas = HashMap::new();
        deltas.insert(version_id, delta);
        apply_deltas(&mut tx, &deltas, now).await?;
        if touched {
            check_verdicts(&mut tx, &[version_id], now).await?;
        }
        tx.commit().await?;
        Ok(Batch::Ran { report, read })
    }

    /// Writes stopped and cancelled into rows that a stop left marked
    /// active or pending, a bounded batch at a time, outside the stop's
    /// transaction. Counters already count them; only the stored state
    /// catches up with the effective one.
    pub async fn sweep_stopped(&self, limit: i64) -> Result<u64> {
        let ids: Vec<i64> =
            sqlx::query("SELECT id FROM versions WHERE status = 'stopped' AND swept = 0")
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| r.try_get("id"))
                .collect::<std::result::Result<_, _>>()?;
        let mut total = 0;
        for id in ids {
            let mut tx = self.begin_write().await?;
            let p = sqlx::query(
                "UPDATE participants SET state = 'stopped' WHERE id IN \
                 (SELECT id FROM participants WHERE version_id = $1 AND state = 'active' LIMIT $2)",
            )
            .bind(id)
            .bind(limit)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let o = sqlx::query(
                "UPDATE outbox SET state = 'cancelled', claimed_until = NULL, claimed_by = NULL WHERE id IN \
                 (SELECT id FROM outbox WHERE version_id = $1 AND state = 'pending' LIMIT $2)",
            )
            .bind(id)
            .bind(limit)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if p == 0 && o == 0 {
                sqlx::query("UPDATE versions SET swept = 1 WHERE id = $1 AND status = 'stopped'")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            total += p + o;
        }
        Ok(total)
    }
}

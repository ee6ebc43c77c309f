//! The engine: runs due steps, applies date rules, sweeps stopped versions,
//! and sweeps stopped versions.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use super::lifecycle::end_version;
use super::verdicts::check_verdicts;
use super::walk::{Due, Move, Send, due_query, walk};
use super::{
    Actor, Result, Store, lock_running_version, select_version_info, version_info, with_retry,
};
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
    /// A version this tick found stopped (nothing of it runs).
    #[serde(skip)]
    pub stopped: bool,
}

/// Due participants taken per transaction: short, so a stop never queues
/// behind a long batch.
pub const TICK_BATCH: i64 = 500;

impl Store {
    /// Runs the date rules, then every due step, then sweeps stopped
    /// versions; `now` is the engine's clock.
    pub async fn tick(&self, now: Millis) -> Result<TickReport> {
        let mut report = TickReport {
            holds_expired: self.expire_holds(now).await?,
            ..TickReport::default()
        };
        self.finish_by_date(now, &mut report).await?;
        // Version by version: the index on (version_id, due_at, id) of
        // active rows finds the due ones, in batch order, without looking
        // at anyone else.
        let running = sqlx::query(
            "SELECT id, paused_at, definition FROM versions WHERE status IN ('live', 'finished') ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        for row in running {
            let version_id: i64 = row.try_get("id")?;
            let due_sql = due_query(&row)?;
            let mut last_first: Option<i64> = None;
            loop {
                let rows = sqlx::query(sqlx::AssertSqlSafe(due_sql.clone()))
                    .bind(version_id)
                    .bind(now)
                    .bind(TICK_BATCH)
                    .fetch_all(&self.pool)
                    .await?;
                let Some(first) = rows.first() else { break };
                let first: i64 = first.try_get("id")?;
                let due = rows
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
                    .collect::<Result<Vec<_>>>()?;
                let part = with_retry(|| self.run_due(version_id, &due, now)).await?;
                report.steps += part.steps;
                report.messages += part.messages;
                report.completed += part.completed;
                // A batch that moved nobody (stopped meanwhile, or taken by
                // another engine) must not spin.
                if (rows.len() as i64) < TICK_BATCH || last_first == Some(first) || part.stopped {
                    break;
                }
                last_first = Some(first);
            }
        }
        self.sweep_stopped(5_000).await?;
        Ok(report)
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

    async fn run_due(&self, version_id: i64, due: &[Due], now: Millis) -> Result<TickReport> {
        let mut report = TickReport::default();
        let mut tx = self.begin_write().await?;
        // Lock the version row first: a stop that commits before this waits
        // for nothing and is seen here; one that comes after waits for this
        // commit and then cancels what this batch enqueued.
        if let Some(setup) = self.backend.engine_batch_setup() {
            sqlx::raw_sql(setup).execute(&mut *tx).await?;
        }
        let Some(v) = lock_running_version(&mut tx, self.backend, version_id).await? else {
            tx.rollback().await?;
            report.stopped = true;
            return Ok(report);
        };
        let decided: Option<String> =
            sqlx::query("SELECT winner FROM ab_decisions WHERE version_id = $1")
                .bind(version_id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get("winner"))
                .transpose()?;
        let steps = &v.definition.steps;
        let mut delta = CounterDelta::default();
        let mut outbox: Vec<(i64, &str, &Send)> = Vec::new();
        let mut moves: Vec<Move> = Vec::with_capacity(due.len());
        let held = v.paused.is_some();
        for p in due {
            let m = walk(p, steps, decided.as_deref(), now, held);
            // A participant held where it stood has nothing to write.
            if m.ran > 0 || m.completed {
                moves.push(m);
            }
        }
        // One conditional update per chunk; only the rows it really moved
        // (not moved meanwhile by another engine or an exit) count.
        for chunk in moves.chunks(self.chunk_rows()) {
            let moved = update_participants(&mut tx, chunk, now).await?;
            for m in chunk.iter().filter(|m| moved.contains(&m.due.id)) {
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
        }
        report.messages = outbox.len() as u64;
        delta.msg_pending += outbox.len() as i64;
        for chunk in outbox.chunks(self.chunk_rows()) {
            insert_outbox(&mut tx, version_id, chunk).await?;
        }
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
        Ok(report)
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

/// Moves a chunk of participants in one statement, each only if it is
/// still where this tick found it; returns the ids it moved.
async fn update_participants(
    tx: &mut Transaction<'static, Any>,
    moves: &[Move<'_>],
    now: Millis,
) -> Result<std::collections::HashSet<i64>> {
    if moves.is_empty() {
        return Ok(Default::default());
    }
    let mut sql = String::from(
        "UPDATE participants SET state = v.column2, step = v.column3, due_at = v.column4, variant = v.column5, \
         updated_at = $1 FROM (VALUES ",
    );
    for i in 0..moves.len() {
        let b = 2 + i * 7;
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "(CAST(${b} AS BIGINT), CAST(${} AS TEXT), CAST(${} AS BIGINT), CAST(${} AS BIGINT), CAST(${} AS TEXT), \
             CAST(${} AS BIGINT), CAST(${} AS BIGINT))",
            b + 1,
            b + 2,
            b + 3,
            b + 4,
            b + 5,
            b + 6
        ));
    }
    sql.push_str(
        ") AS v WHERE participants.id = v.column1 AND participants.state = 'active' \
         AND participants.step = v.column6 AND participants.due_at = v.column7 RETURNING participants.id",
    );
    // Only placeholders are formatted into the statement; every value is bound.
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
    for m in moves {
        q = q
            .bind(m.due.id)
            .bind(m.state)
            .bind(m.step)
            .bind(m.due_at)
            .bind(m.variant.clone())
            .bind(m.due.step)
            .bind(m.due.due_at);
    }
    q.fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>("id").map_err(Into::into))
        .collect()
}

async fn insert_outbox(
    tx: &mut Transaction<'static, Any>,
    version_id: i64,
    rows: &[(i64, &str, &Send)],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut sql = String::from(
        "INSERT INTO outbox (version_id, participant_id, profile, action, variant, state, created_at) VALUES ",
    );
    for i in 0..rows.len() {
        let b = i * 5 + 2;
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "($1, ${b}, ${}, ${}, ${}, 'pending', ${})",
            b + 1,
            b + 2,
            b + 3,
            b + 4
        ));
    }
    // Only placeholders are formatted into the statement; every value is bound.
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(version_id);
    for (pid, profile, send) in rows {
        q = q
            .bind(*pid)
            .bind(*profile)
            .bind(send.action.as_str())
            .bind(send.variant.clone())
            .bind(send.at);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

/// Moves the per-action pending counters with the rows just enqueued.
async fn count_enqueued(
    tx: &mut Transaction<'static, Any>,
    version_id: i64,
    per_action: &BTreeMap<&str, i64>,
) -> Result<()> {
    for (action, n) in per_action {
        sqlx::query(
            "INSERT INTO outbox_actions (version_id, action, pending) VALUES ($1, $2, $3) \
             ON CONFLICT (version_id, action) DO UPDATE SET pending = outbox_actions.pending + excluded.pending",
        )
        .bind(version_id)
        .bind(*action)
        .bind(*n)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

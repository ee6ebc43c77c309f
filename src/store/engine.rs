//! The engine: runs due steps, applies date rules, and sweeps stopped
//! versions.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, PoisonError};

use sqlx::{Any, Row, Transaction};

use super::change::{Change, Write};
use super::counters::{CounterDelta, apply_deltas};
use super::lanes::{Lanes, Part, Progress, TickReport, lock};
use super::moves::{count_enqueued, insert_outbox, update_participants};
use super::shares::{self, Share};
use super::transition::{Transition, transition};
use super::verdicts::check_verdicts;
use super::walk::{Due, Move, Send, due_query, walk};
use super::{Actor, Result, Store, select_version_info, version_info, with_retry};
use crate::domain::{ActionKind, Millis};

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
    backend: super::Backend,
    part: Part,
    steps: &[crate::domain::Step],
    held: bool,
    now: Millis,
) -> Result<Vec<Due>> {
    let sql = due_query(steps, held, part.bucket.is_some()) + backend.claim_rows();
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(part.version)
        .bind(now)
        .bind(TICK_BATCH);
    if let Some(bucket) = part.bucket {
        query = query.bind(bucket);
    }
    query
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
        let _turn = self.engine_turn().await?;
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
        // The backend's lanes go through the versions at once, each from
        // its own place in the list, each batch claiming its own
        // participants: on a big version they share it, and a version one
        // lane has found with nothing more due the others pass over.
        let lanes = self.backend().engine_lanes();
        let shared = Mutex::new(Lanes {
            totals: report,
            done: HashSet::new(),
        });
        let parts = self.parts(&running, now).await?;
        let passes = (0..lanes).map(|k| {
            let mut order = parts.clone();
            order.rotate_left(k * parts.len() / lanes);
            let shared = &shared;
            async move { self.run_versions(&order, now, progress, shared).await }
        });
        for lane in futures_util::future::join_all(passes).await {
            lane?;
        }
        let report = shared
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .totals;
        self.fold_shares().await?;
        self.sweep_stopped(5_000).await?;
        self.drop_old_minutes(now).await?;
        Ok(report)
    }

    /// One lane's pass over the running versions. First pass: a version
    /// an operator (or an ingest, or a delivery claim) is acting on is left
    /// for later, so this lane works elsewhere meanwhile. Second pass: what
    /// was left, waiting in turn.
    async fn run_versions(
        &self,
        running: &[Part],
        now: Millis,
        progress: Progress<'_>,
        shared: &Mutex<Lanes>,
    ) -> Result<()> {
        let mut busy = Vec::new();
        for &id in running {
            if lock(shared).is_done(id) {
                continue;
            }
            if !self
                .run_lane(id, now, (Wait::Skip, progress), shared)
                .await?
            {
                busy.push(id);
            }
        }
        for id in busy {
            self.run_lane(id, now, (Wait::Queue, progress), shared)
                .await?;
        }
        Ok(())
    }

    /// One lane on one version: batches one after another until none is
    /// due (a lane that reads fewer than a batch has taken every due row no
    /// other lane holds; the lane holding the rest goes on after it); false
    /// when (skipping) it found the version held.
    async fn run_lane(
        &self,
        part: Part,
        now: Millis,
        (wait, progress): (Wait, Progress<'_>),
        shared: &Mutex<Lanes>,
    ) -> Result<bool> {
        loop {
            let batch = match with_retry(|| self.run_due(part, now, wait)).await {
                Ok(batch) => batch,
                // One bad version never halts the engine for the others.
                Err(e) if e.is_version_fault() => {
                    let label = self.version_label(part.version).await;
                    tracing::warn!("tick: {label} skipped: {e}");
                    let mut s = lock(shared);
                    if s.done.insert(Part::whole(part.version)) {
                        s.totals.failed.push(format!("{label}: {e}"));
                    }
                    return Ok(true);
                }
                Err(e) => return Err(e),
            };
            let done = match batch {
                Batch::Busy => return Ok(false),
                Batch::Ended => true,
                Batch::Ran { report: r, read } => {
                    let mut s = lock(shared);
                    s.totals.steps += r.steps;
                    s.totals.messages += r.messages;
                    s.totals.completed += r.completed;
                    progress(&s.totals);
                    // A full batch that moved nobody must not be read again.
                    read < TICK_BATCH || r.steps + r.completed == 0
                }
            };
            if done {
                lock(shared).done.insert(part);
                return Ok(true);
            }
        }
    }

    /// `journey vN` of a version id (the id itself if it cannot be read).
    async fn version_label(&self, id: i64) -> String {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT j.name, v.number FROM versions v JOIN journeys j ON j.id = v.journey_id WHERE v.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .ok()
        .flatten();
        row.map_or_else(|| format!("version id {id}"), |(j, n)| format!("{j} v{n}"))
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
            let mut tx = self.begin_background_write().await?;
            let change = Change::new(&actor, Some("entry end date reached"), now);
            let w = Write::new(&mut tx, self.backend(), change);
            match transition(w, v.id, Transition::Act(ActionKind::Finish)).await {
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

    /// One batch of a version, under its share of the version's lock: a
    /// stop that commits before this waits for nothing and is seen here;
    /// one that comes after waits for this commit and then cancels what
    /// this batch enqueued. Batches side by side (this engine's lanes or
    /// another engine's) share the lock and claim different participants:
    /// the due rows are read and locked, skipping rows another batch holds.
    async fn run_due(&self, part: Part, now: Millis, wait: Wait) -> Result<Batch> {
        let version_id = part.version;
        let mut tx = self.begin_background_write().await?;
        if let Some(setup) = self.backend().engine_batch_setup() {
            sqlx::raw_sql(setup).execute(&mut *tx).await?;
        }
        if let Some(share) = self.backend().engine_share(wait == Wait::Queue) {
            let got = sqlx::query(share)
                .bind(version_id)
                .fetch_one(&mut *tx)
                .await?;
            if wait == Wait::Skip && got.try_get::<i32, _>("got")? == 0 {
                tx.rollback().await?;
                return Ok(Batch::Busy);
            }
        }
        let Some(v) = running_version(&mut tx, version_id).await? else {
            tx.rollback().await?;
            return Ok(Batch::Ended);
        };
        let steps = &v.definition.steps;
        let held = v.paused.is_some();
        let due = read_due(&mut tx, self.backend(), part, steps, held, now).await?;
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
        let moved =
            update_participants(&mut tx, self.backend(), &moves, (now, part.bucket)).await?;
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
        insert_outbox(&mut tx, self.backend(), (version_id, part.bucket), &outbox).await?;
        let per_action = outbox.iter().fold(BTreeMap::new(), |mut m, (_, _, send)| {
            *m.entry(send.action.as_str()).or_default() += 1i64;
            m
        });
        if !still_runs(&mut tx, self.backend(), part).await? {
            tx.rollback().await?;
            return Ok(Batch::Ended);
        }
        count_batch(&mut tx, self.backend(), part, (delta, &per_action), now).await?;
        tx.commit().await?;
        self.fold_soon().await?;
        self.announce_figures().await;
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
            let mut tx = self.begin_background_write().await?;
            let mut swept = [0; 2];
            for (n, sql) in swept.iter_mut().zip(SWEEPS) {
                *n = sqlx::query(sql)
                    .bind(id)
                    .bind(limit)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            let [p, o] = swept;
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

/// Moves the counters of what one batch did: the version's, its variants'
/// and its actions'; on a cluster, the batch's bucket's share of them.
async fn count_batch(
    tx: &mut Transaction<'static, Any>,
    backend: super::Backend,
    part: Part,
    (delta, per_action): (CounterDelta, &BTreeMap<&str, i64>),
    now: Millis,
) -> Result<()> {
    let version_id = part.version;
    if let Some(bucket) = part.bucket {
        let share = Share::of_batch(&delta, per_action, now);
        return shares::add(tx, version_id, bucket, &share).await;
    }
    count_enqueued(tx, version_id, per_action).await?;
    let touched = !delta.variant_assigned.is_empty();
    apply_deltas(tx, backend, &HashMap::from([(version_id, delta)]), now).await?;
    if touched {
        check_verdicts(tx, &[version_id], now).await?;
    }
    Ok(())
}

/// A stopped version's rows still marked active or pending, a batch of
/// `$2` at a time (`$1` the version): participants, then messages.
const SWEEPS: [&str; 2] = [
    "UPDATE participants SET state = 'stopped' WHERE id IN \
     (SELECT id FROM participants WHERE version_id = $1 AND state = 'active' LIMIT $2)",
    "UPDATE outbox SET state = 'cancelled', claimed_until = NULL, claimed_by = NULL, \
     uncertain = CASE WHEN claimed_until IS NOT NULL THEN 1 ELSE uncertain END WHERE id IN \
     (SELECT id FROM outbox WHERE version_id = $1 AND state = 'pending' LIMIT $2)",
];

/// The version a batch runs, if it still runs steps. A stored definition
/// that cannot be read is this version's fault: an error the engine
/// reports before going on with the others.
async fn running_version(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    version_id: i64,
) -> Result<Option<super::VersionInfo>> {
    let Some(row) = sqlx::query(concat!(super::select_version_info!(), "WHERE v.id = $1"))
        .bind(version_id)
        .fetch_optional(&mut **tx)
        .await?
    else {
        return Ok(None);
    };
    let v = super::version_info(&row)?;
    if !v.status.runs_steps() {
        return Ok(None);
    }
    match &v.unreadable {
        Some(why) => Err(super::Error::Corrupt { what: why.clone() }),
        None => Ok(Some(v)),
    }
}

/// Whether the version still runs, read under its row lock (PostgreSQL),
/// or on a cluster under its bucket's fence, just before the batch writes
/// its counters: a stop that committed meanwhile (one that went on
/// without its turn lock, see `waits::operator_turn`) ends the batch
/// without effect. The row lock is the one the counters' update takes
/// anyway; the fence is on the shard the batch writes.
async fn still_runs(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    backend: super::Backend,
    part: Part,
) -> Result<bool> {
    let version_id = part.version;
    match part.bucket {
        Some(bucket) => shares::fence(tx, version_id, bucket).await?,
        None => super::write_lock_version(tx, backend, version_id).await?,
    }
    let status: Option<String> = sqlx::query_scalar(backend.lock_status())
        .bind(version_id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(status
        .and_then(|s| s.parse::<crate::domain::VersionStatus>().ok())
        .is_some_and(|s| s.runs_steps()))
}

impl super::Error {
    /// Whether the error is one version's own (a stored row that cannot be
    /// read, data the database refuses), so the engine reports it and goes
    /// on with the others; not the store being away or refusing this login.
    pub fn is_version_fault(&self) -> bool {
        match self {
            super::Error::Corrupt { .. } | super::Error::Invalid(_) => true,
            super::Error::Db(sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_)) => true,
            super::Error::Db(sqlx::Error::Database(d)) => {
                // SQLSTATE classes 22 (data exception) and 23 (integrity
                // constraint) on PostgreSQL; SQLite's constraint errors.
                let code = d.code().unwrap_or_default();
                !self.is_busy()
                    && (code.starts_with("22") || code.starts_with("23") || code == "19")
            }
            _ => false,
        }
    }
}

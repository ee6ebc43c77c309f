//! The engine: runs due steps, applies date rules, and sweeps stopped
//! versions.

pub(in crate::store) mod batch;
pub(in crate::store) mod lanes;
pub(in crate::store) mod moves;
pub(in crate::store) mod walk;

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use sqlx::Row;

use crate::domain::{ActionKind, Millis};
use crate::store::engine::batch::{Batch, Wait};
use crate::store::engine::lanes::{Lanes, Part, Progress, TickReport, lock};
use crate::store::lifecycle::change::{Change, Write};
use crate::store::lifecycle::transition::{Transition, transition};
use crate::store::{Actor, Result, Store, select_version_info, version_info, with_retry};

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
        self.refuse_unless_engine().await?;
        let _turn = self.engine_turn().await?;
        let mut report = TickReport {
            holds_expired: self.expire_holds(now).await?,
            ..TickReport::default()
        };
        // An action held until now sends again (`hold --for`).
        self.expire_action_holds(now).await?;
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
            if !self.run_lane(id, now, Wait::Skip, progress, shared).await? {
                busy.push(id);
            }
        }
        for id in busy {
            self.run_lane(id, now, Wait::Queue, progress, shared)
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
        wait: Wait,
        progress: Progress<'_>,
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
                    self.announce_status().await;
                    report.finished_by_date.push(v.label());
                }
                // Someone ended it first: nothing to do.
                Err(crate::store::Error::Refused(_)) => tx.rollback().await?,
                Err(e) => return Err(e),
            }
        }
        Ok(())
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

/// A stopped version's rows still marked active or pending, a batch of
/// `$2` at a time (`$1` the version): participants, then messages.
const SWEEPS: [&str; 2] = [
    "UPDATE participants SET state = 'stopped' WHERE id IN \
     (SELECT id FROM participants WHERE version_id = $1 AND state = 'active' LIMIT $2)",
    "UPDATE outbox SET state = 'cancelled', claimed_until = NULL, claimed_by = NULL, \
     uncertain = CASE WHEN claimed_until IS NOT NULL THEN 1 ELSE uncertain END WHERE id IN \
     (SELECT id FROM outbox WHERE version_id = $1 AND state = 'pending' LIMIT $2)",
];

impl crate::store::Error {
    /// Whether the error is one version's own (a stored row that cannot be
    /// read, data the database refuses), so the engine reports it and goes
    /// on with the others; not the store being away or refusing this login.
    pub fn is_version_fault(&self) -> bool {
        match self {
            crate::store::Error::Corrupt { .. } | crate::store::Error::Invalid(_) => true,
            crate::store::Error::Db(sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_)) => {
                true
            }
            crate::store::Error::Db(sqlx::Error::Database(d)) => {
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

//! One engine batch: the due participants of a version (or on a cluster
//! of one bucket of it) read and locked, walked, and their moves, messages
//! and counters written in one transaction, under the version's turn (see
//! `store/order`).

use std::collections::{BTreeMap, HashMap};

use sqlx::{Any, Row, Transaction};

use crate::domain::Millis;
use crate::store::engine::TICK_BATCH;
use crate::store::engine::lanes::{Part, TickReport};
use crate::store::engine::moves::{count_enqueued, insert_outbox, update_participants};
use crate::store::engine::walk::{Due, Move, Send, due_query, walk};
use crate::store::figures::counters::{CounterDelta, apply_deltas};
use crate::store::figures::shares::{self, Share};
use crate::store::figures::verdicts::check_verdicts;
use crate::store::{Result, Store};

/// Whether a batch waits for a version row another process holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wait {
    Skip,
    Queue,
}

/// What one batch found.
pub(super) enum Batch {
    /// Another engine holds the version (only when skipping).
    Busy,
    /// Nothing (more) to run: none due, or the version no longer runs.
    Ended,
    /// A batch ran: what it did, and how many due participants it read.
    Ran { report: TickReport, read: i64 },
}

/// The due participants of a version, read under its lock.
async fn read_due(
    tx: &mut Transaction<'static, Any>,
    backend: crate::store::Backend,
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
impl Store {
    /// One batch of a version, under its share of the version's lock: a
    /// stop that commits before this waits for nothing and is seen here;
    /// one that comes after waits for this commit and then cancels what
    /// this batch enqueued. Batches side by side (this engine's lanes or
    /// another engine's) share the lock and claim different participants:
    /// the due rows are read and locked, skipping rows another batch holds.
    pub(super) async fn run_due(&self, part: Part, now: Millis, wait: Wait) -> Result<Batch> {
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
        let (decided, disabled) =
            crate::store::figures::verdicts::split_rule(&mut tx, version_id).await?;
        let mut report = TickReport::default();
        let mut delta = CounterDelta::default();
        let mut outbox: Vec<(i64, &str, &Send)> = Vec::new();
        // A participant held where it stood has nothing to write.
        let moves: Vec<Move> = due
            .iter()
            .map(|p| walk(p, steps, (decided.as_deref(), &disabled), now, held))
            .filter(|m| m.ran > 0 || m.completed)
            .collect();
        // One conditional update; only the rows it really moved count.
        let moved = update_participants(&mut tx, self.backend(), &moves, now, part.bucket).await?;
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
        insert_outbox(&mut tx, self.backend(), version_id, part.bucket, &outbox).await?;
        let per_action = outbox.iter().fold(BTreeMap::new(), |mut m, (_, _, send)| {
            *m.entry(send.action.as_str()).or_default() += 1i64;
            m
        });
        if !still_runs(&mut tx, self.backend(), part).await? {
            tx.rollback().await?;
            return Ok(Batch::Ended);
        }
        count_batch(&mut tx, self.backend(), part, delta, &per_action, now).await?;
        tx.commit().await?;
        self.fold_soon().await?;
        self.announce_figures().await;
        Ok(Batch::Ran { report, read })
    }
}

/// Moves the counters of what one batch did: the version's, its variants'
/// and its actions'; on a cluster, the batch's bucket's share of them.
async fn count_batch(
    tx: &mut Transaction<'static, Any>,
    backend: crate::store::Backend,
    part: Part,
    delta: CounterDelta,
    per_action: &BTreeMap<&str, i64>,
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

/// The version a batch runs, if it still runs steps. A stored definition
/// that cannot be read is this version's fault: an error the engine
/// reports before going on with the others.
async fn running_version(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    version_id: i64,
) -> Result<Option<crate::store::VersionInfo>> {
    let Some(row) = sqlx::query(concat!(
        crate::store::select_version_info!(),
        "WHERE v.id = $1"
    ))
    .bind(version_id)
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    let v = crate::store::version_info(&row)?;
    if !v.status.runs_steps() {
        return Ok(None);
    }
    match &v.unreadable {
        Some(why) => Err(crate::store::Error::Corrupt { what: why.clone() }),
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
    backend: crate::store::Backend,
    part: Part,
) -> Result<bool> {
    let version_id = part.version;
    match part.bucket {
        Some(bucket) => crate::store::order::fences::fence(tx, version_id, bucket).await?,
        None => crate::store::order::write_lock_version(tx, backend, version_id).await?,
    }
    let status: Option<String> = sqlx::query_scalar(backend.lock_status())
        .bind(version_id)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(status
        .and_then(|s| s.parse::<crate::domain::VersionStatus>().ok())
        .is_some_and(|s| s.runs_steps()))
}

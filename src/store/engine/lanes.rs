//! What an engine tick's lanes share, and what each batch reads from: a
//! version whole, or on a cluster one bucket of it at a time.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use serde::Serialize;

use crate::domain::Millis;
use crate::store::{Result, Store};

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
    /// Versions this tick could not run, and why (`promo v1: stored
    /// definition: ...`): each is skipped, every other version runs.
    pub failed: Vec<String>,
}

/// Told the running totals of a tick after each batch.
pub type Progress<'a> = &'a (dyn Fn(&TickReport) + Sync);

/// What the lanes of one tick share: the running totals, and the parts
/// of versions a lane has found with nothing more due.
pub(in crate::store) struct Lanes {
    pub(in crate::store) totals: TickReport,
    pub(in crate::store) done: HashSet<Part>,
}

/// What one batch reads from: a version, or one bucket of it on a cluster
/// (so that each claim locks rows on one shard).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(in crate::store) struct Part {
    pub(in crate::store) version: i64,
    pub(in crate::store) bucket: Option<i32>,
}

impl Part {
    /// The whole version: marks one whose every part is done (it failed).
    pub(in crate::store) fn whole(version: i64) -> Part {
        Part {
            version,
            bucket: None,
        }
    }
}

impl Lanes {
    pub(in crate::store) fn is_done(&self, part: Part) -> bool {
        self.done.contains(&part) || self.done.contains(&Part::whole(part.version))
    }
}

pub(in crate::store) fn lock(shared: &Mutex<Lanes>) -> std::sync::MutexGuard<'_, Lanes> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Store {
    /// What the batches of this tick read from: each running version
    /// whole, or on a cluster each of its buckets with a participant due
    /// (one read over every shard, without locks), each version's
    /// together.
    pub(in crate::store) async fn parts(&self, running: &[i64], now: Millis) -> Result<Vec<Part>> {
        if self.backend().buckets().is_none() {
            return Ok(running.iter().map(|&v| Part::whole(v)).collect());
        }
        let due: Vec<(i64, i32)> = sqlx::query_as(
            "SELECT version_id, bucket FROM participants WHERE state = 'active' AND due_at <= $1 \
             GROUP BY version_id, bucket ORDER BY version_id, bucket",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        Ok(due
            .into_iter()
            .filter(|(v, _)| running.contains(v))
            .map(|(version, bucket)| Part {
                version,
                bucket: Some(bucket),
            })
            .collect())
    }
}

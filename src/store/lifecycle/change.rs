//! What every change of a version shares: who makes it and when, what it
//! does to the version, and why the rules refuse it. The transition
//! function (`transition.rs`) and the hold (`pause.rs`) both build on it.

use std::collections::HashMap;

use crate::store::dialect::id_list;
use crate::store::order::waits::Turn;
use sqlx::{Any, Transaction};

use crate::domain::time::to_rfc3339;
use crate::domain::{ActionKind, Millis, VersionStatus};
use crate::store::{Actor, Backend, Error, MessageFigures, Result, VersionInfo};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionImpact {
    pub journey: String,
    pub version: i64,
    pub status: VersionStatus,
    /// Active participants: stopped by a stop, left to drain by a finish.
    pub active: i64,
    /// Pending messages a stop cancels.
    pub pending: i64,
    /// Of those, how many had an attempt without an answer (they may have
    /// arrived).
    pub uncertain: i64,
    /// Messages sent while the action waited for deliveries in flight;
    /// `None` when none was in flight.
    pub sent_waiting: Option<i64>,
    /// A resume's messages that fell due during the hold, and when the
    /// oldest of them did.
    pub overdue: i64,
    pub overdue_since: Option<Millis>,
}

impl VersionImpact {
    /// What a change did to `v`, as the audit row says it.
    pub(crate) fn of(v: &VersionInfo, active: i64, pending: i64) -> VersionImpact {
        VersionImpact {
            journey: v.journey.clone(),
            version: v.number,
            status: v.status,
            active,
            pending,
            uncertain: 0,
            sent_waiting: None,
            overdue: 0,
            overdue_since: None,
        }
    }
}

/// What an action would do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Impact {
    pub versions: Vec<VersionImpact>,
    /// For a resume (where the console asks): what it releases per
    /// action, at once and within the hour, and at what rate.
    pub release: Vec<crate::domain::forecast::Release>,
}

impl Impact {
    pub fn active(&self) -> i64 {
        self.versions.iter().map(|v| v.active).sum()
    }
    pub fn pending(&self) -> i64 {
        self.versions.iter().map(|v| v.pending).sum()
    }
    pub fn uncertain(&self) -> i64 {
        self.versions.iter().map(|v| v.uncertain).sum()
    }
}

/// What an executed action did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub kind: ActionKind,
    pub versions: Vec<VersionImpact>,
    pub at: Millis,
    /// The incident id a store-wide brake gave its audit rows (or the one
    /// a `resume --incident` resumed).
    pub incident: Option<String>,
}

/// Who makes a change, why and when, and for a stop or pause that waited
/// for deliveries in flight, what its versions had sent when it began to.
#[derive(Clone, Copy)]
pub(crate) struct Change<'a> {
    pub actor: &'a Actor,
    pub reason: Option<&'a str>,
    pub now: Millis,
    /// For each version whose gate it closed, what it had sent then.
    pub sent_before: Option<&'a HashMap<i64, i64>>,
    /// The store-wide brake this change is part of (or resumes).
    pub incident: Option<&'a str>,
}

impl<'a> Change<'a> {
    pub(crate) fn new(actor: &'a Actor, reason: Option<&'a str>, now: Millis) -> Change<'a> {
        Change {
            actor,
            reason,
            now,
            sent_before: None,
            incident: None,
        }
    }

    /// What the version had sent when this change closed its gate;
    /// `None` when it did not.
    pub(crate) fn sent_before(&self, id: i64) -> Option<i64> {
        self.sent_before.and_then(|m| m.get(&id).copied())
    }
}

/// One change being written: its transaction and backend, and who makes
/// it, why and when. The transition function and the hold take it as one
/// value.
pub(crate) struct Write<'w, 'a> {
    pub tx: &'w mut Transaction<'static, Any>,
    pub backend: Backend,
    pub change: Change<'a>,
    /// Whose turn at the version the change takes.
    pub turn: Turn<'a>,
}

impl<'w, 'a> Write<'w, 'a> {
    pub(crate) fn new(
        tx: &'w mut Transaction<'static, Any>,
        backend: Backend,
        change: Change<'a>,
    ) -> Write<'w, 'a> {
        Write {
            tx,
            backend,
            change,
            turn: Turn::Background,
        }
    }
}

/// The stop's whole cost: the version rows and their per-action rows.
/// Participant rows still marked active, and outbox rows still pending, are
/// stopped and cancelled by the version's status from this commit on (see
/// the *_effective views); the engine sweeps them later in small batches.
/// What it cancelled of each version, and how many of those may have
/// arrived.
pub(crate) async fn move_stopped_counters(
    tx: &mut Transaction<'static, Any>,
    ids: &[i64],
) -> Result<HashMap<i64, MessageFigures>> {
    let mut uncertain = count_uncertain(tx, ids).await?;
    let list = id_list(ids);
    let pending: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, msg_pending FROM versions WHERE id IN ({list})"
    )))
    .fetch_all(&mut **tx)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE versions SET stopped = stopped + active, active = 0, \
         msg_cancelled = msg_cancelled + msg_pending, msg_pending = 0, swept = 0 WHERE id IN ({list})"
    )))
    .execute(&mut **tx)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE outbox_actions SET cancelled = cancelled + pending, pending = 0, retrying = 0 \
         WHERE version_id IN ({list})"
    )))
    .execute(&mut **tx)
    .await?;
    Ok(pending
        .into_iter()
        .map(|(id, cancelled)| {
            let figures = MessageFigures {
                cancelled: Some(cancelled),
                cancelled_uncertain: uncertain.remove(&id).unwrap_or(0),
                sent_waiting: None,
                overdue: None,
            };
            (id, figures)
        })
        .collect())
}

/// Pending messages of each version whose last attempt had no answer, or
/// whose claim ran out unrecorded (a worker that died holding it): they
/// may have arrived. Read through the two partial indexes, so its cost is
/// the number of such messages. Versions with none are left out.
pub(crate) async fn count_uncertain(
    conn: &mut sqlx::AnyConnection,
    ids: &[i64],
) -> Result<HashMap<i64, i64>> {
    let list = id_list(ids);
    // Each predicate is exactly its partial index's, so no plan reads the
    // versions' other messages.
    let rows: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT version_id, CAST(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END) AS BIGINT) \
           FROM outbox WHERE version_id IN ({list}) AND uncertain = 1 GROUP BY version_id \
         UNION ALL \
         SELECT version_id, CAST(SUM(CASE WHEN uncertain = 0 AND state = 'pending' THEN 1 ELSE 0 END) AS BIGINT) \
           FROM outbox WHERE version_id IN ({list}) AND claimed_until IS NOT NULL GROUP BY version_id"
    )))
    .fetch_all(&mut *conn)
    .await?;
    let mut out = HashMap::new();
    for (id, n) in rows {
        *out.entry(id).or_insert(0) += n;
    }
    Ok(out)
}

pub(crate) fn refusal(v: &VersionInfo, kind: ActionKind) -> Error {
    let why = v
        .status
        .refusal(kind)
        .map(str::to_string)
        .or_else(|| hold_refusal(v, kind))
        .unwrap_or_else(|| "it changed meanwhile".into());
    Error::Refused(crate::store::Refusal::Status {
        verb: kind.verb(),
        version: v.label(),
        why,
        status: v.status.to_string(),
        by: v.by_story(),
    })
}

/// Why a pause or resume cannot act on a version in its hold state.
pub(crate) fn hold_refusal(v: &VersionInfo, kind: ActionKind) -> Option<String> {
    let why = kind.hold_refusal(v.paused.is_some())?;
    Some(match &v.paused {
        Some(p) => format!(
            "{why} by {} since {}, until {} (then {})",
            p.by,
            to_rfc3339(p.since),
            to_rfc3339(p.until),
            p.on_expiry.as_str()
        ),
        None => why.to_string(),
    })
}

//! Ending versions: finish and stop, on one version, every version of a
//! journey, or every version that uses an action. One typed action, one
//! executor, one audit row per version, all in one transaction.

use std::collections::HashMap;

use sqlx::{Any, Row, Transaction};

use super::pause::{hold_refusal, hold_version};
use super::targets::resolve;
use super::turns::Waiting;
use super::{
    Actor, AuditChange, Backend, Error, MessageFigures, Result, Store, VersionInfo, insert_audit,
    select_version_info, version_info,
};
use crate::domain::{EndKind, Millis, VersionStatus};

/// Which versions an action ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One version; `None` is the journey's live version.
    Version {
        journey: String,
        version: Option<i64>,
    },
    /// Every live or finished version of the journey.
    AllVersions { journey: String },
    /// Every live or finished version, of any journey, that sends through
    /// the action (or a sub-action of that channel).
    UsesAction { action: String },
}

/// The one kind of dangerous thing journeyctl does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorAction {
    pub kind: EndKind,
    pub target: Target,
    pub reason: Option<String>,
}

impl OperatorAction {
    pub fn describe(&self) -> String {
        let verb = self.kind.verb();
        match &self.target {
            Target::Version {
                journey,
                version: Some(n),
            } => format!("{verb} {journey} v{n}"),
            Target::Version {
                journey,
                version: None,
            } => format!("{verb} the live version of {journey}"),
            Target::AllVersions { journey } => format!("{verb} every version of {journey}"),
            Target::UsesAction { action } if action.is_empty() => {
                format!("kill switch: {verb} every version that uses an action")
            }
            Target::UsesAction { action } => format!("{verb} every version that uses {action}"),
        }
    }
}

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

/// Who makes a change, why and when, and for a stop or pause that waited
/// for deliveries in flight, what its version had sent when it began to.
#[derive(Clone, Copy)]
pub(crate) struct Change<'a> {
    pub actor: &'a Actor,
    pub reason: Option<&'a str>,
    pub now: Millis,
    pub sent_before: Option<i64>,
}

impl<'a> Change<'a> {
    pub(crate) fn new(actor: &'a Actor, reason: Option<&'a str>, now: Millis) -> Change<'a> {
        Change {
            actor,
            reason,
            now,
            sent_before: None,
        }
    }
}

/// What an action would do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Impact {
    pub versions: Vec<VersionImpact>,
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
    pub kind: EndKind,
    pub versions: Vec<VersionImpact>,
    pub at: Millis,
}

impl Store {
    /// The versions the action would change and what it would do to them,
    /// or why it would be refused.
    pub async fn preview(&self, action: &OperatorAction) -> Result<Impact> {
        let mut conn = self.pool.acquire().await?;
        let versions = resolve(&mut conn, action).await?;
        let mut out = Vec::with_capacity(versions.len());
        for v in versions {
            let row = sqlx::query("SELECT active, msg_pending FROM versions WHERE id = $1")
                .bind(v.id)
                .fetch_one(&mut *conn)
                .await?;
            let uncertain = if action.kind == EndKind::Stop {
                count_uncertain(&mut conn, v.id).await?
            } else {
                0
            };
            let (overdue, overdue_since) = match action.kind {
                EndKind::Resume(_) => {
                    super::pause::count_overdue(&mut conn, self.backend, v.id).await?
                }
                _ => (0, None),
            };
            out.push(VersionImpact {
                uncertain,
                overdue,
                overdue_since,
                ..VersionImpact::of(&v, row.try_get("active")?, row.try_get("msg_pending")?)
            });
        }
        Ok(Impact { versions: out })
    }

    /// Executes a confirmed action: every version changes, or none does.
    pub async fn execute(
        &self,
        action: &OperatorAction,
        actor: &Actor,
        now: Millis,
    ) -> Result<Outcome> {
        self.execute_watching(action, actor, now, &|_| {}).await
    }

    /// Executes a confirmed action. It never gives up because the store is
    /// busy: it waits its turn (telling `watch` after a second), and on
    /// SQLite goes before the next batch of any engine or worker. A stop
    /// that finds deliveries of its versions in flight closes their gates
    /// and waits for them (telling `watch` how many), so none is in flight
    /// when it commits.
    pub async fn execute_watching(
        &self,
        action: &OperatorAction,
        actor: &Actor,
        now: Millis,
        watch: &(dyn Fn(Waiting) + Sync),
    ) -> Result<Outcome> {
        actor.refuse_control()?;
        if let Some(r) = &action.reason {
            crate::domain::text::refuse_control("--reason", r, true).map_err(Error::Invalid)?;
        }
        // Most stops find no delivery in flight and commit in their first
        // transaction, in their turn behind the version's lock. One that
        // finds some closes the gates, waits for them, and tries again.
        let mut gated: Vec<i64> = Vec::new();
        // What each gated version had sent when its gate closed: the
        // outcome says how many went out while the action waited.
        let mut sent_before: HashMap<i64, i64> = HashMap::new();
        loop {
            let attempt = self.in_turn(watch, || {
                self.execute_once(action, actor, now, &sent_before)
            });
            match attempt.await {
                Err(Error::InFlight(_)) => {
                    let ids: Vec<i64> = {
                        let mut conn = self.pool.acquire().await?;
                        resolve(&mut conn, action)
                            .await?
                            .iter()
                            .map(|v| v.id)
                            .collect()
                    };
                    self.in_turn(watch, || self.close_gates(&ids)).await?;
                    for (id, sent) in self.sent_so_far(&ids).await? {
                        sent_before.entry(id).or_insert(sent);
                    }
                    gated = ids;
                    // Still first in line on SQLite while it waits: the
                    // workers' records of those deliveries then never
                    // compete with engine batches for the file.
                    let first = self.operator_first().await?;
                    let waited = self
                        .wait_in_flight(&gated, &|n| watch(Waiting::Deliveries(n)))
                        .await;
                    drop(first);
                    if let Err(e) = waited {
                        let _ = self.open_gates(&gated).await;
                        return Err(e);
                    }
                }
                Err(e) => {
                    // Refused: deliveries of the versions go on.
                    if !gated.is_empty() {
                        let _ = self.open_gates(&gated).await;
                    }
                    return Err(e);
                }
                ok => return ok,
            }
        }
    }

    async fn execute_once(
        &self,
        action: &OperatorAction,
        actor: &Actor,
        now: Millis,
        sent_before: &HashMap<i64, i64>,
    ) -> Result<Outcome> {
        let mut tx = self.begin_write().await?;
        let versions = resolve(&mut tx, action).await?;
        let mut done = Vec::with_capacity(versions.len());
        for v in &versions {
            let change = Change {
                sent_before: sent_before.get(&v.id).copied(),
                ..Change::new(actor, action.reason.as_deref(), now)
            };
            done.push(end_version(&mut tx, self.backend, v, action.kind, change).await?);
        }
        tx.commit().await?;
        Ok(Outcome {
            kind: action.kind,
            versions: done,
            at: now,
        })
    }
}

/// Moves one version: the one transition function, for operators, publish
/// and date rules. It locks and reads the version row first, so when
/// another operator got there first the action is refused with their story,
/// and the audit row says the status the change really came from.
pub(crate) async fn end_version(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    v: &VersionInfo,
    kind: EndKind,
    change: Change<'_>,
) -> Result<VersionImpact> {
    let to = kind.target_status().unwrap_or(v.status);
    let row = super::lock_version_row(tx, backend, v.id)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    let v = &version_info(&row)?;
    if v.status.refusal(kind).is_some() || hold_refusal(v, kind).is_some() {
        return Err(refusal(v, kind));
    }
    if matches!(kind, EndKind::Pause(_) | EndKind::Resume(_)) {
        return hold_version(tx, backend, v, kind, change).await;
    }
    if kind == EndKind::Stop {
        let n = super::gate::count_in_flight(tx, backend, v.id).await?;
        if n > 0 {
            return Err(Error::InFlight(n));
        }
    }
    let row = if kind == EndKind::Finish {
        sqlx::query(
            "UPDATE versions SET status = 'finished', status_at = $2, status_by = $3, status_host = $4 \
             WHERE id = $1 AND status = 'live' RETURNING active, msg_pending, msg_sent",
        )
    } else {
        sqlx::query(
            "UPDATE versions SET status = 'stopped', status_at = $2, status_by = $3, status_host = $4, \
             gate_until = NULL, paused_at = NULL, paused_until = NULL, paused_on_expiry = NULL, \
             paused_by = NULL WHERE id = $1 AND status IN ('live', 'finished') \
             RETURNING active, msg_pending, msg_sent",
        )
    }
    .bind(v.id)
    .bind(change.now)
    .bind(&change.actor.name)
    .bind(&change.actor.host)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        let current = sqlx::query(concat!(select_version_info!(), "WHERE v.id = $1"))
            .bind(v.id)
            .fetch_one(&mut **tx)
            .await?;
        let current = version_info(&current)?;
        return Err(refusal(&current, kind));
    };
    let active: i64 = row.try_get("active")?;
    let pending: i64 = row.try_get("msg_pending")?;
    let sent_waiting = change
        .sent_before
        .map(|b| row.try_get::<i64, _>("msg_sent").map(|s| s - b));
    let sent_waiting = sent_waiting.transpose()?;
    let messages = match kind {
        EndKind::Stop => Some(MessageFigures {
            sent_waiting,
            ..move_stopped_counters(tx, v.id).await?
        }),
        _ => None,
    };
    let audit = AuditChange {
        action: kind.verb(),
        version: v,
        from: v.status.as_str(),
        to: to.as_str(),
        reason: change.reason,
        affected_active: active,
        messages,
    };
    insert_audit(tx, change.now, change.actor, audit).await?;
    Ok(VersionImpact {
        uncertain: messages.map_or(0, |m| m.cancelled_uncertain),
        sent_waiting,
        ..VersionImpact::of(v, active, pending)
    })
}

/// The stop's whole cost: a version row and its per-action rows.
/// Participant rows still marked active, and outbox rows still pending, are
/// stopped and cancelled by the version's status from this commit on (see
/// the *_effective views); the engine sweeps them later in small batches.
/// What it cancelled, and how many of those may have arrived.
pub(crate) async fn move_stopped_counters(
    tx: &mut Transaction<'static, Any>,
    id: i64,
) -> Result<MessageFigures> {
    let uncertain = count_uncertain(tx, id).await?;
    let cancelled: i64 = sqlx::query_scalar("SELECT msg_pending FROM versions WHERE id = $1")
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    sqlx::query(
        "UPDATE versions SET stopped = stopped + active, active = 0, \
         msg_cancelled = msg_cancelled + msg_pending, msg_pending = 0, swept = 0 WHERE id = $1",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE outbox_actions SET cancelled = cancelled + pending, pending = 0, retrying = 0 \
         WHERE version_id = $1",
    )
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(MessageFigures {
        cancelled: Some(cancelled),
        cancelled_uncertain: uncertain,
        sent_waiting: None,
        overdue: None,
    })
}

/// Pending messages of the version whose last attempt had no answer, or
/// whose claim ran out unrecorded (a worker that died holding it): they
/// may have arrived. Read through the two partial indexes, so its cost is
/// the number of such messages.
pub(crate) async fn count_uncertain(conn: &mut sqlx::AnyConnection, id: i64) -> Result<i64> {
    // Each predicate is exactly its partial index's, so no plan reads the
    // version's other messages.
    Ok(sqlx::query_scalar(
        "SELECT (SELECT CAST(COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0) AS BIGINT) \
           FROM outbox WHERE version_id = $1 AND uncertain = 1) \
         + (SELECT CAST(COALESCE(SUM(CASE WHEN uncertain = 0 AND state = 'pending' THEN 1 ELSE 0 END), 0) AS BIGINT) \
           FROM outbox WHERE version_id = $1 AND claimed_until IS NOT NULL)",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?)
}

pub(crate) fn refusal(v: &VersionInfo, kind: EndKind) -> Error {
    let why = v
        .status
        .refusal(kind)
        .map(str::to_string)
        .or_else(|| hold_refusal(v, kind))
        .unwrap_or_else(|| "it changed meanwhile".into());
    Error::Refused(format!(
        "cannot {} {}: {} ({} {})",
        kind.verb(),
        v.label(),
        why,
        v.status,
        v.by_story()
    ))
}

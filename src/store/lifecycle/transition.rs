//! The one transition function: every change of a version's status or
//! hold goes through `transition`, which locks and reads the version row
//! first, so when another operator got there first the change is refused
//! with their story, and the audit row says the status the change really
//! came from. An operator's finish, stop, pause and resume, a publish, and
//! a hold that runs out are its moves.

use sqlx::Row;

use crate::domain::{ActionKind, AuditAction, Millis, OnExpiry, VersionStatus};
use crate::store::lifecycle::change::{
    Change, VersionImpact, Write, hold_refusal, move_stopped_counters, refusal,
};
use crate::store::lifecycle::pause::hold_version;
use crate::store::{
    Actor, AuditChange, Error, MessageFigures, Refusal, Result, Store, VersionInfo, insert_audit,
    select_version_info, version_info,
};

/// What moves a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transition {
    /// An operator's (or a guardrail's) finish, stop, pause or resume.
    Act(ActionKind),
    /// The draft goes live.
    Publish,
    /// The version's hold ran out: its rule applies.
    HoldExpired(OnExpiry),
}

/// Moves one version (see the module's comment).
pub(crate) async fn transition(w: Write<'_, '_>, id: i64, mv: Transition) -> Result<VersionImpact> {
    let row = crate::store::order::lock_version_row(w.tx, w.backend, id, w.turn)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    // On a cluster, under the buckets' fences: the figures a change
    // reports and a stop moves include the buckets' unfolded shares.
    crate::store::figures::shares::take_for_change(w.tx, w.backend, id).await?;
    let v = &version_info(&row)?;
    match mv {
        Transition::Act(kind) => act(w, v, kind).await,
        Transition::Publish => publish(w, v).await,
        Transition::HoldExpired(rule) => match &v.paused {
            Some(p) if p.until <= w.change.now && p.on_expiry == rule && v.status.runs_steps() => {
                expire(w, v, rule).await
            }
            // Resumed, stopped or held anew meanwhile.
            _ => Err(Error::Refused(Refusal::ChangedMeanwhile {
                verb: "expire the hold of",
                version: v.label(),
            })),
        },
    }
}

/// The draft goes live.
async fn publish(w: Write<'_, '_>, v: &VersionInfo) -> Result<VersionImpact> {
    let Write { tx, change, .. } = w;
    if v.status != VersionStatus::Draft {
        return Err(Error::Refused(Refusal::PublishedMeanwhile {
            version: v.label(),
        }));
    }
    sqlx::query(
        "UPDATE versions SET status = 'live', status_at = $2, status_by = $3, status_host = $4, \
         last_activity_at = $2 WHERE id = $1 AND status = 'draft'",
    )
    .bind(v.id)
    .bind(change.now)
    .bind(&change.actor.name)
    .bind(&change.actor.host)
    .execute(&mut **tx)
    .await?;
    let audit = AuditChange {
        action: AuditAction::Publish,
        version: v,
        from: v.status.as_str(),
        to: VersionStatus::Live.as_str(),
        reason: change.reason,
        affected_active: 0,
        messages: None,
        incident: None,
    };
    insert_audit(tx, change.now, change.actor, audit).await?;
    Ok(VersionImpact::of(v, 0, 0))
}

/// An operator's action on a version whose row this transaction has
/// locked and read: a finish or stop here, a pause or resume by the hold.
async fn act(w: Write<'_, '_>, v: &VersionInfo, kind: ActionKind) -> Result<VersionImpact> {
    let to = kind.target_status().unwrap_or(v.status);
    if v.status.refusal(kind).is_some() || hold_refusal(v, kind).is_some() {
        return Err(refusal(v, kind));
    }
    if matches!(kind, ActionKind::Pause(_) | ActionKind::Resume(_)) {
        return hold_version(w, v, kind).await;
    }
    let Write {
        tx,
        backend,
        change,
        ..
    } = w;
    if kind == ActionKind::Stop {
        let n = crate::store::order::gate::count_in_flight(tx, backend, v.id).await?;
        if n > 0 {
            return Err(Error::InFlight(n));
        }
    }
    let row = if kind == ActionKind::Finish {
        sqlx::query(
            "UPDATE versions SET status = 'finished', status_at = $2, status_by = $3, status_host = $4 \
             WHERE id = $1 AND status = 'live' RETURNING active, msg_pending, msg_sent",
        )
    } else {
        sqlx::query(
            "UPDATE versions SET status = 'stopped', status_at = $2, status_by = $3, status_host = $4, \
             gate_until = NULL, paused_at = NULL, paused_until = NULL, paused_on_expiry = NULL, \
             paused_by = NULL, paused_incident = NULL WHERE id = $1 AND status IN ('live', 'finished') \
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
        ActionKind::Stop => Some(MessageFigures {
            sent_waiting,
            ..move_stopped_counters(tx, v.id).await?
        }),
        _ => None,
    };
    let audit = AuditChange {
        action: AuditAction::of(kind),
        version: v,
        from: v.status.as_str(),
        to: to.as_str(),
        reason: change.reason,
        affected_active: active,
        messages,
        incident: change.incident,
    };
    insert_audit(tx, change.now, change.actor, audit).await?;
    Ok(VersionImpact {
        uncertain: messages.map_or(0, |m| m.cancelled_uncertain),
        sent_waiting,
        ..VersionImpact::of(v, active, pending)
    })
}

impl Store {
    /// Applies the rule of every hold that has run out by `now`: a stop or
    /// a resume, audited as `hold_expired` by `schedule`. The versions it
    /// ended or resumed.
    pub(crate) async fn expire_holds(&self, now: Millis) -> Result<Vec<String>> {
        let rows = sqlx::query(concat!(
            select_version_info!(),
            "WHERE v.paused_until IS NOT NULL AND v.paused_until <= $1 \
             AND v.status IN ('live', 'finished') ORDER BY v.id"
        ))
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        let actor = Actor::schedule();
        for row in rows {
            let v = version_info(&row)?;
            let Some(rule) = v.paused.as_ref().map(|p| p.on_expiry) else {
                continue;
            };
            let mut tx = self.begin_background_write().await?;
            let reason = format!("hold expired: {}", rule.as_str());
            let change = Change::new(&actor, Some(&reason), now);
            let w = Write::new(&mut tx, self.backend(), change);
            match transition(w, v.id, Transition::HoldExpired(rule)).await {
                Ok(_) => {
                    tx.commit().await?;
                    self.announce_status().await;
                    out.push(format!("{}: hold expired, {}", v.label(), rule.as_str()));
                }
                Err(Error::Refused(_)) => tx.rollback().await?,
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}

/// One expired hold: the rule applied and one audit row. A paused version
/// has no delivery in flight (no claim starts while it is paused).
async fn expire(w: Write<'_, '_>, v: &VersionInfo, rule: OnExpiry) -> Result<VersionImpact> {
    let Write { tx, change, .. } = w;
    let (actor, now) = (change.actor, change.now);
    // The active participants at the moment of the change: those a stop
    // stops, those a resume lets go on.
    let affected: i64 = sqlx::query_scalar("SELECT active FROM versions WHERE id = $1")
        .bind(v.id)
        .fetch_one(&mut **tx)
        .await?;
    let mut figures = None;
    let to = match rule {
        OnExpiry::Stop => {
            sqlx::query(
                "UPDATE versions SET status = 'stopped', status_at = $2, status_by = $3, status_host = $4, \
                 paused_at = NULL, paused_until = NULL, paused_on_expiry = NULL, paused_by = NULL, \
                 paused_incident = NULL, gate_until = NULL WHERE id = $1",
            )
            .bind(v.id)
            .bind(now)
            .bind(&actor.name)
            .bind(&actor.host)
            .execute(&mut **tx)
            .await?;
            figures = Some(move_stopped_counters(tx, v.id).await?);
            "stopped"
        }
        OnExpiry::Resume => {
            sqlx::query(
                "UPDATE versions SET paused_at = NULL, paused_until = NULL, paused_on_expiry = NULL, \
                 paused_by = NULL, paused_incident = NULL WHERE id = $1",
            )
            .bind(v.id)
            .execute(&mut **tx)
            .await?;
            v.status.as_str()
        }
    };
    let audit = AuditChange {
        action: AuditAction::HoldExpired,
        version: v,
        from: "paused",
        to,
        reason: change.reason,
        affected_active: affected,
        messages: figures,
        incident: None,
    };
    insert_audit(tx, now, actor, audit).await?;
    Ok(VersionImpact::of(v, affected, 0))
}

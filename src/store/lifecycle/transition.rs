//! The one transition function: every change of a version's status or
//! hold goes through `transition`, which locks and reads the version row
//! first, so when another operator got there first the change is refused
//! with their story, and the audit row says the status the change really
//! came from. An operator's finish, stop, pause and resume, a publish, and
//! a hold that runs out are its moves.

use std::collections::HashMap;

use sqlx::Row;

use crate::domain::{ActionKind, AuditAction, Millis, OnExpiry, VersionStatus};
use crate::store::dialect::id_list;
use crate::store::lifecycle::audit::insert_audits;
use crate::store::lifecycle::change::{
    Change, VersionImpact, Write, hold_refusal, move_stopped_counters, refusal,
};
use crate::store::lifecycle::pause::hold_versions;
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
    if let Transition::Act(kind) = mv {
        let mut done = act_on(w, &[id], kind).await?;
        return done.pop().ok_or_else(|| sqlx::Error::RowNotFound.into());
    }
    change_one(w, id, mv).await
}

/// A publish or a hold that ran out: one version, locked and read.
async fn change_one(w: Write<'_, '_>, id: i64, mv: Transition) -> Result<VersionImpact> {
    let row = crate::store::order::lock_version_row(w.tx, w.backend, id, w.turn)
        .await?
        .ok_or(sqlx::Error::RowNotFound)?;
    // On a cluster, under the buckets' fences: the figures a change
    // reports and a stop moves include the buckets' unfolded shares.
    crate::store::figures::shares::take_for_change(w.tx, w.backend, id).await?;
    let v = &version_info(&row)?;
    match mv {
        Transition::Act(kind) => Err(Error::Invalid(format!(
            "{} is not a change of one version",
            kind.verb()
        ))),
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

/// An operator's action on a set of versions (one, a journey's, an
/// action's, the whole store's): their turns and rows locked and read at
/// once, each checked against the rules, then changed together, in a
/// handful of statements whatever their number. Every version changes,
/// or the first refused says why.
pub(crate) async fn act_on(
    w: Write<'_, '_>,
    ids: &[i64],
    kind: ActionKind,
) -> Result<Vec<VersionImpact>> {
    if matches!(kind, ActionKind::Stop | ActionKind::Pause(_)) {
        // Deliveries in flight send it round (see `gate.rs`): known before
        // it waits for any lock, the attempt costs little. Counted again
        // under the row locks below.
        let n = crate::store::order::gate::count_in_flight(w.tx, w.backend, ids).await?;
        if n > 0 {
            return Err(Error::InFlight(n));
        }
    }
    let rows = crate::store::order::lock_version_rows(w.tx, w.backend, ids, w.turn).await?;
    let mut found = HashMap::with_capacity(rows.len());
    for row in &rows {
        let v = version_info(row)?;
        found.insert(v.id, v);
    }
    // As for one version: under the fences, the unfolded shares.
    let locked: Vec<i64> = found.keys().copied().collect();
    crate::store::figures::shares::take_for_changes(w.tx, w.backend, &locked).await?;
    // In the order the action named them.
    let mut vs = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(v) = found.remove(id) else {
            tracing::warn!("version id {id} is gone");
            return Err(sqlx::Error::RowNotFound.into());
        };
        vs.push(v);
    }
    for v in &vs {
        if v.status.refusal(kind).is_some() || hold_refusal(v, kind).is_some() {
            return Err(refusal(v, kind));
        }
    }
    if matches!(kind, ActionKind::Pause(_) | ActionKind::Resume(_)) {
        return hold_versions(w, &vs, kind).await;
    }
    end_versions(w, &vs, kind).await
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

/// A finish or stop of versions whose rows this transaction has locked
/// and read: one conditional update of them all, and an audit row each.
async fn end_versions(
    w: Write<'_, '_>,
    vs: &[VersionInfo],
    kind: ActionKind,
) -> Result<Vec<VersionImpact>> {
    let Write {
        tx,
        backend,
        change,
        ..
    } = w;
    let ids: Vec<i64> = vs.iter().map(|v| v.id).collect();
    if kind == ActionKind::Stop {
        let n = crate::store::order::gate::count_in_flight(tx, backend, &ids).await?;
        if n > 0 {
            return Err(Error::InFlight(n));
        }
    }
    let counts = end_update(tx, &ids, kind, change).await?;
    for v in vs {
        if !counts.contains_key(&v.id) {
            let current = sqlx::query(concat!(select_version_info!(), "WHERE v.id = $1"))
                .bind(v.id)
                .fetch_one(&mut **tx)
                .await?;
            return Err(refusal(&version_info(&current)?, kind));
        }
    }
    let mut stopped = match kind {
        ActionKind::Stop => move_stopped_counters(tx, &ids).await?,
        _ => HashMap::new(),
    };
    let to = kind.target_status().unwrap_or(VersionStatus::Stopped);
    let mut audits = Vec::with_capacity(vs.len());
    let mut done = Vec::with_capacity(vs.len());
    for v in vs {
        let (active, pending, sent) = counts[&v.id];
        let sent_waiting = change.sent_before(v.id).map(|b| sent - b);
        let messages = stopped
            .remove(&v.id)
            .map(|m| MessageFigures { sent_waiting, ..m });
        audits.push(AuditChange {
            action: AuditAction::of(kind),
            version: v,
            from: v.status.as_str(),
            to: to.as_str(),
            reason: change.reason,
            affected_active: active,
            messages,
            incident: change.incident,
        });
        done.push(VersionImpact {
            uncertain: messages.map_or(0, |m| m.cancelled_uncertain),
            sent_waiting,
            ..VersionImpact::of(v, active, pending)
        });
    }
    insert_audits(tx, change.now, change.actor, &audits).await?;
    Ok(done)
}

/// The finish's or stop's one conditional update of the version rows:
/// each one's active, pending and sent as they were; those that changed
/// meanwhile are left out.
async fn end_update(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    ids: &[i64],
    kind: ActionKind,
    change: Change<'_>,
) -> Result<HashMap<i64, (i64, i64, i64)>> {
    let list = id_list(ids);
    let sql = if kind == ActionKind::Finish {
        format!(
            "UPDATE versions SET status = 'finished', status_at = $1, status_by = $2, status_host = $3 \
             WHERE id IN ({list}) AND status = 'live' RETURNING id, active, msg_pending, msg_sent"
        )
    } else {
        format!(
            "UPDATE versions SET status = 'stopped', status_at = $1, status_by = $2, status_host = $3, \
             gate_until = NULL, paused_at = NULL, paused_until = NULL, paused_on_expiry = NULL, \
             paused_by = NULL, paused_incident = NULL WHERE id IN ({list}) AND status IN ('live', 'finished') \
             RETURNING id, active, msg_pending, msg_sent"
        )
    };
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(change.now)
        .bind(&change.actor.name)
        .bind(&change.actor.host)
        .fetch_all(&mut **tx)
        .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        let counts = (
            row.try_get("active")?,
            row.try_get("msg_pending")?,
            row.try_get("msg_sent")?,
        );
        out.insert(row.try_get::<i64, _>("id")?, counts);
    }
    Ok(out)
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
            figures = move_stopped_counters(tx, &[v.id]).await?.remove(&v.id);
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

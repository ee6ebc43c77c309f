//! Pause and resume (SPEC §2 rules 11-12): a hold over a live or finished
//! version, one conditional update of its row, and the engine applying the
//! rule when a hold runs out.

use sqlx::{Any, Row, Transaction};

use super::lifecycle::{Change, VersionImpact, move_stopped_counters};
use super::{
    Actor, AuditChange, Backend, Error, MessageFigures, Result, Store, VersionInfo, insert_audit,
    select_version_info, version_info,
};
use crate::domain::time::to_rfc3339;
use crate::domain::{EndKind, Millis, OnExpiry, Overdue};

/// Why a pause or resume cannot act on a version in its hold state.
pub(crate) fn hold_refusal(v: &VersionInfo, kind: EndKind) -> Option<String> {
    match (kind, &v.paused) {
        (EndKind::Pause(_), Some(p)) => Some(format!(
            "it is already paused by {} since {}, until {} (then {})",
            p.by,
            to_rfc3339(p.since),
            to_rfc3339(p.until),
            p.on_expiry.as_str()
        )),
        (EndKind::Resume(_), None) => Some("it is not paused".into()),
        _ => None,
    }
}

/// Pauses or resumes one version whose row this transaction has locked and
/// read (`v`): one conditional update and one audit row.
pub(crate) async fn hold_version(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    v: &VersionInfo,
    kind: EndKind,
    change: Change<'_>,
) -> Result<VersionImpact> {
    let Change {
        actor,
        reason,
        now,
        sent_before,
    } = change;
    let overdue = match kind {
        EndKind::Resume(o) => Some((o, count_overdue(tx, backend, v.id).await?.0)),
        _ => None,
    };
    let row = hold_update(tx, backend, v.id, kind, change).await?;
    let Some(row) = row else {
        return Err(Error::Refused(format!(
            "cannot {} {}: it changed meanwhile",
            kind.verb(),
            v.label()
        )));
    };
    let active: i64 = row.try_get("active")?;
    let (from, to) = if kind.is_pause() {
        (v.status.as_str(), "paused")
    } else {
        ("paused", v.status.as_str())
    };
    let sent_waiting = match sent_before {
        Some(b) => Some(row.try_get::<i64, _>("msg_sent")? - b),
        None => None,
    };
    let audit = AuditChange {
        action: kind.verb(),
        version: v,
        from,
        to,
        reason,
        affected_active: active,
        messages: Some(MessageFigures {
            sent_waiting,
            overdue,
            ..MessageFigures::default()
        }),
    };
    insert_audit(tx, now, actor, audit).await?;
    Ok(VersionImpact {
        sent_waiting,
        overdue: overdue.map_or(0, |(_, n)| n),
        ..VersionImpact::of(v, active, row.try_get("msg_pending")?)
    })
}

/// The pause's or resume's one conditional update of the version row:
/// its counts as they were, or `None` when the hold changed meanwhile.
async fn hold_update(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    id: i64,
    kind: EndKind,
    change: Change<'_>,
) -> Result<Option<sqlx::any::AnyRow>> {
    let now = change.now;
    let resume_sql: String;
    let query = match kind {
        EndKind::Pause(hold) => {
            let n = super::gate::count_in_flight(tx, backend, id).await?;
            if n > 0 {
                return Err(Error::InFlight(n));
            }
            sqlx::query(
                "UPDATE versions SET paused_at = $2, paused_until = $3, paused_on_expiry = $4, \
                 paused_by = $5, gate_until = NULL \
                 WHERE id = $1 AND paused_at IS NULL AND status IN ('live', 'finished') \
                 RETURNING active, msg_pending, msg_sent",
            )
            .bind(id)
            .bind(now)
            .bind(now.saturating_add(hold.millis))
            .bind(hold.on_expiry.as_str())
            .bind(&change.actor.name)
        }
        EndKind::Resume(overdue) => {
            let (mode, spread) = match overdue {
                Overdue::Send => (None, None),
                Overdue::Skip => (Some("skip"), None),
                Overdue::Spread(ms) => (Some("spread"), Some(ms)),
            };
            resume_sql = format!(
                "UPDATE versions SET paused_at = NULL, paused_until = NULL, paused_on_expiry = NULL, \
                 paused_by = NULL, overdue_mode = $2, overdue_before = {}, overdue_spread_ms = $3 \
                 WHERE id = $1 AND paused_at IS NOT NULL \
                 AND status IN ('live', 'finished') RETURNING active, msg_pending, msg_sent",
                backend.db_now()
            );
            sqlx::query(sqlx::AssertSqlSafe(resume_sql.as_str()))
                .bind(id)
                .bind(mode)
                .bind(spread)
        }
        _ => {
            return Err(Error::Invalid(format!(
                "{} is not a pause or resume",
                kind.verb()
            )));
        }
    };
    Ok(query.fetch_optional(&mut **tx).await?)
}

/// The version's pending messages already due (they fell due during its
/// hold), and when the oldest did; read through the due index, so its
/// cost is the number of such messages.
pub(crate) async fn count_overdue(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    id: i64,
) -> Result<(i64, Option<Millis>)> {
    let sql = format!(
        "SELECT COUNT(*) AS n, MIN(next_at) AS oldest FROM outbox \
         WHERE version_id = $1 AND state = 'pending' AND next_at <= {}",
        backend.db_now()
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    Ok((row.try_get("n")?, row.try_get("oldest")?))
}

impl Store {
    /// A guardrail's pause of one version: the operators' pause (its hold
    /// the default, 3 days then stop), audited with actor `guardrail` and
    /// the rule's figures as its reason. `false` when it was already paused
    /// or no longer runs.
    pub async fn pause_by_guardrail(
        &self,
        journey: &str,
        version: i64,
        reason: &str,
        now: Millis,
    ) -> Result<bool> {
        let action = super::OperatorAction {
            kind: EndKind::Pause(crate::domain::Hold::default()),
            target: super::Target::Version {
                journey: journey.to_string(),
                version: Some(version),
            },
            reason: Some(reason.to_string()),
        };
        let actor = Actor::new("guardrail", super::this_host());
        match self.execute(&action, &actor, now).await {
            Ok(_) => Ok(true),
            Err(Error::Refused(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

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
        for row in rows {
            let id = version_info(&row)?.id;
            let mut tx = self.begin_background_write().await?;
            let locked = super::lock_version_row(&mut tx, self.backend, id).await?;
            let v = version_info(&locked.ok_or(sqlx::Error::RowNotFound)?)?;
            match &v.paused {
                Some(p) if p.until <= now && v.status.runs_steps() => {
                    let rule = p.on_expiry;
                    expire(&mut tx, &v, rule, now).await?;
                    tx.commit().await?;
                    out.push(format!("{}: hold expired, {}", v.label(), rule.as_str()));
                }
                // Resumed or stopped meanwhile.
                _ => tx.rollback().await?,
            }
        }
        Ok(out)
    }
}

/// One expired hold: the rule applied and one audit row. A paused version
/// has no delivery in flight (no claim starts while it is paused).
async fn expire(
    tx: &mut Transaction<'static, Any>,
    v: &VersionInfo,
    rule: OnExpiry,
    now: Millis,
) -> Result<()> {
    let actor = Actor::schedule();
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
                 gate_until = NULL WHERE id = $1",
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
                 paused_by = NULL WHERE id = $1",
            )
            .bind(v.id)
            .execute(&mut **tx)
            .await?;
            v.status.as_str()
        }
    };
    let reason = format!("hold expired: {}", rule.as_str());
    let change = AuditChange {
        action: "hold_expired",
        version: v,
        from: "paused",
        to,
        reason: Some(&reason),
        affected_active: affected,
        messages: figures,
    };
    insert_audit(tx, now, &actor, change).await
}

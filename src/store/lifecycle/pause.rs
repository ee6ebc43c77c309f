//! Pause and resume (SPEC §2 rules 11-12): a hold over a live or finished
//! version, one conditional update of its row. The transition function
//! (`transition.rs`) calls it, and applies the rule when a hold runs out.

use sqlx::{Any, Row, Transaction};

use crate::domain::{ActionKind, AuditAction, Millis, Overdue};
use crate::store::lifecycle::change::{Change, VersionImpact, Write};
use crate::store::{
    AuditChange, Backend, Error, MessageFigures, Result, VersionInfo, insert_audit,
};

/// Pauses or resumes one version whose row this transaction has locked and
/// read (`v`): one conditional update and one audit row.
pub(crate) async fn hold_version(
    w: Write<'_, '_>,
    v: &VersionInfo,
    kind: ActionKind,
) -> Result<VersionImpact> {
    let Write {
        tx,
        backend,
        change,
        ..
    } = w;
    let Change {
        actor,
        reason,
        now,
        sent_before,
        incident,
    } = change;
    let overdue = match kind {
        ActionKind::Resume(o) => Some((o, count_overdue(tx, backend, v.id).await?.0)),
        _ => None,
    };
    let row = hold_update(tx, backend, v.id, kind, change).await?;
    let Some(row) = row else {
        return Err(Error::Refused(crate::store::Refusal::ChangedMeanwhile {
            verb: kind.verb(),
            version: v.label(),
        }));
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
        action: AuditAction::of(kind),
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
        incident,
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
    kind: ActionKind,
    change: Change<'_>,
) -> Result<Option<sqlx::any::AnyRow>> {
    let now = change.now;
    let resume_sql: String;
    let query = match kind {
        ActionKind::Pause(hold) => {
            let n = crate::store::order::gate::count_in_flight(tx, backend, id).await?;
            if n > 0 {
                return Err(Error::InFlight(n));
            }
            sqlx::query(
                "UPDATE versions SET paused_at = $2, paused_until = $3, paused_on_expiry = $4, \
                 paused_by = $5, paused_incident = $6, gate_until = NULL \
                 WHERE id = $1 AND paused_at IS NULL AND status IN ('live', 'finished') \
                 RETURNING active, msg_pending, msg_sent",
            )
            .bind(id)
            .bind(now)
            .bind(now.saturating_add(hold.millis))
            .bind(hold.on_expiry.as_str())
            .bind(&change.actor.name)
            .bind(change.incident)
        }
        ActionKind::Resume(overdue) => {
            let (mode, spread) = match overdue {
                Overdue::Send => (None, None),
                Overdue::Skip => (Some("skip"), None),
                Overdue::Spread(ms) => (Some("spread"), Some(ms)),
            };
            resume_sql = format!(
                "UPDATE versions SET paused_at = NULL, paused_until = NULL, paused_on_expiry = NULL, \
                 paused_by = NULL, paused_incident = NULL, overdue_mode = $2, overdue_before = {}, overdue_spread_ms = $3 \
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
        "SELECT COUNT(*) AS n, \
         MIN(CASE WHEN next_at > created_at THEN next_at ELSE created_at END) AS oldest FROM outbox \
         WHERE version_id = $1 AND state = 'pending' AND next_at <= {}",
        backend.db_now()
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    Ok((row.try_get("n")?, row.try_get("oldest")?))
}

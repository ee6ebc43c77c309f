//! Pause and resume (SPEC §2 rules 11-12): a hold over a live or finished
//! version, one conditional update of its row. The transition function
//! (`transition.rs`) calls it for the versions of one action at once, and
//! applies the rule when a hold runs out.

use std::collections::HashMap;

use sqlx::{Any, Row, Transaction};

use crate::domain::{ActionKind, AuditAction, Millis, Overdue};
use crate::store::dialect::id_list;
use crate::store::lifecycle::audit::insert_audits;
use crate::store::lifecycle::change::{Change, VersionImpact, Write};
use crate::store::{AuditChange, Backend, Error, MessageFigures, Result, VersionInfo};

/// Pauses or resumes the versions whose rows this transaction has locked
/// and read (`vs`): one conditional update of them all and an audit row
/// each.
pub(crate) async fn hold_versions(
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
    let overdue = match kind {
        ActionKind::Resume(_) => count_overdue(tx, backend, &ids).await?,
        _ => HashMap::new(),
    };
    let rows = hold_update(tx, backend, &ids, kind, change).await?;
    let mut counts = HashMap::with_capacity(rows.len());
    for row in &rows {
        let figures: (i64, i64, i64) = (
            row.try_get("active")?,
            row.try_get("msg_pending")?,
            row.try_get("msg_sent")?,
        );
        counts.insert(row.try_get::<i64, _>("id")?, figures);
    }
    let mut audits = Vec::with_capacity(vs.len());
    let mut done = Vec::with_capacity(vs.len());
    for v in vs {
        let Some(&(active, pending, sent)) = counts.get(&v.id) else {
            return Err(Error::Refused(crate::store::Refusal::ChangedMeanwhile {
                verb: kind.verb(),
                version: v.label(),
            }));
        };
        let (from, to) = if kind.is_pause() {
            (v.status.as_str(), "paused")
        } else {
            ("paused", v.status.as_str())
        };
        let sent_waiting = change.sent_before(v.id).map(|b| sent - b);
        let overdue = match kind {
            ActionKind::Resume(o) => Some((o, overdue.get(&v.id).map_or(0, |n| n.0))),
            _ => None,
        };
        audits.push(AuditChange {
            action: AuditAction::of(kind),
            version: v,
            from,
            to,
            reason: change.reason,
            affected_active: active,
            messages: Some(MessageFigures {
                sent_waiting,
                overdue,
                ..MessageFigures::default()
            }),
            incident: change.incident,
        });
        done.push(VersionImpact {
            sent_waiting,
            overdue: overdue.map_or(0, |(_, n)| n),
            ..VersionImpact::of(v, active, pending)
        });
    }
    insert_audits(tx, change.now, change.actor, &audits).await?;
    Ok(done)
}

/// The pause's or resume's one conditional update of the version rows:
/// their counts as they were; those whose hold changed meanwhile are
/// left out.
async fn hold_update(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    ids: &[i64],
    kind: ActionKind,
    change: Change<'_>,
) -> Result<Vec<sqlx::any::AnyRow>> {
    let list = id_list(ids);
    let sql: String;
    let query = match kind {
        ActionKind::Pause(hold) => {
            let n = crate::store::order::gate::count_in_flight(tx, backend, ids).await?;
            if n > 0 {
                return Err(Error::InFlight(n));
            }
            sql = format!(
                "UPDATE versions SET paused_at = $1, paused_until = $2, paused_on_expiry = $3, \
                 paused_by = $4, paused_incident = $5, gate_until = NULL \
                 WHERE id IN ({list}) AND paused_at IS NULL AND status IN ('live', 'finished') \
                 RETURNING id, active, msg_pending, msg_sent"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(change.now)
                .bind(change.now.saturating_add(hold.millis))
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
            sql = format!(
                "UPDATE versions SET paused_at = NULL, paused_until = NULL, paused_on_expiry = NULL, \
                 paused_by = NULL, paused_incident = NULL, overdue_mode = $1, overdue_before = {}, overdue_spread_ms = $2 \
                 WHERE id IN ({list}) AND paused_at IS NOT NULL \
                 AND status IN ('live', 'finished') RETURNING id, active, msg_pending, msg_sent",
                backend.db_now()
            );
            sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
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
    Ok(query.fetch_all(&mut **tx).await?)
}

/// Each version's pending messages already due (they fell due during its
/// hold), and when the oldest did; read through the due index, so its
/// cost is the number of such messages. Versions with none are left out.
pub(crate) async fn count_overdue(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    ids: &[i64],
) -> Result<HashMap<i64, (i64, Option<Millis>)>> {
    let sql = format!(
        "SELECT version_id, COUNT(*) AS n, \
         MIN(CASE WHEN next_at > created_at THEN next_at ELSE created_at END) AS oldest FROM outbox \
         WHERE version_id IN ({}) AND state = 'pending' AND next_at <= {} GROUP BY version_id",
        id_list(ids),
        backend.db_now()
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        out.insert(
            row.try_get::<i64, _>("version_id")?,
            (row.try_get("n")?, row.try_get("oldest")?),
        );
    }
    Ok(out)
}

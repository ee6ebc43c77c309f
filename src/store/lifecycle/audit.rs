//! The audit log's write side: one row per change of one version, with
//! what a stop or pause did to messages.

use sqlx::{Any, Transaction};

use crate::domain::{AuditAction, Millis};
use crate::store::{Actor, Result, VersionInfo};

/// One audit row: a change of one version, from and to a status (or
/// `paused`).
pub(crate) struct AuditChange<'a> {
    pub action: AuditAction,
    pub version: &'a VersionInfo,
    pub from: &'a str,
    pub to: &'a str,
    pub reason: Option<&'a str>,
    pub affected_active: i64,
    /// What a stop or pause did to messages (`None` for other changes).
    pub messages: Option<MessageFigures>,
    /// The store-wide brake it is part of.
    pub incident: Option<&'a str>,
}

/// What a stop or pause did to messages, as its outcome and audit row say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageFigures {
    /// Pending messages cancelled (a stop; `None` for a pause or resume).
    pub cancelled: Option<i64>,
    /// Of those, how many had an attempt without an answer: they may have
    /// arrived.
    pub cancelled_uncertain: i64,
    /// Messages sent while it waited for deliveries in flight; `None` when
    /// none was in flight.
    pub sent_waiting: Option<i64>,
    /// A resume's choice for the messages that fell due during the hold,
    /// and how many there were.
    pub overdue: Option<(crate::domain::Overdue, i64)>,
}

/// One audit row (see [`insert_audits`]).
pub(crate) async fn insert_audit(
    tx: &mut Transaction<'static, Any>,
    at: Millis,
    actor: &Actor,
    change: AuditChange<'_>,
) -> Result<()> {
    insert_audits(tx, at, actor, &[change]).await
}

/// Columns of an audit row an action writes.
const COLUMNS: usize = 19;
/// Rows per statement: well under the parameters either backend takes.
const ROWS_PER_STATEMENT: usize = 200;

/// The audit rows of one action, by one actor at one time: a statement
/// per 200 rows.
pub(crate) async fn insert_audits(
    tx: &mut Transaction<'static, Any>,
    at: Millis,
    actor: &Actor,
    changes: &[AuditChange<'_>],
) -> Result<()> {
    // The request it carries out is approved first: the store's rule on
    // PostgreSQL looks for it when the row goes in.
    crate::store::lifecycle::approvals::approval_done(tx, actor, at).await?;
    for chunk in changes.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|r| {
                let first = r * COLUMNS + 1;
                format!("({})", crate::store::dialect::placeholders(first, COLUMNS))
            })
            .collect();
        // Only placeholders are formatted in.
        let sql = format!(
            "INSERT INTO audit (at, actor, host, action, journey, version, from_status, to_status, reason, \
             affected_active, cancelled, cancelled_uncertain, sent_waiting, overdue, overdue_count, incident, schedule, \
             approval, asked_by) \
             VALUES {}",
            rows.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for change in chunk {
            let m = change.messages;
            query = query
                .bind(at)
                .bind(&actor.name)
                .bind(&actor.host)
                .bind(change.action.as_str())
                .bind(&change.version.journey)
                .bind(change.version.number)
                .bind(change.from)
                .bind(change.to)
                .bind(change.reason.filter(|r| !r.trim().is_empty()))
                .bind(change.affected_active)
                .bind(m.and_then(|m| m.cancelled))
                .bind(m.and_then(|m| m.cancelled.map(|_| m.cancelled_uncertain)))
                .bind(m.and_then(|m| m.sent_waiting))
                .bind(m.and_then(|m| m.overdue).map(|(o, _)| o.words()))
                .bind(m.and_then(|m| m.overdue).map(|(_, n)| n))
                .bind(change.incident)
                .bind(actor.schedule)
                .bind(actor.approval.as_ref().map(|a| a.id))
                .bind(actor.approval.as_ref().map(|a| a.asked_by.as_str()));
        }
        query.execute(&mut **tx).await?;
    }
    scheduled_done(tx, actor, at).await
}

/// An action carried out at its time: its schedule is done in the same
/// transaction as the action, so it is done exactly when the action
/// committed. Refused when the schedule is no longer the engine's to
/// carry out (taken back meanwhile): the action then rolls back.
pub(crate) async fn scheduled_done(
    tx: &mut Transaction<'static, Any>,
    actor: &Actor,
    at: Millis,
) -> Result<()> {
    let Some(id) = actor.schedule else {
        return Ok(());
    };
    let done = sqlx::query(
        "UPDATE scheduled_actions SET state = 'done', ended_at = $1 \
         WHERE id = $2 AND state IN ('running', 'done')",
    )
    .bind(at)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(crate::store::Error::Invalid(format!(
            "scheduled action {id} is no longer set to run"
        )));
    }
    Ok(())
}

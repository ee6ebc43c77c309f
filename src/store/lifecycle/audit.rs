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

pub(crate) async fn insert_audit(
    tx: &mut Transaction<'static, Any>,
    at: Millis,
    actor: &Actor,
    change: AuditChange<'_>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit (at, actor, host, action, journey, version, from_status, to_status, reason, \
         affected_active, cancelled, cancelled_uncertain, sent_waiting, overdue, overdue_count, incident) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
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
    .bind(change.messages.and_then(|m| m.cancelled))
    .bind(
        change
            .messages
            .and_then(|m| m.cancelled.map(|_| m.cancelled_uncertain)),
    )
    .bind(change.messages.and_then(|m| m.sent_waiting))
    .bind(change.messages.and_then(|m| m.overdue).map(|(o, _)| o.words()))
    .bind(change.messages.and_then(|m| m.overdue).map(|(_, n)| n))
    .bind(change.incident)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

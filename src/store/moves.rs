//! The writes of an engine batch: participants moved, messages enqueued,
//! per-action counters. Each is one statement whatever the batch size:
//! the rows travel as one JSON parameter (a fixed statement text the
//! database prepares once), not as thousands of placeholders.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use super::walk::{Move, Send};
use super::{Backend, Result};
use crate::domain::Millis;

#[derive(Serialize)]
struct MoveRow<'a> {
    id: i64,
    /// Always `active`: compared as a value of the batch rather than a
    /// constant, so PostgreSQL finds each row by its key even before the
    /// table has statistics (a constant would match the partial index of
    /// active rows and, with fresh tables, look cheaper to scan whole).
    was: &'a str,
    state: &'a str,
    step: i64,
    due_at: Millis,
    variant: Option<&'a str>,
    old_step: i64,
    old_due: Millis,
}

/// Moves participants in one statement, each only if it is still where
/// this batch found it; returns the ids it moved.
pub(super) async fn update_participants(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    moves: &[Move<'_>],
    now: Millis,
) -> Result<HashSet<i64>> {
    if moves.is_empty() {
        return Ok(HashSet::new());
    }
    let rows: Vec<MoveRow> = moves
        .iter()
        .map(|m| MoveRow {
            id: m.due.id,
            was: "active",
            state: m.state,
            step: m.step,
            due_at: m.due_at,
            variant: m.variant.as_deref(),
            old_step: m.due.step,
            old_due: m.due.due_at,
        })
        .collect();
    let source = backend.json_rows(
        2,
        &[
            ("id", "BIGINT"),
            ("was", "TEXT"),
            ("state", "TEXT"),
            ("step", "BIGINT"),
            ("due_at", "BIGINT"),
            ("variant", "TEXT"),
            ("old_step", "BIGINT"),
            ("old_due", "BIGINT"),
        ],
    );
    // Only the backend's fixed row-source text is formatted in.
    let sql = format!(
        "UPDATE participants SET state = v.state, step = v.step, due_at = v.due_at, variant = v.variant, \
         updated_at = $1 FROM {source} WHERE participants.id = v.id AND participants.state = v.was \
         AND participants.step = v.old_step AND participants.due_at = v.old_due RETURNING participants.id"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now)
        .bind(batch_json(&rows)?)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>("id").map_err(Into::into))
        .collect()
}

#[derive(Serialize)]
struct OutboxRow<'a> {
    pid: i64,
    profile: &'a str,
    action: &'a str,
    variant: Option<&'a str>,
    at: Millis,
}

/// Enqueues messages of one version in one statement.
pub(super) async fn insert_outbox(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    version_id: i64,
    rows: &[(i64, &str, &Send)],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let rows: Vec<OutboxRow> = rows
        .iter()
        .map(|(pid, profile, send)| OutboxRow {
            pid: *pid,
            profile,
            action: &send.action,
            variant: send.variant.as_deref(),
            at: send.at,
        })
        .collect();
    let source = backend.json_rows(
        2,
        &[
            ("pid", "BIGINT"),
            ("profile", "TEXT"),
            ("action", "TEXT"),
            ("variant", "TEXT"),
            ("at", "BIGINT"),
        ],
    );
    // Only the backend's fixed row-source text is formatted in.
    let sql = format!(
        "INSERT INTO outbox (version_id, participant_id, profile, bucket, action, variant, state, created_at) \
         SELECT $1, v.pid, v.profile, {}, v.action, v.variant, 'pending', v.at FROM {source}",
        backend.bucket_of("v.profile")
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(version_id)
        .bind(batch_json(&rows)?)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A batch's rows as the one JSON parameter of a `json_rows` source.
pub(crate) fn batch_json<T: Serialize>(rows: &[T]) -> Result<String> {
    serde_json::to_string(rows)
        .map_err(|e| super::Error::Invalid(format!("cannot encode a batch: {e}")))
}

/// Moves the per-action pending counters with the rows just enqueued.
pub(super) async fn count_enqueued(
    tx: &mut Transaction<'static, Any>,
    version_id: i64,
    per_action: &BTreeMap<&str, i64>,
) -> Result<()> {
    for (action, n) in per_action {
        sqlx::query(
            "INSERT INTO outbox_actions (version_id, action, pending) VALUES ($1, $2, $3) \
             ON CONFLICT (version_id, action) DO UPDATE SET pending = outbox_actions.pending + excluded.pending",
        )
        .bind(version_id)
        .bind(*action)
        .bind(*n)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

//! The writes of an engine batch: participants moved, messages enqueued,
//! per-action counters. Each is one statement whatever the batch size:
//! the rows travel as one JSON parameter (a fixed statement text the
//! database prepares once), not as thousands of placeholders.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use crate::domain::Millis;
use crate::store::engine::walk::{Move, Send};
use crate::store::{Backend, Result};

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
pub(in crate::store) async fn update_participants(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    moves: &[Move<'_>],
    now: Millis,
    bucket: Option<i32>,
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
    // On a cluster the batch's bucket names the one shard it writes.
    let one_bucket = if bucket.is_some() {
        " AND participants.bucket = $3"
    } else {
        ""
    };
    // Only the backend's fixed row-source text and a fixed condition are
    // formatted in.
    let sql = format!(
        "UPDATE participants SET state = v.state, step = v.step, due_at = v.due_at, variant = v.variant, \
         updated_at = $1 FROM {source} WHERE participants.id = v.id AND participants.state = v.was \
         AND participants.step = v.old_step AND participants.due_at = v.old_due{one_bucket} \
         RETURNING participants.id"
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now)
        .bind(crate::store::dialect::batch_json(&rows)?);
    if let Some(b) = bucket {
        query = query.bind(b);
    }
    query
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

/// Enqueues messages of one version in one statement; on a cluster, of
/// one bucket, in statements that reach its shard alone.
pub(in crate::store) async fn insert_outbox(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    version_id: i64,
    bucket: Option<i32>,
    rows: &[(i64, &str, &Send)],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    if let Some(bucket) = bucket {
        return insert_outbox_in(tx, version_id, bucket, rows).await;
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
        .bind(crate::store::dialect::batch_json(&rows)?)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Messages rows per statement on a cluster: five parameters each.
const OUTBOX_VALUES: usize = 1000;

/// Enqueues one bucket's messages as rows of `VALUES`: an insert whose
/// rows all name one bucket reaches one shard, where an `INSERT ...
/// SELECT` from a parameter goes through the coordinator as a `COPY`,
/// which Citus always commits in two phases on every node it wrote.
async fn insert_outbox_in(
    tx: &mut Transaction<'static, Any>,
    version_id: i64,
    bucket: i32,
    rows: &[(i64, &str, &Send)],
) -> Result<()> {
    for chunk in rows.chunks(OUTBOX_VALUES) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = 5 * i + 3;
                format!(
                    "($1, ${p}, ${}, $2, ${}, ${}, 'pending', ${})",
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4
                )
            })
            .collect();
        // Only placeholders are formatted in.
        let sql = format!(
            "INSERT INTO outbox (version_id, participant_id, profile, bucket, action, variant, state, created_at) \
             VALUES {}",
            values.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(version_id)
            .bind(bucket);
        for (pid, profile, send) in chunk {
            q = q
                .bind(*pid)
                .bind(*profile)
                .bind(send.action.as_str())
                .bind(send.variant.as_deref())
                .bind(send.at);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Moves the per-action pending counters with the rows just enqueued.
pub(in crate::store) async fn count_enqueued(
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

//! A resume's choice for the messages that fell due during the hold
//! (`resume --overdue skip|spread=DUR`), applied by the next delivery claim
//! of the version under its row lock: before any of them can be claimed,
//! they are cancelled (skip) or their due times spread evenly over the
//! duration (spread). The resume only records the choice, so an operator
//! needs no right on the outbox.

use std::collections::BTreeMap;

use sqlx::{Any, Row, Transaction};

use crate::store::{Backend, Result};

/// Applies the version's pending choice, if its locked row (`row`, read
/// by the claim) has one, and clears it.
pub(crate) async fn apply_overdue(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    version_id: i64,
    row: &sqlx::any::AnyRow,
) -> Result<()> {
    let mode: Option<String> = row.try_get("overdue_mode")?;
    let before: Option<i64> = row.try_get("overdue_before")?;
    match (mode.as_deref(), before) {
        (Some("skip"), Some(before)) => skip(tx, backend, version_id, before).await?,
        (Some("spread"), Some(before)) => {
            let spread: Option<i64> = row.try_get("overdue_spread_ms")?;
            spread_out(tx, version_id, before, spread.unwrap_or(0)).await?;
        }
        (None, _) => return Ok(()),
        _ => {}
    }
    sqlx::query(
        "UPDATE versions SET overdue_mode = NULL, overdue_before = NULL, overdue_spread_ms = NULL \
         WHERE id = $1",
    )
    .bind(version_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Cancels the messages due by `before` (none is claimed: the version was
/// paused), with their counters.
async fn skip(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    version_id: i64,
    before: i64,
) -> Result<()> {
    let sql = format!(
        "UPDATE outbox SET state = 'cancelled', claimed_until = NULL, claimed_by = NULL \
         WHERE version_id = $1 AND state = 'pending' AND next_at <= $2 \
         AND (claimed_until IS NULL OR claimed_until <= {}) \
         RETURNING action, CASE WHEN last_error IS NULL THEN 0 ELSE 1 END AS retrying",
        backend.db_now()
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(version_id)
        .bind(before)
        .fetch_all(&mut **tx)
        .await?;
    let mut by_action: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for r in &rows {
        let e = by_action.entry(r.try_get("action")?).or_default();
        e.0 += 1;
        e.1 += r.try_get::<i64, _>("retrying")?;
    }
    for (action, (n, retrying)) in &by_action {
        sqlx::query(
            "UPDATE outbox_actions SET pending = pending - $3, cancelled = cancelled + $3, \
             retrying = retrying - $4 WHERE version_id = $1 AND action = $2",
        )
        .bind(version_id)
        .bind(action.as_str())
        .bind(*n)
        .bind(*retrying)
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query(
        "UPDATE versions SET msg_pending = msg_pending - $2, msg_cancelled = msg_cancelled + $2 \
         WHERE id = $1",
    )
    .bind(version_id)
    .bind(rows.len() as i64)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Gives the messages due by `before` due times spread evenly from
/// `before` over `spread_ms`, in the order they fell due.
async fn spread_out(
    tx: &mut Transaction<'static, Any>,
    version_id: i64,
    before: i64,
    spread_ms: i64,
) -> Result<()> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM outbox WHERE version_id = $1 AND state = 'pending' AND next_at <= $2",
    )
    .bind(version_id)
    .bind(before)
    .fetch_one(&mut **tx)
    .await?;
    if n == 0 {
        return Ok(());
    }
    sqlx::query(
        "UPDATE outbox SET next_at = $2 + ((s.r - 1) * $3) / $4 FROM \
         (SELECT id, ROW_NUMBER() OVER (ORDER BY next_at, id) AS r FROM outbox \
          WHERE version_id = $1 AND state = 'pending' AND next_at <= $2) s \
         WHERE outbox.id = s.id",
    )
    .bind(version_id)
    .bind(before)
    .bind(spread_ms)
    .bind(n)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

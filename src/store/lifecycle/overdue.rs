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
/// by the claim) has one, and clears it; then those a release of a held
/// action left for it.
pub(crate) async fn apply_overdue(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    version_id: i64,
    row: &sqlx::any::AnyRow,
) -> Result<()> {
    apply_action_overdue(tx, backend, version_id).await?;
    let mode: Option<String> = row.try_get("overdue_mode")?;
    let before: Option<i64> = row.try_get("overdue_before")?;
    match (mode.as_deref(), before) {
        (Some("skip"), Some(before)) => skip(tx, backend, version_id, before, None).await?,
        (Some("spread"), Some(before)) => {
            let spread: Option<i64> = row.try_get("overdue_spread_ms")?;
            spread_out(tx, version_id, before, spread.unwrap_or(0), None).await?;
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

/// Applies what a release of a held action chose for the version's
/// messages of it that fell due while it was held (`action_overdue`),
/// and clears it.
async fn apply_action_overdue(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    version_id: i64,
) -> Result<()> {
    let rows = sqlx::query(
        "SELECT action, mode, before_ms, spread_ms FROM action_overdue WHERE version_id = $1",
    )
    .bind(version_id)
    .fetch_all(&mut **tx)
    .await?;
    for r in &rows {
        let action: String = r.try_get("action")?;
        let before: i64 = r.try_get("before_ms")?;
        match r.try_get::<String, _>("mode")?.as_str() {
            "skip" => skip(tx, backend, version_id, before, Some(&action)).await?,
            _ => {
                let spread: Option<i64> = r.try_get("spread_ms")?;
                spread_out(tx, version_id, before, spread.unwrap_or(0), Some(&action)).await?
            }
        }
    }
    if !rows.is_empty() {
        sqlx::query("DELETE FROM action_overdue WHERE version_id = $1")
            .bind(version_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// ` AND (action = $N OR action LIKE held:*)` for `held` bound at `$N`,
/// or nothing.
fn of_action(held: Option<&str>, n: usize) -> String {
    match held {
        Some(_) => {
            format!(" AND (action = ${n} OR substr(action, 1, length(${n}) + 1) = ${n} || ':')")
        }
        None => String::new(),
    }
}

/// Cancels the messages due by `before` (none is claimed: the version was
/// paused, or the action held), of `held` only where given, with their
/// counters.
async fn skip(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    version_id: i64,
    before: i64,
    held: Option<&str>,
) -> Result<()> {
    let sql = format!(
        "UPDATE outbox SET state = 'cancelled', claimed_until = NULL, claimed_by = NULL \
         WHERE version_id = $1 AND state = 'pending' AND next_at <= $2 \
         AND (claimed_until IS NULL OR claimed_until <= {}){} \
         RETURNING action, CASE WHEN last_error IS NULL THEN 0 ELSE 1 END AS retrying",
        backend.db_now(),
        of_action(held, 3)
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(version_id)
        .bind(before);
    if let Some(a) = held {
        q = q.bind(a);
    }
    let rows = q.fetch_all(&mut **tx).await?;
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

/// Gives the messages due by `before` (of `held` only where given) due
/// times spread evenly from `before` over `spread_ms`, in the order they
/// fell due.
async fn spread_out(
    tx: &mut Transaction<'static, Any>,
    version_id: i64,
    before: i64,
    spread_ms: i64,
    held: Option<&str>,
) -> Result<()> {
    let sql = format!(
        "SELECT COUNT(*) FROM outbox WHERE version_id = $1 AND state = 'pending' AND next_at <= $2{}",
        of_action(held, 3)
    );
    let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(version_id)
        .bind(before);
    if let Some(a) = held {
        q = q.bind(a);
    }
    let n: i64 = q.fetch_one(&mut **tx).await?;
    if n == 0 {
        return Ok(());
    }
    let sql = format!(
        "UPDATE outbox SET next_at = $2 + ((s.r - 1) * $3) / $4 FROM \
         (SELECT id, ROW_NUMBER() OVER (ORDER BY next_at, id) AS r FROM outbox \
          WHERE version_id = $1 AND state = 'pending' AND next_at <= $2{}) s \
         WHERE outbox.id = s.id",
        of_action(held, 5)
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(version_id)
        .bind(before)
        .bind(spread_ms)
        .bind(n);
    if let Some(a) = held {
        q = q.bind(a);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

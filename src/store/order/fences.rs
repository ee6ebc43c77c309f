//! The cluster's fences: one row per bucket of a version in
//! `version_shares` (key `''`). An engine batch, a delivery claim and a
//! record write their bucket's fence first and hold it to their commit; a
//! change of the version's status writes every bucket's fence first. So on
//! each node they meet on one row, and a change waits for the batches,
//! claims and records in flight, and they for it.

use sqlx::{Any, Transaction};

use crate::store::{Backend, Result};

/// Writes the fence of the version's bucket: a batch, claim or record
/// holds it to its commit, and a change of the version's status waits
/// for it (and it for the change).
pub(crate) async fn fence(
    tx: &mut Transaction<'static, Any>,
    version_id: i64,
    bucket: i32,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO version_shares (bucket, version_id, key, n) VALUES ($1, $2, '', 0) \
         ON CONFLICT (bucket, version_id, key) DO UPDATE SET n = 0",
    )
    .bind(bucket)
    .bind(version_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Writes the fences of every bucket of the version (in shard order), so
/// batches, claims and records of it in flight have committed and later
/// ones see what this transaction commits.
pub(crate) async fn fence_all(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    version_id: i64,
) -> Result<()> {
    let Some(buckets) = backend.buckets() else {
        return Ok(());
    };
    // Rows of `VALUES`: an `INSERT ... SELECT` from a series goes through
    // intermediate results on every node, ten times slower.
    let values: Vec<String> = (0..buckets).map(|b| format!("({b}, $1, '', 0)")).collect();
    // Only bucket numbers (0 to 63) and a placeholder are formatted in.
    let sql = format!(
        "INSERT INTO version_shares (bucket, version_id, key, n) VALUES {} \
         ON CONFLICT (bucket, version_id, key) DO UPDATE SET n = 0",
        values.join(", ")
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(version_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// [`fence_all`] for a set of versions: every bucket of each, in a
/// statement per 16,000 fences (250 versions).
pub(crate) async fn fence_all_of(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    ids: &[i64],
) -> Result<()> {
    let Some(buckets) = backend.buckets() else {
        return Ok(());
    };
    let fences: Vec<String> = ids
        .iter()
        .flat_map(|id| (0..buckets).map(move |b| format!("({b}, {id}, '', 0)")))
        .collect();
    for chunk in fences.chunks(16_000) {
        // Only bucket numbers and version ids are formatted in.
        let sql = format!(
            "INSERT INTO version_shares (bucket, version_id, key, n) VALUES {} \
             ON CONFLICT (bucket, version_id, key) DO UPDATE SET n = 0",
            chunk.join(", ")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

//! The order of writers: who waits for whom. Every lock the store takes
//! is taken through this module; `statements.rs` holds their SQL, an arm
//! per backend. The rules:
//!
//! 1. A change of a version's status or hold (stop, finish, pause,
//!    resume, publish, a hold that runs out) takes the version's turn
//!    whole, then on a cluster every bucket's fence, then the version row
//!    ([`lock_version_row`]); the same for the fold of a cluster's shares.
//!    An action on several versions takes all their turns first (in id
//!    order), then their fences, then their rows in id order
//!    ([`lock_version_rows`]).
//! 2. An engine batch holds the store's turn and its version's shared:
//!    batches run side by side, a change waits for those in flight, and
//!    later ones queue behind it. Before it writes its counters a batch
//!    reads the status under the row lock (on a cluster, its bucket's
//!    fence): a stop that committed meanwhile ends it without effect. An
//!    action on the whole store (`--all`, an incident) takes the store's
//!    turn whole first, then each version's.
//! 3. A delivery claim and a record take the version's turn whole, then
//!    the row (on a cluster, their bucket's fence): a change never meets a
//!    claim half made.
//! 4. A stop counts the claims in flight under the row lock; when there
//!    are some, it closes the version's gate (no claim starts), waits for
//!    them, and tries again (`gate.rs`): none is in flight at its commit.
//! 5. An ingest locks the running version's row, no fence: its writes
//!    meet a batch's on the participants' rows.
//! 6. An operator's action is never held hostage: it waits for its turn a
//!    second at a time, goes on without it when only logins that cannot
//!    update versions hold it, and gives up when asked (`waits.rs`).
//! 7. SQLite writes one transaction at a time (`BEGIN IMMEDIATE`); a lock
//!    file puts an operator's action before the next batch, claim or
//!    ingest, another lets engines take turns a tick at a time
//!    (`sqlite.rs`).

pub(in crate::store) mod fences;
pub(in crate::store) mod gate;
pub(in crate::store) mod sqlite;
pub(in crate::store) mod statements;
pub(in crate::store) mod waits;

use sqlx::{Any, Transaction};

use crate::store::{Backend, Result, VersionInfo, version_info};
use waits::Turn;

use crate::store::Store;

impl Store {
    /// A write transaction. On SQLite it takes the write lock at once, so a
    /// transaction that reads before it writes never fails to upgrade.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Any>> {
        Ok(self.pool.begin_with(self.backend().begin_write()).await?)
    }
}

/// Locks a version row for the rest of the transaction and reads it;
/// `None` unless it is live or finished. A stop or finish (which locks and
/// changes the same row) then happens wholly before or after the
/// transaction. SQLite needs no row lock: its write transactions
/// (`BEGIN IMMEDIATE`) already run one at a time.
pub(crate) async fn lock_running_version(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    version_id: i64,
) -> Result<Option<VersionInfo>> {
    // An ingest writes no bucket's share, so it takes no fence: its
    // writes meet a batch's on the participants' rows.
    let Some(row) = lock_row(tx, backend, version_id, false, Turn::Background).await? else {
        return Ok(None);
    };
    let v = version_info(&row)?;
    Ok(v.status.runs_steps().then_some(v))
}

/// Locks a version row for the rest of the transaction and reads it (the
/// columns of `select_version_info!`), once engine batches of the version
/// in flight have committed: see [`exclude_engines`]. On a cluster it
/// writes the buckets' fences first, so batches, claims and records in
/// flight commit before and later ones see this change.
pub(crate) async fn lock_version_row(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    version_id: i64,
    turn: Turn<'_>,
) -> Result<Option<sqlx::any::AnyRow>> {
    lock_row(tx, backend, version_id, true, turn).await
}

async fn lock_row(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    version_id: i64,
    fences: bool,
    turn: Turn<'_>,
) -> Result<Option<sqlx::any::AnyRow>> {
    exclude_engines(tx, backend, version_id, turn).await?;
    if fences {
        fences::fence_all(tx, backend, version_id).await?;
    }
    write_lock_version(tx, backend, version_id).await?;
    Ok(sqlx::query(backend.lock_version())
        .bind(version_id)
        .fetch_optional(&mut **tx)
        .await?)
}

/// [`lock_version_row`] for a set of versions, in a handful of statements
/// whatever their number: their turns (an operator's tried at once, then
/// one by one in id order if any is held, see `waits::operator_turns`),
/// on a cluster every bucket's fences, then their rows in id order. The
/// rows of those that still exist, in id order.
pub(crate) async fn lock_version_rows(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    ids: &[i64],
    turn: Turn<'_>,
) -> Result<Vec<sqlx::any::AnyRow>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if let [id] = ids[..] {
        return Ok(lock_version_row(tx, backend, id, turn)
            .await?
            .into_iter()
            .collect());
    }
    let json = crate::store::dialect::ids_json(&ids);
    if let Some(sql) = backend.exclude_engines_of(1) {
        match turn {
            Turn::Operator(progress) => {
                waits::operator_turns(tx, backend, &json, &ids, progress).await?;
            }
            Turn::Background => {
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(&json)
                    .execute(&mut **tx)
                    .await?;
            }
        }
    }
    fences::fence_all_of(tx, backend, &ids).await?;
    if let Some(sql) = backend.write_lock_of("versions", "id", &ids) {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut **tx)
            .await?;
    }
    Ok(
        sqlx::query(sqlx::AssertSqlSafe(backend.lock_versions_of(1)))
            .bind(&json)
            .fetch_all(&mut **tx)
            .await?,
    )
}

/// On a cluster, takes the version row's write lock before it is read
/// (see [`Backend::write_lock`]); elsewhere the read locks it.
pub(crate) async fn write_lock_version(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    version_id: i64,
) -> Result<()> {
    if let Some(sql) = backend.write_lock("versions", "id") {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(version_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The key of the store's own turn: version 0, which no version is (ids
/// start at 1). Every engine batch holds it shared.
const STORE: i64 = 0;

/// Waits in turn until no engine batch of any version is in flight and
/// keeps new ones out for the rest of the transaction: an action on the
/// whole store takes this before its versions' turns, so it waits for the
/// batches in flight once instead of meeting them version by version.
pub(crate) async fn exclude_all_engines(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    turn: Turn<'_>,
) -> Result<()> {
    exclude_engines(tx, backend, STORE, turn).await
}

/// Waits in turn until no engine batch of the version is in flight and
/// keeps new ones out for the rest of the transaction (PostgreSQL; on
/// SQLite the write transaction already does). Whoever locks a version row
/// to change the version or its counters calls this first.
pub(crate) async fn exclude_engines(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    version_id: i64,
    turn: Turn<'_>,
) -> Result<()> {
    if let Some(sql) = backend.exclude_engines() {
        if let Turn::Operator(progress) = turn {
            // An operator's action: never held hostage (see waits.rs).
            return waits::operator_turn(tx, backend, sql, version_id, progress).await;
        }
        sqlx::query(sql).bind(version_id).execute(&mut **tx).await?;
    }
    Ok(())
}

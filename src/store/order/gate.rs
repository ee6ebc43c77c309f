//! The delivery gate: how a stop waits for deliveries in flight without
//! being starved by new ones.
//!
//! A stop's transaction counts the claims of its versions in flight under
//! the version row's lock (every claim takes that lock too). Usually there
//! are none and it commits. Otherwise it closes the gate of each version
//! (one short transaction): from then on no claim of that version starts. The gate stays closed until the
//! latest lease then held has run out, plus a margin, so a stop that dies
//! while it waits holds nothing up for long. The stop then waits until no
//! claim of the version is in flight and tries again; its transaction
//! checks again under the row lock, so no delivery is in flight when it
//! commits, whatever happened to the gate meanwhile.

use std::time::Duration;

use crate::store::dialect::id_list;
use crate::store::order::waits::Turn;
use crate::store::{Result, Store};

/// How long a closed gate outlives the last lease it waits for.
const GATE_MARGIN_MS: i64 = 2_000;

impl Store {
    /// Closes the gates of these versions (running ones only).
    /// `attempt_ms`: how long the action's last attempt took; the gates
    /// stay closed at least twice that past the last lease, so a stop of
    /// many versions on a slow store finds them closed when it tries
    /// again (else claims made meanwhile would send it round again).
    pub(crate) async fn close_gates(
        &self,
        ids: &[i64],
        turn: Turn<'_>,
        attempt_ms: i64,
    ) -> Result<()> {
        let margin = GATE_MARGIN_MS.max(attempt_ms.saturating_mul(2));
        let mut tx = self.begin_write().await?;
        crate::store::order::lock_version_rows(&mut tx, self.backend(), ids, turn).await?;
        // Read first, then written: on a cluster the claims are spread
        // over the workers and the version row is on every node. One
        // closing time for all: the latest lease of any of them.
        let list = id_list(ids);
        let sql = format!(
            "SELECT {} AS now, MAX(claimed_until) AS latest FROM outbox \
             WHERE version_id IN ({list}) AND claimed_until IS NOT NULL",
            self.backend().db_now()
        );
        let (now, latest): (i64, Option<i64>) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut *tx)
            .await?;
        let sql = format!(
            "UPDATE versions SET gate_until = $1 WHERE id IN ({list}) \
             AND status IN ('live', 'finished')"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(latest.map_or(now, |l| l.max(now)) + margin)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.announce_status().await;
        Ok(())
    }

    /// Opens the gates a refused stop closed.
    pub(crate) async fn open_gates(&self, ids: &[i64]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "UPDATE versions SET gate_until = NULL WHERE id IN ({})",
            id_list(ids)
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.announce_status().await;
        Ok(())
    }

    /// Deliveries of these versions in flight now.
    pub(crate) async fn in_flight(&self, ids: &[i64]) -> Result<i64> {
        let mut conn = self.pool.acquire().await?;
        count_in_flight(&mut conn, self.backend(), ids).await
    }

    /// Waits until no delivery of these versions is in flight, telling
    /// `watch` how many still are whenever that changes.
    pub(crate) async fn wait_in_flight(
        &self,
        ids: &[i64],
        turn: Turn<'_>,
        watch: &(dyn Fn(i64) + Sync),
    ) -> Result<()> {
        let mut last = 0;
        loop {
            if turn.given_up() {
                return Err(crate::store::Error::GaveUp);
            }
            let n = self.in_flight(ids).await?;
            if n == 0 {
                return Ok(());
            }
            if n != last {
                watch(n);
                last = n;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Claims of these versions whose lease has not run out (they leave the
/// index when recorded); inside a stop's transaction, under their row
/// locks.
pub(crate) async fn count_in_flight(
    conn: &mut sqlx::AnyConnection,
    backend: crate::store::Backend,
    ids: &[i64],
) -> Result<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM outbox WHERE version_id IN ({}) AND claimed_until IS NOT NULL \
         AND claimed_until > {}",
        id_list(ids),
        backend.db_now()
    );
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_one(&mut *conn)
        .await?)
}

//! Per-version counts per minute, for trends: entries, conversions, exits,
//! messages sent and failed. Each is written in the transaction that
//! writes the rows it counts, at the minute stamped on those rows, so a
//! minute always equals a recount of its rows (`check` compares them).
//! The engine drops minutes older than [`KEPT_MINUTES`].

use serde::Serialize;

use crate::domain::Millis;
use crate::store::{Result, Store};

pub const MINUTE_MS: Millis = 60_000;

/// Minutes kept for trends: 48 hours.
pub const KEPT_MINUTES: i64 = 48 * 60;

/// The minute of a time stamp, as the SQL `at / 60000` computes it.
pub fn minute_of(at: Millis) -> i64 {
    at / MINUTE_MS
}

/// What happened in one minute (or, summed, in several).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MinuteCounts {
    pub entered: i64,
    pub converted: i64,
    pub exited: i64,
    pub sent: i64,
    pub failed: i64,
}

impl MinuteCounts {
    pub fn add(&mut self, o: &MinuteCounts) {
        self.entered += o.entered;
        self.converted += o.converted;
        self.exited += o.exited;
        self.sent += o.sent;
        self.failed += o.failed;
    }

    pub(crate) fn from_row(r: &sqlx::any::AnyRow) -> Result<MinuteCounts> {
        use sqlx::Row;
        Ok(MinuteCounts {
            entered: r.try_get("entered")?,
            converted: r.try_get("converted")?,
            exited: r.try_get("exited")?,
            sent: r.try_get("sent")?,
            failed: r.try_get("failed")?,
        })
    }
}

/// Every minute recounted from the rows, by the time stamped on each:
/// what `check` compares the stored minutes with.
pub(crate) const RECOUNT_MINUTES: &str = "\
    SELECT version_id, minute, CAST(SUM(e) AS BIGINT) AS entered, CAST(SUM(c) AS BIGINT) AS converted, \
    CAST(SUM(x) AS BIGINT) AS exited, CAST(SUM(s) AS BIGINT) AS sent, CAST(SUM(f) AS BIGINT) AS failed FROM ( \
      SELECT version_id, entered_at / 60000 AS minute, 1 AS e, 0 AS c, 0 AS x, 0 AS s, 0 AS f FROM participants \
      UNION ALL SELECT version_id, converted_at / 60000, 0, 1, 0, 0, 0 FROM participants WHERE converted_at IS NOT NULL \
      UNION ALL SELECT version_id, updated_at / 60000, 0, 0, 1, 0, 0 FROM participants WHERE state = 'exited' \
      UNION ALL SELECT version_id, sent_at / 60000, 0, 0, 0, 1, 0 FROM outbox WHERE state = 'sent' \
      UNION ALL SELECT version_id, failed_at / 60000, 0, 0, 0, 0, 1 FROM outbox WHERE state = 'failed' \
    ) AS r WHERE minute >= $1 GROUP BY version_id, minute";

impl Store {
    /// Drops the minutes older than the window ending at `now`; what
    /// `check` compares starts there from then on.
    pub(crate) async fn drop_old_minutes(&self, now: Millis) -> Result<()> {
        let cutoff = minute_of(now) - KEPT_MINUTES;
        let kept: i64 = sqlx::query_scalar("SELECT from_minute FROM minutes_kept WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        if kept >= cutoff {
            return Ok(());
        }
        let mut tx = self.begin_background_write().await?;
        sqlx::query("UPDATE minutes_kept SET from_minute = $1 WHERE id = 1 AND from_minute < $2")
            .bind(cutoff)
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM version_minutes WHERE minute < $1")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

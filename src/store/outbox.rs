//! The outbox's delivery side as far as the store goes: a worker marks
//! pending messages of running versions sent (the demo's simulated channel
//! uses it). Messages of a stopped version are never sent.

use serde::Serialize;
use sqlx::Row;

use super::{Result, Store};
use crate::domain::Millis;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    pub sent: u64,
}

impl Store {
    /// A delivery worker: marks up to `limit` pending messages of running
    /// versions sent. Messages of a stopped version are never sent.
    pub async fn deliver(&self, limit: i64, now: Millis) -> Result<DeliveryReport> {
        let versions: Vec<i64> = sqlx::query(
            "SELECT DISTINCT o.version_id FROM outbox o JOIN versions v ON v.id = o.version_id \
             WHERE o.state = 'pending' AND v.status IN ('live', 'finished') ORDER BY o.version_id",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| r.try_get("version_id"))
        .collect::<std::result::Result<_, _>>()?;
        let mut report = DeliveryReport::default();
        for id in versions {
            let mut tx = self.begin_write().await?;
            let locked = sqlx::query("UPDATE versions SET msg_sent = msg_sent WHERE id = $1 AND status IN ('live', 'finished') RETURNING id")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            if locked.is_none() {
                tx.rollback().await?;
                continue;
            }
            let n = sqlx::query(
                "UPDATE outbox SET state = 'sent', sent_at = $3 WHERE id IN \
                 (SELECT id FROM outbox WHERE version_id = $1 AND state = 'pending' ORDER BY id LIMIT $2)",
            )
            .bind(id)
            .bind(limit)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected() as i64;
            sqlx::query("UPDATE versions SET msg_pending = msg_pending - $2, msg_sent = msg_sent + $2 WHERE id = $1")
                .bind(id)
                .bind(n)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            report.sent += n as u64;
        }
        Ok(report)
    }
}

//! How far behind the engine and the delivery workers are: the oldest due
//! participant and the oldest due message of the running versions (the
//! metrics endpoint's ages). One index probe per running version.

use sqlx::Row;

use crate::domain::Millis;
use crate::store::{Result, Store};

/// Since when the first in line has been due, if anything is due.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backlog {
    pub oldest_due_participant: Option<Millis>,
    pub oldest_due_message: Option<Millis>,
}

impl Store {
    pub async fn backlog(&self, now: Millis) -> Result<Backlog> {
        // A message is due from its creation, or after a failed attempt
        // from `next_at`; paused versions hold theirs, so they are left out.
        // Per version through its due index (first in line, LIMIT 1); on
        // a cluster, which runs no correlated subquery, one aggregate over
        // every shard, each through its own index.
        let sql = if self.backend == super::super::Backend::Citus {
            "SELECT (SELECT MIN(p.due_at) FROM participants p JOIN versions v ON v.id = p.version_id \
                     WHERE v.status IN ('live', 'finished') AND v.paused_at IS NULL \
                     AND p.state = 'active' AND p.due_at <= $1) AS participant, \
                    (SELECT MIN(CASE WHEN o.next_at > o.created_at THEN o.next_at ELSE o.created_at END) \
                     FROM outbox o JOIN versions v ON v.id = o.version_id \
                     WHERE v.status IN ('live', 'finished') AND v.paused_at IS NULL \
                     AND o.state = 'pending' AND o.next_at <= $2) AS message"
        } else {
            "SELECT MIN((SELECT p.due_at FROM participants p WHERE p.version_id = v.id \
                     AND p.state = 'active' AND p.due_at <= $1 \
                     ORDER BY p.due_at, p.id LIMIT 1)) AS participant, \
                    MIN((SELECT CASE WHEN o.next_at > o.created_at THEN o.next_at ELSE o.created_at END \
                     FROM outbox o WHERE o.version_id = v.id AND o.state = 'pending' \
                     AND o.next_at <= $2 ORDER BY o.next_at, o.id LIMIT 1)) AS message \
             FROM versions v WHERE v.status IN ('live', 'finished') AND v.paused_at IS NULL"
        };
        let row = sqlx::query(sql)
            .bind(now)
            .bind(now)
            .fetch_one(&self.pool)
            .await?;
        Ok(Backlog {
            oldest_due_participant: row.try_get("participant")?,
            oldest_due_message: row.try_get("message")?,
        })
    }
}

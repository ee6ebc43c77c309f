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
        let row = sqlx::query(self.backend().backlog_query())
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

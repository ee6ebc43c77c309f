//! The alert episodes being told (`alerts/push.rs`): taken by the
//! process that posts one as firing, given up when it is resolved.

use sqlx::Row;

use crate::alerts::Firing;
use crate::domain::Millis;
use crate::store::{Result, Store};

/// An episode told as firing and not yet as resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Episode {
    pub key: String,
    pub alert: String,
    pub journey: Option<String>,
    pub text: String,
    pub since: Millis,
}

impl Store {
    /// The episodes told as firing.
    pub async fn alert_episodes(&self) -> Result<Vec<Episode>> {
        let rows = sqlx::query(
            "SELECT key, alert, journey, text, since FROM alert_state ORDER BY since, key",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Episode {
                    key: r.try_get("key")?,
                    alert: r.try_get("alert")?,
                    journey: r.try_get("journey")?,
                    text: r.try_get("text")?,
                    since: r.try_get("since")?,
                })
            })
            .collect()
    }

    /// Takes an episode to tell; `false` when another process has.
    pub async fn alert_began(&self, f: &Firing, now: Millis) -> Result<bool> {
        let cut = |s: &str, n: usize| s.chars().take(n).collect::<String>();
        let done = sqlx::query(
            "INSERT INTO alert_state (key, alert, journey, text, since) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(cut(&f.key, 500))
        .bind(cut(&f.alert, 300))
        .bind(f.journey.as_deref().map(|j| cut(j, 200)))
        .bind(cut(&f.text, 2000))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives up an episode whose firing could not be posted.
    pub async fn alert_forget(&self, key: &str) -> Result<()> {
        self.alert_ended(key).await.map(|_| ())
    }

    /// Ends an episode to tell it resolved; `false` when another process
    /// has.
    pub async fn alert_ended(&self, key: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM alert_state WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Keeps an episode whose resolution could not be posted.
    pub async fn alert_restore(&self, e: &Episode, now: Millis) -> Result<()> {
        let f = Firing {
            key: e.key.clone(),
            alert: e.alert.clone(),
            journey: e.journey.clone(),
            text: e.text.clone(),
        };
        self.alert_began(&f, now.min(e.since)).await.map(|_| ())
    }
}

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

/// One action's messages over a window (`Store::action_window`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionWindow {
    pub action: String,
    pub sent: i64,
    pub failed: i64,
    /// How long the window really is (the oldest sample may be younger).
    pub span_ms: Millis,
}

/// Samples are kept this long.
const SAMPLES_KEPT_MS: Millis = 20 * 60_000;

impl Store {
    /// Each action's delivered and failed messages over about `window`
    /// up to `now`: its totals now against the sample nearest to `window`
    /// ago (at least a minute old). Notes the totals now as a sample when
    /// this login may (a viewer's look measures from the others').
    pub async fn action_window(&self, window: Millis, now: Millis) -> Result<Vec<ActionWindow>> {
        let totals: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT action, CAST(SUM(sent) AS BIGINT), CAST(SUM(failed) AS BIGINT) \
             FROM outbox_actions GROUP BY action ORDER BY action",
        )
        .fetch_all(&self.pool)
        .await?;
        let samples: Vec<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT action, at, sent, failed FROM alert_samples WHERE at <= $1 AND at >= $2 ORDER BY at DESC",
        )
        .bind(now - 60_000)
        .bind(now - SAMPLES_KEPT_MS)
        .fetch_all(&self.pool)
        .await?;
        if let Err(e) = self.note_samples(&totals, now).await {
            tracing::info!("alerts: the action totals are not noted: {e}");
        }
        let mut out = Vec::new();
        for (action, sent, failed) in totals {
            // The newest sample at least `window` old, else the oldest.
            let mine: Vec<_> = samples.iter().filter(|s| s.0 == action).collect();
            let base = mine
                .iter()
                .find(|s| s.1 <= now - window)
                .or(mine.last())
                .copied();
            if let Some((_, at, s0, f0)) = base {
                out.push(ActionWindow {
                    action,
                    sent: sent - s0,
                    failed: failed - f0,
                    span_ms: now - at,
                });
            }
        }
        Ok(out)
    }

    async fn note_samples(&self, totals: &[(String, i64, i64)], now: Millis) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for (action, sent, failed) in totals {
            sqlx::query(
                "INSERT INTO alert_samples (action, at, sent, failed) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (action, at) DO NOTHING",
            )
            .bind(action)
            .bind(now)
            .bind(sent)
            .bind(failed)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM alert_samples WHERE at < $1")
            .bind(now - SAMPLES_KEPT_MS)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

//! What will go out next: a version's send forecast per action, from its
//! active participants' steps and due times and its pending messages
//! (`journeyctl forecast`, the detail screen, the resume pane).

use sqlx::Row;

use crate::domain::forecast::{ActionForecast, Release, Standing, WINDOWS, tally};
use crate::domain::{Millis, VersionStatus};
use crate::store::{Error, Result, Store, VersionInfo, select_version_info, version_info};

/// A version's forecast.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Forecast {
    pub journey: String,
    pub version: i64,
    pub status: VersionStatus,
    /// While paused, nothing goes out: `at_once` is what a resume
    /// releases at once.
    pub paused: bool,
    pub actions: Vec<ActionForecast>,
}

impl Store {
    /// The forecast of `journey`'s version `version` (default: the live
    /// one, else the newest that ran).
    pub async fn forecast(
        &self,
        journey: &str,
        version: Option<i64>,
        now: Millis,
    ) -> Result<Forecast> {
        let rows = sqlx::query(concat!(select_version_info!(), "WHERE j.name = $1"))
            .bind(journey)
            .fetch_all(&self.pool)
            .await?;
        let infos = rows.iter().map(version_info).collect::<Result<Vec<_>>>()?;
        if infos.is_empty() {
            return Err(Error::UnknownJourney(journey.to_string()));
        }
        let newest_run = |i: &&VersionInfo| i.status != VersionStatus::Draft;
        let info = match version {
            Some(n) => {
                infos
                    .iter()
                    .find(|i| i.number == n)
                    .ok_or_else(|| Error::NoSuchVersion {
                        journey: journey.to_string(),
                        number: n,
                        has: infos.iter().map(|i| i.number).collect(),
                    })?
            }
            None => infos
                .iter()
                .find(|i| i.status == VersionStatus::Live)
                .or_else(|| infos.iter().filter(newest_run).max_by_key(|i| i.number))
                .or_else(|| infos.iter().max_by_key(|i| i.number))
                .ok_or_else(|| Error::UnknownJourney(journey.to_string()))?,
        };
        Ok(Forecast {
            journey: info.journey.clone(),
            version: info.number,
            status: info.status,
            paused: info.paused.is_some(),
            actions: self.forecast_of(info, now).await?,
        })
    }

    /// What resuming `versions` (journey, number) releases per action,
    /// summed over them, with each action's channel rate: the resume
    /// pane's figures.
    pub async fn release_forecast(
        &self,
        versions: &[(String, i64)],
        now: Millis,
    ) -> Result<Vec<Release>> {
        let mut by_action: std::collections::BTreeMap<String, ActionForecast> = Default::default();
        for (journey, number) in versions {
            for f in self.forecast(journey, Some(*number), now).await?.actions {
                let sum = by_action.entry(f.action.clone()).or_insert(ActionForecast {
                    action: f.action.clone(),
                    ..Default::default()
                });
                sum.pending += f.pending;
                sum.at_once += f.at_once;
                sum.next_15m += f.next_15m;
                sum.next_1h += f.next_1h;
                sum.next_24h += f.next_24h;
            }
        }
        let health = self.channel_health().await?;
        Ok(by_action
            .into_values()
            .map(|forecast| Release {
                rate: health
                    .iter()
                    .find(|h| h.action == forecast.action)
                    .and_then(|h| h.limits().rate),
                forecast,
            })
            .collect())
    }

    /// A version's forecast per action (none once it is stopped).
    pub(super) async fn forecast_of(
        &self,
        info: &VersionInfo,
        now: Millis,
    ) -> Result<Vec<ActionForecast>> {
        if !info.status.runs_steps() {
            return Ok(Vec::new());
        }
        // By minute from now (0: due already), up to a day ahead.
        let rows = sqlx::query(
            "SELECT step, CASE WHEN due_at <= $2 THEN 0 ELSE (due_at - $2 + 59999) / 60000 END AS m, \
             COUNT(*) AS n FROM participants \
             WHERE version_id = $1 AND state = 'active' AND due_at <= $3 GROUP BY step, m",
        )
        .bind(info.id)
        .bind(now)
        .bind(now + WINDOWS[2])
        .fetch_all(&self.pool)
        .await?;
        let standing = rows
            .iter()
            .map(|r| {
                Ok(Standing {
                    step: usize::try_from(r.try_get::<i64, _>("step")?).unwrap_or(usize::MAX),
                    due_in: r.try_get::<i64, _>("m")? * 60_000,
                    count: r.try_get("n")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let pending: Vec<(String, i64)> = sqlx::query_as(
            "SELECT action, pending FROM outbox_actions WHERE version_id = $1 AND pending > 0",
        )
        .bind(info.id)
        .fetch_all(&self.pool)
        .await?;
        let mut conn = self.pool.acquire().await?;
        let (winner, disabled) =
            crate::store::figures::verdicts::split_rule(&mut conn, info.id).await?;
        Ok(tally(
            &info.definition.steps,
            (winner.as_deref(), &disabled),
            &standing,
            &pending,
        ))
    }
}

//! A journey's detail: every version with its steps and exit reasons. Only
//! read while the detail view is open (it counts the version's active rows).

use std::collections::HashMap;

use sqlx::Row;

use super::{StepCount, VersionDetail, VersionSummary};
use crate::domain::{Millis, Step, VersionStatus};
use crate::store::{Error, Result, Store, select_version_info, version_info};

impl Store {
    /// Every version of a journey in detail (newest first).
    pub async fn detail(&self, journey: &str) -> Result<Vec<VersionDetail>> {
        self.detail_at(journey, crate::domain::time::now_millis())
            .await
    }

    /// The same with trends up to `now`.
    pub async fn detail_at(&self, journey: &str, now: Millis) -> Result<Vec<VersionDetail>> {
        let summaries: Vec<VersionSummary> = self
            .list_at(true, now)
            .await?
            .into_iter()
            .filter(|s| s.journey == journey)
            .collect();
        if summaries.is_empty() {
            return Err(Error::UnknownJourney(journey.to_string()));
        }
        let rows = sqlx::query(concat!(select_version_info!(), "WHERE j.name = $1"))
            .bind(journey)
            .fetch_all(&self.pool)
            .await?;
        let infos = rows.iter().map(version_info).collect::<Result<Vec<_>>>()?;
        let mut out = Vec::new();
        for summary in summaries {
            let Some(info) = infos.iter().find(|i| i.number == summary.version) else {
                continue;
            };
            let steps = self.step_counts(info).await?;
            let reasons = sqlx::query(
                "SELECT exit_reason, COUNT(*) AS n FROM participants WHERE version_id = $1 AND state = 'exited' \
                 GROUP BY exit_reason ORDER BY n DESC",
            )
            .bind(info.id)
            .fetch_all(&self.pool)
            .await?;
            let exit_reasons = reasons
                .iter()
                .map(|r| {
                    Ok((
                        r.try_get::<Option<String>, _>("exit_reason")?
                            .unwrap_or_default(),
                        r.try_get("n")?,
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            let hours = self.hours_of(info.id, now).await?;
            let forecast = self.forecast_of(info, now).await?;
            let now_minute = crate::store::minutes::minute_of(now);
            let from = (now_minute / 60 - 47) * 60 * crate::store::minutes::MINUTE_MS;
            let events = self
                .trend_events(
                    (&summary.journey, summary.version),
                    &summary.uses_actions,
                    (from, now),
                )
                .await?;
            out.push(VersionDetail {
                summary,
                steps,
                exit_reasons,
                hours,
                forecast,
                events,
                now_minute,
            });
        }
        out.sort_by_key(|d| std::cmp::Reverse(d.summary.version));
        Ok(out)
    }

    /// Each step of a version with how many active participants are at it,
    /// and (while paused) how many of them are held there.
    async fn step_counts(&self, info: &crate::store::VersionInfo) -> Result<Vec<StepCount>> {
        let waiting = if info.status == VersionStatus::Stopped {
            Vec::new()
        } else {
            sqlx::query(
                "SELECT step, COUNT(*) AS n, \
                 CAST(SUM(CASE WHEN due_at <= $2 THEN 1 ELSE 0 END) AS BIGINT) AS due \
                 FROM participants WHERE version_id = $1 AND state = 'active' GROUP BY step",
            )
            .bind(info.id)
            .bind(crate::domain::time::now_millis())
            .fetch_all(&self.pool)
            .await?
        };
        let mut by_step: HashMap<i64, (i64, i64)> = HashMap::new();
        for r in &waiting {
            by_step.insert(r.try_get("step")?, (r.try_get("n")?, r.try_get("due")?));
        }
        let paused = info.paused.is_some();
        let defined = &info.definition.steps;
        let is_wait = |i: usize| matches!(defined.get(i), Some(Step::Wait { .. }));
        // A participant's `step` is the next one to run; after a wait it
        // is not due until the wait ends, so those not yet due are inside
        // the wait before it, and counted there.
        let at = |i: usize| by_step.get(&(i as i64)).copied().unwrap_or((0, 0));
        let steps: Vec<StepCount> = defined
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let (here, due) = at(i);
                let mut n = due;
                if i == 0 || !is_wait(i - 1) {
                    n += here - due;
                }
                if is_wait(i) {
                    let (next, next_due) = at(i + 1);
                    n += next - next_due;
                }
                let kind = match s {
                    Step::Message { .. } => "message",
                    Step::Wait { .. } => "wait",
                    Step::Split(_) => "split",
                };
                StepCount {
                    index: i as i64 + 1,
                    kind,
                    label: s.label(),
                    waiting: n,
                    held: if paused && kind != "wait" { due } else { 0 },
                }
            })
            .collect();
        Ok(steps)
    }
}

//! Trends: the minutes of the last hour for the main screen and `list
//! --json` (`rates`), a version's minutes for the detail view and
//! `journeyctl trend`, and the comparison `check` makes. Every read is
//! of the minute rows only: at most 60 per version with activity in the
//! last hour and one sum per version for the hour before, whatever the
//! number of participants.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use sqlx::Row;

use crate::domain::Millis;
use crate::domain::time::to_rfc3339;
use crate::store::figures::minutes::{MINUTE_MS, MinuteCounts, RECOUNT_MINUTES, minute_of};
use crate::store::{Result, Store};

/// A version's last two hours, minute by minute.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recent {
    /// The last 60 minutes, oldest first; the last is the current minute.
    pub hour: Vec<MinuteCounts>,
    /// The 60 minutes before those, summed.
    pub previous_hour: MinuteCounts,
}

impl Recent {
    /// Sums of the last `n` minutes (the current one included).
    pub fn last(&self, n: usize) -> MinuteCounts {
        let mut sum = MinuteCounts::default();
        for m in self.hour.iter().rev().take(n) {
            sum.add(m);
        }
        sum
    }

    pub fn rates(&self) -> Rates {
        Rates {
            last_5m: PerMinute::of(&self.last(5), 5.0),
            last_hour: PerMinute::of(&self.last(60), 60.0),
        }
    }
}

/// `list --json` `rates`: per minute, averaged over the last 5 minutes and
/// the last hour (the current minute included).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Rates {
    pub last_5m: PerMinute,
    pub last_hour: PerMinute,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PerMinute {
    pub entered: f64,
    pub converted: f64,
    pub exited: f64,
    pub sent: f64,
    pub failed: f64,
}

impl PerMinute {
    fn of(c: &MinuteCounts, minutes: f64) -> PerMinute {
        let r = |n: i64| (n as f64 / minutes * 100.0).round() / 100.0;
        PerMinute {
            entered: r(c.entered),
            converted: r(c.converted),
            exited: r(c.exited),
            sent: r(c.sent),
            failed: r(c.failed),
        }
    }
}

impl Store {
    /// The last two hours up to `now` of every version with activity in
    /// them, by version id: the last hour's minutes (at most 60 rows a
    /// version) and the hour before summed by the database (one row).
    pub async fn recent_minutes(&self, now: Millis) -> Result<HashMap<i64, Recent>> {
        let to = minute_of(now);
        let mut out: HashMap<i64, Recent> = HashMap::new();
        let blank = || Recent {
            hour: vec![MinuteCounts::default(); 60],
            ..Recent::default()
        };
        let rows = sqlx::query(
            "SELECT version_id, minute, entered, converted, exited, sent, failed \
             FROM version_minutes WHERE minute > $1 AND minute <= $2",
        )
        .bind(to - 60)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        for r in &rows {
            let (id, minute): (i64, i64) = (r.try_get("version_id")?, r.try_get("minute")?);
            out.entry(id).or_insert_with(blank).hour[(59 - (to - minute)) as usize] =
                MinuteCounts::from_row(r)?;
        }
        let before = sqlx::query(
            "SELECT version_id, CAST(SUM(entered) AS BIGINT) AS entered, \
             CAST(SUM(converted) AS BIGINT) AS converted, CAST(SUM(exited) AS BIGINT) AS exited, \
             CAST(SUM(sent) AS BIGINT) AS sent, CAST(SUM(failed) AS BIGINT) AS failed \
             FROM version_minutes WHERE minute > $1 AND minute <= $2 GROUP BY version_id",
        )
        .bind(to - 120)
        .bind(to - 60)
        .fetch_all(&self.pool)
        .await?;
        for r in &before {
            out.entry(r.try_get("version_id")?)
                .or_insert_with(blank)
                .previous_hour = MinuteCounts::from_row(r)?;
        }
        Ok(out)
    }

    /// One version's minutes from `from` to `to` (epoch minutes, both
    /// included), every minute present, zeros where nothing happened.
    pub async fn minutes_of(
        &self,
        version_id: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<(i64, MinuteCounts)>> {
        let rows = sqlx::query(
            "SELECT minute, entered, converted, exited, sent, failed FROM version_minutes \
             WHERE version_id = $1 AND minute >= $2 AND minute <= $3",
        )
        .bind(version_id)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        let mut by_minute = BTreeMap::new();
        for r in &rows {
            by_minute.insert(r.try_get::<i64, _>("minute")?, MinuteCounts::from_row(r)?);
        }
        Ok((from..=to)
            .map(|m| (m, by_minute.get(&m).copied().unwrap_or_default()))
            .collect())
    }
}

impl Store {
    /// One version's last 48 hours up to `now`, hour by hour (clock hours,
    /// oldest first): at most 48 rows, summed by the database.
    pub async fn hours_of(&self, version_id: i64, now: Millis) -> Result<Vec<MinuteCounts>> {
        let to = minute_of(now) / 60;
        let rows = sqlx::query(
            "SELECT minute / 60 AS hour, CAST(SUM(entered) AS BIGINT) AS entered, \
             CAST(SUM(converted) AS BIGINT) AS converted, CAST(SUM(exited) AS BIGINT) AS exited, \
             CAST(SUM(sent) AS BIGINT) AS sent, CAST(SUM(failed) AS BIGINT) AS failed \
             FROM version_minutes WHERE version_id = $1 AND minute >= $2 AND minute < $3 \
             GROUP BY minute / 60",
        )
        .bind(version_id)
        .bind((to - 47) * 60)
        .bind((to + 1) * 60)
        .fetch_all(&self.pool)
        .await?;
        let mut hours = vec![MinuteCounts::default(); 48];
        for r in &rows {
            let hour: i64 = r.try_get("hour")?;
            if let Some(slot) = hours.get_mut((hour - (to - 47)) as usize) {
                *slot = MinuteCounts::from_row(r)?;
            }
        }
        Ok(hours)
    }
}

/// Every kept minute whose stored counts differ from a recount of its
/// rows: `promo v1 minute 2026-11-21T10:05:00Z: entered: stored 3, rows 4`.
pub(super) async fn minute_differences_on(conn: &mut sqlx::AnyConnection) -> Result<Vec<String>> {
    let from: i64 = sqlx::query_scalar("SELECT from_minute FROM minutes_kept WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    let read = |rows: Vec<sqlx::any::AnyRow>| -> Result<BTreeMap<(i64, i64), MinuteCounts>> {
        rows.iter()
            .map(|r| {
                Ok((
                    (r.try_get("version_id")?, r.try_get("minute")?),
                    MinuteCounts::from_row(r)?,
                ))
            })
            .collect()
    };
    let stored = read(
        sqlx::query(
            "SELECT version_id, minute, entered, converted, exited, sent, failed \
             FROM version_minutes WHERE minute >= $1",
        )
        .bind(from)
        .fetch_all(&mut *conn)
        .await?,
    )?;
    let rows = read(
        sqlx::query(RECOUNT_MINUTES)
            .bind(from)
            .fetch_all(&mut *conn)
            .await?,
    )?;
    let labels: HashMap<i64, String> = sqlx::query(
        "SELECT v.id, j.name AS journey, v.number FROM versions v JOIN journeys j ON j.id = v.journey_id",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get("id")?,
            format!("{} v{}", r.try_get::<String, _>("journey")?, r.try_get::<i64, _>("number")?),
        ))
    })
    .collect::<Result<_>>()?;
    let mut keys: Vec<&(i64, i64)> = stored.keys().chain(rows.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Vec::new();
    for key @ (version, minute) in keys {
        let (s, r) = (
            stored.get(key).copied().unwrap_or_default(),
            rows.get(key).copied().unwrap_or_default(),
        );
        let figures = |c: &MinuteCounts| {
            [
                ("entered", c.entered),
                ("converted", c.converted),
                ("exited", c.exited),
                ("sent", c.sent),
                ("failed", c.failed),
            ]
        };
        for ((name, a), (_, b)) in figures(&s).into_iter().zip(figures(&r)) {
            if a != b {
                out.push(format!(
                    "{} minute {}: {name}: stored {a}, rows {b}",
                    labels.get(version).map_or("?", String::as_str),
                    to_rfc3339(minute * MINUTE_MS)
                ));
            }
        }
    }
    Ok(out)
}

//! `journeyctl trend`: one version's minutes for scripts and runbooks.

use std::time::Duration;

use serde::Serialize;

use crate::domain::Millis;
use crate::domain::VersionStatus;
use crate::domain::time::to_rfc3339;
use crate::present::{per_minute, sparkline, thousands};
use crate::store::minutes::{KEPT_MINUTES, MINUTE_MS, MinuteCounts, minute_of};
use crate::store::{Rates, Store, TrendEvent};

#[derive(Serialize)]
struct TrendJson<'a> {
    journey: &'a str,
    version: i64,
    from: String,
    to: String,
    rates: &'a Rates,
    minutes: Vec<MinuteJson>,
    /// What operators did to the version (and to the actions it uses) in
    /// those minutes: publish, pause, resume, holds, rates, notes.
    events: &'a [TrendEvent],
}

#[derive(Serialize)]
struct MinuteJson {
    at: String,
    #[serde(flatten)]
    counts: MinuteCounts,
}

pub(super) async fn trend(
    store: &Store,
    journey: &str,
    version: Option<i64>,
    since: Duration,
    json: bool,
    now: Millis,
) -> anyhow::Result<()> {
    let minutes = (since.as_millis() as i64 / MINUTE_MS).max(1);
    if minutes > KEPT_MINUTES {
        anyhow::bail!(
            "--since {}: minutes are kept for 48h",
            crate::domain::time::duration_words(since)
        );
    }
    let list = store.list_at(true, now).await?;
    let mut of_journey: Vec<_> = list.iter().filter(|v| v.journey == journey).collect();
    if of_journey.is_empty() {
        anyhow::bail!("unknown journey {journey:?} (journeyctl list shows them)");
    }
    of_journey.sort_by_key(|v| std::cmp::Reverse(v.version));
    let v = match version {
        Some(n) => of_journey
            .into_iter()
            .find(|v| v.version == n)
            .ok_or_else(|| anyhow::anyhow!("{journey} has no version {n}"))?,
        None => of_journey
            .iter()
            .find(|v| v.status != VersionStatus::Draft)
            .copied()
            .unwrap_or(of_journey[0]),
    };
    let to = minute_of(now);
    let series = store.minutes_of(v.id, to - minutes + 1, to).await?;
    let events = store
        .trend_events(
            (&v.journey, v.version),
            &v.uses_actions,
            ((to - minutes + 1) * MINUTE_MS, now),
        )
        .await?;
    if json {
        let out = TrendJson {
            journey,
            version: v.version,
            from: to_rfc3339((to - minutes + 1) * MINUTE_MS),
            to: to_rfc3339(to * MINUTE_MS),
            rates: &v.rates,
            minutes: series
                .iter()
                .map(|(m, c)| MinuteJson {
                    at: to_rfc3339(m * MINUTE_MS),
                    counts: *c,
                })
                .collect(),
            events: &events,
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    print!(
        "{}",
        table((&v.journey, v.version), &series, &v.rates, &events)
    );
    Ok(())
}

fn table(
    (journey, version): (&str, i64),
    series: &[(i64, MinuteCounts)],
    rates: &Rates,
    events: &[TrendEvent],
) -> String {
    let line = |label: &str, cells: [String; 5], acts: &str| {
        let [a, b, c, d, e] = cells;
        format!("{label:<17} {a:>9} {b:>9} {c:>9} {d:>9} {e:>9}  {acts}")
            .trim_end()
            .to_string()
            + "\n"
    };
    let acts_in = |m: i64| -> String {
        events
            .iter()
            .filter(|e| e.at_ms.div_euclid(MINUTE_MS) == m)
            .map(|e| e.letter().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let figures =
        |c: &MinuteCounts| [c.entered, c.converted, c.exited, c.sent, c.failed].map(thousands);
    let mut out = line(
        "MINUTE (UTC)",
        ["ENTERED", "CONVERTED", "EXITED", "SENT", "FAILED"].map(String::from),
        if events.is_empty() { "" } else { "ACTS" },
    );
    let mut total = MinuteCounts::default();
    for (m, c) in series {
        total.add(c);
        let at = crate::domain::time::to_datetime(m * MINUTE_MS).format("%Y-%m-%d %H:%M");
        out.push_str(&line(&at.to_string(), figures(c), &acts_in(*m)));
    }
    out.push_str(&line("total", figures(&total), ""));
    let entered: Vec<i64> = series.iter().map(|(_, c)| c.entered).collect();
    out.push_str(&format!(
        "{journey} v{version} entries {} now {} (last hour {})\n",
        sparkline(&entered, 30),
        per_minute(rates.last_5m.entered),
        per_minute(rates.last_hour.entered)
    ));
    for e in events {
        let at = crate::domain::time::to_datetime(e.at_ms).format("%Y-%m-%d %H:%M");
        let what = e
            .subject
            .as_deref()
            .map(|s| format!(" {s}"))
            .unwrap_or_default();
        let why = e
            .reason
            .as_deref()
            .map(|r| format!(": {}", crate::present::escaped(r)))
            .unwrap_or_default();
        out.push_str(&format!(
            "{} {at} {}{what} by {}{why}\n",
            e.letter(),
            e.action,
            crate::present::escaped(&e.by)
        ));
    }
    out
}

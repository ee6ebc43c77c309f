//! Trends: per-minute counts written with the rows they count, equal to a
//! recount of those rows (`check`), read as rates and series, and dropped
//! after 48 hours without breaking that equality.

mod common;

use common::*;
use journeyctl::domain::time::now_millis;
use journeyctl::store::minutes::{MINUTE_MS, MinuteCounts, minute_of};
use journeyctl::store::{Attempt, Store};

const HOUR: i64 = 60;

/// Sends the first `sent` pending messages and fails the rest, stamped `at`.
async fn deliver_at(store: &Store, sent: usize, at: i64) {
    for v in store.delivery_queue().await.unwrap() {
        let claimed = store
            .claim(v.version_id, &v.actions, 10_000, 60_000, "t")
            .await
            .unwrap();
        let attempts: Vec<_> = claimed
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let a = if i < sent {
                    Attempt::Sent
                } else {
                    Attempt::Failed {
                        error: "HTTP 500".into(),
                    }
                };
                (c, a)
            })
            .collect();
        store
            .record(v.version_id, "t", &attempts, at)
            .await
            .unwrap();
    }
    // As a worker's pass ends (on a cluster: the buckets' shares folded).
    store.fold_shares().await.unwrap();
}

async fn version_id(store: &Store, journey: &str) -> i64 {
    summary(store, journey, 1).await.id
}

both_backends!(minutes_equal_a_recount_of_their_rows, |ts| {
    let s = &ts.store;
    publish(s, &simple("tr"), at(0)).await;
    // Ten minutes of entries, three a minute; conversions and exits later.
    let mut events = Vec::new();
    for m in 0..10 {
        for k in 0..3 {
            events.push(enter("tr", &format!("p-{m}-{k}"), at(m) + k * 1_000));
        }
    }
    for m in 0..4 {
        events.push(goal(&format!("p-{m}-0"), "purchase", at(12)));
        events.push(goal(&format!("p-{m}-1"), "unsubscribe", at(13 + m)));
    }
    s.ingest(&events).await.unwrap();
    s.tick(at(20)).await.unwrap();
    // 26 emails (4 of the 30 people exited first): 20 sent, 6 failed.
    deliver_at(s, 20, at(21)).await;
    assert_eq!(s.verify_counters().await.unwrap(), Vec::<String>::new());

    let id = version_id(s, "tr").await;
    let minutes = s
        .minutes_of(id, minute_of(at(0)), minute_of(at(21)))
        .await
        .unwrap();
    let of = |m: i64| minutes[m as usize].1;
    for m in 0..10 {
        assert_eq!(of(m).entered, 3, "minute {m}");
    }
    assert_eq!(of(12).converted, 4);
    for m in 13..17 {
        assert_eq!(of(m).exited, 1, "minute {m}");
    }
    assert_eq!(of(21).sent, 20);
    assert_eq!(of(21).failed, 6);
    let total = minutes
        .iter()
        .fold(MinuteCounts::default(), |mut t, (_, c)| {
            t.add(c);
            t
        });
    let v = summary(s, "tr", 1).await;
    assert_eq!(total.entered, v.counts.entered);
    assert_eq!(total.converted, v.counts.converted);
    assert_eq!(total.exited, v.counts.exited);
    assert_eq!(total.sent, v.messages.sent);
    assert_eq!(total.failed, v.messages.failed);

    // Rates at 10:09: the last five minutes hold 15 entries, the hour 30.
    let list = s.list_at(true, at(9)).await.unwrap();
    let tr = list.iter().find(|v| v.journey == "tr").unwrap();
    assert_eq!(tr.rates.last_5m.entered, 3.0);
    assert_eq!(tr.rates.last_hour.entered, 0.5);
    let recent = tr.recent.as_ref().unwrap();
    assert_eq!(recent.hour.len(), 60);
    assert_eq!(recent.hour[59].entered, 3, "the current minute is last");
    assert_eq!(recent.hour[49].entered, 0, "before the first entry");
    // An hour and a half later, the first hour's minutes are the previous hour.
    let later = s.list_at(true, at(9 + 90)).await.unwrap();
    let tr = later.iter().find(|v| v.journey == "tr").unwrap();
    assert_eq!(tr.recent.as_ref().unwrap().previous_hour.entered, 30);
    assert_eq!(tr.rates.last_hour.entered, 0.0);

    // A minute that disagrees with its rows is named.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE version_minutes SET entered = entered + 1 WHERE version_id = {id} AND minute = {}",
        minute_of(at(3))
    )))
    .execute(ts.store.pool())
    .await
    .unwrap();
    assert_eq!(
        s.verify_counters().await.unwrap(),
        vec!["tr v1 minute 2026-11-21T10:03:00Z: entered: stored 4, rows 3".to_string()]
    );
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE version_minutes SET entered = entered - 1 WHERE version_id = {id} AND minute = {}",
        minute_of(at(3))
    )))
    .execute(ts.store.pool())
    .await
    .unwrap();

    // 49 hours on, the engine drops what is older than 48 hours; what is
    // kept still equals its rows, and a late entry at an old minute is
    // not compared (the next tick drops it).
    s.tick(at(49 * HOUR)).await.unwrap();
    let kept = s
        .minutes_of(id, minute_of(at(0)), minute_of(at(21)))
        .await
        .unwrap();
    assert!(kept.iter().all(|(_, c)| *c == MinuteCounts::default()));
    s.ingest(&[enter("tr", "late", at(5))]).await.unwrap();
    assert_eq!(s.verify_counters().await.unwrap(), Vec::<String>::new());
    let hours = s.hours_of(id, at(49 * HOUR)).await.unwrap();
    assert_eq!(hours.len(), 48);
});

fn cli(url: &str, args: &[&str]) -> (bool, String, String) {
    let o = journeyctl(url).args(args).output();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

both_backends!(trend_and_list_rates_for_scripts, |ts| {
    let s = &ts.store;
    let now = now_millis();
    publish(s, &simple("live"), now - 2 * HOUR * MINUTE_MS).await;
    // 40 entries between 3 and 7 minutes ago: inside the 15 minutes asked
    // for and the last hour, whichever minute the commands run in.
    let events: Vec<_> = (0..40)
        .map(|i| enter("live", &format!("p-{i}"), now - 7 * MINUTE_MS + i * 6_000))
        .collect();
    s.ingest(&events).await.unwrap();

    let (ok, out, err) = cli(&ts.url, &["trend", "live", "--since", "15m", "--json"]);
    assert!(ok, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["journey"], "live");
    assert_eq!(j["version"], 1);
    let minutes = j["minutes"].as_array().unwrap();
    assert_eq!(minutes.len(), 15);
    let entered: i64 = minutes.iter().map(|m| m["entered"].as_i64().unwrap()).sum();
    assert_eq!(entered, 40);
    for key in ["at", "entered", "converted", "exited", "sent", "failed"] {
        assert!(minutes[0].get(key).is_some(), "{key} in {}", minutes[0]);
    }
    assert_eq!(j["rates"]["last_hour"]["entered"], 0.67);

    let (ok, out, _) = cli(&ts.url, &["trend", "live", "--since", "15m"]);
    assert!(ok);
    assert!(out.starts_with("MINUTE (UTC)"), "{out}");
    assert!(out.contains("\ntotal                    40 "), "{out}");
    assert!(out.contains("live v1 entries "), "{out}");

    let (ok, out, _) = cli(&ts.url, &["list", "--json"]);
    assert!(ok);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rates = &list[0]["rates"];
    assert_eq!(rates["last_hour"]["entered"], 0.67);
    for window in ["last_5m", "last_hour"] {
        for key in ["entered", "converted", "exited", "sent", "failed"] {
            assert!(rates[window][key].is_number(), "{window}.{key}: {rates}");
        }
    }

    let (ok, _, err) = cli(&ts.url, &["trend", "nope"]);
    assert!(!ok);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("unknown journey \"nope\""), "{err}");
    let (ok, _, err) = cli(&ts.url, &["trend", "live", "--since", "3d"]);
    assert!(!ok);
    assert!(
        err.contains("--since 3d: minutes are kept for 48h"),
        "{err}"
    );
    let (ok, _, err) = cli(&ts.url, &["trend", "live", "--version", "7"]);
    assert!(!ok);
    assert!(err.contains("live has no version 7"), "{err}");
});

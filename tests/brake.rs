//! The store-wide brake (`pause --all`, `stop --all`): every live or
//! finished version of the store in one action, its audit rows sharing
//! one incident id, and `resume --incident ID` resuming exactly the
//! versions that brake paused. Checked through the real binary, and at a
//! real HTTP receiver.

mod common;

use std::time::{Duration, Instant};

use common::delivery::*;
use common::*;
use journeyctl::demo::receiver::{Answer, Receiver};

/// The incident id an outcome line names (`incident ID: ...`).
fn incident_in(stdout: &str) -> String {
    let rest = stdout
        .split("incident ")
        .nth(1)
        .unwrap_or_else(|| panic!("no incident in {stdout:?}"));
    rest.split([':', ' ']).next().unwrap().to_string()
}

/// `list --all --json` as (journey, version) -> its `paused` object.
async fn holds(url: &str) -> Vec<(String, i64, serde_json::Value)> {
    let o = run(url, &["list", "--all", "--json"]).await;
    assert!(o.status.success(), "{:?}", text(&o));
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["journey"].as_str().unwrap().to_string(),
                r["version"].as_i64().unwrap(),
                r["paused"].clone(),
            )
        })
        .collect()
}

/// Audit rows of `action` that carry `incident`.
async fn audited(url: &str, action: &str, incident: &str) -> Vec<String> {
    let o = run(url, &["audit", "--json"]).await;
    assert!(o.status.success(), "{:?}", text(&o));
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == action && r["incident"] == incident)
        .map(|r| r["journey"].as_str().unwrap().to_string())
        .collect()
}

both_backends!(
    a_brake_pauses_the_store_and_resume_by_incident_undoes_only_it,
    |ts| {
        emails(ts, "spring", 20).await;
        emails(ts, "summer", 20).await;
        emails(ts, "autumn", 20).await;
        // Paused by someone else before the incident: not the brake's to resume.
        let o = run(
            &ts.url,
            &["pause", "autumn", "--reason", "copy review", "--yes"],
        )
        .await;
        assert!(o.status.success(), "{:?}", text(&o));

        let o = run(
            &ts.url,
            &[
                "pause",
                "--all",
                "--hold",
                "4h",
                "--reason",
                "wrong price",
                "--yes",
            ],
        )
        .await;
        let (out, err) = text(&o);
        assert!(o.status.success(), "{out} {err}");
        let incident = incident_in(&out);
        assert!(out.contains("journeyctl resume --incident"), "{out}");

        let held = holds(&ts.url).await;
        for (journey, _, paused) in &held {
            assert!(paused.is_object(), "{journey} is not paused: {held:?}");
        }
        let by_incident: Vec<&str> = held
            .iter()
            .filter(|(_, _, p)| p["incident"] == incident.as_str())
            .map(|(j, _, _)| j.as_str())
            .collect();
        assert_eq!(by_incident, ["spring", "summer"], "{held:?}");
        let mut rows = audited(&ts.url, "pause", &incident).await;
        rows.sort();
        assert_eq!(
            rows,
            ["spring", "summer"],
            "one audit row per version, one incident"
        );

        let o = run(&ts.url, &["resume", "--incident", &incident, "--yes"]).await;
        assert!(o.status.success(), "{:?}", text(&o));
        let held = holds(&ts.url).await;
        let still: Vec<&str> = held
            .iter()
            .filter(|(_, _, p)| p.is_object())
            .map(|(j, _, _)| j.as_str())
            .collect();
        assert_eq!(still, ["autumn"], "the earlier pause stays: {held:?}");
        let mut rows = audited(&ts.url, "resume", &incident).await;
        rows.sort();
        assert_eq!(rows, ["spring", "summer"]);

        // Nothing left to resume under that incident: refused, saying why.
        let o = run(&ts.url, &["resume", "--incident", &incident, "--yes"]).await;
        assert_eq!(o.status.code(), Some(3), "{:?}", text(&o));
        assert!(
            text(&o).1.contains(&format!("incident {incident}")),
            "{:?}",
            text(&o)
        );
    }
);

both_backends!(
    a_store_wide_stop_stops_every_running_version_in_one_incident,
    |ts| {
        emails(ts, "spring", 10).await;
        emails(ts, "summer", 10).await;
        let o = run(&ts.url, &["finish", "summer", "--yes"]).await;
        assert!(o.status.success(), "{:?}", text(&o));
        let draft = def("name = \"winter\"\n[[steps]]\nkind = \"message\"\naction = \"email\"\n");
        ts.store.apply(&draft, &alice(), at(0)).await.unwrap();

        let o = run(
            &ts.url,
            &["stop", "--all", "--reason", "data leak", "--yes"],
        )
        .await;
        let (out, err) = text(&o);
        assert!(o.status.success(), "{out} {err}");
        let incident = incident_in(&out);
        let mut rows = audited(&ts.url, "stop", &incident).await;
        rows.sort();
        assert_eq!(
            rows,
            ["spring", "summer"],
            "the live and the finished version"
        );
        let o = run(&ts.url, &["list", "--all", "--json"]).await;
        let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        for r in rows.as_array().unwrap() {
            let want = if r["journey"] == "winter" {
                "draft"
            } else {
                "stopped"
            };
            assert_eq!(r["status"], want, "{r}");
        }
        assert_eq!(summary(&ts.store, "spring", 1).await.messages.pending, 0);
    }
);

both_backends!(
    a_brake_needs_yes_without_a_terminal_and_changes_nothing,
    |ts| {
        emails(ts, "spring", 5).await;
        for args in [&["pause", "--all"][..], &["stop", "--all"][..]] {
            let o = run(&ts.url, args).await;
            assert_eq!(o.status.code(), Some(3), "{args:?}: {:?}", text(&o));
            assert!(text(&o).1.contains("--yes"), "{:?}", text(&o));
        }
        let held = holds(&ts.url).await;
        assert!(held.iter().all(|(_, _, p)| p.is_null()), "{held:?}");
        let v = summary(&ts.store, "spring", 1).await;
        assert_eq!(v.status, journeyctl::domain::VersionStatus::Live);
    }
);

/// `--all` goes with no journey and no other target.
#[test]
fn all_and_incident_take_no_journey() {
    for args in [
        &["pause", "spring", "--all"][..],
        &["stop", "--all", "--uses-action", "email"][..],
        &["resume", "spring", "--incident", "x"][..],
        &["stop", "--all", "--incident", "x"][..],
    ] {
        let o = journeyctl_without_store().args(args).output();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {:?}", text(&o));
    }
}

both_backends!(no_request_arrives_after_a_brake_returns, |ts| {
    let dir = tempfile::tempdir().unwrap();
    emails(ts, "spring", 3000).await;
    emails(ts, "summer", 3000).await;
    // Each request answered after 200 ms: the brake always finds batches
    // in flight, and must wait for their answers.
    let rx = Receiver::start(Answer::After {
        delay: Duration::from_millis(200),
        status: 200,
    })
    .await
    .unwrap();
    let file = channels_file(dir.path(), &rx.url("send"), "");
    let worker = start(&ts.url, &["deliver", "--channels", &file, "--workers", "2"]);
    let engine = start(&ts.url, &["run", "--interval", "200ms"]);
    wait_until("deliveries of both", Duration::from_secs(60), || {
        let r = rx.received();
        ["spring", "summer"]
            .iter()
            .all(|j| r.iter().filter(|x| x.body["journey"] == *j).count() >= 100)
    })
    .await;
    let o = run(
        &ts.url,
        &["pause", "--all", "--yes", "--reason", "incident"],
    )
    .await;
    let returned = Instant::now();
    assert!(o.status.success(), "{:?}", text(&o));
    // Workers and the engine run on for a while: nothing more goes out.
    tokio::time::sleep(Duration::from_secs(2)).await;
    worker.sigterm();
    engine.sigterm();
    assert!(wait_child(worker).await.success());
    assert!(wait_child(engine).await.success());
    let received = rx.received();
    let late = received.iter().filter(|r| r.at > returned).count();
    assert_eq!(
        late, 0,
        "{late} request(s) arrived after the brake returned"
    );
    let unanswered = received
        .iter()
        .filter(|r| r.answered.is_none_or(|a| a > returned))
        .count();
    assert_eq!(
        unanswered, 0,
        "request(s) were in flight when the brake returned"
    );
    assert!(
        received.len() < 6000,
        "the brake came too late to prove anything"
    );
});

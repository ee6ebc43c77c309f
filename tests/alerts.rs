//! Alerts pushed to chat: a guardrail's pause is posted once as firing,
//! once as resolved when the version resumes, never twice across separate
//! processes; `alerts --check` exits 1 while one holds; a team's own rule
//! fires; a rules file's mistake is named by file, line and key; `run
//! --alerts` posts beside the engine. Against a real HTTP receiver.

mod common;

use std::time::Duration;

use common::delivery::run;
use common::*;
use journeyctl::demo::receiver::{Answer, Receiver};

fn ok(o: std::process::Output) -> String {
    assert!(o.status.success(), "{}", text(&o).1);
    text(&o).0
}

both_backends!(a_guardrail_trip_is_posted_once_and_resolved_once, |ts| {
    publish(&ts.store, &simple("sale"), at(0)).await;
    let url = ts.url.as_str();
    // An engine went round: nothing holds.
    ok(run(url, &["tick"]).await);
    let said = ok(run(url, &["alerts", "--check"]).await);
    assert_eq!(said.trim(), "no alert holds");
    ok(run(
        url,
        &[
            "--actor",
            "guardrail",
            "pause",
            "sale",
            "--hold",
            "2h",
            "--reason",
            "webhook failing 40%",
            "--yes",
        ],
    )
    .await);
    let o = run(url, &["alerts", "--check", "--json"]).await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o).1);
    let holding: serde_json::Value = serde_json::from_str(&text(&o).0).unwrap();
    assert_eq!(holding[0]["alert"], "guardrail", "{holding}");
    assert_eq!(
        holding[0]["text"],
        "⏸ the guardrail paused sale v1: webhook failing 40%"
    );

    let rx = Receiver::start(Answer::Status(200)).await.unwrap();
    let to = rx.url("chat");
    for _ in 0..2 {
        ok(run(url, &["alerts", "--to", &to, "--once"]).await);
    }
    let got = rx.received();
    assert_eq!(got.len(), 1, "told once: {got:?}");
    assert_eq!(got[0].body["state"], "firing");
    assert_eq!(got[0].body["alert"], "guardrail");
    assert_eq!(got[0].body["journey"], "sale");
    assert_eq!(
        got[0].body["text"],
        "⏸ the guardrail paused sale v1: webhook failing 40%"
    );

    ok(run(url, &["resume", "sale", "--yes"]).await);
    for _ in 0..2 {
        ok(run(url, &["alerts", "--to", &to, "--once"]).await);
    }
    let got = rx.received();
    assert_eq!(got.len(), 2, "resolved once: {got:?}");
    assert_eq!(got[1].body["state"], "resolved");
    assert_eq!(got[1].body["alert"], "guardrail");
    assert!(
        got[1].body["text"]
            .as_str()
            .unwrap()
            .starts_with("✓ resolved: ")
    );
    assert_eq!(
        ok(run(url, &["alerts", "--check"]).await).trim(),
        "no alert holds"
    );

    // A receiver that fails: not told, so told at the next round.
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("alerts.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nname = \"sale volume\"\njourney = \"sale\"\nsent_per_hour_below = 100\n",
    )
    .unwrap();
    let rules = rules.to_str().unwrap();
    rx.set_answer(Answer::Status(500));
    let o = run(url, &["alerts", "--rules", rules, "--to", &to, "--once"]).await;
    assert!(
        text(&o).1.contains("not posted (tried again next round)"),
        "{}",
        text(&o).1
    );
    rx.set_answer(Answer::Status(200));
    ok(run(url, &["alerts", "--rules", rules, "--to", &to, "--once"]).await);
    let got: Vec<_> = rx
        .received()
        .into_iter()
        .filter(|r| r.status == Some(200))
        .collect();
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[2].body["alert"], "rule:sale volume");
    assert_eq!(
        got[2].body["text"],
        "sale v1 sent 0 in the last hour, below 100 (sale volume)"
    );
});

/// A rules file's mistake stops the command in one line naming the file,
/// the line and the key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rules_file_mistake_is_named_by_file_line_and_key() {
    let ts = sqlite("alerts_rules").await;
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("alerts.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nname = \"x\"\nwindow = \"5m\"\nfailing_share_above = \"many\"\n",
    )
    .unwrap();
    let o = run(
        &ts.url,
        &["alerts", "--check", "--rules", rules.to_str().unwrap()],
    )
    .await;
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o).1;
    assert!(
        err.contains(&format!(
            "{}:4: failing_share_above: a share is \"20%\" or 0.2",
            rules.display()
        )),
        "{err}"
    );
    ts.close().await;
}

/// `run --alerts URL` posts beside the engine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_posts_alerts_beside_the_engine() {
    let ts = sqlite("alerts_run").await;
    publish(&ts.store, &simple("sale"), at(0)).await;
    ok(run(
        &ts.url,
        &[
            "--actor",
            "guardrail",
            "pause",
            "sale",
            "--hold",
            "2h",
            "--reason",
            "too many bounces",
            "--yes",
        ],
    )
    .await);
    let rx = Receiver::start(Answer::Status(200)).await.unwrap();
    let engine = journeyctl(&ts.url)
        .args(["run", "--interval", "100ms", "--alerts", &rx.url("chat")])
        .spawn();
    let mut waited = Duration::ZERO;
    while rx.count() == 0 && waited < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += Duration::from_millis(100);
    }
    engine.kill();
    let got = rx.received();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].body["alert"], "guardrail");
    ts.close().await;
}

both_backends!(an_action_failing_above_a_fifth_is_an_alert, |ts| {
    publish(&ts.store, &simple("sale"), at(0)).await;
    let events: Vec<_> = (0..20)
        .map(|i| enter("sale", &format!("p{i}"), at(1)))
        .collect();
    ts.store.ingest(&events).await.unwrap();
    ts.store.tick(at(2)).await.unwrap();
    let t0 = journeyctl::domain::time::now_millis();
    let failing = |list: &[journeyctl::alerts::Firing]| {
        list.iter()
            .filter(|f| f.key == "failing:action email")
            .map(|f| f.text.clone())
            .collect::<Vec<_>>()
    };
    // The first look notes the totals: nothing failed yet.
    let now = journeyctl::alerts::holding(&ts.store, &[], t0)
        .await
        .unwrap();
    assert!(failing(&now).is_empty(), "{now:?}");
    // The receiver refuses every message: all 20 given up.
    let rx = Receiver::start(Answer::Status(400)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = channels_file(dir.path(), &rx.url("send"), "");
    ok(run(&ts.url, &["deliver", "--channels", &file, "--once"]).await);
    ts.store.fold_shares().await.unwrap();
    let later = journeyctl::alerts::holding(&ts.store, &[], t0 + 11 * 60_000)
        .await
        .unwrap();
    assert_eq!(
        failing(&later),
        ["✉ 100% of email's messages failed over the last 11m (20 of 20)"],
        "{later:?}"
    );
});

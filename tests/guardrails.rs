//! Guardrails (SPEC §2c): rules that pause versions by themselves, audited
//! with actor `guardrail` and a reason naming the rule and the figures: a
//! channel that starts failing, checked at a real HTTP server on
//! 127.0.0.1, and a flood of entries.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::delivery::*;
use common::*;
use journeyctl::demo::receiver::{Answer, Receiver};

async fn list_json(url: &str) -> serde_json::Value {
    serde_json::from_slice(&run(url, &["list", "--json"]).await.stdout).unwrap()
}

both_backends!(a_failing_channel_trips_its_guardrail, |ts| {
    let dir = tempfile::tempdir().unwrap();
    emails(ts, "shaky", 40).await;
    let rx = Receiver::start(Answer::Status(200)).await.unwrap();
    let rule = "pause_when_failing = { share = \"20%\", over = \"5m\", at_least = 10 }\n";
    let file = channels_file(dir.path(), &rx.url("send"), rule);
    let worker = journeyctl(&ts.url)
        .args([
            "deliver",
            "--channels",
            &file,
            "--workers",
            "1",
            "--batch",
            "5",
        ])
        .spawn();
    wait_until("ten sent", Duration::from_secs(30), || rx.count() >= 10).await;
    rx.set_answer(Answer::Status(503));
    let start = std::time::Instant::now();
    let paused = loop {
        let list = list_json(&ts.url).await;
        if !list[0]["paused"].is_null() {
            break list[0]["paused"].clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "never paused: {list}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(paused["by"], "guardrail");
    let reason = paused["reason"].as_str().unwrap().to_string();
    assert!(reason.contains("failing over 5m ("), "{reason}");
    assert!(
        reason.ends_with("attempts through email; the rule pauses at 20%)"),
        "{reason}"
    );
    // From the moment the pause commits, no request of the version.
    let at_pause = rx.count();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(rx.count(), at_pause, "a request arrived after the pause");
    let audit: serde_json::Value =
        serde_json::from_slice(&run(&ts.url, &["audit", "--json"]).await.stdout).unwrap();
    assert_eq!(
        (audit[0]["actor"].as_str(), audit[0]["action"].as_str()),
        (Some("guardrail"), Some("pause"))
    );
    assert_eq!(audit[0]["reason"].as_str(), Some(reason.as_str()));
    worker.sigterm();
    let out = worker.finish_async(Duration::from_secs(30)).await;
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("guardrail paused shaky v1: "), "{said}");
    // Fixed: a resume lets the rest go, each message once.
    rx.set_answer(Answer::Status(200));
    let o = run(&ts.url, &["resume", "shaky", "--yes"]).await;
    assert!(o.status.success(), "{}", text(&o).1);
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let o = run(&ts.url, &["deliver", "--channels", &file, "--once"]).await;
    assert!(o.status.success(), "{}", text(&o).1);
    let mut ok: BTreeMap<String, usize> = BTreeMap::new();
    for r in rx.received() {
        if r.status == Some(200) {
            *ok.entry(r.key).or_default() += 1;
        }
    }
    assert_eq!(ok.len(), 40, "every message went out");
    assert!(ok.values().all(|n| *n == 1), "a message went out twice");
});

both_backends!(a_flood_of_entries_trips_the_entry_guardrail, |ts| {
    let dir = tempfile::tempdir().unwrap();
    let d = def(
        "name = \"flood\"\npause_when_entries = { per_minute = 5 }\n\
         [[steps]]\nkind = \"wait\"\nduration = \"1d\"\n",
    );
    publish(&ts.store, &d, at(0)).await;
    let file = dir.path().join("entries.ndjson");
    let lines: Vec<String> = (0..8)
        .map(|i| {
            format!(
                "{{\"type\":\"enter\",\"journey\":\"flood\",\"profile\":\"p-{i}\",\"at\":\"2026-11-21T10:00:{:02}Z\"}}",
                10 + i
            )
        })
        .collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let o = run(&ts.url, &["ingest", file.to_str().unwrap()]).await;
    assert!(o.status.success(), "{}", text(&o).1);
    assert!(
        text(&o).1.contains(
            "guardrail paused flood v1: 8 entries in one minute, over 5/min (pause_when_entries)"
        ),
        "{}",
        text(&o).1
    );
    let list = list_json(&ts.url).await;
    assert_eq!(list[0]["paused"]["by"], "guardrail");
    assert_eq!(list[0]["entry_open"], false);
    let audit: serde_json::Value =
        serde_json::from_slice(&run(&ts.url, &["audit", "--json"]).await.stdout).unwrap();
    assert_eq!(audit[0]["actor"], "guardrail");
    // Entries stop at the pause.
    let more = dir.path().join("more.ndjson");
    std::fs::write(
        &more,
        "{\"type\":\"enter\",\"journey\":\"flood\",\"profile\":\"late\",\"at\":\"2026-11-21T10:01:30Z\"}\n",
    )
    .unwrap();
    let o = run(&ts.url, &["ingest", more.to_str().unwrap()]).await;
    assert!(text(&o).0.contains(" 0 entered, "), "{}", text(&o).0);
});

// The entry guardrail at its figure: 5 entries in a minute under a rule
// of 5/min pause nothing; the sixth in that minute does.
both_backends!(the_entry_guardrail_trips_just_over_its_figure, |ts| {
    let dir = tempfile::tempdir().unwrap();
    let d = def("name = \"edge\"\npause_when_entries = { per_minute = 5 }\n\
         [[steps]]\nkind = \"wait\"\nduration = \"1d\"\n");
    publish(&ts.store, &d, at(0)).await;
    let line = |i: usize| {
        format!(
            "{{\"type\":\"enter\",\"journey\":\"edge\",\"profile\":\"p-{i}\",\"at\":\"2026-11-21T10:00:{:02}Z\"}}\n",
            10 + i
        )
    };
    let file = dir.path().join("five.ndjson");
    std::fs::write(&file, (0..5).map(line).collect::<String>()).unwrap();
    let o = run(&ts.url, &["ingest", file.to_str().unwrap()]).await;
    assert!(o.status.success(), "{}", text(&o).1);
    assert!(!text(&o).1.contains("guardrail paused"), "{}", text(&o).1);
    assert!(list_json(&ts.url).await[0]["paused"].is_null());
    std::fs::write(&file, line(5)).unwrap();
    let o = run(&ts.url, &["ingest", file.to_str().unwrap()]).await;
    assert!(
        text(&o).1.contains(
            "guardrail paused edge v1: 6 entries in one minute, over 5/min (pause_when_entries)"
        ),
        "{}",
        text(&o).1
    );
    assert_eq!(list_json(&ts.url).await[0]["paused"]["by"], "guardrail");
});

#[test]
fn a_bad_guardrail_names_its_line_and_key() {
    use journeyctl::delivery::Channels;
    let file = std::path::Path::new("channels.toml");
    let text = "[channels.email]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/x\"\n\
                pause_when_failing = { share = \"120%\", over = \"5m\" }\n";
    assert_eq!(
        Channels::parse(file, text, &|_| None).unwrap_err(),
        "channels.toml:4: channels.email.pause_when_failing: share \"120%\": must be above 0% and at most 100%"
    );
    let bad = journeyctl::domain::Definition::from_toml(
        "name = \"x\"\npause_when_entries = { per_minute = 0 }\n[[steps]]\nkind = \"wait\"\nduration = \"1d\"\n",
    );
    assert!(
        bad.unwrap_err()
            .contains("pause_when_entries.per_minute must be 1 or more")
    );
}

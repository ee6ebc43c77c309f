//! Operators' acts on the trends: `trend` lists the audit rows of the
//! version and of the actions it uses beside its minutes (`ACTS`, and
//! `events` in `--json`), never another version's; `--metrics` serves the
//! statuses and holds as gauges.

mod common;

use common::delivery::run;
use common::*;

fn ok_out(o: std::process::Output) -> String {
    assert!(o.status.success(), "{}", text(&o).1);
    text(&o).0
}

both_backends!(trend_carries_what_operators_did, |ts| {
    publish(&ts.store, &simple("sale"), at(0)).await;
    let other = "name = \"other\"\n[[steps]]\nkind = \"message\"\naction = \"webhook:crm\"\n";
    publish(&ts.store, &def(other), at(0)).await;
    let url = ts.url.as_str();
    let act = |args: &'static [&'static str]| async move { ok_out(run(url, args).await) };
    act(&["--actor", "bob", "note", "sale", "CRM sync paused"]).await;
    act(&[
        "--actor",
        "alice",
        "pause",
        "sale",
        "--hold",
        "1h",
        "--reason",
        "check CRM",
        "--yes",
    ])
    .await;
    act(&["--actor", "alice", "resume", "sale", "--yes"]).await;
    act(&[
        "--actor",
        "carol",
        "hold",
        "--action",
        "email",
        "--reason",
        "smtp down",
        "--yes",
    ])
    .await;
    act(&[
        "--actor",
        "carol",
        "hold",
        "--action",
        "webhook:crm",
        "--yes",
    ])
    .await;
    act(&["--actor", "dave", "note", "other", "not this one"]).await;

    let out = run(url, &["trend", "sale", "--since", "10m", "--json"]).await;
    let json: serde_json::Value = serde_json::from_str(&ok_out(out)).unwrap();
    let events = json["events"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["by"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("note", "bob"),
            ("pause", "alice"),
            ("resume", "alice"),
            ("hold", "carol")
        ],
        "{json}"
    );
    assert_eq!(events[0]["reason"], "CRM sync paused");
    assert_eq!(events[3]["subject"], "email", "the action sale uses");
    assert!(events[0]["at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(json["minutes"].as_array().unwrap().len(), 10);

    let table = ok_out(run(url, &["trend", "sale", "--since", "10m"]).await);
    assert!(table.lines().next().unwrap().ends_with("ACTS"), "{table}");
    // Each minute's letters after its five figures, in time order.
    let acts: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("20"))
        .flat_map(|l| l.split_whitespace().skip(7))
        .collect();
    assert_eq!(acts, ["n", "p", "r", "h"], "{table}");
    assert!(
        table.contains(" hold email by carol: smtp down\n"),
        "{table}"
    );
    assert!(!table.contains("not this one"), "{table}");
});

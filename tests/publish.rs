//! A publish that asks: `publish` finishes the live version, so like
//! `finish` it shows its impact, asks on a terminal and needs `--yes`
//! without one (exit 3, nothing changed); `apply --publish` asks when it
//! would finish a live version. Through the real binary.

mod common;

use common::delivery::*;
use common::*;

/// `name`: email, then a day's wait (its participants stay inside).
fn definition(dir: &std::path::Path, name: &str, action: &str) -> String {
    let path = dir.join(format!("{name}-{action}.toml"));
    std::fs::write(
        &path,
        format!(
            "name = \"{name}\"\n[[steps]]\nkind = \"message\"\naction = \"{action}\"\n\
             [[steps]]\nkind = \"wait\"\nduration = \"1d\"\n"
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

/// (version, status) of every version of the store.
async fn statuses(url: &str) -> Vec<(i64, String)> {
    let o = run(url, &["list", "--all", "--json"]).await;
    assert!(o.status.success(), "{:?}", text(&o));
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut out: Vec<(i64, String)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["version"].as_i64().unwrap(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

both_backends!(a_publish_needs_yes_without_a_terminal_and_says_why, |ts| {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A first publish through apply: nothing is live, so nothing to ask.
    let o = run(
        &ts.url,
        &["apply", &definition(d, "cart", "email"), "--publish"],
    )
    .await;
    assert!(o.status.success(), "{:?}", text(&o));
    ts.store
        .ingest(&[enter("cart", "p-1", at(1))])
        .await
        .unwrap();

    // A new draft: publishing it finishes v1 with p-1 inside.
    let o = run(&ts.url, &["apply", &definition(d, "cart", "sms")]).await;
    assert!(o.status.success(), "{:?}", text(&o));
    let o = run(&ts.url, &["publish", "cart"]).await;
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out} {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("publish cart v2 needs --yes"), "{err}");
    assert_eq!(
        statuses(&ts.url).await,
        vec![(1, "live".into()), (2, "draft".into())]
    );

    // apply --publish over a live version asks too: the draft is written,
    // nothing is published.
    let o = run(
        &ts.url,
        &["apply", &definition(d, "cart", "push"), "--publish"],
    )
    .await;
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out} {err}");
    assert!(out.contains("updated cart v2 (draft)"), "{out}");
    assert!(err.contains("publish cart v2 needs --yes"), "{err}");
    assert_eq!(
        statuses(&ts.url).await,
        vec![(1, "live".into()), (2, "draft".into())]
    );

    // With --yes and a reason: v2 live, v1 finished with p-1 carrying on,
    // the reason on both audit rows.
    let o = run(
        &ts.url,
        &["publish", "cart", "--reason", "push copy", "--yes"],
    )
    .await;
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out} {err}");
    assert!(out.contains("published cart v2"), "{out}");
    assert_eq!(
        statuses(&ts.url).await,
        vec![(1, "finished".into()), (2, "live".into())]
    );
    assert_eq!(summary(&ts.store, "cart", 1).await.counts.active, 1);
    let o = run(&ts.url, &["audit", "--json"]).await;
    let audit: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let row = |action: &str| {
        audit
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["action"] == action)
            .unwrap_or_else(|| panic!("no {action} row: {audit}"))
            .clone()
    };
    assert_eq!(row("publish")["reason"], "push copy");
    assert_eq!(row("publish")["version"], 2);
    assert_eq!(row("finish")["reason"], "replaced by v2: push copy");
    assert_eq!(row("finish")["affected_active"], 1);
});

both_backends!(a_publish_preview_names_what_it_finishes_and_changes, |ts| {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = run(
        &ts.url,
        &["apply", &definition(d, "cart", "email"), "--publish"],
    )
    .await;
    assert!(o.status.success(), "{:?}", text(&o));
    let p = ts.store.publish_preview("cart").await;
    assert!(p.is_err(), "no draft to publish: {p:?}");
    ts.store
        .ingest(&[enter("cart", "p-1", at(1)), enter("cart", "p-2", at(1))])
        .await
        .unwrap();
    let o = run(&ts.url, &["apply", &definition(d, "cart", "webhook:crm")]).await;
    assert!(o.status.success(), "{:?}", text(&o));
    let p = ts.store.publish_preview("cart").await.unwrap();
    assert_eq!(
        journeyctl::present::publish_lines(&p),
        vec![
            "finishes v1: 2 active go on to the end; new entries go to v2",
            "step 1: message email -> message webhook:crm",
            "action added: webhook:crm",
            "action no longer used: email",
        ]
    );
});

/// The tmux session of one variant of a test.
fn session(what: &str) -> String {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!("{what}-{n}")
}

both_backends!(a_publish_on_a_terminal_shows_its_impact_and_asks, |ts| {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = run(
        &ts.url,
        &["apply", &definition(d, "cart", "email"), "--publish"],
    )
    .await;
    assert!(o.status.success(), "{:?}", text(&o));
    let entries: Vec<_> = (0..40)
        .map(|i| enter("cart", &format!("p-{i}"), at(1)))
        .collect();
    ts.store.ingest(&entries).await.unwrap();
    let o = run(&ts.url, &["apply", &definition(d, "cart", "sms")]).await;
    assert!(o.status.success(), "{:?}", text(&o));
    let command = format!(
        "DATABASE_URL='{}' {} --actor erin publish cart; echo \"exit $?\"; sleep 60",
        ts.url,
        bin()
    );
    // Anything but y: nothing changes.
    let t = common::tmux::Tmux::start(&session("publish-no"), &command, 100, 20);
    let screen = t.wait_for("Publish? [y/N]");
    assert!(screen.contains("About to publish cart v2:"), "{screen}");
    assert!(
        screen.contains("finishes v1: 40 active go on to the end; new entries go to v2"),
        "{screen}"
    );
    assert!(
        screen.contains("step 1: message email -> message sms"),
        "{screen}"
    );
    t.text("n");
    t.keys(&["Enter"]);
    t.wait_for("exit 3");
    drop(t);
    assert_eq!(
        statuses(&ts.url).await,
        vec![(1, "live".into()), (2, "draft".into())]
    );
    // y: published.
    let t = common::tmux::Tmux::start(&session("publish-yes"), &command, 100, 20);
    t.wait_for("Publish? [y/N]");
    t.text("y");
    t.keys(&["Enter"]);
    let screen = t.wait_for("exit 0");
    assert!(screen.contains("published cart v2"), "{screen}");
    assert_eq!(
        statuses(&ts.url).await,
        vec![(1, "finished".into()), (2, "live".into())]
    );
});

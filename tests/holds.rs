//! One action held (`journeyctl hold --action`): from the moment the hold
//! returns no request of it reaches the receiver while the journey's other
//! actions keep arriving, its messages stay pending (counted as held),
//! and `release` (or the hold running out) lets them go. Two real
//! `deliver` processes and a real receiver on 127.0.0.1.

mod common;

use std::time::{Duration, Instant};

use common::delivery::*;
use common::*;
use journeyctl::demo::receiver::{Answer, Receiver};

/// `name`: each of `n` profiles gets an email and a CRM webhook.
async fn two_actions(ts: &TestStore, name: &str, n: usize) {
    let d = def(&format!(
        "name = \"{name}\"\n[[steps]]\nkind = \"message\"\naction = \"email\"\n\
         [[steps]]\nkind = \"message\"\naction = \"webhook:crm\"\n\
         [[steps]]\nkind = \"wait\"\nduration = \"1d\"\n"
    ));
    publish(&ts.store, &d, at(0)).await;
    let entries: Vec<_> = (0..n)
        .map(|i| enter(name, &format!("{name}-{i}"), at(0)))
        .collect();
    ts.store.ingest(&entries).await.unwrap();
    ts.store.tick(at(1)).await.unwrap();
}

/// Both actions to `rx`, each at `rate`.
fn channels(dir: &std::path::Path, rx: &Receiver, rate: &str) -> String {
    let path = dir.join("channels.toml");
    std::fs::write(
        &path,
        format!(
            "[channels.email]\nkind = \"webhook\"\nurl = \"{}\"\nrate = \"{rate}\"\n\
             [channels.\"webhook:crm\"]\nkind = \"webhook\"\nurl = \"{}\"\nrate = \"{rate}\"\n",
            rx.url("email"),
            rx.url("crm")
        ),
    )
    .unwrap();
    path.display().to_string()
}

/// Requests of `action` that arrived at or after `from`.
fn of_after(rx: &Receiver, action: &str, from: Instant) -> usize {
    rx.received()
        .iter()
        .filter(|r| r.body["action"] == action && r.at >= from)
        .count()
}

fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

async fn ok(url: &str, args: &[&str]) -> String {
    let mut all = vec!["--actor", "alice"];
    all.extend_from_slice(args);
    let o = run(url, &all).await;
    assert!(o.status.success(), "{args:?}: {}", text(&o).1);
    text(&o).0
}

both_backends!(a_held_action_sends_nothing_while_the_others_go_on, |ts| {
    let dir = tempfile::tempdir().unwrap();
    two_actions(ts, "sale", 400).await;
    let rx = Receiver::start(Answer::Status(200)).await.unwrap();
    let file = channels(dir.path(), &rx, "60/s");
    let workers = [
        start(&ts.url, &["deliver", "--channels", &file]),
        start(&ts.url, &["deliver", "--channels", &file]),
    ];
    let t0 = Instant::now();
    wait_until("crm requests", Duration::from_secs(30), || {
        of_after(&rx, "webhook:crm", t0) >= 20
    })
    .await;
    // Without a terminal it needs --yes, and nothing is held.
    let o = run(&ts.url, &["hold", "--action", "webhook:crm"]).await;
    assert_eq!(o.status.code(), Some(3), "{}", text(&o).1);
    let out = ok(
        &ts.url,
        &[
            "hold",
            "--action",
            "webhook:crm",
            "--reason",
            "crm down",
            "--yes",
        ],
    )
    .await;
    let held = Instant::now();
    assert!(out.starts_with("held webhook:crm"), "{out}");
    assert!(
        out.contains("no message of it is claimed from now"),
        "{out}"
    );
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        of_after(&rx, "webhook:crm", held),
        0,
        "a request of the held action after the hold returned"
    );
    assert!(
        of_after(&rx, "email", held) >= 20,
        "email stopped too: {} after the hold",
        of_after(&rx, "email", held)
    );
    // Counted as held, where operators look.
    let health = json(&run(&ts.url, &["channels", "--json"]).await);
    let crm = health
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["action"] == "webhook:crm")
        .unwrap();
    assert!(crm["held"].as_i64().unwrap() > 0, "{crm}");
    assert_eq!(crm["held"], crm["pending"], "{crm}");
    assert_eq!(crm["hold"]["by"], "alice", "{crm}");
    let list = json(&run(&ts.url, &["list", "--json"]).await);
    assert_eq!(list[0]["messages"]["held"], crm["pending"], "{list}");
    let table = text(&run(&ts.url, &["channels"]).await).0;
    assert!(table.contains("⏸ held by alice since "), "{table}");
    // A second hold of it says who holds it.
    let o = run(&ts.url, &["hold", "--action", "webhook:crm", "--yes"]).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).1.contains("is already held (by alice since"),
        "{}",
        text(&o).1
    );

    // Released: its messages go out again.
    let out = ok(&ts.url, &["release", "--action", "webhook:crm", "--yes"]).await;
    assert!(out.starts_with("released webhook:crm"), "{out}");
    let released = Instant::now();
    wait_until(
        "crm requests after the release",
        Duration::from_secs(10),
        || of_after(&rx, "webhook:crm", released) >= 10,
    )
    .await;
    for w in &workers {
        w.sigterm();
    }
    for w in workers {
        assert!(wait_child(w).await.success());
    }
    let audit = json(&run(&ts.url, &["audit", "--json"]).await);
    let rows: Vec<(String, String)> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["subject"] == "action:webhook:crm")
        .map(|r| {
            (
                r["action"].as_str().unwrap().into(),
                r["actor"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("release".into(), "alice".into()),
            ("hold".into(), "alice".into())
        ],
        "{audit:#}"
    );
});

both_backends!(a_hold_for_a_while_is_released_by_the_engine, |ts| {
    two_actions(ts, "sale", 3).await;
    ok(
        &ts.url,
        &["hold", "--action", "webhook", "--for", "10m", "--yes"],
    )
    .await;
    let holds = ts.store.action_holds().await.unwrap();
    assert_eq!(holds.len(), 1);
    let until = holds[0].until.expect("a hold for 10m runs out");
    // `webhook` holds `webhook:crm`: nothing of it is claimed.
    let claimed = ts
        .store
        .claim(1, &["webhook:crm".to_string()], 10, 5_000, "t")
        .await
        .unwrap();
    assert!(claimed.is_empty(), "{claimed:?}");
    let before = journeyctl::domain::time::to_rfc3339(until - 1_000);
    run(&ts.url, &["tick", "--now", &before]).await;
    assert_eq!(ts.store.action_holds().await.unwrap().len(), 1, "not yet");
    let after = journeyctl::domain::time::to_rfc3339(until + 1_000);
    let o = run(&ts.url, &["tick", "--now", &after]).await;
    assert!(o.status.success(), "{}", text(&o).1);
    assert!(ts.store.action_holds().await.unwrap().is_empty());
    let audit = json(&run(&ts.url, &["audit", "--json"]).await);
    let top = &audit[0];
    assert_eq!(
        (&top["action"], &top["subject"], &top["actor"]),
        (
            &"hold_expired".into(),
            &"action:webhook".into(),
            &"expiry".into()
        ),
        "{audit:#}"
    );
    let claimed = ts
        .store
        .claim(1, &["webhook:crm".to_string()], 10, 5_000, "t")
        .await
        .unwrap();
    assert_eq!(claimed.len(), 3, "released: its messages are claimed again");
    // Given back unsent: the counters stay exact.
    let attempts: Vec<_> = claimed
        .iter()
        .map(|c| {
            (
                c.clone(),
                journeyctl::store::Attempt::Retry {
                    after_ms: 0,
                    error: "test".into(),
                },
            )
        })
        .collect();
    ts.store.record(1, "t", &attempts, at(2)).await.unwrap();
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_postgres,
    ignore = "PostgreSQL skipped: set JOURNEYCTL_TEST_POSTGRES_URL"
)]
async fn no_login_holds_or_releases_an_action_without_its_audit_row() {
    use common::roles::{Roles, ok, try_sql, write_def};
    let Some(roles) = Roles::create("holds").await else {
        return;
    };
    let [admin, alice, _bob, carol] = [0, 1, 2, 3].map(|i| roles.names[i].clone());
    let dir = tempfile::tempdir().unwrap();
    let admin_url = roles.url(&admin);
    ok(&admin_url, &["migrate"]);
    ok(&admin_url, &["grant", "--operator", &alice]);
    ok(&admin_url, &["grant", "--engine", &carol]);
    ok(
        &roles.url(&alice),
        &["apply", &write_def(dir.path(), "sale"), "--publish"],
    );
    // Through the product: held, and audited.
    ok(&roles.url(&alice), &["hold", "--action", "email", "--yes"]);
    for who in [&alice, &admin, &carol] {
        let pool = roles.pool(who).await;
        for sql in [
            "DELETE FROM action_holds",
            "UPDATE action_holds SET until_ms = 0",
            "INSERT INTO action_holds (action, held_at, held_by) VALUES ('sms', 0, 'x')",
            "INSERT INTO action_overdue (version_id, action, mode, before_ms) \
             VALUES (1, 'email', 'skip', 9000000000000)",
        ] {
            let why = try_sql(&pool, sql).await.expect_err(sql);
            assert!(
                why.contains("without an audit row")
                    || why.contains("without the release that makes it")
                    || why.contains("permission denied"),
                "{who}: {sql}: {why}"
            );
        }
        pool.close().await;
    }
    ok(
        &roles.url(&alice),
        &["release", "--action", "email", "--yes"],
    );
    roles.drop_all().await;
}

both_backends!(a_stop_cancels_held_messages_like_pending_ones, |ts| {
    two_actions(ts, "sale", 5).await;
    ok(&ts.url, &["hold", "--action", "webhook:crm", "--yes"]).await;
    let list = json(&run(&ts.url, &["list", "--json"]).await);
    assert_eq!(list[0]["messages"]["held"], 5, "{list}");
    let out = ok(&ts.url, &["stop", "sale", "--yes"]).await;
    assert!(out.contains("10 pending message(s) cancelled"), "{out}");
    let v = summary(&ts.store, "sale", 1).await;
    assert_eq!((v.messages.pending, v.messages.cancelled), (0, 10));
    assert_eq!(v.messages.held, 0);
});

both_backends!(a_release_skips_or_spreads_what_fell_due_while_held, |ts| {
    two_actions(ts, "sale", 4).await;
    // Skipped: the held action's overdue messages are cancelled, counted,
    // and none is claimed; email is untouched.
    ok(&ts.url, &["hold", "--action", "webhook:crm", "--yes"]).await;
    let out = ok(
        &ts.url,
        &[
            "release",
            "--action",
            "webhook:crm",
            "--overdue",
            "skip",
            "--yes",
        ],
    )
    .await;
    assert!(out.starts_with("released webhook:crm"), "{out}");
    let crm = ts
        .store
        .claim(1, &["webhook:crm".to_string()], 10, 5_000, "t")
        .await
        .unwrap();
    assert!(crm.is_empty(), "skipped messages were claimed: {crm:?}");
    let v = summary(&ts.store, "sale", 1).await;
    assert_eq!((v.messages.pending, v.messages.cancelled), (4, 4), "{v:?}");
    let audit = json(&run(&ts.url, &["audit", "--json"]).await);
    assert_eq!(audit[0]["to"], "sending (overdue: skip)", "{audit:#}");

    // Spread over 10 minutes: none is due now, all are still pending.
    ok(&ts.url, &["hold", "--action", "email", "--yes"]).await;
    ok(
        &ts.url,
        &[
            "release",
            "--action",
            "email",
            "--overdue",
            "spread=10m",
            "--yes",
        ],
    )
    .await;
    let now = ts
        .store
        .claim(1, &["email".to_string()], 10, 5_000, "t")
        .await
        .unwrap();
    assert!(now.len() <= 1, "spread over 10m, {} due at once", now.len());
    if !now.is_empty() {
        let back: Vec<_> = now
            .iter()
            .map(|c| {
                (
                    c.clone(),
                    journeyctl::store::Attempt::Retry {
                        after_ms: 0,
                        error: "test".into(),
                    },
                )
            })
            .collect();
        ts.store.record(1, "t", &back, at(2)).await.unwrap();
    }
    let v = summary(&ts.store, "sale", 1).await;
    assert_eq!((v.messages.pending, v.messages.cancelled), (4, 4), "{v:?}");
});

both_backends!(a_hold_that_runs_out_can_cancel_what_it_held, |ts| {
    two_actions(ts, "sale", 3).await;
    ok(
        &ts.url,
        &[
            "hold",
            "--action",
            "webhook:crm",
            "--for",
            "10m",
            "--on-expiry",
            "cancel",
            "--yes",
        ],
    )
    .await;
    let until = ts.store.action_holds().await.unwrap()[0].until.unwrap();
    let after = journeyctl::domain::time::to_rfc3339(until + 1_000);
    let o = run(&ts.url, &["tick", "--now", &after]).await;
    assert!(o.status.success(), "{}", text(&o).1);
    assert!(ts.store.action_holds().await.unwrap().is_empty());
    // The next claim cancels them before any can go.
    let crm = ts
        .store
        .claim(1, &["webhook:crm".to_string()], 10, 5_000, "t")
        .await
        .unwrap();
    assert!(crm.is_empty(), "{crm:?}");
    let v = summary(&ts.store, "sale", 1).await;
    assert_eq!((v.messages.pending, v.messages.cancelled), (3, 3), "{v:?}");
    let audit = json(&run(&ts.url, &["audit", "--json"]).await);
    assert_eq!(
        (&audit[0]["action"], &audit[0]["to"]),
        (&"hold_expired".into(), &"cancelled".into()),
        "{audit:#}"
    );
});

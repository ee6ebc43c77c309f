//! Resume and overdue messages (SPEC §2c): `resume --overdue
//! send|skip|spread=DUR` decides what happens to messages that fell due
//! during the hold, checked at a real HTTP server on 127.0.0.1, audited
//! with the choice and the count; the counters stay exact.

mod common;

use std::time::Duration;

use common::delivery::*;
use common::*;
use journeyctl::demo::receiver::{Answer, Receiver};

/// `name` with `n` emails due (enqueued long ago), then paused.
async fn held(ts: &TestStore, name: &str, n: usize) {
    emails(ts, name, n).await;
    let o = run(&ts.url, &["pause", name, "--yes"]).await;
    assert!(o.status.success(), "{}", text(&o).1);
}

async fn audit0(url: &str) -> serde_json::Value {
    let audit: serde_json::Value =
        serde_json::from_slice(&run(url, &["audit", "--json"]).await.stdout).unwrap();
    audit[0].clone()
}

both_backends!(skip_cancels_what_fell_due_during_the_hold, |ts| {
    let dir = tempfile::tempdir().unwrap();
    held(ts, "skipped", 10).await;
    let o = run(
        &ts.url,
        &["resume", "skipped", "--yes", "--overdue", "skip"],
    )
    .await;
    assert!(o.status.success(), "{}", text(&o).1);
    assert!(
        text(&o)
            .0
            .contains("; 10 overdue message(s) skipped (cancelled as overdue)"),
        "{}",
        text(&o).0
    );
    // Skipped messages are not among those delivered.
    assert!(
        text(&o)
            .0
            .contains(" 0 pending message(s) will be delivered;"),
        "{}",
        text(&o).0
    );
    let a = audit0(&ts.url).await;
    assert_eq!(
        (a["action"].as_str(), a["overdue"].as_str()),
        (Some("resume"), Some("skip"))
    );
    assert_eq!(a["overdue_count"], 10);
    let rx = Receiver::start(Answer::Status(200)).await.unwrap();
    let file = channels_file(dir.path(), &rx.url("send"), "");
    let o = run(&ts.url, &["deliver", "--channels", &file, "--once"]).await;
    assert_eq!(text(&o).0.trim(), "delivered: 0 sent, 0 to retry, 0 failed");
    assert_eq!(rx.count(), 0, "a skipped message went out");
    let v = summary(&ts.store, "skipped", 1).await;
    assert_eq!((v.messages.pending, v.messages.cancelled), (0, 10));
    assert_counters_exact(&ts.store).await;
    let plain = run(&ts.url, &["audit"]).await;
    assert!(
        text(&plain).0.contains("messages 10 overdue: skip"),
        "{}",
        text(&plain).0
    );
});

both_backends!(spread_sends_them_evenly_over_the_time, |ts| {
    let dir = tempfile::tempdir().unwrap();
    held(ts, "spread", 10).await;
    let o = run(
        &ts.url,
        &["resume", "spread", "--yes", "--overdue", "spread=10m"],
    )
    .await;
    assert!(o.status.success(), "{}", text(&o).1);
    assert!(
        text(&o)
            .0
            .contains("; 10 overdue message(s) spread over 10m"),
        "{}",
        text(&o).0
    );
    assert_eq!(audit0(&ts.url).await["overdue"], "spread 10m");
    let rx = Receiver::start(Answer::Status(200)).await.unwrap();
    let file = channels_file(dir.path(), &rx.url("send"), "");
    // One a minute: the first is due at the resume, the rest later.
    let o = run(&ts.url, &["deliver", "--channels", &file, "--once"]).await;
    assert_eq!(text(&o).0.trim(), "delivered: 1 sent, 0 to retry, 0 failed");
    let v = summary(&ts.store, "spread", 1).await;
    assert_eq!((v.messages.sent, v.messages.pending), (1, 9));
    // The other nine are due a minute apart: 10 over 10 minutes.
    let due: Vec<i64> = sqlx::query_scalar(
        "SELECT o.next_at FROM outbox o JOIN versions v ON v.id = o.version_id \
         JOIN journeys j ON j.id = v.journey_id WHERE j.name = 'spread' AND o.state = 'pending' \
         ORDER BY o.next_at",
    )
    .fetch_all(ts.store.pool())
    .await
    .unwrap();
    let gaps: Vec<i64> = due.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(gaps, vec![60_000; 8], "due times {due:?}");
    assert_counters_exact(&ts.store).await;
});

both_backends!(send_is_the_default_and_says_so, |ts| {
    let dir = tempfile::tempdir().unwrap();
    held(ts, "sent", 4).await;
    let o = run(&ts.url, &["resume", "sent", "--yes"]).await;
    assert!(o.status.success(), "{}", text(&o).1);
    let (out, err) = text(&o);
    assert!(
        err.contains("4 message(s) fell due during the hold, the oldest "),
        "{err}"
    );
    // Due when enqueued (next_at 0 means at once), not in 1970.
    let oldest = err.split("the oldest ").nth(1).unwrap();
    let days: i64 = oldest.split('d').next().unwrap().parse().unwrap_or(0);
    assert!(days < 365, "{err}");
    assert!(
        err.contains("they go out now (--overdue skip or spread=DUR to choose otherwise)"),
        "{err}"
    );
    assert!(out.contains("; 4 overdue message(s) go out now"), "{out}");
    let rx = Receiver::start(Answer::Status(200)).await.unwrap();
    let file = channels_file(dir.path(), &rx.url("send"), "");
    let o = run(&ts.url, &["deliver", "--channels", &file, "--once"]).await;
    assert_eq!(text(&o).0.trim(), "delivered: 4 sent, 0 to retry, 0 failed");
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(rx.count(), 4);
});

both_backends!(a_bad_choice_is_refused_and_changes_nothing, |ts| {
    held(ts, "kept", 2).await;
    let o = run(&ts.url, &["resume", "kept", "--yes", "--overdue", "later"]).await;
    assert!(!o.status.success());
    assert_eq!(
        text(&o).1.trim(),
        "journeyctl: error: --overdue \"later\": expected send, skip or spread=DURATION (for example spread=30m)"
    );
    let v = summary(&ts.store, "kept", 1).await;
    assert!(v.paused.is_some(), "still paused");
});

/// On the README's team setup: alice (an operator) resumes with `skip`, the
/// choice cannot be forged or rewritten in `psql` by her, and carol's
/// delivery (the engine) applies it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_postgres,
    ignore = "PostgreSQL skipped: set JOURNEYCTL_TEST_POSTGRES_URL"
)]
async fn an_operator_chooses_and_the_engine_applies() {
    use common::roles::{Roles, ok, try_sql};
    let Some(roles) = Roles::create("overdue").await else {
        return;
    };
    let [admin, alice, carol] = [0, 1, 3].map(|i| roles.names[i].clone());
    let (admin_url, alice_url, carol_url) =
        (roles.url(&admin), roles.url(&alice), roles.url(&carol));
    let dir = tempfile::tempdir().unwrap();
    ok(&admin_url, &["migrate"]);
    ok(&admin_url, &["grant", "--operator", &alice]);
    ok(&admin_url, &["grant", "--engine", &carol]);
    let def = common::roles::write_def(dir.path(), "promo");
    ok(&alice_url, &["apply", &def, "--publish"]);
    let feed = dir.path().join("in.ndjson");
    std::fs::write(
        &feed,
        "{\"type\":\"enter\",\"journey\":\"promo\",\"profile\":\"p-1\",\"at\":\"2026-11-21T10:00:00Z\"}\n\
         {\"type\":\"enter\",\"journey\":\"promo\",\"profile\":\"p-2\",\"at\":\"2026-11-21T10:00:00Z\"}\n",
    )
    .unwrap();
    ok(&carol_url, &["ingest", feed.to_str().unwrap()]);
    ok(&carol_url, &["tick", "--now", "2026-11-21T10:01:00Z"]);
    ok(&alice_url, &["pause", "promo", "--yes"]);
    let pool = roles.pool(&alice).await;
    let forged = try_sql(
        &pool,
        "UPDATE versions SET overdue_mode = 'skip', overdue_before = 1",
    )
    .await;
    assert!(
        forged
            .unwrap_err()
            .contains("choice for overdue messages is set by its resume"),
        "alice set a choice without a resume"
    );
    ok(
        &alice_url,
        &["resume", "promo", "--yes", "--overdue", "skip"],
    );
    let rewrite = try_sql(&pool, "UPDATE versions SET overdue_mode = NULL").await;
    assert!(rewrite.is_err(), "alice cleared the choice she made");
    let rx = Receiver::start(Answer::Status(200)).await.unwrap();
    let file = channels_file(dir.path(), &rx.url("send"), "");
    let out = ok(&carol_url, &["deliver", "--channels", &file, "--once"]);
    assert_eq!(out.trim(), "delivered: 0 sent, 0 to retry, 0 failed");
    assert_eq!(rx.count(), 0);
    ok(&admin_url, &["check"]);
    roles.drop_all().await;
}

// A paused version finished meanwhile (by its date rule, or an operator):
// `resume NAME` finds it, as `pause NAME` did.
both_backends!(
    resume_by_name_finds_the_paused_version_once_finished,
    |ts| {
        held(ts, "dated", 2).await;
        let o = run(&ts.url, &["finish", "dated", "--yes"]).await;
        assert!(o.status.success(), "{:?}", text(&o));
        let o = run(&ts.url, &["resume", "dated", "--yes"]).await;
        assert!(o.status.success(), "{:?}", text(&o));
        assert!(text(&o).0.contains("resumed dated v1"), "{:?}", text(&o));
        let v = summary(&ts.store, "dated", 1).await;
        assert!(v.paused.is_none());
    }
);

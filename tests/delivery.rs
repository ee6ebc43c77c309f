//! Delivery (SPEC §2c), checked at the receiving end: a real HTTP server on
//! 127.0.0.1 records every request and when it arrived, and the real
//! `journeyctl deliver` and `journeyctl stop` run as processes.

mod common;

use std::time::{Duration, Instant};

use common::delivery::*;
use common::*;
use journeyctl::demo::receiver::{Answer, Received, Receiver};

fn of<'a>(received: &'a [Received], journey: &str) -> Vec<&'a Received> {
    received
        .iter()
        .filter(|r| r.body["journey"] == journey)
        .collect()
}

both_backends!(no_request_arrives_after_stop_returns, |ts| {
    let dir = tempfile::tempdir().unwrap();
    // Another version first in the queue: a worker whose queue read came
    // before the stop reaches promo only after it, and must claim nothing.
    emails(ts, "other", 3000).await;
    emails(ts, "promo", 6000).await;
    // A receiver that answers each request after 300 ms: a stop always
    // finds a batch in flight, and must wait for its answers.
    let rx = Receiver::start(Answer::After {
        delay: Duration::from_millis(300),
        status: 200,
    })
    .await
    .unwrap();
    let file = channels_file(dir.path(), &rx.url("send"), "");
    let worker = start(&ts.url, &["deliver", "--channels", &file, "--workers", "2"]);
    wait_until("deliveries of promo", Duration::from_secs(60), || {
        of(&rx.received(), "promo").len() >= 300
    })
    .await;
    let o = run(&ts.url, &["stop", "promo", "--yes", "--reason", "bad copy"]).await;
    let returned = Instant::now();
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(
        text(&o).1.contains("delivery(ies) in flight"),
        "the stop found no delivery in flight, so it proves nothing: {:?}",
        text(&o)
    );
    // The worker goes on with the other journey meanwhile.
    let before = of(&rx.received(), "other").len();
    wait_until("more deliveries of other", Duration::from_secs(60), || {
        of(&rx.received(), "other").len() > before + 200
    })
    .await;
    worker.sigterm();
    let status = wait_child(worker).await;
    assert!(status.success(), "deliver exits 0 on SIGTERM: {status:?}");
    let received = rx.received();
    let promo = of(&received, "promo");
    let late: Vec<_> = promo.iter().filter(|r| r.at > returned).collect();
    assert!(
        late.is_empty(),
        "{} request(s) for promo arrived after stop returned",
        late.len()
    );
    // Every request the stop let through had its answer before the stop
    // returned: it waited for each one in flight.
    let unanswered = promo
        .iter()
        .filter(|r| r.answered.is_none_or(|a| a > returned))
        .count();
    assert_eq!(
        unanswered, 0,
        "request(s) for promo were still in flight when stop returned"
    );
    assert!(
        promo.len() < 6000,
        "the stop came too late to prove anything"
    );
    ts.store.tick(at(2)).await.unwrap();
    let states = outbox_states(&ts.store, "promo", 1).await;
    let sent = states.iter().filter(|s| *s == "sent").count();
    let cancelled = states.iter().filter(|s| *s == "cancelled").count();
    assert_eq!(sent, promo.len(), "every request is one sent message");
    assert_eq!(sent + cancelled, 6000, "the rest are cancelled: {states:?}");
    let v = summary(&ts.store, "promo", 1).await;
    assert_eq!(
        (
            v.messages.pending,
            v.messages.sent as usize,
            v.messages.cancelled as usize
        ),
        (0, sent, cancelled)
    );
});

both_backends!(a_stop_waits_for_a_delivery_in_flight_and_says_so, |ts| {
    let dir = tempfile::tempdir().unwrap();
    emails(ts, "slow", 1).await;
    let rx = Receiver::start(Answer::Hang).await.unwrap();
    let file = channels_file(dir.path(), &rx.url("send"), "timeout = \"1500ms\"\n");
    let worker = start(&ts.url, &["deliver", "--channels", &file, "--once"]);
    wait_until("the request", Duration::from_secs(30), || rx.count() >= 1).await;
    let arrived = Instant::now();
    let o = run(&ts.url, &["stop", "slow", "--yes"]).await;
    let (_, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("waiting for 1 delivery(ies) in flight"),
        "{err}"
    );
    // The request was in flight until its time-out: the stop waited for it.
    assert!(arrived.elapsed() >= Duration::from_millis(1000));
    assert!(wait_child(worker).await.success());
    assert_eq!(rx.count(), 1);
    let v = summary(&ts.store, "slow", 1).await;
    // The attempt timed out before the stop committed: the message is
    // cancelled, never sent, and the receiver had it: it may have arrived.
    assert_eq!((v.messages.sent, v.messages.cancelled), (0, 1));
    assert_eq!(v.messages.cancelled_uncertain, 1);
    assert!(
        text(&o).0.contains(
            "1 pending message(s) cancelled, 1 of them after an attempt without an answer \
             (they may have arrived); 0 message(s) sent while it waited for deliveries in flight; \
             none in flight now"
        ),
        "{}",
        text(&o).0
    );
});

// A pause, like a stop, waits for a delivery in flight: a receiver that
// never answers keeps the attempt open until the channel's time-out.
both_backends!(a_pause_waits_for_a_delivery_in_flight_and_says_so, |ts| {
    let dir = tempfile::tempdir().unwrap();
    emails(ts, "slowpause", 1).await;
    let rx = Receiver::start(Answer::Hang).await.unwrap();
    let file = channels_file(dir.path(), &rx.url("send"), "timeout = \"1500ms\"\n");
    let worker = start(&ts.url, &["deliver", "--channels", &file, "--once"]);
    wait_until("the request", Duration::from_secs(30), || rx.count() >= 1).await;
    let arrived = Instant::now();
    let o = run(&ts.url, &["pause", "slowpause", "--yes"]).await;
    let (_, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("waiting for 1 delivery(ies) in flight"),
        "{err}"
    );
    assert!(
        arrived.elapsed() >= Duration::from_millis(1000),
        "the pause returned before the attempt in flight ended"
    );
    assert!(wait_child(worker).await.success());
    assert_eq!(rx.count(), 1);
    let v = summary(&ts.store, "slowpause", 1).await;
    // The attempt timed out before the pause committed: the message waits
    // to be tried again after the resume.
    assert_eq!((v.messages.pending, v.messages.sent), (1, 0));
});

both_backends!(a_server_error_is_retried_with_the_same_key, |ts| {
    let dir = tempfile::tempdir().unwrap();
    emails(ts, "retry", 3).await;
    let rx = Receiver::start(Answer::FailFirst {
        times: 1,
        status: 500,
    })
    .await
    .unwrap();
    let file = channels_file(dir.path(), &rx.url("send"), "");
    let o = run(&ts.url, &["deliver", "--channels", &file, "--once"]).await;
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(text(&o).0.trim(), "delivered: 0 sent, 3 to retry, 0 failed");
    let health = run(&ts.url, &["channels", "--json"]).await;
    let health: serde_json::Value = serde_json::from_slice(&health.stdout).unwrap();
    assert_eq!(health[0]["action"], "email");
    assert_eq!(health[0]["retrying"], 3);
    assert_eq!(health[0]["channel"], "email");
    assert!(
        health[0]["last_error"]
            .as_str()
            .unwrap()
            .starts_with("HTTP 500")
    );
    // Backoff: the second attempt is due a second later.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let o = run(&ts.url, &["deliver", "--channels", &file, "--once"]).await;
    assert_eq!(text(&o).0.trim(), "delivered: 3 sent, 0 to retry, 0 failed");
    let received = rx.received();
    assert_eq!(received.len(), 6);
    for r in &received {
        assert_eq!(r.key, format!("journeyctl-{}", r.body["id"]));
        assert_eq!(r.body["journey"], "retry");
        assert_eq!(r.body["version"], 1);
        assert_eq!(r.body["action"], "email");
    }
    let keys: std::collections::BTreeSet<&str> = received.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(keys.len(), 3, "each message kept its key across attempts");
    let v = summary(&ts.store, "retry", 1).await;
    assert_eq!((v.messages.pending, v.messages.sent), (0, 3));
});

both_backends!(a_client_error_fails_at_once_and_a_hang_times_out, |ts| {
    let dir = tempfile::tempdir().unwrap();
    emails(ts, "bad", 2).await;
    let rx = Receiver::start(Answer::Status(400)).await.unwrap();
    let file = channels_file(dir.path(), &rx.url("send"), "timeout = \"300ms\"\n");
    let o = run(&ts.url, &["deliver", "--channels", &file, "--once"]).await;
    assert_eq!(text(&o).0.trim(), "delivered: 0 sent, 0 to retry, 2 failed");
    assert_eq!(rx.count(), 2);
    let list = run(&ts.url, &["list", "--json"]).await;
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list[0]["messages"]["failed"], 2);
    assert_eq!(list[0]["messages"]["pending"], 0);
    // A receiver that never answers: time-out, then retry.
    emails(ts, "hung", 1).await;
    rx.set_answer(Answer::Hang);
    let o = run(&ts.url, &["deliver", "--channels", &file, "--once"]).await;
    assert_eq!(
        text(&o).0.trim(),
        "delivered: 0 sent, 1 to retry, 0 failed (1 of them without an answer: they may have arrived)"
    );
    let health = run(&ts.url, &["channels", "--json"]).await;
    let health: serde_json::Value = serde_json::from_slice(&health.stdout).unwrap();
    assert_eq!(health[0]["last_error"], "timed out after 300ms");
    assert_eq!(health[0]["failing"], true);
    rx.set_answer(Answer::Status(200));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let o = run(&ts.url, &["deliver", "--channels", &file, "--once"]).await;
    assert_eq!(text(&o).0.trim(), "delivered: 1 sent, 0 to retry, 0 failed");
    let hung = of(&rx.received(), "hung")
        .iter()
        .map(|r| r.key.clone())
        .collect::<Vec<_>>();
    assert_eq!(hung.len(), 2);
    assert_eq!(hung[0], hung[1]);
    let v = summary(&ts.store, "hung", 1).await;
    assert_eq!((v.messages.pending, v.messages.sent), (0, 1));
});

both_backends!(
    a_worker_killed_mid_batch_leaves_its_messages_to_another,
    |ts| {
        let dir = tempfile::tempdir().unwrap();
        emails(ts, "crash", 50).await;
        let rx = Receiver::start(Answer::Hang).await.unwrap();
        let file = channels_file(dir.path(), &rx.url("send"), "timeout = \"1s\"\n");
        let worker = start(&ts.url, &["deliver", "--channels", &file, "--batch", "20"]);
        wait_until("a batch in flight", Duration::from_secs(30), || {
            rx.count() >= 20
        })
        .await;
        worker.kill();
        rx.set_answer(Answer::Status(200));
        // The dead worker's claims are anybody's once their lease runs out.
        let start = Instant::now();
        loop {
            let o = run(&ts.url, &["deliver", "--channels", &file, "--once"]).await;
            assert!(o.status.success(), "{:?}", text(&o));
            let v = summary(&ts.store, "crash", 1).await;
            if v.messages.sent == 50 {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "not all delivered"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let received = rx.received();
        let ok: std::collections::BTreeSet<&str> = received
            .iter()
            .filter(|r| r.status == Some(200))
            .map(|r| r.key.as_str())
            .collect();
        assert_eq!(ok.len(), 50, "every message delivered at least once");
        assert!(received.len() > 50, "the killed batch was delivered again");
        for r in &received {
            assert_eq!(r.key, format!("journeyctl-{}", r.body["id"]));
        }
    }
);

both_backends!(
    a_message_without_a_channel_stays_pending_and_is_reported,
    |ts| {
        let dir = tempfile::tempdir().unwrap();
        publish(&ts.store, &simple("mixed"), at(0)).await;
        ts.store
            .ingest(&[enter("mixed", "p-1", at(0))])
            .await
            .unwrap();
        // email now, sms an hour later: both enqueued by this tick.
        ts.store.tick(at(61)).await.unwrap();
        let rx = Receiver::start(Answer::Status(200)).await.unwrap();
        let file = channels_file(dir.path(), &rx.url("send"), "");
        let o = run(&ts.url, &["deliver", "--channels", &file, "--once"]).await;
        let (out, err) = text(&o);
        assert_eq!(out.trim(), "delivered: 1 sent, 0 to retry, 0 failed");
        assert_eq!(
            err.matches("no channel for sms: 1 pending message(s) stay pending")
                .count(),
            1,
            "said once: {err}"
        );
        let v = summary(&ts.store, "mixed", 1).await;
        assert_eq!((v.messages.pending, v.messages.sent), (1, 1));
        let health = run(&ts.url, &["channels", "--json"]).await;
        let health: serde_json::Value = serde_json::from_slice(&health.stdout).unwrap();
        let sms = health
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["action"] == "sms")
            .unwrap();
        assert_eq!(sms["channel"], serde_json::Value::Null);
        assert_eq!(sms["pending"], 1);
        let table = run(&ts.url, &["channels"]).await;
        let table = text(&table).0;
        assert!(
            table
                .lines()
                .any(|l| l.starts_with("sms") && l.contains("none")),
            "{table}"
        );
    }
);

#[test]
fn a_bad_channels_file_names_its_line_and_key_and_touches_no_store() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("channels.toml");
    std::fs::write(
        &file,
        "[channels.email]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/x\"\nheaders = { Authorization = \"Bearer ${JOURNEYCTL_NO_SUCH_TOKEN}\" }\n",
    )
    .unwrap();
    let o = journeyctl_without_store()
        .args(["--database-url", "postgres://nobody@127.0.0.1:1/none"])
        .args(["deliver", "--once", "--channels"])
        .args([&file])
        .output();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        err.trim(),
        format!(
            "journeyctl: error: {}:4: channels.email.headers.Authorization: the environment variable JOURNEYCTL_NO_SUCH_TOKEN is not set",
            file.display()
        )
    );
}

both_backends!(
    a_pause_holds_deliveries_and_a_resume_lets_each_go_once,
    |ts| {
        let dir = tempfile::tempdir().unwrap();
        emails(ts, "held", 6000).await;
        let rx = Receiver::start(Answer::Status(200)).await.unwrap();
        let file = channels_file(dir.path(), &rx.url("send"), "");
        let worker = start(&ts.url, &["deliver", "--channels", &file, "--workers", "2"]);
        wait_until("deliveries of held", Duration::from_secs(60), || {
            of(&rx.received(), "held").len() >= 300
        })
        .await;
        let o = run(
            &ts.url,
            &["pause", "held", "--yes", "--reason", "fix the copy"],
        )
        .await;
        let returned = Instant::now();
        assert!(o.status.success(), "{:?}", text(&o));
        tokio::time::sleep(Duration::from_millis(800)).await;
        let before = rx.received();
        let late = of(&before, "held")
            .iter()
            .filter(|r| r.at > returned)
            .count();
        assert_eq!(
            late, 0,
            "requests for a paused version after pause returned"
        );
        let delivered = of(&before, "held").len();
        assert!(
            delivered < 6000,
            "the pause came too late to prove anything"
        );
        let o = run(&ts.url, &["resume", "held", "--yes"]).await;
        assert!(o.status.success(), "{:?}", text(&o));
        wait_until("the held messages", Duration::from_secs(60), || {
            of(&rx.received(), "held").len() >= 6000
        })
        .await;
        worker.sigterm();
        assert!(wait_child(worker).await.success());
        let received = rx.received();
        let keys: std::collections::BTreeSet<&str> = of(&received, "held")
            .iter()
            .map(|r| r.key.as_str())
            .collect();
        assert_eq!(keys.len(), 6000, "each message once");
        assert_eq!(of(&received, "held").len(), 6000, "and no repeats");
        let v = summary(&ts.store, "held", 1).await;
        assert_eq!((v.messages.pending, v.messages.sent), (0, 6000));
    }
);

both_backends!(a_webhook_follows_no_redirect, |ts| {
    let dir = tempfile::tempdir().unwrap();
    emails(ts, "moved", 2).await;
    // The receiver answers 307 to another server on another port: the
    // channel's API key and the message must not go there.
    let elsewhere = Receiver::start(Answer::Status(200)).await.unwrap();
    let rx = Receiver::start(Answer::Redirect(elsewhere.url("steal?token=t0p")))
        .await
        .unwrap();
    let file = channels_file(
        dir.path(),
        &rx.url("send"),
        "headers = { \"x-api-key\" = \"k-123\" }\n",
    );
    let o = run(&ts.url, &["deliver", "--channels", &file, "--once"]).await;
    assert_eq!(text(&o).0.trim(), "delivered: 0 sent, 0 to retry, 2 failed");
    assert_eq!(rx.count(), 2);
    assert_eq!(elsewhere.count(), 0, "the redirect was followed");
    let health = run(&ts.url, &["channels", "--json"]).await;
    let health: serde_json::Value = serde_json::from_slice(&health.stdout).unwrap();
    let err = health[0]["last_error"].as_str().unwrap().to_string();
    let target = elsewhere
        .url("")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    assert_eq!(
        err,
        format!(
            "HTTP 307 Temporary Redirect: redirect to {target} not followed (a webhook follows no redirect)"
        )
    );
    assert!(!err.contains("t0p"), "the Location's query is not stored");
});

both_backends!(
    a_command_channel_gets_only_what_it_lists_and_no_secret_is_stored,
    |ts| {
        let dir = tempfile::tempdir().unwrap();
        emails(ts, "cmd", 1).await;
        let seen = dir.path().join("env.txt");
        let file = dir.path().join("channels.toml");
        std::fs::write(
            &file,
            format!(
                "[channels.email]\nkind = \"command\"\nenv = [\"API_TOKEN\"]\n\
             command = [\"sh\", \"-c\", \"env > '{}'; echo token=$API_TOKEN part=${{API_TOKEN#tok-}} {} >&2; exit 3\"]\n",
                seen.display(),
                "x".repeat(400)
            ),
        )
        .unwrap();
        let mut c = cmd(
            &ts.url,
            &["deliver", "--channels", file.to_str().unwrap(), "--once"],
        );
        c.env("API_TOKEN", "tok-abcdef-123")
            .env("PGPASSWORD", "pg-secret-456")
            .env("AWS_SECRET_ACCESS_KEY", "aws-secret-789");
        let o = tokio::task::spawn_blocking(move || c.output().unwrap())
            .await
            .unwrap();
        assert!(o.status.success(), "{}", text(&o).1);
        let env = std::fs::read_to_string(&seen).unwrap();
        assert!(env.contains("API_TOKEN=tok-abcdef-123"), "{env}");
        assert!(env.contains("PATH="), "{env}");
        for secret in ["PGPASSWORD", "AWS_SECRET_ACCESS_KEY", "DATABASE_URL"] {
            assert!(!env.contains(secret), "{secret} reached the child: {env}");
        }
        let health = run(&ts.url, &["channels", "--json"]).await;
        let health: serde_json::Value = serde_json::from_slice(&health.stdout).unwrap();
        let err = health[0]["last_error"].as_str().unwrap().to_string();
        // The whole token, and a part of it the program printed.
        assert!(
            err.contains("token=${API_TOKEN} part=${API_TOKEN}… xxx"),
            "{err}"
        );
        assert!(
            !err.contains("tok-abcdef") && !err.contains("abcdef-123"),
            "{err}"
        );
        assert!(
            err.len() <= 200 + '…'.len_utf8(),
            "{} bytes: {err}",
            err.len()
        );
        assert!(err.ends_with('…'), "{err}");
    }
);

both_backends!(
    a_command_that_exits_without_reading_is_judged_by_its_exit,
    |ts| {
        let dir = tempfile::tempdir().unwrap();
        // More than a pipe holds, so the write meets the closed end.
        emails(ts, "shut", 0).await;
        let long = "p".repeat(240);
        let entries: Vec<_> = (0..200)
            .map(|i| enter("shut", &format!("{long}-{i}"), at(0)))
            .collect();
        ts.store.ingest(&entries).await.unwrap();
        ts.store.tick(at(1)).await.unwrap();
        let file = dir.path().join("channels.toml");
        std::fs::write(
            &file,
            "[channels.email]\nkind = \"command\"\n\
             command = [\"sh\", \"-c\", \"exec 0<&-; echo closed early >&2; exit 3\"]\n",
        )
        .unwrap();
        let o = run(
            &ts.url,
            &["deliver", "--channels", file.to_str().unwrap(), "--once"],
        )
        .await;
        assert!(o.status.success(), "{}", text(&o).1);
        let health = run(&ts.url, &["channels", "--json"]).await;
        let health: serde_json::Value = serde_json::from_slice(&health.stdout).unwrap();
        let err = health[0]["last_error"].as_str().unwrap();
        assert!(
            err.starts_with("sh exited with exit status: 3: closed early"),
            "{err}"
        );
    }
);

// A receiver that reads every request and answers after the channel's
// time-out (SPEC §2c, uncertain): every key it saw is sent or counted as
// may-have-arrived, never plain cancelled, in the stop's outcome, its
// audit row, `list --json`, `channels --json`, before and after the sweep.
both_backends!(
    a_message_the_receiver_may_have_seen_is_never_plain_cancelled,
    |ts| {
        let dir = tempfile::tempdir().unwrap();
        emails(ts, "late", 12).await;
        let rx = Receiver::start(Answer::After {
            delay: Duration::from_millis(700),
            status: 200,
        })
        .await
        .unwrap();
        let file = channels_file(dir.path(), &rx.url("send"), "timeout = \"200ms\"\n");
        let o = run(&ts.url, &["deliver", "--channels", &file, "--once"]).await;
        assert_eq!(
            text(&o).0.trim(),
            "delivered: 0 sent, 12 to retry, 0 failed (12 of them without an answer: they may have arrived)"
        );
        let list = run(&ts.url, &["list", "--json"]).await;
        let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
        assert_eq!(list[0]["messages"]["uncertain"], 12, "{list}");
        let health = run(&ts.url, &["channels", "--json"]).await;
        let health: serde_json::Value = serde_json::from_slice(&health.stdout).unwrap();
        assert_eq!(health[0]["uncertain"], 12, "{health}");
        let o = run(&ts.url, &["stop", "late", "--yes"]).await;
        assert!(o.status.success(), "{}", text(&o).1);
        assert!(
            text(&o).0.contains(
                "12 pending message(s) cancelled, 12 of them after an attempt without an answer (they may have arrived)"
            ),
            "{}",
            text(&o).0
        );
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(rx.count(), 12, "every request reached the receiver");
        let audit = run(&ts.url, &["audit", "--json"]).await;
        let audit: serde_json::Value = serde_json::from_slice(&audit.stdout).unwrap();
        assert_eq!(audit[0]["action"], "stop");
        assert_eq!(audit[0]["cancelled"], 12);
        assert_eq!(audit[0]["cancelled_uncertain"], 12);
        // Before the sweep and after it, the same figures.
        for _ in 0..2 {
            let list = run(&ts.url, &["list", "--json"]).await;
            let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
            assert_eq!(list[0]["messages"]["cancelled"], 12);
            assert_eq!(list[0]["messages"]["cancelled_uncertain"], 12, "{list}");
            assert_eq!(list[0]["messages"]["uncertain"], 0);
            let health = run(&ts.url, &["channels", "--json"]).await;
            let health: serde_json::Value = serde_json::from_slice(&health.stdout).unwrap();
            assert_eq!(health[0]["cancelled_uncertain"], 12, "{health}");
            ts.store.sweep_stopped(1000).await.unwrap();
        }
        assert_eq!(
            outbox_states(&ts.store, "late", 1).await,
            vec!["cancelled"; 12]
        );
    }
);

// A worker that died holding a claim: its lease runs out unrecorded, and
// whatever it sent may have arrived. A stop counts it so.
both_backends!(a_claim_left_by_a_dead_worker_counts_as_uncertain, |ts| {
    emails(ts, "orphan", 5).await;
    let queue = ts.store.delivery_queue().await.unwrap();
    let v = queue.iter().find(|v| v.journey == "orphan").unwrap();
    let claimed = ts
        .store
        .claim(v.version_id, &v.actions, 2, 1, "dead-worker")
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let out = ts
        .store
        .execute(&stop_of("orphan", 1), &alice(), at(2))
        .await
        .unwrap();
    assert_eq!((out.versions[0].pending, out.versions[0].uncertain), (5, 2));
    let v = summary(&ts.store, "orphan", 1).await;
    assert_eq!(
        (v.messages.cancelled, v.messages.cancelled_uncertain),
        (5, 2)
    );
    ts.store.sweep_stopped(1000).await.unwrap();
    let v = summary(&ts.store, "orphan", 1).await;
    assert_eq!(
        (v.messages.cancelled, v.messages.cancelled_uncertain),
        (5, 2)
    );
});

// What a stop's outcome says of the deliveries it waited for: those that
// went out meanwhile, counted, and none in flight when it returns; its
// audit row keeps the figure.
both_backends!(a_stop_says_what_went_out_while_it_waited, |ts| {
    let dir = tempfile::tempdir().unwrap();
    emails(ts, "inflight", 3).await;
    let rx = Receiver::start(Answer::After {
        delay: Duration::from_millis(900),
        status: 200,
    })
    .await
    .unwrap();
    let file = channels_file(dir.path(), &rx.url("send"), "timeout = \"5s\"\n");
    let worker = start(&ts.url, &["deliver", "--channels", &file, "--once"]);
    wait_until("the requests", Duration::from_secs(30), || rx.count() >= 3).await;
    let o = run(&ts.url, &["stop", "inflight", "--yes"]).await;
    assert!(o.status.success(), "{}", text(&o).1);
    assert!(wait_child(worker).await.success());
    assert!(
        text(&o).0.contains(
            "0 pending message(s) cancelled; 3 message(s) sent while it waited for deliveries \
             in flight; none in flight now"
        ),
        "{}",
        text(&o).0
    );
    let audit = run(&ts.url, &["audit", "--json"]).await;
    let audit: serde_json::Value = serde_json::from_slice(&audit.stdout).unwrap();
    assert_eq!(audit[0]["sent_waiting"], 3, "{audit}");
    assert_eq!(audit[0]["cancelled_uncertain"], 0);
    let plain = run(&ts.url, &["audit"]).await;
    assert!(
        text(&plain)
            .0
            .contains("messages 0 cancelled, 3 sent while it waited"),
        "{}",
        text(&plain).0
    );
    let v = summary(&ts.store, "inflight", 1).await;
    assert_eq!((v.messages.sent, v.messages.cancelled), (3, 0));
});

// A log channel makes its folder on the first batch; an error a later send
// got past is history: `channels` shows "-", `--json` keeps it.
both_backends!(
    a_log_channel_makes_its_folder_and_an_old_error_is_history,
    |ts| {
        let dir = tempfile::tempdir().unwrap();
        emails(ts, "logged", 2).await;
        let log = dir.path().join("var/log/journeyctl/push.ndjson");
        let file = dir.path().join("log.toml");
        std::fs::write(
            &file,
            format!(
                "[channels.email]\nkind = \"log\"\npath = \"{}\"\n",
                log.display()
            ),
        )
        .unwrap();
        let o = run(
            &ts.url,
            &["deliver", "--channels", file.to_str().unwrap(), "--once"],
        )
        .await;
        assert_eq!(text(&o).0.trim(), "delivered: 2 sent, 0 to retry, 0 failed");
        assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 2);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&log).unwrap().permissions().mode() & 0o777,
            0o600,
            "the log holds profile ids: its owner's alone"
        );
        // A log whose path is someone's symbolic link is not followed:
        // the messages are tried again, the link's target stays empty.
        let target = dir.path().join("elsewhere.ndjson");
        std::fs::write(&target, "").unwrap();
        std::fs::remove_file(&log).unwrap();
        std::os::unix::fs::symlink(&target, &log).unwrap();
        emails(ts, "linked", 1).await;
        let o = run(
            &ts.url,
            &["deliver", "--channels", file.to_str().unwrap(), "--once"],
        )
        .await;
        assert_eq!(text(&o).0.trim(), "delivered: 0 sent, 1 to retry, 0 failed");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "");
        // The link gone, its retry goes to the log itself.
        std::fs::remove_file(&log).unwrap();
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        let o = run(
            &ts.url,
            &["deliver", "--channels", file.to_str().unwrap(), "--once"],
        )
        .await;
        assert_eq!(text(&o).0.trim(), "delivered: 1 sent, 0 to retry, 0 failed");
        emails(ts, "flaky", 1).await;
        let rx = Receiver::start(Answer::FailFirst {
            times: 1,
            status: 503,
        })
        .await
        .unwrap();
        let hook = channels_file(dir.path(), &rx.url("send"), "");
        let o = run(&ts.url, &["deliver", "--channels", &hook, "--once"]).await;
        assert_eq!(text(&o).0.trim(), "delivered: 0 sent, 1 to retry, 0 failed");
        let table = run(&ts.url, &["channels"]).await;
        assert!(
            text(&table).0.contains("ago: HTTP 503"),
            "{}",
            text(&table).0
        );
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        let o = run(&ts.url, &["deliver", "--channels", &hook, "--once"]).await;
        assert_eq!(text(&o).0.trim(), "delivered: 1 sent, 0 to retry, 0 failed");
        let table = run(&ts.url, &["channels"]).await;
        assert!(!text(&table).0.contains("HTTP 503"), "{}", text(&table).0);
        let health = run(&ts.url, &["channels", "--json"]).await;
        let health: serde_json::Value = serde_json::from_slice(&health.stdout).unwrap();
        assert_eq!(health[0]["last_error"], "HTTP 503 Service Unavailable");
        assert_eq!(health[0]["failing"], false);
    }
);

// A worker that read the queue before a stop claims after it: nothing of
// the stopped version is claimed, though its rows are still pending until
// the engine sweeps them.
both_backends!(a_claim_after_a_stop_takes_nothing, |ts| {
    emails(ts, "late-claim", 5).await;
    let queue = ts.store.delivery_queue().await.unwrap();
    let v = queue.iter().find(|v| v.journey == "late-claim").unwrap();
    ts.store
        .execute(&stop_of("late-claim", 1), &alice(), at(2))
        .await
        .unwrap();
    let claimed = ts
        .store
        .claim(v.version_id, &v.actions, 10, 10_000, "slow-reader")
        .await
        .unwrap();
    assert!(
        claimed.is_empty(),
        "{} message(s) of a stopped version were claimed",
        claimed.len()
    );
});

// A claim whose lease ran out unrecorded (a dead worker), claimed again by
// another worker that gets a definite answer to retry: the message may
// still have arrived through the first, and a stop counts it so.
both_backends!(a_message_claimed_again_keeps_may_have_arrived, |ts| {
    // One message: on a cluster a claim starts at a bucket of its own
    // choosing, so with more the second might take another.
    emails(ts, "reclaimed", 1).await;
    let queue = ts.store.delivery_queue().await.unwrap();
    let v = queue.iter().find(|v| v.journey == "reclaimed").unwrap();
    let first = ts
        .store
        .claim(v.version_id, &v.actions, 1, 1, "dead-worker")
        .await
        .unwrap();
    assert_eq!(first.len(), 1);
    // The lease (1 ms of the database's clock) runs out.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let again = ts
        .store
        .claim(v.version_id, &v.actions, 1, 60_000, "live-worker")
        .await
        .unwrap();
    assert_eq!(
        again.iter().map(|c| c.id).collect::<Vec<_>>(),
        first.iter().map(|c| c.id).collect::<Vec<_>>(),
        "the second worker takes the message the first left"
    );
    let attempts: Vec<_> = again
        .into_iter()
        .map(|c| {
            (
                c,
                journeyctl::store::Attempt::Retry {
                    after_ms: 60_000,
                    error: "HTTP 503".into(),
                },
            )
        })
        .collect();
    ts.store
        .record(v.version_id, "live-worker", &attempts, at(2))
        .await
        .unwrap();
    ts.store.fold_shares().await.unwrap();
    let out = ts
        .store
        .execute(&stop_of("reclaimed", 1), &alice(), at(3))
        .await
        .unwrap();
    assert_eq!(
        (out.versions[0].pending, out.versions[0].uncertain),
        (1, 1),
        "the message the dead worker held may have arrived"
    );
});

// A worker whose lease ran out while it sent, and whose version a stop
// ended meanwhile (the stop did not wait: the claim had lapsed): what it
// records afterwards changes nothing, its messages stay cancelled.
both_backends!(a_record_after_a_stop_changes_nothing, |ts| {
    emails(ts, "lapsed", 3).await;
    let queue = ts.store.delivery_queue().await.unwrap();
    let v = queue.iter().find(|v| v.journey == "lapsed").unwrap();
    let claimed = ts
        .store
        .claim(v.version_id, &v.actions, 3, 1, "slow-worker")
        .await
        .unwrap();
    assert_eq!(claimed.len(), 3);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let out = ts
        .store
        .execute(&stop_of("lapsed", 1), &alice(), at(2))
        .await
        .unwrap();
    assert_eq!(out.versions[0].pending, 3);
    let attempts: Vec<_> = claimed
        .into_iter()
        .map(|c| (c, journeyctl::store::Attempt::Sent))
        .collect();
    let recorded = ts
        .store
        .record(v.version_id, "slow-worker", &attempts, at(3))
        .await
        .unwrap();
    assert_eq!(recorded, journeyctl::store::Recorded::default());
    ts.store.fold_shares().await.unwrap();
    let m = summary(&ts.store, "lapsed", 1).await.messages;
    assert_eq!((m.sent, m.cancelled, m.pending), (0, 3, 0));
    assert_eq!(
        outbox_states(&ts.store, "lapsed", 1).await,
        vec!["cancelled"; 3]
    );
});

/// A receiver that answers 200 and then streams a body that never ends.
fn endless_receiver() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            std::thread::spawn(move || {
                let mut head = [0u8; 65536];
                let _ = s.read(&mut head);
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
                let chunk = format!("1000\r\n{}\r\n", "x".repeat(0x1000));
                while s.write_all(chunk.as_bytes()).is_ok() {}
            });
        }
    });
    format!("http://{addr}/send")
}

/// The peak resident memory of a process until it exits, in MB.
fn peak_mb(mut child: std::process::Child) -> (std::process::Output, u64) {
    let pid = child.id();
    let mut peak = 0u64;
    loop {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status"))
            && let Some(kb) = status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse::<u64>().ok())
        {
            peak = peak.max(kb / 1024);
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (child.wait_with_output().unwrap(), peak)
}

both_backends!(
    a_receiver_or_a_command_that_never_stops_talking_is_read_bounded,
    |ts| {
        let dir = tempfile::tempdir().unwrap();
        // A webhook whose 200 comes with an endless body: sent, at once.
        emails(ts, "chatty", 1).await;
        let file = channels_file(dir.path(), &endless_receiver(), "timeout = \"5s\"\n");
        let started = std::time::Instant::now();
        let o = run(&ts.url, &["deliver", "--channels", &file, "--once"]).await;
        assert_eq!(text(&o).0.trim(), "delivered: 1 sent, 0 to retry, 0 failed");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "it waited for the body's end"
        );
        // A command that floods its standard error and never ends: its time
        // runs out, and the worker's memory stays small.
        emails(ts, "noisy", 1).await;
        let path = dir.path().join("noisy.toml");
        std::fs::write(
        &path,
        "[channels.email]\nkind = \"command\"\ncommand = [\"sh\", \"-c\", \"cat >/dev/null; yes 'an error that goes on' >&2\"]\ntimeout = \"3s\"\n",
    )
    .unwrap();
        let child = cmd(
            &ts.url,
            &["deliver", "--channels", path.to_str().unwrap(), "--once"],
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
        let (o, peak) = tokio::task::spawn_blocking(move || peak_mb(child))
            .await
            .unwrap();
        assert!(text(&o).0.contains("1 to retry"), "{:?}", text(&o));
        assert!(
            peak < 150,
            "deliver reached {peak} MB reading a command's errors"
        );
    }
);

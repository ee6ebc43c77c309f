//! Pause and resume (SPEC §2 rules 11-12) on SQLite and PostgreSQL, driven
//! by `tick --now`; after each scenario the counters equal a recount.

mod common;

use common::*;
use journeyctl::domain::{ActionKind, Hold, OnExpiry, VersionStatus};
use journeyctl::store::{Error, OperatorAction, Store, Target};

fn on(journey: &str, kind: ActionKind) -> OperatorAction {
    OperatorAction {
        kind,
        target: Target::Version {
            journey: journey.into(),
            version: None,
        },
        reason: Some("wrong copy".into()),
    }
}

fn pause(minutes: i64, rule: OnExpiry) -> ActionKind {
    ActionKind::Pause(Hold::new(minutes * 60_000, rule).unwrap())
}

async fn messages(s: &Store, journey: &str) -> (i64, i64) {
    let v = summary(s, journey, 1).await;
    (v.messages.pending, v.messages.cancelled)
}

both_backends!(
    a_paused_version_takes_no_entries_sends_nothing_and_lets_waits_elapse,
    |ts| {
        let s = &ts.store;
        publish(s, &simple("promo"), at(0)).await;
        let entries: Vec<_> = (0..4)
            .map(|i| enter("promo", &format!("p-{i}"), at(0)))
            .collect();
        s.ingest(&entries).await.unwrap();
        // The first message goes out, then everyone waits an hour.
        s.tick(at(1)).await.unwrap();
        assert_eq!(messages(s, "promo").await, (4, 0));
        let out = s
            .execute(
                &on("promo", pause(3 * 24 * 60, OnExpiry::Stop)),
                &alice(),
                at(2),
            )
            .await
            .unwrap();
        assert_eq!((out.versions[0].active, out.versions[0].pending), (4, 4));
        let v = summary(s, "promo", 1).await;
        assert_eq!(v.status, VersionStatus::Live, "a pause keeps the status");
        assert!(!v.entry_open);
        let p = v.paused.expect("paused");
        assert_eq!((p.by.as_str(), p.on_expiry.as_str()), ("alice", "stop"));
        assert_eq!(p.until_ms - p.since_ms, 3 * 24 * 3_600_000);
        // No entries while paused; the refusal is counted by reason.
        let r = s.ingest(&[enter("promo", "late", at(3))]).await.unwrap();
        assert_eq!(r.refused.get("paused"), Some(&1));
        // Goal and exit events still apply.
        s.ingest(&[
            goal("p-0", "purchase", at(10)),
            goal("p-1", "unsubscribe", at(10)),
        ])
        .await
        .unwrap();
        // The hour's wait elapses, but nobody gets the second message.
        let t = s.tick(at(61)).await.unwrap();
        assert_eq!((t.messages, t.steps), (0, 0));
        let detail = s.detail("promo").await.unwrap();
        let held: i64 = detail[0]
            .steps
            .iter()
            .filter(|st| st.kind == "message")
            .map(|st| st.held)
            .sum();
        assert_eq!(held, 3, "three held before the sms: {:?}", detail[0].steps);
        // Nothing is delivered while paused.
        assert_eq!(deliver_n(s, 100).await, 0);
        let v = summary(s, "promo", 1).await;
        assert_eq!(
            (v.counts.active, v.counts.exited, v.counts.converted),
            (3, 1, 1)
        );
        // Resume: held people go on at the next tick, held messages go out.
        s.execute(
            &on(
                "promo",
                ActionKind::Resume(journeyctl::domain::Overdue::Send),
            ),
            &bob(),
            at(70),
        )
        .await
        .unwrap();
        assert!(summary(s, "promo", 1).await.paused.is_none());
        let t = s.tick(at(71)).await.unwrap();
        assert_eq!((t.messages, t.completed), (3, 3));
        assert_eq!(deliver_n(s, 100).await, 7, "4 emails held, 3 sms");
        let audit = s.audit(Some("promo"), 10).await.unwrap();
        let rows: Vec<(&str, Option<&str>, Option<&str>, &str)> = audit
            .iter()
            .map(|a| {
                (
                    a.action.as_str(),
                    a.from.as_deref(),
                    a.to.as_deref(),
                    a.actor.as_str(),
                )
            })
            .collect();
        assert_eq!(
            &rows[..2],
            &[
                ("resume", Some("paused"), Some("live"), "bob"),
                ("pause", Some("live"), Some("paused"), "alice"),
            ]
        );
    }
);

both_backends!(an_expired_hold_applies_its_rule_and_is_audited, |ts| {
    let s = &ts.store;
    for name in ["held-stop", "held-resume"] {
        publish(s, &simple(name), at(0)).await;
        s.ingest(&[enter(name, "p-1", at(0)), enter(name, "p-2", at(0))])
            .await
            .unwrap();
    }
    s.execute(&on("held-stop", pause(60, OnExpiry::Stop)), &alice(), at(0))
        .await
        .unwrap();
    s.execute(
        &on("held-resume", pause(60, OnExpiry::Resume)),
        &alice(),
        at(0),
    )
    .await
    .unwrap();
    // Before the hold runs out nothing changes, to the millisecond.
    let t = s.tick(at(60) - 1).await.unwrap();
    assert!(t.holds_expired.is_empty());
    assert_eq!(t.messages, 0);
    let t = s.tick(at(60)).await.unwrap();
    assert_eq!(
        t.holds_expired,
        vec![
            "held-stop v1: hold expired, stop".to_string(),
            "held-resume v1: hold expired, resume".to_string()
        ]
    );
    let stopped = summary(s, "held-stop", 1).await;
    assert_eq!(stopped.status, VersionStatus::Stopped);
    assert!(stopped.paused.is_none());
    assert_eq!((stopped.counts.active, stopped.counts.stopped), (0, 2));
    let resumed = summary(s, "held-resume", 1).await;
    assert_eq!(resumed.status, VersionStatus::Live);
    assert!(resumed.paused.is_none());
    // The same tick ran the resumed version's held steps: the email, and
    // the sms after the hour's wait that elapsed while it was held.
    assert_eq!(resumed.messages.pending, 4);
    for (name, to) in [("held-stop", "stopped"), ("held-resume", "live")] {
        let a = &s.audit(Some(name), 1).await.unwrap()[0];
        assert_eq!(
            (
                a.action.as_str(),
                a.actor.as_str(),
                a.from.as_deref(),
                a.to.as_deref(),
                a.affected_active
            ),
            ("hold_expired", "schedule", Some("paused"), Some(to), 2),
            "{name}"
        );
    }
});

both_backends!(stop_wins_over_a_hold_and_finish_keeps_it, |ts| {
    let s = &ts.store;
    for name in ["a", "b"] {
        publish(s, &simple(name), at(0)).await;
        s.ingest(&[enter(name, "p-1", at(0))]).await.unwrap();
        s.tick(at(1)).await.unwrap();
        s.execute(&on(name, pause(600, OnExpiry::Resume)), &alice(), at(2))
            .await
            .unwrap();
    }
    let finish = on("a", ActionKind::Finish);
    s.execute(&finish, &bob(), at(3)).await.unwrap();
    let a = summary(s, "a", 1).await;
    assert_eq!(a.status, VersionStatus::Finished);
    assert!(a.paused.is_some(), "finish keeps the hold");
    let stop = OperatorAction {
        target: Target::Version {
            journey: "b".into(),
            version: Some(1),
        },
        ..on("b", ActionKind::Stop)
    };
    let out = s.execute(&stop, &bob(), at(4)).await.unwrap();
    assert_eq!(out.versions[0].pending, 1, "the held email is cancelled");
    let b = summary(s, "b", 1).await;
    assert_eq!(b.status, VersionStatus::Stopped);
    assert!(b.paused.is_none());
    assert_eq!(messages(s, "b").await, (0, 1));
    // A finished, paused version is resumed and drains.
    let resume = OperatorAction {
        target: Target::Version {
            journey: "a".into(),
            version: Some(1),
        },
        ..on("a", ActionKind::Resume(journeyctl::domain::Overdue::Send))
    };
    s.execute(&resume, &alice(), at(5)).await.unwrap();
    s.tick(at(120)).await.unwrap();
    assert_eq!(summary(s, "a", 1).await.counts.completed, 1);
});

both_backends!(refusals_say_why_and_racing_pauses_have_one_winner, |ts| {
    let s = &ts.store;
    publish(s, &simple("r"), at(0)).await;
    let err = s
        .execute(
            &on("r", ActionKind::Resume(journeyctl::domain::Overdue::Send)),
            &alice(),
            at(1),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Refused(_))
            && err
                .to_string()
                .contains("cannot resume r v1: it is not paused"),
        "{err}"
    );
    // Two operators pause at once: one wins, the other is told.
    let p = on("r", pause(60, OnExpiry::Stop));
    let (a, b) = (alice(), bob());
    let (x, y) = tokio::join!(s.execute(&p, &a, at(2)), s.execute(&p, &b, at(2)));
    assert_eq!(x.is_ok() as u8 + y.is_ok() as u8, 1, "{x:?} {y:?}");
    let loser = if x.is_ok() { y } else { x }.unwrap_err();
    assert!(
        loser.to_string().contains("it is already paused by"),
        "{loser}"
    );
    let pauses = s
        .audit(Some("r"), 10)
        .await
        .unwrap()
        .iter()
        .filter(|a| a.action == "pause")
        .count();
    assert_eq!(pauses, 1);
    // Pause all versions skips none that can be paused and refuses when none can.
    let all = OperatorAction {
        target: Target::AllVersions {
            journey: "r".into(),
        },
        ..p.clone()
    };
    let err = s.execute(&all, &alice(), at(3)).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("no version is live or finished and not paused"),
        "{err}"
    );
    s.execute(&on("r", ActionKind::Stop), &alice(), at(4))
        .await
        .unwrap();
    let err = s
        .execute(
            &OperatorAction {
                target: Target::Version {
                    journey: "r".into(),
                    version: Some(1),
                },
                ..p
            },
            &alice(),
            at(5),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("it is stopped"), "{err}");
});

#[test]
fn the_cli_checks_the_hold_and_asks_first() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("p.db").display());
    let run = |args: &[&str]| {
        journeyctl_without_store()
            .args(["--database-url", url.as_str()])
            .args(args)
            .output()
    };
    let def = dir.path().join("j.toml");
    std::fs::write(
        &def,
        "name = \"j\"\n[[steps]]\nkind = \"message\"\naction = \"email\"\n",
    )
    .unwrap();
    assert!(
        run(&["apply", def.to_str().unwrap(), "--publish"])
            .status
            .success()
    );
    let o = run(&["pause", "j", "--hold", "31d", "--yes"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--hold: the hold is at most 30 days"));
    let o = run(&["pause", "j"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("pause the live version of j needs --yes"));
    let o = run(&[
        "pause",
        "j",
        "--hold",
        "2h",
        "--on-expiry",
        "resume",
        "--yes",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("paused j v1 until "), "{out}");
    assert!(out.contains("(then resume)"), "{out}");
    let list = run(&["list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list[0]["paused"]["on_expiry"], "resume");
    assert_eq!(list[0]["entry_open"], false);
    let o = run(&["resume", "j", "--yes"]);
    assert!(o.status.success());
    let list = run(&["list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list[0]["paused"], serde_json::Value::Null);
}

both_backends!(
    waits_run_while_paused_and_people_hold_at_the_next_message,
    |ts| {
        let s = &ts.store;
        let d = def(
            "name = \"w\"\n[[steps]]\nkind = \"wait\"\nduration = \"1h\"\n\
         [[steps]]\nkind = \"message\"\naction = \"email\"\n",
        );
        publish(s, &d, at(0)).await;
        s.ingest(&[enter("w", "p-1", at(0))]).await.unwrap();
        s.execute(&on("w", pause(600, OnExpiry::Stop)), &alice(), at(1))
            .await
            .unwrap();
        let t = s.tick(at(61)).await.unwrap();
        assert_eq!(
            (t.steps, t.messages),
            (1, 0),
            "the wait ran, the email did not"
        );
        let steps = &s.detail("w").await.unwrap()[0].steps;
        assert_eq!((steps[1].waiting, steps[1].held), (1, 1));
        // Ticking again while paused changes nothing.
        let t = s.tick(at(62)).await.unwrap();
        assert_eq!((t.steps, t.messages), (0, 0));
        s.execute(
            &on("w", ActionKind::Resume(journeyctl::domain::Overdue::Send)),
            &alice(),
            at(63),
        )
        .await
        .unwrap();
        let t = s.tick(at(64)).await.unwrap();
        assert_eq!((t.messages, t.completed), (1, 1));
    }
);

both_backends!(
    people_inside_a_wait_are_counted_on_the_wait_and_steps_number_from_one,
    |ts| {
        let s = &ts.store;
        let d = def(
            "name = \"w2\"\n[[steps]]\nkind = \"wait\"\nduration = \"1h\"\n\
         [[steps]]\nkind = \"message\"\naction = \"email\"\n\
         [[steps]]\nkind = \"wait\"\nduration = \"2d\"\n",
        );
        // On the wall clock: the detail view counts what is due now.
        let now = journeyctl::domain::time::now_millis();
        publish(s, &d, now - 1_000).await;
        let people: Vec<_> = (0..3)
            .map(|i| enter("w2", &format!("p-{i}"), now))
            .collect();
        s.ingest(&people).await.unwrap();
        s.tick(now + 1).await.unwrap();
        let steps = &s.detail("w2").await.unwrap()[0].steps;
        let counts: Vec<(i64, &str, i64)> = steps
            .iter()
            .map(|st| (st.index, st.kind, st.waiting))
            .collect();
        assert_eq!(
            counts,
            vec![(1, "wait", 3), (2, "message", 0), (3, "wait", 0)],
            "the three are inside the hour's wait, not on the email"
        );
        // `profile` numbers the next step as the console does.
        let entry = &s.profile("p-0").await.unwrap()[0];
        assert_eq!((entry.step, entry.next_step), (1, Some(2)));
        assert_eq!(
            entry.next_due.as_deref(),
            Some(journeyctl::domain::time::to_rfc3339(now + 3_600_000).as_str())
        );
    }
);

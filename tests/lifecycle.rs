//! Every lifecycle rule of SPEC §2 and §2b, on SQLite and PostgreSQL; after
//! each scenario the counters must equal a recount of the rows.

mod common;

use common::*;
use journeyctl::domain::{ActionKind, VersionStatus};
use journeyctl::store::{Error, OperatorAction, Refusal, Target};

fn finish(journey: &str, version: Option<i64>) -> OperatorAction {
    OperatorAction {
        kind: ActionKind::Finish,
        target: Target::Version {
            journey: journey.into(),
            version,
        },
        reason: None,
    }
}

fn stop(journey: &str, version: Option<i64>) -> OperatorAction {
    OperatorAction {
        kind: ActionKind::Stop,
        target: Target::Version {
            journey: journey.into(),
            version,
        },
        reason: Some("wrong audience".into()),
    }
}

both_backends!(finish_blocks_entry_and_lets_people_inside_complete, |ts| {
    let s = &ts.store;
    publish(s, &simple("welcome"), at(0)).await;
    s.ingest(&[
        enter("welcome", "p-1", at(0)),
        enter("welcome", "p-2", at(0)),
    ])
    .await
    .unwrap();
    s.tick(at(1)).await.unwrap();
    let out = s
        .execute(&finish("welcome", None), &alice(), at(2))
        .await
        .unwrap();
    assert_eq!(out.versions[0].active, 2);
    let r = s.ingest(&[enter("welcome", "p-3", at(3))]).await.unwrap();
    assert_eq!(r.refused.get("no_live_version"), Some(&1));
    let v = summary(s, "welcome", 1).await;
    assert_eq!(v.status, VersionStatus::Finished);
    assert!(!v.entry_open);
    assert_eq!(
        journeyctl::present::status_label(journeyctl::present::shown(&v)),
        "finished, draining 2"
    );
    // The wait ends; both complete their path with the sms.
    s.tick(at(61)).await.unwrap();
    let v = summary(s, "welcome", 1).await;
    assert_eq!(
        (v.counts.entered, v.counts.active, v.counts.completed),
        (2, 0, 2)
    );
    assert_eq!(v.messages.pending, 4);
    assert_eq!(
        journeyctl::present::status_label(journeyctl::present::shown(&v)),
        "finished, drained"
    );
    let audit = changes(s, Some("welcome"), 10).await;
    assert_eq!(audit[0].action, "finish");
    assert_eq!(audit[0].actor, "alice");
    assert_eq!(audit[0].host, "ops-1");
    assert_eq!(audit[0].affected_active, 2);
    assert_eq!(
        (audit[0].from.as_deref(), audit[0].to.as_deref()),
        (Some("live"), Some("finished"))
    );
});

both_backends!(stop_halts_everyone_and_cancels_pending_messages, |ts| {
    let s = &ts.store;
    publish(s, &simple("promo"), at(0)).await;
    let entries: Vec<_> = (0..50)
        .map(|i| enter("promo", &format!("p-{i}"), at(0)))
        .collect();
    s.ingest(&entries).await.unwrap();
    s.tick(at(1)).await.unwrap();
    assert_eq!(deliver_n(s, 10).await, 10);
    let before = summary(s, "promo", 1).await;
    assert_eq!((before.messages.pending, before.messages.sent), (40, 10));
    let out = s
        .execute(&stop("promo", None), &bob(), at(2))
        .await
        .unwrap();
    assert_eq!((out.versions[0].active, out.versions[0].pending), (50, 40));
    let v = summary(s, "promo", 1).await;
    assert_eq!(v.status, VersionStatus::Stopped);
    assert_eq!((v.counts.active, v.counts.stopped), (0, 50));
    assert_eq!(
        (v.messages.pending, v.messages.sent, v.messages.cancelled),
        (0, 10, 40)
    );
    // No step runs again, nothing is enqueued, nothing is delivered.
    let tick = s.tick(at(120)).await.unwrap();
    assert_eq!(tick.messages, 0);
    assert_eq!(deliver_n(s, 100).await, 0);
    assert!(s.delivery_queue().await.unwrap().is_empty());
    let states = outbox_states(s, "promo", 1).await;
    assert_eq!(states.len(), 50);
    assert_eq!(states.iter().filter(|x| *x == "cancelled").count(), 40);
    assert!(!states.iter().any(|x| x == "pending"));
    // Events no longer move stopped participants.
    s.ingest(&[
        goal("p-1", "purchase", at(130)),
        goal("p-2", "unsubscribe", at(130)),
    ])
    .await
    .unwrap();
    let v = summary(s, "promo", 1).await;
    assert_eq!(
        (v.counts.converted, v.counts.exited, v.counts.stopped),
        (0, 0, 50)
    );
    let p = s.profile("p-1").await.unwrap();
    assert_eq!(p[0].state, "stopped");
    let audit = changes(s, Some("promo"), 10).await;
    assert_eq!(audit[0].action, "stop");
    assert_eq!(audit[0].affected_active, 50);
    assert_eq!(audit[0].reason.as_deref(), Some("wrong audience"));
    // The sweep writes the effective states into the rows without moving counters.
    s.sweep_stopped(7).await.unwrap();
    s.sweep_stopped(1000).await.unwrap();
    let raw: Vec<(String,)> = sqlx::query_as("SELECT DISTINCT state FROM participants")
        .fetch_all(s.pool())
        .await
        .unwrap();
    assert_eq!(raw, vec![("stopped".to_string(),)]);
});

both_backends!(no_transition_goes_back_and_refusals_say_who, |ts| {
    let s = &ts.store;
    publish(s, &simple("winback"), at(0)).await;
    s.execute(&stop("winback", Some(1)), &alice(), at(1))
        .await
        .unwrap();
    for action in [finish("winback", Some(1)), stop("winback", Some(1))] {
        let e = s.execute(&action, &bob(), at(2)).await.unwrap_err();
        let Error::Refused(Refusal::Status { status, by, .. }) = &e else {
            panic!("not refused by its status: {e}")
        };
        assert_eq!(status, "stopped");
        assert_eq!(by, "by alice on ops-1 at 2026-11-21T10:01:00Z");
        assert!(
            e.to_string()
                .contains("stopped by alice on ops-1 at 2026-11-21T10:01:00Z"),
            "{e}"
        );
    }
    // Publishing cannot revive it: there is no draft.
    let e = s.publish("winback", &bob(), at(3)).await.unwrap_err();
    assert!(matches!(e, Error::Refused(_)), "{e}");
    // A draft can only be published.
    s.apply(&simple("winback"), &alice(), at(4)).await.unwrap();
    let e = s
        .execute(&finish("winback", Some(2)), &bob(), at(5))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("draft"), "{e}");
    let e = s
        .execute(&stop("winback", Some(2)), &bob(), at(5))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("draft"), "{e}");
    // Finished cannot be finished again.
    publish(s, &simple("other"), at(0)).await;
    s.execute(&finish("other", None), &alice(), at(1))
        .await
        .unwrap();
    let e = s
        .execute(&finish("other", Some(1)), &bob(), at(2))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already finished"), "{e}");
    assert_eq!(
        summary(s, "winback", 1).await.status,
        VersionStatus::Stopped
    );
    // Unknown journey and version are bad input.
    assert!(matches!(
        s.execute(&finish("nope", None), &bob(), at(2)).await,
        Err(Error::UnknownJourney(j)) if j == "nope"
    ));
    assert!(matches!(
        s.execute(&finish("other", Some(9)), &bob(), at(2)).await,
        Err(Error::NoSuchVersion { number: 9, .. })
    ));
    // Refusals wrote nothing.
    assert_eq!(changes(s, Some("winback"), 10).await.len(), 2);
});

both_backends!(a_new_version_after_a_stop_takes_new_entries, |ts| {
    let s = &ts.store;
    publish(s, &simple("cart"), at(0)).await;
    s.ingest(&[enter("cart", "p-1", at(0))]).await.unwrap();
    s.execute(&stop("cart", None), &alice(), at(1))
        .await
        .unwrap();
    let applied = s.apply(&simple("cart"), &alice(), at(2)).await.unwrap();
    assert_eq!((applied.version, applied.created), (2, true));
    // Re-applying rewrites the draft instead of piling up drafts.
    let again = s.apply(&simple("cart"), &alice(), at(2)).await.unwrap();
    assert_eq!((again.version, again.created), (2, false));
    assert_eq!(s.publish("cart", &alice(), at(3)).await.unwrap(), 2);
    let r = s
        .ingest(&[enter("cart", "p-1", at(4)), enter("cart", "p-2", at(4))])
        .await
        .unwrap();
    assert_eq!(r.entered, 2, "{r:?}");
    assert_eq!(summary(s, "cart", 2).await.counts.entered, 2);
    assert_eq!(summary(s, "cart", 1).await.status, VersionStatus::Stopped);
});

both_backends!(
    end_date_finishes_the_version_while_people_inside_complete,
    |ts| {
        let s = &ts.store;
        let mut d = simple("holiday");
        d.entry_end_at = Some(at(30));
        publish(s, &d, at(0)).await;
        s.ingest(&[enter("holiday", "p-1", at(0))]).await.unwrap();
        // After the date, entries are refused even before the engine runs.
        let r = s.ingest(&[enter("holiday", "p-2", at(31))]).await.unwrap();
        assert_eq!(r.refused.get("entry_ended"), Some(&1), "{r:?}");
        let tick = s.tick(at(31)).await.unwrap();
        assert_eq!(tick.finished_by_date, vec!["holiday v1".to_string()]);
        let v = summary(s, "holiday", 1).await;
        assert_eq!(v.status, VersionStatus::Finished);
        let audit = changes(s, Some("holiday"), 1).await;
        assert_eq!(audit[0].actor, "schedule");
        assert_eq!(audit[0].action, "finish");
        assert_eq!(audit[0].affected_active, 1);
        s.tick(at(61)).await.unwrap();
        let v = summary(s, "holiday", 1).await;
        assert_eq!((v.counts.completed, v.counts.active), (1, 0));
        // A second tick does not finish it twice.
        assert!(s.tick(at(62)).await.unwrap().finished_by_date.is_empty());
        assert_eq!(changes(s, Some("holiday"), 10).await.len(), 2);
    }
);

both_backends!(
    an_exit_event_exits_at_once_wherever_the_participant_is,
    |ts| {
        let s = &ts.store;
        publish(s, &simple("onboarding"), at(0)).await;
        s.ingest(&[
            enter("onboarding", "p-1", at(0)),
            enter("onboarding", "p-2", at(0)),
        ])
        .await
        .unwrap();
        s.tick(at(1)).await.unwrap(); // both wait before the sms
        let r = s
            .ingest(&[goal("p-1", "unsubscribe", at(2))])
            .await
            .unwrap();
        assert_eq!(r.exited, 1);
        s.tick(at(90)).await.unwrap();
        let p = s.profile("p-1").await.unwrap();
        assert_eq!(p[0].state, "exited");
        assert_eq!(p[0].exit_reason.as_deref(), Some("event:unsubscribe"));
        assert_eq!(p[0].step, 2, "it left before the sms");
        let v = summary(s, "onboarding", 1).await;
        assert_eq!(
            (v.counts.exited, v.counts.completed, v.messages.pending),
            (1, 1, 3)
        );
    }
);

both_backends!(
    exit_segment_removes_and_blocks_while_exclusion_only_blocks,
    |ts| {
        let s = &ts.store;
        publish(s, &simple("reengage"), at(0)).await;
        s.ingest(&[
            enter("reengage", "in-1", at(0)),
            enter("reengage", "in-2", at(0)),
            segment("out-1", "suppressed", at(0)),
            segment("staff-1", "staff", at(0)),
        ])
        .await
        .unwrap();
        let r = s
            .ingest(&[
                enter("reengage", "out-1", at(1)),
                enter("reengage", "staff-1", at(1)),
            ])
            .await
            .unwrap();
        assert_eq!(r.refused.get("suppressed"), Some(&1), "{r:?}");
        assert_eq!(r.refused.get("excluded"), Some(&1), "{r:?}");
        // Joining the exit segment later exits; joining the exclusion segment does not.
        let r = s
            .ingest(&[
                segment("in-1", "suppressed", at(2)),
                segment("in-2", "staff", at(2)),
            ])
            .await
            .unwrap();
        assert_eq!(r.exited, 1);
        assert_eq!(
            s.profile("in-1").await.unwrap()[0].exit_reason.as_deref(),
            Some("segment:suppressed")
        );
        assert_eq!(s.profile("in-2").await.unwrap()[0].state, "active");
        let v = summary(s, "reengage", 1).await;
        assert_eq!(
            (v.counts.entered, v.counts.active, v.counts.exited),
            (2, 1, 1)
        );
    }
);

both_backends!(
    a_profile_enters_a_version_once_and_one_version_at_a_time,
    |ts| {
        let s = &ts.store;
        publish(s, &simple("loyalty"), at(0)).await;
        let r = s
            .ingest(&[
                enter("loyalty", "p-1", at(0)),
                enter("loyalty", "p-1", at(1)),
            ])
            .await
            .unwrap();
        assert_eq!((r.entered, r.refused.get("already_entered")), (1, Some(&1)));
        // v2 goes live: p-1 is still active in v1, so cannot enter v2.
        publish(s, &simple("loyalty"), at(2)).await;
        let r = s.ingest(&[enter("loyalty", "p-1", at(3))]).await.unwrap();
        assert_eq!(r.refused.get("active_in_other_version"), Some(&1), "{r:?}");
        // Once p-1 completes v1 it may enter v2, once.
        s.tick(at(70)).await.unwrap();
        let r = s
            .ingest(&[
                enter("loyalty", "p-1", at(71)),
                enter("loyalty", "p-1", at(72)),
            ])
            .await
            .unwrap();
        assert_eq!(
            (r.entered, r.refused.get("already_entered")),
            (1, Some(&1)),
            "{r:?}"
        );
        // Completed in v1: re-entering v1 is impossible (it is finished anyway).
        let p = s.profile("p-1").await.unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].version, p[0].state.as_str()), (1, "completed"));
        assert_eq!((p[1].version, p[1].state.as_str()), (2, "active"));
        let r = s.ingest(&[enter("nope", "p-9", at(1))]).await.unwrap();
        assert_eq!(r.refused.get("unknown_journey"), Some(&1));
    }
);

both_backends!(a_feed_sent_again_enters_only_the_new_profiles, |ts| {
    let s = &ts.store;
    publish(s, &simple("resend"), at(0)).await;
    let first: Vec<_> = (0..3)
        .map(|i| enter("resend", &format!("p-{i}"), at(0)))
        .collect();
    assert_eq!(s.ingest(&first).await.unwrap().entered, 3);
    // The same three again, with two new ones among them, in one run: the
    // store's quick insert meets rows already there and falls back to the
    // careful one, which tells who really went in.
    let again: Vec<_> = ["p-3", "p-0", "p-1", "p-4", "p-2"]
        .iter()
        .map(|p| enter("resend", p, at(1)))
        .collect();
    let r = s.ingest(&again).await.unwrap();
    assert_eq!(
        (r.entered, r.refused.get("already_entered")),
        (2, Some(&3)),
        "{r:?}"
    );
    // A later batch in the same store goes in whole again, and so does a
    // profile the quick insert's lines could not carry (a tab: the feed's
    // reader refuses one, the library takes it).
    let r = s
        .ingest(&[
            enter("resend", "p-5", at(2)),
            enter("resend", "p\t6", at(2)),
        ])
        .await
        .unwrap();
    assert_eq!(r.entered, 2, "{r:?}");
    assert_eq!(s.profile("p\t6").await.unwrap().len(), 1);
    let v = summary(s, "resend", 1).await;
    assert_eq!((v.counts.entered, v.counts.active), (7, 7));
    assert!(s.verify_counters().await.unwrap().is_empty());
});

both_backends!(publishing_finishes_the_previous_version, |ts| {
    let s = &ts.store;
    publish(s, &simple("newsletter"), at(0)).await;
    s.ingest(&[enter("newsletter", "p-1", at(0))])
        .await
        .unwrap();
    publish(s, &simple("newsletter"), at(5)).await;
    let v1 = summary(s, "newsletter", 1).await;
    let v2 = summary(s, "newsletter", 2).await;
    assert_eq!(
        (v1.status, v2.status),
        (VersionStatus::Finished, VersionStatus::Live)
    );
    assert_eq!(v1.counts.active, 1, "participants of v1 carry on");
    let audit = changes(s, Some("newsletter"), 10).await;
    let actions: Vec<_> = audit
        .iter()
        .map(|a| (a.action.as_str(), a.version, a.reason.as_deref()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("publish", Some(2), None),
            ("finish", Some(1), Some("replaced by v2")),
            ("publish", Some(1), None)
        ]
    );
    let r = s
        .ingest(&[enter("newsletter", "p-2", at(6))])
        .await
        .unwrap();
    assert_eq!(r.entered, 1);
    assert_eq!(summary(s, "newsletter", 2).await.counts.entered, 1);
});

both_backends!(stop_every_version_in_one_atomic_action, |ts| {
    let s = &ts.store;
    publish(s, &simple("birthday"), at(0)).await;
    s.ingest(&[
        enter("birthday", "p-1", at(0)),
        enter("birthday", "p-2", at(0)),
    ])
    .await
    .unwrap();
    publish(s, &simple("birthday"), at(1)).await;
    s.ingest(&[enter("birthday", "p-3", at(2))]).await.unwrap();
    s.tick(at(3)).await.unwrap();
    let action = OperatorAction {
        kind: ActionKind::Stop,
        target: Target::AllVersions {
            journey: "birthday".into(),
        },
        reason: None,
    };
    let impact = s.preview(&action).await.unwrap();
    assert_eq!(
        (impact.versions.len(), impact.active(), impact.pending()),
        (2, 3, 3)
    );
    let out = s.execute(&action, &alice(), at(4)).await.unwrap();
    assert_eq!(out.versions.len(), 2);
    for n in [1, 2] {
        assert_eq!(
            summary(s, "birthday", n).await.status,
            VersionStatus::Stopped
        );
    }
    let audit = changes(s, Some("birthday"), 10).await;
    let stops: Vec<_> = audit
        .iter()
        .filter(|a| a.action == "stop")
        .map(|a| (a.version, a.affected_active))
        .collect();
    assert_eq!(stops.len(), 2);
    assert!(
        stops.contains(&(Some(1), 2)) && stops.contains(&(Some(2), 1)),
        "{stops:?}"
    );
    // Nothing left to stop: refused, nothing written.
    assert!(matches!(
        s.execute(&action, &alice(), at(5)).await,
        Err(Error::Refused(_))
    ));
    assert_eq!(changes(s, Some("birthday"), 10).await.len(), audit.len());
});

both_backends!(kill_switch_stops_every_version_using_an_action, |ts| {
    let s = &ts.store;
    let crm = |name: &str| {
        def(&format!(
            "name = \"{name}\"\n[[steps]]\nkind = \"message\"\naction = \"webhook:crm\"\n[[steps]]\nkind = \"wait\"\nduration = \"1d\"\n"
        ))
    };
    publish(s, &crm("lead-sync"), at(0)).await;
    publish(s, &crm("vip-sync"), at(0)).await;
    publish(s, &simple("plain"), at(0)).await;
    s.ingest(&[
        enter("lead-sync", "p-1", at(0)),
        enter("vip-sync", "p-2", at(0)),
        enter("plain", "p-3", at(0)),
    ])
    .await
    .unwrap();
    let action = OperatorAction {
        kind: ActionKind::Stop,
        target: Target::UsesAction {
            action: "webhook:crm".into(),
        },
        reason: Some("crm is down".into()),
    };
    let out = s.execute(&action, &alice(), at(1)).await.unwrap();
    let mut names: Vec<_> = out.versions.iter().map(|v| v.journey.clone()).collect();
    names.sort();
    assert_eq!(names, vec!["lead-sync", "vip-sync"]);
    // Read back from the store, not from the outcome: both are stopped,
    // with their participants, and each has its audit row and reason.
    for j in ["lead-sync", "vip-sync"] {
        let v = summary(s, j, 1).await;
        assert_eq!(v.status, VersionStatus::Stopped, "{j}");
        assert_eq!((v.counts.active, v.counts.stopped), (0, 1), "{j}");
        let audit = changes(s, Some(j), 10).await;
        assert_eq!(audit[0].action, "stop", "{j}");
        assert_eq!(audit[0].reason.as_deref(), Some("crm is down"), "{j}");
    }
    assert_eq!(summary(s, "plain", 1).await.status, VersionStatus::Live);
    // A channel name covers its sub-actions.
    let d = def(
        "name = \"subj\"\n[[steps]]\nkind = \"split\"\ntest = \"t\"\nvariants = [{name=\"A\",weight=1,action=\"email:a\"},{name=\"B\",weight=1,action=\"email:b\"}]\n",
    );
    publish(s, &d, at(0)).await;
    let email = OperatorAction {
        kind: ActionKind::Stop,
        target: Target::UsesAction {
            action: "email".into(),
        },
        reason: None,
    };
    let out = s.execute(&email, &alice(), at(2)).await.unwrap();
    let mut names: Vec<_> = out.versions.iter().map(|v| v.journey.clone()).collect();
    names.sort();
    assert_eq!(names, vec!["plain", "subj"]);
    for j in ["plain", "subj"] {
        assert_eq!(summary(s, j, 1).await.status, VersionStatus::Stopped, "{j}");
    }
    let none = OperatorAction {
        kind: ActionKind::Stop,
        target: Target::UsesAction {
            action: "fax".into(),
        },
        reason: None,
    };
    assert!(matches!(
        s.execute(&none, &alice(), at(3)).await,
        Err(Error::Refused(_))
    ));
});

both_backends!(goal_converts_once_and_only_while_active, |ts| {
    let s = &ts.store;
    publish(s, &simple("spring"), at(0)).await;
    s.ingest(&[
        enter("spring", "p-1", at(0)),
        enter("spring", "p-2", at(0)),
        enter("spring", "p-3", at(0)),
    ])
    .await
    .unwrap();
    let r = s
        .ingest(&[
            goal("p-1", "purchase", at(1)),
            goal("p-1", "purchase", at(2)),
            goal("p-1", "browse", at(2)),
        ])
        .await
        .unwrap();
    assert_eq!(r.converted, 1);
    // p-2 exits, then purchases: not counted. p-3 completes, then purchases: not counted.
    s.ingest(&[
        goal("p-2", "unsubscribe", at(3)),
        goal("p-2", "purchase", at(4)),
    ])
    .await
    .unwrap();
    s.tick(at(100)).await.unwrap();
    s.ingest(&[goal("p-3", "purchase", at(101))]).await.unwrap();
    let v = summary(s, "spring", 1).await;
    assert_eq!(v.counts.converted, 1);
    assert_eq!(v.conversion_rate, Some(1.0 / 3.0));
    let p = s.profile("p-1").await.unwrap();
    assert!(p[0].converted);
    assert!(!s.profile("p-2").await.unwrap()[0].converted);
});

both_backends!(
    racing_operators_produce_one_winner_and_one_audit_row,
    |ts| {
        let s = &ts.store;
        for round in 0..3 {
            let name = format!("race-{round}");
            publish(s, &simple(&name), at(0)).await;
            let entries: Vec<_> = (0..20)
                .map(|i| enter(&name, &format!("p-{i}"), at(0)))
                .collect();
            s.ingest(&entries).await.unwrap();
            let mut tasks = Vec::new();
            for i in 0..8 {
                let store = s.clone();
                let kind = if i % 2 == 0 {
                    ActionKind::Stop
                } else {
                    ActionKind::Finish
                };
                let action = OperatorAction {
                    kind,
                    target: Target::Version {
                        journey: name.clone(),
                        version: Some(1),
                    },
                    reason: None,
                };
                let actor = journeyctl::store::Actor::new(format!("op-{i}"), "ops");
                tasks.push(tokio::spawn(async move {
                    (kind, store.execute(&action, &actor, at(1)).await)
                }));
            }
            let mut wins = Vec::new();
            for t in tasks {
                let (kind, result) = t.await.unwrap();
                match result {
                    Ok(_) => wins.push(kind),
                    Err(e @ Error::Refused(_)) => assert!(e.to_string().contains(" by op-"), "{e}"),
                    Err(e) => panic!("unexpected error: {e}"),
                }
            }
            let audit = changes(s, Some(&name), 20).await;
            // A finish may be followed by a stop (finished -> stopped is allowed);
            // never two of the same, never a stop then a finish.
            match wins.as_slice() {
                [_] => assert_eq!(audit.len() - 1, 1),
                [a, b] => {
                    assert!(
                        wins.contains(&ActionKind::Finish) && wins.contains(&ActionKind::Stop),
                        "{a:?} {b:?}"
                    );
                    assert_eq!(audit.len() - 1, 2);
                    assert_eq!(audit[0].action, "stop");
                    assert_eq!(audit[1].action, "finish");
                }
                other => panic!("{} winners: {other:?}", other.len()),
            }
            // Same kind only: exactly one winner.
            let name2 = format!("race-stop-{round}");
            publish(s, &simple(&name2), at(0)).await;
            let mut tasks = Vec::new();
            for i in 0..8 {
                let store = s.clone();
                let action = stop(&name2, Some(1));
                let actor = journeyctl::store::Actor::new(format!("op-{i}"), "ops");
                tasks.push(tokio::spawn(async move {
                    store.execute(&action, &actor, at(1)).await.is_ok()
                }));
            }
            let mut ok = 0;
            for t in tasks {
                ok += usize::from(t.await.unwrap());
            }
            assert_eq!(ok, 1);
            let audit = changes(s, Some(&name2), 20).await;
            assert_eq!(audit.iter().filter(|a| a.action == "stop").count(), 1);
        }
    }
);

both_backends!(the_audit_log_is_append_only_in_the_database, |ts| {
    let s = &ts.store;
    publish(s, &simple("locked"), at(0)).await;
    let refused_by_trigger = |r: Result<sqlx::any::AnyQueryResult, sqlx::Error>, what: &str| {
        let e = r.expect_err(&format!("{what} on audit must fail"));
        assert!(
            e.to_string().contains("the audit log is append-only"),
            "{what} failed for another reason: {e}"
        );
    };
    refused_by_trigger(
        sqlx::query("UPDATE audit SET actor = 'mallory'")
            .execute(s.pool())
            .await,
        "UPDATE",
    );
    refused_by_trigger(
        sqlx::query("DELETE FROM audit").execute(s.pool()).await,
        "DELETE",
    );
    if s.backend() != journeyctl::store::Backend::Sqlite {
        refused_by_trigger(
            sqlx::query("TRUNCATE audit").execute(s.pool()).await,
            "TRUNCATE",
        );
    }
    let audit = changes(s, None, 10).await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor, "alice");
});

both_backends!(events_in_one_batch_apply_in_their_order, |ts| {
    let s = &ts.store;
    publish(s, &simple("ordered"), at(0)).await;
    let events = [
        segment("late", "suppressed", at(0)),
        enter("ordered", "early", at(0)),
        enter("ordered", "late", at(0)),
        enter("ordered", "early", at(0)),
        goal("early", "purchase", at(1)),
        segment("early", "suppressed", at(2)),
        enter("ordered", "after", at(3)),
        segment("staff-9", "staff", at(3)),
        enter("ordered", "staff-9", at(3)),
        enter("nowhere", "x", at(3)),
    ];
    let r = s.ingest(&events).await.unwrap();
    assert_eq!(r.accepted, 10);
    assert_eq!(
        r.unchanged, 0,
        "every event moved someone or joined a segment"
    );
    assert_eq!(r.entered, 2, "{r:?}");
    assert_eq!(r.converted, 1);
    assert_eq!(r.exited, 1);
    let refused: Vec<(&str, u64)> = r.refused.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(
        refused,
        vec![
            ("already_entered", 1),
            ("excluded", 1),
            ("suppressed", 1),
            ("unknown_journey", 1)
        ]
    );
    let early = &s.profile("early").await.unwrap()[0];
    assert!(early.converted);
    assert_eq!(early.exit_reason.as_deref(), Some("segment:suppressed"));
    // The same lines again change nothing, and the report says so.
    let again = s.ingest(&events).await.unwrap();
    assert_eq!(again.accepted, 10);
    assert_eq!((again.entered, again.converted, again.exited), (0, 0, 0));
    assert_eq!(again.unchanged, 4, "three segments and a goal: {again:?}");
    assert_eq!(again.refused_total(), 6, "{again:?}");
});

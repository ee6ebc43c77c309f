//! Actions at a time (`--at`): the intent is kept and audited, listed by
//! `scheduled`, taken back by `unschedule`, and carried out by the engine
//! within a second of its time through the same call as the command, as
//! the operator who set it; one that can no longer apply is skipped with
//! the reason, never half done.

mod common;

use std::time::Duration;

use common::delivery::{run, start};
use common::*;
use journeyctl::domain::schedule::Intent;
use journeyctl::domain::{ActionKind, Hold, OnExpiry, OperatorAction, Overdue, Target};
use journeyctl::store::ScheduleState;

fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

fn act(kind: ActionKind, journey: &str, version: Option<i64>) -> Intent {
    Intent::Act(OperatorAction {
        kind,
        target: Target::Version {
            journey: journey.into(),
            version,
        },
        reason: Some("at its time".into()),
    })
}

both_backends!(a_stop_set_for_a_time_lands_within_a_second_of_it, |ts| {
    publish(&ts.store, &simple("sale"), at(0)).await;
    let o = run(
        &ts.url,
        &[
            "--actor",
            "alice",
            "stop",
            "sale",
            "--at",
            "+3s",
            "--reason",
            "flash sale ends",
            "--yes",
        ],
    )
    .await;
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("scheduled #1: stop sale v1 at "), "{out}");
    assert!(err.contains("no engine has run on this store"), "{err}");
    let listed = json(&run(&ts.url, &["scheduled", "--json"]).await);
    let due = journeyctl::domain::time::parse_rfc3339(listed[0]["at"].as_str().unwrap()).unwrap();
    assert_eq!(listed[0]["state"], "pending");
    assert_eq!(listed[0]["by"], "alice");
    assert_eq!(listed[0]["what"], "stop sale v1");
    // Nothing happens before its time.
    let engine = start(&ts.url, &["run"]);
    let t0 = std::time::Instant::now();
    while !status_is(&ts.store, "sale", "stopped").await {
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "the stop never came"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop(engine);
    let audit = json(&run(&ts.url, &["audit", "--json"]).await);
    let stop = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "stop")
        .expect("the stop's audit row");
    assert_eq!(stop["actor"], "alice");
    assert_eq!(stop["way"], "scheduled");
    assert_eq!(stop["schedule"], 1);
    assert_eq!(stop["reason"], "flash sale ends");
    let landed = journeyctl::domain::time::parse_rfc3339(stop["at"].as_str().unwrap()).unwrap();
    assert!(
        (0..=1_000).contains(&(landed - due)),
        "the stop landed {} ms after its time",
        landed - due
    );
    let set = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "schedule")
        .expect("the schedule's audit row");
    assert_eq!(set["actor"], "alice");
    assert!(set["to"].as_str().unwrap().starts_with("stop sale v1 at "));
    let all = json(&run(&ts.url, &["scheduled", "--all", "--json"]).await);
    assert_eq!(all[0]["state"], "done");
    assert!(
        json(&run(&ts.url, &["scheduled", "--json"]).await)
            .as_array()
            .unwrap()
            .is_empty()
    );
});

async fn status_is(store: &journeyctl::store::Store, journey: &str, status: &str) -> bool {
    store
        .list(false)
        .await
        .unwrap()
        .iter()
        .any(|v| v.journey == journey && v.status.as_str() == status)
}

both_backends!(
    one_that_can_no_longer_apply_is_skipped_with_the_reason,
    |ts| {
        publish(&ts.store, &simple("sale"), at(0)).await;
        let set = ts
            .store
            .schedule(
                act(ActionKind::Finish, "sale", None),
                at(60),
                &alice(),
                at(1),
            )
            .await
            .unwrap();
        // The live version is named when the schedule is set.
        assert_eq!(set.what, "finish sale v1");
        ts.store
            .execute(&stop_of("sale", 1), &bob(), at(2))
            .await
            .unwrap();
        // Not yet its time: nothing.
        assert!(ts.store.run_scheduled(at(59)).await.unwrap().is_empty());
        let ran = ts.store.run_scheduled(at(60)).await.unwrap();
        assert_eq!(ran.len(), 1);
        let why = ran[0].outcome.clone().unwrap_err();
        assert!(why.contains("already stopped"), "{why}");
        let all = ts.store.scheduled(true).await.unwrap();
        assert_eq!(all[0].state, ScheduleState::Skipped);
        assert!(
            all[0]
                .outcome
                .as_deref()
                .unwrap()
                .contains("already stopped")
        );
        // Once only.
        assert!(ts.store.run_scheduled(at(61)).await.unwrap().is_empty());
        let audit = ts.store.audit(Some("sale"), 10).await.unwrap();
        let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions[..3], ["schedule_skipped", "stop", "schedule"]);
        assert_eq!(audit[0].actor, "alice");
        assert_eq!(audit[0].schedule, Some(set.id));
        assert!(ts.store.verify_counters().await.unwrap().is_empty());
    }
);

both_backends!(one_taken_back_never_runs, |ts| {
    publish(&ts.store, &simple("sale"), at(0)).await;
    let set = ts
        .store
        .schedule(
            act(ActionKind::Stop, "sale", Some(1)),
            at(60),
            &alice(),
            at(1),
        )
        .await
        .unwrap();
    let back = ts
        .store
        .unschedule(set.id, &bob(), Some("sale extended"), at(2))
        .await
        .unwrap();
    assert_eq!(back.state, ScheduleState::Cancelled);
    assert!(ts.store.run_scheduled(at(60)).await.unwrap().is_empty());
    assert!(status_is(&ts.store, "sale", "live").await);
    let again = ts
        .store
        .unschedule(set.id, &bob(), None, at(3))
        .await
        .unwrap_err()
        .to_string();
    assert!(again.contains("taken back by bob"), "{again}");
    let audit = ts.store.audit(Some("sale"), 1).await.unwrap();
    assert_eq!(audit[0].action, "unschedule");
    assert_eq!(audit[0].actor, "bob");
    // A time that has passed, a journey that does not exist: refused.
    let past = ts
        .store
        .schedule(
            act(ActionKind::Stop, "sale", Some(1)),
            at(1),
            &alice(),
            at(2),
        )
        .await;
    assert!(past.unwrap_err().to_string().contains("not ahead"));
    let unknown = ts
        .store
        .schedule(act(ActionKind::Stop, "nope", None), at(60), &alice(), at(2))
        .await;
    assert!(unknown.is_err());
    assert_eq!(ts.store.scheduled(false).await.unwrap().len(), 0);
});

both_backends!(every_verb_runs_through_its_own_call, |ts| {
    publish(&ts.store, &simple("sale"), at(0)).await;
    let mut v2 = simple("sale");
    v2.goal = Some("purchase".into());
    ts.store.apply(&v2, &alice(), at(0)).await.unwrap();
    let pause = ActionKind::Pause(Hold::new(3_600_000, OnExpiry::Resume).unwrap());
    let hold = Intent::Hold {
        action: "email".into(),
        for_ms: Some(600_000),
        on_expiry: "release".into(),
        reason: None,
    };
    let release = Intent::Release {
        action: "email".into(),
        overdue: Overdue::Skip,
        reason: None,
    };
    let publish = Intent::Publish {
        journey: "sale".into(),
        reason: Some("at nine".into()),
    };
    for (intent, minute) in [
        (act(pause, "sale", Some(1)), 10),
        (act(ActionKind::Resume(Overdue::Send), "sale", Some(1)), 20),
        (hold, 30),
        (release, 40),
        (publish, 50),
    ] {
        ts.store
            .schedule(intent, at(minute), &alice(), at(1))
            .await
            .unwrap();
    }
    assert_eq!(ts.store.next_scheduled().await.unwrap(), Some(at(10)));
    ts.store.run_scheduled(at(10)).await.unwrap();
    let paused = ts.store.list(false).await.unwrap();
    assert!(paused.iter().any(|v| v.paused.is_some()));
    ts.store.run_scheduled(at(20)).await.unwrap();
    assert!(
        ts.store
            .list(false)
            .await
            .unwrap()
            .iter()
            .all(|v| v.paused.is_none())
    );
    ts.store.run_scheduled(at(30)).await.unwrap();
    let holds = ts.store.action_holds().await.unwrap();
    assert_eq!(holds.len(), 1);
    assert_eq!(holds[0].until, Some(at(40)));
    ts.store.run_scheduled(at(40)).await.unwrap();
    assert!(ts.store.action_holds().await.unwrap().is_empty());
    ts.store.run_scheduled(at(50)).await.unwrap();
    assert!(status_is(&ts.store, "sale", "finished").await);
    let all = ts.store.scheduled(true).await.unwrap();
    assert!(
        all.iter().all(|s| s.state == ScheduleState::Done),
        "{all:?}"
    );
    let audit = ts.store.audit(None, 100).await.unwrap();
    let by_schedule: Vec<&str> = audit
        .iter()
        .filter(|e| e.way.as_deref() == Some("scheduled"))
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(
        by_schedule,
        ["publish", "finish", "release", "hold", "resume", "pause"]
    );
    assert!(ts.store.verify_counters().await.unwrap().is_empty());
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_asks_and_refuses_in_one_line() {
    let ts = sqlite("schedule_cli").await;
    publish(&ts.store, &simple("sale"), at(0)).await;
    // No terminal, no --yes: refused (exit 3), nothing kept.
    let o = run(&ts.url, &["stop", "sale", "--at", "+1h"]).await;
    assert_eq!(o.status.code(), Some(3), "{}", text(&o).1);
    let o = run(
        &ts.url,
        &["pause", "sale", "--at", "2001-01-01T00:00:00Z", "--yes"],
    )
    .await;
    assert!(!o.status.success());
    assert!(text(&o).1.contains("in the past"), "{}", text(&o).1);
    let o = run(
        &ts.url,
        &["hold", "--action", "email", "--at", "soon", "--yes"],
    )
    .await;
    assert!(text(&o).1.contains("RFC 3339"), "{}", text(&o).1);
    assert!(ts.store.scheduled(true).await.unwrap().is_empty());
    let o = run(&ts.url, &["unschedule", "9"]).await;
    assert!(
        text(&o).1.contains("no scheduled action 9"),
        "{}",
        text(&o).1
    );
    let o = run(&ts.url, &["publish", "sale", "--at", "+1h", "--yes"]).await;
    assert!(o.status.success(), "{}", text(&o).1);
    let listed = text(&run(&ts.url, &["scheduled"]).await).0;
    assert!(listed.contains("publish sale"), "{listed}");
    assert!(listed.contains("no engine has run"), "{listed}");
    ts.close().await;
}

/// On the README's team setup: alice (operator) sets a stop for a time,
/// carol's engine carries it out as alice; no login, the owner included,
/// sets, rewrites, ends or deletes a schedule in `psql` without the audit
/// row that says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_postgres,
    ignore = "PostgreSQL skipped: set JOURNEYCTL_TEST_POSTGRES_URL"
)]
async fn no_login_forges_or_rewrites_a_schedule() {
    use common::roles::{Roles, ok, status_of, try_sql, write_def};
    let Some(roles) = Roles::create("sched").await else {
        return;
    };
    let [admin, alice, _bob, carol] = [0, 1, 2, 3].map(|i| roles.names[i].clone());
    let dir = tempfile::tempdir().unwrap();
    let (admin_url, alice_url, carol_url) =
        (roles.url(&admin), roles.url(&alice), roles.url(&carol));
    ok(&admin_url, &["migrate"]);
    ok(&admin_url, &["grant", "--operator", &alice]);
    ok(&admin_url, &["grant", "--engine", &carol]);
    ok(
        &alice_url,
        &["apply", &write_def(dir.path(), "sale"), "--publish"],
    );
    ok(&alice_url, &["stop", "sale", "--at", "+2s", "--yes"]);
    ok(
        &alice_url,
        &["hold", "--action", "email", "--at", "+1h", "--yes"],
    );
    for who in [&alice, &admin, &carol] {
        let pool = roles.pool(who).await;
        for sql in [
            "INSERT INTO scheduled_actions (due_at, verb, what, intent, set_by, set_host, set_at) \
             VALUES (0, 'stop', 'stop sale v1', '{}', 'bob', 'h', 0)",
            "UPDATE scheduled_actions SET due_at = 0 WHERE id = 2",
            "UPDATE scheduled_actions SET intent = '{}' WHERE id = 2",
            "UPDATE scheduled_actions SET state = 'cancelled' WHERE id = 2",
            "UPDATE scheduled_actions SET state = 'done' WHERE id = 2",
            "DELETE FROM scheduled_actions",
        ] {
            let why = try_sql(&pool, sql).await.expect_err(sql);
            assert!(
                why.contains("without an audit row")
                    || why.contains("kept as it was asked")
                    || why.contains("never deleted")
                    || why.contains("permission denied"),
                "{who}: {sql}: {why}"
            );
        }
        pool.close().await;
    }
    // The engine's login carries the stop out, as alice.
    std::thread::sleep(Duration::from_millis(2_100));
    ok(&carol_url, &["tick"]);
    assert_eq!(status_of(&alice_url, "sale"), "stopped");
    let audit = common::roles::json(&alice_url, &["audit", "--json"]);
    let stop = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "stop")
        .unwrap();
    assert_eq!(stop["way"], "scheduled");
    assert_eq!(stop["db_user"], carol.as_str());
    // What is left to happen, alice may take back.
    ok(&alice_url, &["unschedule", "2"]);
    roles.drop_all().await;
}

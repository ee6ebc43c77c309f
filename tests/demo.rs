//! The demo's store holds the campaign the README promises, and simulated
//! time moves the counts while keeping them exact: on both backends.

mod common;

use journeyctl::demo;
use journeyctl::domain::VersionStatus;

both_backends!(demo_seeds_the_mix_and_traffic_moves_counts_exactly, citus: "the demo replays three days of history a tick at a time, over three minutes on the cluster (a few due in each of 64 buckets: many small batches), more than CI can spare; it passes there, and the engine it drives is tested on Citus elsewhere", |ts| {
    let mut sim = demo::seed(ts.store.clone(), 3_000, 60.0, 7, false)
        .await
        .unwrap();
    let list = ts.store.list(true).await.unwrap();
    let journeys: std::collections::BTreeSet<&str> =
        list.iter().map(|v| v.journey.as_str()).collect();
    assert!(journeys.len() >= 12, "about a dozen journeys: {journeys:?}");
    let find = |name: &str, n: i64| {
        list.iter()
            .find(|v| v.journey == name && v.version == n)
            .unwrap_or_else(|| panic!("{name} v{n}"))
    };
    // A/B test on cart recovery.
    assert_eq!(
        find("cart-recovery", 1).ab.as_ref().unwrap().test,
        "subject-line"
    );
    // Win-back exits people who purchase and those who join its
    // suppression segment.
    let winback = ts.store.detail("win-back").await.unwrap();
    assert_eq!(winback[0].summary.status, VersionStatus::Live);
    let exits: std::collections::BTreeMap<&str, i64> = winback[0]
        .exit_reasons
        .iter()
        .map(|(r, n)| (r.as_str(), *n))
        .collect();
    assert!(
        exits.get("event:purchase").is_some_and(|n| *n > 0),
        "no purchase exits: {exits:?}"
    );
    assert!(
        exits.keys().any(|r| r.starts_with("segment:")),
        "no suppression-segment exits: {exits:?}"
    );
    assert_eq!(
        winback[0].summary.counts.exited,
        exits.values().sum::<i64>(),
        "every exit has its reason"
    );
    // Holiday promotion ends on a date ahead.
    let holiday = find("holiday-promo", 1);
    // The last hour of history runs at its live rate (1,200 an hour), so
    // its trend shows no surge when the console opens.
    let last_hour: i64 = holiday
        .recent
        .as_ref()
        .unwrap()
        .hour
        .iter()
        .map(|m| m.entered)
        .sum();
    assert!(last_hour >= 900, "{last_hour} entries in the last hour");
    assert!(holiday.entry_end_ms.unwrap() > sim.clock.sim_start);
    // Edited live: v1 finished and draining, v2 live.
    let (l1, l2) = (find("loyalty-upgrade", 1), find("loyalty-upgrade", 2));
    assert_eq!(
        (l1.status, l2.status),
        (VersionStatus::Finished, VersionStatus::Live)
    );
    assert!(
        l1.counts.active > 0,
        "loyalty-upgrade v1 should still be draining"
    );
    // One stopped, one finished and drained.
    assert_eq!(
        find("black-friday-teaser", 1).status,
        VersionStatus::Stopped
    );
    let summer = find("summer-sale", 1);
    assert_eq!(
        (summer.status, summer.counts.active),
        (VersionStatus::Finished, 0)
    );
    // One using webhook:crm for the kill switch.
    assert!(
        list.iter()
            .any(|v| v.uses_actions.iter().any(|a| a == "webhook:crm")
                && v.status == VersionStatus::Live)
    );
    // The audit log tells the story.
    let audit = ts.store.audit(None, 100).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "stop" && a.journey == "black-friday-teaser" && a.actor == "sam")
    );
    common::assert_counters_exact(&ts.store).await;
    // A few simulated minutes of traffic move the counts, exactly.
    let before: i64 = list.iter().map(|v| v.counts.entered).sum();
    let sent_before: i64 = list.iter().map(|v| v.messages.sent).sum();
    let start = sim.clock.sim_start;
    for k in 1..=6 {
        sim.step_to(start + k * 30_000).await.unwrap();
    }
    let after = ts.store.list(true).await.unwrap();
    let entered: i64 = after.iter().map(|v| v.counts.entered).sum();
    let sent: i64 = after.iter().map(|v| v.messages.sent).sum();
    assert!(entered > before, "no new entries: {before} -> {entered}");
    assert!(sent > sent_before, "the delivery worker sent nothing");
    // The demo is its store's engine: a stop set for a time runs there,
    // as the operator who set it.
    let wall = sim.clock.to_wall(sim.clock.sim_start + 6 * 30_000);
    let stop = journeyctl::domain::schedule::Intent::Act(common::stop_of("welcome-series", 1));
    ts.store
        .schedule(stop, sim.clock.to_wall(sim.clock.sim_start + 195_000), &common::alice(), wall)
        .await
        .unwrap();
    sim.step_to(sim.clock.sim_start + 7 * 30_000).await.unwrap();
    let done = ts.store.scheduled(true).await.unwrap();
    assert_eq!(done[0].state, journeyctl::store::ScheduleState::Done, "{done:?}");
    assert!(ts.store.engine_last_seen().await.unwrap().is_some());
});

both_backends!(the_demo_split_drifts_into_an_srm_while_one_watches, citus: "the demo replays three days of history a tick at a time, over three minutes on the cluster (a few due in each of 64 buckets: many small batches), more than CI can spare; it passes there", |ts| {
    let mut sim = demo::seed(ts.store.clone(), 3_000, 60.0, 7, false)
        .await
        .unwrap();
    let onboarding = |list: &[journeyctl::store::VersionSummary]| {
        list.iter()
            .find(|v| v.journey == "app-onboarding")
            .cloned()
            .unwrap()
    };
    let before = onboarding(&ts.store.list(true).await.unwrap());
    let ab = before.ab.clone().unwrap();
    assert_eq!(ab.test, "tips-channel");
    assert_eq!(ab.srm, None, "the seeded history is balanced: {ab:?}");
    assert_eq!(before.goal_target, Some(0.2));
    // Two and a half simulated hours after B's people start leaving.
    let start = sim.clock.sim_start;
    for k in 1..=36 {
        sim.step_to(start + k * 5 * 60_000).await.unwrap();
    }
    let after = onboarding(&ts.store.list(true).await.unwrap());
    let ab = after.ab.clone().unwrap();
    let srm = ab.srm.clone().expect("the split drifted from its weights");
    assert!(srm.p_value < 0.001);
    assert!(srm.observed[0].1 > srm.observed[1].1, "{srm:?}");
    assert_eq!(ab.winner, None, "no winner while marked");
    assert_eq!(journeyctl::present::ab_label(after.ab.as_ref()), "⚠ SRM");
    assert!(after.counts.exited > before.counts.exited);
});

both_backends!(the_demo_keeps_one_clock_for_everything_its_store_holds, citus: "the demo replays three days of history a tick at a time, over three minutes on the cluster, more than CI can spare; its clock is the same code on every backend", |ts| {
    use journeyctl::domain::time::now_millis;
    use journeyctl::domain::{ActionKind, Hold, OnExpiry};
    use journeyctl::store::{Actor, OperatorAction, Target};
    let mut sim = demo::seed(ts.store.clone(), 3_000, 60.0, 7, false)
        .await
        .unwrap();
    // An operator holds welcome-series for two hours, to resume then.
    let hold = OperatorAction {
        kind: ActionKind::Pause(Hold::new(2 * 3_600_000, OnExpiry::Resume).unwrap()),
        target: Target::Version {
            journey: "welcome-series".into(),
            version: None,
        },
        reason: Some("wrong price".into()),
    };
    ts.store
        .execute(&hold, &Actor::new("alice", "ops-1"), now_millis())
        .await
        .unwrap();
    // Three simulated hours of traffic: three wall minutes at 60x.
    let start = sim.clock.sim_start;
    for k in 1..=6 {
        sim.step_to(start + k * 30 * 60_000).await.unwrap();
    }
    let list = ts.store.list(true).await.unwrap();
    let welcome = list
        .iter()
        .find(|v| v.journey == "welcome-series")
        .unwrap();
    // A hold is on the wall clock: two hours are two hours, whatever the
    // demo's speed.
    assert!(welcome.paused.is_some(), "the two-hour hold ended early");
    // Nothing the store holds is later than the demo's three wall minutes.
    let latest = now_millis() + 3 * 60_000 + 5_000;
    for v in &list {
        if let Some(t) = v.last_activity_ms {
            assert!(t <= latest, "{} v{} active at {t}", v.journey, v.version);
        }
    }
    // The audit is newest first across operators and the engine alike.
    let audit = ts.store.audit(None, 1000).await.unwrap();
    assert!(
        audit.windows(2).all(|w| w[0].at >= w[1].at),
        "the audit's order mixes clocks"
    );
    assert!(audit[0].at.as_str() <= journeyctl::domain::time::to_rfc3339(latest).as_str());
    // The demo's waits are as they pass: a day of the campaign is 24
    // minutes of the wall clock at 60x.
    let cart = ts.store.detail("welcome-series").await.unwrap();
    let labels: Vec<&str> = cart[0].steps.iter().map(|s| s.label.as_str()).collect();
    assert!(labels.contains(&"wait 24m"), "{labels:?}");
});

//! An audit you can search: `audit --since --until --actor --action
//! --journey --incident --limit`, and a last line saying how many rows
//! were left out; `--json` holds every row that matches.

mod common;

use common::delivery::run;
use common::*;
use journeyctl::domain::{ActionKind, Hold, OperatorAction, Target};
use journeyctl::store::AuditFilter;

fn action(kind: ActionKind, journey: &str) -> OperatorAction {
    OperatorAction {
        kind,
        target: Target::Version {
            journey: journey.into(),
            version: None,
        },
        reason: None,
    }
}

both_backends!(each_part_of_the_filter_narrows_the_rows, |ts| {
    for name in ["a", "b", "c"] {
        publish(&ts.store, &simple(name), at(0)).await;
    }
    let pause = ActionKind::Pause(Hold::default());
    let resume = ActionKind::Resume(Default::default());
    ts.store
        .execute(&action(pause, "a"), &alice(), at(10))
        .await
        .unwrap();
    ts.store
        .execute(&action(resume, "a"), &bob(), at(20))
        .await
        .unwrap();
    ts.store
        .execute(&action(ActionKind::Stop, "b"), &alice(), at(30))
        .await
        .unwrap();
    ts.store
        .execute(&action(ActionKind::Finish, "c"), &bob(), at(40))
        .await
        .unwrap();
    let all = |f: AuditFilter| {
        let store = &ts.store;
        async move { store.audit_matching(&f, None).await.unwrap() }
    };
    let (rows, total) = all(AuditFilter {
        actor: Some("bob".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(total, 2);
    assert!(rows.iter().all(|r| r.actor == "bob"));
    let (rows, _) = all(AuditFilter {
        actions: vec!["stop".into(), "finish".into()],
        ..Default::default()
    })
    .await;
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["finish", "stop"]);
    let (rows, _) = all(AuditFilter {
        since: Some(at(15)),
        until: Some(at(35)),
        ..Default::default()
    })
    .await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    let (rows, total) = all(AuditFilter {
        journey: Some("a".into()),
        actor: Some("bob".into()),
        ..Default::default()
    })
    .await;
    assert_eq!((rows.len(), total), (1, 1));
    assert_eq!(rows[0].action, "resume");
    // A limit keeps the newest and says how many match.
    let (rows, total) = ts
        .store
        .audit_matching(&AuditFilter::default(), Some(2))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert!(total >= 7, "{total}");
    // Through the CLI: the last line says what was left out.
    let out = text(&run(&ts.url, &["audit", "--limit", "3"]).await).0;
    let last = out.lines().last().unwrap();
    assert!(last.starts_with("showing 3 of "), "{out}");
    let o = run(
        &ts.url,
        &["audit", "--actor", "alice", "--action", "stop", "--json"],
    )
    .await;
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j.as_array().unwrap().len(), 1);
    let o = run(&ts.url, &["audit", "--since", "soon"]).await;
    assert!(text(&o).1.contains("--since"), "{}", text(&o).1);
    let o = run(&ts.url, &["audit", "--since", "1h"]).await;
    assert!(o.status.success());
});

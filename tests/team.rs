//! Operators who share a store: notes and claims on a version are audit
//! rows, shown in `list --json` (`notes`, `claim`), and an action on a
//! version someone else claims says so first without being refused.

mod common;

use common::delivery::run;
use common::*;

fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)))
}

async fn sale_row(url: &str) -> serde_json::Value {
    let list = json(&run(url, &["list", "--json"]).await);
    list.as_array()
        .unwrap()
        .iter()
        .find(|v| v["journey"] == "sale")
        .unwrap()
        .clone()
}

both_backends!(notes_and_claims_are_kept_and_said, |ts| {
    publish(&ts.store, &simple("sale"), at(0)).await;
    let ok = |o: std::process::Output| {
        assert!(o.status.success(), "{}", text(&o).1);
        text(&o).0
    };
    ok(run(
        &ts.url,
        &["--actor", "bob", "note", "sale", "paused the CRM sync"],
    )
    .await);
    ok(run(
        &ts.url,
        &[
            "--actor",
            "alice",
            "note",
            "sale",
            "do not resume before 14:00",
        ],
    )
    .await);
    let out = ok(run(
        &ts.url,
        &[
            "--actor",
            "alice",
            "claim",
            "sale",
            "--for",
            "1h",
            "--reason",
            "CRM ticket 123",
        ],
    )
    .await);
    assert!(out.contains("claimed sale v1 until "), "{out}");
    let row = sale_row(&ts.url).await;
    assert_eq!(row["notes"][0]["text"], "do not resume before 14:00");
    assert_eq!(row["notes"][0]["by"], "alice");
    assert_eq!(row["notes"][1]["by"], "bob");
    assert_eq!(row["claim"]["by"], "alice");
    assert_eq!(row["claim"]["reason"], "CRM ticket 123");
    // The table shows them on the row.
    let table = ok(run(&ts.url, &["list"]).await);
    assert!(table.contains("◆ alice ✎ 2"), "{table}");
    // bob's stop is not refused; it says whose the version is first.
    let o = run(&ts.url, &["--actor", "bob", "stop", "sale", "--yes"]).await;
    assert!(o.status.success(), "{}", text(&o).1);
    let err = text(&o).1;
    assert!(
        err.contains("◆ sale v1 is claimed by alice for ") && err.contains(": \"CRM ticket 123\""),
        "{err}"
    );
    // Given back: no claim; giving back twice is refused.
    ok(run(&ts.url, &["--actor", "alice", "unclaim", "sale"]).await);
    assert!(sale_row(&ts.url).await["claim"].is_null());
    let o = run(&ts.url, &["unclaim", "sale"]).await;
    assert!(text(&o).1.contains("is not claimed"), "{}", text(&o).1);
    let o = run(&ts.url, &["note", "sale", "  "]).await;
    assert!(text(&o).1.contains("empty"), "{}", text(&o).1);
    // They are audit rows, and leave the lifecycle's trail as it was.
    let audit = ts.store.audit(Some("sale"), 20).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "note" && e.reason.as_deref() == Some("paused the CRM sync"))
    );
    assert!(ts.store.verify_counters().await.unwrap().is_empty());
});

both_backends!(a_claim_runs_out_by_itself, |ts| {
    publish(&ts.store, &simple("sale"), at(0)).await;
    ts.store
        .claim_version("sale", None, (at(60), None), &alice(), at(1))
        .await
        .unwrap();
    let claimed = |now| {
        let store = &ts.store;
        async move { store.list_at(false, now).await.unwrap()[0].claim.clone() }
    };
    assert_eq!(claimed(at(30)).await.unwrap().by, "alice");
    assert!(claimed(at(61)).await.is_none());
    let why = ts
        .store
        .claim_version("sale", None, (at(0), None), &alice(), at(1))
        .await
        .unwrap_err()
        .to_string();
    assert!(why.contains("7 days at most"), "{why}");
});

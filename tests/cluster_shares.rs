//! On a cluster, the buckets' shares of the figures are bounded where they
//! are written, and a share that cannot be folded is set aside and named:
//! one row written by hand never makes a version unstoppable, freezes
//! another version's figures, or inflates a stop's report.

mod common;

use common::roles::{Roles, json, ok, status_of, try_sql, write_def};

/// alice, an operator, in `psql`: a share of `i64::MAX` is refused by the
/// table; one just inside the table's bound is set aside by the stop, which
/// commits and reports the 40 people really active; the other journey's
/// figures go on folding; `check` and `list --json` name the row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_citus,
    ignore = "Citus skipped: set JOURNEYCTL_TEST_CITUS_URL"
)]
async fn a_share_written_by_hand_never_blocks_a_stop_nor_a_fold() {
    let Some(roles) = Roles::create_in(common::CITUS_ENV, "cshares").await else {
        return;
    };
    let [admin, alice, _, carol] = [0, 1, 2, 3].map(|i| roles.names[i].clone());
    let url = |r: &str| roles.url(r);
    let dir = tempfile::tempdir().unwrap();
    ok(&url(&admin), &["migrate"]);
    ok(&url(&admin), &["grant", "--operator", &alice]);
    ok(&url(&admin), &["grant", "--engine", &carol]);
    for name in ["spring", "summer"] {
        ok(
            &url(&alice),
            &["apply", &write_def(dir.path(), name), "--publish"],
        );
    }
    let events = |from: usize, to: usize| -> String {
        (from..to)
            .flat_map(|i| {
                ["spring", "summer"].map(|j| {
                    format!("{{\"type\":\"enter\",\"journey\":\"{j}\",\"profile\":\"p{i}\"}}\n")
                })
            })
            .collect()
    };
    let file = dir.path().join("events.ndjson");
    std::fs::write(&file, events(0, 40)).unwrap();
    ok(&url(&carol), &["ingest", file.to_str().unwrap()]);
    ok(&url(&carol), &["tick"]);

    let ap = roles.pool(&alice).await;
    // Citus takes no subquery in an INSERT: the id, read first.
    let (spring,): (i64,) = sqlx::query_as(
        "SELECT v.id FROM versions v JOIN journeys j ON j.id = v.journey_id WHERE j.name = 'spring'",
    )
    .fetch_one(&ap)
    .await
    .unwrap();
    for (n, key) in [
        (i64::MAX.to_string(), "active"),
        ("1".to_string(), "anything/at all"),
    ] {
        let sql = format!(
            "INSERT INTO version_shares (bucket, version_id, key, n) VALUES (3, {spring}, '{key}', {n})"
        );
        let refused = try_sql(&ap, &sql).await.err().unwrap_or_default();
        assert!(
            refused.contains("version_shares_bounded"),
            "{key} {n}: {refused:?}"
        );
    }
    // Inside the table's bound, beyond anything a bucket adds.
    try_sql(
        &ap,
        &format!(
            "INSERT INTO version_shares (bucket, version_id, key, n) \
             VALUES (3, {spring}, 'active', 900000000000000) \
             ON CONFLICT (bucket, version_id, key) DO UPDATE SET n = excluded.n"
        ),
    )
    .await
    .unwrap();
    ap.close().await;

    // The other journey's figures still fold and move.
    std::fs::write(&file, events(40, 50)).unwrap();
    ok(&url(&carol), &["ingest", file.to_str().unwrap()]);
    ok(&url(&carol), &["tick"]);

    let said = ok(&url(&alice), &["stop", "spring", "--yes"]);
    assert!(said.contains(" 50 active participant"), "{said}");
    assert_eq!(status_of(&url(&admin), "spring"), "stopped");
    let audit = json(&url(&admin), &["audit", "--json", "--action", "stop"]);
    assert_eq!(audit[0]["affected_active"], 50, "{audit}");

    let list = json(&url(&admin), &["list", "--json"]);
    let row = |name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|v| v["journey"] == name)
            .cloned()
            .unwrap()
    };
    assert_eq!(row("spring")["shares_aside"], 1, "{list}");
    assert!(row("summer").get("shares_aside").is_none(), "{list}");
    assert_eq!(row("summer")["counts"]["entered"], 50, "{list}");
    let check = common::roles::run(&url(&admin), &["check"]);
    assert!(!check.status.success(), "check names the row");
    let out = String::from_utf8_lossy(&check.stdout).to_string()
        + &String::from_utf8_lossy(&check.stderr);
    assert!(
        out.contains("spring v1: a share set aside, not folded: bucket 3, active 900000000000000"),
        "{out}"
    );
    assert!(!out.contains("summer"), "summer's figures are exact: {out}");
    roles.drop_all().await;
}

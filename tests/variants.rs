//! A/B by hand (`journeyctl variant`): a disabled arm takes no one new,
//! a winner chosen by hand takes everyone new; both audited, refused
//! where they cannot apply, said as an operator's decision (not a
//! statistical result), and the sample ratio check measures what came
//! after a change against the weights from then on.

mod common;

use common::delivery::run;
use common::*;
use journeyctl::store::VariantChoice;

async fn three_arms(ts: &TestStore, n: usize) {
    let d = def("name = \"sale\"\n\
         [[steps]]\nkind = \"split\"\ntest = \"t\"\nvariants = [\n\
         { name = \"A\", weight = 1, action = \"email:a\" },\n\
         { name = \"B\", weight = 1, action = \"email:b\" },\n\
         { name = \"C\", weight = 1, action = \"email:c\" },\n]\n\
         [[steps]]\nkind = \"wait\"\nduration = \"1d\"\n");
    publish(&ts.store, &d, at(0)).await;
    enter_n(ts, 0, n).await;
}

async fn enter_n(ts: &TestStore, from: usize, n: usize) {
    let entries: Vec<_> = (from..from + n)
        .map(|i| enter("sale", &format!("p{i}"), at(1)))
        .collect();
    ts.store.ingest(&entries).await.unwrap();
    ts.store.tick(at(2)).await.unwrap();
}

async fn assigned(ts: &TestStore) -> Vec<(String, i64)> {
    let list = ts.store.list(false).await.unwrap();
    let ab = list[0].ab.clone().unwrap();
    ab.variants
        .iter()
        .map(|v| (v.name.clone(), v.assigned))
        .collect()
}

both_backends!(a_disabled_arm_takes_no_one_new, |ts| {
    three_arms(ts, 300).await;
    let before = assigned(ts).await;
    let done = ts
        .store
        .choose_variant(
            "sale",
            None,
            "C",
            VariantChoice::Disable,
            &alice(),
            Some("dead link"),
            at(3),
        )
        .await
        .unwrap();
    assert_eq!(done.assigned, before);
    enter_n(ts, 300, 600).await;
    let after = assigned(ts).await;
    // C got no one new; A and B shared the 600.
    assert_eq!(after[2], before[2]);
    assert_eq!(after[0].1 + after[1].1, before[0].1 + before[1].1 + 600);
    let list = ts.store.list(false).await.unwrap();
    let ab = list[0].ab.clone().unwrap();
    // Against the first weights C is far too small; since the change A
    // and B share evenly: no sample ratio mismatch.
    assert!(ab.srm.is_none(), "{:?}", ab.srm);
    assert_eq!(ab.by_hand[0].variant, "C");
    assert_eq!(ab.by_hand[0].by, "alice");
    let audit = ts.store.audit(Some("sale"), 1).await.unwrap();
    assert_eq!(audit[0].action, "variant");
    assert_eq!(audit[0].to.as_deref(), Some("C disabled"));
    assert_eq!(audit[0].reason.as_deref(), Some("dead link"));
    // Refusals, each saying why.
    let refused = |r: journeyctl::store::Result<_>| r.unwrap_err().to_string();
    let why = refused(
        ts.store
            .choose_variant(
                "sale",
                None,
                "C",
                VariantChoice::Disable,
                &bob(),
                None,
                at(4),
            )
            .await,
    );
    assert!(why.contains("already disabled"), "{why}");
    ts.store
        .choose_variant(
            "sale",
            None,
            "B",
            VariantChoice::Disable,
            &bob(),
            None,
            at(4),
        )
        .await
        .unwrap();
    let why = refused(
        ts.store
            .choose_variant(
                "sale",
                None,
                "A",
                VariantChoice::Disable,
                &bob(),
                None,
                at(5),
            )
            .await,
    );
    assert!(why.contains("last arm left"), "{why}");
    let why = refused(
        ts.store
            .choose_variant(
                "sale",
                None,
                "Z",
                VariantChoice::Winner,
                &bob(),
                None,
                at(5),
            )
            .await,
    );
    assert!(why.contains("has no arm \"Z\" (it has A, B, C)"), "{why}");
    assert!(ts.store.verify_counters().await.unwrap().is_empty());
});

both_backends!(a_winner_by_hand_takes_everyone_new_and_says_so, |ts| {
    three_arms(ts, 90).await;
    ts.store
        .choose_variant(
            "sale",
            None,
            "B",
            VariantChoice::Winner,
            &alice(),
            None,
            at(3),
        )
        .await
        .unwrap();
    let before = assigned(ts).await;
    enter_n(ts, 90, 60).await;
    let after = assigned(ts).await;
    assert_eq!(after[1].1, before[1].1 + 60);
    assert_eq!((after[0].1, after[2].1), (before[0].1, before[2].1));
    let o = run(&ts.url, &["verdict", "sale"]).await;
    let out = text(&o).0;
    assert!(
        out.contains("verdict: B chosen by alice (operator decision), not a statistical result"),
        "{out}"
    );
    let listed = text(&run(&ts.url, &["list"]).await).0;
    assert!(listed.contains("B by hand"), "{listed}");
    // Decided: nothing more by hand; the engine stores no decision of its own.
    let why = ts
        .store
        .choose_variant(
            "sale",
            None,
            "A",
            VariantChoice::Disable,
            &bob(),
            None,
            at(4),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(why.contains("B chosen by alice"), "{why}");
    // A stopped version takes no one through its split.
    ts.store
        .execute(&stop_of("sale", 1), &bob(), at(5))
        .await
        .unwrap();
    let o = run(
        &ts.url,
        &[
            "variant",
            "sale",
            "--version",
            "1",
            "--disable",
            "A",
            "--yes",
        ],
    )
    .await;
    assert!(!o.status.success());
    assert!(text(&o).1.contains("stopped"), "{}", text(&o).1);
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_asks_without_a_terminal() {
    let ts = sqlite("variant_cli").await;
    three_arms(&ts, 9).await;
    let o = run(&ts.url, &["variant", "sale", "--disable", "B"]).await;
    assert_eq!(o.status.code(), Some(3), "{}", text(&o).1);
    let o = run(
        &ts.url,
        &[
            "variant",
            "sale",
            "--disable",
            "B",
            "--reason",
            "dead link",
            "--yes",
        ],
    )
    .await;
    assert!(o.status.success(), "{}", text(&o).1);
    assert!(text(&o).0.contains("B disabled"), "{}", text(&o).0);
    ts.close().await;
}

/// No login records an A/B choice in `psql` without the audit row that
/// says so, or changes or takes one back; the engine's login makes none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_postgres,
    ignore = "PostgreSQL skipped: set JOURNEYCTL_TEST_POSTGRES_URL"
)]
async fn no_login_forges_an_ab_choice() {
    use common::roles::{Roles, ok, try_sql};
    let Some(roles) = Roles::create("variant").await else {
        return;
    };
    let [admin, alice, _bob, carol] = [0, 1, 2, 3].map(|i| roles.names[i].clone());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sale.toml");
    std::fs::write(
        &path,
        "name = \"sale\"\n[[steps]]\nkind = \"split\"\ntest = \"t\"\nvariants = [\n\
         { name = \"A\", weight = 1, action = \"email:a\" },\n\
         { name = \"B\", weight = 1, action = \"email:b\" },\n]\n",
    )
    .unwrap();
    let (admin_url, alice_url) = (roles.url(&admin), roles.url(&alice));
    ok(&admin_url, &["migrate"]);
    ok(&admin_url, &["grant", "--operator", &alice]);
    ok(&admin_url, &["grant", "--engine", &carol]);
    ok(&alice_url, &["apply", path.to_str().unwrap(), "--publish"]);
    ok(&alice_url, &["variant", "sale", "--disable", "B", "--yes"]);
    for who in [&alice, &admin, &carol] {
        let pool = roles.pool(who).await;
        for sql in [
            "INSERT INTO variant_choices (version_id, test, variant, choice, set_by, set_at, assigned_then) \
             VALUES (1, 't', 'A', 'winner', 'x', 0, '{}')",
            "UPDATE variant_choices SET choice = 'winner'",
            "DELETE FROM variant_choices",
        ] {
            let why = try_sql(&pool, sql).await.expect_err(sql);
            assert!(
                why.contains("without an audit row")
                    || why.contains("kept as it was made")
                    || why.contains("permission denied"),
                "{who}: {sql}: {why}"
            );
        }
        pool.close().await;
    }
    roles.drop_all().await;
}

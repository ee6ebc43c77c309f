//! Four eyes: under a store policy a resume, publish or release becomes a
//! request that another operator approves, carried out then through the
//! same call and audited with both names; a stop never waits; the one who
//! asked cannot approve; an expired request cannot be approved.

mod common;

use common::delivery::run;
use common::*;

fn ok(o: std::process::Output) -> String {
    assert!(o.status.success(), "{}", text(&o).1);
    text(&o).0
}

fn json(o: std::process::Output) -> serde_json::Value {
    serde_json::from_str(&ok(o)).unwrap()
}

both_backends!(a_second_operator_approves_what_the_policy_names, |ts| {
    publish(&ts.store, &simple("sale"), at(0)).await;
    let url = ts.url.as_str();
    let said = ok(run(
        url,
        &["policy", "--require-approval", "resume,publish,release"],
    )
    .await);
    assert!(
        said.starts_with("resume, publish, release need another operator's approval"),
        "{said}"
    );
    // A pause never waits.
    ok(run(
        url,
        &["--actor", "alice", "pause", "sale", "--hold", "1h", "--yes"],
    )
    .await);
    // alice's resume becomes a request: exit 0, saying so.
    let said = ok(run(
        url,
        &[
            "--actor", "alice", "resume", "sale", "--reason", "CRM back", "--yes",
        ],
    )
    .await);
    assert!(
        said.contains(
            "resume sale v1 needs another operator's approval on this store: request #1 recorded"
        ),
        "{said}"
    );
    let row = |list: &serde_json::Value| list[0]["paused"].is_null();
    assert!(
        !row(&json(run(url, &["list", "--json"]).await)),
        "still paused"
    );
    let open = json(run(url, &["approvals", "--json"]).await);
    assert_eq!(open[0]["id"], 1, "{open}");
    assert_eq!(open[0]["action"], "resume");
    assert_eq!(open[0]["asked_by"], "alice");
    assert_eq!(open[0]["state"], "open");
    // alice cannot approve her own request.
    let o = run(url, &["--actor", "alice", "approve", "1", "--yes"]).await;
    assert!(!o.status.success());
    let err = text(&o).1;
    assert!(
        err.contains("four eyes: ") && err.contains(" asked for request 1"),
        "{err}"
    );
    if ts.backend != "sqlite" {
        // One login for both names: the database itself refuses it
        // (`approvals_with_real_logins` has bob log in).
        let o = run(url, &["--actor", "bob", "approve", "1", "--yes"]).await;
        let err = text(&o).1;
        assert!(
            err.contains("four eyes: postgres asked for request 1"),
            "{err}"
        );
        return;
    }
    // bob can: the resume runs now, as bob, naming alice.
    let said = ok(run(url, &["--actor", "bob", "approve", "1", "--yes"]).await);
    assert!(
        said.contains("approved #1: resume sale v1 (asked by alice), carried out by bob"),
        "{said}"
    );
    assert!(row(&json(run(url, &["list", "--json"]).await)), "resumed");
    let audit = json(run(url, &["audit", "--json", "--action", "resume"]).await);
    assert_eq!(audit[0]["actor"], "bob", "{audit}");
    assert_eq!(audit[0]["approval"], 1, "{audit}");
    assert_eq!(audit[0]["asked_by"], "alice", "{audit}");
    assert_eq!(audit[0]["reason"], "CRM back", "{audit}");
    let table = ok(run(url, &["audit", "--action", "resume"]).await);
    assert!(
        table.contains("bob (approving #1 asked by alice)"),
        "{table}"
    );
    // Once approved, never again.
    let o = run(url, &["--actor", "carol", "approve", "1", "--yes"]).await;
    assert!(
        text(&o)
            .1
            .contains("request 1 (resume sale v1) is approved"),
        "{}",
        text(&o).1
    );
    // A stop never waits for anyone.
    ok(run(url, &["--actor", "alice", "stop", "sale", "--yes"]).await);
    assert_eq!(
        json(run(url, &["approvals", "--json"]).await),
        serde_json::json!([])
    );
    // The policy's changes are audited; `none` lifts it.
    ok(run(url, &["policy", "--require-approval", "none"]).await);
    let policy = json(run(url, &["audit", "--json", "--action", "policy"]).await);
    assert_eq!(policy.as_array().unwrap().len(), 2, "{policy}");
    assert_eq!(
        json(run(url, &["policy", "--json"]).await)["require_approval"],
        serde_json::json!([])
    );
});

both_backends!(an_expired_request_cannot_be_approved, |ts| {
    if ts.backend != "sqlite" {
        // One login here; `approvals_with_real_logins` covers the rest.
        return;
    }
    publish(&ts.store, &simple("sale"), at(0)).await;
    let alice = journeyctl::store::Actor::new("alice", "ops-1");
    let bob = journeyctl::store::Actor::new("bob", "ops-2");
    ts.store
        .set_policy(Some(&["publish".to_string()]), Some(60_000), &alice, at(1))
        .await
        .unwrap();
    ts.store
        .apply(&simple("sale"), &alice, at(2))
        .await
        .unwrap();
    let e = ts.store.publish("sale", &alice, at(3)).await.unwrap_err();
    let journeyctl::store::Error::Requested(r) = e else {
        panic!("a request: {e}")
    };
    assert_eq!(r.what, "publish sale");
    // Two minutes later it has expired: not listed, not approved.
    let later = at(3) + 120_000;
    assert!(ts.store.approvals(false, later).await.unwrap().is_empty());
    let e = ts.store.approve(r.id, &bob, later).await.unwrap_err();
    assert!(e.to_string().contains("is expired"), "{e}");
    // Within its minute bob's approval publishes v2.
    ts.store.approve(r.id, &bob, at(3) + 30_000).await.unwrap();
    assert_eq!(summary(&ts.store, "sale", 2).await.status.as_str(), "live");
});

/// With real logins on PostgreSQL and the cluster: alice's resume is a
/// request; alice's login is refused by the database even under another
/// name; bob's login approves and the audit names both; an operator cannot
/// change the policy, nor write a resume's audit row without an approval.
async fn approvals_with_real_logins(env: &'static str, tag: &str) {
    use common::roles::{Roles, json, ok, refused, try_sql, write_def};
    let Some(roles) = Roles::create_in(env, tag).await else {
        return;
    };
    let [admin, alice, bob, _] = [0, 1, 2, 3].map(|i| roles.names[i].clone());
    let url = |r: &str| roles.url(r);
    let dir = tempfile::tempdir().unwrap();
    ok(&url(&admin), &["migrate"]);
    ok(&url(&admin), &["grant", "--operator", &alice]);
    ok(&url(&admin), &["grant", "--operator", &bob]);
    ok(
        &url(&alice),
        &["apply", &write_def(dir.path(), "sale"), "--publish"],
    );
    // Only the schema's owner sets the policy.
    refused(&url(&alice), &["policy", "--require-approval", "resume"]);
    ok(&url(&admin), &["policy", "--require-approval", "resume"]);
    ok(&url(&alice), &["pause", "sale", "--hold", "1h", "--yes"]);
    let said = ok(&url(&alice), &["resume", "sale", "--yes"]);
    assert!(said.contains("request #1 recorded"), "{said}");
    // alice's login under bob's name: the database says no.
    let o = common::roles::run(&url(&alice), &["--actor", "bob", "approve", "1", "--yes"]);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(!o.status.success());
    assert!(
        err.contains(&format!("four eyes: {alice} asked for request 1")),
        "{err}"
    );
    // In psql: no resume without an approval in its transaction.
    let ap = roles.pool(&alice).await;
    let forged = try_sql(
        &ap,
        "INSERT INTO audit (at, actor, host, action, journey, version, from_status, to_status) \
         VALUES (1, 'alice', 'h', 'resume', 'sale', 1, 'paused', 'live')",
    )
    .await
    .err()
    .unwrap_or_default();
    assert!(
        forged.contains("four eyes: resume needs another login's approval"),
        "{forged}"
    );
    // Nor her own request approved by hand under another name.
    let own = try_sql(
        &ap,
        "UPDATE approval_requests SET state = 'done', approved_by = 'bob', approved_at = 1 WHERE id = 1",
    )
    .await
    .err()
    .unwrap_or_default();
    assert!(
        own.contains(&format!("four eyes: {alice} asked for request 1")),
        "{own}"
    );
    ap.close().await;
    ok(&url(&bob), &["approve", "1", "--yes"]);
    let audit = json(&url(&admin), &["audit", "--json", "--action", "resume"]);
    assert_eq!(audit[0]["db_user"], bob.as_str(), "{audit}");
    assert_eq!(audit[0]["approval"], 1, "{audit}");
    let requests = json(&url(&admin), &["approvals", "--all", "--json"]);
    assert_eq!(requests[0]["state"], "approved", "{requests}");
    assert_eq!(requests[0]["approved_login"], bob.as_str(), "{requests}");
    assert_eq!(requests[0]["asked_login"], alice.as_str(), "{requests}");
    roles.drop_all().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_postgres,
    ignore = "PostgreSQL skipped: set JOURNEYCTL_TEST_POSTGRES_URL"
)]
async fn approvals_with_real_logins_on_postgres() {
    approvals_with_real_logins(common::PG_ENV, "appr").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_citus,
    ignore = "Citus skipped: set JOURNEYCTL_TEST_CITUS_URL"
)]
async fn approvals_with_real_logins_on_the_cluster() {
    approvals_with_real_logins(common::CITUS_ENV, "cappr").await;
}

//! One journey spread over a real Citus cluster (a coordinator and two
//! workers): its participants and messages sit on both workers, and the
//! counters stay exact. Every storage test of the other files also runs
//! on the cluster (`both_backends!`); these need one.

mod common;

use common::*;

/// A journey of 100,000 people: both workers hold between a quarter and
/// three quarters of its participants and of its messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_citus,
    ignore = "Citus skipped: set JOURNEYCTL_TEST_CITUS_URL"
)]
async fn one_journey_spreads_over_both_workers() {
    let Some(ts) = citus("spread").await else {
        return;
    };
    let s = &ts.store;
    publish(s, &simple("big"), at(0)).await;
    const PEOPLE: usize = 100_000;
    let events: Vec<_> = (0..PEOPLE)
        .map(|i| enter("big", &format!("p{i}"), at(1)))
        .collect();
    let report = s.ingest(&events).await.unwrap();
    assert_eq!(report.entered, PEOPLE as u64);
    let ran = s.tick(at(2)).await.unwrap();
    assert_eq!(ran.messages, PEOPLE as u64, "one email each");

    let nodes = s.rows_per_node().await.unwrap();
    let workers: Vec<_> = nodes
        .iter()
        .filter(|n| n.participants > 0 || n.messages > 0)
        .collect();
    assert_eq!(workers.len(), 2, "rows on both workers: {nodes:?}");
    for n in &workers {
        for (what, rows) in [("participants", n.participants), ("messages", n.messages)] {
            let share = rows as f64 / PEOPLE as f64;
            assert!(
                (0.25..=0.75).contains(&share),
                "{} holds {rows} {what} ({:.0}%): {nodes:?}",
                n.node,
                share * 100.0
            );
        }
    }
    let total: i64 = nodes.iter().map(|n| n.participants).sum();
    assert_eq!(total, PEOPLE as i64);
    assert_counters_exact(s).await;
    let stopped = s
        .execute(&stop_of("big", 1), &alice(), at(3))
        .await
        .unwrap();
    assert_eq!(stopped.versions[0].active, PEOPLE as i64);
    assert_counters_exact(s).await;
    ts.close().await;
}

/// `migrate` on a new schema of the coordinator says how it laid the store
/// out; a worker node's URL is refused in one line, since the locks
/// engines and operators meet on are the coordinator's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_citus,
    ignore = "Citus skipped: set JOURNEYCTL_TEST_CITUS_URL"
)]
async fn migrate_lays_out_and_a_worker_is_refused() {
    let Some(ts) = citus("layout").await else {
        return;
    };
    let admin = std::env::var(CITUS_ENV).unwrap();
    let schema = format!("t_layout_cli_{}", std::process::id());
    let url = journeyctl::store::scratch::url_in_schema(&admin, &schema);
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(ts.store.pool())
        .await
        .unwrap();
    let out = journeyctl_without_store()
        .args(["--database-url", &url, "migrate"])
        .output();
    let said = String::from_utf8_lossy(&out.stdout);
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(ts.store.pool())
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        said.contains("laid out over the Citus cluster: participants and messages in ")
            && said.contains(" shards on 2 nodes"),
        "{said}"
    );

    let (host, port, db): (String, i32, String) = sqlx::query_as(
        "SELECT nodename, nodeport, CAST(current_database() AS TEXT) FROM pg_dist_node \
         WHERE groupid <> 0 ORDER BY nodeport LIMIT 1",
    )
    .fetch_one(ts.store.pool())
    .await
    .unwrap();
    let worker = format!("postgres://postgres@{host}:{port}/{db}");
    let out = journeyctl_without_store()
        .args(["--database-url", &worker, "list"])
        .output();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains(
            "is a worker node of a Citus cluster: point journeyctl at the cluster's coordinator"
        ),
        "{err}"
    );
    ts.close().await;
}

/// What the README says still holds on a cluster, whoever connects, tried
/// by real logins through the coordinator: an operator's daily commands
/// go through; a viewer cannot stop; in `psql` an operator cannot bring a
/// stopped version back, rewrite participants or delete the audit log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_citus,
    ignore = "Citus skipped: set JOURNEYCTL_TEST_CITUS_URL"
)]
async fn logins_on_the_cluster_are_held_to_the_rules_that_hold_there() {
    use common::roles::{Roles, ok, refused, status_of, try_sql, write_def};
    let Some(roles) = Roles::create_in(CITUS_ENV, "crules").await else {
        return;
    };
    let [admin, alice, bob, carol] = [0, 1, 2, 3].map(|i| roles.names[i].clone());
    let url = |r: &str| roles.url(r);
    let dir = tempfile::tempdir().unwrap();
    let said = ok(&url(&admin), &["migrate"]);
    assert!(said.contains("laid out over the Citus cluster"), "{said}");
    ok(&url(&admin), &["grant", "--operator", &alice]);
    ok(&url(&admin), &["grant", "--viewer", &bob]);
    ok(&url(&admin), &["grant", "--engine", &carol]);
    for name in ["spring", "summer"] {
        ok(
            &url(&alice),
            &["apply", &write_def(dir.path(), name), "--publish"],
        );
    }
    let events: String = (0..40)
        .flat_map(|i| {
            ["spring", "summer"].map(|j| {
                format!("{{\"type\":\"enter\",\"journey\":\"{j}\",\"profile\":\"p{i}\"}}\n")
            })
        })
        .collect();
    let file = dir.path().join("events.ndjson");
    std::fs::write(&file, events).unwrap();
    ok(&url(&carol), &["ingest", file.to_str().unwrap()]);
    ok(&url(&carol), &["tick"]);
    ok(&url(&alice), &["pause", "summer", "--hold", "1h", "--yes"]);
    ok(&url(&alice), &["resume", "summer", "--yes"]);
    ok(&url(&alice), &["stop", "spring", "--yes"]);
    // bob only looks.
    refused(&url(&bob), &["stop", "summer", "--yes"]);
    assert_eq!(status_of(&url(&admin), "summer"), "live");
    // carol's tick noted its fold; bob, as if granted before the table
    // of folds came, still lists.
    let owner = roles.pool(&admin).await;
    assert_eq!(
        common::roles::count(&owner, "SELECT COUNT(*) FROM figures_folded").await,
        1
    );
    try_sql(
        &owner,
        &format!("REVOKE SELECT ON figures_folded FROM \"{bob}\""),
    )
    .await
    .unwrap();
    owner.close().await;
    let listed = common::roles::json(&url(&bob), &["list", "--json"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");
    // alice in psql.
    let ap = roles.pool(&alice).await;
    let spring = "(SELECT v.id FROM versions v JOIN journeys j ON j.id = v.journey_id \
                  WHERE j.name = 'spring')";
    for (sql, why) in [
        (
            format!("UPDATE versions SET status = 'live' WHERE id = {spring}"),
            "cannot go from stopped to live",
        ),
        (
            "UPDATE participants SET state = 'active'".to_string(),
            "permission denied for table participants",
        ),
        (
            "DELETE FROM audit".to_string(),
            "permission denied for table audit",
        ),
    ] {
        let refused = try_sql(&ap, &sql).await.err().unwrap_or_default();
        assert!(refused.contains(why), "{sql}: {refused:?}");
    }
    ap.close().await;
    assert_eq!(status_of(&url(&admin), "spring"), "stopped");
    let audit = common::roles::json(&url(&admin), &["audit", "--json"]);
    assert!(audit.as_array().unwrap().len() >= 5, "{audit}");
    // The database names who really logged in, whatever --actor says.
    let stop = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "stop")
        .expect("alice's stop in the audit");
    assert_eq!(stop["db_user"], alice.as_str(), "{stop}");
    let pause = audit
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "pause")
        .expect("alice's pause in the audit");
    assert_eq!(pause["db_user"], alice.as_str(), "{pause}");
    let check = ok(&url(&admin), &["check"]);
    assert!(check.contains("every counter equals a recount"), "{check}");
    roles.drop_all().await;
}

/// The coordinator's server log from `from` bytes on (read as the
/// superuser, from the file `cluster.sh` has the server write to).
async fn coordinator_log(store: &journeyctl::store::Store, from: i64) -> String {
    let read: Result<String, _> = sqlx::query_scalar(
        "SELECT pg_read_file('log', $1, (SELECT size FROM pg_stat_file('log')) - $1)",
    )
    .bind(from)
    .fetch_one(store.pool())
    .await;
    read.unwrap_or_else(|e| {
        panic!(
            "the coordinator's log is not in its data directory as `log` \
             (cluster.sh start writes it there): {e}"
        )
    })
}

async fn coordinator_log_size(store: &journeyctl::store::Store) -> i64 {
    sqlx::query_scalar("SELECT size FROM pg_stat_file('log')")
        .fetch_one(store.pool())
        .await
        .expect("the coordinator's log (cluster.sh start writes it to its data directory)")
}

/// Two-phase commits the coordinator's sessions `pids` issued, from the
/// coordinator's log: sessions opened with `citus.log_remote_commands` log
/// every command they send to a worker, a `PREPARE TRANSACTION` among them
/// for each transaction that wrote on more than one node. (The table of
/// prepared transactions, `pg_dist_transaction`, is pruned by Citus's
/// maintenance daemon every minute, so it can miss some.)
fn two_phase_commits(log: &str, pids: &[i32]) -> usize {
    // `PREPARE TRANSACTION 'citus_<group>_<pid>_<number>_<connection>'`,
    // one per node of a transaction.
    let mut seen = std::collections::BTreeSet::new();
    for line in log.lines() {
        let Some((_, gid)) = line.split_once("issuing PREPARE TRANSACTION 'citus_") else {
            continue;
        };
        let parts: Vec<&str> = gid.trim_end_matches('\'').split('_').collect();
        if let [_, pid, number, _] = parts[..]
            && pids.iter().any(|p| p.to_string() == pid)
        {
            seen.insert((pid.to_string(), number.to_string()));
        }
    }
    seen.len()
}

async fn pids_of(store: &journeyctl::store::Store, app: &str) -> Vec<i32> {
    sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE application_name = $1")
        .bind(app)
        .fetch_all(store.pool())
        .await
        .unwrap()
}

/// A tick over a version whose due participants sit in all 64 buckets runs
/// 64 batches, and a delivery pass claims and records in each bucket; each
/// batch, claim and record writes on one shard (its transaction commits on
/// one node, with no two-phase commit). Only folding the buckets' figures
/// into the version's, once per tick and pass, writes on every node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_citus,
    ignore = "Citus skipped: set JOURNEYCTL_TEST_CITUS_URL"
)]
async fn engine_batches_and_delivery_claims_each_write_one_shard() {
    let Some(ts) = citus("oneshard").await else {
        return;
    };
    publish(&ts.store, &simple("wide"), at(0)).await;
    let events: Vec<_> = (0..3000)
        .map(|i| enter("wide", &format!("p{i}"), at(1)))
        .collect();
    ts.store.ingest(&events).await.unwrap();
    let app = format!("oneshard_{}", std::process::id());
    let sep = if ts.url.contains('?') { '&' } else { '?' };
    // Its sessions log what they send to the workers (as notices, which
    // its sessions write to the server's log too).
    let url = format!(
        "{}{sep}application_name={app}\
         &options=-c%20citus.log_remote_commands%3Don%20-c%20log_min_messages%3Dnotice",
        ts.url
    );
    let engine =
        journeyctl::store::Store::connect(&journeyctl::store::Location::parse(&url).unwrap())
            .await
            .unwrap();
    let start = coordinator_log_size(&ts.store).await;
    let ran = engine.tick(at(2)).await.unwrap();
    assert_eq!(ran.messages, 3000);
    let pids = pids_of(&ts.store, &app).await;
    let tick_log = coordinator_log(&ts.store, start).await;
    assert!(
        tick_log.contains("issuing"),
        "the engine's sessions logged no remote command: the test cannot see the tick"
    );
    let after_tick = two_phase_commits(&tick_log, &pids);
    assert!(
        after_tick <= 4,
        "a tick of 64 bucket batches made {after_tick} two-phase commits"
    );
    let mid = coordinator_log_size(&ts.store).await;
    assert_eq!(deliver_n(&engine, 3000).await, 3000);
    let mut pids = pids;
    pids.extend(pids_of(&ts.store, &app).await);
    let after_delivery = two_phase_commits(&coordinator_log(&ts.store, mid).await, &pids);
    assert!(
        after_delivery <= 4,
        "claiming and recording in 64 buckets made {after_delivery} two-phase commits"
    );
    engine.close().await;
    assert_counters_exact(&ts.store).await;
    ts.close().await;
}

/// Claims the first queued version's due messages (up to 20) and records
/// them sent, as a worker does; how many.
async fn send_all_due(store: &journeyctl::store::Store) -> usize {
    let v = store.delivery_queue().await.unwrap().remove(0);
    let claimed = store
        .claim(v.version_id, &v.actions, 20, 60_000, "w")
        .await
        .unwrap();
    let attempts: Vec<_> = claimed
        .into_iter()
        .map(|c| (c, journeyctl::store::Attempt::Sent))
        .collect();
    store
        .record(v.version_id, "w", &attempts, at(3))
        .await
        .unwrap();
    attempts.len()
}

/// What a worker recorded in its buckets' shares and no fold has yet
/// taken into the version's figures: a stop takes it into the version row
/// at once, so what was sent is counted in the stop's own transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_citus,
    ignore = "Citus skipped: set JOURNEYCTL_TEST_CITUS_URL"
)]
async fn a_stop_takes_what_was_sent_and_not_yet_folded() {
    let Some(ts) = citus("unfolded").await else {
        return;
    };
    publish(&ts.store, &simple("sends"), at(0)).await;
    let events: Vec<_> = (0..20)
        .map(|i| enter("sends", &format!("p{i}"), at(1)))
        .collect();
    ts.store.ingest(&events).await.unwrap();
    ts.store.tick(at(2)).await.unwrap();
    // A fold now: the records below come within its second, so none of
    // them folds.
    ts.store.fold_shares().await.unwrap();
    assert_eq!(send_all_due(&ts.store).await, 20);
    assert_eq!(
        summary(&ts.store, "sends", 1).await.messages.sent,
        0,
        "a fold ran before the stop: the test proves nothing"
    );
    ts.store
        .execute(&stop_of("sends", 1), &alice(), at(4))
        .await
        .unwrap();
    let m = summary(&ts.store, "sends", 1).await.messages;
    assert_eq!(
        (m.sent, m.pending, m.cancelled),
        (20, 0, 0),
        "the stop took the unfolded sends into the version's figures"
    );
    assert_counters_exact(&ts.store).await;
    ts.close().await;
}

/// A console opened while the database was away (`open_lazy`) learns from
/// its first session that the store is a cluster, and its stop takes the
/// buckets' fences and shares as any other's: the figures stay exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_citus,
    ignore = "Citus skipped: set JOURNEYCTL_TEST_CITUS_URL"
)]
async fn a_store_opened_while_away_learns_it_is_a_cluster() {
    let Some(ts) = citus("lazy").await else {
        return;
    };
    let lazy = journeyctl::store::Store::open_lazy(
        &journeyctl::store::Location::parse(&ts.url).unwrap(),
        &journeyctl::store::PoolSettings::default(),
    )
    .unwrap();
    publish(&ts.store, &simple("away"), at(0)).await;
    let events: Vec<_> = (0..500)
        .map(|i| enter("away", &format!("p{i}"), at(1)))
        .collect();
    ts.store.ingest(&events).await.unwrap();
    ts.store.tick(at(2)).await.unwrap();
    assert_eq!(lazy.list(true).await.unwrap().len(), 1);
    assert_eq!(lazy.backend(), journeyctl::store::Backend::Citus);
    let stopped = lazy
        .execute(&stop_of("away", 1), &alice(), at(3))
        .await
        .unwrap();
    assert_eq!(stopped.versions[0].active, 500);
    lazy.close().await;
    assert_counters_exact(&ts.store).await;
    ts.close().await;
}

/// Figures waiting for a fold say as of when they are exact: `list
/// --json` `as_of` is the last fold's time while a version's shares wait,
/// null once they are folded (and on a version with none).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_citus,
    ignore = "Citus skipped: set JOURNEYCTL_TEST_CITUS_URL"
)]
async fn figures_waiting_for_a_fold_say_as_of_when() {
    let Some(ts) = citus("as_of").await else {
        return;
    };
    publish(&ts.store, &simple("sends"), at(0)).await;
    publish(&ts.store, &simple("quiet"), at(0)).await;
    let events: Vec<_> = (0..20)
        .map(|i| enter("sends", &format!("p{i}"), at(1)))
        .collect();
    ts.store.ingest(&events).await.unwrap();
    ts.store.tick(at(2)).await.unwrap();
    let before = journeyctl::domain::time::now_millis();
    ts.store.fold_shares().await.unwrap();
    let after = journeyctl::domain::time::now_millis();
    assert_eq!(summary(&ts.store, "sends", 1).await.as_of, None);
    // Sends recorded within the fold's second wait for the next fold.
    assert_eq!(send_all_due(&ts.store).await, 20);
    let waiting = summary(&ts.store, "sends", 1).await;
    assert_eq!(
        waiting.messages.sent, 0,
        "a fold ran meanwhile: the test proves nothing"
    );
    let as_of = waiting.as_of_ms.expect("as_of while shares wait");
    assert!(
        (before..=after).contains(&as_of),
        "{as_of} not in {before}..={after}"
    );
    assert_eq!(
        waiting.as_of.as_deref(),
        Some(journeyctl::domain::time::to_rfc3339(as_of).as_str())
    );
    assert_eq!(summary(&ts.store, "quiet", 1).await.as_of, None);
    let (json, _) = text(&journeyctl(&ts.url).args(["list", "--json"]).output());
    let list: serde_json::Value = serde_json::from_str(&json).unwrap();
    let row = |name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|v| v["journey"] == name)
            .unwrap()
            .clone()
    };
    assert!(row("sends")["as_of"].is_string(), "{json:?}");
    assert!(row("quiet")["as_of"].is_null(), "{json:?}");
    ts.store.fold_shares().await.unwrap();
    let folded = summary(&ts.store, "sends", 1).await;
    assert_eq!((folded.as_of, folded.messages.sent), (None, 20));
    ts.close().await;
}

//! One journey spread over a real Citus cluster (a coordinator and two
//! workers): its participants and messages sit on both workers, and the
//! counters stay exact. Every storage test of the other files also runs
//! on the cluster (`both_backends!`); these need one.

mod common;

use common::*;

/// A journey of 100,000 people: both workers hold between a quarter and
/// three quarters of its participants and of its messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
    let out = std::process::Command::new(bin())
        .args(["--database-url", &url, "migrate"])
        .output()
        .unwrap();
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
    let out = std::process::Command::new(bin())
        .args(["--database-url", &worker, "list"])
        .output()
        .unwrap();
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

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

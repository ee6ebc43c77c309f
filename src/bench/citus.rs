//! The bench's Citus column: the store's figures on a cluster (ingest,
//! engine tick, list, pause and stop commits) and where the rows sit.

use std::path::Path;

use super::{
    BenchConfig, Figures, draw::draw_time_ms, drop_stores, measure_store, postgres_stores, table,
};

/// `bench --citus-only`: the Citus column alone.
/// With a PostgreSQL server too, the feed's figures against one node.
pub(super) async fn run_citus_only(args: &BenchConfig, dir: &Path) -> anyhow::Result<()> {
    let url = args.citus.as_deref().ok_or_else(|| {
        anyhow::anyhow!("--citus-only needs --citus URL or JOURNEYCTL_TEST_CITUS_URL")
    })?;
    let mut citus = measure_citus(url, args).await?;
    if args.postgres.is_none() {
        eprintln!(
            "one node skipped: pass --postgres URL or set JOURNEYCTL_TEST_POSTGRES_URL to measure the cluster against it"
        );
    }
    let [_, _, feed] = super::feed::measure_feeds(args, dir, false).await?;
    let _ = std::fs::remove_dir_all(dir);
    citus.feed = feed;
    table::print_table(args, [None, None, Some(&citus)], draw_time_ms());
    Ok(())
}

/// The Citus column: the store's figures on a cluster, and where the rows
/// sit.
pub(super) async fn measure_citus(url: &str, args: &BenchConfig) -> anyhow::Result<Figures> {
    let (small, big, _) = postgres_stores(url).await?;
    let f = measure_store(&small, &big, args, "citus").await;
    let exact = match &f {
        Ok(_) => {
            big.verify_counters().await?.is_empty() && small.verify_counters().await?.is_empty()
        }
        Err(_) => false,
    };
    drop_stores(url, small, big).await;
    Ok(Figures { exact, ..f? })
}

//! The incident levers under load: a rate halved live (how soon the
//! receiver sees it) and an action held (how long the hold takes to
//! return, deliveries in flight included), each under two delivery runs
//! sharing the store.

use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::delivery::{RateFigures, measure_rate};
use super::{T0, build};
use crate::delivery::{self, Channels, Options};
use crate::demo::receiver::{Answer, Receiver};
use crate::domain::time::parse_rfc3339;
use crate::store::{Actor, Store};

/// A channel at 200/s, two delivery runs, a journey of 600 messages; a
/// second in, `email` is held (the time until it returns, having waited
/// for the deliveries in flight) and then released. Also how many
/// requests arrived after the hold returned (must be 0).
async fn measure_hold(store: &Store) -> anyhow::Result<(f64, usize)> {
    build(store, &[("hold-a".to_string(), 600)]).await?;
    let t1 = parse_rfc3339(T0).map_err(anyhow::Error::msg)? + 1_000;
    store.tick(t1).await?;
    let receiver = Receiver::start(Answer::Status(200)).await?;
    let text = format!(
        "[channels.email]\nkind = \"webhook\"\nurl = \"{}\"\nrate = \"200/s\"\n",
        receiver.url("send")
    );
    let channels = Channels::parse(std::path::Path::new("bench-hold.toml"), &text, &|_| None)
        .map_err(anyhow::Error::msg)?;
    let (tx, rx) = watch::channel(false);
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let (store, channels, rx) = (store.clone(), channels.clone(), rx.clone());
            tokio::spawn(async move {
                delivery::deliver(&store, &channels, &Options::default(), rx).await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let actor = Actor::new("bench", crate::store::this_host());
    let now = crate::domain::time::now_millis();
    let start = Instant::now();
    store
        .hold_action(
            "email",
            (None, Default::default()),
            &actor,
            Some("bench"),
            now,
        )
        .await?;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let returned = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = receiver
        .received()
        .iter()
        .filter(|r| r.at >= returned)
        .count();
    store
        .release_action("email", Default::default(), &actor, None, now)
        .await?;
    let _ = tx.send(true);
    for run in runs {
        run.await??;
    }
    Ok((ms, after))
}

/// Both levers on a store: the rate, then (on the same store, a journey
/// of its own) the hold.
async fn measure_levers(store: &Store) -> anyhow::Result<(RateFigures, (f64, usize))> {
    let rate = measure_rate(store).await?;
    let hold = measure_hold(store).await?;
    Ok((rate, hold))
}

/// The incident levers on a fresh store of each backend given (SQLite
/// always, PostgreSQL and Citus where named).
pub(super) async fn run_levers(
    args: &super::BenchConfig,
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    eprintln!("[sqlite] a rate halved live and an action held, under two delivery runs");
    let store = crate::store::scratch::fresh_sqlite(&super::sqlite_path(dir, "levers")).await?;
    let sqlite = measure_levers(&store).await;
    store.close().await;
    let mut figures = vec![Some(sqlite?)];
    for (name, url) in [("postgres", &args.postgres), ("citus", &args.citus)] {
        let Some(url) = url else {
            figures.push(None);
            continue;
        };
        eprintln!("[{name}] a rate halved live and an action held, under two delivery runs");
        let schema = "journeyctl_bench_levers";
        let store = crate::store::scratch::fresh_schema(url, schema).await?;
        let f = measure_levers(&store).await;
        store.close().await;
        let _ = crate::store::scratch::drop_schema(url, schema).await;
        figures.push(Some(f?));
    }
    let _ = std::fs::remove_dir_all(dir);
    print_levers(&figures);
    Ok(())
}

type Levers = (RateFigures, (f64, usize));

fn print_levers(figures: &[Option<Levers>]) {
    let cells = |show: &dyn Fn(&Levers) -> String| -> String {
        figures
            .iter()
            .map(|f| f.as_ref().map_or("skipped".into(), show))
            .collect::<Vec<_>>()
            .join(" | ")
    };
    println!(
        "| incident levers, two delivery runs sharing the store | target | SQLite | PostgreSQL | Citus |"
    );
    println!("|---|---|---|---|---|");
    println!(
        "| rate-limited delivery (200/s) | within 5% | {} |",
        cells(&|f| format!("{:.1}/s", f.0.observed_per_s))
    );
    println!(
        "| rate halved live: shows at the receiver | < 1 s | {} |",
        cells(&|f| format!("{:.0} ms", f.0.live_change_ms))
    );
    println!(
        "| rate from 1 s after the change (100/s) | within 5% | {} |",
        cells(&|f| format!("{:.1}/s", f.0.live_observed_per_s))
    );
    println!(
        "| hold one action (200/s in flight): returns in | - | {} |",
        cells(&|f| format!("{:.0} ms", f.1.0))
    );
    println!(
        "| requests of it after the hold returned | 0 | {} |",
        cells(&|f| f.1.1.to_string())
    );
}

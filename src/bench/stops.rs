//! Stops under load: an engine moving a large journey and two delivery
//! workers sending its messages (each with its own connections, as
//! separate processes would), while an operator stops twenty small
//! journeys one after another. The figure is each stop's commit time, as
//! the operator waits for it.

use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::T0;
use super::delivery::webhook_receiver;
use crate::delivery::{self, Options};
use crate::domain::events::{Event, TimedEvent};
use crate::domain::time::parse_rfc3339;
use crate::domain::{ActionKind, Definition, Millis};
use crate::store::{Actor, OperatorAction, PoolSettings, Store, Target};

#[derive(Debug, Default, Clone)]
pub(super) struct StopFigures {
    pub median_ms: f64,
    pub p95_ms: f64,
    /// The stop of the journey the engine was moving, last.
    pub loaded_ms: f64,
    /// Steps the engine ran while the stops were made (proof of load).
    pub steps_meanwhile: u64,
}

const STOPS: usize = 20;
const HOUR: Millis = 3_600_000;

/// A message every hour, 24 times: each tick moves every participant.
fn hourly(name: &str) -> anyhow::Result<Definition> {
    let mut toml = format!("name = \"{name}\"\ngoal = \"purchase\"\n");
    for _ in 0..24 {
        toml.push_str("[[steps]]\nkind = \"message\"\naction = \"email\"\n");
        toml.push_str("[[steps]]\nkind = \"wait\"\nduration = \"1h\"\n");
    }
    Definition::from_toml(&toml).map_err(anyhow::Error::msg)
}

pub(super) async fn enter(store: &Store, journey: &str, n: u64, at: Millis) -> anyhow::Result<()> {
    let actor = Actor::new("bench", crate::store::this_host());
    store.apply(&hourly(journey)?, &actor, at).await?;
    store.publish(journey, &actor, at).await?;
    let mut k = 0;
    while k < n {
        let chunk: Vec<TimedEvent> = (k..n.min(k + 50_000))
            .map(|i| TimedEvent {
                event: Event::Enter {
                    journey: journey.into(),
                    profile: format!("{journey}-{i}"),
                },
                at,
            })
            .collect();
        k += chunk.len() as u64;
        store.ingest(&chunk).await?;
        eprint!("\r  {journey}: {k} entered");
    }
    eprintln!();
    Ok(())
}

async fn stop(store: &Store, journey: &str, at: Millis) -> anyhow::Result<f64> {
    let action = OperatorAction {
        kind: ActionKind::Stop,
        target: Target::Version {
            journey: journey.into(),
            version: Some(1),
        },
        reason: Some("bench".into()),
    };
    let start = Instant::now();
    store
        .execute(&action, &Actor::new("bench", "bench"), at)
        .await?;
    Ok(start.elapsed().as_secs_f64() * 1000.0)
}

/// An engine ticking the store an hour at a time and two delivery workers
/// sending to a local webhook, each with connections of its own, as
/// separate processes would.
pub(super) struct Load {
    pub receiver: crate::demo::receiver::Receiver,
    quit: watch::Sender<bool>,
    background: Vec<tokio::task::JoinHandle<anyhow::Result<u64>>>,
}

impl Load {
    pub(super) async fn start(store: &Store, t0: Millis) -> anyhow::Result<Load> {
        let (receiver, channels) = webhook_receiver().await?;
        let (quit, rx) = watch::channel(false);
        let mut background = Vec::new();
        for _ in 0..2 {
            let worker = Store::connect_with(store.location(), &PoolSettings::default()).await?;
            let (channels, rx) = (channels.clone(), rx.clone());
            let options = Options {
                workers: 1,
                ..Options::default()
            };
            background.push(tokio::spawn(async move {
                let r = delivery::deliver(&worker, &channels, &options, rx).await;
                worker.close().await;
                r.map(|_| 0u64)
            }));
        }
        let engine = Store::connect_with(store.location(), &PoolSettings::default()).await?;
        let mut engine_quit = rx.clone();
        background.push(tokio::spawn(async move {
            let mut steps = 0;
            for h in 1..24 {
                if *engine_quit.borrow_and_update() {
                    break;
                }
                steps += engine.tick(t0 + h * HOUR + 1_000).await?.steps;
            }
            engine.close().await;
            Ok(steps)
        }));
        Ok(Load {
            receiver,
            quit,
            background,
        })
    }

    /// Ends the load; the steps the engine ran.
    pub(super) async fn end(self) -> anyhow::Result<u64> {
        let _ = self.quit.send(true);
        let mut steps = 0;
        for task in self.background {
            steps += task.await??;
        }
        Ok(steps)
    }
}

/// Twenty stops while an engine moves `participants` due participants and
/// two workers deliver their messages.
pub(super) async fn measure_stops(store: &Store, participants: u64) -> anyhow::Result<StopFigures> {
    let t0 = parse_rfc3339(T0).map_err(anyhow::Error::msg)?;
    enter(store, "load", participants, t0).await?;
    for k in 0..STOPS {
        enter(store, &format!("stop-{k:02}"), 100, t0).await?;
    }
    // The small journeys' first messages are pending when they stop.
    store.tick(t0 + 1_000).await?;
    let load = Load::start(store, t0).await?;
    // Let the engine and workers get going.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut times = Vec::with_capacity(STOPS);
    for k in 0..STOPS {
        let ms = stop(store, &format!("stop-{k:02}"), t0 + 2_000).await?;
        eprint!("\r  stop {}/{STOPS}: {ms:.0} ms   ", k + 1);
        times.push(ms);
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let loaded_ms = stop(store, "load", t0 + 2_000).await?;
    eprintln!(
        "\r  stops done; {} requests delivered meanwhile",
        load.receiver.count()
    );
    let steps_meanwhile = load.end().await?;
    times.sort_by(f64::total_cmp);
    Ok(StopFigures {
        median_ms: super::percentile(&times, 0.5),
        p95_ms: super::percentile(&times, 0.95),
        loaded_ms,
        steps_meanwhile,
    })
}

/// The stops under load on a fresh store; `None` where PostgreSQL is
/// not given.
pub(super) async fn stops_on(
    dir: &std::path::Path,
    postgres: Option<&str>,
    participants: u64,
) -> anyhow::Result<StopFigures> {
    let Some(url) = postgres else {
        eprintln!("[sqlite] stops under an engine and two delivery workers");
        let store = crate::store::scratch::fresh_sqlite(&super::sqlite_path(dir, "stops")).await?;
        let f = measure_stops(&store, participants).await;
        store.close().await;
        return f;
    };
    eprintln!("[postgres] stops under an engine and two delivery workers");
    let store = crate::store::scratch::fresh_schema(url, "journeyctl_bench_stops").await?;
    let f = measure_stops(&store, participants).await;
    store.close().await;
    let _ = crate::store::scratch::drop_schema(url, "journeyctl_bench_stops").await;
    f
}

/// `bench --stops-only`: operators' commands on an idle store, and the two
/// rows of stops under load.
pub(super) async fn run_stops(
    args: &super::BenchConfig,
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    let sqlite = stops_on(dir, None, args.participants).await?;
    let postgres = match &args.postgres {
        Some(url) => Some(stops_on(dir, Some(url), args.participants).await?),
        None => None,
    };
    let ops_sqlite = super::operators::operators_on(dir, None).await?;
    let ops_postgres = match &args.postgres {
        Some(url) => Some(super::operators::operators_on(dir, Some(url)).await?),
        None => None,
    };
    let _ = std::fs::remove_dir_all(dir);
    super::operators::print(&ops_sqlite, ops_postgres.as_ref());
    println!();
    let show = |f: &StopFigures| {
        format!(
            "median {:.0} ms, p95 {:.0} ms; the moving journey {:.0} ms ({} steps meanwhile)",
            f.median_ms, f.p95_ms, f.loaded_ms, f.steps_meanwhile
        )
    };
    println!(
        "| 20 stops under an engine ({} due) and 2 workers | target | SQLite | PostgreSQL |",
        args.participants
    );
    println!("|---|---|---|---|");
    println!(
        "| commit time | p95 <= 250 ms | {} | {} |",
        show(&sqlite),
        postgres.as_ref().map_or("skipped".into(), show)
    );
    Ok(())
}

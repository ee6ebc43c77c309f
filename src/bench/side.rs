//! Side by side: one engine against two engines over the same store (each
//! with its own connections, as on two hosts), and one delivery worker
//! against two. A journey of 25 steps (13 messages, 12 hourly waits),
//! ticked hour by hour.

use std::time::Instant;

use tokio::sync::watch;

use super::T0;
use super::delivery::webhook_receiver;
use crate::delivery::{self, Options};
use crate::domain::events::{Event, TimedEvent};
use crate::domain::time::parse_rfc3339;
use crate::domain::{Definition, Millis};
use crate::store::{Actor, PoolSettings, Store};

#[derive(Debug, Default, Clone)]
pub(super) struct SideFigures {
    pub one_engine: f64,
    pub two_engines: f64,
    pub one_worker: f64,
    pub two_workers: f64,
}

const HOUR: Millis = 3_600_000;

fn long_journey() -> anyhow::Result<Definition> {
    let mut toml = String::from("name = \"long\"\ngoal = \"purchase\"\n");
    for k in 0..13 {
        toml.push_str("[[steps]]\nkind = \"message\"\naction = \"email\"\n");
        if k < 12 {
            toml.push_str("[[steps]]\nkind = \"wait\"\nduration = \"1h\"\n");
        }
    }
    Definition::from_toml(&toml).map_err(anyhow::Error::msg)
}

async fn fill(store: &Store, participants: u64) -> anyhow::Result<Millis> {
    let actor = Actor::new("bench", crate::store::this_host());
    let t0 = parse_rfc3339(T0).map_err(anyhow::Error::msg)?;
    store.apply(&long_journey()?, &actor, t0).await?;
    store.publish("long", &actor, t0).await?;
    let events: Vec<TimedEvent> = (0..participants)
        .map(|i| TimedEvent {
            event: Event::Enter {
                journey: "long".into(),
                profile: format!("p-{i}"),
            },
            at: t0,
        })
        .collect();
    for chunk in events.chunks(50_000) {
        store.ingest(chunk).await?;
    }
    Ok(t0)
}

/// Steps per second of `engines` engines ticking hour by hour until every
/// participant has completed.
async fn engines(store: &Store, participants: u64, engines: usize) -> anyhow::Result<f64> {
    let t0 = fill(store, participants).await?;
    let mut handles = vec![store.clone()];
    for _ in 1..engines {
        handles.push(Store::connect_with(store.location(), &PoolSettings::default()).await?);
    }
    let start = Instant::now();
    let mut steps = 0;
    for h in 0..13 {
        let at = t0 + h * HOUR + 30_000;
        let ticks = handles.iter().map(|s| {
            let s = s.clone();
            async move { s.tick(at).await }
        });
        for r in futures_join(ticks).await {
            steps += r?.steps;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    for extra in &handles[1..] {
        extra.close().await;
    }
    if steps != participants * 25 {
        anyhow::bail!(
            "{engines} engines ran {steps} steps, not {}",
            participants * 25
        );
    }
    Ok(steps as f64 / secs.max(1e-9))
}

/// Runs the futures at once (on the runtime's threads) and collects them.
async fn futures_join<F, T>(futures: impl Iterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("a bench task panicked"));
    }
    out
}

/// Messages per second of `workers` delivery processes (one worker each,
/// each with its own connections) over the messages of the first hour.
async fn workers(store: &Store, participants: u64, workers: usize) -> anyhow::Result<f64> {
    let t0 = fill(store, participants).await?;
    store.tick(t0 + 30_000).await?;
    let (receiver, channels) = webhook_receiver().await?;
    let options = Options {
        workers: 1,
        once: true,
        ..Options::default()
    };
    let mut handles = vec![store.clone()];
    for _ in 1..workers {
        handles.push(Store::connect_with(store.location(), &PoolSettings::default()).await?);
    }
    let (_tx, rx) = watch::channel(false);
    let start = Instant::now();
    let runs = handles.iter().map(|s| {
        let (s, channels, options, rx) = (s.clone(), channels.clone(), options.clone(), rx.clone());
        async move { delivery::deliver(&s, &channels, &options, rx).await }
    });
    for r in futures_join(runs).await {
        r?;
    }
    let secs = start.elapsed().as_secs_f64();
    for extra in &handles[1..] {
        extra.close().await;
    }
    let sent = receiver.count();
    if sent != participants {
        anyhow::bail!("{workers} workers made {sent} requests for {participants} messages");
    }
    Ok(sent as f64 / secs.max(1e-9))
}

/// The four figures, each on a fresh store from `fresh`.
pub(super) async fn measure_side<F, Fut>(fresh: F, participants: u64) -> anyhow::Result<SideFigures>
where
    F: Fn(&'static str) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Store>>,
{
    let mut f = SideFigures::default();
    for (name, n, slot) in [
        ("side_engine_1", 1, &mut f.one_engine),
        ("side_engine_2", 2, &mut f.two_engines),
    ] {
        eprintln!("  {n} engine(s), {participants} participants x 25 steps");
        let store = fresh(name).await?;
        *slot = engines(&store, participants, n).await?;
        store.close().await;
    }
    for (name, n, slot) in [
        ("side_worker_1", 1, &mut f.one_worker),
        ("side_worker_2", 2, &mut f.two_workers),
    ] {
        eprintln!("  {n} delivery worker(s), {participants} messages");
        let store = fresh(name).await?;
        *slot = workers(&store, participants, n).await?;
        store.close().await;
    }
    Ok(f)
}

//! The store-wide brake under load: 200 live journeys, an engine ticking
//! them and two delivery workers sending their messages, while an
//! operator brakes the whole store (every version paused, one incident)
//! twenty times, resuming it by its incident between brakes. The figure
//! is each brake's commit time, as the operator waits for it.

use std::time::{Duration, Instant};

use super::T0;
use super::stops::{Load, enter};
use crate::domain::time::parse_rfc3339;
use crate::domain::{ActionKind, Hold, Millis, Overdue};
use crate::store::{Actor, OperatorAction, Store, Target};

const BRAKES: usize = 20;
const JOURNEYS: usize = 200;

#[derive(Debug, Default, Clone)]
pub(super) struct BrakeFigures {
    pub median_ms: f64,
    pub p95_ms: f64,
    /// Versions each brake paused.
    pub versions: usize,
    /// Steps the engine ran and requests the workers sent meanwhile
    /// (proof of load).
    pub steps_meanwhile: u64,
    pub sent_meanwhile: u64,
}

/// One brake (pause --all) and its resume by incident; the brake's
/// commit time, and how many versions it paused.
async fn brake_and_resume(store: &Store, at: Millis) -> anyhow::Result<(f64, usize)> {
    let actor = Actor::new("bench", "bench");
    let brake = OperatorAction {
        kind: ActionKind::Pause(Hold::default()),
        target: Target::Store {
            name: "bench".into(),
        },
        reason: Some("bench".into()),
    };
    let start = Instant::now();
    let outcome = store.execute(&brake, &actor, at).await?;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let id = outcome
        .incident
        .ok_or_else(|| anyhow::anyhow!("the brake gave no incident id"))?;
    let resume = OperatorAction {
        kind: ActionKind::Resume(Overdue::Send),
        target: Target::Incident { id },
        reason: None,
    };
    store.execute(&resume, &actor, at).await?;
    Ok((ms, outcome.versions.len()))
}

/// Twenty brakes while an engine ticks 200 journeys of `per_journey`
/// participants each and two workers deliver their messages.
pub(super) async fn measure_brakes(
    store: &Store,
    per_journey: u64,
) -> anyhow::Result<BrakeFigures> {
    let t0 = parse_rfc3339(T0).map_err(anyhow::Error::msg)?;
    for k in 0..JOURNEYS {
        enter(store, &format!("j-{k:03}"), per_journey, t0).await?;
    }
    store.tick(t0 + 1_000).await?;
    let load = Load::start(store, t0).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut times = Vec::with_capacity(BRAKES);
    let mut versions = 0;
    for k in 0..BRAKES {
        let (ms, n) = brake_and_resume(store, t0 + 2_000).await?;
        eprint!("\r  brake {}/{BRAKES}: {ms:.0} ms ({n} versions)   ", k + 1);
        times.push(ms);
        versions = n;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let sent_meanwhile = load.receiver.count();
    eprintln!("\r  brakes done; {sent_meanwhile} requests delivered meanwhile");
    let steps_meanwhile = load.end().await?;
    times.sort_by(f64::total_cmp);
    Ok(BrakeFigures {
        median_ms: super::percentile(&times, 0.5),
        p95_ms: super::percentile(&times, 0.95),
        versions,
        steps_meanwhile,
        sent_meanwhile,
    })
}

/// The brakes on a fresh store of each backend given: SQLite always,
/// PostgreSQL and Citus where named.
pub(super) async fn run_brakes(
    args: &super::BenchConfig,
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    let per_journey = (args.participants / JOURNEYS as u64).clamp(10, 200);
    eprintln!("[sqlite] 20 store-wide brakes under an engine and two delivery workers");
    let store = crate::store::scratch::fresh_sqlite(&super::sqlite_path(dir, "brakes")).await?;
    let sqlite = measure_brakes(&store, per_journey).await;
    store.close().await;
    let sqlite = sqlite?;
    let mut others = Vec::new();
    for (name, url) in [("postgres", &args.postgres), ("citus", &args.citus)] {
        let Some(url) = url else {
            others.push(None);
            continue;
        };
        eprintln!("[{name}] 20 store-wide brakes under an engine and two delivery workers");
        let schema = "journeyctl_bench_brakes";
        let store = crate::store::scratch::fresh_schema(url, schema).await?;
        let f = measure_brakes(&store, per_journey).await;
        store.close().await;
        let _ = crate::store::scratch::drop_schema(url, schema).await;
        others.push(Some(f?));
    }
    let _ = std::fs::remove_dir_all(dir);
    let show = |f: &BrakeFigures| {
        format!(
            "median {:.0} ms, p95 {:.0} ms ({} versions; {} steps, {} requests meanwhile)",
            f.median_ms, f.p95_ms, f.versions, f.steps_meanwhile, f.sent_meanwhile
        )
    };
    let or_skipped = |f: &Option<BrakeFigures>| f.as_ref().map_or("skipped".into(), show);
    println!(
        "| 20 store-wide brakes, {JOURNEYS} live journeys of {per_journey}, an engine and 2 workers | target | SQLite | PostgreSQL | Citus |"
    );
    println!("|---|---|---|---|---|");
    println!(
        "| commit time | p95 <= 250 ms (Citus <= 1 s) | {} | {} | {} |",
        show(&sqlite),
        or_skipped(&others[0]),
        or_skipped(&others[1])
    );
    Ok(())
}

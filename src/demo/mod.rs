//! `journeyctl demo`: a store of its own, filled with a campaign an operator
//! would believe (`catalogue.toml`), and a simulator that keeps traffic
//! flowing (entries, goal and exit events, segment joins, the engine, the
//! delivery workers to receivers of its own, one of which starts failing)
//! with its campaign running faster than the wall clock. What the store
//! holds is on the wall clock (`domain::clock`).

mod catalogue;
mod delivery;
pub mod receiver;
mod screenshots;
mod seed;
mod simulator;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::domain::time::Millis;
use crate::store::{Actor, Location, Store, scratch};

pub use delivery::DemoChannels;
pub use screenshots::screenshots;
pub use seed::seed;
pub use simulator::{Simulator, StepReport};

pub(crate) const HOUR: Millis = 3_600_000;
pub(crate) const DAY: Millis = 24 * HOUR;

/// How the demo runs; the command line fills it in.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// How much faster simulated time runs than the wall clock.
    pub speed: f64,
    /// Participants seeded before the console opens.
    pub profiles: u64,
    /// Seed and simulate without the console.
    pub no_console: bool,
    /// With `no_console`: stop after this many seconds.
    pub duration: Option<u64>,
    /// Seed of the simulation's random choices.
    pub seed: u64,
    /// A PostgreSQL database named explicitly for the demo (its schema
    /// `journeyctl_demo`), or a SQLite file; else `demo.db` beside the
    /// default store. Never the operator's `DATABASE_URL`.
    pub database_url: Option<String>,
    pub read_only: bool,
    pub refresh: Duration,
    /// When the demo's CRM webhook starts failing (HTTP 503).
    pub crm_fails_after: Duration,
    /// The console's key table.
    pub keys: crate::tui::keymap::KeyMap,
}

/// `journeyctl demo`: seeds the demo's store, then keeps traffic flowing
/// under the console (or headless).
pub async fn run(config: DemoConfig, actor: Actor) -> anyhow::Result<()> {
    let args = &config;
    if args.speed <= 0.0 || !args.speed.is_finite() {
        anyhow::bail!("--speed must be a positive number");
    }
    let store = demo_store(config.database_url.as_deref()).await?;
    let where_ = store.location().display();
    eprintln!(
        "journeyctl demo: seeding {} profiles into {where_} …",
        args.profiles
    );
    let mut sim = seed(store.clone(), args.profiles, args.speed, args.seed, true).await?;
    sim.channels.fail_crm_after(args.crm_fails_after);
    if args.no_console {
        return headless(sim, args).await;
    }
    let traffic = tokio::spawn(sim.run_forever());
    let console = demo_console(
        &where_,
        args.speed,
        args.keys.clone(),
        config.read_only,
        config.refresh,
    );
    let result = crate::tui::run_console(store, actor, console).await;
    traffic.abort();
    result
}

/// The demo's console: on the wall clock like any other (the store holds
/// wall-clock times), with a line saying what the demo is.
pub(crate) fn demo_console(
    where_: &str,
    speed: f64,
    keys: crate::tui::keymap::KeyMap,
    read_only: bool,
    refresh: Duration,
) -> crate::tui::Console {
    let banner = format!(
        "DEMO store ({where_}): campaign at {speed}× (traffic, waits, reactions); times are real"
    );
    crate::tui::Console {
        read_only,
        refresh,
        poll: false,
        banner: Some(banner),
        sim_clock: None,
        store_name: None,
        store_colour: None,
        keys,
    }
}

/// `--no-console`: the traffic alone, with a line every five seconds.
async fn headless(mut sim: Simulator, args: &DemoConfig) -> anyhow::Result<()> {
    eprintln!("simulating at {}x; Ctrl-C stops", args.speed);
    let started = Instant::now();
    let mut last_report = Instant::now();
    let mut interval = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = tokio::signal::ctrl_c() => break,
        }
        let r = sim.step().await?;
        if last_report.elapsed() >= Duration::from_secs(5) {
            last_report = Instant::now();
            eprintln!(
                "{} (simulated {}): +{} entered, {} events, {} steps, {} sent",
                crate::domain::time::short(sim.clock.to_wall(r.sim_now)),
                crate::domain::time::short(r.sim_now),
                r.entered,
                r.events,
                r.steps,
                r.sent
            );
        }
        if args
            .duration
            .is_some_and(|d| started.elapsed() >= Duration::from_secs(d))
        {
            break;
        }
    }
    Ok(())
}

/// The demo's own store: a fresh SQLite file beside the default store, or
/// the schema `journeyctl_demo` of the PostgreSQL database given with
/// `--database-url` (never the operator's tables).
pub async fn demo_store(explicit_url: Option<&str>) -> anyhow::Result<Store> {
    Ok(match explicit_url {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            scratch::fresh_schema(url, "journeyctl_demo").await?
        }
        Some(url) => match Location::parse(url)? {
            Location::Sqlite(path) => scratch::fresh_sqlite(&path).await?,
            other => Store::connect(&other).await?,
        },
        None => {
            // Its own default path is the demo's whatever it holds.
            let path = demo_sqlite_path();
            scratch::remove_sqlite(&path);
            scratch::fresh_sqlite(&path).await?
        }
    })
}

pub fn demo_sqlite_path() -> PathBuf {
    crate::store::default_sqlite_path().with_file_name("demo.db")
}

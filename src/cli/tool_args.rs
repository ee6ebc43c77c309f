//! The tools' arguments (demo, bench): here so that the tools take plain
//! config structs and never the CLI's types.

use std::time::Duration;

use clap::Args;

use super::values::parse_duration_arg;

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// How much faster simulated time runs than the wall clock.
    #[arg(long, default_value_t = 60.0)]
    pub speed: f64,
    /// Participants seeded before the console opens.
    #[arg(long, default_value_t = 20_000)]
    pub profiles: u64,
    /// Seed and simulate without the console (until Ctrl-C or --duration).
    #[arg(long)]
    pub no_console: bool,
    /// With --no-console: stop after this many seconds.
    #[arg(long)]
    pub duration: Option<u64>,
    /// Seed of the simulation's random choices.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// When the demo's CRM webhook starts answering 503 (a failing
    /// channel for the kill switch).
    #[arg(long, default_value = "3m", value_parser = parse_duration_arg)]
    pub crm_fails_after: Duration,
}

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Participants in the large store.
    #[arg(long, default_value_t = 1_000_000)]
    pub participants: u64,
    /// Journeys in each store.
    #[arg(long, default_value_t = 200)]
    pub journeys: u64,
    /// PostgreSQL server for the PostgreSQL column (default:
    /// JOURNEYCTL_TEST_POSTGRES_URL); the bench makes and drops its own schemas.
    #[arg(long)]
    pub postgres: Option<String>,
    /// A Citus coordinator for the Citus column (default:
    /// JOURNEYCTL_TEST_CITUS_URL): ingest, engine tick, stop and pause
    /// commits, and where the rows sit; the bench makes and drops its own
    /// schemas.
    #[arg(long)]
    pub citus: Option<String>,
    /// Only the Citus column.
    #[arg(long)]
    pub citus_only: bool,
    /// Skip the engine tick over the large store (a stop's commit time on
    /// a large store without waiting for a tick of every participant).
    #[arg(long)]
    pub no_tick: bool,
    /// Skip the console measurements (they need tmux).
    #[arg(long)]
    pub no_console: bool,
    /// Seconds the idle console is watched.
    #[arg(long, default_value_t = 20)]
    pub idle_seconds: u64,
    /// Only the stops under an engine and two delivery workers.
    #[arg(long)]
    pub stops_only: bool,
    /// Only the store-wide brakes (pause --all, 200 live journeys) under
    /// an engine and two delivery workers, on SQLite, PostgreSQL and Citus.
    #[arg(long)]
    pub brakes_only: bool,
    /// Only the live figures: a stop seen by another console in tmux, and
    /// an idle console watching against polling.
    #[arg(long)]
    pub live_only: bool,
    /// Only the incident levers: a rate halved live (`rate`) and how soon
    /// the receiver sees it, under two rate-limited delivery runs, on
    /// SQLite, PostgreSQL and Citus.
    #[arg(long)]
    pub levers_only: bool,
    /// Only the feed: `journeyctl ingest` of entry events on each backend
    /// given, against a bare COPY of the same rows on PostgreSQL and
    /// against one PostgreSQL node on Citus, then a tick over them.
    #[arg(long)]
    pub feed_only: bool,
    /// Entry events in the feed.
    #[arg(long, default_value_t = 200_000)]
    pub feed_events: u64,
}

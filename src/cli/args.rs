//! The command line's words: global options, commands and their
//! arguments (clap). The tools' arguments are here too, so that the tools
//! take plain config structs and never the CLI's types.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::domain::definition::{DEFAULT_EXPECTED_PARTICIPANTS, DEFAULT_MIN_PER_VARIANT};
use crate::domain::time::parse_duration;

#[derive(Debug, Parser)]
#[command(
    name = "journeyctl",
    version,
    about = "Operations console for customer journeys: watch live journeys, finish or stop them safely.",
    long_about = None
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub struct Global {
    /// postgres://..., sqlite://PATH, sqlite:PATH or a file path. Without
    /// it: --store, then DATABASE_URL, then the config file's
    /// default_store, else a SQLite file in your data directory.
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    /// A store named in $XDG_CONFIG_HOME/journeyctl/config.toml.
    #[arg(long, global = true, value_name = "NAME")]
    pub store: Option<String>,
    /// Act on a store the config file marks read_only.
    #[arg(long, global = true)]
    pub write: bool,
    /// Operator name written to the audit log (default: the login user).
    #[arg(long, global = true)]
    pub actor: Option<String>,
    /// Look, never change: action keys and commands that write are refused.
    #[arg(long, global = true)]
    pub read_only: bool,
    /// finish, stop, pause, resume: give up when the action has waited
    /// this long for the store (default: wait until it commits).
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration_arg)]
    pub lock_timeout: Option<Duration>,
    /// How often the console refreshes its data: 500ms to 5s.
    #[arg(long, global = true, default_value = "2s", value_parser = parse_refresh)]
    pub refresh: Duration,
    /// The console polls every --refresh instead of learning of changes as
    /// they happen (behind a connection pooler in transaction mode, where
    /// notifications cannot reach it).
    #[arg(long, global = true)]
    pub poll: bool,
}

/// A duration between `least` and `most` milliseconds (as their text).
fn bounded(s: &str, (least, most): (i64, i64), words: &str) -> Result<Duration, String> {
    let ms = parse_duration(s)?;
    if !(least..=most).contains(&ms) {
        return Err(format!("{s:?} is out of bounds: {words}"));
    }
    Ok(Duration::from_millis(ms as u64))
}

/// `run --interval`: 100ms to 1h.
fn parse_interval(s: &str) -> Result<Duration, String> {
    bounded(s, (100, 3_600_000), "the interval is 100ms to 1h")
}

/// `--refresh`: 500ms to 5s.
fn parse_refresh(s: &str) -> Result<Duration, String> {
    bounded(s, (500, 5_000), "the console refreshes every 500ms to 5s")
}

fn parse_duration_arg(s: &str) -> Result<Duration, String> {
    Ok(Duration::from_millis(parse_duration(s)? as u64))
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or upgrade the schema.
    Migrate,
    /// Read a journey definition (TOML): a new journey, or a new draft version.
    Apply {
        file: PathBuf,
        /// Publish the draft right away.
        #[arg(long)]
        publish: bool,
    },
    /// Publish the newest draft (the live version, if any, is finished).
    Publish { journey: String },
    /// Read NDJSON events from FILE (or - / nothing for standard input).
    Ingest {
        file: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Run due steps and date rules once.
    Tick {
        /// The engine's clock (RFC 3339; default: now).
        #[arg(long)]
        now: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Keep ticking until interrupted.
    Run {
        /// How often to tick: 100ms to 1h.
        #[arg(long, default_value = "1s", value_parser = parse_interval)]
        interval: Duration,
        /// Serve Prometheus metrics on this address (GET /metrics).
        #[arg(long, value_name = "ADDR")]
        metrics: Option<std::net::SocketAddr>,
    },
    /// The versions with their counts, conversion and A/B verdict.
    List {
        /// Include drafts.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// The audit log, newest first.
    Audit {
        #[arg(long)]
        journey: Option<String>,
        #[arg(long, default_value_t = 1000)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Changes as they happen, one line each (status, hold, audit row,
    /// delivery gate), for runbooks and chat bots; Ctrl-C ends it.
    Watch {
        /// Only this journey's changes.
        journey: Option<String>,
        /// One JSON object a line.
        #[arg(long)]
        json: bool,
    },
    /// Where a profile is: one entry per version it entered.
    Profile {
        profile: String,
        #[arg(long)]
        json: bool,
    },
    /// Finish a version: no new entries, participants inside carry on.
    Finish {
        /// The journey's name.
        journey: String,
        /// The version to finish (default: the live one).
        #[arg(long)]
        version: Option<i64>,
        /// Why, for the audit log.
        #[arg(long)]
        reason: Option<String>,
        /// Do not ask for confirmation (needed without a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Stop a version now: participants halted, pending messages cancelled.
    Stop {
        #[command(flatten)]
        target: TargetArgs,
        /// Why, for the audit log.
        #[arg(long)]
        reason: Option<String>,
        /// Do not ask for confirmation (needed without a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Pause (hold) a version: no entries, no messages, waits go on; reversible.
    Pause {
        #[command(flatten)]
        target: TargetArgs,
        /// How long the hold lasts (at most 30d).
        #[arg(long, default_value = "3d", value_parser = parse_duration_arg)]
        hold: Duration,
        /// What happens when the hold runs out.
        #[arg(long, default_value = "stop", value_parser = ["stop", "resume"])]
        on_expiry: String,
        /// Why, for the audit log.
        #[arg(long)]
        reason: Option<String>,
        /// Do not ask for confirmation (needed without a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Resume a paused version: held participants and messages go on.
    Resume {
        #[command(flatten)]
        target: TargetArgs,
        /// Why, for the audit log.
        #[arg(long)]
        reason: Option<String>,
        /// Messages that fell due during the hold: send them now, skip
        /// them (cancelled, counted as overdue) or spread them evenly over
        /// a time (spread=30m, 1m to 7d). Asked on a terminal when the
        /// oldest fell due over an hour ago; send by default.
        #[arg(long, value_name = "send|skip|spread=DUR")]
        overdue: Option<String>,
        /// Do not ask for confirmation (needed without a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// A/B verdict: of a live test as the engine keeps it (JOURNEY), for
    /// given counts (--arm NAME=CONVERSIONS/PARTICIPANTS), or a sample
    /// ratio check of given counts (--srm NAME=PEOPLE/WEIGHT).
    Verdict {
        /// The journey whose test to show (its live version by default).
        #[arg(required_unless_present_any = ["arms", "srm"], conflicts_with_all = ["arms", "srm"])]
        journey: Option<String>,
        /// The version whose test to show.
        #[arg(long, requires = "journey")]
        version: Option<i64>,
        #[arg(long = "arm", value_name = "NAME=X/N", conflicts_with = "srm")]
        arms: Vec<String>,
        /// One variant's people and weight, for a sample ratio mismatch
        /// check (chi-square, marked below p = 0.001): give one per variant.
        #[arg(long = "srm", value_name = "NAME=PEOPLE/WEIGHT")]
        srm: Vec<String>,
        #[arg(long, default_value_t = DEFAULT_EXPECTED_PARTICIPANTS)]
        expected: u64,
        #[arg(long, default_value_t = DEFAULT_MIN_PER_VARIANT)]
        min_per_variant: u64,
        #[arg(long)]
        json: bool,
    },
    /// Hand pending messages to their channels (webhook, command, log).
    Deliver {
        /// The channels file (TOML): which channel each action uses.
        #[arg(long, value_name = "FILE")]
        channels: PathBuf,
        /// Worker tasks in this process.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
        workers: u16,
        /// Deliver what is due now, then exit.
        #[arg(long)]
        once: bool,
        /// Messages per claim (all in flight at once, per worker).
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(i64).range(1..=1000))]
        batch: i64,
        /// Serve Prometheus metrics on this address (GET /metrics).
        #[arg(long, value_name = "ADDR")]
        metrics: Option<std::net::SocketAddr>,
    },
    /// A version's minutes: entries, conversions, exits, messages sent
    /// and failed, minute by minute.
    Trend {
        journey: String,
        /// The version (default: the newest that is not a draft).
        #[arg(long)]
        version: Option<i64>,
        /// How far back (at most 48h, the minutes kept).
        #[arg(long, default_value = "1h", value_parser = parse_duration_arg)]
        since: Duration,
        #[arg(long)]
        json: bool,
    },
    /// Delivery health per action: channel, pending, sent, failed, retrying.
    Channels {
        /// Route actions with this channels file instead of what the
        /// running workers report.
        #[arg(long, value_name = "FILE")]
        channels: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Check that every counter equals a recount of the rows.
    Check,
    /// The named stores of the config file (never a password).
    Stores,
    /// PostgreSQL: give a login role a viewer's or an operator's
    /// privileges on the store (run by the schema's owner; safe to repeat).
    #[command(group(clap::ArgGroup::new("level").required(true).args(["viewer", "operator", "engine"])))]
    Grant {
        /// Reads everything the console and `list` need; changes nothing.
        #[arg(long, value_name = "ROLE")]
        viewer: Option<String>,
        /// A person: also applies, publishes, finishes, stops, pauses and
        /// resumes (each audited); writes no participant, message, counter,
        /// minute or A/B figure.
        #[arg(long, value_name = "ROLE")]
        operator: Option<String>,
        /// A service login of run, tick, deliver and ingest: moves
        /// participants, messages, counters, minutes and A/B figures;
        /// never alters the audit log or the schema.
        #[arg(long, value_name = "ROLE")]
        engine: Option<String>,
    },
    /// Shell completions (bash, zsh, fish, elvish, powershell) on
    /// standard output.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The manual page (roff) on standard output: `journeyctl man > journeyctl.1`.
    Man,
    /// A demo store with live simulated traffic, opened in the console.
    #[command(
        after_help = "The demo's store is demo.db beside the default store, made anew each time. \
Only --database-url moves it: to a path that does not exist yet (or a store the demo made), \
or to postgres://... for the schema journeyctl_demo of that database. \
DATABASE_URL, --store and the config file's default_store are never used: your own store is safe. \
To read the PostgreSQL demo from the CLI, add ?options=-c%20search_path%3Djourneyctl_demo to the URL."
    )]
    Demo(DemoArgs),
    /// Measure the scale targets on fresh SQLite and PostgreSQL stores.
    Bench(BenchArgs),
    /// Render the console over a simulated demo store into SVG pictures.
    #[command(hide = true)]
    Screenshots {
        #[arg(long, default_value = "screenshots")]
        out: PathBuf,
    },
}

impl Command {
    /// What a command that writes is called in the read-only refusal;
    /// `None` for commands that only read.
    pub fn writes(&self) -> Option<&'static str> {
        match self {
            Command::Migrate => Some("migrate"),
            Command::Apply { .. } => Some("apply"),
            Command::Publish { .. } => Some("publish"),
            Command::Ingest { .. } => Some("ingest"),
            Command::Tick { .. } | Command::Run { .. } => Some("running the engine"),
            Command::Deliver { .. } => Some("delivering messages"),
            Command::Finish { .. } => Some("finish"),
            Command::Stop { .. } => Some("stop"),
            Command::Pause { .. } => Some("pause"),
            Command::Resume { .. } => Some("resume"),
            Command::Grant { .. } => Some("grant"),
            _ => None,
        }
    }

    /// Whether the command loads a store, and so may make a missing SQLite
    /// file.
    pub fn loads_store(&self) -> bool {
        matches!(
            self,
            Command::Migrate | Command::Apply { .. } | Command::Ingest { .. }
        )
    }
}

/// Which versions a stop, pause or resume acts on: `JOURNEY [--version N |
/// --all-versions]`, or `--uses-action ACTION` (the kill switch).
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// The journey's name.
    #[arg(required_unless_present = "uses_action")]
    pub journey: Option<String>,
    /// The version (default: the live one).
    #[arg(long, conflicts_with_all = ["all_versions", "uses_action"])]
    pub version: Option<i64>,
    /// Every live or finished version of the journey at once.
    #[arg(long, conflicts_with = "uses_action")]
    pub all_versions: bool,
    /// Every version that sends through ACTION (the kill switch).
    #[arg(long, value_name = "ACTION", conflicts_with = "journey")]
    pub uses_action: Option<String>,
}

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
    /// Only the live figures: a stop seen by another console in tmux, and
    /// an idle console watching against polling.
    #[arg(long)]
    pub live_only: bool,
}

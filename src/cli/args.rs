//! The command line's words: global options, commands and their
//! arguments (clap). The tools' arguments are here too, so that the tools
//! take plain config structs and never the CLI's types.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

pub use super::end::TargetArgs;
use super::tool_args::{BenchArgs, DemoArgs};
use super::values::{parse_duration_arg, parse_interval, parse_refresh};
pub use super::verdict::Verdict;

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

/// Every command: the CLI's, then the tools the binary runs itself.
#[derive(Debug, Subcommand)]
pub enum Command {
    #[command(flatten)]
    Cli(CliCommand),
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

/// The CLI's commands, each one struct with its own `run` (`commands.rs`).
#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Create or upgrade the schema.
    Migrate(Migrate),
    /// Read a journey definition (TOML): a new journey, or a new draft version.
    Apply(Apply),
    /// Publish the newest draft (the live version, if any, is finished).
    Publish(Publish),
    /// Read NDJSON events from FILE (or - / nothing for standard input).
    Ingest(Ingest),
    /// Run due steps and date rules once.
    Tick(Tick),
    /// Keep ticking until interrupted.
    Run(Run),
    /// The versions with their counts, conversion and A/B verdict.
    List(List),
    /// The audit log, newest first.
    Audit(Audit),
    /// Changes as they happen, one line each (status, hold, audit row,
    /// delivery gate), for runbooks and chat bots; Ctrl-C ends it.
    Watch(Watch),
    /// Where a profile is: one entry per version it entered.
    Profile(Profile),
    /// Finish a version: no new entries, participants inside carry on.
    Finish(Finish),
    /// Stop a version now: participants halted, pending messages cancelled.
    Stop(Stop),
    /// Pause (hold) a version: no entries, no messages, waits go on; reversible.
    Pause(Pause),
    /// Resume a paused version: held participants and messages go on.
    Resume(Resume),
    /// A/B verdict: of a live test as the engine keeps it (JOURNEY), for
    /// given counts (--arm NAME=CONVERSIONS/PARTICIPANTS), or a sample
    /// ratio check of given counts (--srm NAME=PEOPLE/WEIGHT).
    Verdict(Verdict),
    /// Hand pending messages to their channels (webhook, command, log).
    Deliver(Deliver),
    /// A version's minutes: entries, conversions, exits, messages sent
    /// and failed, minute by minute.
    Trend(Trend),
    /// Delivery health per action: channel, pending, sent, failed, retrying.
    Channels(Channels),
    /// Set a channel's rate and concurrency live, kept in the store: every
    /// running `deliver` follows within a second (--clear: the channels
    /// file's again).
    Rate(super::rate::RateArgs),
    /// Hold one action: its messages stay pending and no worker claims
    /// one, while entries, waits and every other action go on.
    Hold(super::hold::HoldArgs),
    /// The actions set for a time (--at), soonest first (--all: the
    /// ended ones too).
    Scheduled(super::schedule::ScheduledArgs),
    /// Take back an action set for a time, before it runs.
    Unschedule(super::schedule::UnscheduleArgs),
    /// What will go out next, per action: in 15 minutes, an hour, a day.
    Forecast(super::forecast::ForecastArgs),
    /// A/B by hand: disable one arm, or pick the winner (audited; not a
    /// statistical result).
    Variant(super::variant::VariantArgs),
    /// Leave a note on a version for the team (audited).
    Note(super::team::NoteArgs),
    /// Say you are on a version, until a time (others are told first).
    Claim(super::team::ClaimArgs),
    /// Give a claim back.
    Unclaim(super::team::UnclaimArgs),
    /// The alerts that hold (--check, exit 1 if any), or posted to a chat
    /// webhook as they begin and end (--to URL).
    Alerts(super::alerts::AlertsArgs),
    /// Which actions need another operator's approval on this store (four
    /// eyes); the schema's owner sets it (audited).
    Policy(super::approve::PolicyArgs),
    /// The requests waiting for another operator's approval.
    Approvals(super::approve::ApprovalsArgs),
    /// Approve a request: it is carried out now, as you (audited with
    /// both names).
    Approve(super::approve::ApproveArgs),
    /// Release a held action: its messages go out again.
    Release(super::hold::ReleaseArgs),
    /// Check that every counter equals a recount of the rows.
    Check(Check),
    /// The named stores of the config file (never a password).
    Stores(Stores),
    /// PostgreSQL: give a login role a viewer's, an operator's or the
    /// engine's privileges on the store (run by the schema's owner; safe to
    /// repeat).
    Grant(Grant),
    /// Shell completions (bash, zsh, fish, elvish, powershell) on
    /// standard output.
    Completions(Completions),
    /// The manual page (roff) on standard output: `journeyctl man > journeyctl.1`.
    Man(Man),
}

// `migrate`
#[derive(Debug, Clone, Args)]
pub struct Migrate {}

// `apply`
#[derive(Debug, Clone, Args)]
pub struct Apply {
    pub file: PathBuf,
    /// Publish the draft right away (it asks first when that finishes a
    /// live version).
    #[arg(long)]
    pub publish: bool,
    /// With --publish: do not ask (needed without a terminal when a live
    /// version would be finished).
    #[arg(long, requires = "publish")]
    pub yes: bool,
}

// `publish`
#[derive(Debug, Clone, Args)]
pub struct Publish {
    pub journey: String,
    /// Why (written to the audit log).
    #[arg(long)]
    pub reason: Option<String>,
    /// Do not ask (needed without a terminal).
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub when: super::schedule::At,
}

// `ingest`
#[derive(Debug, Clone, Args)]
pub struct Ingest {
    pub file: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

// `tick`
#[derive(Debug, Clone, Args)]
pub struct Tick {
    /// The engine's clock (RFC 3339; default: now).
    #[arg(long)]
    pub now: Option<String>,
    #[arg(long)]
    pub json: bool,
}

// `run`
#[derive(Debug, Clone, Args)]
pub struct Run {
    /// How often to tick: 100ms to 1h.
    #[arg(long, default_value = "1s", value_parser = parse_interval)]
    pub interval: Duration,
    /// Serve Prometheus metrics on this address (GET /metrics).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<std::net::SocketAddr>,
    #[command(flatten)]
    pub alerts: super::alerts::RunAlerts,
}

// `list`
#[derive(Debug, Clone, Args)]
pub struct List {
    /// Include drafts.
    #[arg(long)]
    pub all: bool,
    #[arg(long)]
    pub json: bool,
}

// `audit`
#[derive(Debug, Clone, Args)]
pub struct Audit {
    /// Only this journey's rows.
    #[arg(long)]
    pub journey: Option<String>,
    /// From this long ago (2h, 3d) or this time (RFC 3339).
    #[arg(long, value_name = "DURATION|TIME")]
    pub since: Option<String>,
    /// Up to this time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Only what this actor (or database login) did.
    #[arg(long, value_name = "NAME")]
    pub actor: Option<String>,
    /// Only these actions, comma-separated (stop,pause).
    #[arg(long, value_name = "A,B")]
    pub action: Option<String>,
    /// Only the rows of this store-wide brake.
    #[arg(long, value_name = "ID")]
    pub incident: Option<String>,
    /// The newest this many rows (default 1000; with --json every row
    /// that matches).
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
    pub limit: Option<i64>,
    #[arg(long)]
    pub json: bool,
}

// `watch`
#[derive(Debug, Clone, Args)]
pub struct Watch {
    /// Only this journey's changes.
    pub journey: Option<String>,
    /// One JSON object a line.
    #[arg(long)]
    pub json: bool,
}

// `profile`
#[derive(Debug, Clone, Args)]
pub struct Profile {
    pub profile: String,
    #[arg(long)]
    pub json: bool,
}

// `finish`
#[derive(Debug, Clone, Args)]
pub struct Finish {
    /// The journey's name; several finish their live versions together,
    /// in one transaction.
    #[arg(required = true)]
    pub journeys: Vec<String>,
    /// The version to finish (default: the live one; one journey only).
    #[arg(long)]
    pub version: Option<i64>,
    /// Why, for the audit log.
    #[arg(long)]
    pub reason: Option<String>,
    /// Do not ask for confirmation (needed without a terminal).
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub when: super::schedule::At,
}

// `stop`
#[derive(Debug, Clone, Args)]
pub struct Stop {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Why, for the audit log.
    #[arg(long)]
    pub reason: Option<String>,
    /// Do not ask for confirmation (needed without a terminal).
    #[arg(long)]
    pub yes: bool,
}

// `pause`
#[derive(Debug, Clone, Args)]
pub struct Pause {
    #[command(flatten)]
    pub target: TargetArgs,
    /// How long the hold lasts (at most 30d).
    #[arg(long, default_value = "3d", value_parser = parse_duration_arg)]
    pub hold: Duration,
    /// What happens when the hold runs out.
    #[arg(long, default_value = "stop", value_parser = ["stop", "resume"])]
    pub on_expiry: String,
    /// Why, for the audit log.
    #[arg(long)]
    pub reason: Option<String>,
    /// Do not ask for confirmation (needed without a terminal).
    #[arg(long)]
    pub yes: bool,
}

// `resume`
#[derive(Debug, Clone, Args)]
pub struct Resume {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Why, for the audit log.
    #[arg(long)]
    pub reason: Option<String>,
    /// Messages that fell due during the hold: send them now, skip
    /// them (cancelled, counted as overdue) or spread them evenly over
    /// a time (spread=30m, 1m to 7d). Asked on a terminal when the
    /// oldest fell due over an hour ago; send by default.
    #[arg(long, value_name = "send|skip|spread=DUR")]
    pub overdue: Option<String>,
    /// Do not ask for confirmation (needed without a terminal).
    #[arg(long)]
    pub yes: bool,
}

// `deliver`
#[derive(Debug, Clone, Args)]
pub struct Deliver {
    /// The channels file (TOML): which channel each action uses.
    #[arg(long, value_name = "FILE")]
    pub channels: PathBuf,
    /// Worker tasks in this process.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub workers: u16,
    /// Deliver what is due now, then exit.
    #[arg(long)]
    pub once: bool,
    /// Messages per claim (all in flight at once, per worker).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(i64).range(1..=1000))]
    pub batch: i64,
    /// Serve Prometheus metrics on this address (GET /metrics).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<std::net::SocketAddr>,
}

// `trend`
#[derive(Debug, Clone, Args)]
pub struct Trend {
    pub journey: String,
    /// The version (default: the newest that is not a draft).
    #[arg(long)]
    pub version: Option<i64>,
    /// How far back (at most 48h, the minutes kept).
    #[arg(long, default_value = "1h", value_parser = parse_duration_arg)]
    pub since: Duration,
    #[arg(long)]
    pub json: bool,
}

// `channels`
#[derive(Debug, Clone, Args)]
pub struct Channels {
    /// Route actions with this channels file instead of what the
    /// running workers report.
    #[arg(long, value_name = "FILE")]
    pub channels: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

// `check`
#[derive(Debug, Clone, Args)]
pub struct Check {}

// `stores`
#[derive(Debug, Clone, Args)]
pub struct Stores {}

// `grant`
#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("level").required(true).args(["viewer", "operator", "engine"])))]
pub struct Grant {
    /// Reads everything the console and `list` need; changes nothing.
    #[arg(long, value_name = "ROLE")]
    pub viewer: Option<String>,
    /// A person: also applies, publishes, finishes, stops, pauses and
    /// resumes (each audited); writes no participant, message, counter,
    /// minute or A/B figure.
    #[arg(long, value_name = "ROLE")]
    pub operator: Option<String>,
    /// A service login of run, tick, deliver and ingest: moves
    /// participants, messages, counters, minutes and A/B figures;
    /// never alters the audit log or the schema.
    #[arg(long, value_name = "ROLE")]
    pub engine: Option<String>,
}

// `completions`
#[derive(Debug, Clone, Args)]
pub struct Completions {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

// `man`
#[derive(Debug, Clone, Args)]
pub struct Man {}

impl CliCommand {
    /// What a command that writes is called in the read-only refusal;
    /// `None` for commands that only read.
    pub fn writes(&self) -> Option<&'static str> {
        match self {
            CliCommand::Migrate(_) => Some("migrate"),
            CliCommand::Apply(_) => Some("apply"),
            CliCommand::Publish(_) => Some("publish"),
            CliCommand::Ingest(_) => Some("ingest"),
            CliCommand::Tick(_) | CliCommand::Run(_) => Some("running the engine"),
            CliCommand::Deliver(_) => Some("delivering messages"),
            CliCommand::Finish(_) => Some("finish"),
            CliCommand::Stop(_) => Some("stop"),
            CliCommand::Pause(_) => Some("pause"),
            CliCommand::Resume(_) => Some("resume"),
            CliCommand::Grant(_) => Some("grant"),
            CliCommand::Rate(_) => Some("rate"),
            CliCommand::Hold(_) => Some("hold"),
            CliCommand::Release(_) => Some("release"),
            CliCommand::Unschedule(_) => Some("unschedule"),
            CliCommand::Variant(_) => Some("variant"),
            CliCommand::Note(_) => Some("note"),
            CliCommand::Claim(_) => Some("claim"),
            CliCommand::Unclaim(_) => Some("unclaim"),
            CliCommand::Policy(p) if p.require_approval.is_some() || p.expire_after.is_some() => {
                Some("policy")
            }
            CliCommand::Approve(_) => Some("approve"),
            _ => None,
        }
    }

    /// Whether the command loads a store, and so may make a missing SQLite
    /// file.
    pub fn loads_store(&self) -> bool {
        matches!(
            self,
            CliCommand::Migrate(_) | CliCommand::Apply(_) | CliCommand::Ingest(_)
        )
    }
}

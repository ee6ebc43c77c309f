//! The command line: scripts and runbooks call the same library functions
//! as the console.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::domain::abtest::{Arm, verdict};
use crate::domain::definition::{DEFAULT_EXPECTED_PARTICIPANTS, DEFAULT_MIN_PER_VARIANT};
use crate::domain::events::parse_line;
use crate::domain::time::{ago, now_millis, parse_duration, parse_rfc3339, short};
use crate::domain::{Definition, EndKind};
use crate::store::{
    Actor, Error, IngestReport, LineError, Location, OperatorAction, PoolSettings, Store, Target,
    VersionSummary, default_sqlite_path,
};

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
    /// postgres://..., sqlite://PATH, sqlite:PATH or a file path (default:
    /// DATABASE_URL, else a SQLite file in your data directory).
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Operator name written to the audit log (default: the login user).
    #[arg(long, global = true)]
    pub actor: Option<String>,
    /// Look, never change: action keys and commands that write are refused.
    #[arg(long, global = true)]
    pub read_only: bool,
    /// How often the console refreshes its data (500ms, 1s, 2s, 5s).
    #[arg(long, global = true, default_value = "2s", value_parser = parse_interval)]
    pub refresh: Duration,
}

/// A refresh or tick interval: a duration of at least 100ms.
fn parse_interval(s: &str) -> Result<Duration, String> {
    let ms = parse_duration(s)?;
    if ms < 100 {
        return Err(format!(
            "{s:?} is too short: the interval must be at least 100ms"
        ));
    }
    Ok(Duration::from_millis(ms as u64))
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
        /// How often to tick (500ms, 1s, 1m).
        #[arg(long, default_value = "1s", value_parser = parse_interval)]
        interval: Duration,
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
        /// The journey's name.
        #[arg(required_unless_present = "uses_action")]
        journey: Option<String>,
        /// The version to stop (default: the live one).
        #[arg(long, conflicts_with_all = ["all_versions", "uses_action"])]
        version: Option<i64>,
        /// Stop every live or finished version of the journey at once.
        #[arg(long, conflicts_with = "uses_action")]
        all_versions: bool,
        /// Kill switch: stop every version that sends through ACTION.
        #[arg(long, value_name = "ACTION", conflicts_with = "journey")]
        uses_action: Option<String>,
        /// Why, for the audit log.
        #[arg(long)]
        reason: Option<String>,
        /// Do not ask for confirmation (needed without a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// A/B verdict: of a live test as the engine keeps it (JOURNEY), or for
    /// given counts (--arm NAME=CONVERSIONS/PARTICIPANTS).
    Verdict {
        /// The journey whose test to show (its live version by default).
        #[arg(required_unless_present = "arms", conflicts_with = "arms")]
        journey: Option<String>,
        /// The version whose test to show.
        #[arg(long, requires = "journey")]
        version: Option<i64>,
        #[arg(long = "arm", value_name = "NAME=X/N")]
        arms: Vec<String>,
        #[arg(long, default_value_t = DEFAULT_EXPECTED_PARTICIPANTS)]
        expected: u64,
        #[arg(long, default_value_t = DEFAULT_MIN_PER_VARIANT)]
        min_per_variant: u64,
        #[arg(long)]
        json: bool,
    },
    /// Check that every counter equals a recount of the rows.
    Check,
    /// A demo store with live simulated traffic, opened in the console.
    Demo(crate::demo::DemoArgs),
    /// Measure the scale targets on fresh SQLite and PostgreSQL stores.
    Bench(crate::bench::BenchArgs),
    /// Render the console over a simulated demo store into SVG pictures.
    #[command(hide = true)]
    Screenshots {
        #[arg(long, default_value = "screenshots")]
        out: PathBuf,
    },
}

/// Exit status of a refused transition.
pub const EXIT_REFUSED: i32 = 3;

pub fn run(cli: Cli) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("journeyctl: cannot start: {e}");
            return 1;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(()) => 0,
        Err(e) => {
            let (label, code) = match e.downcast_ref::<Error>() {
                Some(Error::Refused(_)) => ("refused", EXIT_REFUSED),
                _ => ("error", 1),
            };
            let text = format!("{e:#}");
            eprintln!("journeyctl: {label}: {}", text.lines().next().unwrap_or(""));
            code
        }
    }
}

pub fn location(global: &Global) -> anyhow::Result<Location> {
    Ok(match &global.database_url {
        Some(url) if !url.trim().is_empty() => Location::parse(url)?,
        _ => Location::Sqlite(default_sqlite_path()),
    })
}

/// Opens the store; brings the schema up to date unless read-only. A
/// missing SQLite file is made only when `loads` (the command loads a store)
/// or for the embedded default; elsewhere it is refused as "no store at".
pub async fn open_store(global: &Global, loads: bool) -> anyhow::Result<Store> {
    let loc = location(global)?;
    let settings = pool_settings(global, loads);
    if global.read_only {
        let store = Store::open(&loc, &settings).await?;
        if !store.schema_is_current().await {
            return Err(Error::Invalid(format!(
                "the store ({}) has no up-to-date journeyctl schema; run `journeyctl migrate` without --read-only first",
                loc.display()
            ))
            .into());
        }
        Ok(store)
    } else {
        Ok(Store::connect_with(&loc, &settings).await?)
    }
}

fn pool_settings(global: &Global, loads: bool) -> PoolSettings {
    let embedded_default = global
        .database_url
        .as_deref()
        .is_none_or(|u| u.trim().is_empty());
    PoolSettings {
        create_if_missing: (loads && !global.read_only) || embedded_default,
        ..PoolSettings::default()
    }
}

/// Whether opening failed only because a PostgreSQL server did not answer
/// (a SQLite file that cannot be opened is bad input, not an outage).
fn is_unreachable(e: &anyhow::Error, location: &Location) -> bool {
    matches!(e.downcast_ref::<Error>(), Some(Error::Unreachable(_)))
        && matches!(location, Location::Postgres(_))
}

fn refuse_read_only(global: &Global, what: &str) -> anyhow::Result<()> {
    if global.read_only {
        return Err(
            Error::ReadOnly(format!("read-only: {what} is not allowed with --read-only")).into(),
        );
    }
    Ok(())
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let g = cli.global.clone();
    let actor = Actor::from_environment(g.actor.clone());
    let Some(command) = cli.command else {
        let store = match open_store(&g, false).await {
            Ok(store) => store,
            // The console opens while the database is away, shows that, and
            // waits for it; bad input still ends here with its reason.
            Err(e) if is_unreachable(&e, &location(&g)?) => {
                tracing::warn!("store unreachable at start: {e:#}");
                Store::open_lazy(&location(&g)?, &pool_settings(&g, false))?
            }
            Err(e) => return Err(e),
        };
        let console = crate::tui::Console {
            read_only: g.read_only,
            refresh: g.refresh,
            banner: None,
            sim_clock: None,
        };
        return crate::tui::run_console(store, actor, console).await;
    };
    match command {
        Command::Verdict {
            journey: None,
            arms,
            expected,
            min_per_variant,
            json,
            ..
        } => {
            return verdict_command(&arms, expected, min_per_variant, json);
        }
        Command::Demo(args) => return crate::demo::run(args, &g, actor).await,
        Command::Screenshots { out } => return crate::demo::screenshots(&out).await,
        Command::Bench(args) => return crate::bench::run(args).await,
        _ => {}
    }
    match &command {
        Command::Migrate => refuse_read_only(&g, "migrate")?,
        Command::Apply { .. } => refuse_read_only(&g, "apply")?,
        Command::Publish { .. } => refuse_read_only(&g, "publish")?,
        Command::Ingest { .. } => refuse_read_only(&g, "ingest")?,
        Command::Tick { .. } | Command::Run { .. } => refuse_read_only(&g, "running the engine")?,
        Command::Finish { .. } => refuse_read_only(&g, "finish")?,
        Command::Stop { .. } => refuse_read_only(&g, "stop")?,
        _ => {}
    }
    // Read the definition before touching the store, so a bad file never
    // waits on a database.
    let definition = match &command {
        Command::Apply { file, .. } => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            Some(
                Definition::from_toml(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?,
            )
        }
        _ => None,
    };
    let loads = matches!(
        command,
        Command::Migrate | Command::Apply { .. } | Command::Ingest { .. }
    );
    let store = open_store(&g, loads).await?;
    let now = now_millis();
    match command {
        Command::Migrate => {
            println!("schema is up to date ({})", store.location().display());
        }
        Command::Apply { publish, .. } => {
            let def = definition.ok_or_else(|| anyhow::anyhow!("no definition"))?;
            let applied = store.apply(&def, &actor, now).await?;
            println!(
                "{} {} v{} (draft)",
                if applied.created {
                    "created"
                } else {
                    "updated"
                },
                applied.journey,
                applied.version
            );
            if publish {
                let n = store.publish(&applied.journey, &actor, now).await?;
                println!("published {} v{n}", applied.journey);
            }
        }
        Command::Publish { journey } => {
            let n = store.publish(&journey, &actor, now).await?;
            println!("published {journey} v{n}");
        }
        Command::Ingest { file, json } => {
            let report = ingest_command(&store, file, now).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                let refused: Vec<String> = report
                    .refused
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect();
                println!(
                    "accepted {}, refused {}{}, invalid {} (entered {}, converted {}, exited {})",
                    report.accepted,
                    report.refused_total(),
                    if refused.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", refused.join(", "))
                    },
                    report.invalid,
                    report.entered,
                    report.converted,
                    report.exited
                );
            }
        }
        Command::Tick { now: at, json } => {
            let at = match at {
                Some(t) => parse_rfc3339(&t).map_err(|e| anyhow::anyhow!("--now: {e}"))?,
                None => now,
            };
            let r = store.tick(at).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!(
                    "ran {} step(s): {} message(s) enqueued, {} participant(s) completed",
                    r.steps, r.messages, r.completed
                );
                for v in r.finished_by_date {
                    println!("finished {v}: entry end date reached");
                }
            }
        }
        Command::Run { interval } => run_engine(&store, interval).await?,
        Command::List { all, json } => {
            let list = store.list(all).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                print!("{}", list_table(&list, now));
            }
        }
        Command::Audit {
            journey,
            limit,
            json,
        } => {
            let entries = store.audit(journey.as_deref(), limit).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&entries)?);
            } else {
                for e in entries {
                    println!(
                        "{}  {:<10} {:<12} {:<8} {} v{}  {} -> {}  active {}{}",
                        e.at,
                        e.actor,
                        e.host,
                        e.action,
                        e.journey,
                        e.version.unwrap_or(0),
                        e.from.as_deref().unwrap_or("-"),
                        e.to.as_deref().unwrap_or("-"),
                        e.affected_active,
                        e.reason.map(|r| format!("  \"{r}\"")).unwrap_or_default()
                    );
                }
            }
        }
        Command::Profile { profile, json } => {
            let entries = store.profile(&profile).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&entries)?);
            } else if entries.is_empty() {
                println!("{profile} has not entered any journey");
            } else {
                for e in entries {
                    println!(
                        "{} v{}: {} at step {}{}{}{}",
                        e.journey,
                        e.version,
                        e.state,
                        e.step,
                        e.variant
                            .map(|v| format!(", variant {v}"))
                            .unwrap_or_default(),
                        if e.converted { ", converted" } else { "" },
                        e.exit_reason
                            .map(|r| format!(", exit {r}"))
                            .unwrap_or_default()
                    );
                }
            }
        }
        Command::Finish {
            journey,
            version,
            reason,
            yes,
        } => {
            let action = OperatorAction {
                kind: EndKind::Finish,
                target: Target::Version { journey, version },
                reason,
            };
            end_command(&store, &action, &actor, yes).await?;
        }
        Command::Stop {
            journey,
            version,
            all_versions,
            uses_action,
            reason,
            yes,
        } => {
            let target = match (uses_action, journey) {
                (Some(action), _) => Target::UsesAction { action },
                (None, Some(journey)) if all_versions => Target::AllVersions { journey },
                (None, Some(journey)) => Target::Version { journey, version },
                (None, None) => anyhow::bail!("name a journey, or use --uses-action ACTION"),
            };
            let action = OperatorAction {
                kind: EndKind::Stop,
                target,
                reason,
            };
            end_command(&store, &action, &actor, yes).await?;
        }
        Command::Verdict {
            journey: Some(journey),
            version,
            json,
            ..
        } => live_verdict(&store, &journey, version, json).await?,
        Command::Check => {
            let diffs = store.verify_counters().await?;
            if diffs.is_empty() {
                println!("every counter equals a recount of the rows");
            } else {
                for d in &diffs {
                    println!("{d}");
                }
                anyhow::bail!(
                    "{} figure(s) differ from a recount of the rows",
                    diffs.len()
                );
            }
        }
        Command::Verdict { journey: None, .. }
        | Command::Demo(_)
        | Command::Screenshots { .. }
        | Command::Bench(_) => {
            unreachable!("handled above")
        }
    }
    Ok(())
}

async fn ingest_command(
    store: &Store,
    file: Option<PathBuf>,
    now: i64,
) -> anyhow::Result<IngestReport> {
    let reader: Box<dyn BufRead> = match &file {
        Some(p) if p.as_os_str() != "-" => Box::new(std::io::BufReader::new(
            std::fs::File::open(p)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))?,
        )),
        _ => Box::new(std::io::BufReader::new(std::io::stdin())),
    };
    let mut report = IngestReport::default();
    let mut batch = Vec::with_capacity(crate::store::INGEST_CHUNK);
    for (i, line) in reader.split(b'\n').enumerate() {
        let n = i + 1;
        let bytes = line.map_err(|e| anyhow::anyhow!("cannot read line {n}: {e}"))?;
        let text = String::from_utf8_lossy(&bytes);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        match parse_line(text, now) {
            Ok(ev) => batch.push(ev),
            Err(error) => {
                eprintln!("line {n}: {error} (skipped)");
                report.invalid += 1;
                report.errors.push(LineError { line: n, error });
            }
        }
        if batch.len() >= crate::store::INGEST_CHUNK {
            report.merge(store.ingest(&batch).await?);
            batch.clear();
        }
    }
    report.merge(store.ingest(&batch).await?);
    Ok(report)
}

async fn run_engine(store: &Store, interval: Duration) -> anyhow::Result<()> {
    eprintln!(
        "journeyctl run: ticking every {} on {} (Ctrl-C to stop)",
        humantime::format_duration(interval),
        store.location().display()
    );
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    // One line per failure would flood the terminal while the store is away.
    let mut errors = crate::logging::RepeatLimiter::new(Duration::from_secs(30));
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                match store.tick(now_millis()).await {
                    Ok(r) => {
                        if let Some(line) = errors.success() {
                            eprintln!("journeyctl run: {line}");
                            tracing::info!("{line}");
                        }
                        if r.steps > 0 || !r.finished_by_date.is_empty() {
                            tracing::info!(steps = r.steps, messages = r.messages, completed = r.completed, "tick");
                        }
                        for v in r.finished_by_date {
                            eprintln!("finished {v}: entry end date reached");
                        }
                    }
                    Err(e) => {
                        // The database may come back: keep going.
                        tracing::warn!("tick failed: {e}");
                        if let Some(line) = errors.failure(&format!("tick failed: {e}"), std::time::Instant::now()) {
                            eprintln!("{line}");
                        }
                    }
                }
            }
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
        }
    }
    Ok(())
}

async fn end_command(
    store: &Store,
    action: &OperatorAction,
    actor: &Actor,
    yes: bool,
) -> anyhow::Result<()> {
    let impact = store.preview(action).await?;
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(Error::Refused(format!(
                "not confirmed: {} needs --yes when there is no terminal to ask on",
                action.describe()
            ))
            .into());
        }
        let mut err = std::io::stderr();
        writeln!(err, "About to {}:", action.describe())?;
        for v in &impact.versions {
            match action.kind {
                EndKind::Finish => writeln!(
                    err,
                    "  {} v{} ({}): no new entries; {} active participant(s) left to drain",
                    v.journey, v.version, v.status, v.active
                )?,
                EndKind::Stop => writeln!(
                    err,
                    "  {} v{} ({}): {} active participant(s) stopped, {} pending message(s) cancelled",
                    v.journey, v.version, v.status, v.active, v.pending
                )?,
            }
        }
        writeln!(err, "This cannot be undone.")?;
        let expected = match (&action.kind, &action.target) {
            (EndKind::Finish, _) => None,
            (EndKind::Stop, Target::UsesAction { action }) => Some(action.clone()),
            (EndKind::Stop, Target::Version { journey, .. } | Target::AllVersions { journey }) => {
                Some(journey.clone())
            }
        };
        match &expected {
            Some(name) => write!(err, "Type {name} to confirm: ")?,
            None => write!(err, "Finish? [y/N] ")?,
        }
        err.flush()?;
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        let answer = answer.trim();
        let ok = match &expected {
            Some(name) => answer == name,
            None => answer.eq_ignore_ascii_case("y") || answer.eq_ignore_ascii_case("yes"),
        };
        if !ok {
            return Err(Error::Refused("not confirmed: nothing was changed".into()).into());
        }
    }
    let outcome = store.execute(action, actor, now_millis()).await?;
    println!("{}", outcome.summary());
    Ok(())
}

fn parse_arm(s: &str) -> anyhow::Result<Arm> {
    let (name, counts) = s.split_once('=').ok_or_else(|| {
        anyhow::anyhow!("--arm {s:?}: expected NAME=CONVERSIONS/PARTICIPANTS, e.g. A=50/1000")
    })?;
    let (x, n) = counts.split_once('/').ok_or_else(|| {
        anyhow::anyhow!("--arm {s:?}: expected NAME=CONVERSIONS/PARTICIPANTS, e.g. A=50/1000")
    })?;
    let x: u64 = x
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("--arm {s:?}: {x:?} is not a whole number"))?;
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("--arm {s:?}: {n:?} is not a whole number"))?;
    if name.trim().is_empty() {
        anyhow::bail!("--arm {s:?}: the variant needs a name");
    }
    if x > n {
        anyhow::bail!("--arm {s:?}: {x} conversions is more than {n} participants");
    }
    Ok(Arm::new(name.trim(), x, n))
}

/// The verdict of a live test as the engine keeps it: the running figures,
/// or once decided the decision's own.
async fn live_verdict(
    store: &Store,
    journey: &str,
    version: Option<i64>,
    json: bool,
) -> anyhow::Result<()> {
    let list = store.list(true).await?;
    let mine: Vec<&VersionSummary> = list.iter().filter(|v| v.journey == journey).collect();
    if mine.is_empty() {
        return Err(Error::Invalid(format!("no journey named {journey}")).into());
    }
    let chosen = match version {
        Some(n) => mine.iter().find(|v| v.version == n).copied(),
        None => mine
            .iter()
            .find(|v| v.status == crate::domain::VersionStatus::Live)
            .or(mine.first())
            .copied(),
    }
    .ok_or_else(|| Error::Invalid(format!("{journey} has no version {}", version.unwrap_or(0))))?;
    let ab = chosen
        .ab
        .as_ref()
        .ok_or_else(|| Error::Invalid(format!("{journey} v{} has no A/B test", chosen.version)))?;
    if json {
        println!("{}", serde_json::to_string_pretty(ab)?);
        return Ok(());
    }
    println!("{journey} v{} test {}", chosen.version, ab.test);
    for v in &ab.variants {
        let rate = (v.assigned > 0).then(|| v.converted as f64 / v.assigned as f64);
        println!(
            "{:<8} {:>8}/{:<8} {}",
            v.name,
            v.converted,
            v.assigned,
            rate.map_or("-".to_string(), |r| format!("{:.2}%", r * 100.0))
        );
    }
    let basis = match &ab.decided_at {
        Some(t) => format!("at the decision, {t}"),
        None => format!("running over {} looks", ab.looks),
    };
    print_pairs(&ab.pairs, &format!(" ({basis})"));
    println!(
        "verdict: {}{}",
        ab.verdict.as_str(),
        ab.winner
            .as_ref()
            .map(|w| format!(" ({w})"))
            .unwrap_or_default()
    );
    Ok(())
}

fn print_pairs(pairs: &[crate::domain::abtest::PairResult], basis: &str) {
    for p in pairs {
        let ci = match (p.cs_lower, p.cs_upper) {
            (Some(l), Some(u)) => format!("[{l:+.6}, {u:+.6}]"),
            _ => "[unbounded]".to_string(),
        };
        println!(
            "{} vs {}: p = {:.6}, {} - {} in {ci}{basis}",
            p.a, p.b, p.p_value, p.b, p.a
        );
    }
}

fn verdict_command(arms: &[String], expected: u64, min: u64, json: bool) -> anyhow::Result<()> {
    let arms = arms
        .iter()
        .map(|a| parse_arm(a))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if arms.len() < 2 {
        anyhow::bail!("a verdict needs a JOURNEY, or at least two --arm values");
    }
    for (i, a) in arms.iter().enumerate() {
        if arms[..i].iter().any(|b| b.name == a.name) {
            anyhow::bail!("variant {} is given twice", a.name);
        }
    }
    if expected == 0 {
        anyhow::bail!("--expected must be at least 1");
    }
    let v = verdict(&arms, expected, min);
    if json {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    for a in &arms {
        println!(
            "{:<8} {:>8}/{:<8} {}",
            a.name,
            a.converted,
            a.participants,
            a.rate()
                .map_or("-".to_string(), |r| format!("{:.2}%", r * 100.0))
        );
    }
    print_pairs(&v.pairs, "");
    println!(
        "verdict: {}{}",
        v.verdict.as_str(),
        v.winner.map(|w| format!(" ({w})")).unwrap_or_default()
    );
    Ok(())
}

pub fn list_table(list: &[VersionSummary], now: i64) -> String {
    let mut out = format!(
        "{:<24} {:>3} {:<22} {:>8} {:>7} {:>9} {:>7} {:>7} {:>6} {:<16} {:<16} {}\n",
        "JOURNEY",
        "VER",
        "STATUS",
        "ENTERED",
        "ACTIVE",
        "COMPLETED",
        "EXITED",
        "STOPPED",
        "CONV",
        "A/B",
        "ENTRY END",
        "LAST ACTIVITY"
    );
    for v in list {
        let ab = v.ab.as_ref().map_or("-".to_string(), |a| match &a.winner {
            Some(w) => format!("winner {w}"),
            None => a.verdict.as_str().to_string(),
        });
        out.push_str(&format!(
            "{:<24} {:>3} {:<22} {:>8} {:>7} {:>9} {:>7} {:>7} {:>6} {:<16} {:<16} {}\n",
            v.journey,
            v.version,
            v.status_label(),
            v.counts.entered,
            v.counts.active,
            v.counts.completed,
            v.counts.exited,
            v.counts.stopped,
            v.conversion_rate
                .map_or("-".to_string(), |r| format!("{:.1}%", r * 100.0)),
            ab,
            v.entry_end_ms.map_or("-".to_string(), short),
            v.last_activity_ms.map_or("-".to_string(), |t| ago(now, t)),
        ));
    }
    out
}

//! The command line: scripts and runbooks call the same library functions
//! as the console. `args` holds the words; each command is one function.

mod args;
pub mod config;
mod deliver;
mod docs;
mod end;
mod engine;
mod ingest;
mod progress;
pub mod table;
mod trend;
mod verdict;
mod watch;

pub use args::{BenchArgs, Cli, Command, DemoArgs, Global};

use crate::domain::Definition;
use crate::domain::time::now_millis;
use crate::store::{Actor, Error, Grant, Location, PoolSettings, Store, default_sqlite_path};

/// Exit status of a refused transition.
pub const EXIT_REFUSED: i32 = 3;

/// Exit status of an `ingest` that skipped invalid lines (the rest went in).
pub const EXIT_SOME_INVALID: i32 = 4;

/// Runs a command of the CLI (the tools are run by `main`); the exit status.
pub fn run(cli: Cli) -> i32 {
    block_on(dispatch(cli))
}

/// Runs `work` on a two-thread runtime and turns its outcome into an exit
/// status: 0, 3 for a refused transition, 1 for anything else, with the
/// reason in one line on standard error.
pub fn block_on(work: impl Future<Output = anyhow::Result<()>>) -> i32 {
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
    match runtime.block_on(work) {
        Ok(()) => 0,
        Err(e) => {
            let (label, code) = exit_status(&e);
            let text = format!("{e:#}");
            use std::io::Write as _;
            // Not `eprintln!`: with the terminal gone (a hang-up), writing
            // the error fails, and that must not turn into a panic.
            let _ = writeln!(
                std::io::stderr(),
                "journeyctl: {label}: {}",
                crate::present::escaped(text.lines().next().unwrap_or(""))
            );
            code
        }
    }
}

/// The exit status of a failed command, from the error's type: 3 for a
/// refusal (the rules, a read-only session, no confirmation), 4 for an
/// ingest that skipped lines, 1 for anything else.
pub fn exit_status(e: &anyhow::Error) -> (&'static str, i32) {
    if e.downcast_ref::<Error>().is_some_and(Error::is_refusal)
        || e.downcast_ref::<crate::domain::NotConfirmed>().is_some()
    {
        ("refused", EXIT_REFUSED)
    } else if e.downcast_ref::<ingest::SomeInvalid>().is_some() {
        ("warning", EXIT_SOME_INVALID)
    } else {
        ("error", 1)
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

/// Whether `migrate` is about to create the store: no SQLite file yet, or
/// an empty PostgreSQL schema.
async fn store_is_missing(global: &Global) -> anyhow::Result<bool> {
    Ok(match location(global)? {
        Location::Sqlite(path) => !path.exists(),
        loc @ Location::Postgres(_) => {
            let store = Store::open(&loc, &pool_settings(global, true)).await?;
            let empty = store.is_empty_schema().await?;
            store.close().await;
            empty
        }
    })
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
    matches!(e.downcast_ref::<Error>(), Some(Error::Unreachable { .. }))
        && matches!(location, Location::Postgres(_))
}

fn refuse_read_only(global: &Global, what: &str) -> anyhow::Result<()> {
    if global.read_only {
        return Err(Error::ReadOnly(crate::store::ReadOnly::Session {
            what: format!("{what} is not allowed"),
        })
        .into());
    }
    Ok(())
}

/// The console: opens while a PostgreSQL server is away (and waits for it);
/// bad input still ends here with its reason.
async fn console(g: &Global, actor: Actor, named: Option<config::Named>) -> anyhow::Result<()> {
    let store = match open_store(g, false).await {
        Ok(store) => store,
        Err(e) if is_unreachable(&e, &location(g)?) => {
            tracing::warn!("store unreachable at start: {e:#}");
            Store::open_lazy(&location(g)?, &pool_settings(g, false))?
        }
        Err(e) => return Err(e),
    };
    let console = crate::tui::Console {
        store_name: named.as_ref().map(|n| n.name.clone()),
        store_colour: named.and_then(|n| n.colour),
        read_only: g.read_only,
        refresh: g.refresh,
        poll: g.poll,
        banner: None,
        sim_clock: None,
        keys: config::console_keys()?,
    };
    crate::tui::run_console(store, actor, console).await
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let mut g = cli.global;
    let actor = Actor::from_environment(g.actor.clone());
    actor.refuse_control()?;
    config::warn_password_in_arguments();
    match &cli.command {
        Some(Command::Completions { shell }) => return docs::completions(*shell),
        Some(Command::Man) => return docs::man_page(),
        Some(Command::Stores) => return config::stores(),
        _ => {}
    }
    let named = config::choose_store(&mut g)?;
    let Some(command) = cli.command else {
        return console(&g, actor, named).await;
    };
    if let Command::Verdict {
        journey: None,
        arms,
        srm,
        expected,
        min_per_variant,
        json,
        ..
    } = &command
    {
        if !srm.is_empty() {
            return verdict::srm_command(srm, *json);
        }
        return verdict::verdict_command(arms, *expected, *min_per_variant, *json);
    }
    if let Some(what) = command.writes() {
        refuse_read_only(&g, what)?;
    }
    // Read the definition before touching the store, so a bad file never
    // waits on a database.
    let definition = match &command {
        Command::Apply { file, .. } => Some(read_definition(file)?),
        _ => None,
    };
    let channels = match &command {
        Command::Deliver { channels, .. }
        | Command::Channels {
            channels: Some(channels),
            ..
        } => Some(deliver::read_channels(channels)?),
        _ => None,
    };
    let created = match &command {
        Command::Migrate => store_is_missing(&g).await?,
        _ => false,
    };
    let store = open_store(&g, command.loads_store()).await?;
    if created {
        println!("created a journeyctl store: {}", store.location().display());
        if let Some((shards, nodes)) = store.cluster_layout().await? {
            println!(
                "laid out over the Citus cluster: participants and messages in {shards} shards on {nodes} nodes"
            );
        }
        return Ok(());
    }
    let loaded = Loaded {
        definition,
        channels,
        lock_timeout: g.lock_timeout,
    };
    store_command(&store, command, &actor, loaded).await
}

/// What a command read from files before the store was opened.
struct Loaded {
    definition: Option<Definition>,
    channels: Option<crate::delivery::Channels>,
    /// `--lock-timeout`, for an action.
    lock_timeout: Option<std::time::Duration>,
}

async fn store_command(
    store: &Store,
    command: Command,
    actor: &Actor,
    loaded: Loaded,
) -> anyhow::Result<()> {
    let Loaded {
        definition,
        channels,
        lock_timeout,
    } = loaded;
    let now = now_millis();
    match command {
        Command::Migrate => println!("schema is up to date ({})", store.location().display()),
        Command::Apply { publish, .. } => {
            let def = definition.ok_or_else(|| anyhow::anyhow!("no definition"))?;
            apply(store, &def, publish, actor, now).await?
        }
        Command::Publish { journey } => {
            let n = store.publish(&journey, actor, now).await?;
            println!("published {journey} v{n}");
        }
        Command::Ingest { file, json } => ingest::ingest(store, file, json, now).await?,
        Command::Tick { now: at, json } => engine::tick(store, at, json, now).await?,
        Command::Run { interval, metrics } => engine::run(store, interval, metrics).await?,
        Command::List { all, json } => list(store, all, json, now).await?,
        Command::Audit {
            journey,
            limit,
            json,
        } => audit(store, journey.as_deref(), limit, json).await?,
        Command::Profile { profile, json } => profile_of(store, &profile, json).await?,
        Command::Watch { journey, json } => watch::watch(store, journey.as_deref(), json).await?,
        command @ (Command::Finish { .. }
        | Command::Stop { .. }
        | Command::Pause { .. }
        | Command::Resume { .. }) => {
            let asked = end::action_of(command)?;
            end::end_command(store, asked, actor, lock_timeout).await?
        }
        Command::Verdict {
            journey,
            version,
            json,
            ..
        } => {
            let journey = journey.unwrap_or_default();
            verdict::live_verdict(store, &journey, version, json).await?
        }
        command @ Command::Deliver { .. } => {
            let channels = channels.ok_or_else(|| anyhow::anyhow!("no channels file"))?;
            deliver::deliver_command(store, &channels, command).await?
        }
        Command::Channels { json, .. } => deliver::channels(store, channels.as_ref(), json).await?,
        Command::Check => check(store).await?,
        Command::Trend {
            journey,
            version,
            since,
            json,
        } => trend::trend(store, &journey, version, since, json, now).await?,
        Command::Grant {
            viewer,
            operator,
            engine,
        } => grant(store, viewer, operator, engine).await?,
        Command::Demo(_)
        | Command::Bench(_)
        | Command::Screenshots { .. }
        | Command::Completions { .. }
        | Command::Man
        | Command::Stores => {
            anyhow::bail!("the tools (demo, bench, screenshots) are run by the binary")
        }
    }
    Ok(())
}

fn read_definition(file: &std::path::Path) -> anyhow::Result<Definition> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    Definition::from_toml(&text).map_err(|e| anyhow::anyhow!("{}", at_line(file, &e)))
}

async fn apply(
    store: &Store,
    def: &Definition,
    publish: bool,
    actor: &Actor,
    now: i64,
) -> anyhow::Result<()> {
    let applied = store.apply(def, actor, now).await?;
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
        let n = store.publish(&applied.journey, actor, now).await?;
        println!("published {} v{n}", applied.journey);
    }
    Ok(())
}

async fn list(store: &Store, all: bool, json: bool, now: i64) -> anyhow::Result<()> {
    let list = store.list(all).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        print!("{}", table::list_table(&list, now));
    }
    Ok(())
}

async fn grant(
    store: &Store,
    viewer: Option<String>,
    operator: Option<String>,
    engine: Option<String>,
) -> anyhow::Result<()> {
    let (role, level) = match (viewer, operator, engine) {
        (Some(role), None, None) => (role, Grant::Viewer),
        (None, Some(role), None) => (role, Grant::Operator),
        (None, None, Some(role)) => (role, Grant::Engine),
        _ => anyhow::bail!("say one of --viewer ROLE, --operator ROLE or --engine ROLE"),
    };
    let done = store.grant(&role, level).await?;
    println!(
        "{} is now {} {} of schema {} ({} tables)",
        done.role,
        if matches!(level, Grant::Viewer) {
            "a"
        } else {
            "an"
        },
        level.as_str(),
        done.schema,
        done.tables
    );
    Ok(())
}

async fn audit(store: &Store, journey: Option<&str>, limit: i64, json: bool) -> anyhow::Result<()> {
    let entries = store.audit(journey, limit).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
    } else {
        print!("{}", table::audit_table(&entries));
    }
    Ok(())
}

async fn profile_of(store: &Store, profile: &str, json: bool) -> anyhow::Result<()> {
    let entries = store.profile(profile).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
    } else if entries.is_empty() {
        println!("{profile} has not entered any journey");
    } else {
        for e in entries {
            let line = format!(
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
            println!("{}", crate::present::escaped(&line));
        }
    }
    Ok(())
}

async fn check(store: &Store) -> anyhow::Result<()> {
    let diffs = store.verify_counters().await?;
    if diffs.is_empty() {
        println!("every counter equals a recount of the rows");
        return Ok(());
    }
    for d in &diffs {
        println!("{d}");
    }
    anyhow::bail!(
        "{} figure(s) differ from a recount of the rows",
        diffs.len()
    )
}

/// With `--metrics ADDR`: the endpoint, serving from now on.
pub(super) async fn serve_metrics(
    store: &Store,
    addr: Option<std::net::SocketAddr>,
) -> anyhow::Result<Option<std::sync::Arc<crate::metrics::Metrics>>> {
    let Some(addr) = addr else { return Ok(None) };
    let metrics = std::sync::Arc::new(crate::metrics::Metrics::default());
    let bound = crate::metrics::serve(addr, metrics.clone(), store.clone()).await?;
    eprintln!("journeyctl: metrics on http://{bound}/metrics");
    Ok(Some(metrics))
}

/// `FILE:LINE: what` from a definition's `line N: what` or the parser's
/// `TOML parse error at line N, column C: what`; else `FILE: what`.
fn at_line(file: &std::path::Path, e: &str) -> String {
    let numbered = |rest: &str| -> Option<(usize, String)> {
        let (n, what) = rest.split_once([':', ','])?;
        let what = what.split_once(": ").map_or(what, |(col, w)| {
            if col.trim_start().starts_with("column") {
                w
            } else {
                what
            }
        });
        Some((n.trim().parse().ok()?, what.trim().to_string()))
    };
    let found = e
        .strip_prefix("line ")
        .or_else(|| e.strip_prefix("TOML parse error at line "))
        .and_then(numbered);
    match found {
        Some((line, what)) => format!("{}:{line}: {what}", file.display()),
        None => format!("{}: {e}", file.display()),
    }
}

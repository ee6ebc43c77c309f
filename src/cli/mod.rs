//! The command line: scripts and runbooks call the same library functions
//! as the console. `args` holds the words; each command is one struct with
//! its own `run` (`commands.rs`).

mod alerts;
mod approve;
mod args;
mod commands;
pub mod config;
mod deliver;
mod docs;
mod end;
mod engine;
mod forecast;
mod hold;
mod ingest;
mod progress;
mod rate;
mod schedule;
pub mod table;
mod team;
mod tool_args;
mod trend;
mod values;
mod variant;
mod verdict;
mod watch;

pub use args::{Cli, CliCommand, Command, Global};
pub use tool_args::{BenchArgs, DemoArgs};

use crate::domain::time::now_millis;
use crate::store::{Actor, Error, Location, PoolSettings, Store, default_sqlite_path};

/// Exit status of a refused transition.
pub const EXIT_REFUSED: i32 = 3;

/// Exit status of an `ingest` that skipped invalid lines (the rest went in).
pub const EXIT_SOME_INVALID: i32 = 4;

/// Runs a command of the CLI, or the console without one (the tools are
/// run by `main`); the exit status.
pub fn run(global: Global, command: Option<CliCommand>) -> i32 {
    block_on(dispatch(global, command))
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
        // Four eyes: the action became a request, which is what was asked.
        Err(e) if matches!(e.downcast_ref::<Error>(), Some(Error::Requested(_))) => {
            use std::io::Write as _;
            let _ = writeln!(std::io::stdout(), "{}", error_line(&e));
            0
        }
        Err(e) => {
            let (label, code) = exit_status(&e);
            use std::io::Write as _;
            // Not `eprintln!`: with the terminal gone (a hang-up), writing
            // the error fails, and that must not turn into a panic.
            let _ = writeln!(
                std::io::stderr(),
                "journeyctl: {label}: {}",
                crate::present::escaped(&error_line(&e))
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
                "the store ({}) has no up-to-date journeyctl schema; run `journeyctl migrate` first in a session that may write (no --read-only; --write where the config file marks the store read_only)",
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

async fn dispatch(global: Global, command: Option<CliCommand>) -> anyhow::Result<()> {
    let mut g = global;
    let actor = Actor::from_environment(g.actor.clone());
    actor.refuse_control()?;
    config::warn_password_in_arguments();
    // Completions, the manual and the list of stores read no store: a
    // config file that names a bad one does not stop them.
    let named = match &command {
        Some(CliCommand::Completions(_) | CliCommand::Man(_) | CliCommand::Stores(_)) => None,
        _ => config::choose_store(&mut g)?,
    };
    let Some(command) = command else {
        return console(&g, actor, named).await;
    };
    if let Some(what) = command.writes() {
        refuse_read_only(&g, what)?;
    }
    let store_name = match &named {
        Some(n) => n.name.clone(),
        None => location(&g).map(|l| l.name()).unwrap_or_default(),
    };
    let shown = location(&g).map(|l| l.display()).ok();
    let cx = commands::Cx {
        global: g,
        actor,
        now: now_millis(),
        store_name,
    };
    command.run(&cx).await.map_err(|e| match shown {
        Some(store) if names_the_store(&e) => e.context(InStore(store)),
        _ => e,
    })
}

/// The store a refusal or a missing journey was met in: said after the
/// reason, so an operator who meant another store sees it at once.
#[derive(Debug)]
pub struct InStore(pub String);

impl std::fmt::Display for InStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "store {}", self.0)
    }
}

/// Whether an error is about what the store holds (a refusal, a journey
/// or version it does not have), so that naming the store helps.
fn names_the_store(e: &anyhow::Error) -> bool {
    matches!(
        e.downcast_ref::<Error>(),
        Some(Error::Refused(_) | Error::UnknownJourney(_) | Error::NoSuchVersion { .. })
    )
}

/// An error's line: its reason, and the store it was met in where known
/// (`...: cannot pause: no version ... (store sqlite /srv/j.db)`).
fn error_line(e: &anyhow::Error) -> String {
    let store = e.downcast_ref::<InStore>();
    // The contexts down to the store's error, which says it all in our
    // words: the driver's text below it (`error returned from database:
    // ... at line 3655`) is never repeated after it.
    let mut parts = Vec::new();
    let said = store.map(|s| s.to_string());
    for cause in e.chain() {
        let text = cause.to_string();
        if said.as_ref() == Some(&text) {
            continue;
        }
        parts.push(text);
        if cause.is::<Error>() {
            break;
        }
    }
    let reason = parts.join(": ");
    let first = reason.lines().next().unwrap_or("").to_string();
    match store {
        Some(s) => format!("{first} ({s})"),
        None => first,
    }
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

//! The live figures (`bench --live-only`): how long after a stop returns
//! in this process a second console, the real binary in tmux, draws it
//! (20 stops, median and p95), and what an idle console costs when it
//! watches for changes against when it polls every 2 s: CPU, and its
//! fetches from the store per minute (counted in its own log).

use std::time::{Duration, Instant};

use crate::domain::ActionKind;
use crate::domain::time::now_millis;
use crate::store::{Actor, OperatorAction, Store, Target};

const STOPS: usize = 20;

#[derive(Debug, Default, Clone)]
pub(super) struct LiveFigures {
    pub median_ms: f64,
    pub p95_ms: f64,
    /// (CPU % of a core, fetches a minute): watching, polling.
    pub idle_live: (f64, f64),
    pub idle_poll: (f64, f64),
}

/// A console in tmux, and its log file (the fetches are counted there).
struct Console {
    session: super::tmux::Session,
    log: std::path::PathBuf,
}

impl Console {
    fn start(url: &str, poll: bool, dir: &std::path::Path) -> anyhow::Result<Console> {
        let socket = format!("jctl-live-{}-{}", std::process::id(), u8::from(poll));
        let state = dir.join(format!("state-{socket}"));
        let exe = std::env::current_exe()?;
        let cmd = format!(
            "DATABASE_URL='{url}' XDG_STATE_HOME='{}' JOURNEYCTL_LOG=debug \
             exec {} --read-only --refresh 2s{}",
            state.display(),
            exe.display(),
            if poll { " --poll" } else { "" }
        );
        Ok(Console {
            session: super::tmux::Session::start(socket, &cmd, 120, 40)?,
            log: state.join("journeyctl").join("journeyctl.log"),
        })
    }

    /// Fetches it made so far.
    fn fetches(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .map(|t| t.matches("data fetched in").count())
            .unwrap_or(0)
    }
}

pub(super) async fn live_on(
    dir: &std::path::Path,
    postgres: Option<&str>,
) -> anyhow::Result<LiveFigures> {
    let label = if postgres.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    eprintln!("[{label}] live: {STOPS} stops seen by another console, and an idle console");
    let (store, url) = match postgres {
        Some(server) => {
            let store =
                crate::store::scratch::fresh_schema(server, "journeyctl_bench_live").await?;
            let url = crate::store::scratch::url_in_schema(server, "journeyctl_bench_live");
            (store, url)
        }
        None => {
            let path = super::sqlite_path(dir, "live");
            let store = crate::store::scratch::fresh_sqlite(&path).await?;
            (store, path.display().to_string())
        }
    };
    let f = measure(&store, &url, dir).await;
    store.close().await;
    if let Some(server) = postgres {
        let _ = crate::store::scratch::drop_schema(server, "journeyctl_bench_live").await;
    }
    f
}

async fn measure(store: &Store, url: &str, dir: &std::path::Path) -> anyhow::Result<LiveFigures> {
    let actor = Actor::new("bench", "bench");
    let names: Vec<String> = (0..STOPS).map(|i| format!("live-{i:02}")).collect();
    for name in &names {
        let def = crate::domain::Definition::from_toml(&format!(
            "name = \"{name}\"\n[[steps]]\nkind = \"wait\"\nduration = \"1d\"\n"
        ))
        .map_err(anyhow::Error::msg)?;
        store.apply(&def, &actor, now_millis()).await?;
        store.publish(name, &actor, now_millis()).await?;
    }
    let console = Console::start(url, false, dir)?;
    shown(&console.session, "● live")?;
    shown(&console.session, "live-19")?;
    let mut took = Vec::with_capacity(STOPS);
    for name in &names {
        let stop = OperatorAction {
            kind: ActionKind::Stop,
            target: Target::Version {
                journey: name.clone(),
                version: None,
            },
            reason: Some("bench".into()),
        };
        store.execute(&stop, &actor, now_millis()).await?;
        let done = Instant::now();
        // A stopped version leaves the console's live list.
        while console.session.screen().contains(name.as_str()) {
            if done.elapsed() > Duration::from_secs(10) {
                anyhow::bail!("the console never drew the stop of {name}");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        took.push(done.elapsed().as_secs_f64() * 1000.0);
    }
    let idle_live = idle(&console).await?;
    drop(console);
    let polling = Console::start(url, true, dir)?;
    shown(&polling.session, "⟳ polling")?;
    let idle_poll = idle(&polling).await?;
    took.sort_by(f64::total_cmp);
    Ok(LiveFigures {
        median_ms: took[took.len() / 2],
        p95_ms: took[(took.len() * 95).div_ceil(100) - 1],
        idle_live,
        idle_poll,
    })
}

/// An idle console's CPU (% of a core) and fetches a minute over 150 s
/// (longer than a live console's 2 minutes between safety fetches)
/// with nothing changing.
async fn idle(console: &Console) -> anyhow::Result<(f64, f64)> {
    const SECONDS: u64 = 150;
    std::thread::sleep(Duration::from_secs(3));
    let pid = console.session.pid()?;
    let (cpu0, fetches0) = (super::cpu_seconds(&pid)?, console.fetches());
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs(SECONDS)).await;
    let (cpu1, fetches1) = (super::cpu_seconds(&pid)?, console.fetches());
    let wall = start.elapsed().as_secs_f64();
    Ok((
        (cpu1 - cpu0) / wall * 100.0,
        (fetches1 - fetches0) as f64 * 60.0 / wall,
    ))
}

/// The table.
pub(super) fn print(sqlite: &LiveFigures, postgres: Option<&LiveFigures>) {
    let col = |f: Option<&LiveFigures>, cell: &dyn Fn(&LiveFigures) -> String| {
        f.map_or("skipped".to_string(), cell)
    };
    println!("| live changes | target | SQLite | PostgreSQL |");
    println!("|---|---|---|---|");
    let latency = |f: &LiveFigures| format!("median {:.0} ms, p95 {:.0} ms", f.median_ms, f.p95_ms);
    println!(
        "| stop returned → drawn by another console in tmux, {STOPS} stops | p95 <= 300 ms | {} | {} |",
        latency(sqlite),
        col(postgres, &latency)
    );
    let idle = |f: &LiveFigures| {
        format!(
            "{:.3}% CPU, {:.1} fetches/min (polling at 2s: {:.3}%, {:.1} fetches/min)",
            f.idle_live.0, f.idle_live.1, f.idle_poll.0, f.idle_poll.1
        )
    };
    println!(
        "| idle console watching vs polling every 2s | <= 1/10 of polling | {} | {} |",
        idle(sqlite),
        col(postgres, &idle)
    );
}

pub(super) async fn run_live(
    args: &super::BenchConfig,
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let sqlite = live_on(dir, None).await?;
    let postgres = match &args.postgres {
        Some(url) => Some(live_on(dir, Some(url)).await?),
        None => None,
    };
    let _ = std::fs::remove_dir_all(dir);
    print(&sqlite, postgres.as_ref());
    Ok(())
}

/// Waits (up to 20 s) until the console in `session` shows `what`.
fn shown(session: &super::tmux::Session, what: &str) -> anyhow::Result<()> {
    session
        .wait_for(what, Duration::from_secs(20), Duration::from_millis(20))
        .map(drop)
        .map_err(|_| anyhow::anyhow!("the console never showed {what:?}"))
}

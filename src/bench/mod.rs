//! `journeyctl bench`: builds its own stores and prints every figure of the
//! scale targets as one table, SQLite and PostgreSQL side by side. Figures,
//! not assertions: a busy machine changes them, never the test suite.

mod brakes;
mod citus;
mod delivery;
mod draw;
mod feed;
mod levers;
mod live;
mod operators;
mod side;
mod stops;
mod table;
pub mod tmux;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::domain::events::{Event, TimedEvent};
use crate::domain::time::parse_rfc3339;
use crate::domain::{ActionKind, Definition};
use crate::store::{Actor, Location, OperatorAction, Store, Target, scratch};

/// What the bench measures; the command line fills it in.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Participants in the large store.
    pub participants: u64,
    /// Journeys in each store.
    pub journeys: u64,
    /// PostgreSQL server for the PostgreSQL column; the bench makes and
    /// drops its own schemas there.
    pub postgres: Option<String>,
    /// Citus coordinator for the Citus column (the store's figures only).
    pub citus: Option<String>,
    /// Only the Citus column.
    pub citus_only: bool,
    /// No engine tick over the large store.
    pub no_tick: bool,
    /// Skip the console measurements (they need tmux).
    pub no_console: bool,
    /// Seconds the idle console is watched.
    pub idle_seconds: u64,
    /// Only the stops under an engine and two delivery workers.
    pub stops_only: bool,
    /// Only the store-wide brakes under an engine and two delivery workers.
    pub brakes_only: bool,
    /// Only the live figures (a stop seen by another console; an idle one).
    pub live_only: bool,
    /// Only the incident levers (a rate changed live).
    pub levers_only: bool,
    /// Only the feed: `journeyctl ingest` against a bare `COPY`, and on a
    /// cluster against one node.
    pub feed_only: bool,
    /// Entry events in the feed.
    pub feed_events: u64,
}

#[derive(Debug, Default, Clone)]
struct Figures {
    list_small_ms: f64,
    list_big_ms: f64,
    stop_small_ms: f64,
    stop_big_ms: f64,
    pause_small_ms: f64,
    pause_big_ms: f64,
    ingest_per_s: f64,
    tick_steps_per_s: f64,
    console: Option<ConsoleFigures>,
    delivery: delivery::DeliveryFigures,
    rate: delivery::RateFigures,
    side: side::SideFigures,
    stops: stops::StopFigures,
    exact: bool,
    /// On a cluster: where the large store's rows sit.
    nodes: Vec<crate::store::NodeRows>,
    /// `journeyctl ingest` of a feed, against its peer.
    feed: Option<feed::FeedFigures>,
}

#[derive(Debug, Default, Clone)]
struct ConsoleFigures {
    cpu_pct: f64,
    bytes_per_s: f64,
    rss_mb: f64,
}

/// Participants of the side-by-side figures (25 steps each).
const SIDE_PARTICIPANTS: u64 = 20_000;

pub(super) const T0: &str = "2026-11-21T10:00:00Z";

fn definition(name: &str) -> Definition {
    let toml = format!(
        "name = \"{name}\"\ngoal = \"purchase\"\n[[steps]]\nkind = \"message\"\naction = \"email\"\n\
         [[steps]]\nkind = \"wait\"\nduration = \"1d\"\n[[steps]]\nkind = \"message\"\naction = \"sms\"\n"
    );
    Definition::from_toml(&toml).unwrap_or_else(|e| panic!("bench definition: {e}"))
}

/// Journeys `j-000`..; `big-stop` holds half the participants, five
/// `small-stop-N` hold 500 each when the store is large enough.
fn layout(participants: u64, journeys: u64) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut left = participants;
    if participants >= 10_000 {
        out.push(("big-stop".to_string(), participants / 2));
        left -= participants / 2;
        for k in 0..5 {
            out.push((format!("small-stop-{k}"), 500));
            left -= 500;
        }
    }
    let rest = journeys.saturating_sub(out.len() as u64).max(1);
    for k in 0..rest {
        let n = left / rest + u64::from(k < left % rest);
        out.push((format!("j-{k:03}"), n));
    }
    out
}

pub(super) async fn build(store: &Store, plan: &[(String, u64)]) -> anyhow::Result<(f64, u64)> {
    let actor = Actor::new("bench", crate::store::this_host());
    let t0 = parse_rfc3339(T0).map_err(anyhow::Error::msg)?;
    for (name, _) in plan {
        let def = definition(name);
        store.apply(&def, &actor, t0).await?;
        store.publish(name, &actor, t0).await?;
    }
    // Entries interleaved across journeys, as a real feed sends them.
    let total: u64 = plan.iter().map(|(_, n)| n).sum();
    let mut cursors: Vec<u64> = vec![0; plan.len()];
    let mut events = Vec::with_capacity(50_000);
    let mut done = 0u64;
    let mut elapsed = Duration::ZERO;
    while done < total {
        events.clear();
        while events.len() < 50_000 && done + (events.len() as u64) < total {
            for (k, (name, n)) in plan.iter().enumerate() {
                if cursors[k] < *n && events.len() < 50_000 {
                    events.push(TimedEvent {
                        event: Event::Enter {
                            journey: name.clone(),
                            profile: format!("{name}-{}", cursors[k]),
                        },
                        at: t0,
                    });
                    cursors[k] += 1;
                }
            }
        }
        let start = Instant::now();
        let r = store.ingest(&events).await?;
        elapsed += start.elapsed();
        if r.entered != events.len() as u64 {
            anyhow::bail!("bench ingest refused entries: {:?}", r.refused);
        }
        done += events.len() as u64;
        eprint!("\r  ingest {done}/{total}");
    }
    eprintln!();
    Ok((total as f64 / elapsed.as_secs_f64().max(1e-9), total))
}

/// The value at `p` (0 to 1) of sorted figures.
pub(super) fn percentile(sorted: &[f64], p: f64) -> f64 {
    let k = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[k.min(sorted.len() - 1)]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// `list --json`'s work (query and JSON) on both stores, interleaved so
/// that both see the same machine; medians in milliseconds.
async fn time_lists(small: &Store, big: &Store) -> anyhow::Result<(f64, f64)> {
    let mut a = Vec::new();
    let mut b = Vec::new();
    for round in 0..80 {
        for (store, out) in [(small, &mut a), (big, &mut b)] {
            let start = Instant::now();
            let list = store.list(false).await?;
            let json = serde_json::to_string(&list)?;
            std::hint::black_box(json);
            if round >= 10 {
                out.push(start.elapsed().as_secs_f64() * 1000.0);
            }
        }
    }
    Ok((median(a), median(b)))
}

async fn time_stop(store: &Store, journey: &str) -> anyhow::Result<f64> {
    time_action(store, journey, ActionKind::Stop).await
}

async fn time_action(store: &Store, journey: &str, kind: ActionKind) -> anyhow::Result<f64> {
    let action = OperatorAction {
        kind,
        target: Target::Version {
            journey: journey.into(),
            version: Some(1),
        },
        reason: Some("bench".into()),
    };
    let t = parse_rfc3339(T0).map_err(anyhow::Error::msg)? + 2_000;
    let start = Instant::now();
    store
        .execute(&action, &Actor::new("bench", "bench"), t)
        .await?;
    Ok(start.elapsed().as_secs_f64() * 1000.0)
}

async fn measure(
    small: &Store,
    big: &Store,
    args: &BenchConfig,
    big_url: &str,
    label: &str,
) -> anyhow::Result<Figures> {
    let mut f = measure_store(small, big, args, label).await?;
    if !args.no_console {
        f.console = Some(console(big_url, args.idle_seconds)?);
    }
    eprintln!("[{label}] delivery to a local webhook receiver");
    f.delivery = delivery::measure_delivery(small, 20_000).await?;
    eprintln!("[{label}] rate-limited delivery, two runs sharing the store");
    f.rate = delivery::measure_rate(small).await?;
    f.exact = big.verify_counters().await?.is_empty() && small.verify_counters().await?.is_empty();
    Ok(f)
}

/// The store's own figures: ingest, engine tick, list, pause and stop
/// commits (the Citus column has only these).
async fn measure_store(
    small: &Store,
    big: &Store,
    args: &BenchConfig,
    label: &str,
) -> anyhow::Result<Figures> {
    let mut f = Figures::default();
    eprintln!(
        "[{label}] building {} journeys with 1,000 participants",
        args.journeys
    );
    build(small, &layout(1_000, args.journeys)).await?;
    eprintln!(
        "[{label}] building {} journeys with {} participants",
        args.journeys, args.participants
    );
    let (rate, _) = build(big, &layout(args.participants, args.journeys)).await?;
    f.ingest_per_s = rate;
    let t1 = parse_rfc3339(T0).map_err(anyhow::Error::msg)? + 1_000;
    if !args.no_tick {
        eprintln!("[{label}] engine tick over every participant");
        let start = Instant::now();
        let tick = big.tick(t1).await?;
        f.tick_steps_per_s = tick.steps as f64 / start.elapsed().as_secs_f64().max(1e-9);
    }
    (f.list_small_ms, f.list_big_ms) = time_lists(small, big).await?;
    if args.participants >= 10_000 {
        // A pause is one conditional update too (the stops below end
        // these paused versions).
        let pause = ActionKind::Pause(crate::domain::Hold::default());
        let mut smalls = Vec::new();
        for k in 0..5 {
            smalls.push(time_action(big, &format!("small-stop-{k}"), pause).await?);
        }
        f.pause_small_ms = median(smalls);
        f.pause_big_ms = time_action(big, "big-stop", pause).await?;
        let mut smalls = Vec::new();
        for k in 0..5 {
            smalls.push(time_stop(big, &format!("small-stop-{k}")).await?);
        }
        f.stop_small_ms = median(smalls);
        f.stop_big_ms = time_stop(big, "big-stop").await?;
    }
    f.nodes = big.rows_per_node().await?;
    Ok(f)
}

/// Runs the real console on the large store in tmux and watches it idle.
fn console(url: &str, seconds: u64) -> anyhow::Result<ConsoleFigures> {
    let exe = std::env::current_exe()?;
    let socket = format!("jctl-bench-{}", std::process::id());
    let out_file = std::env::temp_dir().join(format!("{socket}.out"));
    let _ = std::fs::remove_file(&out_file);
    let cmd = format!(
        "DATABASE_URL='{url}' exec {} --read-only --refresh 2s",
        exe.display()
    );
    let session = tmux::Session::start(socket, &cmd, 120, 35)?;
    let result = (|| -> anyhow::Result<ConsoleFigures> {
        std::thread::sleep(Duration::from_secs(4));
        let pid = session.pid()?;
        session.tmux(&[
            "pipe-pane",
            "-t",
            "main",
            &format!("cat > {}", out_file.display()),
        ])?;
        let cpu0 = cpu_seconds(&pid)?;
        let start = Instant::now();
        std::thread::sleep(Duration::from_secs(seconds));
        let cpu1 = cpu_seconds(&pid)?;
        let wall = start.elapsed().as_secs_f64();
        session.tmux(&["pipe-pane", "-t", "main"])?;
        let bytes = std::fs::metadata(&out_file).map(|m| m.len()).unwrap_or(0);
        Ok(ConsoleFigures {
            cpu_pct: (cpu1 - cpu0) / wall * 100.0,
            bytes_per_s: bytes as f64 / wall,
            rss_mb: rss_kb(&pid)? as f64 / 1024.0,
        })
    })();
    drop(session);
    let _ = std::fs::remove_file(&out_file);
    result
}

/// CPU time a process has used, in seconds, to the nanosecond: the sum of
/// its threads' run time (`/proc/PID/task/*/schedstat`), where `stat`'s
/// ticks are a hundredth of a second, too coarse for an idle console.
fn cpu_seconds(pid: &str) -> anyhow::Result<f64> {
    let mut ns = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        // A thread that ended since the listing is simply not counted.
        let Ok(line) = std::fs::read_to_string(task?.path().join("schedstat")) else {
            continue;
        };
        ns += line
            .split_whitespace()
            .next()
            .and_then(|x| x.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Ok(ns as f64 / 1e9)
}

fn rss_kb(pid: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    Ok(status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

async fn postgres_stores(url: &str) -> anyhow::Result<(Store, Store, String)> {
    let small = scratch::fresh_schema(url, "journeyctl_bench_small").await?;
    let big = scratch::fresh_schema(url, "journeyctl_bench_big").await?;
    Ok((
        small,
        big,
        scratch::url_in_schema(url, "journeyctl_bench_big"),
    ))
}

/// Closes the two stores of [`postgres_stores`] and drops their schemas.
async fn drop_stores(url: &str, small: Store, big: Store) {
    small.close().await;
    big.close().await;
    for schema in ["journeyctl_bench_small", "journeyctl_bench_big"] {
        let _ = scratch::drop_schema(url, schema).await;
    }
}

pub(super) fn sqlite_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.db"))
}

pub async fn run(args: BenchConfig) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("journeyctl-bench-{}", std::process::id()));
    if args.stops_only {
        std::fs::create_dir_all(&dir)?;
        return stops::run_stops(&args, &dir).await;
    }
    if args.live_only {
        return live::run_live(&args, &dir).await;
    }
    if args.brakes_only {
        std::fs::create_dir_all(&dir)?;
        return brakes::run_brakes(&args, &dir).await;
    }
    if args.levers_only {
        std::fs::create_dir_all(&dir)?;
        return levers::run_levers(&args, &dir).await;
    }
    if args.citus_only {
        return citus::run_citus_only(&args, &dir).await;
    }
    if args.feed_only {
        return feed::run_feed(&args, &dir).await;
    }
    let dir = std::env::temp_dir().join(format!("journeyctl-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let small = Store::connect(&Location::Sqlite(sqlite_path(&dir, "small"))).await?;
    let big_path = sqlite_path(&dir, "big");
    let big = Store::connect(&Location::Sqlite(big_path.clone())).await?;
    let sqlite = measure(
        &small,
        &big,
        &args,
        &big_path.display().to_string(),
        "sqlite",
    )
    .await;
    small.close().await;
    big.close().await;
    let side_n = args.participants.min(SIDE_PARTICIPANTS);
    let mut sqlite = sqlite?;
    eprintln!("[sqlite] side by side");
    sqlite.side = side::measure_side(
        |name| {
            let path = sqlite_path(&dir, name);
            async move { Ok(scratch::fresh_sqlite(&path).await?) }
        },
        side_n,
    )
    .await?;
    sqlite.stops = stops::stops_on(&dir, None, args.participants).await?;
    let _ = std::fs::remove_dir_all(&dir);
    let postgres = match &args.postgres {
        Some(url) => Some(postgres_column(url, &args, &dir).await?),
        None => {
            eprintln!(
                "PostgreSQL skipped: pass --postgres URL or set JOURNEYCTL_TEST_POSTGRES_URL"
            );
            None
        }
    };
    let citus = match &args.citus {
        Some(url) => Some(citus::measure_citus(url, &args).await?),
        None => {
            eprintln!("Citus skipped: pass --citus URL or set JOURNEYCTL_TEST_CITUS_URL");
            None
        }
    };
    feed::print_with_feeds(&args, &dir, sqlite, postgres, citus).await
}

/// The PostgreSQL column: every figure, on schemas of its own at `url`.
async fn postgres_column(url: &str, args: &BenchConfig, dir: &Path) -> anyhow::Result<Figures> {
    let side_n = args.participants.min(SIDE_PARTICIPANTS);
    let (small, big, big_url) = postgres_stores(url).await?;
    let f = measure(&small, &big, args, &big_url, "postgres").await;
    drop_stores(url, small, big).await;
    let mut f = f?;
    eprintln!("[postgres] side by side");
    let side =
        side::measure_side(
            |name| async move {
                Ok(scratch::fresh_schema(url, &format!("journeyctl_bench_{name}")).await?)
            },
            side_n,
        )
        .await;
    for name in [
        "side_engine_1",
        "side_engine_2",
        "side_worker_1",
        "side_worker_2",
    ] {
        let _ = scratch::drop_schema(url, &format!("journeyctl_bench_{name}")).await;
    }
    f.side = side?;
    f.stops = stops::stops_on(dir, Some(url), args.participants).await?;
    Ok(f)
}

//! The feed's figures: what `journeyctl ingest` does with a file of entry
//! events (read, parsed and applied by the CLI's own path) against a bare
//! `COPY` of the same participant rows into a copy of the table, same
//! database, right after; on a cluster, against the same feed on one
//! PostgreSQL node in the same run. Then the engine's tick over the people
//! the feed let in, on each.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use super::{BenchConfig, Figures, T0, definition};
use crate::domain::time::parse_rfc3339;
use crate::store::{Actor, Store, scratch};

/// One store's feed figures.
#[derive(Debug, Default, Clone)]
pub(super) struct FeedFigures {
    /// Entry events a second through `journeyctl ingest`'s path.
    pub per_s: f64,
    /// Rows a second of a bare `COPY` of as many participant rows.
    pub copy_per_s: Option<f64>,
    /// Steps a second of a tick over the feed's people.
    pub tick_steps_per_s: f64,
    /// On a cluster: the same feed and tick on one PostgreSQL node.
    pub one_node: Option<Box<FeedFigures>>,
}

impl FeedFigures {
    /// The feed's cell: its rate, and against its peer.
    pub(super) fn ingest_cell(&self) -> String {
        let mut out = format!("{:.0} events/s", self.per_s);
        if let Some(copy) = self.copy_per_s {
            let _ = write!(
                out,
                ", {:.2}x a bare COPY ({copy:.0} rows/s)",
                self.per_s / copy
            );
        }
        self.against_one_node(out, |f| f.per_s)
    }

    /// The tick's cell: its rate, and on a cluster against one node.
    pub(super) fn tick_cell(&self) -> String {
        let out = format!("{:.0} steps/s", self.tick_steps_per_s);
        self.against_one_node(out, |f| f.tick_steps_per_s)
    }

    /// `cell`, then on a cluster the figure `of` against one node's.
    fn against_one_node(&self, mut cell: String, of: fn(&FeedFigures) -> f64) -> String {
        if let Some(node) = &self.one_node {
            let _ = write!(
                cell,
                ", {:.2}x one node ({:.0}/s)",
                of(self) / of(node),
                of(node)
            );
        }
        cell
    }
}

/// The journey the feed enters.
const JOURNEY: &str = "feed";

/// Writes a feed of `events` entry events into one journey.
fn write_feed(path: &Path, events: u64) -> anyhow::Result<()> {
    let mut text = String::with_capacity(events as usize * 90);
    for i in 0..events {
        let _ = writeln!(
            text,
            r#"{{"type":"enter","journey":"{JOURNEY}","profile":"feed-{i}","at":"{T0}"}}"#
        );
    }
    std::fs::write(path, text)?;
    Ok(())
}

/// Publishes the journey, runs the feed through `journeyctl ingest FILE`
/// (this very binary, on the store at `location`), then ticks once over
/// everyone it let in.
async fn feed_into(
    store: &Store,
    location: &str,
    feed: &Path,
    events: u64,
    label: &str,
) -> anyhow::Result<FeedFigures> {
    let t0 = parse_rfc3339(T0).map_err(anyhow::Error::msg)?;
    let actor = Actor::new("bench", crate::store::this_host());
    store.apply(&definition(JOURNEY), &actor, t0).await?;
    store.publish(JOURNEY, &actor, t0).await?;
    eprintln!("[{label}] journeyctl ingest of {events} entry events");
    let start = Instant::now();
    let out = std::process::Command::new(std::env::current_exe()?)
        .args(["--database-url", location, "ingest", "--json"])
        .arg(feed)
        .env_remove("DATABASE_URL")
        .stderr(std::process::Stdio::inherit())
        .output()?;
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    if !out.status.success() || report["entered"].as_u64() != Some(events) {
        anyhow::bail!(
            "bench feed: journeyctl ingest exited {} having entered {} of {events}",
            out.status,
            report["entered"]
        );
    }
    eprintln!("[{label}] a tick over them");
    let start = Instant::now();
    let tick = store.tick(t0 + 1_000).await?;
    let tick_secs = start.elapsed().as_secs_f64().max(1e-9);
    Ok(FeedFigures {
        per_s: events as f64 / secs,
        tick_steps_per_s: tick.steps as f64 / tick_secs,
        ..FeedFigures::default()
    })
}

/// The feed on a fresh schema `schema` at `url`; with `copy`, a bare
/// `COPY` of as many rows right after.
async fn feed_on_postgres(
    url: &str,
    schema: &str,
    feed: &Path,
    events: u64,
    copy: bool,
    label: &str,
) -> anyhow::Result<FeedFigures> {
    let store = scratch::fresh_schema(url, schema).await?;
    let location = scratch::url_in_schema(url, schema);
    let f = feed_into(&store, &location, feed, events, label).await;
    store.close().await;
    let copied = match (&f, copy) {
        (Ok(_), true) => Some(
            scratch::bare_copy(url, schema, events)
                .await
                .map(|took| events as f64 / took.as_secs_f64().max(1e-9)),
        ),
        _ => None,
    };
    let _ = scratch::drop_schema(url, schema).await;
    Ok(FeedFigures {
        copy_per_s: copied.transpose()?,
        ..f?
    })
}

/// The feed's figures on SQLite (in `dir`), PostgreSQL (against a bare
/// `COPY`) and a cluster (against one PostgreSQL node), for each given.
pub(super) async fn measure_feeds(
    args: &BenchConfig,
    dir: &Path,
    sqlite: bool,
) -> anyhow::Result<[Option<FeedFigures>; 3]> {
    std::fs::create_dir_all(dir)?;
    let feed = dir.join("feed.ndjson");
    let events = args.feed_events;
    write_feed(&feed, events)?;
    let mut out: [Option<FeedFigures>; 3] = [None, None, None];
    if sqlite {
        let path = dir.join("feed.db");
        let store = scratch::fresh_sqlite(&path).await?;
        let location = path.display().to_string();
        let f = feed_into(&store, &location, &feed, events, "sqlite").await;
        store.close().await;
        out[0] = Some(f?);
    }
    if let Some(url) = &args.postgres {
        out[1] = Some(
            feed_on_postgres(
                url,
                "journeyctl_bench_feed",
                &feed,
                events,
                true,
                "postgres",
            )
            .await?,
        );
    }
    if let Some(url) = &args.citus {
        let mut f =
            feed_on_postgres(url, "journeyctl_bench_feed", &feed, events, false, "citus").await?;
        f.one_node = out[1].clone().map(Box::new);
        out[2] = Some(f);
    }
    let _ = std::fs::remove_file(&feed);
    Ok(out)
}

/// `bench --feed-only`: the feed's figures alone, each backend given.
pub(super) async fn run_feed(args: &BenchConfig, dir: &Path) -> anyhow::Result<()> {
    let columns = measure_feeds(args, dir, true).await?;
    let _ = std::fs::remove_dir_all(dir);
    let cell = |f: &Option<FeedFigures>, get: fn(&FeedFigures) -> String| {
        f.as_ref().map_or("skipped".to_string(), get)
    };
    println!();
    println!("| figure | target | SQLite | PostgreSQL | Citus |");
    println!("|---|---|---|---|---|");
    for (name, target, get) in table_rows(args) {
        let cells: Vec<String> = columns.iter().map(|f| cell(f, get)).collect();
        println!("| {name} | {target} | {} |", cells.join(" | "));
    }
    Ok(())
}

/// A row of the feed's figures: name, target, and how to read the cell.
type FeedRow = (String, &'static str, fn(&FeedFigures) -> String);

/// The feed's rows of a table.
pub(super) fn table_rows(args: &BenchConfig) -> [FeedRow; 2] {
    [
        (
            format!(
                "journeyctl ingest, a feed of {} entry events",
                args.feed_events
            ),
            "pg >= 0.6x a bare COPY; citus >= 0.5x one node",
            FeedFigures::ingest_cell,
        ),
        (
            "engine tick over the feed's people".into(),
            "citus >= 0.5x one node",
            FeedFigures::tick_cell,
        ),
    ]
}

/// Adds the feed's figures to the columns measured, and prints the table.
pub(super) async fn print_with_feeds(
    args: &BenchConfig,
    dir: &Path,
    sqlite: Figures,
    postgres: Option<Figures>,
    citus: Option<Figures>,
) -> anyhow::Result<()> {
    let [feed_sqlite, feed_postgres, feed_citus] = measure_feeds(args, dir, true).await?;
    let _ = std::fs::remove_dir_all(dir);
    let sqlite = Figures {
        feed: feed_sqlite,
        ..sqlite
    };
    let postgres = postgres.map(|f| Figures {
        feed: feed_postgres,
        ..f
    });
    let citus = citus.map(|f| Figures {
        feed: feed_citus,
        ..f
    });
    let draw = super::draw::draw_time_ms();
    super::table::print_table(
        args,
        [Some(&sqlite), postgres.as_ref(), citus.as_ref()],
        draw,
    );
    Ok(())
}

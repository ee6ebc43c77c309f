//! The bench's table: each figure, its target, and its value on SQLite and
//! PostgreSQL.

use super::{BenchConfig, Figures};

/// How one figure is read off a column's results.
type Cell = Box<dyn Fn(&Figures) -> String>;

/// Each figure of the table: its name, its target, and how to read it off
/// a column's results.
fn table_rows(args: &BenchConfig) -> Vec<(String, &'static str, Cell)> {
    let mut rows = scale_rows(args);
    rows.extend(side_rows());
    rows.extend(service_rows(args));
    rows.extend(rate_rows());
    rows
}

/// The store's figures: list, stop, ingest, tick.
fn scale_rows(args: &BenchConfig) -> Vec<(String, &'static str, Cell)> {
    let n = args.participants;
    let mut rows: Vec<(String, &'static str, Cell)> = vec![
        (
            format!(
                "list --json, {} journeys: {n} vs 1,000 participants",
                args.journeys
            ),
            "<= 1.5x",
            Box::new(|f: &Figures| {
                format!(
                    "{:.2}x ({:.2} vs {:.2} ms)",
                    f.list_big_ms / f.list_small_ms,
                    f.list_big_ms,
                    f.list_small_ms
                )
            }),
        ),
        (
            format!("stop commit, {} vs 500 active (+ outbox)", n / 2),
            "<= 2x",
            Box::new(|f: &Figures| {
                format!(
                    "{:.2}x ({:.2} vs {:.2} ms)",
                    f.stop_big_ms / f.stop_small_ms,
                    f.stop_big_ms,
                    f.stop_small_ms
                )
            }),
        ),
        (
            format!("pause commit, {} vs 500 active", n / 2),
            "<= 2x",
            Box::new(|f: &Figures| {
                format!(
                    "{:.2}x ({:.2} vs {:.2} ms)",
                    f.pause_big_ms / f.pause_small_ms,
                    f.pause_big_ms,
                    f.pause_small_ms
                )
            }),
        ),
        (
            "ingest of entry events".into(),
            ">= 50,000/s (pg 20,000)",
            Box::new(|f: &Figures| format!("{:.0} events/s", f.ingest_per_s)),
        ),
        (
            "engine tick".into(),
            "~100,000 steps/s",
            Box::new(|f: &Figures| match f.tick_steps_per_s {
                0.0 => "not run".into(),
                n => format!("{n:.0} steps/s"),
            }),
        ),
    ];
    for (name, target, get) in super::feed::table_rows(args) {
        rows.push((
            name,
            target,
            Box::new(move |f: &Figures| f.feed.as_ref().map_or("-".into(), get)),
        ));
    }
    rows
}

/// One process against two side by side: engines and delivery workers.
fn side_rows() -> Vec<(String, &'static str, Cell)> {
    vec![
        (
            "engine: two side by side vs one (25 steps each)".into(),
            "two >= one",
            Box::new(|f: &Figures| {
                format!(
                    "{:.2}x ({:.0} vs {:.0} steps/s)",
                    f.side.two_engines / f.side.one_engine,
                    f.side.two_engines,
                    f.side.one_engine
                )
            }),
        ),
        (
            "delivery: two workers side by side vs one".into(),
            "two >= one",
            Box::new(|f: &Figures| {
                format!(
                    "{:.2}x ({:.0} vs {:.0} msg/s)",
                    f.side.two_workers / f.side.one_worker,
                    f.side.two_workers,
                    f.side.one_worker
                )
            }),
        ),
    ]
}

/// The rate-limited delivery, and a rate halved live.
fn rate_rows() -> Vec<(String, &'static str, Cell)> {
    vec![
        (
            "rate-limited delivery (200/s), two runs sharing the store".into(),
            "within 5%",
            Box::new(|f: &Figures| {
                format!(
                    "{:.1}/s ({:+.1}%)",
                    f.rate.observed_per_s,
                    (f.rate.observed_per_s / f.rate.limit_per_s - 1.0) * 100.0
                )
            }),
        ),
        (
            "a rate halved live (rate) shows at the receiver".into(),
            "< 1 s",
            Box::new(|f: &Figures| format!("{:.0} ms", f.rate.live_change_ms)),
        ),
        (
            "rate from 1 s after that change (limit 100/s)".into(),
            "within 5%",
            Box::new(|f: &Figures| {
                format!(
                    "{:.1}/s ({:+.1}%)",
                    f.rate.live_observed_per_s,
                    (f.rate.live_observed_per_s / (f.rate.limit_per_s / 2.0) - 1.0) * 100.0
                )
            }),
        ),
        (
            "stop commit under those two rate-limited runs".into(),
            "-",
            Box::new(|f: &Figures| format!("{:.0} ms", f.rate.stop_ms)),
        ),
    ]
}

/// Delivery, the console, and the recount.
fn service_rows(args: &BenchConfig) -> Vec<(String, &'static str, Cell)> {
    let n = args.participants;
    vec![
        (
            "delivery to a local webhook, 2 workers".into(),
            ">= 5,000 msg/s",
            Box::new(|f: &Figures| format!("{:.0} msg/s", f.delivery.per_s)),
        ),
        (
            "stop commit under that delivery load".into(),
            "< 1 s",
            Box::new(|f: &Figures| format!("{:.0} ms", f.delivery.stop_ms)),
        ),
        (
            format!("stop commit under an engine ({n} due) and 2 workers, 20 stops"),
            "p95 <= 250 ms",
            Box::new(|f: &Figures| {
                format!(
                    "median {:.0} ms, p95 {:.0} ms ({} steps meanwhile)",
                    f.stops.median_ms, f.stops.p95_ms, f.stops.steps_meanwhile
                )
            }),
        ),
        (
            format!("stop of the journey the engine is moving ({n} due)"),
            "<= 250 ms",
            Box::new(|f: &Figures| format!("{:.0} ms", f.stops.loaded_ms)),
        ),
        (
            format!("console idle CPU, {n} participants, refresh 2s"),
            "<= 1% of a core",
            Box::new(|f: &Figures| {
                f.console
                    .as_ref()
                    .map_or("-".into(), |c| format!("{:.2}%", c.cpu_pct))
            }),
        ),
        (
            "bytes to the terminal while idle".into(),
            "<= 200 B/s",
            Box::new(|f: &Figures| {
                f.console
                    .as_ref()
                    .map_or("-".into(), |c| format!("{:.0} B/s", c.bytes_per_s))
            }),
        ),
        (
            format!("console memory, {n} participants"),
            "<= 64 MB",
            Box::new(|f: &Figures| {
                f.console
                    .as_ref()
                    .map_or("-".into(), |c| format!("{:.1} MB RSS", c.rss_mb))
            }),
        ),
        (
            "counters equal a recount after all this".into(),
            "exact",
            Box::new(|f: &Figures| if f.exact { "yes".into() } else { "NO".into() }),
        ),
    ]
}

/// The table: SQLite, PostgreSQL and Citus columns (a column left out is
/// `skipped`; the Citus column has the store's figures and the counters'
/// check, `-` for the rest).
pub(super) fn print_table(args: &BenchConfig, columns: [Option<&Figures>; 3], draw_ms: f64) {
    let rows = table_rows(args);
    let store_rows = scale_rows(args).len();
    println!();
    println!("| figure | target | SQLite | PostgreSQL | Citus |");
    println!("|---|---|---|---|---|");
    for (k, (name, target, get)) in rows.iter().enumerate() {
        let cells: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(c, f)| match f {
                None => "skipped".to_string(),
                Some(_) if c == 2 && k >= store_rows && k + 1 < rows.len() => "-".to_string(),
                Some(f) => get(f),
            })
            .collect();
        println!("| {name} | {target} | {} |", cells.join(" | "));
    }
    if let Some(c) = columns[2] {
        let nodes: Vec<String> = c
            .nodes
            .iter()
            .map(|n| format!("{} {} / {}", n.node, n.participants, n.messages))
            .collect();
        println!(
            "| participants / messages per node | both workers hold a share | - | - | {} |",
            nodes.join("; ")
        );
    }
    println!(
        "| draw the main screen, 1,000 versions | < 2 ms | {draw_ms:.2} ms | (same code) | (same code) |"
    );
}

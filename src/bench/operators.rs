//! Operators' daily commands on an idle store: how long a pause, a
//! resume, a stop and a finish take through the library call the CLI and
//! the console make (the store's rules, triggers and audit rows included).

use std::time::Instant;

use crate::domain::time::parse_rfc3339;
use crate::domain::{ActionKind, Definition, Hold, OnExpiry};
use crate::store::{Actor, OperatorAction, Store, Target};

use super::T0;

/// Journeys per measured command.
const JOURNEYS: usize = 100;

/// Journeys acted on first, unmeasured: each pooled connection compiles
/// the store's triggers on first use, a cost the console pays once.
const WARM_UP: usize = 10;

/// Median and p95 of each command, in milliseconds.
pub(super) struct OperatorFigures {
    pub rows: Vec<(&'static str, f64, f64)>,
}

fn action(kind: ActionKind, journey: &str) -> OperatorAction {
    OperatorAction {
        kind,
        target: Target::Version {
            journey: journey.into(),
            version: Some(1),
        },
        reason: Some("bench".into()),
    }
}

fn median_p95(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    let at = |p| super::percentile(&ms, p);
    (at(0.5), at(0.95))
}

/// Publishes `JOURNEYS` journeys of 50 participants each, then (after a
/// few unmeasured, to warm the connections) times a pause, a resume and a
/// stop of each, and a finish of as many others.
pub(super) async fn measure(store: &Store) -> anyhow::Result<OperatorFigures> {
    let t0 = parse_rfc3339(T0).map_err(anyhow::Error::msg)?;
    let actor = Actor::new("bench", "bench");
    let mut names = Vec::new();
    for i in 0..2 * JOURNEYS + WARM_UP {
        let name = format!("op-{i:03}");
        let def = Definition::from_toml(&format!(
            "name = \"{name}\"\n[[steps]]\nkind = \"message\"\naction = \"email\"\n[[steps]]\nkind = \"wait\"\nduration = \"1d\"\n"
        ))
        .map_err(anyhow::Error::msg)?;
        store.apply(&def, &actor, t0).await?;
        store.publish(&name, &actor, t0).await?;
        let entries: Vec<_> = (0..50)
            .map(|p| crate::domain::events::TimedEvent {
                event: crate::domain::events::Event::Enter {
                    journey: name.clone(),
                    profile: format!("{name}-{p}"),
                },
                at: t0,
            })
            .collect();
        store.ingest(&entries).await?;
        names.push(name);
    }
    store.tick(t0 + 1).await?;
    let hold = ActionKind::Pause(Hold {
        millis: 3_600_000,
        on_expiry: OnExpiry::Resume,
    });
    let mut rows = Vec::new();
    let (warm, names) = names.split_at(WARM_UP);
    for name in warm {
        for kind in [
            hold,
            ActionKind::Resume(crate::domain::Overdue::Send),
            ActionKind::Stop,
        ] {
            store.execute(&action(kind, name), &actor, t0 + 2).await?;
        }
    }
    let (first, second) = names.split_at(JOURNEYS);
    for (label, kind, which) in [
        ("pause", hold, first),
        (
            "resume",
            ActionKind::Resume(crate::domain::Overdue::Send),
            first,
        ),
        ("stop", ActionKind::Stop, first),
        ("finish", ActionKind::Finish, second),
    ] {
        let mut ms = Vec::with_capacity(JOURNEYS);
        for name in which {
            let start = Instant::now();
            store.execute(&action(kind, name), &actor, t0 + 2).await?;
            ms.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        let (median, p95) = median_p95(ms);
        rows.push((label, median, p95));
    }
    Ok(OperatorFigures { rows })
}

/// The figures on a fresh store (PostgreSQL when `postgres` names one).
pub(super) async fn operators_on(
    dir: &std::path::Path,
    postgres: Option<&str>,
) -> anyhow::Result<OperatorFigures> {
    let Some(url) = postgres else {
        eprintln!("[sqlite] operators' commands on an idle store");
        let store = crate::store::scratch::fresh_sqlite(&super::sqlite_path(dir, "ops")).await?;
        let f = measure(&store).await;
        store.close().await;
        return f;
    };
    eprintln!("[postgres] operators' commands on an idle store");
    let store = crate::store::scratch::fresh_schema(url, "journeyctl_bench_ops").await?;
    let f = measure(&store).await;
    store.close().await;
    let _ = crate::store::scratch::drop_schema(url, "journeyctl_bench_ops").await;
    f
}

/// The table rows: one per command, SQLite and PostgreSQL.
pub(super) fn print(sqlite: &OperatorFigures, postgres: Option<&OperatorFigures>) {
    println!("| operators' commands on an idle store ({JOURNEYS} each) | SQLite | PostgreSQL |");
    println!("|---|---|---|");
    for (i, (label, median, p95)) in sqlite.rows.iter().enumerate() {
        let pg = postgres.map_or("skipped".to_string(), |f| {
            let (_, m, p) = f.rows[i];
            format!("median {m:.2} ms, p95 {p:.2} ms")
        });
        println!("| {label} | median {median:.2} ms, p95 {p95:.2} ms | {pg} |");
    }
}

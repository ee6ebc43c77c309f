//! `journeyctl tick` and `journeyctl run`: the engine from the command line.

use std::time::Duration;

use crate::domain::time::{now_millis, parse_rfc3339};
use crate::store::Store;

pub(super) async fn tick(
    store: &Store,
    at: Option<String>,
    json: bool,
    now: i64,
) -> anyhow::Result<()> {
    let at = match at {
        Some(t) => parse_rfc3339(&t).map_err(|e| anyhow::anyhow!("--now: {e}"))?,
        None => now,
    };
    for run in store.run_scheduled(at).await? {
        println!("{}", run.line());
    }
    let start = std::time::Instant::now();
    let progress = super::progress::count("steps");
    let r = store
        .tick_with(at, &|so_far| progress.set_position(so_far.steps))
        .await;
    progress.finish_and_clear();
    let r = r?;
    let secs = start.elapsed().as_secs_f64();
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        println!(
            "ran {} step(s): {} message(s) enqueued, {} participant(s) completed{}",
            r.steps,
            r.messages,
            r.completed,
            crate::present::rate(r.steps, "steps", secs)
        );
        for v in r.finished_by_date {
            println!("finished {v}: entry end date reached");
        }
        for v in &r.holds_expired {
            println!("{v}");
        }
    }
    for v in &r.failed {
        eprintln!("could not run {v}");
    }
    if !r.failed.is_empty() {
        anyhow::bail!(
            "{} version(s) could not run (the others did): {}",
            r.failed.len(),
            r.failed.join("; ")
        );
    }
    Ok(())
}

pub(super) async fn run(
    store: &Store,
    interval: Duration,
    metrics: Option<std::net::SocketAddr>,
) -> anyhow::Result<()> {
    let metrics = super::serve_metrics(store, metrics).await?;
    // Its own handle: a SQLite file replaced under it is opened anew.
    let mut store = store.clone();
    eprintln!(
        "journeyctl run: ticking every {} on {} (Ctrl-C to stop)",
        crate::domain::time::duration_words(interval),
        store.location().display()
    );
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    // One line per failure would flood the terminal while the store is away.
    let mut errors = crate::logging::RepeatLimiter::new(Duration::from_secs(30));
    let mut failing: Vec<String> = Vec::new();
    // The next scheduled action's time: the engine wakes for it.
    let mut next_due: Option<i64> = None;
    loop {
        // One the store could not take yet is tried again a moment later.
        let wake = match next_due.map(|at| at - now_millis()) {
            Some(ms) if ms > 0 => Duration::from_millis(ms.unsigned_abs()),
            _ => Duration::from_millis(250),
        };
        tokio::select! {
            () = tokio::time::sleep(wake), if next_due.is_some() => {
                next_due = scheduled_now(&store, &mut errors).await;
            }
            _ = ticker.tick() => {
                let started = std::time::Instant::now();
                let result = match on_the_file_now(&mut store).await {
                    Ok(()) => {
                        next_due = scheduled_now(&store, &mut errors).await;
                        store.tick(now_millis()).await
                    }
                    Err(e) => Err(e),
                };
                if let Some(m) = &metrics {
                    match &result {
                        Ok(r) => m.tick(r, started.elapsed().as_secs_f64()),
                        Err(_) => m.tick_failed(started.elapsed().as_secs_f64()),
                    }
                }
                say_tick(result, &mut errors, &mut failing);
            }
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
        }
    }
    Ok(())
}

/// What a round of `run` says: dates reached, holds run out and versions
/// that cannot run (when that changes) on standard error; a failure once
/// in a while, while the store is away.
fn say_tick(
    result: crate::store::Result<crate::store::TickReport>,
    errors: &mut crate::logging::RepeatLimiter,
    failing: &mut Vec<String>,
) {
    match result {
        Ok(r) => {
            if let Some(line) = errors.success() {
                eprintln!("journeyctl run: {line}");
                tracing::info!("{line}");
            }
            if r.steps > 0 || !r.finished_by_date.is_empty() {
                tracing::info!(
                    steps = r.steps,
                    messages = r.messages,
                    completed = r.completed,
                    "tick"
                );
            }
            for v in r.finished_by_date {
                eprintln!("finished {v}: entry end date reached");
            }
            for v in r.holds_expired {
                eprintln!("{v}");
            }
            // Said when the versions that cannot run change,
            // not at every tick; logged at every tick.
            for v in &r.failed {
                tracing::warn!("could not run {v}");
            }
            if r.failed != *failing {
                for v in r.failed.iter().filter(|v| !failing.contains(v)) {
                    eprintln!("could not run {v}");
                }
                *failing = r.failed;
            }
        }
        Err(e) => {
            // The database may come back: keep going.
            tracing::warn!("tick failed: {e}");
            if let Some(line) =
                errors.failure(&format!("tick failed: {e}"), std::time::Instant::now())
            {
                eprintln!("{line}");
            }
        }
    }
}

/// Carries out the scheduled actions due now (each said on standard
/// error and logged); when the next one falls due.
async fn scheduled_now(store: &Store, errors: &mut crate::logging::RepeatLimiter) -> Option<i64> {
    let ran = store.run_scheduled(now_millis()).await;
    match ran {
        Ok(ran) => {
            for run in ran {
                eprintln!("{}", run.line());
                tracing::info!("{}", run.line());
            }
        }
        Err(e) => {
            tracing::warn!("scheduled actions: {e}");
            let said = format!("scheduled actions: {e}");
            if let Some(line) = errors.failure(&said, std::time::Instant::now()) {
                eprintln!("{line}");
            }
        }
    }
    store.next_scheduled().await.ok().flatten()
}

/// The engine works on the store's file as it is now: a SQLite file
/// replaced under it (a restore, a demo run again) is opened anew, never
/// ticked in its deleted copy; a file that is gone fails the tick (said
/// once, tried again at the next).
async fn on_the_file_now(store: &mut Store) -> crate::store::Result<()> {
    if store.follow_file().await? {
        eprintln!(
            "journeyctl run: {} was replaced: ticking the new file",
            store.location().server()
        );
    }
    Ok(())
}

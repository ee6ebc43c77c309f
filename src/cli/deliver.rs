//! `journeyctl deliver` and `journeyctl channels`: the delivery workers
//! from the command line, and delivery health per action.

use std::path::Path;

use tokio::sync::watch;

use crate::delivery::{self, Channels, Options};
use crate::domain::time::{now_millis, to_rfc3339};
use crate::present::thousands;
use crate::store::{ActionHealth, Store};

/// Reads the channels file before the store is touched: a bad file never
/// waits on a database.
pub(super) fn read_channels(path: &Path) -> anyhow::Result<Channels> {
    Channels::load(path).map_err(|e| anyhow::anyhow!(e))
}

/// `journeyctl deliver` with its options as given.
pub(super) async fn deliver_command(
    store: &Store,
    channels: &Channels,
    command: super::args::Deliver,
) -> anyhow::Result<()> {
    let options = Options {
        workers: command.workers as usize,
        once: command.once,
        batch: command.batch,
        metrics: super::serve_metrics(store, command.metrics).await?,
        ..Default::default()
    };
    deliver(store, channels, options).await
}

async fn deliver(store: &Store, channels: &Channels, mut options: Options) -> anyhow::Result<()> {
    let (tx, rx) = watch::channel(false);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    // SIGTERM or Ctrl-C: every worker finishes the batch in hand and exits.
    let signals = tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        let _ = tx.send(true);
    });
    if !options.once {
        eprintln!(
            "journeyctl deliver: {} worker(s) on {} (Ctrl-C or SIGTERM to stop)",
            options.workers,
            store.location().display()
        );
    }
    // `--once` says what stays pending once, after its summary; a running
    // worker says it as it starts.
    let due = say_unrouted(store, channels, !options.once).await?;
    if options.once {
        options.progress = Some(super::progress::of(due as u64, "messages"));
    }
    let report = delivery::deliver(store, channels, &options, rx).await;
    if let Some(p) = &options.progress {
        p.finish_and_clear();
    }
    signals.abort();
    let report = report?;
    let unanswered = match report.unanswered {
        0 => String::new(),
        n => format!(
            " ({} of them without an answer: they may have arrived)",
            thousands(n as i64)
        ),
    };
    println!(
        "delivered: {} sent, {} to retry, {} failed{unanswered}",
        thousands(report.sent as i64),
        thousands(report.retried as i64),
        thousands(report.failed as i64)
    );
    if options.once {
        say_unrouted(store, channels, true).await?;
    }
    Ok(())
}

/// Actions with pending messages and no channel: they stay pending (said
/// when `say`). Returns the pending messages that do have a channel.
async fn say_unrouted(store: &Store, channels: &Channels, say: bool) -> anyhow::Result<i64> {
    let mut routed = 0;
    for h in store.channel_health().await? {
        if channels.route(&h.action).is_some() {
            routed += h.pending;
        } else if h.pending > 0 && say {
            eprintln!(
                "no channel for {}: {} pending message(s) stay pending",
                h.action,
                thousands(h.pending)
            );
        }
    }
    Ok(routed)
}

#[derive(serde::Serialize)]
struct HoldJson<'a> {
    action: &'a str,
    by: &'a str,
    since: String,
    until: Option<String>,
    reason: Option<&'a str>,
}

#[derive(serde::Serialize)]
struct LiveJson<'a> {
    rate: Option<String>,
    concurrency: Option<i64>,
    by: &'a str,
    at: String,
    reason: Option<&'a str>,
}

#[derive(serde::Serialize)]
struct HealthJson<'a> {
    action: &'a str,
    channel: Option<String>,
    /// The limits the workers follow (the live ones over the file's).
    rate: Option<String>,
    concurrency: Option<i64>,
    /// What an operator set live (`null`: the channels file's hold).
    live: Option<LiveJson<'a>>,
    file_rate: Option<String>,
    file_concurrency: Option<i64>,
    pending: i64,
    /// Of the pending, those held (`journeyctl hold`).
    held: i64,
    /// The hold that covers the action (`null`: none).
    hold: Option<HoldJson<'a>>,
    sent: i64,
    failed: i64,
    retrying: i64,
    uncertain: i64,
    cancelled_uncertain: i64,
    failing: bool,
    last_error: Option<&'a str>,
    last_error_at: Option<String>,
}

pub(super) async fn channels(
    store: &Store,
    file: Option<&Channels>,
    json: bool,
) -> anyhow::Result<()> {
    let mut health = store.channel_health().await?;
    if let Some(file) = file {
        for h in &mut health {
            let channel = file.route(&h.action);
            h.route = Some(channel.map(|c| c.name.clone()));
            h.file_limits = Some(channel.map(|c| c.flow.live()).unwrap_or_default());
        }
    }
    if json {
        let rows: Vec<HealthJson> = health
            .iter()
            .map(|h| HealthJson {
                action: &h.action,
                channel: h.route.clone().flatten(),
                rate: h.limits().rate.map(|r| r.to_string()),
                concurrency: h.limits().concurrency,
                live: h.live.as_ref().map(|l| LiveJson {
                    rate: l.limits.rate.map(|r| r.to_string()),
                    concurrency: l.limits.concurrency,
                    by: &l.set_by,
                    at: to_rfc3339(l.set_at),
                    reason: l.reason.as_deref(),
                }),
                file_rate: h.file_limits.and_then(|f| f.rate).map(|r| r.to_string()),
                file_concurrency: h.file_limits.and_then(|f| f.concurrency),
                pending: h.pending,
                held: h.held(),
                hold: h.hold.as_ref().map(|x| HoldJson {
                    action: &x.action,
                    by: &x.held_by,
                    since: to_rfc3339(x.held_at),
                    until: x.until.map(to_rfc3339),
                    reason: x.reason.as_deref(),
                }),
                sent: h.sent,
                failed: h.failed,
                retrying: h.retrying,
                uncertain: h.uncertain,
                cancelled_uncertain: h.cancelled_uncertain,
                failing: h.failing(),
                last_error: h.last_error.as_deref(),
                last_error_at: h.last_error_ms.map(to_rfc3339),
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", health_table(&health, now_millis()));
    }
    Ok(())
}

fn health_table(health: &[ActionHealth], now: i64) -> String {
    let mut grid = super::table::Grid::new(&[
        "ACTION",
        "CHANNEL",
        "LIMIT",
        ">PENDING",
        ">SENT",
        ">FAILED",
        ">RETRYING",
        ">UNCERTAIN",
        "LAST ERROR",
    ]);
    for h in health {
        grid.row(crate::present::channel_cells(
            h,
            crate::present::limits_words(h),
            h.uncertain,
            now,
        ));
    }
    let mut out = grid.render();
    for h in health.iter().filter(|h| h.cancelled_uncertain > 0) {
        out.push_str(&format!(
            "{}: {} cancelled after an attempt without an answer (they may have arrived)\n",
            crate::present::escaped(&h.action),
            thousands(h.cancelled_uncertain)
        ));
    }
    out
}

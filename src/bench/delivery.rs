//! The delivery figures: messages per second from the store to a webhook
//! receiver on 127.0.0.1 (in this process, so it shares the two cores with
//! the workers), and how long a stop takes to commit under that load.

use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::{T0, build};
use crate::delivery::{self, Channels, Options};
use crate::demo::receiver::{Answer, Receiver};
use crate::domain::time::parse_rfc3339;
use crate::store::Store;

#[derive(Debug, Default, Clone)]
pub(super) struct DeliveryFigures {
    pub per_s: f64,
    pub stop_ms: f64,
}

/// A webhook receiver on 127.0.0.1 answering 200, and channels sending
/// `email` to it.
pub(super) async fn webhook_receiver() -> anyhow::Result<(Receiver, Channels)> {
    let receiver = Receiver::start_with(Answer::Status(200), false).await?;
    let text = format!(
        "[channels.email]\nkind = \"webhook\"\nurl = \"{}\"\ntimeout = \"5s\"\n",
        receiver.url("send")
    );
    let channels = Channels::parse(std::path::Path::new("bench-channels.toml"), &text, &|_| {
        None
    })
    .map_err(anyhow::Error::msg)?;
    Ok((receiver, channels))
}

/// `n` messages in each of two journeys; two workers deliver them while one
/// journey is stopped a second in.
pub(super) async fn measure_delivery(store: &Store, n: u64) -> anyhow::Result<DeliveryFigures> {
    let plan = [("deliver-a".to_string(), n), ("deliver-b".to_string(), n)];
    build(store, &plan).await?;
    let t1 = parse_rfc3339(T0).map_err(anyhow::Error::msg)? + 1_000;
    store.tick(t1).await?;
    let (receiver, channels) = webhook_receiver().await?;
    let (tx, rx) = watch::channel(false);
    let worker = {
        let store = store.clone();
        tokio::spawn(
            async move { delivery::deliver(&store, &channels, &Options::default(), rx).await },
        )
    };
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let stop_ms = super::time_stop(store, "deliver-b").await?;
    loop {
        let pending: i64 = store
            .list(false)
            .await?
            .iter()
            .filter(|v| v.journey == "deliver-a")
            .map(|v| v.messages.pending)
            .sum();
        if pending == 0 {
            break;
        }
        eprint!("\r  delivering: {} requests", receiver.count());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let _ = tx.send(true);
    worker.await??;
    eprintln!();
    Ok(DeliveryFigures {
        per_s: receiver.count() as f64 / elapsed.max(1e-9),
        stop_ms,
    })
}

#[derive(Debug, Default, Clone)]
pub(super) struct RateFigures {
    pub limit_per_s: f64,
    pub observed_per_s: f64,
    pub stop_ms: f64,
    /// From `rate` halving the limit live to the receiver seeing the new
    /// pace (ten gaps in a row at least 90% of its interval).
    pub live_change_ms: f64,
    /// The receiver's rate from a second after that change.
    pub live_observed_per_s: f64,
}

/// A channel limited to `RATE_LIMIT`/s, two delivery runs sharing only the
/// store (each with its own workers, HTTP client and leases), two journeys
/// of 600 messages; one is stopped 1.5 s in. The observed rate is read at
/// the receiver, from the first request to the last.
pub(super) async fn measure_rate(store: &Store) -> anyhow::Result<RateFigures> {
    const RATE_LIMIT: f64 = 200.0;
    let plan = [("rate-a".to_string(), 600), ("rate-b".to_string(), 600)];
    build(store, &plan).await?;
    let t1 = parse_rfc3339(T0).map_err(anyhow::Error::msg)? + 1_000;
    store.tick(t1).await?;
    let receiver = Receiver::start(Answer::Status(200)).await?;
    let text = format!(
        "[channels.email]\nkind = \"webhook\"\nurl = \"{}\"\nrate = \"{RATE_LIMIT}/s\"\n",
        receiver.url("send")
    );
    let channels = Channels::parse(std::path::Path::new("bench-rate.toml"), &text, &|_| None)
        .map_err(anyhow::Error::msg)?;
    let (tx, rx) = watch::channel(false);
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let (store, channels, rx) = (store.clone(), channels.clone(), rx.clone());
            tokio::spawn(async move {
                delivery::deliver(&store, &channels, &Options::default(), rx).await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let stop_ms = super::time_stop(store, "rate-b").await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let halved = crate::store::LiveLimits {
        rate: crate::domain::rate::Rate::from_parts(RATE_LIMIT as i64 / 2, 1),
        concurrency: None,
    };
    let actor = crate::store::Actor::new("bench", crate::store::this_host());
    let now = crate::domain::time::now_millis();
    store
        .set_rate("email", Some(halved), &actor, Some("bench"), now)
        .await?;
    let changed = Instant::now();
    while store
        .list(false)
        .await?
        .iter()
        .any(|v| v.journey == "rate-a" && v.messages.pending > 0)
    {
        eprint!("\r  rate-limited: {} requests", receiver.count());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = tx.send(true);
    for run in runs {
        run.await??;
    }
    eprintln!();
    let mut got = receiver.received();
    got.sort_by_key(|r| r.at);
    let at: Vec<Instant> = got.iter().map(|r| r.at).collect();
    let before: Vec<Instant> = at.iter().copied().filter(|t| *t < changed).collect();
    let after: Vec<Instant> = at
        .iter()
        .copied()
        .filter(|t| *t >= changed + Duration::from_secs(1))
        .collect();
    Ok(RateFigures {
        limit_per_s: RATE_LIMIT,
        observed_per_s: per_s(&before)?,
        stop_ms,
        live_change_ms: shows_at(&at, changed, Duration::from_secs_f64(2.0 / RATE_LIMIT))
            .as_secs_f64()
            * 1000.0,
        live_observed_per_s: per_s(&after)?,
    })
}

/// Requests per second from the first of `at` to the last.
fn per_s(at: &[Instant]) -> anyhow::Result<f64> {
    match (at.first(), at.last()) {
        (Some(a), Some(b)) if at.len() > 1 => Ok((at.len() - 1) as f64 / (*b - *a).as_secs_f64()),
        _ => anyhow::bail!("the rate bench received {} requests", at.len()),
    }
}

/// How long after `from` the arrivals `at` (in order) keep a pace of at
/// least `interval` between them (90% of it, ten gaps in a row).
fn shows_at(at: &[Instant], from: Instant, interval: Duration) -> Duration {
    let after: Vec<Instant> = at.iter().copied().filter(|t| *t >= from).collect();
    let slow = |w: &[Instant]| w[1] - w[0] >= interval.mul_f64(0.9);
    (0..after.len().saturating_sub(10))
        .find(|&i| after[i..=i + 10].windows(2).all(slow))
        .map_or(Duration::MAX, |i| after[i] - from)
}

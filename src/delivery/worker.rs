//! Delivery workers: claim a batch of due messages of one version, hand
//! each to its channel, record what happened; again, until told to stop.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use tokio::sync::watch;

use super::channels::{Channel, Channels};
use super::send::{Body, Pace, Tried, http_client, send_batch};
use crate::domain::time::now_millis;
use crate::store::{Attempt, Claimed, PendingVersion, Recorded, Store};

/// How long a claim outlives its channel's time-out: every request of a
/// batch starts at once, so each is over well before its lease.
pub(super) const LEASE_MARGIN: Duration = Duration::from_secs(2);

/// Longest wait between two attempts of one message.
const MAX_BACKOFF_MS: i64 = 5 * 60 * 1000;

#[derive(Debug, Clone)]
pub struct Options {
    /// Worker tasks in this process.
    pub workers: usize,
    /// Deliver what is due, then return.
    pub once: bool,
    /// Messages per claim (all in flight at once).
    pub batch: i64,
    /// How long an idle worker waits before looking again.
    pub idle: Duration,
    /// Where each attempt is counted for `--metrics`.
    pub metrics: Option<Arc<crate::metrics::Metrics>>,
    /// Advanced by each message handed over (`deliver --once` on a terminal).
    pub progress: Option<indicatif::ProgressBar>,
    /// The time stamped on messages sent or failed (the demo's simulated
    /// now); the wall clock when `None`.
    pub at: Option<crate::domain::Millis>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            workers: 2,
            once: false,
            batch: 200,
            idle: Duration::from_millis(200),
            metrics: None,
            progress: None,
            at: None,
        }
    }
}

/// What the workers did: the sum of what each recorded.
pub type Report = Recorded;

/// The wait before attempt `attempts + 1`: 1 s, 2 s, 4 s, ... at most 5 min.
pub fn backoff_ms(attempts: i64) -> i64 {
    let exp = (attempts - 1).clamp(0, 20) as u32;
    (1000i64 << exp).min(MAX_BACKOFF_MS)
}

/// Runs `options.workers` workers until `shutdown` turns true (each
/// finishes the batch in hand) or, with `once`, until nothing is due.
pub async fn deliver(
    store: &Store,
    channels: &Channels,
    options: &Options,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<Report> {
    deliver_with(&http_client(), store, channels, options, shutdown).await
}

/// The same with an HTTP client the caller keeps, so its connections are
/// reused from one call to the next (the demo delivers every half second).
pub async fn deliver_with(
    http: &reqwest::Client,
    store: &Store,
    channels: &Channels,
    options: &Options,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<Report> {
    let shared = Arc::new(Shared {
        store: store.clone(),
        channels: channels.clone(),
        http: http.clone(),
        options: options.clone(),
        windows: Default::default(),
        claim_us: Default::default(),
        reserve_us: Default::default(),
        flows: Default::default(),
    });
    advertise(&shared, &store.delivery_queue().await?).await?;
    // The live limits, read in the background so every batch follows a
    // change within LIVE_REFRESH, however long a batch takes.
    shared.flows.refresh(&shared.store, &shared.channels).await;
    let follows = {
        let shared = shared.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            while !*shutdown.borrow() {
                tokio::select! {
                    _ = tokio::time::sleep(super::flow::LIVE_REFRESH) => {}
                    _ = shutdown.changed() => {}
                }
                shared.flows.refresh(&shared.store, &shared.channels).await;
            }
        })
    };
    let mut tasks = Vec::new();
    for n in 0..options.workers.max(1) {
        let shared = shared.clone();
        let shutdown = shutdown.clone();
        // Unique per worker, also when this process runs several
        // deliveries at once (the bench, the demo).
        static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let token = format!(
            "{}:{}:{run}:{n}:{}",
            crate::store::this_host(),
            std::process::id(),
            now_millis()
        );
        tasks.push(tokio::spawn(async move {
            work(&shared, &token, n == 0, shutdown).await
        }));
    }
    let mut report = Report::default();
    let mut failed = None;
    for t in tasks {
        match t.await? {
            Ok(r) => report.add(r),
            Err(e) => failed = failed.or(Some(e)),
        }
    }
    follows.abort();
    match failed {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

pub(super) struct Shared {
    pub(super) store: Store,
    pub(super) channels: Channels,
    pub(super) http: reqwest::Client,
    pub(super) options: Options,
    /// Each guardrail's window of attempts.
    pub(super) windows: super::guard::Windows,
    /// How long the last claim and the last reservation of slots took, in
    /// microseconds: a paced batch's slots start no sooner than both from
    /// now, so its first sends are not already late.
    pub(super) claim_us: AtomicI64,
    pub(super) reserve_us: AtomicI64,
    /// Each channel's limits: the file's, or what an operator set live.
    pub(super) flows: super::flow::LiveFlows,
}

async fn work(
    s: &Shared,
    token: &str,
    advertises: bool,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let mut advertised = std::time::Instant::now();
    let mut errors = crate::logging::RepeatLimiter::new(Duration::from_secs(30));
    while !*shutdown.borrow() {
        let did = match round(s, token, &shutdown, &mut report).await {
            Ok(n) => {
                if let Some(line) = errors.success() {
                    eprintln!("journeyctl deliver: {line}");
                }
                n
            }
            Err(e) if s.options.once => return Err(e),
            Err(e) => {
                // The database may come back: keep going.
                tracing::warn!("delivery failed: {e}");
                let what = format!("delivery failed: {e}");
                if let Some(line) = errors.failure(&what, std::time::Instant::now()) {
                    eprintln!("{line}");
                }
                0
            }
        };
        if advertises && advertised.elapsed() > Duration::from_secs(5) {
            if let Ok(queue) = s.store.delivery_queue().await {
                let _ = advertise(s, &queue).await;
            }
            advertised = std::time::Instant::now();
        }
        if did == 0 {
            if s.options.once {
                break;
            }
            fold(s).await;
            tokio::select! {
                _ = tokio::time::sleep(s.options.idle) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
    fold(s).await;
    Ok(report)
}

/// On a cluster, folds what the buckets recorded into the versions' figures.
async fn fold(s: &Shared) {
    let _ = s
        .store
        .fold_shares()
        .await
        .inspect_err(|e| tracing::warn!("folding: {e}"));
}

/// One pass over the versions with pending messages; how many messages
/// this worker handed over.
async fn round(
    s: &Shared,
    token: &str,
    shutdown: &watch::Receiver<bool>,
    report: &mut Report,
) -> anyhow::Result<usize> {
    let mut did = 0;
    for v in s.store.delivery_queue().await? {
        if *shutdown.borrow() {
            break;
        }
        // Channels without limits share one claim; each limited channel
        // claims what its reservation allows.
        let mut free: Vec<String> = Vec::new();
        let mut limited: BTreeMap<&str, (&Channel, Vec<String>)> = BTreeMap::new();
        for a in &v.actions {
            match s.channels.route(a) {
                Some(c) if s.flows.flow(c).is_limited() => {
                    limited
                        .entry(&c.name)
                        .or_insert((c, Vec::new()))
                        .1
                        .push(a.clone());
                }
                Some(_) => free.push(a.clone()),
                None => {}
            }
        }
        if !free.is_empty() {
            let timeout = free
                .iter()
                .filter_map(|a| s.channels.route(a))
                .map(|c| c.timeout)
                .max()
                .unwrap_or_default();
            let lease = (timeout + LEASE_MARGIN).as_millis() as i64;
            let batch = Batch {
                actions: &free,
                limit: s.options.batch,
                lease_ms: lease,
                pace: None,
            };
            did += send_claimed(s, token, &v, batch, report).await?;
        }
        for (channel, actions) in limited.into_values() {
            did += super::limited::send_limited(s, token, &v, channel, &actions, report).await?;
        }
    }
    Ok(did)
}

/// What one claim takes and how its messages go.
pub(super) struct Batch<'a> {
    pub(super) actions: &'a [String],
    pub(super) limit: i64,
    pub(super) lease_ms: i64,
    pub(super) pace: Option<Pace>,
}

/// Claims a batch of the version's messages, hands them over and records
/// what happened; how many it claimed.
pub(super) async fn send_claimed(
    s: &Shared,
    token: &str,
    v: &PendingVersion,
    batch: Batch<'_>,
    report: &mut Report,
) -> anyhow::Result<usize> {
    let claiming = std::time::Instant::now();
    let claimed = s
        .store
        .claim(
            v.version_id,
            batch.actions,
            batch.limit,
            batch.lease_ms,
            token,
        )
        .await?;
    s.claim_us
        .store(claiming.elapsed().as_micros() as i64, Ordering::Relaxed);
    if claimed.is_empty() {
        return Ok(0);
    }
    let n = claimed.len();
    let attempts = hand_over(s, v, claimed, batch.pace).await;
    let at = s.options.at.unwrap_or_else(now_millis);
    report.add(s.store.record(v.version_id, token, &attempts, at).await?);
    judge(s, v, &attempts).await;
    if let Some(m) = &s.options.metrics {
        for (c, a) in &attempts {
            m.attempted(&c.action, a);
        }
    }
    if let Some(p) = &s.options.progress {
        p.inc(attempts.len() as u64);
    }
    Ok(n)
}

/// Feeds each channel's guardrail the attempts just recorded, and pauses
/// the version, as an operator would, when one trips: no request of the
/// version starts after the pause commits.
async fn judge(s: &Shared, v: &PendingVersion, attempts: &[(Claimed, Attempt)]) {
    let by_channel = super::guard::tally(&s.channels, attempts);
    let now_s = (now_millis() / 1000) as u64;
    for (name, (rule, ok, failed)) in by_channel {
        let key = (v.version_id, name);
        if let Some(t) = s.windows.observe(key, ok, failed, now_s, rule) {
            let reason = t.reason(name);
            let at = s.options.at.unwrap_or_else(now_millis);
            match s
                .store
                .pause_by_guardrail(&v.journey, v.version, &reason, at)
                .await
            {
                Ok(true) => eprintln!(
                    "journeyctl deliver: guardrail paused {} v{}: {reason}",
                    v.journey.escape_debug(),
                    v.version
                ),
                Ok(false) => {}
                Err(e) => tracing::warn!(
                    "the guardrail could not pause {} v{}: {e}",
                    v.journey,
                    v.version
                ),
            }
        }
    }
}

/// Sends every claimed message through its channel, the channels at once.
async fn hand_over(
    s: &Shared,
    v: &PendingVersion,
    claimed: Vec<Claimed>,
    pace: Option<Pace>,
) -> Vec<(Claimed, Attempt)> {
    // Only routed actions are claimed, so every message has its channel.
    let mut groups: BTreeMap<&str, (&Channel, Vec<&Claimed>)> = BTreeMap::new();
    for c in &claimed {
        if let Some(ch) = s.channels.route(&c.action) {
            groups
                .entry(ch.name.as_str())
                .or_insert((ch, Vec::new()))
                .1
                .push(c);
        }
    }
    let sends = groups.into_values().map(|(channel, msgs)| async move {
        let bodies: Vec<Body> = msgs
            .iter()
            .map(|m| Body::new(&v.journey, v.version, m))
            .collect();
        let tried = send_batch(&s.http, channel, &bodies, pace).await;
        // A receiver that asks to wait holds the whole channel, for every
        // worker, where the channel has limits the store keeps.
        let hold = tried
            .iter()
            .filter_map(|t| match t {
                Tried::RetryAfter(_, d) => Some(*d),
                _ => None,
            })
            .max();
        if let (Some(d), true) = (hold, s.flows.flow(channel).is_limited())
            && let Err(e) = s.store.hold_flow(&channel.name, d.as_millis() as i64).await
        {
            tracing::warn!("cannot hold {} for its Retry-After: {e}", channel.name);
        }
        msgs.iter()
            .zip(tried)
            .map(|(m, t)| ((*m).clone(), attempt_of(m, t, channel.max_attempts)))
            .collect::<Vec<_>>()
    });
    futures_util::future::join_all(sends)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// What an attempt means for the message, given its attempts so far.
fn attempt_of(m: &Claimed, tried: Tried, max_attempts: i64) -> Attempt {
    match tried {
        Tried::Sent => Attempt::Sent,
        Tried::Late => Attempt::Released,
        Tried::Fatal(error) => Attempt::Failed { error },
        Tried::Retry(error) if m.attempts >= max_attempts => Attempt::Failed {
            error: format!("{error} (attempt {} of {max_attempts})", m.attempts),
        },
        Tried::Retry(error) => Attempt::Retry {
            after_ms: backoff_ms(m.attempts),
            error,
        },
        Tried::RetryAfter(error, _) if m.attempts >= max_attempts => Attempt::Failed {
            error: format!("{error} (attempt {} of {max_attempts})", m.attempts),
        },
        // Not before the receiver said, nor before the backoff.
        Tried::RetryAfter(error, after) => Attempt::Retry {
            after_ms: backoff_ms(m.attempts).max(after.as_millis() as i64),
            error,
        },
        Tried::NoAnswer(error) if m.attempts >= max_attempts => Attempt::Unanswered {
            after_ms: None,
            error: format!("{error} (attempt {} of {max_attempts})", m.attempts),
        },
        Tried::NoAnswer(error) => Attempt::Unanswered {
            after_ms: Some(backoff_ms(m.attempts)),
            error,
        },
    }
}

/// Tells every console which channel each action of a queued version
/// goes out through (or none).
async fn advertise(s: &Shared, queue: &[PendingVersion]) -> anyhow::Result<()> {
    let mut actions: Vec<&String> = queue.iter().flat_map(|v| &v.actions).collect();
    actions.sort();
    actions.dedup();
    let routes: Vec<_> = actions
        .into_iter()
        .map(|a| {
            let channel = s.channels.route(a);
            let file = channel.map(|c| c.flow.live()).unwrap_or_default();
            (a.clone(), channel.map(|c| c.name.clone()), file)
        })
        .collect();
    let worker = format!("{}:{}", crate::store::this_host(), std::process::id());
    s.store
        .advertise_routes(&routes, &worker, now_millis())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        let waits: Vec<i64> = (1..=10).map(backoff_ms).collect();
        assert_eq!(
            waits,
            [
                1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000, 300000
            ]
        );
    }
}

//! The data task: fetches what the screen shows, every refresh interval or
//! at once when the view changes, and sends it to the console. The keyboard
//! never waits on it. When the store is gone it keeps trying, with backoff.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc, watch};

use super::app::{DetailData, Msg, Snapshot, Want};
use crate::domain::Millis;
use crate::domain::clock::SimClock;
use crate::domain::time::now_millis;
use crate::store::{Error, Outage, Store};

/// What the screen shows, with trends up to `now` (the wall clock, or
/// the demo's simulated time).
pub async fn fetch(store: &Store, want: &Want, now: Millis) -> Result<Snapshot, Error> {
    let versions = store.list_at(true, now).await?;
    let detail = match &want.detail {
        Some(journey) => Some(DetailData {
            journey: journey.clone(),
            versions: store.detail_at(journey, now).await?,
            audit: store.audit(Some(journey), 50).await?,
        }),
        None => None,
    };
    let audit = if want.audit {
        Some(store.audit(None, 1000).await?)
    } else {
        None
    };
    let channels = if want.channels {
        Some(store.channel_health().await?)
    } else {
        None
    };
    let impact = match &want.impact {
        Some(action) => Some((
            action.clone(),
            impact_of(store, action)
                .await
                .map_err(|e| crate::present::errors::for_console(&e)),
        )),
        None => None,
    };
    let publish = match &want.publish {
        Some(journey) => Some((
            journey.clone(),
            store
                .publish_preview(journey)
                .await
                .map_err(|e| crate::present::errors::for_console(&e)),
        )),
        None => None,
    };
    let hold = match &want.hold {
        Some(action) => Some((
            action.clone(),
            store
                .hold_impact(action)
                .await
                .map_err(|e| crate::present::errors::for_console(&e)),
        )),
        None => None,
    };
    Ok(Snapshot {
        versions,
        publish,
        hold,
        detail,
        audit,
        channels,
        impact,
        fetched_at: now_millis(),
    })
}

/// What the pane's action would do now; for a resume, also what it
/// releases per action and how long that takes at the channels' rates.
async fn impact_of(
    store: &Store,
    action: &crate::store::OperatorAction,
) -> Result<crate::store::Impact, Error> {
    let mut impact = store.preview(action).await?;
    if matches!(action.kind, crate::domain::ActionKind::Resume(_)) {
        let versions: Vec<(String, i64)> = impact
            .versions
            .iter()
            .map(|v| (v.journey.clone(), v.version))
            .collect();
        impact.release = store.release_forecast(&versions, now_millis()).await?;
    }
    Ok(impact)
}

/// A fetch that has not answered by then may be a store that is gone: one
/// connection of its own then finds out, so an outage shows within two
/// refresh intervals and a refusal shows as a refusal.
const SLOW_AFTER: Duration = Duration::from_millis(400);
/// How long a fetch may take while the store answers (a large detail view).
const FETCH_LIMIT: Duration = Duration::from_secs(10);

/// How often the data task fetches (at most), and by whose clock.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pub refresh: Duration,
    /// The demo's simulated clock; the wall clock when `None`.
    pub clock: Option<SimClock>,
}

/// What wakes the data task before its time: a key asking for a refresh,
/// and the watch's word of a change.
#[derive(Clone)]
pub struct Wake {
    pub kick: Arc<Notify>,
    pub pulse: Arc<Pulse>,
}

/// One refresh's data, or why the store cannot give it now.
async fn fetch_or_diagnose(store: &Store, want: &Want, pace: Pace) -> Result<Snapshot, Error> {
    let probe_within = pace
        .refresh
        .clamp(Duration::from_secs(1), Duration::from_secs(3));
    let now = pace.clock.map_or_else(now_millis, |c| c.now());
    let fut = fetch(store, want, now);
    tokio::pin!(fut);
    let early = tokio::time::timeout(SLOW_AFTER, &mut fut).await;
    if let Ok(result) = early {
        return match result {
            Ok(s) => Ok(s),
            // A broken connection says little; a probe says why.
            Err(e) => Err(match store.diagnose(probe_within).await {
                Err(why) => why,
                Ok(()) => e,
            }),
        };
    }
    let probe = store.diagnose(probe_within);
    tokio::pin!(probe);
    tokio::select! {
        result = &mut fut => return result,
        answer = &mut probe => answer?,
    }
    tokio::time::timeout(FETCH_LIMIT, fut)
        .await
        .unwrap_or_else(|_| {
            Err(Error::Unreachable {
                location: None,
                cause: Outage::NoAnswer {
                    within: Some(FETCH_LIMIT),
                },
            })
        })
}

/// How changes reach the fetcher: a status change fetches at once; moved
/// figures fetch at most once a refresh; with nothing moving and the watch
/// live, an idle console fetches once every `LIVE_SAFETY`.
#[derive(Default)]
pub struct Pulse {
    status: Notify,
    figures: Notify,
    live: std::sync::atomic::AtomicBool,
}

/// The longest a live console goes without fetching.
const LIVE_SAFETY: Duration = Duration::from_secs(120);

/// The least time between two fetches woken by the store's changes:
/// however many notifications arrive (a busy store, or any login sending
/// them on purpose), a console fetches at most four times a second.
const CHANGES_AT_MOST_EVERY: Duration = Duration::from_millis(250);

/// How often a live console on PostgreSQL, which otherwise asks the store
/// nothing while nothing changes, makes sure it is still there (a ping),
/// and how long the answer may take: a database that vanished shows as
/// stale within two seconds and a bit, whether its connections closed or
/// went quiet.
const HEARTBEAT: Duration = Duration::from_millis(1000);
const HEARTBEAT_LIMIT: Duration = Duration::from_millis(1000);

/// Watches the store's changes and tells the fetcher; when the watch is
/// lost, says so (the fetcher polls), fetches at once (changes may have
/// been missed) and starts a new one.
pub fn spawn_watch(
    store: Store,
    pulse: Arc<Pulse>,
    tx: mpsc::Sender<Msg>,
) -> tokio::task::JoinHandle<()> {
    use std::sync::atomic::Ordering;
    tokio::spawn(async move {
        loop {
            match store.watch_changes().await {
                Ok(mut watcher) => {
                    pulse.live.store(true, Ordering::Relaxed);
                    let _ = tx.send(Msg::Live(true)).await;
                    pulse.status.notify_one();
                    loop {
                        match watcher.next().await {
                            Ok(crate::store::Change::Status) => pulse.status.notify_one(),
                            Ok(crate::store::Change::Figures) => pulse.figures.notify_one(),
                            Err(e) => {
                                tracing::warn!("live changes lost: {e}");
                                break;
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!("cannot watch the store's changes: {e}"),
            }
            pulse.live.store(false, Ordering::Relaxed);
            if tx.send(Msg::Live(false)).await.is_err() {
                return;
            }
            pulse.status.notify_one();
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    })
}

/// The store the console works on, shared by the fetcher and the
/// actions: the fetcher puts a new one in when a SQLite file was replaced.
pub type Current = Arc<std::sync::Mutex<Store>>;

/// The store in `current` now.
pub fn store_of(current: &Current) -> Store {
    match current.lock() {
        Ok(s) => s.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

/// The store to fetch from: the same, or opened again when its SQLite
/// file was replaced (then the actions use the new one too); a file that
/// is gone is said so, and looked for again at the next try.
async fn store_now(store: &mut Store, current: &Current) -> Result<(), Error> {
    if store.follow_file().await?
        && let Ok(mut shared) = current.lock()
    {
        *shared = store.clone();
    }
    Ok(())
}

/// Sends a fetch's data or why it failed; the wait before the next try
/// when it failed (soon, then backing off, never slower than the
/// refresh), `None` when the console is gone.
async fn report(
    result: Result<Snapshot, Error>,
    tx: &mpsc::Sender<Msg>,
    failures: &mut u32,
    refresh: Duration,
) -> Option<Option<Duration>> {
    match result {
        Ok(snapshot) => {
            if *failures > 0 {
                tracing::info!("store reachable again");
            }
            *failures = 0;
            tx.send(Msg::Data(Box::new(snapshot))).await.ok()?;
            Some(None)
        }
        Err(e) => {
            *failures += 1;
            tracing::warn!("refresh failed ({failures}): {e}");
            tx.send(Msg::DataError(e, now_millis())).await.ok()?;
            Some(Some(
                Duration::from_millis(250u64 << (*failures).min(4)).min(refresh),
            ))
        }
    }
}

pub fn spawn(
    current: Current,
    pace: Pace,
    mut want: watch::Receiver<Want>,
    wake: Wake,
    tx: mpsc::Sender<Msg>,
) -> tokio::task::JoinHandle<()> {
    let Pace { refresh, .. } = pace;
    let Wake { kick, pulse } = wake;
    let mut store = store_of(&current);
    tokio::spawn(async move {
        let mut failures: u32 = 0;
        let mut heart = None;
        loop {
            let wanted = want.borrow_and_update().clone();
            let fetched = tokio::time::Instant::now();
            let result = match store_now(&mut store, &current).await {
                Ok(()) => fetch_or_diagnose(&store, &wanted, pace).await,
                Err(e) => Err(e),
            };
            let Some(backoff) = report(result, &tx, &mut failures, refresh).await else {
                return;
            };
            let mut moved = false;
            let mut changed_now = false;
            let mut beats = tokio::time::interval(HEARTBEAT);
            beats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            beats.reset();
            loop {
                let live = pulse.live.load(std::sync::atomic::Ordering::Relaxed);
                let every = match (backoff, live, moved) {
                    (Some(b), _, _) => b,
                    (None, true, false) => LIVE_SAFETY,
                    _ => refresh,
                };
                let until = fetched + every;
                tokio::select! {
                    _ = tokio::time::sleep_until(until) => break,
                    _ = kick.notified() => break,
                    _ = pulse.status.notified() => {
                        changed_now = true;
                        break;
                    }
                    _ = pulse.figures.notified() => moved = true,
                    changed = want.changed() => if changed.is_err() { return } else { break },
                    // Only while live (a polling console's next fetch
                    // finds out), and not while a failing store is
                    // already being retried.
                    _ = beats.tick(), if backoff.is_none() && live => {
                        if let Err(e) = store.heartbeat(&mut heart, HEARTBEAT_LIMIT).await {
                            tracing::warn!("heartbeat failed: {e}");
                            if tx.send(Msg::DataError(e, now_millis())).await.is_err() {
                                return;
                            }
                            break;
                        }
                    }
                }
            }
            // Changes coalesce: the next fetch waits out the least gap.
            if changed_now {
                tokio::time::sleep_until(fetched + CHANGES_AT_MOST_EVERY).await;
            }
        }
    })
}

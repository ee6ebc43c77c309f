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
use crate::store::Store;

/// What the screen shows, with trends up to `now` (the wall clock, or
/// the demo's simulated time).
pub async fn fetch(store: &Store, want: &Want, now: Millis) -> Result<Snapshot, String> {
    let versions = store.list_at(true, now).await.map_err(|e| e.to_string())?;
    let detail = match &want.detail {
        Some(journey) => Some(DetailData {
            journey: journey.clone(),
            versions: store
                .detail_at(journey, now)
                .await
                .map_err(|e| e.to_string())?,
            audit: store
                .audit(Some(journey), 50)
                .await
                .map_err(|e| e.to_string())?,
        }),
        None => None,
    };
    let audit = if want.audit {
        Some(store.audit(None, 1000).await.map_err(|e| e.to_string())?)
    } else {
        None
    };
    let channels = if want.channels {
        Some(store.channel_health().await.map_err(|e| e.to_string())?)
    } else {
        None
    };
    let impact = match &want.impact {
        Some(action) => Some((
            action.clone(),
            store.preview(action).await.map_err(|e| e.to_string()),
        )),
        None => None,
    };
    Ok(Snapshot {
        versions,
        detail,
        audit,
        channels,
        impact,
        fetched_at: now_millis(),
    })
}

/// A fetch that has not answered by then may be a store that is gone: one
/// connection of its own then finds out, so an outage shows within two
/// refresh intervals and a refusal shows as a refusal.
const SLOW_AFTER: Duration = Duration::from_millis(400);
/// How long a fetch may take while the store answers (a large detail view).
const FETCH_LIMIT: Duration = Duration::from_secs(10);

/// One refresh's data, or why the store cannot give it now.
async fn fetch_or_diagnose(
    store: &Store,
    want: &Want,
    (refresh, clock): (Duration, Option<SimClock>),
) -> Result<Snapshot, String> {
    let probe_within = refresh.clamp(Duration::from_secs(1), Duration::from_secs(3));
    let now = clock.map_or_else(now_millis, |c| c.now());
    let fut = fetch(store, want, now);
    tokio::pin!(fut);
    let early = tokio::time::timeout(SLOW_AFTER, &mut fut).await;
    if let Ok(result) = early {
        return match result {
            Ok(s) => Ok(s),
            // A broken connection says little; a probe says why.
            Err(e) => Err(match store.diagnose(probe_within).await {
                Err(why) => why.to_string(),
                Ok(()) => e,
            }),
        };
    }
    let probe = store.diagnose(probe_within);
    tokio::pin!(probe);
    tokio::select! {
        result = &mut fut => return result,
        answer = &mut probe => if let Err(why) = answer {
            return Err(why.to_string());
        },
    }
    tokio::time::timeout(FETCH_LIMIT, fut)
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "the store did not answer within {}",
                humantime::format_duration(FETCH_LIMIT)
            ))
        })
}

pub fn spawn(
    store: Store,
    (refresh, clock): (Duration, Option<SimClock>),
    mut want: watch::Receiver<Want>,
    kick: Arc<Notify>,
    tx: mpsc::Sender<Msg>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut failures: u32 = 0;
        loop {
            let current = want.borrow_and_update().clone();
            let result = fetch_or_diagnose(&store, &current, (refresh, clock)).await;
            let wait = match result {
                Ok(snapshot) => {
                    if failures > 0 {
                        tracing::info!("store reachable again");
                    }
                    failures = 0;
                    if tx.send(Msg::Data(Box::new(snapshot))).await.is_err() {
                        return;
                    }
                    refresh
                }
                Err(e) => {
                    failures += 1;
                    tracing::warn!("refresh failed ({failures}): {e}");
                    if tx.send(Msg::DataError(e, now_millis())).await.is_err() {
                        return;
                    }
                    // Retry soon, then back off, never slower than the refresh.
                    Duration::from_millis(250u64 << failures.min(4)).min(refresh)
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = kick.notified() => {}
                changed = want.changed() => if changed.is_err() { return },
            }
        }
    })
}

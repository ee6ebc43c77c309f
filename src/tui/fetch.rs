//! The data task: fetches what the screen shows, every refresh interval or
//! at once when the view changes, and sends it to the console. The keyboard
//! never waits on it. When the store is gone it keeps trying, with backoff.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc, watch};

use super::app::{DetailData, Msg, Snapshot, Want};
use crate::domain::time::now_millis;
use crate::store::Store;

pub async fn fetch(store: &Store, want: &Want) -> Result<Snapshot, String> {
    let versions = store.list(true).await.map_err(|e| e.to_string())?;
    let detail = match &want.detail {
        Some(journey) => Some(DetailData {
            journey: journey.clone(),
            versions: store.detail(journey).await.map_err(|e| e.to_string())?,
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
        impact,
        fetched_at: now_millis(),
    })
}

pub fn spawn(
    store: Store,
    refresh: Duration,
    mut want: watch::Receiver<Want>,
    kick: Arc<Notify>,
    tx: mpsc::Sender<Msg>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut failures: u32 = 0;
        loop {
            let current = want.borrow_and_update().clone();
            let result = tokio::time::timeout(Duration::from_secs(10), fetch(&store, &current))
                .await
                .unwrap_or_else(|_| Err("the store did not answer within 10s".to_string()));
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
                    Duration::from_millis(500u64 << failures.min(4))
                        .min(refresh.max(Duration::from_secs(1)))
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

//! Posting alerts to a chat webhook: a JSON message (`{"text", "alert",
//! "journey", "state": "firing"|"resolved"}`, so a chat shows its `text`)
//! when an alert starts to hold, and once when it stops. The episodes
//! being told are kept in the store (`alert_state`), so a restart, or a
//! second process posting beside it, never tells one twice.

use serde::Serialize;

use super::Firing;
use crate::domain::Millis;
use crate::store::{Result, Store};

/// The most of an answer's body read (the rest is dropped).
const MOST_BODY: usize = 64 * 1024;

#[derive(Serialize)]
struct Message<'a> {
    text: String,
    alert: &'a str,
    journey: Option<&'a str>,
    state: &'a str,
    key: &'a str,
}

/// What one round told.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Told {
    pub firing: Vec<String>,
    pub resolved: Vec<String>,
    /// Posts that failed (tried again next round).
    pub failed: Vec<String>,
}

/// One round: posts every alert that began to hold since the last round
/// (whoever ran it) and every one that stopped holding.
pub async fn round(
    store: &Store,
    http: &reqwest::Client,
    to: &str,
    now_holding: &[Firing],
    now: Millis,
) -> Result<Told> {
    let mut told = Told::default();
    let told_before = store.alert_episodes().await?;
    for f in now_holding {
        if told_before.iter().any(|e| e.key == f.key) {
            continue;
        }
        // Taken first, so two processes never both tell it.
        if !store.alert_began(f, now).await? {
            continue;
        }
        let msg = Message {
            text: f.text.clone(),
            alert: &f.alert,
            journey: f.journey.as_deref(),
            state: "firing",
            key: &f.key,
        };
        match post(http, to, &msg).await {
            Ok(()) => told.firing.push(f.key.clone()),
            Err(why) => {
                store.alert_forget(&f.key).await?;
                told.failed.push(format!("{}: {why}", f.key));
            }
        }
    }
    for e in told_before {
        if now_holding.iter().any(|f| f.key == e.key) {
            continue;
        }
        if !store.alert_ended(&e.key).await? {
            continue;
        }
        let msg = Message {
            text: format!("✓ resolved: {}", e.text),
            alert: &e.alert,
            journey: e.journey.as_deref(),
            state: "resolved",
            key: &e.key,
        };
        match post(http, to, &msg).await {
            Ok(()) => told.resolved.push(e.key.clone()),
            Err(why) => {
                // Kept as told, so the resolution is tried again.
                store.alert_restore(&e, now).await?;
                told.failed.push(format!("{}: {why}", e.key));
            }
        }
    }
    Ok(told)
}

/// One POST through the hardened client (no redirect followed); any 2xx
/// is delivered.
async fn post(
    http: &reqwest::Client,
    to: &str,
    msg: &Message<'_>,
) -> std::result::Result<(), String> {
    let resp = http
        .post(to)
        .timeout(std::time::Duration::from_secs(10))
        .header("Content-Type", "application/json")
        .body(serde_json::to_vec(msg).map_err(|e| e.to_string())?)
        .send()
        .await
        .map_err(|e| crate::delivery::send::error_words(&e))?;
    let status = resp.status();
    // Read a little of the answer at most, so a stream never fills memory.
    let mut resp = resp;
    let mut read = 0usize;
    while let Ok(Some(chunk)) = resp.chunk().await {
        read += chunk.len();
        if read > MOST_BODY {
            break;
        }
    }
    if status.is_success() {
        Ok(())
    } else if status.is_redirection() {
        Err(format!(
            "HTTP {}: a redirect is not followed",
            status.as_u16()
        ))
    } else {
        Err(format!("HTTP {}", status.as_u16()))
    }
}

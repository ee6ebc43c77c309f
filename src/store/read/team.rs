//! What operators left on each version: its notes (newest first) and who
//! claims it now, from the audit rows `note`, `claim` and `unclaim`.

use std::collections::HashMap;

use super::VersionSummary;
use crate::domain::Millis;
use crate::domain::time::{parse_rfc3339, to_rfc3339};
use crate::store::Result;

/// A note on a version.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Note {
    pub at: String,
    pub by: String,
    pub text: String,
    #[serde(skip)]
    pub at_ms: Millis,
}

/// Who is on a version, until when, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Claim {
    pub by: String,
    pub until: String,
    pub reason: Option<String>,
    #[serde(skip)]
    pub until_ms: Millis,
}

/// An audit row of the team: journey, version, action, actor, at, its
/// `to` (a claim's end) and reason (a note's text, a claim's why).
type TeamRow = (
    String,
    i64,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
);

/// The notes kept on each version's row (the detail's history has all).
const NOTES_SHOWN: usize = 20;

/// Fills each version's notes and claim (a claim run out by `now` is
/// none).
pub(super) async fn team_of(
    conn: &mut sqlx::AnyConnection,
    list: &mut [VersionSummary],
    now: Millis,
) -> Result<()> {
    let rows: Vec<TeamRow> = sqlx::query_as(
        "SELECT journey, version, action, actor, at, to_status, reason FROM audit \
             WHERE action IN ('note', 'claim', 'unclaim') AND version IS NOT NULL ORDER BY id DESC",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut notes: HashMap<(String, i64), Vec<Note>> = HashMap::new();
    let mut claims: HashMap<(String, i64), Option<Claim>> = HashMap::new();
    for (journey, version, action, by, at, to, reason) in rows {
        let key = (journey, version);
        match action.as_str() {
            "note" => {
                let kept = notes.entry(key).or_default();
                if kept.len() < NOTES_SHOWN {
                    kept.push(Note {
                        at: to_rfc3339(at),
                        by,
                        text: reason.unwrap_or_default(),
                        at_ms: at,
                    });
                }
            }
            // Newest first: the first claim or unclaim met is the latest.
            _ => {
                claims.entry(key).or_insert_with(|| {
                    let until_ms = to.as_deref().and_then(|t| parse_rfc3339(t).ok())?;
                    (action == "claim" && until_ms > now).then(|| Claim {
                        by,
                        until: to_rfc3339(until_ms),
                        reason,
                        until_ms,
                    })
                });
            }
        }
    }
    for v in list {
        let key = (v.journey.clone(), v.version);
        v.notes = notes.remove(&key).unwrap_or_default();
        v.claim = claims.remove(&key).flatten();
    }
    Ok(())
}

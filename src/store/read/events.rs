//! What operators did to a version, laid on its trends: the audit rows of
//! the version (publish, pause, resume, stop, notes, A/B choices) and of
//! the actions it uses (holds, releases, rate changes) in a window of
//! time, for the detail screen's marker row and `trend --json`.

use serde::Serialize;
use sqlx::Row;

use crate::domain::Millis;
use crate::domain::time::to_rfc3339;
use crate::store::{Result, Store};

/// The audit actions that mark a trend, each with its letter and its
/// name in the key, in the key's order.
pub const TREND_MARKS: [(&str, char, &str); 11] = [
    ("publish", 'P', "publish"),
    ("pause", 'p', "pause"),
    ("resume", 'r', "resume"),
    ("hold_expired", 'e', "hold ran out"),
    ("hold", 'h', "hold"),
    ("release", 'l', "release"),
    ("rate", 't', "rate"),
    ("variant", 'v', "A/B by hand"),
    ("note", 'n', "note"),
    ("finish", 'F', "finish"),
    ("stop", 'S', "stop"),
];

/// One operator's (or rule's) act on a version, at its time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrendEvent {
    pub at: String,
    pub action: String,
    pub by: String,
    /// The action it touched, for a hold, release or rate (`webhook:crm`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The reason given, or the note's text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip)]
    pub at_ms: Millis,
}

impl TrendEvent {
    /// The letter that marks it on a trend.
    pub fn letter(&self) -> char {
        TREND_MARKS
            .iter()
            .find(|(a, _, _)| *a == self.action)
            .map_or('*', |(_, l, _)| *l)
    }
}

impl Store {
    /// The acts on `journey vN` and on the actions it uses (`uses`),
    /// from `from` to `to` (both included), oldest first.
    pub async fn trend_events(
        &self,
        (journey, version): (&str, i64),
        uses: &[String],
        (from, to): (Millis, Millis),
    ) -> Result<Vec<TrendEvent>> {
        let kinds: Vec<String> = TREND_MARKS
            .iter()
            .map(|(a, _, _)| format!("'{a}'"))
            .collect();
        // The subjects are bound, never formatted in.
        let subjects: Vec<String> = (0..uses.len()).map(|i| format!("${}", i + 5)).collect();
        let of_actions = if uses.is_empty() {
            String::new()
        } else {
            format!(
                " OR (journey = '' AND subject IN ({}))",
                subjects.join(", ")
            )
        };
        let sql = format!(
            "SELECT at, actor, action, subject, reason FROM audit \
             WHERE at >= $1 AND at <= $2 AND action IN ({}) \
             AND ((journey = $3 AND version = $4){of_actions}) ORDER BY at, id",
            kinds.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(from)
            .bind(to)
            .bind(journey)
            .bind(version);
        for action in uses {
            q = q.bind(format!("action:{action}"));
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let at: Millis = r.try_get("at")?;
                let subject: Option<String> = r.try_get("subject")?;
                Ok(TrendEvent {
                    at: to_rfc3339(at),
                    action: r.try_get("action")?,
                    by: r.try_get("actor")?,
                    subject: subject.and_then(|s| s.strip_prefix("action:").map(str::to_string)),
                    reason: r.try_get("reason")?,
                    at_ms: at,
                })
            })
            .collect()
    }
}

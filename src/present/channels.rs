//! A channel's health in words: its name as the workers report it, its
//! row in the channels table, its last error and its line in the kill
//! switch pane.

use super::{escaped, thousands};
use crate::domain::Millis;
use crate::store::ActionHealth;

/// The channel an action goes out through, as the workers report it:
/// `email`, `none` (no channel: its messages stay pending), or `no worker`.
pub fn channel_name(h: &ActionHealth) -> String {
    match &h.route {
        Some(Some(c)) => c.clone(),
        Some(None) => "none".into(),
        None => "no worker".into(),
    }
}

/// "12s ago: HTTP 503 Service Unavailable" (the age first: a long error
/// is cut at the end) while the action fails, or "-": an error a later
/// send got past is history (`channels --json` keeps it).
/// One action's row of the channels table, on the terminal and on the
/// console: action, channel, pending, sent, failed, retrying, the given
/// `uncertain` count and the last error.
pub fn channel_cells(h: &ActionHealth, uncertain: i64, now: Millis) -> Vec<String> {
    vec![
        escaped(&h.action).into_owned(),
        escaped(&channel_name(h)).into_owned(),
        thousands(h.pending),
        thousands(h.sent),
        thousands(h.failed),
        thousands(h.retrying),
        thousands(uncertain),
        escaped(&last_error(h, now)).into_owned(),
    ]
}

pub fn last_error(h: &ActionHealth, now: Millis) -> String {
    match (&h.last_error, h.last_error_ms) {
        (Some(e), Some(at)) if h.failing() => {
            format!("{}: {e}", crate::domain::time::ago(now, at))
        }
        _ => "-".into(),
    }
}

/// One action's delivery health in a line (the kill switch pane, `channels`).
pub fn channel_line(h: &ActionHealth, now: Millis) -> String {
    let error = match last_error(h, now).as_str() {
        "-" => "no error now".to_string(),
        e => format!("last error {e}"),
    };
    format!(
        "{} via {}: {} pending, {} sent, {} failed, {} retrying; {error}",
        h.action,
        channel_name(h),
        thousands(h.pending),
        thousands(h.sent),
        thousands(h.failed),
        thousands(h.retrying),
    ) + &may_have_arrived_line(h)
}

/// `; 3 pending and 7 cancelled may have arrived` (after attempts
/// without an answer), or nothing.
fn may_have_arrived_line(h: &ActionHealth) -> String {
    let parts: Vec<String> = [
        (h.uncertain, "pending"),
        (h.cancelled_uncertain, "cancelled"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{} {what}", thousands(*n)))
    .collect();
    if parts.is_empty() {
        return String::new();
    }
    format!("; {} may have arrived", parts.join(" and "))
}

//! A channel's health in words: its name as the workers report it, its
//! row in the channels table, its last error and its line in the kill
//! switch pane.

use super::{escaped, thousands};
use crate::domain::Millis;
use crate::store::{ActionHealth, HoldImpact, LiveLimits, RateChanged};

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
/// console: action, channel, its limits (as `limits` words them),
/// pending, sent, failed, retrying, the given `uncertain` count and the
/// last error.
pub fn channel_cells(h: &ActionHealth, limits: String, uncertain: i64, now: Millis) -> Vec<String> {
    vec![
        escaped(&h.action).into_owned(),
        escaped(&channel_name(h)).into_owned(),
        limits,
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
    let held = match h.held() {
        0 => String::new(),
        n => format!(" ({} held)", thousands(n)),
    };
    let error = match last_error(h, now).as_str() {
        "-" => "no error now".to_string(),
        e => format!("last error {e}"),
    };
    format!(
        "{} via {}: {} pending{held}, {} sent, {} failed, {} retrying; {error}",
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

/// What `rate` did: `email: 50/s, 4 at once (was the channels file's);
/// every running deliver follows within 1 s`.
pub fn rate_changed(c: &RateChanged) -> String {
    let was = match &c.before {
        Some(l) => l.words(),
        None => "the channels file's".into(),
    };
    let now = match &c.after {
        Some(l) => format!("{} (was {was})", l.words()),
        None => format!("back to the channels file's limits (was {was})"),
    };
    escaped(&format!(
        "{}: {now}; every running deliver follows within 1 s",
        c.action
    ))
    .into_owned()
}

/// An action's channel limits in a few words for the console's column:
/// `20/s, 8 at once (live)` where an operator set them, `200/s` from the
/// file, or `-`.
pub fn limits_short(h: &ActionHealth) -> String {
    let words = h.limits().words();
    let limits = match (&h.live, words.is_empty()) {
        (Some(_), _) => format!("{words} (live)"),
        (None, true) => "-".into(),
        (None, false) => words,
    };
    match &h.hold {
        Some(_) => format!("⏸ held · {limits}"),
        None => limits,
    }
}

/// `⏸ held by alice since 14:05 until 18:05; ` where the action is held.
fn hold_words(h: &ActionHealth) -> String {
    let Some(hold) = &h.hold else {
        return String::new();
    };
    let hhmm = |t| {
        crate::domain::time::to_datetime(t)
            .format("%H:%M")
            .to_string()
    };
    let until = hold
        .until
        .map(|u| format!(" until {}", hhmm(u)))
        .unwrap_or_default();
    let whole = match hold.action == h.action {
        true => String::new(),
        false => format!(" (as {})", hold.action),
    };
    format!(
        "⏸ held{whole} by {} since {}{until}; ",
        hold.held_by,
        hhmm(hold.held_at)
    )
}

/// An action's channel limits: `50/s (set by alice 14:05; file: 200/s)`
/// where an operator set them live, `200/s, 8 at once` from the file, or
/// `-` (none, or no worker has said).
pub fn limits_words(h: &ActionHealth) -> String {
    let shown = |l: LiveLimits| match l.words() {
        w if w.is_empty() => "none".to_string(),
        w => w,
    };
    let line = match (&h.live, h.file_limits) {
        (Some(live), file) => format!(
            "{} (set by {} {}; file: {})",
            shown(h.limits()),
            live.set_by,
            crate::domain::time::to_datetime(live.set_at).format("%H:%M"),
            file.map_or_else(|| "unknown".to_string(), shown)
        ),
        (None, Some(file)) if file != LiveLimits::default() => file.words(),
        _ => "-".into(),
    };
    escaped(&format!("{}{line}", hold_words(h))).into_owned()
}

/// `310 pending in 2 running version(s) (cart v2: 300, welcome v1: 10)`.
pub fn hold_impact_words(i: &HoldImpact) -> String {
    let each: Vec<String> = i
        .versions
        .iter()
        .map(|(j, v, n)| format!("{j} v{v}: {}", thousands(*n)))
        .collect();
    let listed = match each.is_empty() {
        true => String::new(),
        false => format!(" ({})", each.join(", ")),
    };
    format!(
        "{} pending in {} running version(s){listed}",
        thousands(i.pending()),
        i.versions.len()
    )
}

/// What a hold or release did, in a line: `held webhook:crm (waited for 3
/// deliveries in flight): no message of it is claimed from now; 310
/// pending in 2 running version(s) stay pending until 18:05`.
pub fn hold_done(i: &HoldImpact, releasing: bool, until: Option<Millis>) -> String {
    if releasing {
        return escaped(&format!(
            "released {}: {} go out again",
            i.action,
            hold_impact_words(i)
        ))
        .into_owned();
    }
    let waited = match i.waited {
        0 => String::new(),
        n => format!(" (waited for {} delivery(ies) in flight)", thousands(n)),
    };
    let till = match until {
        Some(u) => format!("until {}", crate::domain::time::short(u)),
        None => "until released".to_string(),
    };
    escaped(&format!(
        "held {}{waited}: no message of it is claimed from now; {} stay pending {till}",
        i.action,
        hold_impact_words(i)
    ))
    .into_owned()
}

/// What a resume releases, an action a line, for the overdue choice:
/// `email: 4,200 at once, at 50/s: 1m24s; 9,000 within the hour`.
pub fn release_lines(
    release: &[crate::domain::forecast::Release],
    overdue: crate::domain::Overdue,
) -> Vec<String> {
    use crate::domain::Overdue;
    use crate::domain::time::duration_words;
    let ms = |ms: i64| duration_words(std::time::Duration::from_millis(ms.max(0) as u64));
    release
        .iter()
        .map(|r| {
            let f = &r.forecast;
            let now = match overdue {
                Overdue::Send => match (r.rate, r.drain_ms()) {
                    (Some(rate), Some(d)) => {
                        format!(
                            "{} at once, at {rate}: {}",
                            super::thousands(f.at_once),
                            ms(d)
                        )
                    }
                    _ => format!("{} at once (no rate limit)", super::thousands(f.at_once)),
                },
                Overdue::Skip => "what fell due is skipped (cancelled)".to_string(),
                Overdue::Spread(over) => format!(
                    "{} spread over {} ({:.1}/s)",
                    super::thousands(f.at_once),
                    ms(over),
                    f.at_once as f64 * 1000.0 / over.max(1) as f64
                ),
            };
            format!(
                "{}: {now}; {} within the hour",
                super::escaped(&f.action),
                super::thousands(f.next_1h)
            )
        })
        .collect()
}

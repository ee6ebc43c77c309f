//! The sentences and labels both faces print, written once so that the CLI
//! and the console can never drift apart: a version's status, an action's
//! impact, the A/B label, a channel's health, the read-only refusal, numbers.

use crate::domain::abtest::VerdictKind;
use crate::domain::{EndKind, Millis, Shown};
use crate::store::{AbSummary, ActionHealth, AuditEntry, Outcome, VersionImpact, VersionSummary};

/// 1234567 -> "1,234,567": exact, and readable at a glance.
pub fn thousands(n: i64) -> String {
    use thousands::Separable;
    n.separate_with_commas()
}

/// A rate as a percentage with one decimal, or `-` when there is none.
pub fn pct(rate: Option<f64>) -> String {
    rate.map_or("-".to_string(), |r| format!("{:.1}%", r * 100.0))
}

pub fn shown(v: &VersionSummary) -> Shown {
    Shown::of(v.status, v.counts.active)
}

/// The status in words: `live`, `draining 1,234`, `drained`, `stopped`.
pub fn status_words(s: Shown) -> String {
    match s {
        Shown::Live => "live".to_string(),
        Shown::Draining(n) => format!("draining {}", thousands(n)),
        Shown::Drained => "drained".to_string(),
        Shown::Stopped => "stopped".to_string(),
        Shown::Draft => "draft".to_string(),
    }
}

/// The status with its symbol, for screens: `◐ draining 1,234`.
pub fn status_marked(s: Shown) -> String {
    format!("{} {}", s.symbol(), status_words(s))
}

/// A version's status cell on a list, given the wall clock: the status
/// with its symbol, or the hold (`⏸ paused 2h, stop in 2d`), and a mark
/// when its latest delivery attempt failed.
pub fn status_cell(v: &VersionSummary, now: Millis) -> String {
    use crate::domain::time::span;
    let base = match &v.paused {
        Some(p) => format!(
            "⏸ paused {}, {} in {}",
            span(now - p.since_ms),
            p.on_expiry,
            span(p.until_ms - now)
        ),
        None => status_marked(shown(v)),
    };
    if v.delivery_failing {
        format!("{base} ✉ failing")
    } else {
        base
    }
}

/// The hold in a sentence: `paused by alice since ..., until ... (then stop)`.
pub fn paused_story(v: &VersionSummary) -> Option<String> {
    v.paused.as_ref().map(|p| {
        format!(
            "paused by {} since {}, until {} (then {})",
            p.by, p.since, p.until, p.on_expiry
        )
    })
}

/// The status for text output, with the stored status first where the
/// words differ from it: `finished, draining 1,234`.
pub fn status_label(s: Shown) -> String {
    match s {
        Shown::Draining(_) | Shown::Drained => format!("finished, {}", status_words(s)),
        _ => status_words(s),
    }
}

/// What an action does to one version: `cart v1 (live): 40 active stopped,
/// 3 pending messages cancelled`.
pub fn impact_line(kind: EndKind, v: &VersionImpact) -> String {
    let (active, pending) = (thousands(v.active), thousands(v.pending));
    let what = match kind {
        EndKind::Finish => format!("{active} active left to drain"),
        EndKind::Stop => format!("{active} active stopped, {pending} pending messages cancelled"),
        EndKind::Pause(_) => format!("{active} active held, {pending} pending messages held"),
        EndKind::Resume => format!("{active} active go on, {pending} pending messages delivered"),
    };
    format!("{} v{} ({}): {what}", v.journey, v.version, v.status)
}

/// What an executed action did, in a sentence (the CLI's output, the
/// pane's outcome line).
pub fn outcome_summary(o: &Outcome) -> String {
    let names: Vec<String> = o
        .versions
        .iter()
        .map(|v| format!("{} v{}", v.journey, v.version))
        .collect();
    let active: i64 = o.versions.iter().map(|v| v.active).sum();
    let pending: i64 = o.versions.iter().map(|v| v.pending).sum();
    let names = names.join(", ");
    match o.kind {
        EndKind::Finish => format!(
            "finished {names}: no new entries; {active} active participant(s) left to drain"
        ),
        EndKind::Stop => format!(
            "stopped {names}: {active} active participant(s) stopped, {pending} pending message(s) cancelled"
        ),
        EndKind::Pause(hold) => format!(
            "paused {names} until {} (then {}): no entries, {active} active participant(s) \
             held before their next message, {pending} pending message(s) held",
            crate::domain::time::to_rfc3339(o.at.saturating_add(hold.millis)),
            hold.on_expiry.as_str()
        ),
        EndKind::Resume => format!(
            "resumed {names}: {active} active participant(s) go on, {pending} pending message(s) will be delivered"
        ),
    }
}

/// The A/B column: `-`, `collecting`, `no winner yet`, `winner B`.
pub fn ab_label(ab: Option<&AbSummary>) -> String {
    match ab {
        None => "-".to_string(),
        Some(a) => match (&a.verdict, &a.winner) {
            (VerdictKind::Winner, Some(w)) => format!("winner {w}"),
            (VerdictKind::Winner, None) => "winner".to_string(),
            (VerdictKind::NoWinnerYet, _) => "no winner yet".to_string(),
            (VerdictKind::Collecting, _) => "collecting".to_string(),
        },
    }
}

/// An audit row's change: `stop v2 live→stopped by alice@ops-1`, or
/// `... by alice (as mallory@ops-1)` where the login differs from the
/// claimed actor.
pub fn audit_change(e: &AuditEntry) -> String {
    let by = match &e.db_user {
        Some(login) if *login != e.actor => format!("{login} (as {}@{})", e.actor, e.host),
        _ => format!("{}@{}", e.actor, e.host),
    };
    format!(
        "{} v{} {}→{} by {by}",
        e.action,
        e.version.unwrap_or(0),
        e.from.as_deref().unwrap_or("-"),
        e.to.as_deref().unwrap_or("-"),
    )
}

/// How long some work took and its rate: ` in 1.23 s (40,650 steps/s)`.
pub fn rate(n: u64, unit: &str, secs: f64) -> String {
    if n == 0 || secs <= 0.0 {
        return format!(" in {secs:.2} s");
    }
    format!(
        " in {secs:.2} s ({} {unit}/s)",
        thousands((n as f64 / secs).round() as i64)
    )
}

/// Why an action is refused in a read-only session.
pub fn read_only(what: &str) -> String {
    format!("read-only: {what} (this session was started with --read-only)")
}

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
/// is cut at the end), or "-".
pub fn last_error(h: &ActionHealth, now: Millis) -> String {
    match (&h.last_error, h.last_error_ms) {
        (Some(e), Some(at)) => format!("{}: {e}", crate::domain::time::ago(now, at)),
        _ => "-".into(),
    }
}

/// One action's delivery health in a line (the kill switch pane, `channels`).
pub fn channel_line(h: &ActionHealth, now: Millis) -> String {
    format!(
        "{} via {}: {} pending, {} sent, {} failed, {} retrying; last error {}",
        h.action,
        channel_name(h),
        thousands(h.pending),
        thousands(h.sent),
        thousands(h.failed),
        thousands(h.retrying),
        last_error(h, now)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_statuses() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(-1000), "-1,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(status_marked(Shown::Draining(1234)), "◐ draining 1,234");
        assert_eq!(status_label(Shown::Drained), "finished, drained");
        assert_eq!(status_label(Shown::Live), "live");
    }
}

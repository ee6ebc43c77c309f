//! The sentences and labels both faces print, written once so that the CLI
//! and the console can never drift apart: a version's status, an action's
//! impact, the A/B label, a channel's health, the read-only refusal, numbers.

mod ab;
pub mod channels;
mod cli_line;
pub mod errors;
mod marks;

pub use ab::{ab_label, by_hand_lines, since_decision, srm_line, srm_meaning};
pub use channels::{
    channel_cells, channel_line, channel_name, last_error, limits_short, limits_words,
};
pub use cli_line::{cli_line, cli_words, hold_line, publish_line, rate_line};
pub use marks::{ENGINE_QUIET_MS, REQUESTED, claim_line, requested_words, schedule_words};

pub use errors::read_only;

/// Said before a finish or a stop is confirmed, on the terminal and in
/// the console's pane.
pub const CANNOT_BE_UNDONE: &str = "This cannot be undone.";

use crate::domain::{ActionKind, Millis, Shown};
use crate::store::{AuditEntry, Outcome, VersionImpact, VersionSummary, Waiting};

pub use crate::domain::text::thousands;

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
    use crate::domain::time::{age, left};
    let base = match &v.paused {
        Some(p) if p.by == "guardrail" => format!(
            "⏸ guardrail: {}",
            p.reason.as_deref().unwrap_or("a rule tripped")
        ),
        Some(p) => format!(
            "⏸ paused {}, {} in {}",
            age(now, p.since_ms),
            p.on_expiry,
            left(now, p.until_ms)
        ),
        None => status_marked(shown(v)),
    };
    let base = if v.unreadable.is_some() {
        format!("{base} ⚠ unreadable")
    } else {
        base
    };
    let base = if v.shares_aside > 0 {
        format!("{base} ⚠ set aside")
    } else {
        base
    };
    let base = if v.delivery_failing {
        format!("{base} ✉ failing")
    } else {
        base
    };
    match row_marks(v, now) {
        Some(marks) => format!("{base} {marks}"),
        None => base,
    }
}

/// What operators left on a version's row: who claims it (`◆ alice`),
/// how many notes (`✎ 2`), an action set for a time (`⏰ stop 23:59`).
pub fn row_marks(v: &VersionSummary, now: Millis) -> Option<String> {
    let marks: Vec<String> = [
        v.claim.as_ref().map(|c| format!("◆ {}", c.by)),
        (!v.notes.is_empty()).then(|| format!("✎ {}", v.notes.len())),
        schedule_words(&v.scheduled, now),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!marks.is_empty()).then(|| escaped(&marks.join(" ")).into_owned())
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
pub fn impact_line(kind: ActionKind, v: &VersionImpact) -> String {
    let (active, pending) = (thousands(v.active), thousands(v.pending));
    let what = match kind {
        ActionKind::Finish => format!("{active} active left to drain"),
        ActionKind::Stop => format!(
            "{active} active stopped, {pending} pending messages cancelled{}",
            may_have_arrived(v.uncertain)
        ),
        ActionKind::Pause(_) => format!("{active} active held, {pending} pending messages held"),
        ActionKind::Resume(_) => {
            format!("{active} active go on, {pending} pending messages delivered")
        }
    };
    format!("{} v{} ({}): {what}", v.journey, v.version, v.status)
}

/// What publishing a draft does, a line each: the version it finishes
/// (`finishes v3: 12,400 active go on to the end; new entries go to v4`,
/// or that nothing is live), then what the draft changes.
pub fn publish_lines(p: &crate::store::PublishImpact) -> Vec<String> {
    let first = match &p.finishes {
        Some(v) => format!(
            "finishes v{}: {} active go on to the end; new entries go to v{}",
            v.version,
            thousands(v.active),
            p.draft
        ),
        None => format!("nothing is live: new entries go to v{}", p.draft),
    };
    std::iter::once(first)
        .chain(p.differences.iter().cloned())
        .collect()
}

/// What an executed action did, in a sentence (the CLI's output, the
/// pane's outcome line).
pub fn outcome_summary(o: &Outcome) -> String {
    let said = outcome_words(o);
    match (&o.incident, o.kind) {
        (Some(id), ActionKind::Pause(_)) => {
            format!(
                "incident {id}: {said} (journeyctl resume --incident {id} resumes exactly these)"
            )
        }
        (Some(id), _) => format!("incident {id}: {said}"),
        (None, _) => said,
    }
}

/// The versions an outcome names: each, or the first few and how many
/// (a store-wide brake reaches hundreds).
fn version_names(o: &Outcome) -> String {
    const SHOWN: usize = 8;
    let names: Vec<String> = o
        .versions
        .iter()
        .take(SHOWN)
        .map(|v| format!("{} v{}", v.journey, v.version))
        .collect();
    match o.versions.len() {
        n if n > SHOWN => format!("{n} versions ({}, …)", names.join(", ")),
        _ => names.join(", "),
    }
}

fn outcome_words(o: &Outcome) -> String {
    let active = thousands(o.versions.iter().map(|v| v.active).sum());
    let pending = thousands(o.versions.iter().map(|v| v.pending).sum());
    let uncertain: i64 = o.versions.iter().map(|v| v.uncertain).sum();
    let names = version_names(o);
    let what = match o.kind {
        ActionKind::Finish => format!(
            "finished {names}: no new entries; {active} active participant(s) left to drain"
        ),
        ActionKind::Stop => format!(
            "stopped {names}: {active} active participant(s) stopped, {pending} pending message(s) cancelled{}",
            may_have_arrived(uncertain)
        ),
        ActionKind::Pause(hold) => format!(
            "paused {names} until {} (then {}): no entries, {active} active participant(s) \
             held before their next message, {pending} pending message(s) held",
            crate::domain::time::to_rfc3339(o.at.saturating_add(hold.millis)),
            hold.on_expiry.as_str()
        ),
        ActionKind::Resume(choice) => {
            // Skipped overdue messages are not delivered.
            let overdue: i64 = o.versions.iter().map(|v| v.overdue).sum();
            let all: i64 = o.versions.iter().map(|v| v.pending).sum();
            let delivered = match choice {
                crate::domain::Overdue::Skip => (all - overdue).max(0),
                _ => all,
            };
            format!(
                "resumed {names}: {active} active participant(s) go on, {} pending message(s) will be delivered",
                thousands(delivered)
            )
        }
    };
    let overdue: i64 = o.versions.iter().map(|v| v.overdue).sum();
    match o.kind {
        ActionKind::Stop | ActionKind::Pause(_) => format!("{what}; {}", in_flight_words(o)),
        ActionKind::Resume(choice) if overdue > 0 => {
            format!("{what}; {}", overdue_words(choice, overdue))
        }
        _ => what,
    }
}

/// What a resume did with the messages that fell due during the hold.
pub fn overdue_words(choice: crate::domain::Overdue, n: i64) -> String {
    use crate::domain::Overdue;
    let n = thousands(n);
    match choice {
        Overdue::Send => format!("{n} overdue message(s) go out now"),
        Overdue::Skip => format!("{n} overdue message(s) skipped (cancelled as overdue)"),
        Overdue::Spread(_) => format!(
            "{n} overdue message(s) {}",
            choice.words().replacen("spread", "spread over", 1)
        ),
    }
}

/// `, 7 of them after an attempt without an answer (they may have
/// arrived)`, or nothing.
fn may_have_arrived(uncertain: i64) -> String {
    if uncertain == 0 {
        return String::new();
    }
    format!(
        ", {} of them after an attempt without an answer (they may have arrived)",
        thousands(uncertain)
    )
}

/// What a stop or pause found in flight: how many went out while it
/// waited, and that none is in flight now.
fn in_flight_words(o: &Outcome) -> String {
    let waited: Vec<i64> = o.versions.iter().filter_map(|v| v.sent_waiting).collect();
    if waited.is_empty() {
        return "no delivery was in flight".into();
    }
    format!(
        "{} message(s) sent while it waited for deliveries in flight; none in flight now",
        thousands(waited.iter().sum())
    )
}

/// Text from the store or another login made safe for a terminal: control
/// characters shown escaped (`\e`, `\n`, `\r`, `\t`, `\u{7f}`), as
/// `--json` does, so a name can never move the cursor, clear a line or
/// forge another line of output.
pub fn escaped(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\u{1b}' => out.push_str("\\e"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// What a confirmed action is waiting for, said once it has waited a
/// while; `give_up` says how to stop waiting (`Esc gives up`).
pub fn waiting_line(w: &Waiting, give_up: &str) -> String {
    match w {
        Waiting::Store => format!(
            "waiting for the store: another writer holds it; this action goes next and keeps waiting until it commits ({give_up})…"
        ),
        Waiting::Held(who) => format!(
            "waiting for the store, held by {}; this action keeps waiting until it commits ({give_up})…",
            escaped(who)
        ),
        Waiting::Deliveries(n) => format!(
            "waiting for {} delivery(ies) in flight to finish (at most the channel's time-out)…",
            thousands(*n)
        ),
    }
}

/// What a stop or pause did to messages, as its audit row keeps it:
/// `40 cancelled (7 may have arrived), 3 sent while it waited`; `None`
/// for rows without figures.
pub fn audit_messages(e: &AuditEntry) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(c) = e.cancelled {
        parts.push(match e.cancelled_uncertain.unwrap_or(0) {
            0 => format!("{} cancelled", thousands(c)),
            u => format!(
                "{} cancelled ({} may have arrived)",
                thousands(c),
                thousands(u)
            ),
        });
    }
    if let Some(w) = e.sent_waiting {
        parts.push(format!("{} sent while it waited", thousands(w)));
    }
    if let (Some(choice), Some(n @ 1..)) = (&e.overdue, e.overdue_count) {
        parts.push(format!("{} overdue: {choice}", thousands(n)));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// An audit row's change: `stop v2 live→stopped by alice@ops-1`, or
/// `... by alice (as mallory@ops-1)` where the login differs from the
/// claimed actor.
pub fn audit_change(e: &AuditEntry) -> String {
    let by = match &e.db_user {
        Some(login) if *login != e.actor => format!("{login} (as {}@{})", e.actor, e.host),
        _ => format!("{}@{}", e.actor, e.host),
    };
    let what = match &e.subject {
        Some(s) => s.clone(),
        None => format!("v{}", e.version.unwrap_or(0)),
    };
    let line = format!(
        "{} {what} {}→{} by {by}{}",
        e.action,
        e.from.as_deref().unwrap_or("-"),
        e.to.as_deref().unwrap_or("-"),
        e.recorded_apart()
            .map(|t| format!(" (recorded {t})"))
            .unwrap_or_default()
    );
    escaped(&line).into_owned()
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

/// A series as a sparkline `width` cells wide: each cell sums its share
/// of the values, scaled to the largest cell; `·` where nothing happened.
pub fn sparkline(values: &[i64], width: usize) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    if values.is_empty() || width == 0 {
        return String::new();
    }
    let cells: Vec<i64> = (0..width)
        .map(|c| {
            let (from, to) = (c * values.len() / width, (c + 1) * values.len() / width);
            values[from..to.max(from + 1).min(values.len())]
                .iter()
                .sum()
        })
        .collect();
    let max = cells.iter().copied().max().unwrap_or(0).max(1);
    cells
        .iter()
        .map(|&n| {
            if n <= 0 {
                '·'
            } else {
                BARS[((n * 8 - 1) / max).clamp(0, 7) as usize]
            }
        })
        .collect()
}

/// A rate per minute: `412/min`, `0.4/min`, `0/min`.
pub fn per_minute(rate: f64) -> String {
    if rate == 0.0 || rate >= 10.0 {
        format!("{}/min", thousands(rate.round() as i64))
    } else {
        format!("{rate:.1}/min")
    }
}

/// Something in a version's last hour that needs a look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrendAlarm {
    /// Entries were flowing and fell to zero in the last 5 minutes while
    /// entry is open (a deploy that broke the feed, say).
    EntriesStopped,
    /// Failed deliveries in the last 5 minutes at three times or more the
    /// previous hour's rate.
    FailuresRising,
}

impl TrendAlarm {
    pub fn of(v: &VersionSummary) -> Option<TrendAlarm> {
        let recent = v.recent.as_ref()?;
        let (now, hour) = (recent.last(5), recent.last(60));
        let before = hour.entered - now.entered + recent.previous_hour.entered;
        if v.entry_open && now.entered == 0 && before >= 5 {
            return Some(TrendAlarm::EntriesStopped);
        }
        let usual = (hour.failed - now.failed + recent.previous_hour.failed) as f64 / 115.0;
        let lately = now.failed as f64 / 5.0;
        (now.failed >= 5 && lately >= 3.0 * usual).then_some(TrendAlarm::FailuresRising)
    }

    pub fn words(self) -> &'static str {
        match self {
            TrendAlarm::EntriesStopped => "▼ no entries",
            TrendAlarm::FailuresRising => "▲ failures",
        }
    }
}

/// The main screen's trend cell: entries per minute over the last hour.
pub fn entries_trend(v: &VersionSummary, width: usize) -> String {
    let values: Vec<i64> = v
        .recent
        .as_ref()
        .map(|r| r.hour.iter().map(|m| m.entered).collect())
        .unwrap_or_else(|| vec![0; 60]);
    sparkline(&values, width)
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

    #[test]
    fn sparklines_scale_to_their_largest_cell() {
        assert_eq!(sparkline(&[0, 1, 2, 4, 8, 0], 6), "·▁▂▄█·");
        // Three values a cell: sums 3, 0, 12.
        assert_eq!(sparkline(&[1, 1, 1, 0, 0, 0, 4, 4, 4], 3), "▂·█");
        assert_eq!(sparkline(&[0; 60], 4), "····");
        assert_eq!(per_minute(412.4), "412/min");
        assert_eq!(per_minute(0.4), "0.4/min");
        assert_eq!(per_minute(0.0), "0/min");
        assert_eq!(per_minute(1234.0), "1,234/min");
    }
}

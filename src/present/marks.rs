//! What operators left on a version's row: someone's claim, notes, an
//! action set for a time.

use super::escaped;
use crate::domain::Millis;
use crate::store::VersionSummary;

/// Someone else's claim on a version, said before an action on it:
/// `◆ cart v2 is claimed by alice for 1h20m: "CRM ticket 123"`.
pub fn claim_line(v: &VersionSummary, me: &str, now: Millis) -> Option<String> {
    let c = v.claim.as_ref().filter(|c| c.by != me)?;
    let why = c
        .reason
        .as_deref()
        .map(|r| format!(": \"{r}\""))
        .unwrap_or_default();
    Some(
        escaped(&format!(
            "◆ {} v{} is claimed by {} for {}{why}",
            v.journey,
            v.version,
            c.by,
            crate::domain::time::left(now, c.until_ms)
        ))
        .into_owned(),
    )
}

/// No engine seen for this long: a schedule will not run at its time.
pub const ENGINE_QUIET_MS: Millis = 60_000;

/// The soonest action set for a time, as a row shows it: `⏰ stop 23:59`
/// (`(+1)` for each further one), and `— no engine has run for 10m`
/// when nothing would carry it out.
pub fn schedule_words(marks: &[crate::store::ScheduleMark], now: Millis) -> Option<String> {
    let first = marks.first()?;
    let when = crate::domain::time::to_datetime(first.at_ms);
    let at = if first.at_ms - now < 86_400_000 {
        when.format("%H:%M").to_string()
    } else {
        when.format("%m-%d %H:%M").to_string()
    };
    let more = match marks.len() {
        1 => String::new(),
        n => format!(" (+{})", n - 1),
    };
    let quiet = match first.engine_seen_ms {
        None => " — no engine has run".to_string(),
        Some(seen) if now - seen > ENGINE_QUIET_MS => format!(
            " — no engine has run for {}",
            crate::domain::time::age(now, seen)
        ),
        Some(_) => String::new(),
    };
    Some(format!("⏰ {} {at}{more}{quiet}", first.verb))
}

/// A recorded request (four eyes): `resume sale v2 needs another
/// operator's approval on this store: request #4 recorded, open until
/// 2026-12-07T23:59:00Z (journeyctl approve 4, or A in the console)`.
pub fn requested_words(r: &crate::store::Request) -> String {
    escaped(&format!(
        "{} {REQUESTED}{} recorded, open until {} (journeyctl approve {}, or A in the console)",
        r.what, r.id, r.expires_at, r.id
    ))
    .into_owned()
}

/// What [`requested_words`] says of every request: a pane shows such an
/// outcome as recorded, not refused.
pub const REQUESTED: &str = "needs another operator's approval on this store: request #";

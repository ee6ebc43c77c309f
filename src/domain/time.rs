//! Time as epoch milliseconds: the one representation stored on both
//! backends, so comparisons are numeric everywhere.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

pub type Millis = i64;

pub fn now_millis() -> Millis {
    Utc::now().timestamp_millis()
}

pub fn parse_rfc3339(s: &str) -> Result<Millis, String> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("{s:?} is not an RFC 3339 time ({e})"))
}

pub fn to_datetime(ms: Millis) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// RFC 3339 with seconds, as the JSON output carries it.
pub fn to_rfc3339(ms: Millis) -> String {
    to_datetime(ms).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A compact form for screens: `2026-11-21 10:00`.
pub fn short(ms: Millis) -> String {
    to_datetime(ms).format("%Y-%m-%d %H:%M").to_string()
}

thread_local! {
    /// The earliest time at which an age or countdown made on this thread
    /// since [`watch_labels`] will read differently: the console draws
    /// again then, and not every second whether or not a label moved.
    static NEXT_CHANGE: std::cell::Cell<Millis> = const { std::cell::Cell::new(Millis::MAX) };
}

/// Starts noting when the labels made from now on change (see
/// [`labels_change_at`]).
pub fn watch_labels() {
    NEXT_CHANGE.set(Millis::MAX);
}

/// When the first label made since [`watch_labels`] reads differently
/// (`Millis::MAX` when none can).
pub fn labels_change_at() -> Millis {
    NEXT_CHANGE.get()
}

fn note_change(at: Millis) {
    NEXT_CHANGE.set(NEXT_CHANGE.get().min(at));
}

/// The unit a span is shown in, and its letter.
fn unit_of(ms: Millis) -> (Millis, char) {
    match ms.max(0) / 1000 {
        0..=59 => (1000, 's'),
        60..=3599 => (60_000, 'm'),
        3600..=86_399 => (3_600_000, 'h'),
        _ => (86_400_000, 'd'),
    }
}

/// How long since `then`, as [`span`]: `45s`, `12m`.
pub fn age(now: Millis, then: Millis) -> String {
    let d = (now - then).max(0);
    let (unit, _) = unit_of(d);
    note_change(then + (d / unit + 1) * unit);
    span(d)
}

/// How long until `until`, as [`span`] (`0s` once it has passed).
pub fn left(now: Millis, until: Millis) -> String {
    let d = until - now;
    if d > 0 {
        let (unit, _) = unit_of(d);
        note_change(until - (d / unit) * unit + 1);
    }
    span(d)
}

/// How long ago, for "updated 3s ago" and "last activity".
pub fn ago(now: Millis, then: Millis) -> String {
    format!("{} ago", age(now, then))
}

/// A span in its largest whole unit: `45s`, `12m`, `5h`, `3d`.
pub fn span(ms: Millis) -> String {
    let (unit, letter) = unit_of(ms);
    format!("{}{letter}", ms.max(0) / unit)
}

/// A duration in the forms `parse_duration` reads back: `3d`, `1h30m`,
/// `2s500ms` (never humantime's `3days`).
pub fn duration_words(d: std::time::Duration) -> String {
    let mut ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, name) in [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1_000, "s"),
        (1, "ms"),
    ] {
        if ms >= unit {
            out.push_str(&format!("{}{name}", ms / unit));
            ms %= unit;
        }
    }
    out
}

/// Durations in the usual forms: `500ms`, `30s`, `15m`, `2h`, `3d`, `1w`,
/// combined as `1h30m` or `1h 30m` (humantime's grammar).
pub fn parse_duration(s: &str) -> Result<Millis, String> {
    let text = s.trim();
    if text.is_empty() {
        return Err("duration is empty".into());
    }
    // The units the README lists, and no others (humantime would also
    // take years, months, "sec" and more).
    let mut unit = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_alphabetic() {
            unit.push(c);
        } else if !unit.is_empty() {
            if !["ms", "s", "m", "h", "d", "w"].contains(&unit.as_str()) {
                return Err(format!(
                    "duration {text:?}: unit {unit:?} is not one of ms, s, m, h, d, w"
                ));
            }
            unit.clear();
        }
    }
    let d = humantime::parse_duration(text).map_err(|e| {
        format!("duration {text:?}: {e} (e.g. \"500ms\", \"2s\", \"1h30m\", \"3d\")")
    })?;
    Millis::try_from(d.as_millis()).map_err(|_| format!("duration {text:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_said_in_the_units_they_are_read_in() {
        let ms = std::time::Duration::from_millis;
        for (d, said) in [
            (ms(259_200_000), "3d"),
            (ms(5_400_000), "1h30m"),
            (ms(2_500), "2s500ms"),
            (ms(250), "250ms"),
            (ms(0), "0s"),
        ] {
            assert_eq!(duration_words(d), said);
            assert_eq!(parse_duration(said), Ok(d.as_millis() as Millis), "{said}");
        }
    }

    #[test]
    fn labels_say_when_they_next_read_differently() {
        watch_labels();
        assert_eq!(labels_change_at(), Millis::MAX);
        assert_eq!(ago(10_500, 0), "10s ago");
        assert_eq!(labels_change_at(), 11_000);
        assert_eq!(age(200_000, 0), "3m");
        assert_eq!(labels_change_at(), 11_000, "the earliest one counts");
        watch_labels();
        assert_eq!(age(200_000, 0), "3m");
        assert_eq!(labels_change_at(), 240_000);
        watch_labels();
        assert_eq!(left(0, 5_500), "5s");
        assert_eq!(left(501, 5_500), "4s");
        assert_eq!(labels_change_at(), 501);
        watch_labels();
        assert_eq!(left(0, 90_000), "1m");
        assert_eq!(left(30_001, 90_000), "59s");
        assert_eq!(labels_change_at(), 30_001);
        watch_labels();
        assert_eq!(left(10, 5), "0s");
        assert_eq!(
            labels_change_at(),
            Millis::MAX,
            "a countdown that ran out stays"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2d"), Ok(172_800_000));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000));
        assert_eq!(parse_duration("0s"), Ok(0));
        assert_eq!(parse_duration("500ms"), Ok(500));
        assert_eq!(parse_duration("1h 30m"), Ok(5_400_000));
        assert_eq!(parse_duration("3d"), Ok(259_200_000));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("d").is_err());
        assert!(parse_duration("3x").is_err());
        for other in ["1y", "2months", "3sec", "1min"] {
            let e = parse_duration(other).unwrap_err();
            assert!(e.contains("is not one of ms, s, m, h, d, w"), "{e}");
        }
        assert!(parse_duration("99999999999999999999d").is_err());
    }

    #[test]
    fn rfc3339_round_trip() {
        let t = parse_rfc3339("2026-11-21T10:00:00Z").unwrap();
        assert_eq!(to_rfc3339(t), "2026-11-21T10:00:00Z");
        assert!(parse_rfc3339("yesterday").is_err());
    }
}

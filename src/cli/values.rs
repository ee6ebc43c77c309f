//! How the command line's values read: durations within their bounds.

use std::time::Duration;

use crate::domain::time::parse_duration;

/// A duration between `least` and `most` milliseconds (as their text).
fn bounded(s: &str, (least, most): (i64, i64), words: &str) -> Result<Duration, String> {
    let ms = parse_duration(s)?;
    if !(least..=most).contains(&ms) {
        return Err(format!("{s:?} is out of bounds: {words}"));
    }
    Ok(Duration::from_millis(ms as u64))
}

/// `run --interval`: 100ms to 1h.
pub(super) fn parse_interval(s: &str) -> Result<Duration, String> {
    bounded(s, (100, 3_600_000), "the interval is 100ms to 1h")
}

/// `--refresh`: 500ms to 5s.
pub(super) fn parse_refresh(s: &str) -> Result<Duration, String> {
    bounded(s, (500, 5_000), "the console refreshes every 500ms to 5s")
}

pub(super) fn parse_duration_arg(s: &str) -> Result<Duration, String> {
    Ok(Duration::from_millis(parse_duration(s)? as u64))
}

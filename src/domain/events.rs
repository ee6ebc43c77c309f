//! NDJSON events (SPEC §5): one object a line, each checked on its own so a
//! bad line is reported and skipped while every good line is applied.

use serde::Deserialize;

use super::time::{Millis, parse_rfc3339};

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Enter {
        journey: String,
        profile: String,
    },
    /// `{"type":"event"}`: a named event a profile performed. It converts
    /// when it is a version's goal, and exits when it is an exit event.
    Named {
        profile: String,
        name: String,
    },
    Segment {
        profile: String,
        segment: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimedEvent {
    pub event: Event,
    pub at: Millis,
}

#[derive(Deserialize)]
struct RawEvent {
    #[serde(rename = "type")]
    kind: Option<String>,
    journey: Option<String>,
    profile: Option<String>,
    name: Option<String>,
    segment: Option<String>,
    at: Option<String>,
}

/// The longest profile id taken, in bytes.
pub const MAX_PROFILE: usize = 256;

fn field(value: Option<String>, name: &str, kind: &str) -> Result<String, String> {
    match value {
        Some(v) if name == "profile" && v.len() > MAX_PROFILE => Err(format!(
            "field \"profile\" is {} bytes long; at most {MAX_PROFILE}",
            v.len()
        )),
        Some(v) if !v.trim().is_empty() => {
            super::text::refuse_control(&format!("field {name:?}"), &v, false)?;
            Ok(v)
        }
        Some(_) => Err(format!("field {name:?} is empty")),
        None => Err(format!("a {kind:?} event needs the field {name:?}")),
    }
}

/// Parses one line; `now` is the time of events without `at`.
pub fn parse_line(line: &str, now: Millis) -> Result<TimedEvent, String> {
    let raw: RawEvent = serde_json::from_str(line).map_err(|e| {
        let msg = e.to_string();
        // serde_json appends " at line L column C"; the column helps, and
        // the caller gives the line of the feed (L is 1 unless the text
        // itself holds a line break).
        let what = msg
            .rsplit_once(" at line ")
            .map_or(msg.as_str(), |(w, _)| w);
        if e.line() > 1 {
            format!(
                "not a JSON object: {what} (column {} of line {} within the text)",
                e.column(),
                e.line()
            )
        } else {
            format!("not a JSON object: {what} (column {})", e.column())
        }
    })?;
    let kind = raw
        .kind
        .ok_or_else(|| "missing field \"type\" (enter, event or segment)".to_string())?;
    let at = match raw.at {
        Some(t) => parse_rfc3339(&t).map_err(|e| format!("bad \"at\": {e}"))?,
        None => now,
    };
    let event = match kind.as_str() {
        "enter" => Event::Enter {
            journey: field(raw.journey, "journey", "enter")?,
            profile: field(raw.profile, "profile", "enter")?,
        },
        "event" => Event::Named {
            profile: field(raw.profile, "profile", "event")?,
            name: field(raw.name, "name", "event")?,
        },
        "segment" => Event::Segment {
            profile: field(raw.profile, "profile", "segment")?,
            segment: field(raw.segment, "segment", "segment")?,
        },
        other => {
            return Err(format!(
                "unknown type {other:?} (expected enter, event or segment)"
            ));
        }
    };
    Ok(TimedEvent { event, at })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_lines_parse() {
        let e = parse_line(
            r#"{"type":"enter","journey":"spring-sale","profile":"p-1","at":"2026-11-21T10:00:00Z"}"#,
            0,
        )
        .unwrap();
        assert_eq!(
            e.event,
            Event::Enter {
                journey: "spring-sale".into(),
                profile: "p-1".into()
            }
        );
        assert_eq!(e.at, 1_795_255_200_000);
        let e = parse_line(r#"{"type":"event","profile":"p-1","name":"purchase"}"#, 42).unwrap();
        assert_eq!(e.at, 42);
        assert!(matches!(e.event, Event::Named { .. }));
        let e = parse_line(
            r#"{"type":"segment","profile":"p-1","segment":"suppressed"}"#,
            0,
        );
        assert!(matches!(e.unwrap().event, Event::Segment { .. }));
    }

    #[test]
    fn bad_lines_say_why() {
        let cases = [
            ("not json", "not a JSON object"),
            ("[1,2]", "not a JSON object"),
            (r#"{"profile":"p"}"#, "missing field \"type\""),
            (r#"{"type":"teleport"}"#, "unknown type"),
            (r#"{"type":"enter","profile":"p"}"#, "\"journey\""),
            (
                r#"{"type":"event","profile":"p","name":"x","at":"soon"}"#,
                "bad \"at\"",
            ),
            (r#"{"type":"segment","profile":"","segment":"s"}"#, "empty"),
            (r#"{"type":7}"#, "not a JSON object"),
        ];
        for (line, want) in cases {
            let e = parse_line(line, 0).unwrap_err();
            assert!(e.contains(want), "{line}: {e}");
            assert!(!e.contains('\n'));
        }
    }
}

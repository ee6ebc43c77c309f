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
            super::text::refuse_long(
                &format!("field {name:?}"),
                &v,
                super::text::MOST_NAME.max(MAX_PROFILE),
            )?;
            Ok(v)
        }
        Some(_) => Err(format!("field {name:?} is empty")),
        None => Err(format!("a {kind:?} event needs the field {name:?}")),
    }
}

/// The fields an event may have, each text.
const FIELDS: [&str; 6] = ["type", "journey", "profile", "name", "segment", "at"];

/// Why a line is not an event, in a user's words: where its JSON breaks,
/// that it is not one object, or which field is not text.
fn why_not_an_event(line: &str, first: &serde_json::Error) -> String {
    use serde_json::Value;
    use serde_json::error::Category;
    let where_ = |e: &serde_json::Error| {
        if e.line() > 1 {
            format!("column {} of line {} within the text", e.column(), e.line())
        } else {
            format!("column {}", e.column())
        }
    };
    let value: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) if e.classify() == Category::Eof => {
            return format!(
                "not a JSON object: the line ends before the object does ({})",
                where_(&e)
            );
        }
        Err(e) => {
            return format!(
                "not a JSON object: not valid JSON at {} (names and text go in double quotes: {{\"type\":\"enter\",...}})",
                where_(&e)
            );
        }
    };
    let kind = |v: &Value| match v {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    };
    let Value::Object(map) = &value else {
        return format!(
            "not a JSON object: the line is {}, not one object {{...}} (column 1)",
            kind(&value)
        );
    };
    for name in FIELDS {
        if let Some(v) = map.get(name).filter(|v| !v.is_string() && !v.is_null()) {
            return format!(
                "field {name:?} must be text in double quotes, not {}",
                kind(v)
            );
        }
    }
    // What is left: a name given twice (`duplicate field `type``).
    let said = first.to_string();
    match said
        .strip_prefix("duplicate field `")
        .and_then(|r| r.split_once('`'))
    {
        Some((name, _)) => format!("field {name:?} is given twice"),
        None => format!(
            "not a JSON object this tool reads (column {})",
            first.column()
        ),
    }
}

/// Parses one line; `now` is the time of events without `at`.
pub fn parse_line(line: &str, now: Millis) -> Result<TimedEvent, String> {
    // The quick path for a good line; a bad one is looked at again to
    // say what is wrong in our words (never the parser's).
    let raw: RawEvent = serde_json::from_str(line).map_err(|e| why_not_an_event(line, &e))?;
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
            (
                r#"{"type":7}"#,
                "field \"type\" must be text in double quotes, not a number",
            ),
            (
                r#"{"type":"enter","journey":1}"#,
                "field \"journey\" must be text in double quotes, not a number",
            ),
            (
                "{type:\"enter\"}",
                "not valid JSON at column 2 (names and text go in double quotes",
            ),
            (
                r#"{"type":"enter""#,
                "the line ends before the object does (column 15)",
            ),
            ("[1,2]", "the line is a list, not one object"),
            (
                r#"{"type":"enter","type":"event"}"#,
                "field \"type\" is given twice",
            ),
        ];
        for (line, want) in cases {
            let e = parse_line(line, 0).unwrap_err();
            assert!(e.contains(want), "{line}: {e}");
            assert!(!e.contains('\n'));
            // The parser's own words never reach an operator.
            for serde in [
                "expected ident",
                "expected value",
                "invalid type",
                "EOF",
                "key must be",
            ] {
                assert!(!e.contains(serde), "{line}: {e}");
            }
        }
    }
}

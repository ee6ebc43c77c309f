//! Clean text at the edges: NUL and other control characters are refused
//! where text enters (definitions, event lines, `--actor`, `--reason`, the
//! host name). PostgreSQL refuses NUL in text outright, so one such value
//! would otherwise fail a whole batch; and a control character shown on a
//! terminal is an escape sequence, not a name.

/// The first control character in `value` (tab allowed where `tab`), or
/// invisible formatting character: one that reorders or hides what is
/// shown (bidi overrides and isolates, zero-width characters, line and
/// paragraph separators), so a name would read as another.
pub fn control_char(value: &str, tab: bool) -> Option<char> {
    value
        .chars()
        .find(|&c| (c.is_control() && !(tab && c == '\t')) || invisible(c))
}

/// A character that changes how text is shown without being seen.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// The longest reason (an action's, a note's) taken, in characters.
pub const MOST_REASON: usize = 1_000;
/// The longest name taken (a journey, an action, a test, an event), in
/// characters.
pub const MOST_NAME: usize = 200;

/// `Err` saying why, when an operator's `--reason` cannot be taken: a
/// control or invisible character (a tab is fine), or over
/// [`MOST_REASON`] characters.
pub fn refuse_bad_reason(reason: &str) -> Result<(), String> {
    refuse_control("--reason", reason, true)
        .and_then(|()| refuse_long("--reason", reason, MOST_REASON))
}

/// `Err` naming `what` when `value` is longer than `most` characters.
pub fn refuse_long(what: &str, value: &str, most: usize) -> Result<(), String> {
    let n = value.chars().count();
    if n > most {
        Err(format!("{what} is {n} characters long; at most {most}"))
    } else {
        Ok(())
    }
}

/// `Err` naming `what` and the character when `value` holds one.
pub fn refuse_control(what: &str, value: &str, tab: bool) -> Result<(), String> {
    match control_char(value, tab) {
        None => Ok(()),
        Some(c) if invisible(c) => Err(format!(
            "{what} contains the invisible formatting character U+{:04X}: characters that reorder or hide text (bidi overrides, zero-width) are not allowed",
            c as u32
        )),
        Some(c) => Err(format!(
            "{what} contains the control character U+{:04X}: NUL and other control characters{} are not allowed",
            c as u32,
            if tab { " (but tab)" } else { "" }
        )),
    }
}

/// 1234567 -> "1,234,567": exact, and readable at a glance. One format for
/// every figure, in every face and in the reasons the store writes.
/// The line (from 1) of a byte offset in `text`, for `FILE:LINE` errors.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

pub fn thousands(n: i64) -> String {
    use thousands::Separable;
    n.separate_with_commas()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_and_zero_width_characters_are_refused_like_control_ones() {
        for c in [
            '\u{202E}', '\u{2066}', '\u{2069}', '\u{200B}', '\u{2028}', '\u{FEFF}',
        ] {
            let e = refuse_control("--reason", &format!("ok{c}gnp.exe"), false).unwrap_err();
            assert!(e.contains(&format!("U+{:04X}", c as u32)), "{e}");
            assert!(e.contains("invisible formatting character"), "{e}");
        }
        assert!(refuse_control("--reason", "café, 東京 ✓", false).is_ok());
    }

    #[test]
    fn names_the_character() {
        assert_eq!(refuse_control("x", "a b", false), Ok(()));
        let e = refuse_control("profile", "a\u{0}b", false).unwrap_err();
        assert!(
            e.starts_with("profile contains the control character U+0000"),
            "{e}"
        );
        assert!(refuse_control("reason", "a\tb", true).is_ok());
        assert!(refuse_control("name", "a\tb", false).is_err());
        assert!(refuse_control("reason", "a\u{1b}[2J", true).is_err());
        assert!(refuse_control("reason", "line\nbreak", true).is_err());
    }
}

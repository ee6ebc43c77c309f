//! A pane's text fields: a label and a boxed value, the focused one
//! marked and holding the cursor.

use ratatui::text::{Line, Span};

use crate::tui::columns::{columns_from, text_width};
use crate::tui::theme::Theme;

/// A pane's text fields, a line each (`focused` has the cursor), then its
/// hint if any: pushed onto `lines`; where the cursor goes (line, column).
pub(super) fn push_fields(
    lines: &mut Vec<Line<'static>>,
    fields: &[(&str, &tui_input::Input, bool)],
    hint: Option<&str>,
    width: u16,
    theme: &Theme,
) -> Option<(usize, usize)> {
    let mut cursor = None;
    for (label, input, focused) in fields {
        let (line, col) = input_line(label, input, *focused, width, theme);
        if *focused {
            cursor = Some((lines.len(), col));
        }
        lines.push(line);
    }
    if let Some(h) = hint {
        lines.push(Line::styled(
            crate::present::escaped(h).into_owned(),
            theme.warn(),
        ));
    }
    cursor
}

pub(super) fn input_line(
    label: &str,
    input: &tui_input::Input,
    focused: bool,
    width: u16,
    theme: &Theme,
) -> (Line<'static>, usize) {
    // Display columns throughout: a journey's name may be in wide
    // characters (two columns each).
    let label_w = text_width(label) as usize;
    let field = width.saturating_sub(label_w as u16 + 4).max(8) as usize;
    let scroll = input.visual_scroll(field);
    let shown = columns_from(input.value(), scroll, field);
    let pad = " ".repeat(field.saturating_sub(text_width(&shown) as usize));
    let style = if focused { theme.focus() } else { theme.base() };
    let line = Line::from(vec![
        Span::raw(format!("{label} ")),
        Span::raw(if focused { "▸" } else { "[" }),
        Span::styled(format!("{shown}{pad}"), style),
        Span::raw(if focused { "◂" } else { "]" }),
    ]);
    let cursor = label_w + 2 + input.visual_cursor().saturating_sub(scroll);
    (line, cursor)
}

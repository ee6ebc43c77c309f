//! The rate pane: what the action's channel follows now (and the file's),
//! the new figure, the concurrency, the reason, and the outcome.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::fields::push_fields;
use crate::tui::app::App;
use crate::tui::rate::{BACK_TO_FILE, RateFocus, RatePane, RateState};
use crate::tui::theme::Theme;

pub(super) fn draw_rate(frame: &mut Frame, area: Rect, app: &App, pane: &RatePane, theme: &Theme) {
    let width = area.width.saturating_sub(4).min(80);
    let inner_w = width.saturating_sub(2);
    let shown = |words: String| match words.as_str() {
        "" => "no limit".to_string(),
        _ => words,
    };
    let now = match &pane.set_by {
        Some(by) => format!("{} (set live by {by})", shown(pane.now.words())),
        None => shown(pane.now.words()),
    };
    let file = pane
        .file
        .map_or("unknown (no worker has said)".to_string(), |f| {
            shown(f.words())
        });
    let mut lines = vec![
        Line::raw(crate::present::escaped(&format!("Now: {now}")).into_owned()),
        Line::raw(crate::present::escaped(&format!("Channels file: {file}")).into_owned()),
        Line::styled(
            "Every running deliver follows within a second, over all its workers together.",
            theme.dim(),
        ),
        Line::raw(""),
    ];
    let (state_lines, at) = state_lines(app, pane, inner_w, theme);
    let cursor = at.map(|(line, col)| (lines.len() + line, col));
    lines.extend(state_lines);
    let title = Line::from(vec![Span::styled(
        crate::present::escaped(&format!(" rate of {} ", pane.action)).into_owned(),
        theme.warn(),
    )]);
    super::draw_box(frame, area, width, lines, title, cursor);
}

/// The fields, buttons and hint while editing; the outcome after. With
/// where the focused field's cursor is (row among these lines, column).
fn state_lines(
    app: &App,
    pane: &RatePane,
    inner_w: u16,
    theme: &Theme,
) -> (Vec<Line<'static>>, Option<(usize, usize)>) {
    let mut lines = Vec::new();
    let mut cursor = None;
    match &pane.state {
        RateState::Editing | RateState::Working => {
            let rate_label = format!("New rate (N/s, N/min, or {BACK_TO_FILE}):");
            let on = |f| pane.focus == f && pane.state == RateState::Editing;
            let fields = [
                (rate_label.as_str(), &pane.rate, on(RateFocus::Rate)),
                (
                    "Concurrency (blank: the file's):",
                    &pane.concurrency,
                    on(RateFocus::Concurrency),
                ),
                ("Reason (optional):", &pane.reason, on(RateFocus::Reason)),
            ];
            cursor = push_fields(&mut lines, &fields, pane.hint.as_deref(), inner_w, theme);
            if let Some(why) = app.blocked() {
                lines.push(Line::styled(format!("✗ {why}"), theme.danger()));
            }
            lines.push(Line::raw(""));
            lines.push(buttons(pane, theme));
            let hint = if pane.state == RateState::Working {
                "setting the rate…"
            } else {
                "Enter sets it · Tab next field · Esc cancel"
            };
            lines.push(Line::styled(hint, theme.dim()));
        }
        RateState::Done(changed) => lines.extend(super::pane::done_lines(
            app,
            crate::present::channels::rate_changed(changed),
            theme,
        )),
        RateState::Refused(why) => lines.extend(super::pane::refused_lines(why, theme)),
    }
    (lines, cursor)
}

fn buttons(pane: &RatePane, theme: &Theme) -> Line<'static> {
    super::pane::button_pair(
        "Set",
        (
            pane.focus == RateFocus::Cancel,
            pane.focus == RateFocus::Confirm,
        ),
        theme,
    )
}

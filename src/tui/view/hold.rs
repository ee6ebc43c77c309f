//! The hold and release panes: what it meets (pending per running
//! version, kept up to date), how long, the reason, and the outcome.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::fields::push_fields;
use crate::tui::app::App;
use crate::tui::hold::{HoldFocus, HoldPane, HoldState};
use crate::tui::theme::Theme;

pub(super) fn draw_hold(frame: &mut Frame, area: Rect, app: &App, pane: &HoldPane, theme: &Theme) {
    let width = area.width.saturating_sub(4).min(80);
    let inner_w = width.saturating_sub(2);
    let what = if pane.releasing {
        "Its messages go out again, at the channel's rate."
    } else {
        "Its messages stay pending and no worker sends one from the moment this returns; entries, waits and every other action go on."
    };
    let mut lines = vec![Line::styled(what, theme.warn()), Line::raw("")];
    lines.push(match &pane.impact {
        None => Line::styled("working out what it holds…", theme.dim()),
        Some(Err(why)) => Line::styled(format!("✗ {why}"), theme.danger()),
        Some(Ok(i)) => Line::raw(crate::present::channels::hold_impact_words(i)),
    });
    lines.push(Line::raw(""));
    let (state_lines, at) = state_lines(app, pane, inner_w, theme);
    let cursor = at.map(|(line, col)| (lines.len() + line, col));
    lines.extend(state_lines);
    let verb = if pane.releasing { "release" } else { "hold" };
    let title = Line::from(vec![Span::styled(
        crate::present::escaped(&format!(" {verb} {} ", pane.action)).into_owned(),
        theme.warn(),
    )]);
    super::draw_box(frame, area, width, lines, title, cursor);
}

fn state_lines(
    app: &App,
    pane: &HoldPane,
    inner_w: u16,
    theme: &Theme,
) -> (Vec<Line<'static>>, Option<(usize, usize)>) {
    let mut lines = Vec::new();
    let mut cursor = None;
    match &pane.state {
        HoldState::Editing | HoldState::Working => {
            let mut fields = Vec::new();
            if !pane.releasing {
                fields.push((
                    "For (4h; blank: until released):",
                    &pane.for_,
                    HoldFocus::For,
                ));
                fields.push((
                    "Then (release or cancel its pending):",
                    &pane.on_expiry,
                    HoldFocus::Expiry,
                ));
            }
            fields.push(("Reason (optional):", &pane.reason, HoldFocus::Reason));
            let editing = pane.state == HoldState::Editing;
            let fields: Vec<_> = fields
                .into_iter()
                .map(|(label, input, focus)| (label, input, editing && pane.focus == focus))
                .collect();
            cursor = push_fields(&mut lines, &fields, pane.hint.as_deref(), inner_w, theme);
            if let Some(why) = app.blocked() {
                lines.push(Line::styled(format!("✗ {why}"), theme.danger()));
            }
            lines.push(Line::raw(""));
            lines.push(buttons(pane, theme));
            let hint = match (&pane.state, pane.releasing) {
                (HoldState::Working, false) => "holding (waiting for its deliveries in flight)…",
                (HoldState::Working, true) => "releasing…",
                _ => "Enter confirms · Tab next field · Esc cancel",
            };
            lines.push(Line::styled(hint, theme.dim()));
        }
        HoldState::Done(line) => lines.extend(super::pane::done_lines(app, line.clone(), theme)),
        HoldState::Refused(why) => lines.extend(super::pane::refused_lines(why, theme)),
    }
    (lines, cursor)
}

fn buttons(pane: &HoldPane, theme: &Theme) -> Line<'static> {
    super::pane::button_pair(
        if pane.releasing { "Release" } else { "Hold" },
        (
            pane.focus == HoldFocus::Cancel,
            pane.focus == HoldFocus::Confirm,
        ),
        theme,
    )
}

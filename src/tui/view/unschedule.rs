//! The take-back pane: the action set for a time, and the outcome.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::tui::app::App;
use crate::tui::theme::Theme;
use crate::tui::unschedule::{UnschedulePane, UnscheduleState};

pub(super) fn draw_unschedule(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    pane: &UnschedulePane,
    theme: &Theme,
) {
    let width = area.width.saturating_sub(4).min(80);
    let m = &pane.mark;
    let at = crate::domain::time::to_rfc3339(m.at_ms);
    let mut lines = vec![
        Line::raw(crate::present::escaped(&format!("⏰ {} at {at}", m.what)).into_owned()),
        Line::styled(
            crate::present::escaped(&format!(
                "set by {} (#{}), in {}",
                m.by,
                m.id,
                crate::domain::time::left(app.now, m.at_ms)
            ))
            .into_owned(),
            theme.dim(),
        ),
        Line::raw(""),
    ];
    match &pane.state {
        UnscheduleState::Asking | UnscheduleState::Working => {
            lines.push(Line::raw("Take it back? It will not happen."));
            lines.push(Line::raw(""));
            lines.push(super::pane::button_pair(
                "Take back",
                (!pane.on_confirm, pane.on_confirm),
                theme,
            ));
            let hint = if pane.state == UnscheduleState::Working {
                "taking it back…"
            } else {
                "Tab chooses · Enter · Esc keeps it"
            };
            lines.push(Line::styled(hint, theme.dim()));
        }
        UnscheduleState::Done(line) => {
            lines.extend(super::pane::done_lines(app, line.clone(), theme))
        }
        UnscheduleState::Refused(why) => lines.extend(super::pane::refused_lines(why, theme)),
    }
    let title = Line::from(vec![Span::styled(
        crate::present::escaped(&format!(" unschedule {} v{} ", pane.journey, pane.version))
            .into_owned(),
        theme.warn(),
    )]);
    super::draw_box(frame, area, width, lines, title, None);
}

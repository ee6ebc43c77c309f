//! The help pane: every key.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::centered;
use crate::tui::app::App;
use crate::tui::theme::Theme;

pub(super) fn draw_help(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let keys = [
        ("↑ ↓  k j", "move (PgUp PgDn, g G: page, top, bottom)"),
        ("Enter", "details of the selected version's journey"),
        ("Esc", "back; clears the filter on the main screen"),
        ("/", "filter by journey name"),
        ("t", "show every version, or live & draining only"),
        ("o  O", "next sort column; reverse the order"),
        ("a", "audit log"),
        ("c", "channels: delivery health per action"),
        ("f", "finish the selected version (asks first)"),
        ("s", "stop the selected version (asks for the name)"),
        ("S", "stop every version of the journey (asks for the name)"),
        (
            "p",
            "pause the selected version: hold it, reversibly (asks first)",
        ),
        ("r", "resume the selected paused version (asks first)"),
        (
            "K",
            "kill switch: stop or pause every version using an action",
        ),
        ("?", "this help"),
        ("q  Ctrl-C", "quit"),
    ];
    let mut lines: Vec<Line> = keys
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!(" {k:<10} "), theme.title()),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!(
            " Data refreshes every {} by itself (--refresh).",
            humantime::format_duration(app.ctx.refresh)
        ),
        theme.dim(),
    ));
    lines.push(Line::styled(
        " In a pane: type into its field, Tab moves, Esc cancels.",
        theme.dim(),
    ));
    lines.push(Line::styled(" Any key closes this help.", theme.dim()));
    let rect = centered(area, 68, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Keys ")),
        rect,
    );
}

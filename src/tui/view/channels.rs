//! The channels screen (`c`): delivery health per action, as the workers
//! record it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};

use crate::present::{channel_name, last_error, thousands};
use crate::tui::app::App;
use crate::tui::theme::Theme;

pub(super) fn draw_channels(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let failing = app.channels.iter().filter(|h| h.failing()).count();
    let block = super::body_block(app, theme).title(Line::from(vec![
        Span::styled(" Channels ", theme.title()),
        Span::raw(format!(
            "{} actions in use, {} failing · K kill switch · Esc back ",
            app.channels.len(),
            failing
        )),
    ]));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if app.channels.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled(
                "no live or finished version sends messages",
                theme.dim(),
            )),
            inner,
        );
        return;
    }
    let now = app.now;
    let rows: Vec<Row> = app
        .channels
        .iter()
        .take(inner.height.saturating_sub(1) as usize)
        .map(|h| {
            let row = Row::new(vec![
                crate::present::escaped(&h.action).into_owned(),
                crate::present::escaped(&channel_name(h)).into_owned(),
                thousands(h.pending),
                thousands(h.sent),
                thousands(h.failed),
                thousands(h.retrying),
                thousands(h.uncertain + h.cancelled_uncertain),
                crate::present::escaped(&last_error(h, now)).into_owned(),
            ]);
            if h.failing() {
                row.style(theme.danger())
            } else if h.route == Some(None) && h.pending > 0 {
                row.style(theme.warn())
            } else {
                row
            }
        })
        .collect();
    let widths = [
        Constraint::Length(20),
        Constraint::Length(12),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(9),
        Constraint::Min(10),
    ];
    let header = Row::new(vec![
        "ACTION",
        "CHANNEL",
        "PENDING",
        "SENT",
        "FAILED",
        "RETRYING",
        "UNCERTAIN",
        "LAST ERROR",
    ])
    .style(theme.title());
    frame.render_widget(Table::new(rows, widths).header(header), inner);
}

//! The audit log screen, newest first.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table};

use crate::domain::time::short;
use crate::present::thousands;
use crate::tui::app::App;
use crate::tui::theme::Theme;

pub(super) fn draw_audit(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let block = super::body_block(app, theme).title(Line::from(vec![
        Span::styled(" Audit log ", theme.title()),
        Span::raw(format!(
            "{} entries, newest first ",
            thousands(app.audit.len() as i64)
        )),
    ]));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = inner.height.saturating_sub(1) as usize;
    let rows: Vec<Row> = app
        .audit
        .iter()
        .skip(app.audit_offset)
        .take(height)
        .map(|e| {
            Row::new(vec![
                short(e.at_ms),
                e.who(),
                e.host.clone(),
                e.action.clone(),
                format!("{} v{}", e.journey, e.version.unwrap_or(0)),
                format!(
                    "{}→{}",
                    e.from.as_deref().unwrap_or("-"),
                    e.to.as_deref().unwrap_or("-")
                ),
                thousands(e.affected_active),
                [e.reason.clone(), crate::present::audit_messages(e)]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · "),
            ])
        })
        .collect();
    // Wide enough for `alice (as mallory)` where a login acted under
    // another name, narrow otherwise.
    let who = app
        .audit
        .iter()
        .map(|e| e.who().chars().count())
        .max()
        .unwrap_or(0)
        .clamp(10, 28) as u16;
    let widths = [
        Constraint::Length(16),
        Constraint::Length(who),
        Constraint::Length(10),
        Constraint::Length(8),
        Constraint::Length(22),
        Constraint::Length(17),
        Constraint::Length(9),
        Constraint::Min(10),
    ];
    let header = Row::new(vec![
        "AT (UTC)", "ACTOR", "HOST", "ACTION", "VERSION", "STATUS", "ACTIVE", "REASON",
    ])
    .style(theme.title());
    if app.audit.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("no audit entries yet", theme.dim())),
            inner,
        );
    } else {
        frame.render_widget(Table::new(rows, widths).header(header), inner);
    }
}

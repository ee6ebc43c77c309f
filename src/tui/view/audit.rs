//! The audit log screen, newest first.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::domain::time::short;
use crate::present::thousands;
use crate::tui::app::App;
use crate::tui::columns::{Col, Fit, RowData, fitted_table};
use crate::tui::theme::Theme;

pub(super) fn draw_audit(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let shown = app.visible_audit();
    let counted = if shown.len() == app.audit.len() {
        format!(
            "{} entries, newest first ",
            thousands(app.audit.len() as i64)
        )
    } else {
        format!(
            "{} of {} entries (/ {}), newest first ",
            thousands(shown.len() as i64),
            thousands(app.audit.len() as i64),
            crate::present::escaped(app.filter.value())
        )
    };
    let block = super::body_block(app, theme).title(Line::from(vec![
        Span::styled(" Audit log ", theme.title()),
        Span::raw(counted),
    ]));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = inner.height.saturating_sub(1) as usize;
    let rows: Vec<RowData> = shown
        .into_iter()
        .skip(app.audit_offset)
        .take(height)
        .map(|e| {
            RowData::plain(vec![
                short(e.at_ms),
                e.who(),
                e.host.clone(),
                e.action.to_string(),
                e.about(),
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
    // When, who, what and on which version stay whole; the reason gives
    // way with `…`, then the host, the status change and the count go.
    let cols = vec![
        Col::left("AT (UTC)", 16, 0),
        Col::left("ACTOR", 5, 0),
        Col::left("HOST", 4, 3),
        Col::left("ACTION", 6, 0),
        Col::left("VERSION", 7, 0),
        Col::left("STATUS", 6, 2),
        Col::right("ACTIVE", 6, 1),
        Col::left("REASON", 12, 0).shrinks(),
    ];
    let fit = Fit::PLAIN;
    if app.audit.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("no audit entries yet", theme.dim())),
            inner,
        );
    } else {
        frame.render_widget(fitted_table(cols, &rows, inner.width, fit, theme), inner);
    }
}

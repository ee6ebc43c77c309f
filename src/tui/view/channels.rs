//! The channels screen (`c`): delivery health per action, as the workers
//! record it.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::app::App;
use crate::tui::columns::{Col, Fit, RowData, fitted_table};
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
    let rows: Vec<RowData> = app
        .channels
        .iter()
        .take(inner.height.saturating_sub(1) as usize)
        .map(|h| {
            // Cancelled messages that may have arrived count here too: the
            // screen has no room for the CLI's line below the table.
            let uncertain = h.uncertain + h.cancelled_uncertain;
            let cells = crate::present::channel_cells(h, uncertain, now);
            let style = if h.failing() {
                Some(theme.danger())
            } else if h.route == Some(None) && h.pending > 0 {
                Some(theme.warn())
            } else {
                None
            };
            RowData {
                styled: style.map_or(Vec::new(), |s| (0..cells.len()).map(|i| (i, s)).collect()),
                cells,
                selected: false,
            }
        })
        .collect();
    // The action and where it goes stay whole; the error gives way with
    // `…`, then the least telling counts go.
    let cols = vec![
        Col::left("ACTION", 6, 0),
        Col::left("CHANNEL", 7, 0),
        Col::right("PENDING", 7, 0),
        Col::right("SENT", 4, 3),
        Col::right("FAILED", 6, 0),
        Col::right("RETRYING", 8, 2),
        Col::right("UNCERTAIN", 9, 1),
        Col::left("LAST ERROR", 16, 0).shrinks(),
    ];
    let fit = Fit::PLAIN;
    frame.render_widget(fitted_table(cols, &rows, inner.width, fit, theme), inner);
}

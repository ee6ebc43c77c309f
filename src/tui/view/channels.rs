//! The channels screen (`c`): delivery health per action, as the workers
//! record it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::tui::app::App;
use crate::tui::columns::{Col, Fit, RowData, fitted_table, spare_width, text_width};
use crate::tui::theme::Theme;

pub(super) fn draw_channels(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let failing = app.channels.iter().filter(|h| h.failing()).count();
    let block = super::body_block(app, theme).title(Line::from(vec![
        Span::styled(" Channels ", theme.title()),
        Span::raw(format!(
            "{} actions in use, {} failing · - + rate · h hold · r release · K kill switch ",
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
    let rows = health_rows(app, inner, theme);
    draw_table(frame, inner, rows, theme);
}

/// Each action's row, as many as fit.
fn health_rows(app: &App, inner: Rect, theme: &Theme) -> Vec<RowData> {
    let now = app.now;
    app.channels
        .iter()
        .take(inner.height.saturating_sub(1) as usize)
        .enumerate()
        .map(|(i, h)| {
            // Cancelled messages that may have arrived count here too: the
            // screen has no room for the CLI's line below the table.
            let uncertain = h.uncertain + h.cancelled_uncertain;
            let limits = crate::present::limits_short(h);
            let cells = crate::present::channel_cells(h, limits, uncertain, now);
            let style = if h.failing() {
                Some(theme.danger())
            } else if h.route == Some(None) && h.pending > 0 {
                Some(theme.warn())
            } else {
                None
            };
            RowData {
                marked: false,
                styled: style.map_or(Vec::new(), |s| (0..cells.len()).map(|i| (i, s)).collect()),
                cells,
                selected: i == app.channel_selected,
            }
        })
        .collect()
}

/// The table, and a long last error on lines of its own below it.
fn draw_table(frame: &mut Frame, inner: Rect, rows: Vec<RowData>, theme: &Theme) {
    // The action, where it goes and every count stay whole. The last
    // error takes the rest of the line when it fits there whole; else it
    // has lines of its own below the table, wrapped, never cut.
    let mut cols = vec![
        Col::left("ACTION", 6, 0),
        Col::left("CHANNEL", 7, 0),
        Col::left("LIMIT", 5, 1),
        Col::right("PENDING", 7, 0),
        Col::right("SENT", 4, 3),
        Col::right("FAILED", 6, 0),
        Col::right("RETRYING", 8, 2),
        Col::right("UNCERTAIN", 9, 1),
    ];
    let fit = Fit::PLAIN;
    let error_at = cols.len();
    let errors: Vec<(String, String)> = rows
        .iter()
        .filter(|r| r.cells[error_at] != "-")
        .map(|r| (r.cells[0].clone(), r.cells[error_at].clone()))
        .collect();
    let error_width = rows
        .iter()
        .map(|r| text_width(&r.cells[error_at]))
        .max()
        .unwrap_or(0)
        .max(text_width("LAST ERROR"));
    if spare_width(&cols, &rows, inner.width, fit) > error_width || errors.is_empty() {
        cols.push(Col::left("LAST ERROR", 16, 0).shrinks());
        frame.render_widget(fitted_table(cols, &rows, inner.width, fit, theme), inner);
        return;
    }
    let lines: Vec<Line> = errors
        .iter()
        .map(|(action, error)| {
            Line::from(vec![
                Span::styled(format!("{action} last error "), theme.title()),
                Span::styled(error.clone(), theme.danger()),
            ])
        })
        .collect();
    // Rows the wrapped errors take.
    let width = inner.width.max(1) as usize;
    let tall = lines
        .iter()
        .map(|l| {
            let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
            crate::tui::columns::wrapped_rows(&text, width)
        })
        .sum::<usize>()
        .min(inner.height as usize / 2) as u16;
    let below = Paragraph::new(lines).wrap(Wrap { trim: true });
    let [table_area, _, errors_area] = Layout::vertical([
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(tall),
    ])
    .areas(inner);
    let rows: Vec<RowData> = rows
        .into_iter()
        .take(table_area.height.saturating_sub(1) as usize)
        .collect();
    frame.render_widget(
        fitted_table(cols, &rows, inner.width, fit, theme),
        table_area,
    );
    frame.render_widget(below, errors_area);
}

//! The main screen: live and draining versions (every version with `t`),
//! filtered and sorted.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{count_cells, count_columns};
use crate::domain::time::{age, to_datetime};
use crate::present::{
    TrendAlarm, ab_label, entries_trend, per_minute, shown, status_cell, thousands,
};
use crate::store::VersionSummary;
use crate::tui::app::App;
use crate::tui::columns::{Col, Fit, RowData, fitted_table, spare_width, text_width};
use crate::tui::theme::Theme;

/// Cells the trend column has over the last hour at least: six minutes
/// a cell below 100 columns, three from 100; a wide screen grows it up to
/// a cell a minute.
const TREND_CELLS: [usize; 2] = [10, 20];
/// The column of the rate now, which turns red with its alarm.
const NOW_COLUMN: usize = 10;

pub(super) fn draw_main(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let visible = app.visible();
    let text = title_text(app, visible.len(), area.width);
    let title = Line::from(vec![
        Span::styled(" Journeys ", theme.title()),
        Span::raw(text),
    ]);
    let block = super::body_block(app, theme).title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if visible.is_empty() {
        let msg = empty_message(app);
        frame.render_widget(Paragraph::new(Line::styled(msg, theme.dim())), inner);
        return;
    }
    let height = inner.height.saturating_sub(1) as usize;
    let selected = app.selected.min(visible.len() - 1);
    let offset = if height == 0 {
        0
    } else {
        selected.saturating_sub(height - 1)
    };
    let now = app.activity_now();
    let fit = Fit {
        marker: true,
        flex_first: true,
    };
    // Only the rows that fit are built: first with the trend at its
    // least, then again with the trend grown into what is left blank, a
    // cell a minute at most (a wide screen shows the hour in detail
    // rather than a wide blank JOURNEY).
    let rows_of = |trend_cells: usize| -> Vec<RowData> {
        visible
            .iter()
            .enumerate()
            .skip(offset)
            .take(height)
            .map(|(i, v)| {
                let mut styled = vec![(
                    2,
                    if v.paused.is_some() {
                        theme.warn()
                    } else {
                        theme.status(shown(v))
                    },
                )];
                if TrendAlarm::of(v).is_some() {
                    styled.push((NOW_COLUMN, theme.danger()));
                }
                RowData {
                    cells: cells(v, now, app.now, trend_cells),
                    selected: i == selected,
                    marked: app.is_marked(v),
                    styled,
                }
            })
            .collect()
    };
    let least = if inner.width < 100 {
        TREND_CELLS[0]
    } else {
        TREND_CELLS[1]
    };
    let mut rows = rows_of(least);
    let spare = spare_width(&columns(least), &rows, inner.width, fit) as usize;
    let grown = (least + spare).min(60);
    if grown > least {
        rows = rows_of(grown);
    }
    frame.render_widget(
        fitted_table(columns(grown), &rows, inner.width, fit, theme),
        inner,
    );
}

/// The main list's columns, with the entries trend `trend_cells` wide.
/// The A/B verdict and the trend outrank the rate now (the tour watches
/// them); the totals beyond ACTIVE and CONV give way first.
fn columns(trend_cells: usize) -> Vec<Col> {
    let mut cols = vec![
        Col::left("JOURNEY", 14, 0),
        Col::right("VER", 3, 0),
        // A long status (`⏸ paused 6s, stop in 2d ✉ failing`) gives way
        // before the trend does; the detail view shows it whole.
        Col::left("STATUS", 16, 0).shrinks_after(4),
    ];
    cols.extend(count_columns());
    // A/B is as wide as its longest verdict, so columns do not shift.
    cols.extend([
        Col::left("ENTRIES, LAST HOUR", trend_cells as u16, 3),
        // Ranked as the trend, but later: it goes first.
        Col::left("NOW", 12, 3),
        Col::left("A/B", 13, 2),
        Col::left("ENTRY END", 11, 7),
        Col::right("LAST", 4, 7),
    ]);
    cols
}

/// The list's title: what it shows, the sort, the filter; shorter on a
/// narrow terminal.
fn title_text(app: &App, visible: usize, width: u16) -> String {
    let total = app.versions.len();
    let scope = if app.show_all {
        format!(
            "all versions: {} (t: live & draining only)",
            thousands(visible as i64)
        )
    } else {
        format!(
            "live & draining: {} of {} versions (t: show all)",
            thousands(visible as i64),
            thousands(total as i64)
        )
    };
    let filter = if app.filtering() || !app.filter.value().is_empty() {
        let hidden = app.in_scope().count().saturating_sub(visible);
        let unknown = super::super::filter::Filter::parse(app.filter.value()).unknown();
        let unknown = if unknown.is_empty() {
            String::new()
        } else {
            format!(
                " ({} unknown: status is one of {})",
                unknown.join(", "),
                super::super::filter::STATUSES.join(", ")
            )
        };
        format!(
            " · filter /{}{}{unknown} · {} hidden (Esc clears)",
            crate::present::escaped(app.filter.value()),
            if app.filtering() { "▏" } else { "" },
            thousands(hidden as i64)
        )
    } else {
        String::new()
    };
    let sort = format!(
        " · sort: {}{} (o)",
        app.sort.label(),
        if app.sort_desc { " ↑" } else { "" }
    );
    let marked = if app.marks.is_empty() {
        String::new()
    } else {
        format!(" · ✓ {} marked (u clears)", app.marks.len())
    };
    let filter = format!("{filter}{marked}");
    let wide = format!("{scope}{sort}{filter} ");
    if text_width(&wide) as usize + 12 <= width as usize {
        wide
    } else {
        let shown = if app.show_all {
            format!("all {}", thousands(visible as i64))
        } else {
            format!(
                "{}/{} live & draining",
                thousands(visible as i64),
                thousands(total as i64)
            )
        };
        format!("{shown} · {}{filter} ", app.sort.label())
    }
}

/// Why the list is empty, and what to do about it.
fn empty_message(app: &App) -> String {
    if let (false, Some(why)) = (app.loaded, &app.stale) {
        format!("waiting for the store: {why}")
    } else if !app.loaded {
        "loading…".to_string()
    } else if !app.filter.value().is_empty() {
        format!(
            "no journey matches /{} (Esc clears the filter)",
            app.filter.value()
        )
    } else if app.versions.is_empty() {
        "no journeys yet: apply a definition with `journeyctl apply FILE --publish`".to_string()
    } else {
        "no live or draining version (t shows every version)".to_string()
    }
}

fn cells(v: &VersionSummary, now: i64, wall: i64, trend_cells: usize) -> Vec<String> {
    let status = status_cell(v, wall);
    let mut out = vec![
        crate::present::escaped(&v.journey).into_owned(),
        v.version.to_string(),
        status,
    ];
    out.extend(count_cells(v));
    out.push(entries_trend(v, trend_cells));
    let rate = per_minute(v.rates.last_5m.entered);
    out.push(match TrendAlarm::of(v) {
        Some(TrendAlarm::EntriesStopped) => format!("{rate} ▼"),
        Some(TrendAlarm::FailuresRising) => format!("{rate} ▲fail"),
        None => rate,
    });
    out.push(ab_label(v.ab.as_ref()));
    out.push(v.entry_end_ms.map_or("-".to_string(), |t| {
        to_datetime(t).format("%m-%d %H:%M").to_string()
    }));
    out.push(v.last_activity_ms.map_or("-".to_string(), |t| age(now, t)));
    out
}

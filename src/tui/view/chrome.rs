//! The header (store, operator, freshness or why the data is stale) and
//! the footer (keys, or a notice).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::domain::time::{age, ago};
use crate::tui::app::{App, View};
use crate::tui::theme::Theme;

pub(super) fn draw_header(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    // Freshness and READ-ONLY sit on the right and always show; the store
    // and operator on the left give way on a narrow terminal.
    let mut right = vec![Span::raw(" ")];
    if app.ctx.read_only {
        right.push(Span::styled("READ-ONLY", theme.warn()));
        right.push(Span::raw(" │ "));
    }
    match (&app.stale, app.last_ok) {
        (Some(why), last) => {
            let age = last.map_or("no data yet".to_string(), |t| {
                format!("data {} old", age(app.now, t))
            });
            right.push(Span::styled(
                format!("⚠ STALE {age}: {}, retrying ", outage_words(why)),
                theme.danger(),
            ));
        }
        (None, Some(t)) => {
            // Live, the data is as new as the last change: no age to
            // count up (and no redraw every second for it).
            match app.live {
                Some(true) => right.push(Span::styled("● live ", theme.dim())),
                Some(false) => right.push(Span::styled(
                    format!(
                        "⟳ polling every {} · ",
                        humantime::format_duration(app.ctx.refresh)
                    ),
                    theme.warn(),
                )),
                None => {}
            }
            if app.live != Some(true) {
                right.push(Span::styled(
                    format!("updated {} ", ago(app.now, t)),
                    theme.dim(),
                ))
            }
        }
        (None, None) => right.push(Span::styled("loading… ", theme.dim())),
    }
    let right = Line::from(right);
    let right_w = (right.width() as u16).min(area.width);
    let [left_area, right_area] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(right_w)]).areas(area);
    let mut left = vec![
        Span::styled(" journeyctl ", theme.header()),
        Span::raw("│ "),
    ];
    if let Some(name) = &app.ctx.store_name {
        // The named store in its colour, so production never looks like
        // staging (bold and bracketed without colour).
        left.push(Span::styled(
            format!("[{name}]"),
            theme.store(app.ctx.store_colour.as_deref()),
        ));
        left.push(Span::raw(" "));
    }
    left.extend([
        Span::raw(app.ctx.store.clone()),
        Span::raw(" │ operator "),
        Span::styled(app.ctx.operator.clone(), theme.title()),
        Span::raw(" │"),
    ]);
    frame.render_widget(Paragraph::new(Line::from(left)), left_area);
    frame.render_widget(Paragraph::new(right), right_area);
}

/// The short reason for the header: "connection refused by 127.0.0.1:5432"
/// rather than the whole "cannot open the store (...): ..." sentence.
fn outage_words(why: &str) -> String {
    let short = why.rsplit("): ").next().unwrap_or(why);
    let short = short.trim_start_matches("cannot reach the database: ");
    let short = short.trim_end_matches(" (is PostgreSQL running there?)");
    if short.chars().count() > 60 {
        let cut: String = short.chars().take(59).collect();
        format!("{cut}…")
    } else {
        short.to_string()
    }
}

pub(super) fn draw_footer(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let line = if let Some(n) = &app.notice {
        Line::styled(format!(" {n}"), theme.warn())
    } else if app.filtering {
        Line::styled(
            " type to filter by journey name · Enter keep · Esc clear",
            theme.dim(),
        )
    } else {
        let options: &[&str] = match app.view {
            View::Main => &[
                " ↑↓/jk move  Enter details  f finish  s stop  S stop all versions  p pause  r resume  K kill switch  / filter  t all  o sort  a audit  c channels  ? help  q quit",
                " ↑↓/jk move  Enter details  f finish  s stop  S stop all versions  K kill switch  / filter  t all  o sort  a audit  c channels  ? help  q quit",
                " ↑↓ move  ⏎ details  f finish  s stop  S all  p pause  r resume  K kill  / filter  o sort  a audit  c chan  ? help",
                " ↑↓ move  ⏎ details  f finish  s stop  S stop all  K kill  / filter  t all  o sort  a audit  c channels  ? help  q quit",
                " ↑↓/jk move  Enter details  f finish  s stop  S stop all versions  / filter  t all  o sort  a audit  ? help  q quit",
                " ↑↓ move  ⏎ details  f finish  s stop  S stop all  / filter  a audit  ? help  q quit",
                " f finish  s stop  S stop all  / filter  ? help  q quit",
            ],
            View::Detail => &[
                " ↑↓/jk version  f finish  s stop  S stop all versions  a audit  Esc back  ? help  q quit",
                " ↑↓ version  f finish  s stop  S stop all  Esc back  ? help  q quit",
            ],
            View::Audit => &[" ↑↓/jk scroll  Esc back  ? help  q quit"],
            View::Channels => &[" K kill switch  a audit  Esc back  ? help  q quit"],
        };
        let keys = options
            .iter()
            .find(|o| o.chars().count() <= area.width as usize)
            .unwrap_or(&options[options.len() - 1]);
        Line::styled(*keys, theme.dim())
    };
    frame.render_widget(Paragraph::new(line), area);
}

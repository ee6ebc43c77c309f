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
                format!(
                    "⚠ STALE {age}: {}, retrying ",
                    crate::tui::columns::shorten(why, 60)
                ),
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
                        crate::domain::time::duration_words(app.ctx.refresh)
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
    let operator = [
        Span::raw(" │ operator "),
        Span::styled(app.ctx.operator.clone(), theme.title()),
        Span::raw(" │"),
    ];
    // The store and the operator always show: a long store path gives way
    // from its start (`sqlite …/journeyctl/journeyctl.db`), then the name
    // of the tool.
    let taken = Line::from(left.clone()).width() + Line::from(operator.to_vec()).width();
    let room = (left_area.width as usize).saturating_sub(taken);
    let store = shorten_start(&app.ctx.store, room.max(12));
    if taken + crate::tui::columns::text_width(&store) as usize > left_area.width as usize {
        left.drain(..2);
    }
    left.push(Span::raw(store));
    left.extend(operator);
    frame.render_widget(Paragraph::new(Line::from(left)), left_area);
    frame.render_widget(Paragraph::new(right), right_area);
}

/// A store's description in `width` columns: its kind, then as much of
/// the end of its path or address as fits after `…`.
fn shorten_start(store: &str, width: usize) -> String {
    use crate::tui::columns::{shorten_start, text_width};
    if text_width(store) as usize <= width {
        return store.to_string();
    }
    match store.split_once(' ') {
        Some((kind, rest)) => {
            let keep = width.saturating_sub(text_width(kind) as usize + 1);
            format!("{kind} {}", shorten_start(rest, keep as u16))
        }
        None => shorten_start(store, width as u16),
    }
}

pub(super) fn draw_footer(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let line = if let Some(n) = &app.notice {
        Line::styled(format!(" {n}"), theme.warn())
    } else if app.filtering() {
        Line::styled(
            " type to filter by journey name · Enter keep · Esc clear",
            theme.dim(),
        )
    } else {
        let options = footer_options(app);
        let keys = options
            .iter()
            .find(|o| crate::tui::columns::text_width(o) <= area.width)
            .unwrap_or(&options[options.len() - 1]);
        Line::styled(keys.clone(), theme.dim())
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The footer's keys from the key table, longest first: the first that
/// fits is shown.
fn footer_options(app: &App) -> Vec<String> {
    use crate::tui::keymap::Action::*;
    let keys = &app.ctx.keys;
    let arrows = |what: &str| format!("{}{} {what}", keys.key(Up), keys.key(Down));
    let line = |lead: String, actions: &[crate::tui::keymap::Action]| {
        format!(" {lead}  {}", keys.footer(actions))
    };
    let acts = [Finish, Stop, StopAll, Pause, Resume, KillSwitch];
    let letters: Vec<String> = acts.iter().map(|&a| keys.key(a)).collect();
    let compact = format!(
        " {}: finish stop all pause resume kill  {} help",
        letters.join(" "),
        keys.key(Help)
    );
    match app.view {
        View::Main => vec![
            line(
                arrows("move"),
                &[
                    Details, Finish, Stop, StopAll, Pause, Resume, KillSwitch, Filter, All, Sort,
                    Audit, Channels, Help, Quit,
                ],
            ),
            line(
                arrows("move"),
                &[
                    Details, Finish, Stop, StopAll, Pause, Resume, KillSwitch, Filter, Audit,
                    Channels, Help,
                ],
            ),
            line(
                arrows("move"),
                &[Finish, Stop, StopAll, Pause, Resume, KillSwitch, Help],
            ),
            compact,
        ],
        View::Detail => vec![
            line(
                arrows("version"),
                &[
                    Finish, Stop, StopAll, Pause, Resume, KillSwitch, Audit, Channels, Back, Help,
                    Quit,
                ],
            ),
            line(
                arrows("version"),
                &[Finish, Stop, StopAll, Pause, Resume, KillSwitch, Back, Help],
            ),
            format!("{compact}  {} back", keys.key(Back)),
        ],
        View::Audit => vec![line(arrows("scroll"), &[Back, Help, Quit])],
        View::Channels => vec![format!(
            " {}",
            keys.footer(&[KillSwitch, Audit, Back, Help, Quit])
        )],
    }
}

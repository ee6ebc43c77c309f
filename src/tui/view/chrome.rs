//! The header (store, operator, freshness or why the data is stale) and
//! the footer (keys, or a notice).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::domain::time::{age, ago};
use crate::tui::app::{App, View};
use crate::tui::theme::Theme;

/// The header's right side: READ-ONLY, then the data's freshness or why
/// it is stale; `short` drops the words a narrow terminal cannot spare.
fn header_right(app: &App, theme: &Theme, short: bool) -> Line<'static> {
    let mut right = vec![Span::raw(" ")];
    if app.ctx.read_only {
        right.push(Span::styled("READ-ONLY", theme.warn()));
        right.push(Span::raw(" │ "));
    }
    match (&app.stale, app.last_ok) {
        (Some(why), last) => {
            let age = last.map_or("no data yet".to_string(), |t| {
                let age = age(app.now, t);
                if short {
                    format!("{age} old")
                } else {
                    format!("data {age} old")
                }
            });
            // Short, the reason keeps its words; only the rest gives way.
            let text = if short {
                format!("⚠ STALE {age}: {} ", crate::tui::columns::shorten(why, 50))
            } else {
                format!(
                    "⚠ STALE {age}: {}, retrying ",
                    crate::tui::columns::shorten(why, 60)
                )
            };
            right.push(Span::styled(text, theme.danger()));
        }
        (None, Some(t)) => {
            if let Some(words) = figures_as_of(app, short) {
                right.push(Span::styled(words, theme.warn()));
            }
            // Live, the data is as new as the last change: no age to
            // count up (and no redraw every second for it).
            let every = crate::domain::time::duration_words(app.ctx.refresh);
            match app.live {
                Some(true) => right.push(Span::styled("● live ", theme.dim())),
                Some(false) if short => {
                    right.push(Span::styled(format!("⟳ {every} · "), theme.warn()))
                }
                Some(false) => right.push(Span::styled(
                    format!("⟳ polling every {every} · "),
                    theme.warn(),
                )),
                None => {}
            }
            if app.live != Some(true) {
                let ago = ago(app.now, t);
                right.push(Span::styled(
                    if short {
                        format!("{ago} ")
                    } else {
                        format!("updated {ago} ")
                    },
                    theme.dim(),
                ))
            }
        }
        (None, None) => right.push(Span::styled("loading… ", theme.dim())),
    }
    Line::from(right)
}

/// On a cluster whose figures wait for a fold more than a second old:
/// `cluster figures as of 14:05:03 · ` (the oldest of the versions shown).
fn figures_as_of(app: &App, short: bool) -> Option<String> {
    let at = app.versions.iter().filter_map(|v| v.as_of_ms).min()?;
    if app.now - at <= 1_000 {
        return None;
    }
    let clock = crate::domain::time::to_datetime(at).format("%H:%M:%S");
    Some(if short {
        format!("as of {clock} · ")
    } else {
        format!("cluster figures as of {clock} · ")
    })
}

pub(super) fn draw_header(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    // Freshness and READ-ONLY sit on the right and always show; the store
    // and who is connected on the left give way on a narrow terminal, but
    // never lose the server, the database or the login.
    let tool = [
        Span::styled(" journeyctl ", theme.header()),
        Span::raw("│ "),
    ];
    let named = named_store(app, theme);
    let [who_long, who_short, who_least] = who_is_connected(app);
    let who = |text: String| {
        [
            Span::raw(" │ "),
            Span::styled(text, theme.title()),
            Span::raw(" │"),
        ]
    };
    // Whatever gives way, the store's host and database (or its file's
    // name) and the login show: first the tool's name goes, then the
    // store's login (shown after it) and the start of a long path, whole
    // folders at a time, then the operator's host.
    let store = &app.ctx.store;
    let compact = compact_store(store, app.ctx.login.is_some());
    let build = |with_tool: bool, store: &str, who_text: &str| -> Vec<Span<'static>> {
        let mut out = Vec::new();
        if with_tool {
            out.extend(tool.clone());
        } else {
            out.push(Span::raw(" "));
        }
        out.extend(named.clone());
        out.push(Span::raw(store.to_string()));
        out.extend(who(who_text.to_string()));
        out
    };
    let least = least_store(&compact);
    let tries = [
        build(true, store, &who_long),
        build(false, store, &who_long),
        build(false, &compact, &who_long),
        build(false, &compact, &who_short),
        build(false, &least, &who_short),
        build(false, &least, &who_least),
    ];
    // The long right side where the least left still fits beside it.
    let least_left = Line::from(build(false, &shorten_store(&least, 0), &who_least)).width();
    let mut right = header_right(app, theme, false);
    if least_left + right.width() > area.width as usize {
        right = header_right(app, theme, true);
    }
    let right_w = (right.width() as u16).min(area.width);
    let [left_area, right_area] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(right_w)]).areas(area);
    let width = left_area.width as usize;
    let fits = |parts: &[Span]| Line::from(parts.to_vec()).width() <= width;
    let left = match tries.iter().find(|t| fits(t)) {
        Some(t) => t.clone(),
        None => {
            let others = Line::from(build(false, "", &who_least)).width();
            let room = width.saturating_sub(others).max(12);
            build(false, &shorten_store(&least, room), &who_least)
        }
    };
    frame.render_widget(Paragraph::new(Line::from(left)), left_area);
    frame.render_widget(Paragraph::new(right), right_area);
}

/// The config file's name for the store, in its colour, so production
/// never looks like staging (bold and bracketed without colour).
fn named_store(app: &App, theme: &Theme) -> Vec<Span<'static>> {
    match &app.ctx.store_name {
        Some(name) => vec![
            Span::styled(
                format!("[{name}]"),
                theme.store(app.ctx.store_colour.as_deref()),
            ),
            Span::raw(" "),
        ],
        None => Vec::new(),
    }
}

/// Who the database sees, then who is at the keyboard: in full, without
/// the operator, and at the least.
fn who_is_connected(app: &App) -> [String; 3] {
    match &app.ctx.login {
        Some(login) => [
            format!("login {login} · {}", app.ctx.operator),
            format!("login {login}"),
            login.clone(),
        ],
        None => {
            let who = format!("operator {}", app.ctx.operator);
            [who.clone(), who.clone(), who]
        }
    }
}

/// A store's description with what the header shows elsewhere left out:
/// a PostgreSQL URL's login when the login is shown after it.
fn compact_store(store: &str, login_shown: bool) -> String {
    match store.strip_prefix("postgres ") {
        Some(rest) if login_shown => match rest.split_once('@') {
            Some((_, place)) => format!("postgres {place}"),
            None => store.to_string(),
        },
        _ => store.to_string(),
    }
}

/// A PostgreSQL store in the fewest words that still name the server,
/// the database and the schema: `db:5432/journeys/nc_cfg`.
fn least_store(compact: &str) -> String {
    match compact.strip_prefix("postgres ") {
        Some(rest) => match rest.split_once(" schema ") {
            Some((place, schema)) => format!("{place}/{schema}"),
            None => rest.to_string(),
        },
        None => compact.to_string(),
    }
}

/// A store's description in `width` columns: a SQLite path loses whole
/// folders from its start (`sqlite …/journeyctl/journeyctl.db`), never
/// the file's name; a PostgreSQL host and database are never cut.
fn shorten_store(store: &str, width: usize) -> String {
    use crate::tui::columns::text_width;
    if text_width(store) as usize <= width {
        return store.to_string();
    }
    let Some(path) = store.strip_prefix("sqlite ") else {
        return store.to_string();
    };
    let parts: Vec<&str> = path.split('/').collect();
    for skip in 1..parts.len() {
        let tail = format!("sqlite …/{}", parts[skip..].join("/"));
        if text_width(&tail) as usize <= width || skip == parts.len() - 1 {
            return tail;
        }
    }
    store.to_string()
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
    frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: false }), area);
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
    // At 80 columns: every key, the less used ones by their letter alone
    // (`?` says what each does).
    let letters_only = |more: &[crate::tui::keymap::Action]| {
        more.iter()
            .map(|&a| keys.key(a))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let acts = letters_only(&[Finish, Stop, StopAll, Pause, Resume, KillSwitch]);
    let actions = format!(" {acts}: finish stop all pause resume kill");
    let compact = format!("{actions}  {} help", keys.key(Help));
    let details = format!(" {} details {actions}", keys.key(Details));
    match app.view {
        View::Main => vec![
            line(
                arrows("move"),
                &[
                    Details, Finish, Stop, StopAll, Pause, Resume, KillSwitch, Mark, Filter, All,
                    Sort, Audit, Channels, Help, Quit,
                ],
            ),
            line(
                arrows("move"),
                &[
                    Details, Finish, Stop, StopAll, Pause, Resume, KillSwitch, Filter, Audit,
                    Channels, Help,
                ],
            ),
            format!(
                "{details}  {}",
                letters_only(&[Filter, All, Sort, Audit, Channels, Help, Quit])
            ),
            format!(
                "{details}  {}",
                letters_only(&[Filter, Audit, Channels, Help, Quit])
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
                    Finish, Stop, StopAll, Pause, Resume, KillSwitch, Publish, Audit, Channels,
                    Back, Help, Quit,
                ],
            ),
            line(
                arrows("version"),
                &[
                    Finish, Stop, StopAll, Pause, Resume, KillSwitch, Publish, Back, Help,
                ],
            ),
            format!(
                "{actions}  {} publish  {}",
                keys.key(Publish),
                letters_only(&[Audit, Channels, Back, Help, Quit])
            ),
            format!("{compact}  {} back", keys.key(Back)),
        ],
        View::Audit => vec![line(arrows("scroll"), &[Back, Help, Quit])],
        View::Channels => vec![format!(
            " {}  {} release  {}",
            keys.footer(&[RateDown, RateUp, HoldAction]),
            keys.key(Resume),
            keys.footer(&[KillSwitch, Back, Help, Quit])
        )],
    }
}

//! The help pane: every key.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::centered;
use crate::tui::app::App;
use crate::tui::theme::Theme;

pub(super) fn draw_help(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut lines = key_rows(app, theme);
    // What the symbols and columns mean, where the screen has room for it.
    let legend = [
        " ● live  ◐ draining N  ○ drained  ■ stopped  ✎ draft  ⏸ paused  ✉ a channel fails",
        " NOW entries a minute over 5 min: ▼ none while entry is open, ▲fail failures rising",
        " ⚠ SRM split far from its weights  ★ winner  ✓ goal target met  LAST last activity",
        " ENTRY END when entries stop  UNCERTAIN sent without an answer: may have arrived",
    ];
    if area.height as usize >= lines.len() + legend.len() + 4 {
        lines.extend(legend.iter().map(|l| Line::styled(*l, theme.dim())));
    }
    lines.push(Line::styled(
        format!(
            " Data comes by itself (--refresh {}); keys change in config.toml's [keys].",
            crate::domain::time::duration_words(app.ctx.refresh)
        ),
        theme.dim(),
    ));
    lines.push(Line::styled(" Any key closes this help.", theme.dim()));
    // As wide as the longest line where the terminal allows; narrower,
    // the lines wrap (and the pane grows to hold them).
    let widest = lines.iter().map(Line::width).max().unwrap_or(0) as u16;
    let width = (widest + 2).min(area.width);
    let inner = width.saturating_sub(2).max(1) as usize;
    let row_count =
        |lines: &[Line]| -> usize { lines.iter().map(|l| l.width().max(1).div_ceil(inner)).sum() };
    let mut rows = row_count(&lines);
    // Too tall for the screen: it scrolls, and says how.
    let mut title = " Keys ".to_string();
    let mut offset = 0;
    if rows + 2 > area.height as usize {
        if let Some(last) = lines.last_mut() {
            *last = Line::styled(
                " ↑↓ PgUp PgDn scroll · any other key closes this help.",
                theme.dim(),
            );
        }
        rows = row_count(&lines);
        let shown = (area.height as usize).saturating_sub(2);
        let most = rows.saturating_sub(shown) as u16;
        offset = app.help_offset.min(most);
        if offset < most {
            title = format!(" Keys ({} more below · ↓) ", most - offset);
        } else if most > 0 {
            title = " Keys (↑ above) ".to_string();
        }
    }
    let rect = centered(area, width, rows as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((offset, 0))
            .block(Block::bordered().title(title)),
        rect,
    );
}

/// An action's keys as the help screen shows them: `s`, `↑ k`.
fn key_list(keys: &crate::tui::keymap::KeyMap, action: crate::tui::keymap::Action) -> String {
    keys.binding(action)
        .keys
        .iter()
        .map(|k| crate::tui::keymap::key_name(*k))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A line per key of the table: moving in one, groups in one each.
fn key_rows(app: &App, theme: &Theme) -> Vec<Line<'static>> {
    use crate::tui::keymap::Action;
    let keys = &app.ctx.keys;
    // Moving in one line; then a line for each other row of the key table.
    let nav = [
        (vec![Action::Up], "up"),
        (vec![Action::Down], "down"),
        (vec![Action::PageUp, Action::PageDown], "pages"),
        (vec![Action::Top], "top"),
        (vec![Action::Bottom], "bottom"),
    ]
    .iter()
    .map(|(actions, what)| {
        let keys: Vec<String> = actions.iter().map(|&a| key_list(keys, a)).collect();
        format!("{} {what}", keys.join(" "))
    })
    .collect::<Vec<_>>()
    .join(" · ");
    let mut lines = vec![Line::from(vec![
        Span::styled(format!(" {:<10} ", "move"), theme.title()),
        Span::raw(nav),
    ])];
    let moves = [
        Action::Up,
        Action::Down,
        Action::PageUp,
        Action::PageDown,
        Action::Top,
        Action::Bottom,
    ];
    let merged = merged_rows(keys);
    for (action, help) in keys.rows() {
        if moves.contains(&action) {
            continue;
        }
        let (keys_shown, help) = match merged.iter().find(|(group, _)| group.contains(&action)) {
            // A group's line where its first action is; none for the rest.
            Some((group, _)) if group[0] != action => continue,
            Some((group, text)) => {
                let all: Vec<String> = group.iter().map(|&a| key_list(keys, a)).collect();
                (all.join(" "), text.clone())
            }
            None => (key_list(keys, action), help.to_string()),
        };
        lines.push(Line::from(vec![
            Span::styled(format!(" {keys_shown:<10} "), theme.title()),
            Span::raw(help),
        ]));
    }
    lines
}

/// Rows of the key table said in one line each, so that every key fits
/// on an 80x24 terminal: the actions of a group, and what they do.
fn merged_rows(
    keys: &crate::tui::keymap::KeyMap,
) -> Vec<(Vec<crate::tui::keymap::Action>, String)> {
    use crate::tui::keymap::Action::*;
    let k = |a| keys.key(a);
    vec![
        (
            vec![Details, Back],
            format!(
                "the selected version's journey · {} back (clears a filter)",
                k(Back)
            ),
        ),
        (
            vec![Sort, SortReverse],
            format!("next sort column · {} reverses", k(SortReverse)),
        ),
        (
            vec![Audit, Channels, Approvals],
            format!(
                "audit log · {} channels: delivery health · {} requests to approve",
                k(Channels),
                k(Approvals)
            ),
        ),
        (
            vec![Mark, MarkAll, Unmark],
            format!(
                "mark · {} all shown · {} clears; {} {} {} {} then act on all marked",
                k(MarkAll),
                k(Unmark),
                k(Finish),
                k(Stop),
                k(Pause),
                k(Resume)
            ),
        ),
        (
            vec![RateDown, RateUp, HoldAction],
            format!(
                "channels: halve · {} double its rate · {} hold it ({} releases)",
                k(RateUp),
                k(HoldAction),
                k(Resume)
            ),
        ),
        (
            vec![Publish, Unschedule, ArmDisable, ArmWinner],
            format!(
                "publish draft · {} takes back ⏰ · {} {} A/B arm off, winner",
                k(Unschedule),
                k(ArmDisable),
                k(ArmWinner)
            ),
        ),
        (
            vec![Copy, CopyAction, Note, ClaimIt],
            format!(
                "copy name · {} last command (OSC 52) · {} note · {} claim",
                k(CopyAction),
                k(Note),
                k(ClaimIt)
            ),
        ),
        (
            vec![Help, Quit],
            format!("this help · {} quits (Ctrl-C too)", k(Quit)),
        ),
    ]
}

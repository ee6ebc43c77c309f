//! The confirmation pane: what the action does (kept up to date), the
//! typed name or action, the reason, the buttons, and the outcome.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use tui_input::Input;

use super::fields::input_line;
use crate::domain::ActionKind;
use crate::domain::OnExpiry;
use crate::domain::time::ago;
use crate::present::{channel_line, impact_line, thousands};
use crate::store::Target;
use crate::tui::app::App;
use crate::tui::confirm::{ConfirmPane, Focus, PaneKind, PaneState};
use crate::tui::theme::Theme;

pub(super) fn draw_pane(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    pane: &ConfirmPane,
    theme: &Theme,
) {
    let width = area.width.saturating_sub(4).min(80);
    let inner_w = width.saturating_sub(2);
    let danger = if pane.is_stop() {
        theme.danger()
    } else {
        theme.warn()
    };
    let resume_key = app.ctx.keys.key(crate::tui::keymap::Action::Resume);
    let mut lines = intro_lines(pane.action.kind, danger, &resume_key);
    lines.extend(impact_lines(app, pane, theme));
    lines.push(Line::raw(""));
    let mut cursor: Option<(usize, usize)> = None;
    match &pane.state {
        PaneState::Editing | PaneState::Working { .. } => {
            let (fields, at) = field_lines(app, pane, inner_w, theme);
            cursor = at.map(|(row, col)| (lines.len() + row, col));
            lines.extend(fields);
            lines.push(buttons(pane, theme));
            lines.push(Line::styled(hint(pane), theme.dim()));
        }
        PaneState::Done(outcome) => lines.extend(done_lines(
            app,
            crate::present::outcome_summary(outcome),
            theme,
        )),
        PaneState::Refused(why) => lines.extend(refused_lines(why, theme)),
    }
    let title = Line::from(vec![Span::styled(
        format!(" {} ", pane.action.describe()),
        danger,
    )]);
    super::draw_box(frame, area, width, lines, title, cursor);
}

/// What the action means, and that it cannot be undone.
fn intro_lines(kind: ActionKind, danger: Style, resume_key: &str) -> Vec<Line<'static>> {
    let (first, second) = match kind {
        ActionKind::Finish => (
            "No new participant can enter from the moment it commits;",
            "participants inside carry on to the end of their path.",
        ),
        ActionKind::Stop => (
            "Every active participant is stopped where it stands, now;",
            "no step runs again and pending messages are cancelled.",
        ),
        ActionKind::Pause(_) => (
            "No entries and no messages from the moment it commits; waits go on,",
            "participants hold before their next message; goal and exit events apply.",
        ),
        ActionKind::Resume(_) => (
            "The hold ends: held participants go on at the next tick",
            "and held messages are delivered.",
        ),
    };
    let last = match kind {
        ActionKind::Pause(_) => {
            format!("Reversible: {resume_key} resumes. When the hold runs out, its rule applies.")
        }
        ActionKind::Resume(_) => "It can be paused again later.".into(),
        _ => crate::present::CANNOT_BE_UNDONE.into(),
    };
    vec![
        Line::raw(first),
        Line::raw(second),
        Line::styled(last, danger),
        Line::raw(""),
    ]
}

/// The versions affected and what happens to them, as of the last refresh.
fn impact_lines(app: &App, pane: &ConfirmPane, theme: &Theme) -> Vec<Line<'static>> {
    let impact = match &pane.impact {
        None if pane.is_kill_switch() && pane.typed_action().is_empty() => {
            return vec![Line::styled(
                "The kill switch stops every live or finished version that sends through an action",
                theme.dim(),
            )];
        }
        None => return vec![Line::styled("working out the impact…", theme.dim())],
        // Once refused, the refusal says why (often the same words).
        Some(Err(_)) if matches!(pane.state, PaneState::Refused(_)) => return Vec::new(),
        Some(Err(e)) => return vec![Line::styled(format!("✗ {e}"), theme.danger())],
        Some(Ok(impact)) => impact,
    };
    let kind = pane.action.kind;
    // Someone else's claim is said first; it does not refuse the action.
    let me = app.ctx.operator.split('@').next().unwrap_or_default();
    let mut lines: Vec<Line<'static>> = impact
        .versions
        .iter()
        .filter_map(|i| {
            let v = app
                .versions
                .iter()
                .find(|v| v.journey == i.journey && v.version == i.version)?;
            crate::present::claim_line(v, me, app.now)
        })
        .map(|l| Line::styled(l, theme.warn()))
        .collect();
    lines.push(Line::styled(
        format!("Versions affected ({}):", impact.versions.len()),
        theme.title(),
    ));
    for v in impact.versions.iter().take(6) {
        lines.push(Line::raw(format!("  {}", impact_line(kind, v))));
    }
    if impact.versions.len() > 6 {
        lines.push(Line::raw(format!(
            "  … and {} more",
            impact.versions.len() - 6
        )));
    }
    let total = match kind {
        ActionKind::Finish => format!(
            "In all: {} active participants left to drain.",
            thousands(impact.active())
        ),
        ActionKind::Stop => format!(
            "In all: {} active participants stopped, {} pending messages cancelled.",
            thousands(impact.active()),
            thousands(impact.pending())
        ),
        ActionKind::Pause(_) => format!(
            "In all: {} active participants held, {} pending messages held.",
            thousands(impact.active()),
            thousands(impact.pending())
        ),
        ActionKind::Resume(_) => format!(
            "In all: {} active participants go on, {} pending messages delivered.",
            thousands(impact.active()),
            thousands(impact.pending())
        ),
    };
    lines.push(Line::styled(total, theme.title()));
    if let Some(t) = pane.impact_at {
        lines.push(Line::styled(
            format!("(kept up to date; figures from {})", ago(app.now, t)),
            theme.dim(),
        ));
    }
    lines
}

/// The text fields, the hint and why the console cannot act; and where the
/// cursor goes (row within these lines, column).
fn field_lines(
    app: &App,
    pane: &ConfirmPane,
    inner_w: u16,
    theme: &Theme,
) -> (Vec<Line<'static>>, Option<(usize, usize)>) {
    let mut lines = Vec::new();
    let mut cursor = None;
    if pane.is_kill_switch() {
        let in_use = app.actions_in_use();
        if !in_use.is_empty() {
            lines.push(Line::styled(
                format!("Actions in use: {}", in_use.join(", ")),
                theme.dim(),
            ));
        }
    }
    let (lead, rows) = field_rows(pane, theme);
    lines.extend(lead);
    for row in rows {
        match row {
            Ok((label, input, focus)) => {
                let focused = pane.focus == focus;
                let (l, c) = input_line(&label, input, focused, inner_w, theme);
                if focused {
                    cursor = Some((lines.len(), c));
                }
                lines.push(l);
            }
            Err(line) => lines.push(line),
        }
    }
    if pane.is_kill_switch() {
        lines.extend(channel_lines(app, pane.typed_action(), theme));
    }
    if let Some(h) = &pane.hint {
        lines.push(Line::styled(h.clone(), theme.warn()));
    }
    if let Some(why) = app.blocked() {
        lines.push(Line::styled(format!("✗ {why}"), theme.danger()));
    }
    lines.push(Line::raw(""));
    (lines, cursor)
}

/// Each entry of the pane's form: a text field (label, input, focus) or a
/// line of its own; and the lines before them.
type Row<'a> = Result<(String, &'a Input, Focus), Line<'static>>;

fn field_rows<'a>(pane: &'a ConfirmPane, theme: &Theme) -> (Vec<Line<'static>>, Vec<Row<'a>>) {
    let mut lead = Vec::new();
    let mut rows: Vec<Row<'a>> = Vec::new();
    match &pane.kind {
        PaneKind::KillSwitch { .. } => rows.push(Ok(("Action:".into(), &pane.name, Focus::Name))),
        PaneKind::TypedName { expected } => rows.push(Ok((
            format!("Type {expected} to confirm:"),
            &pane.name,
            Focus::Name,
        ))),
        PaneKind::Brake { expected, .. } => rows.push(Ok((
            format!("Type the store's name, {expected}, to confirm:"),
            &pane.name,
            Focus::Name,
        ))),
        _ => {}
    }
    if pane.is_kill_switch() || pane.is_brake() {
        rows.push(Err(choice(
            "Then:",
            ["stop (for good)", "pause (reversible)"],
            pane.action.kind.is_pause(),
            pane.focus == Focus::Mode,
            theme,
        )));
    }
    if let Some(terms) = pane.terms() {
        rows.push(Ok((
            "Hold for (at most 30d):".into(),
            &terms.length,
            Focus::Hold,
        )));
        rows.push(Err(choice(
            "When the hold runs out:",
            ["stop", "resume"],
            terms.on_expiry == OnExpiry::Resume,
            pane.focus == Focus::Expiry,
            theme,
        )));
    }
    if let PaneKind::Resume { overdue: field } = &pane.kind {
        let overdue: i64 = match &pane.impact {
            Some(Ok(i)) => i.versions.iter().map(|v| v.overdue).sum(),
            _ => 0,
        };
        lead.push(Line::styled(
            format!(
                "{} message(s) fell due during the hold: send, skip or spread=30m.",
                thousands(overdue)
            ),
            theme.dim(),
        ));
        if let Some(Ok(i)) = &pane.impact {
            let chosen = crate::domain::Overdue::parse(field.value()).unwrap_or_default();
            for line in crate::present::channels::release_lines(&i.release, chosen) {
                lead.push(Line::raw(line));
            }
        }
        rows.push(Ok(("Overdue messages:".into(), field, Focus::Hold)));
    }
    rows.push(Ok((
        "Reason (optional):".into(),
        &pane.reason,
        Focus::Reason,
    )));
    (lead, rows)
}

/// Two options, the chosen one marked: `Then: ▸stop◂  pause` (←/→ choose).
fn choice(
    label: &str,
    options: [&str; 2],
    second: bool,
    focused: bool,
    theme: &Theme,
) -> Line<'static> {
    let mut spans = vec![Span::raw(format!("{label} "))];
    for (i, o) in options.iter().enumerate() {
        let chosen = (i == 1) == second;
        let text = if chosen {
            format!("▸{o}◂")
        } else {
            format!(" {o} ")
        };
        let style = match (chosen, focused) {
            (true, true) => theme.focus(),
            (true, false) => theme.title(),
            _ => theme.dim(),
        };
        spans.push(Span::styled(text, style));
        spans.push(Span::raw(" "));
    }
    if focused {
        spans.push(Span::styled("(←/→ choose)", theme.dim()));
    }
    Line::from(spans)
}

fn buttons(pane: &ConfirmPane, theme: &Theme) -> Line<'static> {
    let verb = match pane.action.kind {
        ActionKind::Finish => "Finish",
        ActionKind::Stop => "Stop",
        ActionKind::Pause(_) => "Pause",
        ActionKind::Resume(_) => "Resume",
    };
    let confirm_label = match &pane.action.target {
        Target::Version { .. } => format!("{verb} version"),
        Target::Store { .. } => format!("{verb} the whole store"),
        _ => format!("{verb} all listed"),
    };
    button_pair(
        &confirm_label,
        (pane.focus == Focus::Cancel, pane.focus == Focus::Confirm),
        theme,
    )
}

/// A pane's two buttons, Cancel and `confirm`, the focused one marked
/// (`focused`: Cancel's, the confirm's).
pub(super) fn button_pair(
    confirm: &str,
    (cancel, confirmed): (bool, bool),
    theme: &Theme,
) -> Line<'static> {
    let button = |label: &str, focused: bool| {
        if focused {
            Span::styled(format!("▶[ {label} ]◀"), theme.focus())
        } else {
            Span::raw(format!(" [ {label} ] "))
        }
    };
    Line::from(vec![
        Span::raw("      "),
        button("Cancel", cancel),
        Span::raw("    "),
        button(confirm, confirmed),
    ])
}

/// What a pane shows once its action committed: `✓ what`, the command
/// that does the same, and where it is recorded.
pub(super) fn done_lines(app: &App, what: String, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled(format!("✓ {what}"), theme.good())];
    lines.extend(command_line(app, theme));
    lines.push(Line::styled(
        "Recorded in the audit log. Enter or Esc closes.",
        theme.dim(),
    ));
    lines
}

/// What a pane shows when its action was refused.
pub(super) fn refused_lines(why: &str, theme: &Theme) -> Vec<Line<'static>> {
    // Four eyes: the action became a request, which is not a refusal.
    if why.contains(crate::present::REQUESTED) {
        return vec![
            Line::styled(format!("⧗ {why}"), theme.warn()),
            Line::styled(
                "Not carried out yet: another operator approves it. Enter or Esc closes.",
                theme.dim(),
            ),
        ];
    }
    vec![
        Line::styled(format!("✗ refused: {why}"), theme.danger()),
        Line::styled("Nothing was changed. Enter or Esc closes.", theme.dim()),
    ]
}

/// The delivery health of the action typed (and its sub-actions), so the
/// operator sees why before acting.
fn channel_lines(app: &App, typed: &str, theme: &Theme) -> Vec<Line<'static>> {
    if typed.is_empty() {
        return Vec::new();
    }
    let matching: Vec<_> = app
        .channels
        .iter()
        .filter(|h| {
            h.action == typed
                || h.action
                    .strip_prefix(typed)
                    .is_some_and(|rest| rest.starts_with(':'))
        })
        .collect();
    let mut lines: Vec<Line<'static>> = matching
        .iter()
        .take(3)
        .map(|h| {
            let style = if h.failing() {
                theme.danger()
            } else {
                theme.dim()
            };
            Line::styled(channel_line(h, app.now), style)
        })
        .collect();
    if matching.len() > 3 {
        lines.push(Line::styled(
            format!("… and {} more actions (c shows all)", matching.len() - 3),
            theme.dim(),
        ));
    }
    lines
}

fn hint(pane: &ConfirmPane) -> String {
    if let PaneState::Working { waiting, giving_up } = &pane.state {
        match (waiting, giving_up) {
            (_, true) => "giving up: cancelling the wait…".to_string(),
            (Some(w), false) => crate::present::waiting_line(w, "Esc gives up"),
            (None, false) => "working…".to_string(),
        }
    } else if pane.is_kill_switch() {
        "type the action, read the versions listed, then Enter · Tab: stop or pause, reason · Esc cancel"
            .to_string()
    } else if pane.is_brake() {
        "type the store's name, read the impact, then Enter · Tab: pause or stop, hold, reason · Esc cancel"
            .to_string()
    } else if let Some(expected) = pane.expected_name() {
        format!("type {expected} and Enter to stop · Tab reason · Esc cancel")
    } else {
        format!(
            "Tab next field · y or Enter on the button to {} · Esc cancel",
            pane.action.kind.verb()
        )
    }
}

/// The command that does the same from a shell (`Y` copies it).
pub(super) fn command_line(app: &App, theme: &Theme) -> Option<Line<'static>> {
    let line = app.last_cli.as_deref()?;
    let key = app.ctx.keys.key(crate::tui::keymap::Action::CopyAction);
    Some(Line::styled(
        format!(
            "As a command ({key} copies it): {}",
            crate::present::escaped(line)
        ),
        theme.dim(),
    ))
}

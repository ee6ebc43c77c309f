//! The note and claim panes: a text field (and a claim's duration), the
//! outcome.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::fields::push_fields;
use crate::tui::app::App;
use crate::tui::team::{TeamKind, TeamPane, TeamState};
use crate::tui::theme::Theme;

pub(super) fn draw_team(frame: &mut Frame, area: Rect, app: &App, pane: &TeamPane, theme: &Theme) {
    let width = area.width.saturating_sub(4).min(80);
    let inner_w = width.saturating_sub(2);
    let what = match pane.kind {
        TeamKind::Note => "A note for the team: on the row (✎), in the detail and the audit log.",
        TeamKind::Claim => {
            "You are on it: whoever acts on it meanwhile is told first (◆ you, for how long, why)."
        }
    };
    let mut lines = vec![Line::styled(what, theme.dim()), Line::raw("")];
    let mut cursor = None;
    match &pane.state {
        TeamState::Editing | TeamState::Working => {
            let editing = pane.state == TeamState::Editing;
            let mut fields = Vec::new();
            if pane.kind == TeamKind::Claim {
                fields.push(("For (1h, at most 7d):", &pane.for_, pane.on_for));
            }
            let label = match pane.kind {
                TeamKind::Note => "Note:",
                TeamKind::Claim => "Why (optional):",
            };
            fields.push((label, &pane.text, !pane.on_for));
            let fields: Vec<_> = fields
                .into_iter()
                .map(|(label, input, focused)| (label, input, focused && editing))
                .collect();
            cursor = push_fields(&mut lines, &fields, pane.hint.as_deref(), inner_w, theme);
            lines.push(Line::styled(
                if editing {
                    "Enter saves · Tab next field · Esc cancel"
                } else {
                    "saving…"
                },
                theme.dim(),
            ));
        }
        TeamState::Done(line) => lines.extend(super::pane::done_lines(app, line.clone(), theme)),
        TeamState::Refused(why) => lines.extend(super::pane::refused_lines(why, theme)),
    }
    let verb = match pane.kind {
        TeamKind::Note => "note on",
        TeamKind::Claim => "claim",
    };
    let title = Line::from(vec![Span::styled(
        crate::present::escaped(&format!(" {verb} {} v{} ", pane.journey, pane.version))
            .into_owned(),
        theme.title(),
    )]);
    super::draw_box(frame, area, width, lines, title, cursor);
}

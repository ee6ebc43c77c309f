//! The A/B-by-hand pane: which arm, what it means, a reason, the outcome.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::fields::input_line;
use crate::store::VariantChoice;
use crate::tui::app::App;
use crate::tui::arm::{ArmFocus, ArmPane, ArmState};
use crate::tui::theme::Theme;

pub(super) fn draw_arm(frame: &mut Frame, area: Rect, app: &App, pane: &ArmPane, theme: &Theme) {
    let width = area.width.saturating_sub(4).min(80);
    let inner_w = width.saturating_sub(2);
    let what = match pane.choice {
        VariantChoice::Disable => {
            "No new participant goes to this arm: they go to the others by their weights. Those already in it stay."
        }
        VariantChoice::Winner => {
            "Every new participant goes to this arm: an operator's decision, said as such, not a statistical result."
        }
    };
    let mut lines = vec![Line::styled(what, theme.warn()), Line::raw("")];
    let mut cursor = None;
    match &pane.state {
        ArmState::Editing | ArmState::Working => {
            let mut spans = vec![Span::raw("Arm: ")];
            for (i, (name, assigned)) in pane.arms.iter().enumerate() {
                let text = format!(" {name} ({}) ", crate::present::thousands(*assigned));
                let text = crate::present::escaped(&text).into_owned();
                spans.push(if i == pane.arm {
                    let focused = pane.focus == ArmFocus::Arm;
                    Span::styled(
                        format!("▸{text}◂"),
                        if focused {
                            theme.selected()
                        } else {
                            theme.title()
                        },
                    )
                } else {
                    Span::raw(text)
                });
            }
            lines.push(Line::from(spans));
            let focused = pane.focus == ArmFocus::Reason && pane.state == ArmState::Editing;
            let (line, col) =
                input_line("Reason (optional):", &pane.reason, focused, inner_w, theme);
            if focused {
                cursor = Some((lines.len(), col));
            }
            lines.push(line);
            lines.push(Line::raw(""));
            let verb = match pane.choice {
                VariantChoice::Disable => "Disable",
                VariantChoice::Winner => "Pick winner",
            };
            lines.push(super::pane::button_pair(
                verb,
                (
                    pane.focus == ArmFocus::Cancel,
                    pane.focus == ArmFocus::Confirm,
                ),
                theme,
            ));
            let hint = if pane.state == ArmState::Working {
                "choosing…"
            } else {
                "← → arm · Tab next · Enter confirms · Esc cancel"
            };
            lines.push(Line::styled(hint, theme.dim()));
        }
        ArmState::Done(line) => lines.extend(super::pane::done_lines(app, line.clone(), theme)),
        ArmState::Refused(why) => lines.extend(super::pane::refused_lines(why, theme)),
    }
    let title = Line::from(vec![Span::styled(
        crate::present::escaped(&format!(
            " A/B by hand: {} v{} test {} ",
            pane.journey, pane.version, pane.test
        ))
        .into_owned(),
        theme.warn(),
    )]);
    super::draw_box(frame, area, width, lines, title, cursor);
}

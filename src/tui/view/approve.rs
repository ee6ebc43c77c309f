//! The requests pane: each open request (what, who asked, when it
//! expires, why), the chosen one marked, and the outcome.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::present::escaped;
use crate::tui::app::App;
use crate::tui::approve::{ApprovePane, ApproveState};
use crate::tui::theme::Theme;

pub(super) fn draw_approve(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    pane: &ApprovePane,
    theme: &Theme,
) {
    let width = area.width.saturating_sub(4).min(90);
    let mut lines = Vec::new();
    match &pane.state {
        ApproveState::Loading => lines.push(Line::styled("reading the requests…", theme.dim())),
        ApproveState::Choosing | ApproveState::Working if pane.requests.is_empty() => {
            lines.push(Line::raw("no request waits for approval"));
            lines.push(Line::styled("Enter or Esc closes", theme.dim()));
        }
        ApproveState::Choosing | ApproveState::Working => {
            for (i, r) in pane.requests.iter().enumerate() {
                let chosen = i == pane.selected;
                let mark = if chosen { "▶ " } else { "  " };
                let line = format!(
                    "{mark}#{} {} · asked by {} · expires in {}",
                    r.id,
                    r.what,
                    r.asked_by,
                    crate::domain::time::left(app.now, r.expires_ms)
                );
                let style = if chosen {
                    theme.selected()
                } else {
                    ratatui::style::Style::default()
                };
                lines.push(Line::styled(escaped(&line).into_owned(), style));
                if let Some(why) = &r.reason {
                    lines.push(Line::styled(
                        escaped(&format!("    \"{why}\"")).into_owned(),
                        theme.dim(),
                    ));
                }
            }
            lines.push(Line::raw(""));
            let hint = if pane.state == ApproveState::Working {
                "carrying it out…"
            } else {
                "↑↓ chooses · Enter approves: it is carried out now, as you · Esc closes"
            };
            lines.push(Line::styled(hint, theme.dim()));
        }
        ApproveState::Done(line) => lines.extend(super::pane::done_lines(app, line.clone(), theme)),
        ApproveState::Refused(why) => lines.extend(super::pane::refused_lines(why, theme)),
    }
    let title = Line::from(vec![Span::styled(
        " requests waiting for approval (four eyes) ",
        theme.warn(),
    )]);
    super::draw_box(frame, area, width, lines, title, None);
}

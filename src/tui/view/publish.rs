//! The publish pane: what the publish does (kept up to date), the typed
//! name, the reason, the buttons, and the outcome.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::fields::push_fields;
use crate::tui::app::App;
use crate::tui::publish::{PublishFocus, PublishPane, PublishState};
use crate::tui::theme::Theme;

pub(super) fn draw_publish(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    pane: &PublishPane,
    theme: &Theme,
) {
    let width = area.width.saturating_sub(4).min(80);
    let inner_w = width.saturating_sub(2);
    let mut lines = vec![Line::styled(
        "The newest draft goes live; the live version is finished (its participants go on to the end, new entries go to the draft).",
        theme.warn(),
    )];
    lines.push(Line::raw(""));
    match &pane.impact {
        None => lines.push(Line::styled("working out what it does…", theme.dim())),
        Some(Err(why)) => lines.push(Line::styled(format!("✗ {why}"), theme.danger())),
        Some(Ok(impact)) => lines.extend(
            crate::present::publish_lines(impact)
                .into_iter()
                .map(|l| Line::raw(crate::present::escaped(&l).into_owned())),
        ),
    }
    lines.push(Line::raw(""));
    let (state_lines, at) = state_lines(app, pane, inner_w, theme);
    let cursor = at.map(|(line, col)| (lines.len() + line, col));
    lines.extend(state_lines);
    let title = Line::from(vec![Span::styled(
        crate::present::escaped(&format!(" publish the newest draft of {} ", pane.journey))
            .into_owned(),
        theme.warn(),
    )]);
    super::draw_box(frame, area, width, lines, title, cursor);
}

/// The fields, buttons and hint while editing; the outcome after. With
/// where the focused field's cursor is (row among these lines, column).
fn state_lines(
    app: &App,
    pane: &PublishPane,
    inner_w: u16,
    theme: &Theme,
) -> (Vec<Line<'static>>, Option<(usize, usize)>) {
    let mut lines = Vec::new();
    let mut cursor = None;
    match &pane.state {
        PublishState::Editing | PublishState::Working => {
            let on = |f| pane.focus == f && pane.state == PublishState::Editing;
            let name_label =
                crate::present::escaped(&format!("Type {} to confirm:", pane.journey)).into_owned();
            let fields = [
                (name_label.as_str(), &pane.name, on(PublishFocus::Name)),
                ("Reason (optional):", &pane.reason, on(PublishFocus::Reason)),
            ];
            cursor = push_fields(&mut lines, &fields, pane.hint.as_deref(), inner_w, theme);
            if let Some(why) = app.blocked() {
                lines.push(Line::styled(format!("✗ {why}"), theme.danger()));
            }
            lines.push(Line::raw(""));
            lines.push(buttons(pane, theme));
            let hint = if pane.state == PublishState::Working {
                "publishing…".to_string()
            } else {
                format!(
                    "type {} and Enter to publish · Tab reason · Esc cancel",
                    pane.journey
                )
            };
            lines.push(Line::styled(
                crate::present::escaped(&hint).into_owned(),
                theme.dim(),
            ));
        }
        PublishState::Done(n) => lines.extend(super::pane::done_lines(
            app,
            crate::present::escaped(&format!("published {} v{n}", pane.journey)).into_owned(),
            theme,
        )),
        PublishState::Refused(why) => lines.extend(super::pane::refused_lines(why, theme)),
    }
    (lines, cursor)
}

fn buttons(pane: &PublishPane, theme: &Theme) -> Line<'static> {
    super::pane::button_pair(
        "Publish",
        (
            pane.focus == PublishFocus::Cancel,
            pane.focus == PublishFocus::Confirm,
        ),
        theme,
    )
}

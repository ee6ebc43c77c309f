//! Drawing: a pure function of the console state, one file per screen or
//! pane. Only the rows that fit on screen are built, whatever the number
//! of versions.

mod approve;
mod arm;
mod audit;
mod channels;
mod chrome;
mod detail;
mod fields;
mod help;
mod hold;
mod main_list;
mod pane;
mod publish;
mod rate;
mod team;
mod trends;
mod unschedule;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::app::{App, View};
use super::columns::Col;
use super::theme::Theme;
use crate::present::{pct, thousands};
use crate::store::VersionSummary;

pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = frame.area();
    let banner = app.ctx.banner.is_some() as u16;
    // A notice (a refusal) is never cut: it takes the rows it needs.
    let footer_rows = app.notice.as_ref().map_or(1, |n| {
        super::columns::wrapped_rows(&format!(" {n}"), area.width as usize).min(4) as u16
    });
    let [header, banner_area, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(banner),
        Constraint::Min(3),
        Constraint::Length(footer_rows),
    ])
    .areas(area);
    chrome::draw_header(frame, header, app, theme);
    if let Some(text) = &app.ctx.banner {
        frame.render_widget(
            Paragraph::new(Line::styled(
                super::columns::shorten(&format!(" {text}"), banner_area.width),
                theme.dim(),
            )),
            banner_area,
        );
    }
    match app.view {
        View::Main => main_list::draw_main(frame, body, app, theme),
        View::Detail => detail::draw_detail(frame, body, app, theme),
        View::Audit => audit::draw_audit(frame, body, app, theme),
        View::Channels => channels::draw_channels(frame, body, app, theme),
    }
    chrome::draw_footer(frame, footer, app, theme);
    // Help and panes sit below the header (and the demo's line): the
    // store, `[prod]`, the login and READ-ONLY stay in sight, above all
    // while something is being stopped.
    let below = Rect {
        y: body.y,
        height: area.height.saturating_sub(body.y - area.y),
        ..area
    };
    if matches!(app.mode, crate::tui::app::Mode::Help) {
        help::draw_help(frame, below, app, theme);
    }
    if let Some(pane) = app.pane() {
        pane::draw_pane(frame, below, app, pane, theme);
    }
    if let Some(pane) = app.publish_pane() {
        publish::draw_publish(frame, below, app, pane, theme);
    }
    if let Some(pane) = app.rate_pane() {
        rate::draw_rate(frame, below, app, pane, theme);
    }
    if let Some(pane) = app.hold_pane() {
        hold::draw_hold(frame, below, app, pane, theme);
    }
    if let Some(pane) = app.team_pane() {
        team::draw_team(frame, below, app, pane, theme);
    }
    if let Some(pane) = app.arm_pane() {
        arm::draw_arm(frame, below, app, pane, theme);
    }
    if let Some(pane) = app.approve_pane() {
        approve::draw_approve(frame, below, app, pane, theme);
    }
    if let Some(pane) = app.unschedule_pane() {
        unschedule::draw_unschedule(frame, below, app, pane, theme);
    }
}

/// The participant columns both the main list and the detail view show.
pub(super) fn count_columns() -> Vec<Col> {
    vec![
        Col::right("ENTERED", 7, 4),
        Col::right("ACTIVE", 6, 1),
        Col::right("COMPLETED", 9, 5),
        Col::right("EXITED", 6, 6),
        Col::right("STOPPED", 7, 6),
        Col::right("CONV", 5, 2),
    ]
}

pub(super) fn count_cells(v: &VersionSummary) -> Vec<String> {
    vec![
        thousands(v.counts.entered),
        thousands(v.counts.active),
        thousands(v.counts.completed),
        thousands(v.counts.exited),
        thousands(v.counts.stopped),
        conv_cell(v),
    ]
}

/// The CONV cell: the rate, and once the goal's target is met, the target
/// it met: `23.1% ✓ 20%` (on the way, only the rate: the column stays
/// narrow; the detail view's title says the target).
fn conv_cell(v: &VersionSummary) -> String {
    let rate = pct(v.conversion_rate);
    match (v.goal_target, v.goal_met) {
        (Some(t), Some(true)) => format!("{rate} ✓ {}", target_pct(t)),
        _ => rate,
    }
}

/// A goal target as written: `20%`, `2.5%`.
pub(super) fn target_pct(t: f64) -> String {
    format!("{}%", (t * 1000.0).round() / 10.0)
}

/// The bordered block of a screen's body, framed in the store's colour.
pub(super) fn body_block<'a>(app: &App, theme: &Theme) -> Block<'a> {
    Block::bordered().border_style(theme.frame(app.ctx.store_colour.as_deref()))
}

/// A part of a screen drawn in its frame: the block around it and the
/// theme it is drawn in.
pub(super) struct Panel<'a> {
    pub block: Block<'a>,
    pub theme: &'a Theme,
}

impl<'a> Panel<'a> {
    /// The body's frame of the store's colour.
    pub(super) fn body(app: &App, theme: &'a Theme) -> Panel<'a> {
        Panel {
            block: body_block(app, theme),
            theme,
        }
    }
}

pub(super) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// A pane's box, centred in `area`, `width` wide and as tall as its lines
/// wrapped to it; the cursor, where a field has it, at (line, column),
/// below the rows the lines above it wrap to.
pub(super) fn draw_box(
    frame: &mut Frame,
    area: Rect,
    width: u16,
    lines: Vec<Line<'static>>,
    title: Line<'static>,
    cursor: Option<(usize, usize)>,
) {
    let inner_w = width.saturating_sub(2) as usize;
    let rows_of = |lines: &[Line<'_>]| -> usize {
        lines
            .iter()
            .map(|l| {
                let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
                crate::tui::columns::wrapped_rows(&text, inner_w)
            })
            .sum()
    };
    let rect = centered(area, width, rows_of(&lines) as u16 + 2);
    let cursor = cursor.map(|(line, col)| (rows_of(&lines[..line.min(lines.len())]), col));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(title)),
        rect,
    );
    if let Some((row, col)) = cursor {
        let x = rect.x + 1 + col as u16;
        let y = rect.y + 1 + row as u16;
        if x < rect.right() && y < rect.bottom() {
            frame.set_cursor_position((x, y));
        }
    }
}

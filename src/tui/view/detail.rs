//! The detail view of one journey: every version with its counts, the
//! selected version's steps, its A/B test, exit reasons, and the journey's
//! audit history.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{Panel, count_cells, count_columns};
use crate::domain::abtest::VerdictKind;
use crate::domain::time::short;
use crate::present::{audit_change, pct, shown, srm_line, status_cell, status_label, thousands};
use crate::store::{AbSummary, AuditEntry, VersionDetail};
use crate::tui::app::App;
use crate::tui::columns::{Col, Fit, RowData, fitted_table, shorten};
use crate::tui::theme::Theme;

pub(super) fn draw_detail(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(detail) = &app.detail else { return };
    let (journey, versions) = (&detail.journey, &detail.versions);
    if versions.is_empty() {
        let block = super::body_block(app, theme).title(format!(" {journey} "));
        frame.render_widget(Paragraph::new("loading…").block(block), area);
        return;
    }
    let sel = app.detail_selected.min(versions.len() - 1);
    let d = &versions[sel];
    let n_versions = versions.len() as u16;
    let [top, middle, trends, bottom] = Layout::vertical([
        Constraint::Length((n_versions + 3).min(area.height / 3).max(4)),
        Constraint::Min(6),
        Constraint::Length(super::trends::trends_height(d, frame.area().height)),
        Constraint::Length((area.height / 4).saturating_sub(1).max(4)),
    ])
    .areas(area);
    super::trends::draw_trends(frame, trends, d, Panel::body(app, theme));
    draw_versions(
        frame,
        top,
        journey,
        app.now,
        versions,
        sel,
        Panel::body(app, theme),
    );
    let [steps_area, ab_area] =
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(middle);
    draw_steps(
        frame,
        steps_area,
        d,
        app.step_offset,
        Panel::body(app, theme),
    );
    let mut ab_lines = match &d.summary.ab {
        None => vec![Line::styled("no A/B test in this version", theme.dim())],
        Some(ab) => ab_lines(ab, theme),
    };
    ab_lines.extend(forecast_lines(d, theme));
    if d.summary.shares_aside > 0 {
        let line = format!(
            "⚠ {} of the buckets' shares set aside as out of bounds, not counted: journeyctl check names them",
            d.summary.shares_aside
        );
        ab_lines.insert(0, Line::styled(line, theme.warn()));
    }
    if let Some(why) = &d.summary.unreadable {
        ab_lines.insert(
            0,
            Line::styled(format!("⚠ unreadable: {why}"), theme.warn()),
        );
    }
    let ab_title = d
        .summary
        .ab
        .as_ref()
        .map_or(" A/B ".to_string(), |a| format!(" A/B test {} ", a.test));
    frame.render_widget(
        Paragraph::new(ab_lines)
            .wrap(Wrap { trim: true })
            .block(super::body_block(app, theme).title(ab_title)),
        ab_area,
    );
    draw_exits_and_history(frame, bottom, d, &detail.audit, app, theme);
}

/// What will go out next, per action (as `journeyctl forecast`): in 15
/// minutes, an hour and a day; while paused, what a resume releases at
/// once.
fn forecast_lines(d: &VersionDetail, theme: &Theme) -> Vec<Line<'static>> {
    if d.forecast.is_empty() {
        return Vec::new();
    }
    let paused = d.summary.paused.is_some();
    let mut lines = vec![
        Line::raw(""),
        Line::styled(
            if paused {
                "next to go out · at resume / 15m / 1h / 24h"
            } else {
                "next to go out · 15m / 1h / 24h"
            },
            theme.dim(),
        ),
    ];
    for f in &d.forecast {
        let figures = [f.next_15m, f.next_1h, f.next_24h]
            .map(thousands)
            .join(" / ");
        let figures = if paused {
            format!("{} / {figures}", thousands(f.at_once))
        } else {
            figures
        };
        lines.push(Line::raw(format!(
            "{}  {figures}",
            crate::present::escaped(&f.action)
        )));
    }
    lines
}

/// Why participants left, and the journey's audit history.
fn draw_exits_and_history(
    frame: &mut Frame,
    bottom: Rect,
    d: &VersionDetail,
    audit: &[AuditEntry],
    app: &App,
    theme: &Theme,
) {
    let [exits_area, audit_area] =
        Layout::horizontal([Constraint::Percentage(35), Constraint::Percentage(65)]).areas(bottom);
    let exit_lines: Vec<Line> = if d.exit_reasons.is_empty() {
        vec![Line::styled("nobody exited", theme.dim())]
    } else {
        d.exit_reasons
            .iter()
            .map(|(r, n)| {
                let line = format!("{:>9}  {r}", thousands(*n));
                Line::raw(shorten(&line, exits_area.width.saturating_sub(2)))
            })
            .collect()
    };
    frame.render_widget(
        Paragraph::new(exit_lines).block(super::body_block(app, theme).title(" exit reasons ")),
        exits_area,
    );
    frame.render_widget(
        Paragraph::new(history(audit, audit_area.width.saturating_sub(2), theme))
            .block(super::body_block(app, theme).title(" audit history ")),
        audit_area,
    );
}

/// Every version of the journey with its counts and messages.
fn draw_versions(
    frame: &mut Frame,
    area: Rect,
    journey: &str,
    now: i64,
    versions: &[VersionDetail],
    sel: usize,
    panel: Panel<'_>,
) {
    let (framed, theme) = (panel.block, panel.theme);
    let d = &versions[sel];
    let cols = version_columns();
    let rows: Vec<RowData> = versions
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let s = &v.summary;
            RowData {
                marked: false,
                cells: [
                    vec![s.version.to_string(), status_cell(s, now)],
                    count_cells(s),
                    vec![
                        // Those of a held action (`journeyctl hold`) wait
                        // apart: `1,200 ⏸300`.
                        match s.messages.held {
                            0 => thousands(s.messages.pending),
                            held => {
                                format!("{} ⏸{}", thousands(s.messages.pending), thousands(held))
                            }
                        },
                        thousands(s.messages.sent),
                        thousands(s.messages.cancelled),
                        thousands(s.messages.uncertain + s.messages.cancelled_uncertain),
                    ],
                ]
                .concat(),
                selected: i == sel,
                styled: vec![(
                    1,
                    if s.paused.is_some() {
                        theme.warn()
                    } else {
                        theme.status(shown(s))
                    },
                )],
            }
        })
        .collect();
    let table = fitted_table(
        cols,
        &rows,
        area.width.saturating_sub(2),
        Fit {
            marker: true,
            flex_first: false,
        },
        theme,
    );
    let goal = d
        .summary
        .goal
        .clone()
        .map_or("no goal".to_string(), |g| format!("goal {g}"));
    let goal = match (d.summary.goal_target, d.summary.goal_met) {
        (Some(t), Some(true)) => format!("{goal}, target {} ✓ met", super::target_pct(t)),
        (Some(t), _) => format!("{goal}, target {} not met yet", super::target_pct(t)),
        _ => goal,
    };
    let title = Line::from(vec![
        Span::styled(format!(" {journey} "), theme.title()),
        Span::raw(format!(
            "· {goal} · v{} {} ",
            d.summary.version,
            status_label(shown(&d.summary))
        )),
    ]);
    frame.render_widget(table.block(framed.title(title)), area);
}

/// The versions table's columns. Here what a stop did and what may have
/// gone out outrank the totals the main list shows: STOPPED, SENT and
/// UNCERTAIN stay at 80 columns; COMPLETED, EXITED and CANCELLED give
/// way first.
fn version_columns() -> Vec<Col> {
    let mut cols = vec![Col::right("VER", 3, 0), Col::left("STATUS", 9, 0)];
    cols.extend(count_columns().into_iter().map(|c| match c.title {
        "STOPPED" => Col { drop_rank: 3, ..c },
        "COMPLETED" | "EXITED" => Col { drop_rank: 5, ..c },
        _ => c,
    }));
    cols.extend([
        Col::right("PENDING", 7, 2),
        Col::right("SENT", 4, 3),
        Col::right("CANCELLED", 9, 5),
        // Pending or cancelled after an attempt without an answer: they
        // may have arrived.
        Col::right("UNCERTAIN", 9, 3),
    ]);
    cols
}

/// The selected version's steps, with how many wait at each; when they
/// do not all fit, PgUp and PgDn scroll them and the frame says how many
/// more there are.
fn draw_steps(frame: &mut Frame, area: Rect, d: &VersionDetail, offset: usize, panel: Panel<'_>) {
    let (framed, theme) = (panel.block, panel.theme);
    let shown = area.height.saturating_sub(3) as usize;
    let offset = offset.min(d.steps.len().saturating_sub(shown));
    let rows: Vec<RowData> = d
        .steps
        .iter()
        .skip(offset)
        .map(|s| {
            RowData::plain(vec![
                s.index.to_string(),
                s.label.clone(),
                thousands(s.waiting),
                if s.held > 0 {
                    format!("⏸ {}", thousands(s.held))
                } else {
                    String::new()
                },
            ])
        })
        .collect();
    let cols = vec![
        Col::right("#", 2, 0),
        Col::left("STEP", 10, 0).shrinks(),
        Col::right("WAITING", 7, 0),
        Col::right("HELD", 4, 1),
    ];
    let fit = Fit::PLAIN;
    let table = fitted_table(cols, &rows, area.width.saturating_sub(2), fit, theme);
    let framed = framed.title(match &d.summary.paused {
        Some(p) => format!(
            " v{} steps · ⏸ paused by {} until {} (then {}) ",
            d.summary.version,
            p.by,
            short(p.until_ms),
            p.on_expiry
        ),
        None => format!(" v{} steps ", d.summary.version),
    });
    let below = d.steps.len().saturating_sub(offset + shown);
    let framed = match (offset, below) {
        (0, 0) => framed,
        (above, below) => framed.title_bottom(Line::styled(
            format!(" ↑ {above} ↓ {below} more step(s): PgUp PgDn "),
            theme.warn(),
        )),
    };
    frame.render_widget(table.block(framed), area);
}

/// The journey's audit history, one line a change.
fn history(audit: &[AuditEntry], width: u16, theme: &Theme) -> Vec<Line<'static>> {
    if audit.is_empty() {
        return vec![Line::styled("no audit entries", theme.dim())];
    }
    audit
        .iter()
        .map(|e| {
            Line::raw(shorten(
                &format!(
                    "{} {} active {}{}",
                    short(e.at_ms),
                    audit_change(e),
                    thousands(e.affected_active),
                    e.reason
                        .as_ref()
                        .map(|r| format!(" \"{r}\""))
                        .unwrap_or_default()
                ),
                width,
            ))
        })
        .collect()
}

fn ab_lines(ab: &AbSummary, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled(
        format!(
            "{:<10} {:>9} {:>9} {:>7}",
            "VARIANT", "ASSIGNED", "CONVERTED", "RATE"
        ),
        theme.title(),
    )];
    for v in &ab.variants {
        let rate = (v.assigned > 0).then(|| v.converted as f64 / v.assigned as f64);
        let mark = if ab.winner.as_deref() == Some(v.name.as_str()) {
            " ★"
        } else {
            ""
        };
        lines.push(Line::raw(format!(
            "{:<10} {:>9} {:>9} {:>7}{mark}",
            v.name,
            thousands(v.assigned),
            thousands(v.converted),
            pct(rate)
        )));
    }
    let by_hand = crate::present::by_hand_lines(ab);
    if ab.chosen_winner().is_none() {
        let style = if ab.winner.is_some() {
            theme.good()
        } else {
            theme.base()
        };
        lines.push(Line::styled(verdict_line(ab), style));
    }
    lines.extend(by_hand.into_iter().map(|l| Line::styled(l, theme.warn())));
    if let Some(c) = &ab.srm {
        lines.push(Line::styled(srm_line(c), theme.warn()));
        lines.push(Line::styled(
            crate::present::srm_meaning(ab.at_decision.is_some()),
            theme.dim(),
        ));
    }
    let basis = if ab.at_decision.is_some() {
        "at the decision".to_string()
    } else {
        format!("over {} looks", thousands(ab.looks))
    };
    if ab.pairs.is_empty() && ab.verdict != VerdictKind::Collecting {
        lines.push(Line::styled(
            "no look yet: every variant needs 5 conversions and 5 non-conversions",
            theme.dim(),
        ));
    }
    for p in &ab.pairs {
        let ci = match (p.cs_lower, p.cs_upper) {
            (Some(l), Some(u)) => format!("[{:+.2}%, {:+.2}%]", l * 100.0, u * 100.0),
            _ => "[unbounded]".to_string(),
        };
        lines.push(Line::raw(format!(
            "{} − {} in {ci} (95%, always valid, {basis}), p = {:.4}",
            p.b, p.a, p.p_value
        )));
    }
    if let Some(before) = &ab.at_decision {
        lines.push(Line::styled(
            format!(
                "since the decision (observed, not a test): {}",
                crate::present::since_decision(before, &ab.variants)
            ),
            theme.dim(),
        ));
    }
    lines
}

/// The verdict in one line: the decision with its time and p-value, or
/// where the test stands.
fn verdict_line(ab: &AbSummary) -> String {
    match (&ab.verdict, &ab.winner) {
        (VerdictKind::Winner, Some(w)) => format!(
            "verdict: winner {w}{}{}",
            ab.decided_at
                .as_ref()
                .map(|t| format!(", decided {t}"))
                .unwrap_or_default(),
            ab.p_value
                .map(|p| format!(", p = {p:.4}"))
                .unwrap_or_default()
        ),
        (VerdictKind::Collecting, _) => {
            "verdict: collecting (too few participants per variant)".to_string()
        }
        _ => format!(
            "verdict: no winner yet{}",
            ab.p_value
                .map(|p| format!(" (leader p = {p:.4})"))
                .unwrap_or_default()
        ),
    }
}

//! Drawing: a pure function of the console state. Only the rows that fit
//! on screen are built, whatever the number of versions.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Row, Table, Wrap};

use super::app::{App, View};
use super::columns::{Col, RowData, fitted_table};
use super::confirm::{ConfirmPane, Focus, PaneState};
use super::theme::{Theme, status_text, thousands};
use crate::domain::EndKind;
use crate::domain::abtest::VerdictKind;
use crate::domain::time::{ago, short, to_datetime};
use crate::store::{AbSummary, VariantSummary, VersionSummary};

pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = frame.area();
    let banner = app.ctx.banner.is_some() as u16;
    let [header, banner_area, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(banner),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(frame, header, app, theme);
    if let Some(text) = &app.ctx.banner {
        frame.render_widget(
            Paragraph::new(Line::styled(format!(" {text}"), theme.dim())),
            banner_area,
        );
    }
    match app.view {
        View::Main => draw_main(frame, body, app, theme),
        View::Detail => draw_detail(frame, body, app, theme),
        View::Audit => draw_audit(frame, body, app, theme),
    }
    draw_footer(frame, footer, app, theme);
    if app.help {
        draw_help(frame, area, app, theme);
    }
    if let Some(pane) = &app.pane {
        draw_pane(frame, area, app, pane, theme);
    }
}

fn draw_header(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
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
                format!("data {} old", ago(app.now, t).trim_end_matches(" ago"))
            });
            right.push(Span::styled(
                format!("⚠ STALE {age}: {}, retrying ", outage_words(why)),
                theme.danger(),
            ));
        }
        (None, Some(t)) => right.push(Span::styled(
            format!("updated {} ", ago(app.now, t)),
            theme.dim(),
        )),
        (None, None) => right.push(Span::styled("loading… ", theme.dim())),
    }
    let right = Line::from(right);
    let right_w = (right.width() as u16).min(area.width);
    let [left_area, right_area] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(right_w)]).areas(area);
    let left = Line::from(vec![
        Span::styled(" journeyctl ", theme.header()),
        Span::raw("│ "),
        Span::raw(app.ctx.store.clone()),
        Span::raw(" │ operator "),
        Span::styled(app.ctx.operator.clone(), theme.title()),
        Span::raw(" │"),
    ]);
    frame.render_widget(Paragraph::new(left), left_area);
    frame.render_widget(Paragraph::new(right), right_area);
}

/// The short reason for the header: "connection refused by 127.0.0.1:5432"
/// rather than the whole "cannot open the store (...): ..." sentence.
fn outage_words(why: &str) -> String {
    let short = why.rsplit("): ").next().unwrap_or(why);
    let short = short.trim_start_matches("cannot reach the database: ");
    let short = short.trim_end_matches(" (is PostgreSQL running there?)");
    if short.chars().count() > 60 {
        let cut: String = short.chars().take(59).collect();
        format!("{cut}…")
    } else {
        short.to_string()
    }
}

fn draw_footer(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let line = if let Some(n) = &app.notice {
        Line::styled(format!(" {n}"), theme.warn())
    } else if app.filtering {
        Line::styled(
            " type to filter by journey name · Enter keep · Esc clear",
            theme.dim(),
        )
    } else {
        let options: &[&str] = match app.view {
            View::Main => &[
                " ↑↓/jk move  Enter details  f finish  s stop  S stop all versions  K kill switch  / filter  t all  o sort  a audit  ? help  q quit",
                " ↑↓/jk move  Enter details  f finish  s stop  S stop all versions  / filter  t all  o sort  a audit  ? help  q quit",
                " ↑↓ move  ⏎ details  f finish  s stop  S stop all  / filter  a audit  ? help  q quit",
                " f finish  s stop  S stop all  / filter  ? help  q quit",
            ],
            View::Detail => &[
                " ↑↓/jk version  f finish  s stop  S stop all versions  a audit  Esc back  ? help  q quit",
                " ↑↓ version  f finish  s stop  S stop all  Esc back  ? help  q quit",
            ],
            View::Audit => &[" ↑↓/jk scroll  Esc back  ? help  q quit"],
        };
        let keys = options
            .iter()
            .find(|o| o.chars().count() <= area.width as usize)
            .unwrap_or(&options[options.len() - 1]);
        Line::styled(*keys, theme.dim())
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn ab_text(ab: &Option<AbSummary>) -> String {
    match ab {
        None => "-".to_string(),
        Some(a) => match (&a.verdict, &a.winner) {
            (VerdictKind::Winner, Some(w)) => format!("winner {w}"),
            (VerdictKind::NoWinnerYet, _) => "no winner yet".to_string(),
            (VerdictKind::Collecting, _) => "collecting".to_string(),
            (VerdictKind::Winner, None) => "winner".to_string(),
        },
    }
}

fn pct(rate: Option<f64>) -> String {
    rate.map_or("-".to_string(), |r| format!("{:.1}%", r * 100.0))
}

/// The participant columns both the main list and the detail view show.
fn count_columns() -> Vec<Col> {
    vec![
        Col::right("ENTERED", 7, 3),
        Col::right("ACTIVE", 6, 1),
        Col::right("COMPLETED", 9, 5),
        Col::right("EXITED", 6, 5),
        Col::right("STOPPED", 7, 4),
        Col::right("CONV", 5, 2),
    ]
}

fn count_cells(v: &VersionSummary) -> Vec<String> {
    vec![
        thousands(v.counts.entered),
        thousands(v.counts.active),
        thousands(v.counts.completed),
        thousands(v.counts.exited),
        thousands(v.counts.stopped),
        pct(v.conversion_rate),
    ]
}

fn cells(v: &VersionSummary, now: i64) -> Vec<String> {
    let mut out = vec![v.journey.clone(), v.version.to_string(), status_text(v)];
    out.extend(count_cells(v));
    out.push(ab_text(&v.ab));
    out.push(v.entry_end_ms.map_or("-".to_string(), |t| {
        to_datetime(t).format("%m-%d %H:%M").to_string()
    }));
    out.push(v.last_activity_ms.map_or("-".to_string(), |t| {
        ago(now, t).trim_end_matches(" ago").to_string()
    }));
    out
}

fn draw_main(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let visible = app.visible();
    let total = app.versions.len();
    let scope = if app.show_all {
        format!(
            "all versions: {} (t: live & draining only)",
            thousands(visible.len() as i64)
        )
    } else {
        format!(
            "live & draining: {} of {} versions (t: show all)",
            thousands(visible.len() as i64),
            thousands(total as i64)
        )
    };
    let filter = if app.filtering || !app.filter.value().is_empty() {
        format!(
            " · filter /{}{}",
            app.filter.value(),
            if app.filtering { "▏" } else { "" }
        )
    } else {
        String::new()
    };
    let sort = format!(
        " · sort: {}{} (o)",
        app.sort.label(),
        if app.sort_desc { " ↑" } else { "" }
    );
    let wide = format!("{scope}{sort}{filter} ");
    let text = if wide.chars().count() + 12 <= area.width as usize {
        wide
    } else {
        let shown = if app.show_all {
            format!("all {}", thousands(visible.len() as i64))
        } else {
            format!(
                "{}/{} live & draining",
                thousands(visible.len() as i64),
                thousands(total as i64)
            )
        };
        format!("{shown} · {}{filter} ", app.sort.label())
    };
    let title = Line::from(vec![
        Span::styled(" Journeys ", theme.title()),
        Span::raw(text),
    ]);
    let block = Block::bordered().title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if visible.is_empty() {
        let msg = if let (false, Some(why)) = (app.loaded, &app.stale) {
            format!("waiting for the store: {why}")
        } else if !app.loaded {
            "loading…".to_string()
        } else if !app.filter.value().is_empty() {
            format!(
                "no journey matches /{} (Esc clears the filter)",
                app.filter.value()
            )
        } else if app.versions.is_empty() {
            "no journeys yet: apply a definition with `journeyctl apply FILE --publish`".to_string()
        } else {
            "no live or draining version (t shows every version)".to_string()
        };
        frame.render_widget(Paragraph::new(Line::styled(msg, theme.dim())), inner);
        return;
    }
    let height = inner.height.saturating_sub(1) as usize;
    let selected = app.selected.min(visible.len() - 1);
    let offset = if height == 0 {
        0
    } else {
        selected.saturating_sub(height - 1)
    };
    let mut cols = vec![
        Col::left("JOURNEY", 14, 0),
        Col::right("VER", 3, 0),
        Col::left("STATUS", 9, 0),
    ];
    cols.extend(count_columns());
    // A/B is as wide as its longest verdict, so columns do not shift.
    cols.extend([
        Col::left("A/B", 13, 2),
        Col::left("ENTRY END", 11, 6),
        Col::right("LAST", 4, 6),
    ]);
    // Only the rows that fit are built.
    let now = app.activity_now();
    let rows: Vec<RowData> = visible
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, v)| RowData {
            cells: cells(v, now),
            selected: i == selected,
            styled: vec![(2, theme.status(v))],
        })
        .collect();
    frame.render_widget(fitted_table(cols, &rows, inner.width, true, theme), inner);
}

fn draw_detail(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(detail) = &app.detail else { return };
    let (journey, versions) = (&detail.journey, &detail.versions);
    if versions.is_empty() {
        let block = Block::bordered().title(format!(" {journey} "));
        frame.render_widget(Paragraph::new("loading…").block(block), area);
        return;
    }
    let sel = app.detail_selected.min(versions.len() - 1);
    let d = &versions[sel];
    let goal = d
        .summary
        .goal
        .clone()
        .map_or("no goal".to_string(), |g| format!("goal {g}"));
    let n_versions = versions.len() as u16;
    let [top, middle, bottom] = Layout::vertical([
        Constraint::Length((n_versions + 3).min(area.height / 3).max(4)),
        Constraint::Min(6),
        Constraint::Length((area.height / 3).max(5)),
    ])
    .areas(area);
    // Versions.
    let mut cols = vec![Col::right("VER", 3, 0), Col::left("STATUS", 9, 0)];
    cols.extend(count_columns());
    cols.extend([
        Col::right("PENDING", 7, 5),
        Col::right("SENT", 4, 6),
        Col::right("CANCELLED", 9, 5),
    ]);
    let rows: Vec<RowData> = versions
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let s = &v.summary;
            RowData {
                cells: [
                    vec![s.version.to_string(), status_text(s)],
                    count_cells(s),
                    vec![
                        thousands(s.messages.pending),
                        thousands(s.messages.sent),
                        thousands(s.messages.cancelled),
                    ],
                ]
                .concat(),
                selected: i == sel,
                styled: vec![(1, theme.status(s))],
            }
        })
        .collect();
    let table = fitted_table(cols, &rows, top.width.saturating_sub(2), false, theme);
    let title = Line::from(vec![
        Span::styled(format!(" {journey} "), theme.title()),
        Span::raw(format!(
            "· {goal} · v{} {} ",
            d.summary.version,
            d.summary.status_label()
        )),
    ]);
    frame.render_widget(table.block(Block::bordered().title(title)), top);

    let [steps_area, ab_area] =
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(middle);
    let step_rows: Vec<Row> = d
        .steps
        .iter()
        .map(|s| {
            Row::new(vec![
                s.index.to_string(),
                s.label.clone(),
                thousands(s.waiting),
            ])
        })
        .collect();
    let steps = Table::new(
        step_rows,
        [
            Constraint::Length(3),
            Constraint::Min(12),
            Constraint::Length(9),
        ],
    )
    .header(Row::new(vec!["#", "STEP", "WAITING"]).style(theme.title()))
    .block(Block::bordered().title(format!(" v{} steps ", d.summary.version)));
    frame.render_widget(steps, steps_area);

    let ab_lines = match &d.summary.ab {
        None => vec![Line::styled("no A/B test in this version", theme.dim())],
        Some(ab) => ab_lines(ab, theme),
    };
    let ab_title = d
        .summary
        .ab
        .as_ref()
        .map_or(" A/B ".to_string(), |a| format!(" A/B test {} ", a.test));
    frame.render_widget(
        Paragraph::new(ab_lines)
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title(ab_title)),
        ab_area,
    );

    let [exits_area, audit_area] =
        Layout::horizontal([Constraint::Percentage(35), Constraint::Percentage(65)]).areas(bottom);
    let exit_lines: Vec<Line> = if d.exit_reasons.is_empty() {
        vec![Line::styled("nobody exited", theme.dim())]
    } else {
        d.exit_reasons
            .iter()
            .map(|(r, n)| Line::raw(format!("{:>9}  {r}", thousands(*n))))
            .collect()
    };
    frame.render_widget(
        Paragraph::new(exit_lines).block(Block::bordered().title(" exit reasons ")),
        exits_area,
    );
    let history: Vec<Line> = detail
        .audit
        .iter()
        .map(|e| {
            Line::raw(format!(
                "{} {} v{} {}→{} by {}@{} active {}{}",
                short(e.at_ms),
                e.action,
                e.version.unwrap_or(0),
                e.from.as_deref().unwrap_or("-"),
                e.to.as_deref().unwrap_or("-"),
                e.actor,
                e.host,
                thousands(e.affected_active),
                e.reason
                    .as_ref()
                    .map(|r| format!(" \"{r}\""))
                    .unwrap_or_default()
            ))
        })
        .collect();
    let history = if history.is_empty() {
        vec![Line::styled("no audit entries", theme.dim())]
    } else {
        history
    };
    frame.render_widget(
        Paragraph::new(history).block(Block::bordered().title(" audit history ")),
        audit_area,
    );
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
    let verdict = match (&ab.verdict, &ab.winner) {
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
    };
    let style = if ab.winner.is_some() {
        theme.good()
    } else {
        theme.base()
    };
    lines.push(Line::styled(verdict, style));
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
                since_decision(before, &ab.variants)
            ),
            theme.dim(),
        ));
    }
    lines
}

/// What each variant gained after the decision (conversions include
/// participants assigned before it).
fn since_decision(before: &[VariantSummary], now: &[VariantSummary]) -> String {
    now.iter()
        .map(|v| {
            let (a0, c0) = before
                .iter()
                .find(|b| b.name == v.name)
                .map_or((0, 0), |b| (b.assigned, b.converted));
            let (a, c) = ((v.assigned - a0).max(0), (v.converted - c0).max(0));
            format!(
                "{} +{} assigned, +{} converted",
                v.name,
                thousands(a),
                thousands(c)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn draw_audit(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let block = Block::bordered().title(Line::from(vec![
        Span::styled(" Audit log ", theme.title()),
        Span::raw(format!(
            "{} entries, newest first ",
            thousands(app.audit.len() as i64)
        )),
    ]));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let height = inner.height.saturating_sub(1) as usize;
    let rows: Vec<Row> = app
        .audit
        .iter()
        .skip(app.audit_offset)
        .take(height)
        .map(|e| {
            Row::new(vec![
                short(e.at_ms),
                e.actor.clone(),
                e.host.clone(),
                e.action.clone(),
                format!("{} v{}", e.journey, e.version.unwrap_or(0)),
                format!(
                    "{}→{}",
                    e.from.as_deref().unwrap_or("-"),
                    e.to.as_deref().unwrap_or("-")
                ),
                thousands(e.affected_active),
                e.reason.clone().unwrap_or_default(),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(16),
        Constraint::Length(10),
        Constraint::Length(10),
        Constraint::Length(8),
        Constraint::Length(22),
        Constraint::Length(17),
        Constraint::Length(9),
        Constraint::Min(10),
    ];
    let header = Row::new(vec![
        "AT (UTC)", "ACTOR", "HOST", "ACTION", "VERSION", "STATUS", "ACTIVE", "REASON",
    ])
    .style(theme.title());
    if app.audit.is_empty() {
        frame.render_widget(
            Paragraph::new(Line::styled("no audit entries yet", theme.dim())),
            inner,
        );
    } else {
        frame.render_widget(Table::new(rows, widths).header(header), inner);
    }
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn draw_help(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let keys = [
        ("↑ ↓  k j", "move (PgUp PgDn, g G: page, top, bottom)"),
        ("Enter", "details of the selected version's journey"),
        ("Esc", "back; clears the filter on the main screen"),
        ("/", "filter by journey name"),
        ("t", "show every version, or live & draining only"),
        ("o  O", "next sort column; reverse the order"),
        ("a", "audit log"),
        ("f", "finish the selected version (asks first)"),
        ("s", "stop the selected version (asks for the name)"),
        ("S", "stop every version of the journey (asks for the name)"),
        ("K", "kill switch: stop every version using an action"),
        ("?", "this help"),
        ("q  Ctrl-C", "quit"),
    ];
    let mut lines: Vec<Line> = keys
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!(" {k:<10} "), theme.title()),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!(
            " Data refreshes every {} by itself (--refresh).",
            humantime::format_duration(app.ctx.refresh)
        ),
        theme.dim(),
    ));
    lines.push(Line::styled(
        " In a pane: type into its field, Tab moves, Esc cancels.",
        theme.dim(),
    ));
    lines.push(Line::styled(" Any key closes this help.", theme.dim()));
    let rect = centered(area, 68, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Keys ")),
        rect,
    );
}

fn input_line(
    label: &str,
    input: &tui_input::Input,
    focused: bool,
    width: u16,
    theme: &Theme,
) -> (Line<'static>, usize) {
    let field = width
        .saturating_sub(label.chars().count() as u16 + 4)
        .max(8) as usize;
    let scroll = input.visual_scroll(field);
    let shown: String = input.value().chars().skip(scroll).take(field).collect();
    let style = if focused { theme.focus() } else { theme.base() };
    let line = Line::from(vec![
        Span::raw(format!("{label} ")),
        Span::raw(if focused { "▸" } else { "[" }),
        Span::styled(format!("{shown:<field$}"), style),
        Span::raw(if focused { "◂" } else { "]" }),
    ]);
    let cursor = label.chars().count() + 2 + input.visual_cursor().saturating_sub(scroll);
    (line, cursor)
}

fn draw_pane(frame: &mut Frame, area: Rect, app: &App, pane: &ConfirmPane, theme: &Theme) {
    let verb = match pane.action.kind {
        EndKind::Finish => "Finish",
        EndKind::Stop => "Stop",
    };
    let width = area.width.saturating_sub(4).min(80);
    let inner_w = width.saturating_sub(2);
    let mut lines: Vec<Line> = Vec::new();
    let mut cursor: Option<(usize, usize)> = None;
    let danger = if pane.is_stop() {
        theme.danger()
    } else {
        theme.warn()
    };
    match pane.action.kind {
        EndKind::Finish => lines.push(Line::raw(
            "No new participant can enter from the moment it commits;",
        )),
        EndKind::Stop => lines.push(Line::raw(
            "Every active participant is stopped where it stands, now;",
        )),
    }
    match pane.action.kind {
        EndKind::Finish => lines.push(Line::raw(
            "participants inside carry on to the end of their path.",
        )),
        EndKind::Stop => lines.push(Line::raw(
            "no step runs again and pending messages are cancelled.",
        )),
    }
    lines.push(Line::styled("This cannot be undone.", danger));
    lines.push(Line::raw(""));
    match &pane.impact {
        None if pane.kill_switch && pane.typed_action().is_empty() => lines.push(Line::styled(
            "The kill switch stops every live or finished version that sends through an action",
            theme.dim(),
        )),
        None => lines.push(Line::styled("working out the impact…", theme.dim())),
        Some(Err(e)) => lines.push(Line::styled(format!("✗ {e}"), theme.danger())),
        Some(Ok(impact)) => {
            lines.push(Line::styled(
                format!("Versions affected ({}):", impact.versions.len()),
                theme.title(),
            ));
            for v in impact.versions.iter().take(6) {
                let what = match pane.action.kind {
                    EndKind::Finish => format!("{} active left to drain", thousands(v.active)),
                    EndKind::Stop => format!(
                        "{} active stopped, {} pending messages cancelled",
                        thousands(v.active),
                        thousands(v.pending)
                    ),
                };
                lines.push(Line::raw(format!(
                    "  {} v{} ({}): {what}",
                    v.journey, v.version, v.status
                )));
            }
            if impact.versions.len() > 6 {
                lines.push(Line::raw(format!(
                    "  … and {} more",
                    impact.versions.len() - 6
                )));
            }
            let total = match pane.action.kind {
                EndKind::Finish => format!(
                    "In all: {} active participants left to drain.",
                    thousands(impact.active())
                ),
                EndKind::Stop => format!(
                    "In all: {} active participants stopped, {} pending messages cancelled.",
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
        }
    }
    lines.push(Line::raw(""));
    match &pane.state {
        PaneState::Editing | PaneState::Working => {
            if pane.kill_switch {
                let in_use = app.actions_in_use();
                if !in_use.is_empty() {
                    lines.push(Line::styled(
                        format!("Actions in use: {}", in_use.join(", ")),
                        theme.dim(),
                    ));
                }
            }
            if pane.is_stop() {
                let label = if pane.kill_switch {
                    "Action to stop:".to_string()
                } else {
                    format!("Type {} to confirm:", pane.expected_name)
                };
                let (l, c) = input_line(
                    &label,
                    &pane.name,
                    pane.focus == Focus::Name,
                    inner_w,
                    theme,
                );
                if pane.focus == Focus::Name {
                    cursor = Some((lines.len(), c));
                }
                lines.push(l);
            }
            let (l, c) = input_line(
                "Reason (optional):",
                &pane.reason,
                pane.focus == Focus::Reason,
                inner_w,
                theme,
            );
            if pane.focus == Focus::Reason {
                cursor = Some((lines.len(), c));
            }
            lines.push(l);
            if let Some(h) = &pane.hint {
                lines.push(Line::styled(h.clone(), theme.warn()));
            }
            if let Some(why) = app.blocked() {
                lines.push(Line::styled(format!("✗ {why}"), theme.danger()));
            }
            lines.push(Line::raw(""));
            let button = |label: &str, focused: bool| {
                if focused {
                    Span::styled(format!("▶[ {label} ]◀"), theme.focus())
                } else {
                    Span::raw(format!(" [ {label} ] "))
                }
            };
            let confirm_label = match &pane.action.target {
                crate::store::Target::Version { .. } => format!("{verb} version"),
                _ => format!("{verb} all listed"),
            };
            lines.push(Line::from(vec![
                Span::raw("      "),
                button("Cancel", pane.focus == Focus::Cancel),
                Span::raw("    "),
                button(&confirm_label, pane.focus == Focus::Confirm),
            ]));
            let hint = if pane.state == PaneState::Working {
                "working…".to_string()
            } else if pane.kill_switch {
                "type the action, read the versions listed, then Enter · Tab reason · Esc cancel"
                    .to_string()
            } else if pane.is_stop() {
                format!(
                    "type {} and Enter to stop · Tab reason · Esc cancel",
                    pane.expected_name
                )
            } else {
                "Tab next field · y or Enter on the button to finish · Esc cancel".to_string()
            };
            lines.push(Line::styled(hint, theme.dim()));
        }
        PaneState::Done(outcome) => {
            lines.push(Line::styled(
                format!("✓ {}", outcome.summary()),
                theme.good(),
            ));
            lines.push(Line::styled(
                "Recorded in the audit log. Enter or Esc closes.",
                theme.dim(),
            ));
        }
        PaneState::Refused(why) => {
            lines.push(Line::styled(format!("✗ refused: {why}"), theme.danger()));
            lines.push(Line::styled(
                "Nothing was changed. Enter or Esc closes.",
                theme.dim(),
            ));
        }
    }
    // Wrapped lines take more than one row: size the pane for them.
    let rows: usize = lines
        .iter()
        .map(|l| l.width().max(1).div_ceil(inner_w.max(1) as usize))
        .sum();
    let height = rows as u16 + 2;
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    let title = Line::from(vec![Span::styled(
        format!(" {} ", pane.action.describe()),
        danger,
    )]);
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

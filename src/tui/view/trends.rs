//! The detail view's trends: entries, conversions, exits, messages sent
//! and failed, over the last hour (minute by minute) and the last 48
//! hours (hour by hour), each with its rate now and its 48-hour total.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Panel;
use crate::present::{TrendAlarm, per_minute, sparkline, thousands};
use crate::store::VersionDetail;
use crate::store::minutes::MinuteCounts;

/// Cells of the last hour (two minutes each) and of the 48 hours (one each).
const HOUR_CELLS: usize = 30;
const DAYS_CELLS: usize = 48;
/// Label, hour, rate, 48 hours, total, with a space between.
const FULL_WIDTH: usize = 10 + HOUR_CELLS + 1 + 12 + 1 + DAYS_CELLS + 1 + 9;

/// A line of the panel: its name, how to read it from a minute, its rate
/// now, and the alarm that turns it red.
type Series<'a> = (&'a str, fn(&MinuteCounts) -> i64, f64, Option<TrendAlarm>);

pub(super) fn draw_trends(frame: &mut Frame, area: Rect, d: &VersionDetail, panel: Panel<'_>) {
    let (framed, theme) = (panel.block, panel.theme);
    let wide = area.width as usize >= FULL_WIDTH + 2;
    let title = if wide {
        " trends: last hour, 2 min a cell · rate over 5 min · last 48 h, 1 h a cell · 48 h total "
    } else {
        " trends: last hour, 2 min a cell · rate over 5 min "
    };
    let hour: Vec<MinuteCounts> = d
        .summary
        .recent
        .as_ref()
        .map_or_else(|| vec![MinuteCounts::default(); 60], |r| r.hour.clone());
    let rates = &d.summary.rates.last_5m;
    let alarm = TrendAlarm::of(&d.summary);
    let series: [Series; 5] = [
        (
            "entered",
            |m| m.entered,
            rates.entered,
            Some(TrendAlarm::EntriesStopped),
        ),
        ("converted", |m| m.converted, rates.converted, None),
        ("exited", |m| m.exited, rates.exited, None),
        ("sent", |m| m.sent, rates.sent, None),
        (
            "failed",
            |m| m.failed,
            rates.failed,
            Some(TrendAlarm::FailuresRising),
        ),
    ];
    let lines: Vec<Line> = series
        .iter()
        .map(|(name, get, rate, watch)| {
            let raised = alarm.is_some() && alarm == *watch;
            let style = if raised { theme.danger() } else { theme.dim() };
            let values: Vec<i64> = hour.iter().map(get).collect();
            let mut spans = vec![
                Span::raw(format!("{name:<10}")),
                Span::styled(sparkline(&values, HOUR_CELLS), style),
                Span::styled(format!(" {:>12}", per_minute(*rate)), style),
            ];
            if wide {
                let days: Vec<i64> = d.hours.iter().map(get).collect();
                spans.push(Span::raw(" "));
                spans.push(Span::styled(sparkline(&days, DAYS_CELLS), theme.dim()));
                spans.push(Span::raw(format!(
                    " {:>9}",
                    thousands(days.iter().sum::<i64>())
                )));
            }
            if raised {
                spans.push(Span::styled(
                    format!("  {}", alarm.map_or("", TrendAlarm::words)),
                    theme.danger(),
                ));
            }
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(framed.title(title)), area);
}

//! The detail view's trends: entries, conversions, exits, messages sent
//! and failed, over the last hour (minute by minute) and the last 48
//! hours (hour by hour), each with its rate now and its 48-hour total.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Panel;
use crate::present::{TrendAlarm, per_minute, sparkline, thousands};
use crate::store::minutes::{MINUTE_MS, MinuteCounts};
use crate::store::{TREND_MARKS, VersionDetail};

/// Cells of the last hour and of the last 48 hours, finest first: each
/// divides its span, so a cell is a whole number of minutes or hours.
const HOUR_CELLS: [usize; 6] = [60, 30, 20, 15, 12, 10];
const DAYS_CELLS: [usize; 4] = [48, 24, 16, 12];
/// The label, the rate now and the 48-hour total, with their spaces.
const LABEL: usize = 10;
const RATE: usize = 13;
const TOTAL: usize = 10;

/// How the panel's lines are cut up at a given inner width: the hour at
/// least 30 cells where it can, the 48 hours as fine as the rest allows
/// (both shown at 80 columns), the hour finer still on a wide screen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Cut {
    hour: usize,
    days: Option<usize>,
}

impl Cut {
    fn for_width(width: usize) -> Cut {
        let room = width.saturating_sub(LABEL + RATE);
        let days_beside = |hour: usize| {
            let left = room.saturating_sub(hour + 1 + TOTAL);
            DAYS_CELLS.iter().copied().find(|&d| d <= left)
        };
        let cut = |hour: usize| Cut {
            hour,
            days: days_beside(hour),
        };
        // An hour a cell over 48 hours with the finest hour beside it;
        // else two hours a cell or finer with the hour as fine as that
        // leaves; else any 48 hours; else the hour alone.
        let picks = [
            HOUR_CELLS[..2]
                .iter()
                .find(|&&h| days_beside(h) == Some(48)),
            HOUR_CELLS[1..]
                .iter()
                .find(|&&h| days_beside(h) >= Some(24)),
            HOUR_CELLS[1..].iter().find(|&&h| days_beside(h).is_some()),
        ];
        if let Some(&hour) = picks.into_iter().flatten().next() {
            return cut(hour);
        }
        Cut {
            hour: HOUR_CELLS[1..]
                .iter()
                .copied()
                .find(|&h| h <= room)
                .unwrap_or(HOUR_CELLS[HOUR_CELLS.len() - 1]),
            days: None,
        }
    }

    /// The panel's title, in words where they fit in `width`.
    fn title(&self, width: usize) -> String {
        let (hour, days) = (60 / self.hour, self.days.map(|d| 48 / d));
        let long = match days {
            Some(d) => format!(
                " trends: last hour, {hour} min a cell · rate over 5 min · last 48 h, {d} h a cell · total "
            ),
            None => format!(" trends: last hour, {hour} min a cell · rate over 5 min "),
        };
        if long.chars().count() <= width {
            return long;
        }
        match days {
            Some(d) => {
                format!(" last hour ({hour} min/cell) · rate 5 min · 48 h ({d} h/cell) · total ")
            }
            None => format!(" last hour ({hour} min/cell) · rate over 5 min "),
        }
    }
}

/// A line of the panel: its name, how to read it from a minute, its rate
/// now, and the alarm that turns it red.
type Series<'a> = (&'a str, fn(&MinuteCounts) -> i64, f64, Option<TrendAlarm>);

pub(super) fn draw_trends(frame: &mut Frame, area: Rect, d: &VersionDetail, panel: Panel<'_>) {
    let short = frame.area().height < SHORT;
    let (framed, theme) = (panel.block, panel.theme);
    let cut = Cut::for_width(area.width.saturating_sub(2) as usize);
    let title = cut.title(area.width.saturating_sub(2) as usize);
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
    let marked = !d.events.is_empty();
    let lines: Vec<Line> = series
        .iter()
        .filter(|(name, ..)| !(short && marked && *name == "exited"))
        .map(|(name, get, rate, watch)| {
            let raised = alarm.is_some() && alarm == *watch;
            let style = if raised { theme.danger() } else { theme.dim() };
            let values: Vec<i64> = hour.iter().map(get).collect();
            let mut spans = vec![
                Span::raw(format!("{name:<10}")),
                Span::styled(sparkline(&values, cut.hour), style),
                Span::styled(format!(" {:>12}", per_minute(*rate)), style),
            ];
            if let Some(cells) = cut.days {
                let days: Vec<i64> = d.hours.iter().map(get).collect();
                spans.push(Span::raw(" "));
                spans.push(Span::styled(sparkline(&days, cells), theme.dim()));
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
    let mut lines = lines;
    let mut framed = framed.title(title);
    if marked {
        let (row, key) = marker_row(d, cut);
        lines.push(Line::from(row));
        framed = framed.title_bottom(Line::styled(key, theme.dim()));
    }
    frame.render_widget(Paragraph::new(lines).block(framed), area);
}

/// The screen height below which the marker row takes the place of the
/// exits' line rather than a line of the steps, the A/B verdict or the
/// history.
const SHORT: u16 = 26;

/// The panel's height on a screen `height` rows high: its five series,
/// and a marker row when operators acted on the version in the last 48
/// hours (in place of the exits on a short screen).
pub(super) fn trends_height(d: &VersionDetail, height: u16) -> u16 {
    if d.events.is_empty() || height < SHORT {
        7
    } else {
        8
    }
}

/// The marker row under the sparklines: in each cell, the letter of what
/// operators did in its minutes (`+` for several kinds), beside the
/// hour's cells and the 48 hours'; and the key of the letters shown.
fn marker_row(d: &VersionDetail, cut: Cut) -> (Vec<Span<'static>>, String) {
    let hour_first = d.now_minute - 59;
    let day_first = d.now_minute / 60 - 47;
    let by_minute: Vec<(i64, char)> = d
        .events
        .iter()
        .map(|e| (e.at_ms.div_euclid(MINUTE_MS), e.letter()))
        .collect();
    let hour = marks(&by_minute, hour_first, 60, cut.hour);
    let mut shown = hour.clone();
    let mut spans = vec![
        Span::raw(format!("{:<10}", "operators")),
        Span::raw(hour),
        Span::raw(" ".repeat(13)),
    ];
    if let Some(cells) = cut.days {
        let by_hour: Vec<(i64, char)> = by_minute
            .iter()
            .map(|&(m, l)| (m.div_euclid(60), l))
            .collect();
        let days = marks(&by_hour, day_first, 48, cells);
        shown.push_str(&days);
        spans.push(Span::raw(" "));
        spans.push(Span::raw(days));
    }
    let mut key: Vec<String> = TREND_MARKS
        .iter()
        .filter(|(_, l, _)| by_minute.iter().any(|&(_, m)| m == *l))
        .map(|(_, l, name)| format!("{l} {name}"))
        .collect();
    if shown.contains('+') {
        key.push("+ several".to_string());
    }
    (spans, format!(" {} ", key.join(" · ")))
}

/// One row of marks: `len` units from `first`, in `cells` cells cut as
/// the sparkline cuts them; a blank where nothing happened.
fn marks(events: &[(i64, char)], first: i64, len: usize, cells: usize) -> String {
    (0..cells)
        .map(|c| {
            let (from, to) = (
                c * len / cells,
                ((c + 1) * len / cells).max(c * len / cells + 1),
            );
            let (from, to) = (first + from as i64, first + to as i64);
            let mut letters = events
                .iter()
                .filter(|&&(at, _)| (from..to).contains(&at))
                .map(|&(_, l)| l);
            match letters.next() {
                None => ' ',
                Some(l) if letters.all(|o| o == l) => l,
                Some(_) => '+',
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Cut, marks};

    #[test]
    fn a_cell_shows_its_minutes_letter_or_a_plus_for_several() {
        let events = [(100, 'p'), (101, 'p'), (130, 'r'), (131, 'n'), (159, 'S')];
        // 60 minutes from 100 in 20 cells of 3 minutes.
        let row = marks(&events, 100, 60, 20);
        assert_eq!(row.chars().count(), 20);
        assert_eq!(row.chars().next(), Some('p'));
        assert_eq!(row.chars().nth(10), Some('+'), "{row:?}");
        assert_eq!(row.chars().last(), Some('S'));
        assert_eq!(row.chars().filter(|c| *c != ' ').count(), 3, "{row:?}");
        assert_eq!(
            marks(&[(99, 'p'), (160, 'r')], 100, 60, 20).trim(),
            "",
            "outside"
        );
    }

    #[test]
    fn the_48_hours_show_from_80_columns() {
        let at = |w| Cut::for_width(w);
        // 80 columns: the hour in 3-minute cells, 48 hours in 2-hour ones.
        assert_eq!(
            at(78),
            Cut {
                hour: 20,
                days: Some(24)
            }
        );
        assert_eq!(
            at(98),
            Cut {
                hour: 30,
                days: Some(24)
            }
        );
        assert_eq!(
            at(118),
            Cut {
                hour: 30,
                days: Some(48)
            }
        );
        assert_eq!(
            at(198),
            Cut {
                hour: 60,
                days: Some(48)
            }
        );
        // Too narrow for the 48 hours: the hour alone.
        assert_eq!(
            at(50),
            Cut {
                hour: 20,
                days: None
            }
        );
        assert!(at(118).title(118).contains("last 48 h, 1 h a cell"));
        assert!(at(78).title(78).contains("48 h (2 h/cell) · total"));
    }
}

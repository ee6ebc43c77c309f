//! Tables that fit the terminal, by priority: identifying columns (the
//! first, and any not marked otherwise) are shown whole; free text
//! (`shrinks`) gives way with `…`; then the least important columns are
//! dropped, highest `drop_rank` first. The first column can carry the
//! selection marker, so the selected row reads without colour too.

use ratatui::layout::Constraint;
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::theme::Theme;

pub struct Col {
    pub title: &'static str,
    /// At least this wide; a shrinking column gives way down to this.
    pub width: u16,
    /// Dropped sooner the higher it is; 0 is never dropped.
    pub drop_rank: u8,
    pub right: bool,
    /// Free text: shortened with `…` rather than pushing columns out, once
    /// the columns ranked above this are gone (`u8::MAX`: at once).
    pub shrink: Option<u8>,
}

impl Col {
    pub fn left(title: &'static str, width: u16, drop_rank: u8) -> Col {
        Col {
            title,
            width,
            drop_rank,
            right: false,
            shrink: None,
        }
    }
    pub fn right(title: &'static str, width: u16, drop_rank: u8) -> Col {
        Col {
            right: true,
            ..Col::left(title, width, drop_rank)
        }
    }
    /// Free text that gives way with `…` (down to `width`) before any
    /// column is dropped.
    pub fn shrinks(self) -> Col {
        self.shrinks_after(u8::MAX)
    }

    /// Text that gives way with `…` once the columns ranked above `rank`
    /// are dropped, before those ranked at or below it are.
    pub fn shrinks_after(self, rank: u8) -> Col {
        Col {
            shrink: Some(rank),
            ..self
        }
    }
}

pub struct RowData {
    pub cells: Vec<String>,
    pub selected: bool,
    /// Marked for an action on a set (`✓` beside the selection marker).
    pub marked: bool,
    /// Cells with a style of their own (the status).
    pub styled: Vec<(usize, Style)>,
}

impl RowData {
    /// A row with no selection and no style of its own.
    pub fn plain(cells: Vec<String>) -> RowData {
        RowData {
            cells,
            marked: false,
            selected: false,
            styled: Vec::new(),
        }
    }
}

/// How a table sits: with the selection marker in its first column, and
/// whether the first column takes the width left over.
#[derive(Clone, Copy)]
pub struct Fit {
    pub marker: bool,
    pub flex_first: bool,
}

impl Fit {
    /// No selection marker; the columns as wide as they need.
    pub const PLAIN: Fit = Fit {
        marker: false,
        flex_first: false,
    };
}

/// The first column is never wider than this (a very long name is
/// shortened with `…`).
const FIRST_MOST: u16 = 48;

/// The width `text` takes on a terminal.
pub fn text_width(text: &str) -> u16 {
    text.width().min(u16::MAX as usize) as u16
}

/// The rows `text` takes wrapped at word boundaries in `width` columns,
/// as a paragraph wraps it (a word longer than a row is broken).
pub fn wrapped_rows(text: &str, width: usize) -> usize {
    let width = width.max(1);
    let (mut rows, mut used) = (1, 0);
    for (i, word) in text.split(' ').enumerate() {
        let w = word.width();
        if i == 0 {
            used = w;
        } else if used + 1 + w <= width {
            // Spaces count too, leading ones included.
            used += 1 + w;
        } else {
            rows += 1;
            used = w;
        }
        if used > width {
            rows += (used - 1) / width;
            used = (used - 1) % width + 1;
        }
    }
    rows
}

/// The part of `text` from display column `skip` on that fits in `width`
/// columns (a wide character cut by either edge is left out).
pub fn columns_from(text: &str, skip: usize, width: usize) -> String {
    let mut at = 0;
    let mut out = String::new();
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if at >= skip && at + w - skip <= width {
            out.push(c);
        }
        at += w;
    }
    out
}

/// `text` in at most `width` columns, ending in `…` when it was longer.
pub fn shorten(text: &str, width: u16) -> String {
    if text.width() <= width as usize {
        return text.to_string();
    }
    let mut out: String = fitting(text.chars(), width).into_iter().collect();
    if width > 0 {
        out.push('…');
    }
    out
}

/// `text` in at most `width` columns, starting with `…` when it was
/// longer: its end is kept (a path's file name).
pub fn shorten_start(text: &str, width: u16) -> String {
    if text.width() <= width as usize {
        return text.to_string();
    }
    let tail: String = fitting(text.chars().rev(), width)
        .into_iter()
        .rev()
        .collect();
    if width > 0 {
        format!("…{tail}")
    } else {
        tail
    }
}

/// The leading `chars` that fit in `width` columns with one to spare for
/// the `…`.
fn fitting(chars: impl Iterator<Item = char>, width: u16) -> Vec<char> {
    let mut out = Vec::new();
    let mut used = 0;
    for c in chars {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width as usize {
            break;
        }
        out.push(c);
        used += w;
    }
    out
}

/// The columns kept and the width each gets, for a table `width` wide.
fn layout(cols: &[Col], natural: &[u16], width: u16) -> Vec<(usize, u16)> {
    let least = |i: usize| match cols[i].shrink {
        Some(_) => cols[i].width.max(text_width(cols[i].title)).min(natural[i]),
        None => natural[i],
    };
    // While a column ranked above `rank` is kept, text that shrinks only
    // after those counts at its whole width.
    let need = |keep: &[usize]| -> u16 {
        let top = keep.iter().map(|&i| cols[i].drop_rank).max().unwrap_or(0);
        keep.iter()
            .map(|&i| match cols[i].shrink {
                Some(rank) if top > rank => natural[i] + 1,
                _ => least(i) + 1,
            })
            .sum::<u16>()
            .saturating_sub(1)
    };
    let mut keep: Vec<usize> = (0..cols.len()).collect();
    while need(&keep) > width {
        match keep.iter().copied().max_by_key(|&i| (cols[i].drop_rank, i)) {
            Some(i) if cols[i].drop_rank > 0 => keep.retain(|&k| k != i),
            _ => break,
        }
    }
    // Free text takes what the others leave, in column order.
    let fixed: u16 = keep
        .iter()
        .filter(|&&i| cols[i].shrink.is_none())
        .map(|&i| natural[i])
        .sum::<u16>()
        + keep.len().saturating_sub(1) as u16;
    let mut room = width.saturating_sub(fixed);
    let mut still_least: u16 = keep
        .iter()
        .filter(|&&i| cols[i].shrink.is_some())
        .map(|&i| least(i))
        .sum();
    let mut out: Vec<(usize, u16)> = keep
        .iter()
        .map(|&i| {
            if cols[i].shrink.is_none() {
                return (i, natural[i]);
            }
            still_least = still_least.saturating_sub(least(i));
            let w = natural[i]
                .min(room.saturating_sub(still_least))
                .max(least(i));
            room = room.saturating_sub(w);
            (i, w)
        })
        .collect();
    // Still too wide (a very narrow terminal): the first column gives way.
    let total: u16 = out
        .iter()
        .map(|&(_, w)| w + 1)
        .sum::<u16>()
        .saturating_sub(1);
    if let Some(first) = out.first_mut()
        && total > width
    {
        first.1 = first.1.saturating_sub(total - width).max(4);
    }
    out
}

/// Each column's width with every cell whole (the first column at most
/// `FIRST_MOST`).
fn natural_widths(cols: &[Col], rows: &[RowData], fit: Fit) -> Vec<u16> {
    let mark: u16 = if fit.marker { 2 } else { 0 };
    cols.iter()
        .enumerate()
        .map(|(i, c)| {
            let content = rows
                .iter()
                .filter_map(|r| r.cells.get(i))
                .map(|t| text_width(t))
                .max()
                .unwrap_or(0);
            let w = c.width.max(text_width(c.title)).max(content);
            if i == 0 {
                (w + mark).min(FIRST_MOST)
            } else {
                w
            }
        })
        .collect()
}

/// The columns a table `width` wide leaves blank once every column is
/// shown whole (0 when some give way): room a column can grow into.
pub fn spare_width(cols: &[Col], rows: &[RowData], width: u16, fit: Fit) -> u16 {
    let natural = natural_widths(cols, rows, fit);
    let whole = natural.iter().map(|w| w + 1).sum::<u16>().saturating_sub(1);
    width.saturating_sub(whole)
}

pub fn fitted_table(
    cols: Vec<Col>,
    rows: &[RowData],
    width: u16,
    fit: Fit,
    theme: &Theme,
) -> Table<'static> {
    let mark: u16 = if fit.marker { 2 } else { 0 };
    let natural = natural_widths(&cols, rows, fit);
    let kept = layout(&cols, &natural, width);
    let cut = kept.iter().any(|&(i, w)| w < natural[i]);
    let widths: Vec<Constraint> = kept
        .iter()
        .map(|&(i, w)| match i {
            0 if fit.flex_first && !cut => Constraint::Min(w),
            _ => Constraint::Length(w),
        })
        .collect();
    let text = |i: usize, w: u16, value: &str| -> String {
        let w = if i == 0 { w.saturating_sub(mark) } else { w };
        let value = shorten(value, w);
        if cols[i].right {
            let pad = (w as usize).saturating_sub(value.width());
            format!("{}{value}", " ".repeat(pad))
        } else {
            value
        }
    };
    let header = header_row(&cols, &kept, fit, &text).style(theme.title());
    let body = body_rows(rows, &kept, fit, &text, theme);
    Table::new(body, widths).header(header).column_spacing(1)
}

/// The selection marker of a row, where the table has one, and its mark.
fn marker(fit: Fit, selected: bool, marked: bool) -> &'static str {
    match (fit.marker, selected, marked) {
        (false, _, _) => "",
        (true, true, false) => "▶ ",
        (true, true, true) => "▶✓",
        (true, false, true) => " ✓",
        (true, false, false) => "  ",
    }
}

fn header_row(
    cols: &[Col],
    kept: &[(usize, u16)],
    fit: Fit,
    text: &dyn Fn(usize, u16, &str) -> String,
) -> Row<'static> {
    let marker = |selected| marker(fit, selected, false);
    Row::new(
        kept.iter()
            .map(|&(i, w)| {
                let title = text(i, w, cols[i].title);
                Cell::from(if i == 0 {
                    format!("{}{title}", marker(false))
                } else {
                    title
                })
            })
            .collect::<Vec<_>>(),
    )
}

fn body_rows(
    rows: &[RowData],
    kept: &[(usize, u16)],
    fit: Fit,
    text: &dyn Fn(usize, u16, &str) -> String,
    theme: &Theme,
) -> Vec<Row<'static>> {
    let marker = |selected, marked| marker(fit, selected, marked);
    rows.iter()
        .map(|r| {
            let cells: Vec<Cell> = kept
                .iter()
                .map(|&(i, w)| {
                    let value = text(i, w, r.cells.get(i).map_or("", String::as_str));
                    let value = if i == 0 {
                        format!("{}{value}", marker(r.selected, r.marked))
                    } else {
                        value
                    };
                    let style = r
                        .styled
                        .iter()
                        .find(|(k, _)| *k == i)
                        .map_or(Style::default(), |(_, s)| *s);
                    Cell::from(Span::styled(value, style))
                })
                .collect();
            let row = Row::new(cells);
            if r.selected {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::wrapped_rows;

    #[test]
    fn rows_of_wrapped_text() {
        assert_eq!(wrapped_rows("", 10), 1);
        assert_eq!(wrapped_rows("one two", 10), 1);
        // "three" does not fit after "one two " in 10: a row of its own.
        assert_eq!(wrapped_rows("one two three", 10), 2);
        assert_eq!(wrapped_rows("abcdefghijklmnopqrstuvwxy", 10), 3);
        assert_eq!(wrapped_rows("a bcdefghij", 10), 2);
        // Leading spaces take room.
        assert_eq!(wrapped_rows("  abcdefgh", 10), 1);
        assert_eq!(wrapped_rows("   abcdefgh", 10), 2);
    }
}

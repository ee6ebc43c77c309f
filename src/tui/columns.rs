//! Tables that fit the terminal: each column as wide as its longest value
//! (its header at least), and the least important columns dropped first
//! when the terminal is narrow. The first column carries the selection
//! marker, so the selected row reads without colour too.

use ratatui::layout::Constraint;
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table};

use super::theme::Theme;

pub struct Col {
    pub title: &'static str,
    /// At least this wide.
    pub width: u16,
    /// Dropped sooner the higher it is; 0 is never dropped.
    pub drop_rank: u8,
    pub right: bool,
}

impl Col {
    pub fn left(title: &'static str, width: u16, drop_rank: u8) -> Col {
        Col {
            title,
            width,
            drop_rank,
            right: false,
        }
    }
    pub fn right(title: &'static str, width: u16, drop_rank: u8) -> Col {
        Col {
            title,
            width,
            drop_rank,
            right: true,
        }
    }
}

pub struct RowData {
    pub cells: Vec<String>,
    pub selected: bool,
    /// Cells with a style of their own (the status).
    pub styled: Vec<(usize, Style)>,
}

/// The first column takes what the others leave, counting as at most this
/// wide when deciding what fits.
const FLEX_FIT: u16 = 16;

/// The columns kept on a terminal `width` wide: while the row is too wide,
/// the column with the highest drop rank (0: never) gives way.
fn columns_that_fit(cols: &[Col], first_fit: u16, width: u16) -> Vec<usize> {
    let mut keep: Vec<usize> = (0..cols.len()).collect();
    let fits = |keep: &[usize]| -> bool {
        let w: u16 = keep
            .iter()
            .map(|&i| if i == 0 { first_fit } else { cols[i].width } + 1)
            .sum();
        w <= width + 1
    };
    while !fits(&keep) {
        match keep.iter().copied().max_by_key(|&i| (cols[i].drop_rank, i)) {
            Some(i) if cols[i].drop_rank > 0 => keep.retain(|&k| k != i),
            _ => break,
        }
    }
    keep
}

pub fn fitted_table(
    mut cols: Vec<Col>,
    rows: &[RowData],
    width: u16,
    flex_first: bool,
    theme: &Theme,
) -> Table<'static> {
    for col in cols.iter_mut() {
        col.width = col.width.max(col.title.chars().count() as u16);
    }
    for row in rows {
        for (col, text) in cols.iter_mut().zip(row.cells.iter()) {
            col.width = col.width.max(text.chars().count() as u16);
        }
    }
    cols[0].width = (cols[0].width + 2).min(32);
    let first_fit = if flex_first {
        cols[0].width.min(FLEX_FIT)
    } else {
        cols[0].width
    };
    let keep = columns_that_fit(&cols, first_fit, width);
    let widths: Vec<Constraint> = keep
        .iter()
        .map(|&i| match (i, flex_first) {
            (0, true) => Constraint::Min(first_fit),
            _ => Constraint::Length(cols[i].width),
        })
        .collect();
    let align = |i: usize, text: &str| -> String {
        if cols[i].right {
            format!("{text:>w$}", w = cols[i].width as usize)
        } else {
            text.to_string()
        }
    };
    let header = Row::new(
        keep.iter()
            .map(|&i| {
                Cell::from(if i == 0 {
                    format!("  {}", cols[i].title)
                } else {
                    align(i, cols[i].title)
                })
            })
            .collect::<Vec<_>>(),
    )
    .style(theme.title());
    let body: Vec<Row> = rows
        .iter()
        .map(|r| {
            let cells: Vec<Cell> = keep
                .iter()
                .map(|&i| {
                    let value = r.cells.get(i).map_or("", String::as_str);
                    let text = if i == 0 {
                        format!("{} {value}", if r.selected { "▶" } else { " " })
                    } else {
                        align(i, value)
                    };
                    let style = r
                        .styled
                        .iter()
                        .find(|(k, _)| *k == i)
                        .map_or(Style::default(), |(_, s)| *s);
                    Cell::from(Span::styled(text, style))
                })
                .collect();
            let row = Row::new(cells);
            if r.selected {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    Table::new(body, widths).header(header).column_spacing(1)
}

//! The CLI's text tables: `list` and `audit`.

use crate::domain::time::{ago, short};
use crate::present::{ab_label, shown, status_label, thousands};
use crate::store::{AuditEntry, VersionSummary};

/// A text table: each column as wide as its widest cell as a terminal
/// shows it (`⏸`, `→`, long paths), so rows stay aligned whatever they
/// hold. Numbers sit right; the last column is not padded.
pub struct Grid {
    right: Vec<bool>,
    /// Rows of cells, and notes: lines of their own under the row before.
    rows: Vec<Result<Vec<String>, String>>,
}

impl Grid {
    /// Columns by title; a title starting with `>` is right-aligned.
    pub fn new(titles: &[&str]) -> Grid {
        let mut grid = Grid {
            right: titles.iter().map(|t| t.starts_with('>')).collect(),
            rows: Vec::new(),
        };
        if !titles.iter().all(|t| t.trim_start_matches('>').is_empty()) {
            grid.row(
                titles
                    .iter()
                    .map(|t| t.trim_start_matches('>').to_string())
                    .collect(),
            );
        }
        grid
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(Ok(cells));
    }

    /// A line of its own under the last row, outside the columns.
    pub fn note(&mut self, line: String) {
        self.rows.push(Err(line));
    }

    pub fn render(&self) -> String {
        use unicode_width::UnicodeWidthStr;
        let mut widths = vec![0usize; self.right.len()];
        for row in self.rows.iter().flatten() {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.width());
            }
        }
        let mut out = String::new();
        for row in &self.rows {
            let row = match row {
                Ok(cells) => cells,
                Err(note) => {
                    out.push_str(&format!("    {note}\n"));
                    continue;
                }
            };
            let last = row.len().saturating_sub(1);
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                let pad = " ".repeat(widths[i].saturating_sub(cell.width()));
                match (self.right.get(i).copied().unwrap_or(false), i == last) {
                    (true, _) => line.push_str(&format!("{pad}{cell}")),
                    (false, true) => line.push_str(cell),
                    (false, false) => line.push_str(&format!("{cell}{pad}")),
                }
                if i != last {
                    line.push_str("  ");
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

pub fn list_table(list: &[VersionSummary], now: i64) -> String {
    let mut grid = Grid::new(&[
        "JOURNEY",
        ">VER",
        "STATUS",
        ">ENTERED",
        ">ACTIVE",
        ">COMPLETED",
        ">EXITED",
        ">STOPPED",
        ">CONV",
        "A/B",
        "ENTRY END",
        "LAST ACTIVITY",
    ]);
    for v in list {
        let c = &v.counts;
        grid.row(vec![
            crate::present::escaped(&v.journey).into_owned(),
            v.version.to_string(),
            [
                Some(match &v.paused {
                    Some(p) => format!(
                        "{}, paused until {}",
                        status_label(shown(v)),
                        short(p.until_ms)
                    ),
                    None => status_label(shown(v)),
                }),
                crate::present::row_marks(v, now),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
            thousands(c.entered),
            thousands(c.active),
            thousands(c.completed),
            thousands(c.exited),
            thousands(c.stopped),
            crate::present::pct(v.conversion_rate),
            ab_label(v.ab.as_ref()),
            v.entry_end_ms.map_or("-".to_string(), short),
            v.last_activity_ms.map_or("-".to_string(), |t| ago(now, t)),
        ]);
        if let Some(why) = &v.unreadable {
            grid.note(format!("⚠ unreadable: {}", crate::present::escaped(why)));
        }
    }
    grid.render()
}

/// An audit row's cells as the CLI writes them: when (and when recorded,
/// if apart), who, host, action, version, change, count, and the messages
/// and reason.
fn audit_cells(e: &AuditEntry) -> [String; 8] {
    let tail: Vec<String> = [
        crate::present::audit_messages(e).map(|m| format!("messages {m}")),
        e.incident.as_ref().map(|i| format!("incident {i}")),
        e.reason.as_ref().map(|r| format!("\"{r}\"")),
    ]
    .into_iter()
    .flatten()
    .collect();
    [
        format!(
            "{}{}",
            e.at,
            e.recorded_apart()
                .map(|t| format!(" (recorded {t})"))
                .unwrap_or_default()
        ),
        e.who(),
        e.host.clone(),
        e.action.to_string(),
        e.about(),
        format!(
            "{} -> {}",
            e.from.as_deref().unwrap_or("-"),
            e.to.as_deref().unwrap_or("-")
        ),
        format!("active {}", crate::present::thousands(e.affected_active)),
        tail.join("  "),
    ]
    .map(|c| crate::present::escaped(&c).into_owned())
}

/// The audit log for `audit`: one aligned line per row, newest first.
pub fn audit_table(entries: &[AuditEntry]) -> String {
    let mut grid = Grid::new(&["", "", "", "", "", "", ">", ""]);
    for e in entries {
        grid.row(audit_cells(e).into());
    }
    grid.render()
}

/// One audit row as a line of text (`watch`, a line at a time).
pub fn audit_line(e: &AuditEntry) -> String {
    let [at, who, host, action, version, change, active, tail] = audit_cells(e);
    let tail = if tail.is_empty() {
        tail
    } else {
        format!("  {tail}")
    };
    format!("{at}  {who:<10} {host:<12} {action:<8} {version}  {change}  {active}{tail}")
}

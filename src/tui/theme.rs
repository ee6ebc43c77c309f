//! Colours, and their absence: with NO_COLOR no colour, bold or reverse is
//! used, and every status still reads as text with a symbol.

use ratatui::style::{Color, Modifier, Style};

use crate::domain::VersionStatus;
use crate::store::VersionSummary;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    pub fn from_env() -> Theme {
        Theme {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    fn pick(&self, s: Style) -> Style {
        if self.color { s } else { Style::default() }
    }

    pub fn base(&self) -> Style {
        Style::default()
    }
    pub fn header(&self) -> Style {
        self.pick(
            Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
        )
    }
    pub fn dim(&self) -> Style {
        self.pick(Style::default().fg(Color::DarkGray))
    }
    pub fn title(&self) -> Style {
        self.pick(Style::default().add_modifier(Modifier::BOLD))
    }
    pub fn selected(&self) -> Style {
        self.pick(Style::default().add_modifier(Modifier::REVERSED))
    }
    pub fn danger(&self) -> Style {
        self.pick(Style::default().fg(Color::Red).add_modifier(Modifier::BOLD))
    }
    pub fn warn(&self) -> Style {
        self.pick(
            Style::default()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
        )
    }
    pub fn good(&self) -> Style {
        self.pick(Style::default().fg(Color::Green))
    }
    pub fn focus(&self) -> Style {
        self.pick(Style::default().fg(Color::Black).bg(Color::Cyan))
    }

    pub fn status(&self, v: &VersionSummary) -> Style {
        match v.status {
            VersionStatus::Live => self.good(),
            VersionStatus::Finished if v.counts.active > 0 => {
                self.pick(Style::default().fg(Color::Yellow))
            }
            VersionStatus::Finished => self.dim(),
            VersionStatus::Stopped => self.pick(Style::default().fg(Color::Red)),
            VersionStatus::Draft => self.pick(Style::default().fg(Color::Blue)),
        }
    }
}

/// The status cell: a symbol and words, never colour alone.
pub fn status_text(v: &VersionSummary) -> String {
    match v.status {
        VersionStatus::Live => "● live".to_string(),
        VersionStatus::Finished if v.counts.active > 0 => {
            format!("◐ draining {}", thousands(v.counts.active))
        }
        VersionStatus::Finished => "○ drained".to_string(),
        VersionStatus::Stopped => "■ stopped".to_string(),
        VersionStatus::Draft => "✎ draft".to_string(),
    }
}

/// 1234567 -> "1,234,567": exact, and readable at a glance.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(-1200), "-1,200");
    }
}

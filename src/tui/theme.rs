//! Colours, and their absence: with NO_COLOR no colour, bold or reverse is
//! used, and every status still reads as text with a symbol.

use ratatui::style::{Color, Modifier, Style};

use crate::domain::Shown;

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
    /// A named store's badge: black on its colour; bold without colour.
    pub fn store(&self, colour: Option<&str>) -> Style {
        let bg = match colour {
            Some("red") => Color::Red,
            Some("green") => Color::Green,
            Some("yellow") => Color::Yellow,
            Some("blue") => Color::Blue,
            Some("magenta") => Color::Magenta,
            Some("white") => Color::White,
            Some("gray") => Color::Gray,
            _ => Color::Cyan,
        };
        if self.color {
            Style::default()
                .fg(Color::Black)
                .bg(bg)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::BOLD)
        }
    }
    pub fn focus(&self) -> Style {
        self.pick(Style::default().fg(Color::Black).bg(Color::Cyan))
    }

    pub fn status(&self, s: Shown) -> Style {
        match s {
            Shown::Live => self.good(),
            Shown::Draining(_) => self.pick(Style::default().fg(Color::Yellow)),
            Shown::Drained => self.dim(),
            Shown::Stopped => self.pick(Style::default().fg(Color::Red)),
            Shown::Draft => self.pick(Style::default().fg(Color::Blue)),
        }
    }
}

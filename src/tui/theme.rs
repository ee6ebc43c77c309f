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
    /// A named store's badge: black on its colour; plain with NO_COLOR
    /// (its brackets, `[prod]`, say it; no bold either).
    pub fn store(&self, colour: Option<&str>) -> Style {
        self.pick(
            Style::default()
                .fg(Color::Black)
                .bg(named(colour).unwrap_or(Color::Cyan))
                .add_modifier(Modifier::BOLD),
        )
    }
    /// The frame of the screen's main block: the named store's colour, so
    /// production never looks like staging; plain without one.
    pub fn frame(&self, colour: Option<&str>) -> Style {
        match named(colour) {
            Some(c) if self.color => Style::default().fg(c),
            _ => Style::default(),
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

/// A store's colour from the config file (the names it accepts).
fn named(colour: Option<&str>) -> Option<Color> {
    Some(match colour? {
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "white" => Color::White,
        "gray" => Color::Gray,
        _ => return None,
    })
}

//! The help's keys: on a screen too short for it the moving keys scroll
//! it; any other key closes it.

use ratatui::crossterm::event::KeyEvent;

use super::app::{App, Mode};

impl App {
    /// In the help: the moving keys scroll it (on a screen too short for
    /// it), any other key closes it.
    pub(super) fn on_help_key(&mut self, key: KeyEvent) {
        use super::keymap::Action::*;
        let offset = self.help_offset;
        self.help_offset = match self.ctx.keys.action(key) {
            Some(Up) => offset.saturating_sub(1),
            Some(Down) => offset.saturating_add(1).min(200),
            Some(PageUp) => offset.saturating_sub(10),
            Some(PageDown) => offset.saturating_add(10).min(200),
            Some(Top) => 0,
            _ => {
                self.mode = Mode::Browse;
                0
            }
        };
    }
}

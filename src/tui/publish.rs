//! The publish pane: the journey's newest draft goes live and its live
//! version is finished, so it is confirmed like a stop, by typing the
//! journey's name. It shows what the publish does (the version it
//! finishes, what the draft changes), kept up to date while it is open,
//! and commits through the same library call as `journeyctl publish`.

use ratatui::crossterm::event::{Event, KeyCode, KeyEvent};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

use crate::store::PublishImpact;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishFocus {
    Name,
    Reason,
    Confirm,
    Cancel,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PublishState {
    Editing,
    /// Confirmed; the publish is running.
    Working,
    /// Published: the version that went live.
    Done(i64),
    /// Refused by the store or the console (with why).
    Refused(String),
}

#[derive(Debug, Clone)]
pub struct PublishPane {
    pub journey: String,
    pub name: Input,
    pub reason: Input,
    pub focus: PublishFocus,
    /// What it would do now, or why it cannot (refreshed while open).
    pub impact: Option<Result<PublishImpact, String>>,
    pub state: PublishState,
    /// Why Enter did not commit.
    pub hint: Option<String>,
}

/// What a key did to the pane.
#[derive(Debug, Clone, PartialEq)]
pub enum PublishReply {
    Nothing,
    Close,
    /// Publish the journey's newest draft, with this reason.
    Confirmed {
        journey: String,
        reason: Option<String>,
    },
}

impl PublishPane {
    pub fn new(journey: &str) -> PublishPane {
        PublishPane {
            journey: journey.to_string(),
            name: Input::default(),
            reason: Input::default(),
            // The typed name is the safety: the first keystrokes go there.
            focus: PublishFocus::Name,
            impact: None,
            state: PublishState::Editing,
            hint: None,
        }
    }

    pub fn name_matches(&self) -> bool {
        self.name.value() == self.journey
    }

    /// A key; `blocked`: why the console cannot act now (read-only, stale).
    pub fn on_key(&mut self, key: KeyEvent, blocked: Option<&str>) -> PublishReply {
        match self.state {
            PublishState::Editing => {}
            // Nothing to give up: a publish waits for no delivery.
            PublishState::Working => return PublishReply::Nothing,
            PublishState::Done(_) | PublishState::Refused(_) => {
                return match key.code {
                    KeyCode::Enter | KeyCode::Esc => PublishReply::Close,
                    _ => PublishReply::Nothing,
                };
            }
        }
        match key.code {
            KeyCode::Esc => PublishReply::Close,
            KeyCode::Tab => {
                self.focus = self.next(true);
                PublishReply::Nothing
            }
            KeyCode::BackTab => {
                self.focus = self.next(false);
                PublishReply::Nothing
            }
            KeyCode::Enter if self.focus == PublishFocus::Cancel => PublishReply::Close,
            KeyCode::Enter => self.confirm(blocked),
            _ => {
                let field = match self.focus {
                    PublishFocus::Name => &mut self.name,
                    PublishFocus::Reason => &mut self.reason,
                    PublishFocus::Confirm | PublishFocus::Cancel => return PublishReply::Nothing,
                };
                let most = match self.focus {
                    PublishFocus::Name => crate::domain::text::MOST_NAME,
                    _ => crate::domain::text::MOST_REASON,
                };
                if !(matches!(key.code, KeyCode::Char(_)) && field.value().chars().count() >= most)
                {
                    field.handle_event(&Event::Key(key));
                }
                self.hint = None;
                PublishReply::Nothing
            }
        }
    }

    fn next(&self, forward: bool) -> PublishFocus {
        use PublishFocus::*;
        let order = [Name, Reason, Confirm, Cancel];
        let i = order.iter().position(|f| *f == self.focus).unwrap_or(0);
        order[if forward { (i + 1) % 4 } else { (i + 3) % 4 }]
    }

    fn confirm(&mut self, blocked: Option<&str>) -> PublishReply {
        let why = if let Some(b) = blocked {
            Some(b.to_string())
        } else if !self.name_matches() {
            Some(format!("type {} exactly to publish", self.journey))
        } else {
            match &self.impact {
                None => Some("working out what it does; Enter again once it is shown".into()),
                Some(Err(e)) => Some(e.clone()),
                Some(Ok(_)) => None,
            }
        };
        if let Some(why) = why {
            self.hint = Some(why);
            return PublishReply::Nothing;
        }
        self.state = PublishState::Working;
        let reason = self.reason.value().trim();
        PublishReply::Confirmed {
            journey: self.journey.clone(),
            reason: (!reason.is_empty()).then(|| reason.to_string()),
        }
    }
}

impl super::app::App {
    pub fn publish_pane(&self) -> Option<&PublishPane> {
        match &self.mode {
            super::app::Mode::Publish(p) => Some(p),
            _ => None,
        }
    }

    pub fn publish_pane_mut(&mut self) -> Option<&mut PublishPane> {
        match &mut self.mode {
            super::app::Mode::Publish(p) => Some(p),
            _ => None,
        }
    }
}

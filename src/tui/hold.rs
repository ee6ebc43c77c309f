//! The hold pane (`h` on the channels screen) and the release pane (`r`
//! there): one action's messages held where they are, or let go, with
//! the impact (pending, per running version) kept up to date while it is
//! open, through the same library calls as `journeyctl hold` and
//! `release`.

use ratatui::crossterm::event::{Event, KeyCode, KeyEvent};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

use super::app::{App, Effect, Mode, View};
use crate::store::HoldImpact;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldFocus {
    For,
    Expiry,
    Overdue,
    Reason,
    Confirm,
    Cancel,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HoldState {
    Editing,
    Working,
    /// What it did, in a line.
    Done(String),
    Refused(String),
}

#[derive(Debug, Clone)]
pub struct HoldPane {
    pub action: String,
    /// A release (else a hold).
    pub releasing: bool,
    /// What it meets now (refreshed while open).
    pub impact: Option<Result<HoldImpact, String>>,
    /// How long the hold lasts (`4h`; blank: until released).
    pub for_: Input,
    /// With a duration: what happens then (`release` or `cancel`).
    pub on_expiry: Input,
    /// A release's choice for what fell due while held (`send`, `skip`,
    /// `spread=30m`).
    pub overdue: Input,
    pub reason: Input,
    pub focus: HoldFocus,
    pub state: HoldState,
    pub hint: Option<String>,
}

/// What a key did to the pane.
#[derive(Debug, Clone, PartialEq)]
pub enum HoldReply {
    Nothing,
    Close,
    Confirmed(Effect),
}

impl HoldPane {
    pub fn new(action: &str, releasing: bool) -> HoldPane {
        HoldPane {
            action: action.to_string(),
            releasing,
            impact: None,
            for_: Input::default(),
            on_expiry: Input::new("release".into()),
            overdue: Input::new("send".into()),
            reason: Input::default(),
            // A release has no duration to type, a hold no overdue choice.
            focus: if releasing {
                HoldFocus::Overdue
            } else {
                HoldFocus::For
            },
            state: HoldState::Editing,
            hint: None,
        }
    }

    fn order(&self) -> &'static [HoldFocus] {
        use HoldFocus::*;
        if self.releasing {
            &[Overdue, Reason, Confirm, Cancel]
        } else {
            &[For, Expiry, Reason, Confirm, Cancel]
        }
    }

    pub fn on_key(&mut self, key: KeyEvent, blocked: Option<&str>) -> HoldReply {
        match self.state {
            HoldState::Editing => {}
            HoldState::Working => return HoldReply::Nothing,
            HoldState::Done(_) | HoldState::Refused(_) => {
                return match key.code {
                    KeyCode::Enter | KeyCode::Esc => HoldReply::Close,
                    _ => HoldReply::Nothing,
                };
            }
        }
        let order = self.order();
        let at = order.iter().position(|f| *f == self.focus).unwrap_or(0);
        match key.code {
            KeyCode::Esc => HoldReply::Close,
            KeyCode::Tab | KeyCode::Down => {
                self.focus = order[(at + 1) % order.len()];
                HoldReply::Nothing
            }
            KeyCode::BackTab | KeyCode::Up => {
                self.focus = order[(at + order.len() - 1) % order.len()];
                HoldReply::Nothing
            }
            KeyCode::Enter if self.focus == HoldFocus::Cancel => HoldReply::Close,
            KeyCode::Enter => self.confirm(blocked),
            _ => {
                let (field, most) = match self.focus {
                    HoldFocus::For => (&mut self.for_, 16),
                    HoldFocus::Expiry => (&mut self.on_expiry, 8),
                    HoldFocus::Overdue => (&mut self.overdue, 24),
                    HoldFocus::Reason => (&mut self.reason, crate::domain::text::MOST_REASON),
                    _ => return HoldReply::Nothing,
                };
                if !(matches!(key.code, KeyCode::Char(_)) && field.value().chars().count() >= most)
                {
                    field.handle_event(&Event::Key(key));
                }
                self.hint = None;
                HoldReply::Nothing
            }
        }
    }

    fn confirm(&mut self, blocked: Option<&str>) -> HoldReply {
        if let Some(b) = blocked {
            self.hint = Some(b.to_string());
            return HoldReply::Nothing;
        }
        let for_ms = match self.for_.value().trim() {
            "" => None,
            text => match crate::domain::time::parse_duration(text) {
                Ok(ms) if ms > 0 => Some(ms),
                Ok(_) => {
                    self.hint = Some("a hold lasts longer than nothing".into());
                    return HoldReply::Nothing;
                }
                Err(e) => {
                    self.hint = Some(e);
                    return HoldReply::Nothing;
                }
            },
        };
        let on_expiry = match (self.on_expiry.value().trim(), for_ms) {
            ("release" | "", _) => crate::store::HoldExpiry::Release,
            ("cancel", Some(_)) => crate::store::HoldExpiry::Cancel,
            ("cancel", None) => {
                self.hint = Some("cancel at the end needs a duration (For)".into());
                return HoldReply::Nothing;
            }
            (other, _) => {
                self.hint = Some(format!("then: {other:?} is not release or cancel"));
                return HoldReply::Nothing;
            }
        };
        let overdue = match crate::domain::Overdue::parse(self.overdue.value()) {
            Ok(o) => o,
            Err(e) => {
                self.hint = Some(format!("overdue: {e}"));
                return HoldReply::Nothing;
            }
        };
        self.state = HoldState::Working;
        let reason = self.reason.value().trim();
        let reason = (!reason.is_empty()).then(|| reason.to_string());
        let action = self.action.clone();
        HoldReply::Confirmed(if self.releasing {
            Effect::ReleaseAction {
                action,
                overdue,
                reason,
            }
        } else {
            Effect::HoldAction {
                action,
                for_ms,
                on_expiry,
                reason,
            }
        })
    }
}

impl App {
    pub fn hold_pane(&self) -> Option<&HoldPane> {
        match &self.mode {
            Mode::Hold(p) => Some(p),
            _ => None,
        }
    }

    pub(super) fn hold_pane_mut(&mut self) -> Option<&mut HoldPane> {
        match &mut self.mode {
            Mode::Hold(p) => Some(p),
            _ => None,
        }
    }

    /// `h` (`r`: `releasing`) on the channels screen: the pane for the
    /// selected action.
    pub(super) fn open_hold(&mut self, releasing: bool) {
        use super::keymap::Action;
        if self.ctx.read_only {
            let key = self.ctx.keys.key(if releasing {
                Action::Resume
            } else {
                Action::HoldAction
            });
            self.notice = Some(crate::present::read_only(&format!("{key} does nothing")));
            return;
        }
        let Some(h) = self.channels.get(self.channel_selected) else {
            self.notice = Some("no action selected".into());
            return;
        };
        // A release names the hold that covers the action.
        let action = match (&h.hold, releasing) {
            (Some(hold), true) => hold.action.clone(),
            (None, true) => {
                self.notice = Some(format!("{} is not held: nothing to release", h.action));
                return;
            }
            (Some(hold), false) => {
                self.notice = Some(format!(
                    "{} is already held (by {}); r releases it",
                    hold.action, hold.held_by
                ));
                return;
            }
            (None, false) => h.action.clone(),
        };
        self.mode = Mode::Hold(Box::new(HoldPane::new(&action, releasing)));
        self.effects.push(Effect::Refresh);
    }

    pub(super) fn on_hold_key(&mut self, key: KeyEvent) {
        let blocked = self.blocked();
        let key = self.in_pane(key);
        let Some(pane) = self.hold_pane_mut() else {
            return;
        };
        match pane.on_key(key, blocked.as_deref()) {
            HoldReply::Nothing => {}
            HoldReply::Close => {
                self.mode = Mode::Browse;
                self.effects.push(Effect::Refresh);
            }
            HoldReply::Confirmed(effect) => {
                self.last_cli = Some(hold_line(&effect));
                self.effects.push(effect);
            }
        }
    }

    /// The outcome of a confirmed hold or release, in its pane.
    pub(super) fn hold_done(&mut self, result: Result<String, crate::store::Error>) {
        if let Some(pane) = self.hold_pane_mut() {
            pane.state = match result {
                Ok(line) => HoldState::Done(line),
                Err(why) => HoldState::Refused(crate::present::errors::for_console(&why)),
            };
        }
        self.effects.push(Effect::Refresh);
    }

    /// Whether `h` and `r` act on the channels screen's actions.
    pub(super) fn on_channels(&self) -> bool {
        self.view == View::Channels
    }
}

/// The command line that does the same from a shell.
fn hold_line(effect: &Effect) -> String {
    match effect {
        Effect::HoldAction {
            action,
            for_ms,
            on_expiry,
            reason,
        } => crate::present::hold_line(action, Err((*for_ms, *on_expiry)), reason.as_deref()),
        Effect::ReleaseAction {
            action,
            overdue,
            reason,
        } => crate::present::hold_line(action, Ok(*overdue), reason.as_deref()),
        _ => String::new(),
    }
}

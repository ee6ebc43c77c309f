//! The confirmation pane's keys: which key does what in which field, and
//! when a confirmation is accepted.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use tui_input::backend::crossterm::EventHandler;

use super::{ConfirmPane, Focus, PaneReply, PaneState};
use crate::domain::ActionKind;
use crate::store::Target;

impl ConfirmPane {
    /// Confirms when the pane's rule allows it; otherwise says why not.
    fn try_confirm(&mut self, blocked: Option<&str>) -> PaneReply {
        if self.is_kill_switch() {
            if let Some(why) = self.kill_switch_not_ready() {
                self.focus = Focus::Name;
                self.hint = Some(why);
                return PaneReply::Nothing;
            }
        } else if self.typed() && !self.name_matches() {
            self.focus = Focus::Name;
            let what = if self.is_brake() {
                "the store's name exactly to confirm the brake"
            } else {
                "exactly to confirm the stop"
            };
            self.hint = Some(format!(
                "type {} {what}",
                self.expected_name().unwrap_or_default()
            ));
            return PaneReply::Nothing;
        }
        if let Some(why) = blocked {
            self.state = PaneState::Refused(why.to_string());
            return PaneReply::Nothing;
        }
        let mut action = self.action.clone();
        let terms = match action.kind {
            ActionKind::Pause(_) => self.hold_terms().map(ActionKind::Pause),
            ActionKind::Resume(_) => {
                crate::domain::Overdue::parse(self.hold_field().map_or("send", |i| i.value()))
                    .map(ActionKind::Resume)
                    .map_err(|e| format!("overdue messages: {e}"))
            }
            kind => Ok(kind),
        };
        match terms {
            Ok(kind) => action.kind = kind,
            Err(why) => {
                self.focus = Focus::Hold;
                self.hint = Some(why);
                return PaneReply::Nothing;
            }
        }
        let reason = self.reason.value().trim().to_string();
        action.reason = (!reason.is_empty()).then_some(reason);
        self.state = PaneState::Working {
            waiting: None,
            giving_up: false,
        };
        self.hint = None;
        PaneReply::Confirmed(action)
    }

    /// Handles a key. `blocked` is why the console cannot act now (store
    /// unreachable), checked at the moment of confirming.
    pub fn on_key(&mut self, key: KeyEvent, blocked: Option<&str>) -> PaneReply {
        match &self.state {
            PaneState::Working { waiting, giving_up } => {
                // Once it says it waits, Esc stops the waiting; the pane
                // then shows whether it had committed or did not run.
                return match key.code {
                    KeyCode::Esc if waiting.is_some() && !giving_up => {
                        self.state = PaneState::Working {
                            waiting: waiting.clone(),
                            giving_up: true,
                        };
                        PaneReply::GiveUp
                    }
                    _ => PaneReply::Nothing,
                };
            }
            PaneState::Done(_) | PaneState::Refused(_) => {
                return match key.code {
                    KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') | KeyCode::Char(' ') => {
                        PaneReply::Close
                    }
                    _ => PaneReply::Nothing,
                };
            }
            PaneState::Editing => {}
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return PaneReply::Close,
            KeyCode::Char('c') if ctrl => return PaneReply::Close,
            KeyCode::Tab => {
                self.move_focus(true);
                return PaneReply::Nothing;
            }
            KeyCode::BackTab => {
                self.move_focus(false);
                return PaneReply::Nothing;
            }
            _ => {}
        }
        if self.typed()
            && matches!(
                self.focus,
                Focus::Cancel | Focus::Confirm | Focus::Mode | Focus::Expiry
            )
            && let KeyCode::Char(_) = key.code
            && !ctrl
        {
            // A typed pane has no shortcuts: a printable key on a button or
            // a choice belongs to the name, never to the button.
            self.focus = Focus::Name;
        }
        match self.focus {
            Focus::Cancel | Focus::Confirm => self.on_button_key(key, blocked),
            Focus::Mode | Focus::Expiry => self.on_choice_key(key, blocked),
            Focus::Name | Focus::Reason | Focus::Hold => self.on_field_key(key, blocked),
        }
    }

    /// A key on a choice (stop or pause; stop or resume at expiry).
    fn on_choice_key(&mut self, key: KeyEvent, blocked: Option<&str>) -> PaneReply {
        let toggle = matches!(
            key.code,
            KeyCode::Left
                | KeyCode::Right
                | KeyCode::Char('h')
                | KeyCode::Char('l')
                | KeyCode::Char(' ')
        );
        match key.code {
            _ if toggle && self.focus == Focus::Mode => self.toggle_mode(),
            _ if toggle => self.toggle_expiry(),
            KeyCode::Enter if self.typed() => return self.try_confirm(blocked),
            KeyCode::Enter => self.move_focus(true),
            KeyCode::Char('y') | KeyCode::Char('Y') => return self.try_confirm(blocked),
            KeyCode::Char('n') | KeyCode::Char('N') => return PaneReply::Close,
            _ => {}
        }
        PaneReply::Nothing
    }

    /// A key on a button (a printable key here only in the y/n pane).
    fn on_button_key(&mut self, key: KeyEvent, blocked: Option<&str>) -> PaneReply {
        match key.code {
            KeyCode::Left | KeyCode::Right | KeyCode::Char('h') | KeyCode::Char('l') => {
                self.toggle_button();
                PaneReply::Nothing
            }
            KeyCode::Enter if self.focus == Focus::Cancel => PaneReply::Close,
            KeyCode::Enter => self.try_confirm(blocked),
            KeyCode::Char('y') | KeyCode::Char('Y') => self.try_confirm(blocked),
            KeyCode::Char('n') | KeyCode::Char('N') => PaneReply::Close,
            _ => PaneReply::Nothing,
        }
    }

    /// A key in the name or reason field.
    fn on_field_key(&mut self, key: KeyEvent, blocked: Option<&str>) -> PaneReply {
        if key.code == KeyCode::Enter {
            // In a typed pane Enter in either field is the stop's
            // confirmation (it commits only when the name matches); in a
            // y/n pane Enter after a reason moves to the button.
            if self.typed() {
                return self.try_confirm(blocked);
            }
            self.focus = Focus::Confirm;
            return PaneReply::Nothing;
        }
        let focus = self.focus;
        let input = match focus {
            Focus::Name => Some(&mut self.name),
            Focus::Hold => self.hold_field_mut(),
            _ => Some(&mut self.reason),
        };
        // A field takes no more than a reason can be (a long paste stops).
        if let Some(input) = input
            && !(matches!(key.code, KeyCode::Char(_))
                && input.value().chars().count() >= crate::domain::text::MOST_REASON)
        {
            input.handle_event(&Event::Key(key));
        }
        if self.focus == Focus::Name {
            self.hint = None;
            if self.is_kill_switch() {
                // A different action is a different set of versions: its
                // impact must be shown before it can commit.
                let typed = Target::UsesAction {
                    action: self.typed_action().to_string(),
                };
                if self.action.target != typed {
                    self.action.target = typed;
                    self.impact = None;
                    self.impact_at = None;
                }
            }
        }
        PaneReply::Nothing
    }
}

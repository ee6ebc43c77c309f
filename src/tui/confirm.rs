//! The confirmation pane: the only way from a key to a finish or stop.
//! Its default can never commit and it loses no keystroke. A y/n pane
//! (finish) starts on Cancel and commits on `y` or Enter on the confirm
//! button. A typed pane (stop, stop all, kill switch) starts with the cursor
//! in its name field: every printable key lands in a text field, none acts
//! as a button, and Enter commits only when the text matches.

use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

use crate::domain::time::{Millis, parse_duration};
use crate::domain::{ActionKind, Hold, OnExpiry};
use crate::store::{Impact, OperatorAction, Outcome, Target};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Cancel,
    Name,
    /// The kill switch's choice: stop or pause.
    Mode,
    /// A pause's hold duration; a resume's choice for overdue messages.
    Hold,
    /// A pause's rule at expiry.
    Expiry,
    Reason,
    Confirm,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PaneState {
    /// The operator is reading and typing.
    Editing,
    /// Confirmed; the executor is running it.
    Working,
    Done(Outcome),
    /// Refused by the store or by the console (with why). Stays until closed.
    Refused(String),
}

#[derive(Debug, Clone)]
pub struct ConfirmPane {
    pub action: OperatorAction,
    /// What must be typed to confirm a stop.
    pub expected_name: String,
    pub name: Input,
    pub reason: Input,
    pub focus: Focus,
    /// The impact now, refreshed while the pane is open.
    pub impact: Option<Result<Impact, String>>,
    pub impact_at: Option<Millis>,
    pub state: PaneState,
    /// A hint after a confirm attempt that was not accepted.
    pub hint: Option<String>,
    /// The kill switch: the typed action picks the versions, and the stop
    /// commits only once the impact of exactly that action is on screen.
    pub kill_switch: bool,
    /// While confirmed: what the action waits for (its turn at the store,
    /// deliveries in flight).
    pub waiting: Option<crate::store::Waiting>,
    /// Esc was pressed while it waited: it is giving up.
    pub giving_up: bool,
    /// A pause's hold, as typed (default 3d); a resume's choice for the
    /// messages that fell due during the hold (default send).
    pub hold: Input,
    /// A pause's rule when the hold runs out.
    pub on_expiry: OnExpiry,
}

/// What a key did to the pane.
#[derive(Debug, Clone, PartialEq)]
pub enum PaneReply {
    Nothing,
    Close,
    Confirmed(OperatorAction),
    /// Esc while the confirmed action waits for the store: stop waiting.
    GiveUp,
}

impl ConfirmPane {
    pub fn new(action: OperatorAction) -> ConfirmPane {
        let expected_name = match &action.target {
            Target::Version { journey, .. } | Target::AllVersions { journey } => journey.clone(),
            Target::UsesAction { action } => action.clone(),
        };
        // The exact name is the safety of a typed pane, so the operator's
        // first keystrokes go there; a y/n pane (finish, pause, resume)
        // starts on Cancel.
        let is_resume = matches!(action.kind, ActionKind::Resume(_));
        let focus = if action.kind == ActionKind::Stop {
            Focus::Name
        } else {
            Focus::Cancel
        };
        ConfirmPane {
            action,
            expected_name,
            name: Input::default(),
            reason: Input::default(),
            focus,
            impact: None,
            impact_at: None,
            state: PaneState::Editing,
            hint: None,
            kill_switch: false,
            waiting: None,
            giving_up: false,
            hold: Input::new(if is_resume { "send" } else { "3d" }.into()),
            on_expiry: OnExpiry::Stop,
        }
    }

    /// The kill switch: stop every version that uses the action typed.
    pub fn kill_switch() -> ConfirmPane {
        let mut pane = ConfirmPane::new(OperatorAction {
            kind: ActionKind::Stop,
            target: Target::UsesAction {
                action: String::new(),
            },
            reason: None,
        });
        pane.kill_switch = true;
        pane
    }

    /// The action typed into a kill switch pane.
    pub fn typed_action(&self) -> &str {
        self.name.value().trim()
    }

    pub fn is_stop(&self) -> bool {
        self.action.kind == ActionKind::Stop
    }

    /// A pane confirmed by typing a name or action (stop, stop all, the
    /// kill switch in either mode): no printable key acts as a button.
    pub fn typed(&self) -> bool {
        self.kill_switch || self.is_stop()
    }

    fn order(&self) -> &'static [Focus] {
        use Focus::*;
        match (self.kill_switch, self.action.kind) {
            (true, ActionKind::Pause(_)) => &[Name, Mode, Hold, Expiry, Reason, Confirm, Cancel],
            (true, _) => &[Name, Mode, Reason, Confirm, Cancel],
            (false, ActionKind::Stop) => &[Name, Reason, Confirm, Cancel],
            (false, ActionKind::Pause(_)) => &[Cancel, Hold, Expiry, Reason, Confirm],
            (false, ActionKind::Resume(_)) => &[Cancel, Hold, Reason, Confirm],
            (false, _) => &[Cancel, Reason, Confirm],
        }
    }

    /// The kill switch between stop and pause: another action, so its
    /// impact is fetched again before it can commit.
    fn toggle_mode(&mut self) {
        self.action.kind = if self.action.kind == ActionKind::Stop {
            ActionKind::Pause(Hold::default())
        } else {
            ActionKind::Stop
        };
        self.impact = None;
        self.impact_at = None;
    }

    fn toggle_expiry(&mut self) {
        self.on_expiry = match self.on_expiry {
            OnExpiry::Stop => OnExpiry::Resume,
            OnExpiry::Resume => OnExpiry::Stop,
        };
    }

    /// The pause's terms as typed, or what is wrong with them.
    fn hold_terms(&self) -> Result<Hold, String> {
        let ms = parse_duration(self.hold.value()).map_err(|e| format!("hold: {e}"))?;
        Hold::new(ms, self.on_expiry).map_err(|e| format!("hold: {e}"))
    }

    fn move_focus(&mut self, forward: bool) {
        let order = self.order();
        let i = order.iter().position(|f| *f == self.focus).unwrap_or(0);
        let n = order.len();
        self.focus = order[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }];
    }

    fn toggle_button(&mut self) {
        self.focus = if self.focus == Focus::Cancel {
            Focus::Confirm
        } else {
            Focus::Cancel
        };
    }

    pub fn name_matches(&self) -> bool {
        self.name.value() == self.expected_name
    }

    /// Why the kill switch cannot commit yet, if it cannot.
    fn kill_switch_not_ready(&self) -> Option<String> {
        if self.typed_action().is_empty() {
            return Some("type the action to stop, e.g. webhook:crm".into());
        }
        match &self.impact {
            None => Some(
                "working out which versions use it; press Enter again once they are listed".into(),
            ),
            Some(Err(e)) => Some(e.clone()),
            Some(Ok(i)) if i.versions.is_empty() => {
                Some(format!("no version uses {}", self.typed_action()))
            }
            Some(Ok(_)) => None,
        }
    }

    /// Confirms when the pane's rule allows it; otherwise says why not.
    fn try_confirm(&mut self, blocked: Option<&str>) -> PaneReply {
        if self.kill_switch {
            if let Some(why) = self.kill_switch_not_ready() {
                self.focus = Focus::Name;
                self.hint = Some(why);
                return PaneReply::Nothing;
            }
        } else if self.typed() && !self.name_matches() {
            self.focus = Focus::Name;
            self.hint = Some(format!(
                "type {} exactly to confirm the stop",
                self.expected_name
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
            ActionKind::Resume(_) => crate::domain::Overdue::parse(self.hold.value())
                .map(ActionKind::Resume)
                .map_err(|e| format!("overdue messages: {e}")),
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
        self.state = PaneState::Working;
        self.hint = None;
        PaneReply::Confirmed(action)
    }

    /// Handles a key. `blocked` is why the console cannot act now (store
    /// unreachable), checked at the moment of confirming.
    pub fn on_key(&mut self, key: KeyEvent, blocked: Option<&str>) -> PaneReply {
        match &self.state {
            PaneState::Working => {
                // Once it says it waits, Esc stops the waiting; the pane
                // then shows whether it had committed or did not run.
                return match key.code {
                    KeyCode::Esc if self.waiting.is_some() && !self.giving_up => {
                        self.giving_up = true;
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
        let input = match self.focus {
            Focus::Name => &mut self.name,
            Focus::Hold => &mut self.hold,
            _ => &mut self.reason,
        };
        input.handle_event(&Event::Key(key));
        if self.focus == Focus::Name {
            self.hint = None;
            if self.kill_switch {
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

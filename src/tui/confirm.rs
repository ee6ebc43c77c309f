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
    Working {
        /// What it waits for (its turn at the store, deliveries in
        /// flight), once it has waited a while.
        waiting: Option<crate::store::Waiting>,
        /// Esc was pressed while it waited: it is giving up.
        giving_up: bool,
    },
    Done(Outcome),
    /// Refused by the store or by the console (with why). Stays until closed.
    Refused(String),
}

/// Which pane it is, with what only that kind of pane has: a combination
/// the pane cannot have (a typed name on a finish, a hold on a stop) cannot
/// be written.
#[derive(Debug, Clone)]
pub enum PaneKind {
    /// A stop, confirmed by typing the journey's name exactly.
    TypedName { expected: String },
    /// The kill switch: the action typed picks the versions; a stop, or a
    /// pause on `terms`.
    KillSwitch { terms: HoldTerms },
    /// A finish, confirmed yes or no.
    YesNo,
    /// A pause, yes or no, on its terms.
    Pause { terms: HoldTerms },
    /// A resume, yes or no, and what becomes of the messages that fell
    /// due during the hold (`send`, `skip`, `spread=DUR`; default send).
    Resume { overdue: Input },
}

/// A pause's terms as the operator types them.
#[derive(Debug, Clone)]
pub struct HoldTerms {
    /// How long (default 3d).
    pub length: Input,
    /// The rule when it runs out.
    pub on_expiry: OnExpiry,
}

impl Default for HoldTerms {
    fn default() -> HoldTerms {
        HoldTerms {
            length: Input::new("3d".into()),
            on_expiry: OnExpiry::Stop,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ConfirmPane {
    pub action: OperatorAction,
    pub kind: PaneKind,
    pub name: Input,
    pub reason: Input,
    pub focus: Focus,
    /// The impact now, refreshed while the pane is open.
    pub impact: Option<Result<Impact, String>>,
    pub impact_at: Option<Millis>,
    pub state: PaneState,
    /// A hint after a confirm attempt that was not accepted.
    pub hint: Option<String>,
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
        // The exact name is the safety of a typed pane, so the operator's
        // first keystrokes go there; a y/n pane (finish, pause, resume)
        // starts on Cancel.
        let (kind, focus) = match (action.typed_name(), action.kind) {
            (Some(expected), _) => (PaneKind::TypedName { expected }, Focus::Name),
            (None, ActionKind::Pause(_)) => (
                PaneKind::Pause {
                    terms: HoldTerms::default(),
                },
                Focus::Cancel,
            ),
            (None, ActionKind::Resume(_)) => (
                PaneKind::Resume {
                    overdue: Input::new("send".into()),
                },
                Focus::Cancel,
            ),
            (None, _) => (PaneKind::YesNo, Focus::Cancel),
        };
        ConfirmPane {
            action,
            kind,
            name: Input::default(),
            reason: Input::default(),
            focus,
            impact: None,
            impact_at: None,
            state: PaneState::Editing,
            hint: None,
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
        pane.kind = PaneKind::KillSwitch {
            terms: HoldTerms::default(),
        };
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
        matches!(
            self.kind,
            PaneKind::TypedName { .. } | PaneKind::KillSwitch { .. }
        )
    }

    pub fn is_kill_switch(&self) -> bool {
        matches!(self.kind, PaneKind::KillSwitch { .. })
    }

    /// The name a typed stop wants.
    pub fn expected_name(&self) -> Option<&str> {
        match &self.kind {
            PaneKind::TypedName { expected } => Some(expected),
            _ => None,
        }
    }

    /// The pause's terms, where the pane pauses.
    pub fn terms(&self) -> Option<&HoldTerms> {
        match (&self.kind, self.action.kind) {
            (PaneKind::Pause { terms }, _) => Some(terms),
            (PaneKind::KillSwitch { terms }, ActionKind::Pause(_)) => Some(terms),
            _ => None,
        }
    }

    /// The field behind `Focus::Hold`: a pause's length, a resume's choice
    /// for overdue messages.
    pub fn hold_field(&self) -> Option<&Input> {
        match &self.kind {
            PaneKind::Resume { overdue } => Some(overdue),
            _ => self.terms().map(|t| &t.length),
        }
    }

    fn hold_field_mut(&mut self) -> Option<&mut Input> {
        match (&mut self.kind, self.action.kind) {
            (PaneKind::Resume { overdue }, _) => Some(overdue),
            (PaneKind::Pause { terms }, _) => Some(&mut terms.length),
            (PaneKind::KillSwitch { terms }, ActionKind::Pause(_)) => Some(&mut terms.length),
            _ => None,
        }
    }

    fn order(&self) -> &'static [Focus] {
        use Focus::*;
        match (&self.kind, self.action.kind) {
            (PaneKind::KillSwitch { .. }, ActionKind::Pause(_)) => {
                &[Name, Mode, Hold, Expiry, Reason, Confirm, Cancel]
            }
            (PaneKind::KillSwitch { .. }, _) => &[Name, Mode, Reason, Confirm, Cancel],
            (PaneKind::TypedName { .. }, _) => &[Name, Reason, Confirm, Cancel],
            (PaneKind::Pause { .. }, _) => &[Cancel, Hold, Expiry, Reason, Confirm],
            (PaneKind::Resume { .. }, _) => &[Cancel, Hold, Reason, Confirm],
            (PaneKind::YesNo, _) => &[Cancel, Reason, Confirm],
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
        if let PaneKind::Pause { terms } | PaneKind::KillSwitch { terms } = &mut self.kind {
            terms.on_expiry = match terms.on_expiry {
                OnExpiry::Stop => OnExpiry::Resume,
                OnExpiry::Resume => OnExpiry::Stop,
            };
        }
    }

    /// The pause's terms as typed, or what is wrong with them.
    fn hold_terms(&self) -> Result<Hold, String> {
        let terms = self.terms().cloned().unwrap_or_default();
        let ms = parse_duration(terms.length.value()).map_err(|e| format!("hold: {e}"))?;
        Hold::new(ms, terms.on_expiry).map_err(|e| format!("hold: {e}"))
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
        self.expected_name() == Some(self.name.value())
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
        if self.is_kill_switch() {
            if let Some(why) = self.kill_switch_not_ready() {
                self.focus = Focus::Name;
                self.hint = Some(why);
                return PaneReply::Nothing;
            }
        } else if self.typed() && !self.name_matches() {
            self.focus = Focus::Name;
            self.hint = Some(format!(
                "type {} exactly to confirm the stop",
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
        if let Some(input) = input {
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

//! The confirmation pane: the only way from a key to a finish or stop.
//! Its default can never commit and it loses no keystroke. A y/n pane
//! (finish) starts on Cancel and commits on `y` or Enter on the confirm
//! button. A typed pane (stop, stop all, kill switch) starts with the cursor
//! in its name field: every printable key lands in a text field, none acts
//! as a button, and Enter commits only when the text matches.

use tui_input::Input;

use crate::domain::time::{Millis, parse_duration};
use crate::domain::{ActionKind, Hold, OnExpiry};
use crate::store::{Impact, OperatorAction, Outcome, Target};

mod keys;

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
    /// The store-wide brake: every version of the store, confirmed by
    /// typing the store's name; a pause on `terms` (the default), or a
    /// stop.
    Brake { terms: HoldTerms, expected: String },
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

    /// The store-wide brake of the store named `name`: pause (by default)
    /// or stop every version of it.
    pub fn brake(name: &str) -> ConfirmPane {
        let mut pane = ConfirmPane::new(OperatorAction {
            kind: ActionKind::Pause(Hold::default()),
            target: Target::Store {
                name: name.to_string(),
            },
            reason: None,
        });
        pane.kind = PaneKind::Brake {
            terms: HoldTerms::default(),
            expected: name.to_string(),
        };
        pane.focus = Focus::Name;
        pane
    }

    pub fn is_brake(&self) -> bool {
        matches!(self.kind, PaneKind::Brake { .. })
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
            PaneKind::TypedName { .. } | PaneKind::KillSwitch { .. } | PaneKind::Brake { .. }
        )
    }

    pub fn is_kill_switch(&self) -> bool {
        matches!(self.kind, PaneKind::KillSwitch { .. })
    }

    /// The name a typed stop wants.
    pub fn expected_name(&self) -> Option<&str> {
        match &self.kind {
            PaneKind::TypedName { expected } | PaneKind::Brake { expected, .. } => Some(expected),
            _ => None,
        }
    }

    /// The pause's terms, where the pane pauses.
    pub fn terms(&self) -> Option<&HoldTerms> {
        match (&self.kind, self.action.kind) {
            (PaneKind::Pause { terms }, _) => Some(terms),
            (PaneKind::KillSwitch { terms }, ActionKind::Pause(_)) => Some(terms),
            (PaneKind::Brake { terms, .. }, ActionKind::Pause(_)) => Some(terms),
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
            (PaneKind::Brake { terms, .. }, ActionKind::Pause(_)) => Some(&mut terms.length),
            _ => None,
        }
    }

    fn order(&self) -> &'static [Focus] {
        use Focus::*;
        match (&self.kind, self.action.kind) {
            (PaneKind::KillSwitch { .. } | PaneKind::Brake { .. }, ActionKind::Pause(_)) => {
                &[Name, Mode, Hold, Expiry, Reason, Confirm, Cancel]
            }
            (PaneKind::KillSwitch { .. } | PaneKind::Brake { .. }, _) => {
                &[Name, Mode, Reason, Confirm, Cancel]
            }
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
        if let PaneKind::Pause { terms }
        | PaneKind::KillSwitch { terms }
        | PaneKind::Brake { terms, .. } = &mut self.kind
        {
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
}

impl super::app::App {
    /// The open pane, if one is.
    pub fn pane(&self) -> Option<&ConfirmPane> {
        match &self.mode {
            super::app::Mode::Pane(p) => Some(p),
            _ => None,
        }
    }

    pub fn pane_mut(&mut self) -> Option<&mut ConfirmPane> {
        match &mut self.mode {
            super::app::Mode::Pane(p) => Some(p),
            _ => None,
        }
    }
}

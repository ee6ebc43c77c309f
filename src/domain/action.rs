//! The one kind of dangerous thing journeyctl does, described once: what
//! it is, which versions it reaches, and what confirming it takes. The
//! console's pane, the CLI's prompt and the store read the rule here.

use super::ActionKind;

/// Which versions an action ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One version; `None` is the journey's live version.
    Version {
        journey: String,
        version: Option<i64>,
    },
    /// Every live or finished version of the journey.
    AllVersions { journey: String },
    /// Every live or finished version, of any journey, that sends through
    /// the action (or a sub-action of that channel).
    UsesAction { action: String },
}

/// The one kind of dangerous thing journeyctl does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorAction {
    pub kind: ActionKind,
    pub target: Target,
    pub reason: Option<String>,
}

impl OperatorAction {
    pub fn describe(&self) -> String {
        let verb = self.kind.verb();
        match &self.target {
            Target::Version {
                journey,
                version: Some(n),
            } => format!("{verb} {journey} v{n}"),
            Target::Version {
                journey,
                version: None,
            } => format!("{verb} the live version of {journey}"),
            Target::AllVersions { journey } => format!("{verb} every version of {journey}"),
            Target::UsesAction { action } if action.is_empty() => {
                format!("kill switch: {verb} every version that uses an action")
            }
            Target::UsesAction { action } => format!("{verb} every version that uses {action}"),
        }
    }
}

impl OperatorAction {
    /// What must be typed to confirm it, where a name must be typed: the
    /// journey (or the action) of a stop. A finish, pause or resume asks
    /// yes or no.
    pub fn typed_name(&self) -> Option<String> {
        (self.kind == ActionKind::Stop).then(|| self.target.name().to_string())
    }

    /// Whether it cannot be undone (a finish or a stop; a pause and a
    /// resume can be).
    pub fn is_final(&self) -> bool {
        self.kind.target_status().is_some()
    }
}

impl Target {
    /// The journey or action it names.
    pub fn name(&self) -> &str {
        match self {
            Target::Version { journey, .. } | Target::AllVersions { journey } => journey,
            Target::UsesAction { action } => action,
        }
    }
}

//! The one kind of dangerous thing journeyctl does, described once: what
//! it is, which versions it reaches, and what confirming it takes. The
//! console's pane, the CLI's prompt and the store read the rule here.

use super::ActionKind;

/// Which versions an action ends.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
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
    /// Every live or finished version of the store: the store-wide brake.
    /// `name` is the store's name, which confirming it takes.
    Store { name: String },
    /// The versions a store-wide brake paused, by its incident id.
    Incident { id: String },
    /// Several journeys at once, each the version named or its live one
    /// (a resume: its paused one), in one transaction; their audit rows
    /// share an incident id. The CLI's `pause a b c`, the console's
    /// marked versions.
    Journeys {
        journeys: Vec<(String, Option<i64>)>,
    },
}

/// The one kind of dangerous thing journeyctl does.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
            Target::Store { name } => format!("{verb} every journey of store {name}"),
            Target::Incident { id } => format!("{verb} every version paused by incident {id}"),
            Target::Journeys { journeys } => {
                let named: Vec<String> = journeys
                    .iter()
                    .map(|(j, v)| match v {
                        Some(n) => format!("{j} v{n}"),
                        None => j.clone(),
                    })
                    .collect();
                format!("{verb} {} journeys: {}", journeys.len(), named.join(", "))
            }
        }
    }
}

impl OperatorAction {
    /// What must be typed to confirm it, where a name must be typed: the
    /// journey (or the action) of a stop, the store's name for anything
    /// done to the whole store. A finish, pause or resume asks yes or no.
    pub fn typed_name(&self) -> Option<String> {
        if let Target::Journeys { journeys } = &self.target {
            // A stop of several: the word and how many (`stop 7`).
            return (self.kind == ActionKind::Stop).then(|| format!("stop {}", journeys.len()));
        }
        let whole_store = matches!(self.target, Target::Store { .. });
        (self.kind == ActionKind::Stop || whole_store).then(|| self.target.name().to_string())
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
            Target::Store { name } => name,
            Target::Incident { id } => id,
            Target::Journeys { journeys } => journeys.first().map_or("", |(j, _)| j.as_str()),
        }
    }
}

/// What an audit row records: an operator's (or a date rule's, or a
/// guardrail's) action, a publish, or a hold that ran out. Rows written by
/// another version of journeyctl may name an action this one does not
/// know: they are kept as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditAction {
    Publish,
    Finish,
    Stop,
    Pause,
    Resume,
    HoldExpired,
    /// A channel's live rate or concurrency set or cleared.
    Rate,
    /// One action held (its messages stay pending), and released.
    Hold,
    Release,
    /// An action set for a time (`--at`), and one taken back
    /// (`unschedule`); one that could no longer apply at its time.
    Schedule,
    Unschedule,
    ScheduleSkipped,
    Other(String),
}

impl AuditAction {
    /// The row an action of `kind` writes.
    pub fn of(kind: ActionKind) -> AuditAction {
        match kind {
            ActionKind::Finish => AuditAction::Finish,
            ActionKind::Stop => AuditAction::Stop,
            ActionKind::Pause(_) => AuditAction::Pause,
            ActionKind::Resume(_) => AuditAction::Resume,
        }
    }

    /// As stored in the audit log and printed by every face.
    pub fn as_str(&self) -> &str {
        match self {
            AuditAction::Publish => "publish",
            AuditAction::Finish => "finish",
            AuditAction::Stop => "stop",
            AuditAction::Pause => "pause",
            AuditAction::Resume => "resume",
            AuditAction::HoldExpired => "hold_expired",
            AuditAction::Rate => "rate",
            AuditAction::Hold => "hold",
            AuditAction::Release => "release",
            AuditAction::Schedule => "schedule",
            AuditAction::Unschedule => "unschedule",
            AuditAction::ScheduleSkipped => "schedule_skipped",
            AuditAction::Other(s) => s,
        }
    }
}

impl From<&str> for AuditAction {
    fn from(s: &str) -> AuditAction {
        [
            AuditAction::Publish,
            AuditAction::Finish,
            AuditAction::Stop,
            AuditAction::Pause,
            AuditAction::Resume,
            AuditAction::HoldExpired,
            AuditAction::Rate,
            AuditAction::Hold,
            AuditAction::Release,
            AuditAction::Schedule,
            AuditAction::Unschedule,
            AuditAction::ScheduleSkipped,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
        .unwrap_or_else(|| AuditAction::Other(s.to_string()))
    }
}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for AuditAction {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl PartialEq<&str> for AuditAction {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Whether a hold of `held` covers `action`: the action itself and its
/// `held:*` (`email` covers `email:welcome`).
pub fn covers(held: &str, action: &str) -> bool {
    action == held
        || action
            .strip_prefix(held)
            .is_some_and(|rest| rest.starts_with(':'))
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn a_hold_covers_the_action_and_its_subactions_only() {
        assert!(covers("email", "email"));
        assert!(covers("email", "email:welcome"));
        assert!(!covers("email", "emails"));
        assert!(!covers("email:welcome", "email"));
        assert!(covers("webhook:crm", "webhook:crm"));
    }
}

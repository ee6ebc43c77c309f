//! Version statuses and the transitions between them (SPEC §2).

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VersionStatus {
    Draft,
    Live,
    Finished,
    Stopped,
}

impl VersionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VersionStatus::Draft => "draft",
            VersionStatus::Live => "live",
            VersionStatus::Finished => "finished",
            VersionStatus::Stopped => "stopped",
        }
    }

    /// Whether the engine still moves participants of a version in this status.
    pub fn runs_steps(self) -> bool {
        matches!(self, VersionStatus::Live | VersionStatus::Finished)
    }

    /// The statuses from which `kind` may move a version.
    pub fn sources(kind: EndKind) -> &'static [VersionStatus] {
        match kind {
            EndKind::Finish => &[VersionStatus::Live],
            EndKind::Stop => &[VersionStatus::Live, VersionStatus::Finished],
        }
    }

    /// Why `kind` may not be applied to a version in this status, or `None`
    /// when the transition is allowed.
    pub fn refusal(self, kind: EndKind) -> Option<&'static str> {
        match (self, kind) {
            (VersionStatus::Live, _) | (VersionStatus::Finished, EndKind::Stop) => None,
            (VersionStatus::Draft, _) => {
                Some("a draft can only be published; it has never taken entries")
            }
            (VersionStatus::Finished, EndKind::Finish) => Some("it is already finished"),
            (VersionStatus::Stopped, EndKind::Finish) => {
                Some("it is already stopped and a stopped version cannot be finished")
            }
            (VersionStatus::Stopped, EndKind::Stop) => Some("it is already stopped"),
        }
    }
}

impl fmt::Display for VersionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VersionStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "draft" => Ok(VersionStatus::Draft),
            "live" => Ok(VersionStatus::Live),
            "finished" => Ok(VersionStatus::Finished),
            "stopped" => Ok(VersionStatus::Stopped),
            other => Err(format!("unknown version status {other:?}")),
        }
    }
}

/// The two ways an operator ends a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndKind {
    /// No new entries; participants inside carry on.
    Finish,
    /// Everyone halted now; pending messages cancelled.
    Stop,
}

impl EndKind {
    pub fn verb(self) -> &'static str {
        match self {
            EndKind::Finish => "finish",
            EndKind::Stop => "stop",
        }
    }

    pub fn target_status(self) -> VersionStatus {
        match self {
            EndKind::Finish => VersionStatus::Finished,
            EndKind::Stop => VersionStatus::Stopped,
        }
    }
}

/// The state of one participant, as stored. A participant stored as
/// `active` in a stopped version is effectively `stopped`: see
/// [`effective_state`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParticipantState {
    Active,
    Completed,
    Exited,
    Stopped,
}

impl ParticipantState {
    pub fn as_str(self) -> &'static str {
        match self {
            ParticipantState::Active => "active",
            ParticipantState::Completed => "completed",
            ParticipantState::Exited => "exited",
            ParticipantState::Stopped => "stopped",
        }
    }
}

impl FromStr for ParticipantState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(ParticipantState::Active),
            "completed" => Ok(ParticipantState::Completed),
            "exited" => Ok(ParticipantState::Exited),
            "stopped" => Ok(ParticipantState::Stopped),
            other => Err(format!("unknown participant state {other:?}")),
        }
    }
}

/// A stop commits by changing the version row only, so it costs the same for
/// ten or a million participants; rows still marked `active` in a stopped
/// version are stopped from that moment.
pub fn effective_state(stored: ParticipantState, version: VersionStatus) -> ParticipantState {
    if stored == ParticipantState::Active && version == VersionStatus::Stopped {
        ParticipantState::Stopped
    } else {
        stored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_live_can_finish_and_live_or_finished_can_stop() {
        use VersionStatus::*;
        for s in [Draft, Live, Finished, Stopped] {
            assert_eq!(s.refusal(EndKind::Finish).is_none(), s == Live, "{s}");
            assert_eq!(
                s.refusal(EndKind::Stop).is_none(),
                matches!(s, Live | Finished),
                "{s}"
            );
            assert_eq!(
                VersionStatus::sources(EndKind::Stop).contains(&s),
                s.refusal(EndKind::Stop).is_none()
            );
            assert_eq!(s.as_str().parse::<VersionStatus>(), Ok(s));
        }
    }

    #[test]
    fn active_rows_of_a_stopped_version_are_stopped() {
        assert_eq!(
            effective_state(ParticipantState::Active, VersionStatus::Stopped),
            ParticipantState::Stopped
        );
        assert_eq!(
            effective_state(ParticipantState::Completed, VersionStatus::Stopped),
            ParticipantState::Completed
        );
        assert_eq!(
            effective_state(ParticipantState::Active, VersionStatus::Finished),
            ParticipantState::Active
        );
    }
}

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

    /// The statuses in which `kind` may act on a version.
    pub fn sources(kind: ActionKind) -> &'static [VersionStatus] {
        match kind {
            ActionKind::Finish => &[VersionStatus::Live],
            _ => &[VersionStatus::Live, VersionStatus::Finished],
        }
    }

    /// Why `kind` may not be applied to a version in this status, or `None`
    /// when the transition is allowed.
    pub fn refusal(self, kind: ActionKind) -> Option<&'static str> {
        match (self, kind) {
            (VersionStatus::Live, _) => None,
            (VersionStatus::Finished, ActionKind::Finish) => Some("it is already finished"),
            (VersionStatus::Finished, _) => None,
            (VersionStatus::Draft, _) => {
                Some("a draft can only be published; it has never taken entries")
            }
            (VersionStatus::Stopped, ActionKind::Finish) => {
                Some("it is already stopped and a stopped version cannot be finished")
            }
            (VersionStatus::Stopped, ActionKind::Stop) => Some("it is already stopped"),
            (VersionStatus::Stopped, _) => Some("it is stopped, and a stop cannot be undone"),
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

/// What an operator does to a version: end it (finish, stop) or hold it
/// (pause, resume).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ActionKind {
    /// No new entries; participants inside carry on.
    Finish,
    /// Everyone halted now; pending messages cancelled.
    Stop,
    /// Held: no entries, no messages, waits elapse; reversible.
    Pause(Hold),
    /// The hold ends: held participants and messages go on, overdue
    /// messages as chosen.
    Resume(Overdue),
}

impl ActionKind {
    pub fn verb(self) -> &'static str {
        match self {
            ActionKind::Finish => "finish",
            ActionKind::Stop => "stop",
            ActionKind::Pause(_) => "pause",
            ActionKind::Resume(_) => "resume",
        }
    }

    /// The status a finish or stop moves a version to (a pause and a
    /// resume leave the status as it is).
    pub fn target_status(self) -> Option<VersionStatus> {
        match self {
            ActionKind::Finish => Some(VersionStatus::Finished),
            ActionKind::Stop => Some(VersionStatus::Stopped),
            ActionKind::Pause(_) | ActionKind::Resume(_) => None,
        }
    }

    /// Whether no delivery of the version may start once it commits (and
    /// none may be in flight when it does).
    pub fn halts_delivery(self) -> bool {
        matches!(self, ActionKind::Stop | ActionKind::Pause(_))
    }

    /// Why it cannot act on a version that is (or is not) paused: a pause
    /// needs one that is not, a resume one that is.
    pub fn hold_refusal(self, paused: bool) -> Option<&'static str> {
        match self {
            ActionKind::Pause(_) if paused => Some("it is already paused"),
            ActionKind::Resume(_) if !paused => Some("it is not paused"),
            _ => None,
        }
    }

    pub fn is_pause(self) -> bool {
        matches!(self, ActionKind::Pause(_))
    }
}

/// What a resume does with messages that fell due while the version was
/// held: send them now, skip them (cancelled, counted as overdue), or
/// spread them evenly over a time.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum Overdue {
    #[default]
    Send,
    Skip,
    /// Over this many milliseconds.
    Spread(i64),
}

impl Overdue {
    /// `send`, `skip`, or `spread=30m` (also `spread 30m`, `spread:30m`).
    pub fn parse(text: &str) -> Result<Overdue, String> {
        let text = text.trim();
        let bad =
            || format!("{text:?}: expected send, skip or spread=DURATION (for example spread=30m)");
        match text {
            "send" => return Ok(Overdue::Send),
            "skip" => return Ok(Overdue::Skip),
            _ => {}
        }
        let rest = text.strip_prefix("spread").ok_or_else(bad)?;
        let dur = rest.trim_start_matches([' ', '=', ':']);
        if dur.is_empty() {
            return Err(bad());
        }
        let ms = super::time::parse_duration(dur).map_err(|e| format!("spread: {e}"))?;
        if !(60_000..=7 * 86_400_000).contains(&ms) {
            return Err(format!("spread {dur}: must be 1m to 7d"));
        }
        Ok(Overdue::Spread(ms))
    }

    /// `send`, `skip`, `spread 30m`: as the audit row keeps it.
    pub fn words(self) -> String {
        match self {
            Overdue::Send => "send".into(),
            Overdue::Skip => "skip".into(),
            Overdue::Spread(ms) => format!(
                "spread {}",
                humantime::format_duration(std::time::Duration::from_millis(ms as u64))
            ),
        }
    }
}

/// What happens when a hold runs out.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
pub enum OnExpiry {
    #[default]
    Stop,
    Resume,
}

impl OnExpiry {
    pub fn as_str(self) -> &'static str {
        match self {
            OnExpiry::Stop => "stop",
            OnExpiry::Resume => "resume",
        }
    }
}

impl FromStr for OnExpiry {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "stop" => Ok(OnExpiry::Stop),
            "resume" => Ok(OnExpiry::Resume),
            other => Err(format!("{other:?} is not an expiry rule (stop or resume)")),
        }
    }
}

/// A pause's terms: how long it holds, and what happens then.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Hold {
    pub millis: i64,
    pub on_expiry: OnExpiry,
}

impl Hold {
    /// Three days, as the vendors' shortest.
    pub const DEFAULT_MS: i64 = 3 * 24 * 3_600_000;
    /// Thirty days at most: a hold is not a way to park a journey forever.
    pub const MAX_MS: i64 = 30 * 24 * 3_600_000;

    pub fn new(millis: i64, on_expiry: OnExpiry) -> Result<Hold, String> {
        if millis <= 0 {
            return Err("the hold must be longer than 0".into());
        }
        if millis > Hold::MAX_MS {
            return Err("the hold is at most 30 days (30d)".into());
        }
        Ok(Hold { millis, on_expiry })
    }
}

impl Default for Hold {
    fn default() -> Hold {
        Hold {
            millis: Hold::DEFAULT_MS,
            on_expiry: OnExpiry::Stop,
        }
    }
}

/// A version as an operator sees it: a finished version is told apart by
/// whether anyone is still inside. The one home of what "draining" and
/// "drained" mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Live,
    /// Finished, with this many active participants still going.
    Draining(i64),
    /// Finished, and nobody is left inside.
    Drained,
    Stopped,
    Draft,
}

impl Shown {
    pub fn of(status: VersionStatus, active: i64) -> Shown {
        match status {
            VersionStatus::Live => Shown::Live,
            VersionStatus::Finished if active > 0 => Shown::Draining(active),
            VersionStatus::Finished => Shown::Drained,
            VersionStatus::Stopped => Shown::Stopped,
            VersionStatus::Draft => Shown::Draft,
        }
    }

    /// Whether it is on the main screen by default: it takes entries or
    /// still has people inside.
    pub fn running(self) -> bool {
        matches!(self, Shown::Live | Shown::Draining(_))
    }

    /// Order on the main screen: live first, then draining, drained,
    /// stopped, drafts.
    pub fn rank(self) -> u8 {
        match self {
            Shown::Live => 0,
            Shown::Draining(_) => 1,
            Shown::Drained => 2,
            Shown::Stopped => 3,
            Shown::Draft => 4,
        }
    }

    /// The symbol that goes with the words, so colour is never the only
    /// signal.
    pub fn symbol(self) -> &'static str {
        match self {
            Shown::Live => "●",
            Shown::Draining(_) => "◐",
            Shown::Drained => "○",
            Shown::Stopped => "■",
            Shown::Draft => "✎",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_live_can_finish_and_live_or_finished_can_stop() {
        use VersionStatus::*;
        for s in [Draft, Live, Finished, Stopped] {
            assert_eq!(s.refusal(ActionKind::Finish).is_none(), s == Live, "{s}");
            assert_eq!(
                s.refusal(ActionKind::Stop).is_none(),
                matches!(s, Live | Finished),
                "{s}"
            );
            assert_eq!(
                VersionStatus::sources(ActionKind::Stop).contains(&s),
                s.refusal(ActionKind::Stop).is_none()
            );
            assert_eq!(s.as_str().parse::<VersionStatus>(), Ok(s));
        }
    }

    #[test]
    fn finished_versions_drain_then_are_drained() {
        use VersionStatus::*;
        assert_eq!(Shown::of(Finished, 12), Shown::Draining(12));
        assert_eq!(Shown::of(Finished, 0), Shown::Drained);
        assert_eq!(Shown::of(Stopped, 0), Shown::Stopped);
        assert!(Shown::of(Live, 0).running() && Shown::of(Finished, 1).running());
        assert!(!Shown::of(Finished, 0).running() && !Shown::of(Draft, 0).running());
    }
}

/// The operator did not confirm an action: nothing was changed. On the
/// command line without a terminal, `needs_yes` names the action that
/// needed `--yes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotConfirmed {
    pub needs_yes: Option<String>,
}

impl std::error::Error for NotConfirmed {}

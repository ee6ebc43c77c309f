//! Actions at a time (`--at`): what an operator asked to happen later,
//! kept in the store until the engine carries it out through the same
//! call as the command, or it is taken back.

use super::time::{Millis, parse_duration, parse_rfc3339};
use super::{OperatorAction, Overdue};

/// An operator's command, kept to be carried out at its time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// A finish, stop, pause or resume, on the versions it names.
    Act(OperatorAction),
    /// Publish the journey's newest draft (the live version finishes).
    Publish {
        journey: String,
        reason: Option<String>,
    },
    /// Hold one action, for a while from the moment it is carried out.
    Hold {
        action: String,
        for_ms: Option<i64>,
        /// At the end of `for_ms`: `release` or `cancel`.
        on_expiry: String,
        reason: Option<String>,
    },
    /// Release a held action, its overdue messages as chosen.
    Release {
        action: String,
        overdue: Overdue,
        reason: Option<String>,
    },
}

impl Intent {
    /// `finish`, `stop`, `pause`, `resume`, `publish`, `hold`, `release`.
    pub fn verb(&self) -> &'static str {
        match self {
            Intent::Act(a) => a.kind.verb(),
            Intent::Publish { .. } => "publish",
            Intent::Hold { .. } => "hold",
            Intent::Release { .. } => "release",
        }
    }

    /// What it does, in the words of a confirmation (`stop sale v2`,
    /// `hold webhook:crm`, `publish sale`).
    pub fn describe(&self) -> String {
        match self {
            Intent::Act(a) => a.describe(),
            Intent::Publish { journey, .. } => format!("publish {journey}"),
            Intent::Hold { action, .. } => format!("hold {action}"),
            Intent::Release { action, .. } => format!("release {action}"),
        }
    }

    /// The journey it acts on, where it acts on one (the console shows
    /// the schedule on that journey's row).
    pub fn journey(&self) -> Option<&str> {
        use super::Target;
        match self {
            Intent::Act(a) => match &a.target {
                Target::Version { journey, .. } | Target::AllVersions { journey } => Some(journey),
                _ => None,
            },
            Intent::Publish { journey, .. } => Some(journey),
            Intent::Hold { .. } | Intent::Release { .. } => None,
        }
    }

    /// The version it names, where it names one.
    pub fn version(&self) -> Option<i64> {
        match self {
            Intent::Act(OperatorAction {
                target: super::Target::Version { version, .. },
                ..
            }) => *version,
            _ => None,
        }
    }

    /// The operator's reason, written to the audit rows.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Intent::Act(a) => a.reason.as_deref(),
            Intent::Publish { reason, .. }
            | Intent::Hold { reason, .. }
            | Intent::Release { reason, .. } => reason.as_deref(),
        }
    }
}

/// The furthest ahead an action can be set: a year.
pub const MOST_AHEAD_MS: Millis = 366 * 24 * 3_600_000;

/// `--at`: an RFC 3339 time (`2026-12-24T23:59:00Z`) or a time from now
/// (`+30m`, `+1h30m`); it must lie ahead of `now`, and within a year.
pub fn parse_at(text: &str, now: Millis) -> Result<Millis, String> {
    let text = text.trim();
    let at = match text.strip_prefix('+') {
        Some(d) => now.saturating_add(parse_duration(d)?),
        None => parse_rfc3339(text)
            .map_err(|_| format!("{text:?} is neither an RFC 3339 time nor +DURATION (+30m)"))?,
    };
    if at <= now {
        return Err(format!(
            "{} is in the past: give a time ahead (or act now without --at)",
            super::time::to_rfc3339(at)
        ));
    }
    if at - now > MOST_AHEAD_MS {
        return Err("is more than a year ahead".into());
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ActionKind, Target};

    #[test]
    fn a_time_is_read_as_rfc3339_or_from_now() {
        let now = parse_rfc3339("2026-12-24T12:00:00Z").unwrap();
        assert_eq!(parse_at("+30m", now), Ok(now + 1_800_000));
        assert_eq!(
            parse_at("2026-12-24T23:59:00Z", now),
            parse_rfc3339("2026-12-24T23:59:00Z")
        );
        assert!(
            parse_at("2026-12-24T11:00:00Z", now)
                .unwrap_err()
                .contains("in the past")
        );
        assert!(parse_at("tomorrow", now).unwrap_err().contains("RFC 3339"));
        assert!(parse_at("+3y", now).is_err());
        assert!(parse_at("+400d", now).unwrap_err().contains("a year"));
    }

    #[test]
    fn an_intent_is_kept_as_json_and_read_back_the_same() {
        let stop = Intent::Act(OperatorAction {
            kind: ActionKind::Stop,
            target: Target::Version {
                journey: "sale".into(),
                version: Some(2),
            },
            reason: Some("flash sale ends".into()),
        });
        let kept = serde_json::to_string(&stop).unwrap();
        assert_eq!(serde_json::from_str::<Intent>(&kept).unwrap(), stop);
        assert_eq!(stop.describe(), "stop sale v2");
        assert_eq!(stop.journey(), Some("sale"));
        let release = Intent::Release {
            action: "webhook:crm".into(),
            overdue: Overdue::Spread(1_800_000),
            reason: None,
        };
        let kept = serde_json::to_string(&release).unwrap();
        assert_eq!(serde_json::from_str::<Intent>(&kept).unwrap(), release);
        assert_eq!(release.journey(), None);
    }
}

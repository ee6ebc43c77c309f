//! An operator's action as the command that does the same from a shell
//! (`journeyctl stop cart --version 2 --reason 'wrong list' --yes`): the
//! console shows it with each outcome and copies it with `Y`.

use crate::domain::{ActionKind, Overdue};
use crate::store::{OperatorAction, Target};

/// The command line of the action, each word quoted for a POSIX shell
/// where it needs it. Marked versions of several journeys, which one
/// command names only by their live versions, are one command each,
/// joined by `&&` (each its own transaction).
pub fn cli_line(action: &OperatorAction) -> String {
    if let Target::Journeys { journeys } = &action.target
        && journeys.iter().any(|(_, v)| v.is_some())
    {
        return journeys
            .iter()
            .map(|(journey, version)| {
                cli_line(&OperatorAction {
                    target: Target::Version {
                        journey: journey.clone(),
                        version: *version,
                    },
                    ..action.clone()
                })
            })
            .collect::<Vec<_>>()
            .join(" && ");
    }
    let mut words: Vec<String> = vec!["journeyctl".into(), verb(action.kind).into()];
    words.extend(target_words(&action.target));
    match action.kind {
        ActionKind::Pause(hold) => {
            words.push("--hold".into());
            words.push(duration(hold.millis));
            words.push("--on-expiry".into());
            words.push(hold.on_expiry.as_str().into());
        }
        ActionKind::Resume(overdue) => {
            words.push("--overdue".into());
            words.push(overdue_word(overdue));
        }
        ActionKind::Finish | ActionKind::Stop => {}
    }
    if let Some(r) = action.reason.as_deref().filter(|r| !r.trim().is_empty()) {
        words.push("--reason".into());
        words.push(r.to_string());
    }
    words.push("--yes".into());
    words
        .iter()
        .map(|w| quoted(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Words of a command line, each quoted for a shell as above.
pub fn cli_words<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| quoted(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `journeyctl publish JOURNEY [--reason R] --yes`, quoted as above.
pub fn publish_line(journey: &str, reason: Option<&str>) -> String {
    let mut words = vec!["journeyctl", "publish", journey];
    if let Some(r) = reason.filter(|r| !r.trim().is_empty()) {
        words.extend(["--reason", r]);
    }
    words.push("--yes");
    words
        .iter()
        .map(|w| quoted(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `journeyctl rate --action email 50/s --concurrency 4 --reason R`, or
/// `... --clear` (`limits` `None`).
pub fn rate_line(
    action: &str,
    limits: Option<crate::store::LiveLimits>,
    reason: Option<&str>,
) -> String {
    let mut words: Vec<String> = vec!["journeyctl".into(), "rate".into(), "--action".into()];
    words.push(action.into());
    match limits {
        None => words.push("--clear".into()),
        Some(l) => {
            words.extend(l.rate.map(|r| r.to_string()));
            if let Some(c) = l.concurrency {
                words.extend(["--concurrency".into(), c.to_string()]);
            }
        }
    }
    if let Some(r) = reason.filter(|r| !r.trim().is_empty()) {
        words.extend(["--reason".into(), r.into()]);
    }
    words
        .iter()
        .map(|w| quoted(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `journeyctl hold --action webhook:crm --for 4h --reason R --yes`
/// (`how`: `Err(for)`), or `journeyctl release --action webhook:crm
/// --overdue skip --yes` (`Ok(overdue)`).
pub fn hold_line(
    action: &str,
    how: Result<Overdue, (Option<i64>, crate::store::HoldExpiry)>,
    reason: Option<&str>,
) -> String {
    let verb = if how.is_ok() { "release" } else { "hold" };
    let mut words: Vec<String> = vec!["journeyctl".into(), verb.into(), "--action".into()];
    words.push(action.into());
    match how {
        Err((Some(ms), expiry)) => {
            words.push("--for".into());
            words.push(duration(ms));
            if expiry == crate::store::HoldExpiry::Cancel {
                words.extend(["--on-expiry".into(), "cancel".into()]);
            }
        }
        Ok(Overdue::Send) | Err((None, _)) => {}
        Ok(overdue) => {
            words.push("--overdue".into());
            words.push(overdue_word(overdue));
        }
    }
    if let Some(r) = reason.filter(|r| !r.trim().is_empty()) {
        words.extend(["--reason".into(), r.into()]);
    }
    words.push("--yes".into());
    words
        .iter()
        .map(|w| quoted(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `send`, `skip`, `spread=30m`: as `--overdue` takes it.
fn overdue_word(overdue: Overdue) -> String {
    match overdue {
        Overdue::Send => "send".into(),
        Overdue::Skip => "skip".into(),
        Overdue::Spread(ms) => format!("spread={}", duration(ms)),
    }
}

fn verb(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Finish => "finish",
        ActionKind::Stop => "stop",
        ActionKind::Pause(_) => "pause",
        ActionKind::Resume(_) => "resume",
    }
}

fn target_words(target: &Target) -> Vec<String> {
    match target {
        Target::Version { journey, version } => {
            let mut w = vec![journey.clone()];
            if let Some(n) = version {
                w.extend(["--version".into(), n.to_string()]);
            }
            w
        }
        Target::AllVersions { journey } => vec![journey.clone(), "--all-versions".into()],
        Target::UsesAction { action } => vec!["--uses-action".into(), action.clone()],
        Target::Store { .. } => vec!["--all".into()],
        Target::Incident { id } => vec!["--incident".into(), id.clone()],
        Target::Journeys { journeys } => journeys.iter().map(|(j, _)| j.clone()).collect(),
    }
}

/// A duration as the CLI reads it, in the largest unit that divides it.
fn duration(ms: i64) -> String {
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if ms > 0 && ms % size == 0 {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

/// A word as a POSIX shell reads it back: as it is when it needs no
/// quoting, else in single quotes (a quote in it as `'\''`).
fn quoted(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/=@%+,".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

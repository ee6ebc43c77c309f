//! `journeyctl finish` and `journeyctl stop`: the impact, a confirmation
//! on a terminal (a typed name for a stop), then the same library call as
//! the console's.

use std::io::{IsTerminal, Write};

use super::Command;
use crate::domain::EndKind;
use crate::domain::time::now_millis;
use crate::store::{Actor, Error, OperatorAction, Store, Target};

/// The finish or stop a command asks for, and whether it said `--yes`.
pub(super) fn action_of(command: Command) -> anyhow::Result<(OperatorAction, bool)> {
    Ok(match command {
        Command::Finish {
            journey,
            version,
            reason,
            yes,
        } => {
            let target = Target::Version { journey, version };
            let kind = EndKind::Finish;
            (
                OperatorAction {
                    kind,
                    target,
                    reason,
                },
                yes,
            )
        }
        Command::Stop {
            journey,
            version,
            all_versions,
            uses_action,
            reason,
            yes,
        } => {
            let target = match (uses_action, journey) {
                (Some(action), _) => Target::UsesAction { action },
                (None, Some(journey)) if all_versions => Target::AllVersions { journey },
                (None, Some(journey)) => Target::Version { journey, version },
                (None, None) => anyhow::bail!("name a journey, or use --uses-action ACTION"),
            };
            let kind = EndKind::Stop;
            (
                OperatorAction {
                    kind,
                    target,
                    reason,
                },
                yes,
            )
        }
        _ => anyhow::bail!("not a finish or a stop"),
    })
}

pub(super) async fn end_command(
    store: &Store,
    action: &OperatorAction,
    actor: &Actor,
    yes: bool,
) -> anyhow::Result<()> {
    let impact = store.preview(action).await?;
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(Error::Refused(format!(
                "not confirmed: {} needs --yes when there is no terminal to ask on",
                action.describe()
            ))
            .into());
        }
        let mut err = std::io::stderr();
        writeln!(err, "About to {}:", action.describe())?;
        for v in &impact.versions {
            writeln!(err, "  {}", crate::present::impact_line(action.kind, v))?;
        }
        writeln!(err, "This cannot be undone.")?;
        let expected = match (&action.kind, &action.target) {
            (EndKind::Finish, _) => None,
            (EndKind::Stop, Target::UsesAction { action }) => Some(action.clone()),
            (EndKind::Stop, Target::Version { journey, .. } | Target::AllVersions { journey }) => {
                Some(journey.clone())
            }
        };
        match &expected {
            Some(name) => write!(err, "Type {name} to confirm: ")?,
            None => write!(err, "Finish? [y/N] ")?,
        }
        err.flush()?;
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        let answer = answer.trim();
        let ok = match &expected {
            Some(name) => answer == name,
            None => answer.eq_ignore_ascii_case("y") || answer.eq_ignore_ascii_case("yes"),
        };
        if !ok {
            return Err(Error::Refused("not confirmed: nothing was changed".into()).into());
        }
    }
    // A stop waits for deliveries in flight (at most their channel's
    // time-out); say so rather than hang silently.
    let watch = |n: i64| {
        eprintln!("waiting for {n} delivery(ies) in flight to finish before the stop commits …");
    };
    let outcome = store
        .execute_watching(action, actor, now_millis(), &watch)
        .await?;
    println!("{}", outcome.summary());
    Ok(())
}

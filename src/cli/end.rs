//! `journeyctl finish`, `stop`, `pause` and `resume`: the impact, a
//! confirmation on a terminal (a typed name for a stop, y/N otherwise),
//! then the same library call as the console's.

use std::io::{IsTerminal, Write};

use clap::Args;

use super::args;
use crate::domain::time::now_millis;
use crate::domain::{ActionKind, Hold, NotConfirmed, Overdue};
use crate::store::{Actor, Error, OperatorAction, Store, Target};

/// What a command asks for: the action, whether it said `--yes`, and
/// whether a resume left its overdue messages to be asked about.
pub(super) struct Asked {
    pub action: OperatorAction,
    pub yes: bool,
    pub ask_overdue: bool,
}

impl args::Finish {
    /// The finish this command asks for.
    pub(super) fn asked(self) -> anyhow::Result<Asked> {
        let target = journeys_target(self.journeys, self.version, false)?;
        asked(ActionKind::Finish, target, self.reason, self.yes, false)
    }
}

impl args::Stop {
    /// The stop this command asks for; `store` is the store's name.
    pub(super) fn asked(self, store: &str) -> anyhow::Result<Asked> {
        let target = target_of(self.target, store)?;
        asked(ActionKind::Stop, target, self.reason, self.yes, false)
    }
}

impl args::Pause {
    pub(super) fn asked(self, store: &str) -> anyhow::Result<Asked> {
        let target = target_of(self.target, store)?;
        let millis = i64::try_from(self.hold.as_millis()).unwrap_or(i64::MAX);
        let on_expiry = self.on_expiry.parse().map_err(anyhow::Error::msg)?;
        let hold = Hold::new(millis, on_expiry).map_err(|e| anyhow::anyhow!("--hold: {e}"))?;
        asked(
            ActionKind::Pause(hold),
            target,
            self.reason,
            self.yes,
            false,
        )
    }
}

impl args::Resume {
    pub(super) fn asked(self, store: &str) -> anyhow::Result<Asked> {
        let target = target_of(self.target, store)?;
        let ask_overdue = self.overdue.is_none();
        let overdue = match self.overdue {
            Some(o) => Overdue::parse(&o).map_err(|e| anyhow::anyhow!("--overdue {e}"))?,
            None => Overdue::Send,
        };
        let kind = ActionKind::Resume(overdue);
        asked(kind, target, self.reason, self.yes, ask_overdue)
    }
}

/// What a command asks for, its reason checked.
fn asked(
    kind: ActionKind,
    target: Target,
    reason: Option<String>,
    yes: bool,
    ask_overdue: bool,
) -> anyhow::Result<Asked> {
    if let Some(r) = &reason {
        crate::domain::text::refuse_bad_reason(r).map_err(Error::Invalid)?;
    }
    Ok(Asked {
        action: OperatorAction {
            kind,
            target,
            reason,
        },
        yes,
        ask_overdue,
    })
}

/// `JOURNEY [--version N | --all-versions]`, `--uses-action ACTION`,
/// `--all` (every version of the store, named `store`) or `--incident ID`.
fn target_of(t: args::TargetArgs, store: &str) -> anyhow::Result<Target> {
    Ok(match (t.uses_action, t.incident) {
        _ if t.all => Target::Store {
            name: store.to_string(),
        },
        (_, Some(id)) => Target::Incident { id },
        (Some(action), None) => Target::UsesAction { action },
        (None, None) if t.journeys.is_empty() => {
            anyhow::bail!("name a journey, or use --uses-action ACTION, --all or --incident ID")
        }
        (None, None) => journeys_target(t.journeys, t.version, t.all_versions)?,
    })
}

/// `JOURNEY [--version N | --all-versions]`, or several journeys (each
/// its live version, or a resume's paused one).
fn journeys_target(
    mut journeys: Vec<String>,
    version: Option<i64>,
    all_versions: bool,
) -> anyhow::Result<Target> {
    if journeys.len() > 1 {
        if version.is_some() || all_versions {
            anyhow::bail!(
                "--version and --all-versions name one journey's versions; several journeys act on each one's live version"
            );
        }
        let journeys = journeys.into_iter().map(|j| (j, None)).collect();
        return Ok(Target::Journeys { journeys });
    }
    let journey = journeys
        .pop()
        .ok_or_else(|| anyhow::anyhow!("name a journey"))?;
    Ok(if all_versions {
        Target::AllVersions { journey }
    } else {
        Target::Version { journey, version }
    })
}

pub(super) async fn end_command(
    store: &Store,
    asked: Asked,
    actor: &Actor,
    lock_timeout: Option<std::time::Duration>,
) -> anyhow::Result<()> {
    let Asked {
        mut action,
        yes,
        ask_overdue,
    } = asked;
    let impact = store.preview(&action).await?;
    if ask_overdue && old_overdue(&impact) {
        action.kind = ActionKind::Resume(ask_about_overdue(&impact, yes)?);
    }
    let action = &action;
    if !yes {
        confirm_on_terminal(action, &impact)?;
    }
    // A stop waits for deliveries in flight (at most their channel's
    // time-out); say so rather than hang silently.
    let watch = |w: crate::store::Waiting| {
        eprintln!(
            "{}",
            crate::present::waiting_line(&w, "Ctrl-C or --lock-timeout gives up")
        );
    };
    let give_up = async {
        match lock_timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    let outcome = store
        .execute_until(action, actor, now_millis(), &watch, give_up)
        .await
        .map_err(|e| match (e, lock_timeout) {
            (Error::GaveUp, Some(t)) => anyhow::anyhow!(
                "gave up after --lock-timeout {}: the action did not run, nothing was changed",
                crate::domain::time::duration_words(t)
            ),
            (e, _) => e.into(),
        })?;
    println!("{}", crate::present::outcome_summary(&outcome));
    Ok(())
}

/// Whether a resume would send messages that fell due over an hour ago.
fn old_overdue(impact: &crate::store::Impact) -> bool {
    let now = now_millis();
    impact
        .versions
        .iter()
        .filter_map(|v| v.overdue_since)
        .any(|since| now - since > 3_600_000)
}

/// Asks what to do with the overdue messages on a terminal; with `--yes`
/// (or no terminal) they are sent, and that is said.
fn ask_about_overdue(impact: &crate::store::Impact, yes: bool) -> anyhow::Result<Overdue> {
    let n: i64 = impact.versions.iter().map(|v| v.overdue).sum();
    let oldest = impact.versions.iter().filter_map(|v| v.overdue_since).min();
    let ago = oldest.map_or(String::new(), |t| {
        format!(", the oldest {}", crate::domain::time::ago(now_millis(), t))
    });
    let mut err = std::io::stderr();
    if yes || !std::io::stdin().is_terminal() {
        writeln!(
            err,
            "{} message(s) fell due during the hold{ago}: they go out now (--overdue skip or spread=DUR to choose otherwise)",
            crate::present::thousands(n)
        )?;
        return Ok(Overdue::Send);
    }
    loop {
        write!(
            err,
            "{} message(s) fell due during the hold{ago}. Send them now, skip them, or spread them? \
             [send/skip/spread=DUR] (send): ",
            crate::present::thousands(n)
        )?;
        err.flush()?;
        let mut answer = String::new();
        if std::io::stdin().read_line(&mut answer)? == 0 {
            return Err(NotConfirmed { needs_yes: None }.into());
        }
        match answer.trim() {
            "" => return Ok(Overdue::Send),
            text => match Overdue::parse(text) {
                Ok(o) => return Ok(o),
                Err(e) => writeln!(err, "{e}")?,
            },
        }
    }
}

/// Shows the impact and asks on the terminal: the name typed for a stop,
/// y/N otherwise. Refused without a terminal, or when not confirmed.
fn confirm_on_terminal(
    action: &OperatorAction,
    impact: &crate::store::Impact,
) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(NotConfirmed {
            needs_yes: Some(action.describe()),
        }
        .into());
    }
    let mut err = std::io::stderr();
    writeln!(err, "About to {}:", action.describe())?;
    // A store-wide brake reaches hundreds of versions: the first ones,
    // then the whole in one line.
    const LISTED: usize = 20;
    for v in impact.versions.iter().take(LISTED) {
        writeln!(err, "  {}", crate::present::impact_line(action.kind, v))?;
    }
    if impact.versions.len() > LISTED {
        writeln!(err, "  … and {} more", impact.versions.len() - LISTED)?;
    }
    if impact.versions.len() > 1 {
        writeln!(
            err,
            "In all: {} version(s), {} active participant(s), {} pending message(s)",
            impact.versions.len(),
            crate::present::thousands(impact.active()),
            crate::present::thousands(impact.pending()),
        )?;
    }
    if action.is_final() {
        writeln!(err, "{}", crate::present::CANNOT_BE_UNDONE)?;
    }
    ask(action.typed_name().as_deref(), action.kind.verb())
}

/// Asks on the terminal: `name` typed exactly where one is given, else
/// y/N (`Stop? [y/N]` from `verb`). `NotConfirmed` otherwise.
pub(super) fn ask(name: Option<&str>, verb: &str) -> anyhow::Result<()> {
    let mut err = std::io::stderr();
    match name {
        Some(name) => write!(err, "Type {name} to confirm: ")?,
        None => {
            let mut chars = verb.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase()).unwrap_or(' ');
            write!(err, "{first}{}? [y/N] ", chars.as_str())?
        }
    }
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    let answer = answer.trim();
    let ok = match name {
        Some(name) => answer == name,
        None => answer.eq_ignore_ascii_case("y") || answer.eq_ignore_ascii_case("yes"),
    };
    if !ok {
        return Err(NotConfirmed { needs_yes: None }.into());
    }
    Ok(())
}

/// What `publish` (or `apply --publish`) was asked to do.
pub(super) struct PublishAsked<'a> {
    pub journey: &'a str,
    pub reason: Option<&'a str>,
    pub yes: bool,
    /// Ask even when nothing is live (`publish`); `apply --publish` asks
    /// only when it would finish a live version.
    pub always: bool,
}

/// Shows what publishing the newest draft does and asks on a terminal
/// (without one it needs `--yes`), then publishes.
pub(super) async fn publish_command(
    store: &Store,
    asked: PublishAsked<'_>,
    actor: &Actor,
    now: crate::domain::Millis,
) -> anyhow::Result<()> {
    let impact = store.publish_preview(asked.journey).await?;
    if !asked.yes && (asked.always || impact.finishes.is_some()) {
        let what = format!("publish {} v{}", impact.journey, impact.draft);
        if !std::io::stdin().is_terminal() {
            return Err(NotConfirmed {
                needs_yes: Some(what),
            }
            .into());
        }
        let mut err = std::io::stderr();
        writeln!(err, "About to {what}:")?;
        for line in crate::present::publish_lines(&impact) {
            writeln!(err, "  {line}")?;
        }
        write!(err, "Publish? [y/N] ")?;
        err.flush()?;
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        let answer = answer.trim();
        if !(answer.eq_ignore_ascii_case("y") || answer.eq_ignore_ascii_case("yes")) {
            return Err(NotConfirmed { needs_yes: None }.into());
        }
    }
    let n = store
        .publish_because(asked.journey, actor, asked.reason, now)
        .await?;
    println!("published {} v{n}", asked.journey);
    Ok(())
}

/// Which versions a stop, pause or resume acts on: `JOURNEY [--version N |
/// --all-versions]`, `--uses-action ACTION` (the kill switch), `--all`
/// (the store-wide brake) or `--incident ID` (the versions a brake paused).
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// The journey's name; several act on each one's live version (a
    /// resume: its paused one) together, in one transaction, their audit
    /// rows sharing one incident id.
    #[arg(required_unless_present_any = ["uses_action", "all", "incident"])]
    pub journeys: Vec<String>,
    /// The version (default: the live one).
    #[arg(long, conflicts_with_all = ["all_versions", "uses_action", "all", "incident"])]
    pub version: Option<i64>,
    /// Every live or finished version of the journey at once.
    #[arg(long, conflicts_with_all = ["uses_action", "all", "incident"])]
    pub all_versions: bool,
    /// Every version that sends through ACTION (the kill switch).
    #[arg(long, value_name = "ACTION", conflicts_with_all = ["journeys", "all", "incident"])]
    pub uses_action: Option<String>,
    /// Every live or finished version of the store at once (the
    /// store-wide brake): one incident, its id in every audit row. On a
    /// terminal it asks for the store's name.
    #[arg(long, conflicts_with_all = ["journeys", "incident"])]
    pub all: bool,
    /// The versions the store-wide brake with this incident id paused
    /// (and no other).
    #[arg(long, value_name = "ID", conflicts_with = "journeys")]
    pub incident: Option<String>,
    #[command(flatten)]
    pub when: super::schedule::At,
}

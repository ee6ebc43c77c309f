//! Actions at a time: `--at TIME` on finish, stop, pause, resume,
//! publish, hold and release keeps the intent in the store (audited) for
//! the engine to carry out; `scheduled` lists them, `unschedule ID` takes
//! one back.

use std::io::{IsTerminal, Write};

use clap::Args;

use crate::domain::NotConfirmed;
use crate::domain::schedule::{Intent, parse_at};
use crate::domain::time::{left, to_rfc3339};
use crate::store::{Scheduled, Store};

/// `--at TIME`, on every command that can wait for its time.
#[derive(Debug, Clone, Default, Args)]
pub struct At {
    /// Do it at TIME rather than now: RFC 3339 (2026-12-24T23:59:00Z) or
    /// from now (+30m). Kept in the store and audited, carried out by the
    /// engine (`run`) as you; `scheduled` lists it, `unschedule ID` takes
    /// it back.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

/// `scheduled [--all] [--json]`.
#[derive(Debug, Clone, Args)]
pub struct ScheduledArgs {
    /// The ended ones too (done, skipped, taken back).
    #[arg(long)]
    pub all: bool,
    #[arg(long)]
    pub json: bool,
}

/// `unschedule ID [--reason R]`.
#[derive(Debug, Clone, Args)]
pub struct UnscheduleArgs {
    /// The scheduled action's number (`scheduled` lists them).
    pub id: i64,
    /// Why (written to the audit log).
    #[arg(long)]
    pub reason: Option<String>,
}

use crate::present::ENGINE_QUIET_MS;

/// Keeps `intent` for the time `at` says, once confirmed: what must be
/// typed (a stop's name) or y/N on a terminal, `--yes` without one.
pub(super) async fn schedule_command(
    cx: &super::commands::Cx,
    intent: Intent,
    at: &str,
    (yes, typed): (bool, Option<String>),
) -> anyhow::Result<()> {
    let due = parse_at(at, cx.now).map_err(|e| anyhow::anyhow!("--at {e}"))?;
    let store = cx.store(false).await?;
    let what = format!("{} at {}", intent.describe(), to_rfc3339(due));
    if !yes {
        confirm(&what, cx.now, due, typed)?;
    }
    let kept = store.schedule(intent, due, &cx.actor, cx.now).await?;
    println!(
        "scheduled #{}: {} at {} (in {}); `journeyctl unschedule {}` takes it back",
        kept.id,
        kept.what,
        to_rfc3339(kept.due_at),
        left(cx.now, kept.due_at),
        kept.id
    );
    if let Some(words) = engine_words(&store, cx.now).await? {
        eprintln!("note: {words}: nothing happens at the time without `journeyctl run`");
    }
    Ok(())
}

fn confirm(what: &str, now: i64, due: i64, typed: Option<String>) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(NotConfirmed {
            needs_yes: Some(format!("schedule {what}")),
        }
        .into());
    }
    let mut err = std::io::stderr();
    writeln!(
        err,
        "About to schedule: {what} (in {}); the engine carries it out then as you",
        left(now, due)
    )?;
    super::end::ask(typed.as_deref(), "schedule")
}

/// `no engine has run for 10m` (or `no engine has run on this store`)
/// when none went round lately; `None` while one does.
pub async fn engine_words(store: &Store, now: i64) -> anyhow::Result<Option<String>> {
    Ok(match store.engine_last_seen().await? {
        Some(at) if now - at <= ENGINE_QUIET_MS => None,
        Some(at) => Some(format!(
            "no engine has run for {}",
            crate::domain::time::age(now, at)
        )),
        None => Some("no engine has run on this store".into()),
    })
}

impl ScheduledArgs {
    pub(super) async fn run(self, cx: &super::commands::Cx) -> anyhow::Result<()> {
        let store = cx.store(false).await?;
        let list = store.scheduled(self.all).await?;
        let quiet = engine_words(&store, cx.now).await?;
        if self.json {
            let rows: Vec<serde_json::Value> = list.iter().map(json_of).collect();
            println!("{}", serde_json::to_string_pretty(&rows)?);
            return Ok(());
        }
        if list.is_empty() {
            println!("no action is scheduled");
            return Ok(());
        }
        let mut grid = super::table::Grid::new(&[">ID", "AT", "IN", "ACTION", "SET BY", "STATE"]);
        for s in &list {
            let state = if s.state.is_open() {
                s.state.as_str().to_string()
            } else {
                crate::store::ended_words(s)
            };
            grid.row(vec![
                s.id.to_string(),
                to_rfc3339(s.due_at),
                if s.state.is_open() {
                    left(cx.now, s.due_at)
                } else {
                    "-".into()
                },
                s.what.clone(),
                s.set_by.clone(),
                state,
            ]);
            if let Some(r) = &s.reason {
                grid.note(format!("reason: {r}"));
            }
        }
        print!("{}", grid.render());
        if let (Some(words), true) = (quiet, list.iter().any(|s| s.state.is_open())) {
            println!("⚠ {words}: nothing happens at the time without `journeyctl run`");
        }
        Ok(())
    }
}

/// One scheduled action in `scheduled --json`.
pub fn json_of(s: &Scheduled) -> serde_json::Value {
    serde_json::json!({
        "id": s.id,
        "at": to_rfc3339(s.due_at),
        "verb": s.verb,
        "what": s.what,
        "journey": s.journey,
        "version": s.version,
        "by": s.set_by,
        "host": s.set_host,
        "set_at": to_rfc3339(s.set_at),
        "reason": s.reason,
        "state": s.state,
        "ended_at": s.ended_at.map(to_rfc3339),
        "ended_by": s.ended_by,
        "outcome": s.outcome,
    })
}

impl UnscheduleArgs {
    pub(super) async fn run(self, cx: &super::commands::Cx) -> anyhow::Result<()> {
        let store = cx.store(false).await?;
        let s = store
            .unschedule(self.id, &cx.actor, self.reason.as_deref(), cx.now)
            .await?;
        println!(
            "took back #{}: {} at {} will not happen",
            s.id,
            s.what,
            to_rfc3339(s.due_at)
        );
        Ok(())
    }
}

//! Operators who share a store: `note`, `claim` and `unclaim` a version,
//! and the word an action says first when someone else has claimed what
//! it acts on.

use std::time::Duration;

use clap::Args;

use crate::store::Store;

/// `note JOURNEY TEXT [--version N]`.
#[derive(Debug, Clone, Args)]
pub struct NoteArgs {
    pub journey: String,
    /// The note (at most 1,000 characters).
    pub text: String,
    /// The version (default: the live one, else the newest that ran).
    #[arg(long)]
    pub version: Option<i64>,
}

/// `claim JOURNEY [--version N] [--for 1h] [--reason R]`.
#[derive(Debug, Clone, Args)]
pub struct ClaimArgs {
    pub journey: String,
    /// The version (default: the live one, else the newest that ran).
    #[arg(long)]
    pub version: Option<i64>,
    /// How long (at most 7d); `unclaim` gives it back before.
    #[arg(long = "for", value_name = "DURATION", default_value = "1h",
          value_parser = super::values::parse_duration_arg)]
    pub for_: Duration,
    /// Why, shown to whoever acts on it meanwhile.
    #[arg(long)]
    pub reason: Option<String>,
}

/// `unclaim JOURNEY [--version N]`.
#[derive(Debug, Clone, Args)]
pub struct UnclaimArgs {
    pub journey: String,
    #[arg(long)]
    pub version: Option<i64>,
}

impl NoteArgs {
    pub(super) async fn run(self, cx: &super::commands::Cx) -> anyhow::Result<()> {
        let store = cx.store(false).await?;
        let n = store
            .note(&self.journey, self.version, &self.text, &cx.actor, cx.now)
            .await?;
        println!("noted on {} v{}", n.journey, n.version);
        Ok(())
    }
}

impl ClaimArgs {
    pub(super) async fn run(self, cx: &super::commands::Cx) -> anyhow::Result<()> {
        let store = cx.store(false).await?;
        let until = cx.now + i64::try_from(self.for_.as_millis()).unwrap_or(i64::MAX / 2);
        let n = store
            .claim_version(
                &self.journey,
                self.version,
                (until, self.reason.as_deref()),
                &cx.actor,
                cx.now,
            )
            .await?;
        let from = match n.claimed_by.filter(|by| *by != cx.actor.name) {
            Some(by) => format!(" (taken over from {by})"),
            None => String::new(),
        };
        println!(
            "claimed {} v{} until {}{from}",
            n.journey,
            n.version,
            crate::domain::time::to_rfc3339(until)
        );
        Ok(())
    }
}

impl UnclaimArgs {
    pub(super) async fn run(self, cx: &super::commands::Cx) -> anyhow::Result<()> {
        let store = cx.store(false).await?;
        let n = store
            .unclaim_version(&self.journey, self.version, &cx.actor, cx.now)
            .await?;
        println!("{} v{} is no longer claimed", n.journey, n.version);
        Ok(())
    }
}

/// On standard error, before an action: each version it acts on that
/// someone else has claimed (`◆ cart v2 is claimed by alice for 1h20m:
/// "CRM ticket 123"`). The action is not refused.
pub(super) async fn say_claims(
    store: &Store,
    versions: &[(String, i64)],
    me: &str,
    now: i64,
) -> anyhow::Result<()> {
    let list = store.list(true).await?;
    for v in list
        .iter()
        .filter(|v| versions.contains(&(v.journey.clone(), v.version)))
    {
        if let Some(line) = crate::present::claim_line(v, me, now) {
            eprintln!("{line}");
        }
    }
    Ok(())
}

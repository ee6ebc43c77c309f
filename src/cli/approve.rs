//! Four eyes from the command line: `policy` says (and, for the schema's
//! owner, sets) which actions need another operator's approval,
//! `approvals` lists the open requests, and `approve ID` carries one out
//! through the same call as its command, as the approver.

use std::io::{IsTerminal, Write};

use clap::Args;

use crate::domain::NotConfirmed;
use crate::domain::time::left;
use crate::store::Request;

/// `policy [--require-approval publish,resume,release|none]
/// [--expire-after 1h] [--json]`.
#[derive(Debug, Clone, Args)]
pub struct PolicyArgs {
    /// The actions that become requests another operator approves:
    /// publish, resume, release (comma-separated), or `none`. A stop,
    /// pause, finish, hold or brake never waits.
    #[arg(long, value_name = "ACTIONS")]
    pub require_approval: Option<String>,
    /// How long a request stays open (1m to 7d; default 1h).
    #[arg(long, value_name = "DURATION", value_parser = super::values::parse_duration_arg)]
    pub expire_after: Option<std::time::Duration>,
    #[arg(long)]
    pub json: bool,
}

/// `approvals [--all] [--json]`.
#[derive(Debug, Clone, Args)]
pub struct ApprovalsArgs {
    /// The approved and expired requests too (the newest 500).
    #[arg(long)]
    pub all: bool,
    #[arg(long)]
    pub json: bool,
}

/// `approve ID [--yes]`.
#[derive(Debug, Clone, Args)]
pub struct ApproveArgs {
    /// The request's number (`journeyctl approvals`).
    pub id: i64,
    /// Approve without asking (needed without a terminal).
    #[arg(long)]
    pub yes: bool,
}

impl PolicyArgs {
    pub(super) async fn run(self, cx: &super::commands::Cx) -> anyhow::Result<()> {
        let store = cx.store(false).await?;
        let require: Option<Vec<String>> = self.require_approval.as_deref().map(|list| {
            list.split(',')
                .map(|s| s.trim().to_lowercase())
                .filter(|s| !s.is_empty() && s != "none")
                .collect()
        });
        let expiry = self
            .expire_after
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let policy = if require.is_some() || expiry.is_some() {
            store
                .set_policy(require.as_deref(), expiry, &cx.actor, cx.now)
                .await?
        } else {
            store.policy().await?
        };
        if self.json {
            println!("{}", serde_json::to_string_pretty(&policy)?);
        } else if policy.require_approval.is_empty() {
            println!("no action needs approval on this store");
        } else {
            println!(
                "{} need another operator's approval on this store; a request stays open {}",
                policy.require_approval.join(", "),
                policy.expires_after
            );
        }
        Ok(())
    }
}

impl ApprovalsArgs {
    pub(super) async fn run(self, cx: &super::commands::Cx) -> anyhow::Result<()> {
        let store = cx.store(false).await?;
        let list = store.approvals(self.all, cx.now).await?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&list)?);
            return Ok(());
        }
        if list.is_empty() {
            println!("no request waits for approval");
            return Ok(());
        }
        let mut grid = super::table::Grid::new(&[
            ">ID",
            "ACTION",
            "ASKED BY",
            "ASKED AT",
            "EXPIRES IN",
            "STATE",
        ]);
        for r in &list {
            let state = match &r.approved_by {
                Some(by) => format!("approved by {by}"),
                None => r.state.clone(),
            };
            grid.row(vec![
                r.id.to_string(),
                r.what.clone(),
                r.asked_by.clone(),
                r.asked_at.clone(),
                if r.state == "open" {
                    left(cx.now, r.expires_ms)
                } else {
                    "-".into()
                },
                state,
            ]);
            if let Some(why) = &r.reason {
                grid.note(format!("reason: {why}"));
            }
        }
        print!("{}", grid.render());
        Ok(())
    }
}

impl ApproveArgs {
    pub(super) async fn run(self, cx: &super::commands::Cx) -> anyhow::Result<()> {
        let store = cx.store(false).await?;
        let open = store.approvals(false, cx.now).await?;
        let Some(request) = open.iter().find(|r| r.id == self.id) else {
            let all = store.approvals(true, cx.now).await?;
            return Err(match all.iter().find(|r| r.id == self.id) {
                Some(r) => anyhow::anyhow!(
                    "request {} ({}) is {}: nothing to approve",
                    r.id,
                    r.what,
                    r.state
                ),
                None => anyhow::anyhow!(
                    "no open request {} (journeyctl approvals lists them)",
                    self.id
                ),
            });
        };
        if !self.yes {
            confirm(request)?;
        }
        let done = store.approve(self.id, &cx.actor, cx.now).await?;
        println!(
            "approved #{}: {} (asked by {}), carried out by {}",
            done.id, done.what, done.asked_by, cx.actor.name
        );
        Ok(())
    }
}

fn confirm(r: &Request) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(NotConfirmed {
            needs_yes: Some(format!("approve request {}", r.id)),
        }
        .into());
    }
    let why = r
        .reason
        .as_deref()
        .map(|w| format!(": \"{w}\""))
        .unwrap_or_default();
    writeln!(
        std::io::stderr(),
        "About to carry out #{}: {} asked by {} at {}{why}",
        r.id,
        r.what,
        r.asked_by,
        r.asked_at
    )?;
    super::end::ask(None, "approve")
}

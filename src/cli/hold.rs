//! `journeyctl hold --action A` and `release --action A`: one action's
//! messages held (they stay pending, no worker claims one) while
//! everything else goes on; its impact first, a y/N on a terminal,
//! `--yes` without one.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use clap::Args;

use crate::domain::schedule::Intent;
use crate::domain::{NotConfirmed, Overdue};
use crate::present::channels::{hold_done, hold_impact_words};
use crate::store::{HoldExpiry, HoldImpact};

/// `hold --action ACTION [--for D] [--reason R] [--yes]`.
#[derive(Debug, Clone, Args)]
pub struct HoldArgs {
    /// The action to hold (`webhook:crm`; `email` holds `email:*` too).
    #[arg(long, value_name = "ACTION")]
    pub action: String,
    /// End it by itself after this long (`4h`; see --on-expiry); without
    /// it the hold lasts until `release`.
    #[arg(long = "for", value_name = "DURATION", value_parser = super::values::parse_duration_arg)]
    pub for_: Option<Duration>,
    /// With --for: what happens then: its messages go out again
    /// (release), or its pending ones are cancelled (cancel).
    #[arg(long, default_value = "release", value_parser = ["release", "cancel"], requires = "for_")]
    pub on_expiry: String,
    /// Why (written to the audit log).
    #[arg(long)]
    pub reason: Option<String>,
    /// Do not ask (needed without a terminal).
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub when: super::schedule::At,
}

/// `release --action ACTION [--reason R] [--yes]`.
#[derive(Debug, Clone, Args)]
pub struct ReleaseArgs {
    /// The held action.
    #[arg(long, value_name = "ACTION")]
    pub action: String,
    /// Its messages that fell due while it was held: send them now (the
    /// default), skip them (cancelled) or spread them evenly over a time
    /// (spread=30m).
    #[arg(long, value_name = "send|skip|spread=DUR", default_value = "send")]
    pub overdue: String,
    /// Why (written to the audit log).
    #[arg(long)]
    pub reason: Option<String>,
    /// Do not ask (needed without a terminal).
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub when: super::schedule::At,
}

/// Asks y/N on a terminal; without one, `--yes` is needed (exit 3).
fn confirm(what: &str, impact: &HoldImpact, yes: bool) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(NotConfirmed {
            needs_yes: Some(what.to_string()),
        }
        .into());
    }
    let mut err = std::io::stderr();
    writeln!(err, "About to {what}: {}", hold_impact_words(impact))?;
    write!(err, "Go ahead? [y/N] ")?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    let answer = answer.trim();
    if answer.eq_ignore_ascii_case("y") || answer.eq_ignore_ascii_case("yes") {
        Ok(())
    } else {
        Err(NotConfirmed { needs_yes: None }.into())
    }
}

impl HoldArgs {
    pub(super) async fn run(self, cx: &super::commands::Cx) -> anyhow::Result<()> {
        if let Some(at) = &self.when.at {
            let intent = Intent::Hold {
                action: self.action.clone(),
                for_ms: self.for_.map(|d| d.as_millis() as i64),
                on_expiry: self.on_expiry.clone(),
                reason: self.reason.clone(),
            };
            return super::schedule::schedule_command(cx, intent, at, (self.yes, None)).await;
        }
        let store = cx.store(false).await?;
        let what = format!("hold {}", self.action);
        confirm(&what, &store.hold_impact(&self.action).await?, self.yes)?;
        let until = self.for_.map(|d| cx.now + d.as_millis() as i64);
        let on_expiry = match self.on_expiry.as_str() {
            "cancel" => HoldExpiry::Cancel,
            _ => HoldExpiry::Release,
        };
        let done = store
            .hold_action(
                &self.action,
                (until, on_expiry),
                &cx.actor,
                self.reason.as_deref(),
                cx.now,
            )
            .await?;
        println!("{}", hold_done(&done, false, until));
        Ok(())
    }
}

impl ReleaseArgs {
    pub(super) async fn run(self, cx: &super::commands::Cx) -> anyhow::Result<()> {
        let overdue =
            Overdue::parse(&self.overdue).map_err(|e| anyhow::anyhow!("--overdue {e}"))?;
        if let Some(at) = &self.when.at {
            let intent = Intent::Release {
                action: self.action.clone(),
                overdue,
                reason: self.reason.clone(),
            };
            return super::schedule::schedule_command(cx, intent, at, (self.yes, None)).await;
        }
        let store = cx.store(false).await?;
        let what = format!("release {}", self.action);
        confirm(&what, &store.hold_impact(&self.action).await?, self.yes)?;
        let done = store
            .release_action(
                &self.action,
                overdue,
                &cx.actor,
                self.reason.as_deref(),
                cx.now,
            )
            .await?;
        println!("{}", hold_done(&done, true, None));
        Ok(())
    }
}

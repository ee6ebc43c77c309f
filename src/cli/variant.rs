//! `journeyctl variant JOURNEY --disable B | --winner A`: A/B by hand.

use std::io::IsTerminal;

use clap::Args;

use crate::domain::NotConfirmed;
use crate::store::VariantChoice;

/// `variant JOURNEY [--version N] (--disable ARM | --winner ARM) [--reason R] [--yes]`.
#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("choice").required(true).args(["disable", "winner"])))]
pub struct VariantArgs {
    pub journey: String,
    /// The version (default: the live one).
    #[arg(long)]
    pub version: Option<i64>,
    /// Send no new participant to this arm (a dead link in B): they go to
    /// the other arms by their weights.
    #[arg(long, value_name = "ARM")]
    pub disable: Option<String>,
    /// Send every new participant to this arm: an operator's decision,
    /// said as such, not a statistical result.
    #[arg(long, value_name = "ARM")]
    pub winner: Option<String>,
    /// Why (written to the audit log).
    #[arg(long)]
    pub reason: Option<String>,
    /// Do not ask (needed without a terminal).
    #[arg(long)]
    pub yes: bool,
}

impl VariantArgs {
    pub(super) async fn run(self, cx: &super::commands::Cx) -> anyhow::Result<()> {
        let (arm, choice) = match (&self.disable, &self.winner) {
            (Some(arm), _) => (arm.clone(), VariantChoice::Disable),
            (None, Some(arm)) => (arm.clone(), VariantChoice::Winner),
            (None, None) => anyhow::bail!("say --disable ARM or --winner ARM"),
        };
        let what = match choice {
            VariantChoice::Disable => format!(
                "disable arm {arm} of {}'s test: new entries go to the other arms",
                self.journey
            ),
            VariantChoice::Winner => format!(
                "send everyone new in {} to arm {arm} (an operator's decision, not a statistical result)",
                self.journey
            ),
        };
        if !self.yes {
            if !std::io::stdin().is_terminal() {
                return Err(NotConfirmed {
                    needs_yes: Some(what),
                }
                .into());
            }
            eprintln!("About to {what}.");
            super::end::ask(None, "go ahead")?;
        }
        let store = cx.store(false).await?;
        let done = store
            .choose_variant(
                &self.journey,
                self.version,
                &arm,
                choice,
                &cx.actor,
                self.reason.as_deref(),
                cx.now,
            )
            .await?;
        let counts: Vec<String> = done
            .assigned
            .iter()
            .map(|(n, a)| format!("{n} {}", crate::present::thousands(*a)))
            .collect();
        println!(
            "{} v{} test {}: {} {} (assigned so far: {})",
            done.journey,
            done.version,
            done.test,
            done.variant,
            match done.choice {
                VariantChoice::Disable => "disabled: new entries go to the other arms",
                VariantChoice::Winner => "chosen: everyone new gets it (an operator's decision)",
            },
            counts.join(", ")
        );
        Ok(())
    }
}

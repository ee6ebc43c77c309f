//! `journeyctl rate`: a channel's rate and concurrency set live, kept in
//! the store and followed by every running `deliver` within a second.

use clap::Args;

/// `rate --action ACTION RATE [--concurrency N] [--reason R]`, or `--clear`.
#[derive(Debug, Clone, Args)]
pub struct RateArgs {
    /// The action whose channel to limit, as `channels` lists it.
    #[arg(long, value_name = "ACTION")]
    pub action: String,
    /// The new rate: N/s or N/min (`50/s`).
    #[arg(
        value_name = "RATE",
        value_parser = parse_rate,
        required_unless_present_any = ["concurrency", "clear"],
        conflicts_with = "clear"
    )]
    pub rate: Option<crate::domain::rate::Rate>,
    /// Messages in flight at once, over every worker.
    #[arg(long, value_name = "N", conflicts_with = "clear")]
    pub concurrency: Option<i64>,
    /// Back to the channels file's rate and concurrency.
    #[arg(long)]
    pub clear: bool,
    /// Why (written to the audit log).
    #[arg(long)]
    pub reason: Option<String>,
}

fn parse_rate(text: &str) -> Result<crate::domain::rate::Rate, String> {
    crate::domain::rate::Rate::parse(text)
}

impl RateArgs {
    pub(super) async fn run(self, cx: &super::commands::Cx) -> anyhow::Result<()> {
        let store = cx.store(false).await?;
        let limits = (!self.clear).then_some(crate::store::LiveLimits {
            rate: self.rate,
            concurrency: self.concurrency,
        });
        let changed = store
            .set_rate(
                &self.action,
                limits,
                &cx.actor,
                self.reason.as_deref(),
                cx.now,
            )
            .await?;
        println!("{}", crate::present::channels::rate_changed(&changed));
        Ok(())
    }
}

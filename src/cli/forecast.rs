//! `journeyctl forecast JOURNEY`: what will go out next, per action.

use clap::Args;

use crate::present::thousands;

/// `forecast JOURNEY [--version N] [--json]`.
#[derive(Debug, Clone, Args)]
pub struct ForecastArgs {
    pub journey: String,
    /// The version (default: the live one, else the newest that ran).
    #[arg(long)]
    pub version: Option<i64>,
    #[arg(long)]
    pub json: bool,
}

impl ForecastArgs {
    pub(super) async fn run(self, cx: &super::commands::Cx) -> anyhow::Result<()> {
        let store = cx.store(false).await?;
        let f = store.forecast(&self.journey, self.version, cx.now).await?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&f)?);
            return Ok(());
        }
        let name = crate::present::escaped(&f.journey).into_owned();
        if f.actions.is_empty() {
            println!(
                "{name} v{}: nothing is due to go out in the next 24h",
                f.version
            );
            return Ok(());
        }
        let first = if f.paused { ">AT RESUME" } else { ">DUE NOW" };
        let mut grid = super::table::Grid::new(&[
            "ACTION",
            ">PENDING",
            first,
            ">NEXT 15M",
            ">NEXT 1H",
            ">NEXT 24H",
        ]);
        for a in &f.actions {
            grid.row(vec![
                crate::present::escaped(&a.action).into_owned(),
                thousands(a.pending),
                thousands(a.at_once),
                thousands(a.next_15m),
                thousands(a.next_1h),
                thousands(a.next_24h),
            ]);
        }
        println!(
            "{name} v{}{}",
            f.version,
            if f.paused {
                ": paused, nothing goes out until it is resumed; AT RESUME is what a resume releases at once"
            } else {
                ""
            }
        );
        print!("{}", grid.render());
        Ok(())
    }
}

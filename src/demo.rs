//! The demo.
use crate::cli::Global;
use crate::store::Actor;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {}

pub async fn run(_args: DemoArgs, _g: &Global, _actor: Actor) -> anyhow::Result<()> {
    anyhow::bail!("the demo is not built yet")
}

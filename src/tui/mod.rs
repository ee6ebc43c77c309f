//! The console.
use crate::store::{Actor, Store};
use std::time::Duration;

pub async fn run_console(
    _store: Store,
    _actor: Actor,
    _read_only: bool,
    _refresh: Duration,
    _demo: Option<String>,
) -> anyhow::Result<()> {
    anyhow::bail!("the console is not built yet")
}

//! What the delivery tests share: `journeyctl` run as a process on a
//! store, and a journey that enqueues one email per profile.
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use super::*;

/// `journeyctl ARGS` on the store at `url`, to be started.
pub fn cmd(url: &str, args: &[&str]) -> Command {
    journeyctl(url).args(args).command()
}

/// Runs a command to its end off the test's runtime threads.
pub async fn run(url: &str, args: &[&str]) -> Output {
    journeyctl(url).args(args).output_async().await
}

/// `name`: one email to each of `n` profiles, enqueued by a tick.
pub async fn emails(ts: &TestStore, name: &str, n: usize) {
    let d = def(&format!(
        "name = \"{name}\"\n[[steps]]\nkind = \"message\"\naction = \"email\"\n\
         [[steps]]\nkind = \"wait\"\nduration = \"1d\"\n"
    ));
    publish(&ts.store, &d, at(0)).await;
    let entries: Vec<_> = (0..n)
        .map(|i| enter(name, &format!("{name}-{i}"), at(0)))
        .collect();
    ts.store.ingest(&entries).await.unwrap();
    ts.store.tick(at(1)).await.unwrap();
}

pub async fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Waits (up to a minute) for `p` to end; its exit status.
pub async fn wait_child(p: Proc) -> std::process::ExitStatus {
    p.finish_async(Duration::from_secs(60)).await.status
}

/// `journeyctl ARGS` on the store at `url`, started with its output
/// discarded; killed if the test ends first.
pub fn start(url: &str, args: &[&str]) -> Proc {
    Proc::spawn(
        cmd(url, args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null()),
    )
}

//! What the delivery tests share: `journeyctl` run as a process on a
//! store, and a journey that enqueues one email per profile.
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::*;

pub fn cmd(url: &str, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.env("DATABASE_URL", url)
        .env("USER", "tester")
        .env("RUST_LOG", "off")
        .args(args)
        .stdin(Stdio::null());
    c
}

/// Runs a command to its end off the test's runtime threads.
pub async fn run(url: &str, args: &[&str]) -> Output {
    let mut c = cmd(url, args);
    tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap()
}

pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
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

pub async fn wait_child(mut child: Child) -> std::process::ExitStatus {
    tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap()
}

/// Asks a child to stop as an operator would (SIGTERM).
pub fn sigterm(child: &Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
}

//! `journeyctl watch [JOURNEY] [--json]`: one line per change as it
//! happens (every audit row: status, hold, publish; and each delivery gate
//! that closes or opens), for runbooks and chat bots. It learns of changes
//! as the console does (notifications, or the SQLite file's version), and
//! polls once a second while it cannot. Ctrl-C ends it, exit 0.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::Serialize;

use crate::store::{AuditEntry, Store, Watcher};

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Line<'a> {
    Audit {
        #[serde(flatten)]
        entry: &'a AuditEntry,
    },
    Gate {
        journey: &'a str,
        version: i64,
        closed: bool,
    },
}

pub(super) async fn watch(store: &Store, journey: Option<&str>, json: bool) -> anyhow::Result<()> {
    let mut last = store.audit_last_id().await?;
    let mut gates = gates_of(store, journey).await?;
    let mut watcher = store.watch_changes().await.ok();
    match watcher {
        Some(_) => eprintln!("journeyctl watch: watching for changes (Ctrl-C to end)"),
        None => eprintln!("journeyctl watch: no live changes here: looking once a second"),
    }
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut missing = Missing::default();
    loop {
        tokio::select! {
            _ = &mut ctrl_c => return Ok(()),
            _ = next_change(store, &mut watcher) => {}
        }
        for (id, entry) in store.audit_since(last, &missing.ids()).await? {
            if id > last {
                missing.skipped(last, id);
                last = id;
            } else {
                missing.seen(id);
            }
            if journey.is_none_or(|j| entry.journey == j) {
                say(&Line::Audit { entry: &entry }, json)?;
            }
        }
        missing.expire();
        let now = gates_of(store, journey).await?;
        for (j, v) in now.symmetric_difference(&gates) {
            let closed = now.contains(&(j.clone(), *v));
            say(
                &Line::Gate {
                    journey: j,
                    version: *v,
                    closed,
                },
                json,
            )?;
        }
        gates = now;
    }
}

/// Audit ids below the newest seen that have not been seen: a row whose
/// transaction commits after a later row's (two writers, in the opposite
/// order) is printed when it commits, never skipped. An id still missing
/// after `GAP_WAIT` was a transaction rolled back, and is let go.
#[derive(Default)]
struct Missing {
    since: std::collections::BTreeMap<i64, std::time::Instant>,
}

/// How long a missing id is looked for: longer than any write waits.
const GAP_WAIT: std::time::Duration = std::time::Duration::from_secs(600);
/// The most missing ids looked for at once.
const MOST_MISSING: usize = 1000;

impl Missing {
    fn ids(&self) -> Vec<i64> {
        self.since.keys().copied().collect()
    }

    /// The ids between `last` and `next`, skipped by the feed.
    fn skipped(&mut self, last: i64, next: i64) {
        let now = std::time::Instant::now();
        for id in (last + 1..next).take(MOST_MISSING) {
            if self.since.len() >= MOST_MISSING {
                break;
            }
            self.since.insert(id, now);
        }
    }

    fn seen(&mut self, id: i64) {
        self.since.remove(&id);
    }

    fn expire(&mut self) {
        self.since.retain(|_, at| at.elapsed() < GAP_WAIT);
    }
}

/// Waits for the next change; while there is no watch, a second, and a
/// new watch is tried.
async fn next_change(store: &Store, watcher: &mut Option<Watcher>) {
    match watcher {
        Some(w) => {
            if let Err(e) = w.next().await {
                eprintln!("journeyctl watch: {e}: looking once a second until it is back");
                *watcher = None;
            }
        }
        None => {
            tokio::time::sleep(Duration::from_secs(1)).await;
            *watcher = store.watch_changes().await.ok();
        }
    }
}

async fn gates_of(store: &Store, journey: Option<&str>) -> anyhow::Result<BTreeSet<(String, i64)>> {
    Ok(store
        .closed_gates()
        .await?
        .into_iter()
        .filter(|(j, _)| journey.is_none_or(|want| want == j))
        .collect())
}

fn say(line: &Line<'_>, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(line)?);
        return Ok(());
    }
    match line {
        Line::Audit { entry } => println!("{}", super::table::audit_line(entry)),
        Line::Gate {
            journey,
            version,
            closed: true,
        } => println!(
            "gate closed: {} v{version}: a stop or pause waits for deliveries in flight",
            crate::present::escaped(journey)
        ),
        Line::Gate {
            journey, version, ..
        } => println!("gate open: {} v{version}", crate::present::escaped(journey)),
    }
    Ok(())
}

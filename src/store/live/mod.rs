//! Changes as they happen, for consoles and `watch`: on PostgreSQL a
//! notification sent by the transaction that made the change (so it
//! arrives after the commit): `status` from every audit row and every
//! change of a status, hold or delivery gate (triggers, whoever connects),
//! and `figures` from the engine, workers and ingest, at most four a second
//! from each process. On SQLite, the kernel's word of a write to the file
//! or its log (inotify; where it cannot be had, their size and time every
//! 100 ms), then `PRAGMA data_version` (no I/O) and one small read that
//! tells a status change from figures.

pub(in crate::store) mod file_events;

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use sqlx::Connection;

use crate::domain::time::now_millis;
use crate::store::live::file_events::FileEvents;
use crate::store::{Error, Location, Result, Store};

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A status, hold or delivery gate, or an audit row.
    Status,
    /// Counts: participants, messages.
    Figures,
}

/// How often a SQLite watcher looks at the file's version (while writes
/// come, or always where the kernel's file events cannot be had).
const SQLITE_EVERY: Duration = Duration::from_millis(100);

/// How many looks follow the last write the kernel reported.
const RECHECKS: u8 = 7;

/// The first look again after a write that woke a quiet watcher; each
/// next waits twice as long, up to `SQLITE_EVERY`. A commit shows in
/// `data_version` only after its last write, which may come a while
/// after the first.
const SETTLE: Duration = Duration::from_millis(5);

/// The least time between two looks while writes go on.
const MIN_GAP: Duration = Duration::from_millis(25);

/// The least time between two `figures` notifications of one process.
const FIGURES_EVERY_MS: i64 = 250;

/// The notification channel of the store's schema.
const CHANNEL_SQL: &str =
    "SELECT pg_catalog.left('journeyctl_' || pg_catalog.current_schema(), 63)";

/// A store's changes, one at a time.
pub struct Watcher {
    kind: Kind,
}

enum Kind {
    Sqlite {
        conn: sqlx::SqliteConnection,
        version: i64,
        pulse: (i64, i64),
        /// When to look at `data_version` again.
        trigger: Trigger,
    },
    Postgres(sqlx::postgres::PgListener),
}

/// What makes a SQLite watcher look at the file's version.
enum Trigger {
    /// The kernel's word of writes to the file or its log: the watcher
    /// sleeps until one comes, then looks again `recheck` more times,
    /// `pace` apart, growing.
    Events {
        events: FileEvents,
        recheck: u8,
        pace: Duration,
        looked: std::time::Instant,
    },
    /// Where that cannot be had: the file's and its log's size and time
    /// every 100 ms, as last `seen`; `data_version` is read only when one
    /// moved.
    Stat {
        files: [std::path::PathBuf; 2],
        seen: [Option<(u64, std::time::SystemTime)>; 2],
    },
}

impl Trigger {
    fn new(path: &std::path::Path) -> Trigger {
        let events = if fault_no_file_events() {
            Err(std::io::Error::other("file events turned off for a test"))
        } else {
            FileEvents::new(path)
        };
        match events {
            Ok(events) => Trigger::Events {
                events,
                recheck: 0,
                pace: SETTLE,
                looked: std::time::Instant::now(),
            },
            Err(e) => {
                tracing::debug!("no file events, looking every 100 ms: {e}");
                let mut wal = path.as_os_str().to_owned();
                wal.push("-wal");
                let files = [path.to_path_buf(), wal.into()];
                let seen = files.each_ref().map(|f| stamp(f));
                Trigger::Stat { files, seen }
            }
        }
    }

    /// Waits until it is time to look at `data_version` again.
    async fn wait(&mut self) -> Result<()> {
        match self {
            Trigger::Events {
                events,
                recheck,
                pace,
                looked,
            } => {
                let written = if *recheck == 0 {
                    events.written().await.map_err(lost_events)?;
                    true
                } else {
                    tokio::select! {
                        w = events.written() => {
                            w.map_err(lost_events)?;
                            true
                        }
                        _ = tokio::time::sleep(*pace) => false,
                    }
                };
                if written {
                    // Soon after a write, but under steady writes no more
                    // often than every `MIN_GAP`.
                    let since = looked.elapsed();
                    if since < MIN_GAP {
                        tokio::time::sleep(MIN_GAP - since).await;
                        events.drain().map_err(lost_events)?;
                    }
                    *recheck = RECHECKS;
                    *pace = SETTLE;
                } else {
                    *recheck -= 1;
                    *pace = (*pace * 2).min(SQLITE_EVERY);
                }
                *looked = std::time::Instant::now();
            }
            // Two `stat`s: nothing to ask SQLite while neither moved.
            Trigger::Stat { files, seen } => loop {
                tokio::time::sleep(SQLITE_EVERY).await;
                let now = files.each_ref().map(|f| stamp(f));
                if now != *seen {
                    *seen = now;
                    break;
                }
            },
        }
        Ok(())
    }
}

/// Fault injection for the test suite: look by `stat` as where the
/// kernel's file events cannot be had. Only in builds with debug
/// assertions (the tests'), never in a release (`cargo install`).
fn fault_no_file_events() -> bool {
    #[cfg(debug_assertions)]
    return std::env::var_os("JOURNEYCTL_FAULT_NO_FILE_EVENTS").is_some();
    #[cfg(not(debug_assertions))]
    false
}

impl Store {
    /// Starts watching this store's changes (a connection of its own).
    pub async fn watch_changes(&self) -> Result<Watcher> {
        let kind = match self.location() {
            Location::Sqlite(path) => {
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(path)
                    .read_only(true);
                let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
                let version = data_version(&mut conn).await?;
                let pulse = pulse(&mut conn).await?;
                Kind::Sqlite {
                    conn,
                    version,
                    pulse,
                    trigger: Trigger::new(path),
                }
            }
            Location::Postgres(url) => {
                let mut listener = sqlx::postgres::PgListener::connect(url).await?;
                let channel: String = sqlx::query_scalar(CHANNEL_SQL)
                    .fetch_one(&self.pool)
                    .await?;
                listener.listen(&channel).await?;
                Kind::Postgres(listener)
            }
        };
        Ok(Watcher { kind })
    }

    /// Tells watchers that a status, hold, gate or audit row changed, once
    /// its transaction committed: best effort, outside it, so that nothing
    /// about notifications (a queue filled by any login) can fail a stop.
    /// Consoles that miss it find out at their next fetch.
    pub async fn announce_status(&self) {
        if !self.backend().has_logins() {
            return;
        }
        let sql = format!("SELECT pg_catalog.pg_notify(({CHANNEL_SQL}), 'status')");
        if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&self.pool)
            .await
        {
            tracing::warn!(
                "cannot announce a change (consoles will see it at their next fetch): {e}"
            );
        }
    }

    /// Tells watchers that figures moved: at most four times a second from
    /// this process (PostgreSQL; SQLite's watchers see the file change).
    pub async fn announce_figures(&self) {
        static LAST: AtomicI64 = AtomicI64::new(0);
        if !self.backend().has_logins() {
            return;
        }
        let now = now_millis();
        let last = LAST.load(Ordering::Relaxed);
        if now - last < FIGURES_EVERY_MS
            || LAST
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let sql = format!("SELECT pg_catalog.pg_notify(({CHANNEL_SQL}), 'figures')");
        if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&self.pool)
            .await
        {
            tracing::debug!("cannot announce figures: {e}");
        }
    }
}

impl Watcher {
    /// The next change; an error when the watch is lost (the caller falls
    /// back to polling and starts a new one).
    pub async fn next(&mut self) -> Result<Change> {
        match &mut self.kind {
            Kind::Sqlite {
                conn,
                version,
                pulse: last,
                trigger,
            } => loop {
                trigger.wait().await?;
                let now = data_version(conn).await?;
                if now == *version {
                    continue;
                }
                *version = now;
                let p = pulse(conn).await?;
                if p != *last {
                    *last = p;
                    return Ok(Change::Status);
                }
                return Ok(Change::Figures);
            },
            Kind::Postgres(listener) => match listener.try_recv().await? {
                Some(n) if n.payload() == "figures" => Ok(Change::Figures),
                Some(_) => Ok(Change::Status),
                // The connection was lost: changes meanwhile were missed.
                // The next call connects and listens again.
                None => Err(Error::Unreachable {
                    location: None,
                    cause: crate::store::Outage::ListenerLost,
                }),
            },
        }
    }

    /// Whether this watcher is told of changes by the database (else it
    /// looks at the file).
    pub fn is_pushed(&self) -> bool {
        matches!(self.kind, Kind::Postgres(_))
    }
}

/// The kernel's file events failed: the watch starts again.
fn lost_events(e: std::io::Error) -> Error {
    Error::Unreachable {
        location: None,
        cause: crate::store::Outage::FileEvents(crate::store::error::first_line(&e.to_string())),
    }
}

/// A file's size and modification time (`None` when it is not there).
fn stamp(path: &std::path::Path) -> Option<(u64, std::time::SystemTime)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.len(), m.modified().ok()?))
}

async fn data_version(conn: &mut sqlx::SqliteConnection) -> Result<i64> {
    Ok(sqlx::query_scalar("PRAGMA data_version")
        .fetch_one(&mut *conn)
        .await?)
}

/// What a status change moves: the last audit row (every status or hold
/// change writes one) and the delivery gates.
async fn pulse(conn: &mut sqlx::SqliteConnection) -> Result<(i64, i64)> {
    let row: (Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT (SELECT MAX(id) FROM audit), (SELECT SUM(gate_until) FROM versions)",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(Error::from)?;
    Ok((row.0.unwrap_or(0), row.1.unwrap_or(0)))
}

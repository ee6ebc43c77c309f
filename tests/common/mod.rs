//! Test stores: every storage test runs on SQLite and on PostgreSQL, each in
//! a store of its own so tests run in parallel.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use journeyctl::domain::events::{Event, TimedEvent};
use journeyctl::domain::time::parse_rfc3339;
use journeyctl::domain::{Definition, Millis};
use journeyctl::store::{Actor, Location, Store};

/// Says something on the real standard error: the test harness captures
/// `eprintln!`, not writes to the handle, so a skipped backend shows even
/// when the test passes.
#[macro_export]
macro_rules! loud {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub mod delivery;
pub mod process;
pub mod proxy;
pub mod roles;
pub mod tmux;

// Each test binary uses some of these.
#[allow(unused_imports)]
pub use process::{Journeyctl, Proc, bin, journeyctl, journeyctl_without_store, text};

/// The environment variable that names the PostgreSQL server for tests.
pub const PG_ENV: &str = "JOURNEYCTL_TEST_POSTGRES_URL";

static SEQ: AtomicU64 = AtomicU64::new(0);

fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let clean: String = clean.chars().take(30).collect();
    format!(
        "t_{clean}_{}_{}_{nanos}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// A store under test, with what it takes to remove it afterwards.
pub struct TestStore {
    pub store: Store,
    pub url: String,
    pub backend: &'static str,
    cleanup: Cleanup,
    _dir: Option<tempfile::TempDir>,
}

enum Cleanup {
    None,
    PgSchema { admin_url: String, schema: String },
}

impl TestStore {
    pub async fn close(self) {
        self.store.close().await;
        if let Cleanup::PgSchema { admin_url, schema } = &self.cleanup {
            let _ = journeyctl::store::scratch::drop_schema(admin_url, schema).await;
        }
    }
}

pub async fn sqlite(name: &str) -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(format!("{}.db", unique(name)));
    let url = format!("sqlite://{}", path.display());
    let store = Store::connect(&Location::parse(&url).unwrap())
        .await
        .expect("open sqlite");
    TestStore {
        store,
        url,
        backend: "sqlite",
        cleanup: Cleanup::None,
        _dir: Some(dir),
    }
}

/// A fresh schema on the test PostgreSQL server, or `None` (said loudly)
/// when the environment does not name one.
pub async fn postgres(name: &str) -> Option<TestStore> {
    server_schema(
        name,
        PG_ENV,
        "postgres",
        "postgres://postgres@127.0.0.1:5432/test",
    )
    .await
}

/// The environment variable that names the Citus coordinator for tests.
pub const CITUS_ENV: &str = "JOURNEYCTL_TEST_CITUS_URL";

/// A fresh schema on the test Citus cluster, laid out over its workers by
/// `migrate`, or `None` (said loudly) when the environment names none.
pub async fn citus(name: &str) -> Option<TestStore> {
    let ts = server_schema(
        name,
        CITUS_ENV,
        "citus",
        "postgres://postgres@127.0.0.1:5433/journeyctl, from ../shared/citus/cluster.sh start",
    )
    .await?;
    assert_eq!(
        ts.store.backend(),
        journeyctl::store::Backend::Citus,
        "{CITUS_ENV} names a database without the citus extension"
    );
    Some(ts)
}

async fn server_schema(
    name: &str,
    env: &str,
    backend: &'static str,
    example: &str,
) -> Option<TestStore> {
    let Ok(admin_url) = std::env::var(env) else {
        loud!("!!! {backend} SKIPPED for {name}: set {env} (e.g. {example})");
        return None;
    };
    let schema = unique(name);
    let store = journeyctl::store::scratch::fresh_schema(&admin_url, &schema)
        .await
        .unwrap_or_else(|e| panic!("{env} is set but the server cannot give a schema: {e}"));
    let url = journeyctl::store::scratch::url_in_schema(&admin_url, &schema);
    Some(TestStore {
        store,
        url,
        backend,
        cleanup: Cleanup::PgSchema { admin_url, schema },
        _dir: None,
    })
}

/// Declares one test per backend: `name::sqlite`, `name::postgres` and
/// `name::citus` (a PostgreSQL store laid out over a Citus cluster). A
/// test that cannot run on Citus says why in one line, and its Citus half
/// is marked ignored with that reason:
/// `both_backends!(name, citus: "why", |ts| ...)`. Where the environment
/// names no server, that backend's half is ignored too (see `build.rs`),
/// so a run counts it as skipped, never as passed.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, citus: $why:literal, |$ts:ident| $body:block) => {
        $crate::both_backends!(@tests $name, |$ts| $body, #[ignore = $why], {});
    };
    ($name:ident, |$ts:ident| $body:block) => {
        $crate::both_backends!(@tests $name, |$ts| $body,
            #[cfg_attr(journeyctl_no_citus, ignore = "Citus skipped: set JOURNEYCTL_TEST_CITUS_URL")],
            {
                let Some(ts) = $crate::common::citus(stringify!($name)).await else { return };
                scenario(&ts).await;
                $crate::common::assert_counters_exact(&ts.store).await;
                ts.close().await;
            });
    };
    (@tests $name:ident, |$ts:ident| $body:block, #[$citus_attr:meta], $citus:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[allow(dead_code)]
            async fn scenario($ts: &$crate::common::TestStore) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let ts = $crate::common::sqlite(stringify!($name)).await;
                scenario(&ts).await;
                $crate::common::assert_counters_exact(&ts.store).await;
                ts.close().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(journeyctl_no_postgres, ignore = "PostgreSQL skipped: set JOURNEYCTL_TEST_POSTGRES_URL")]
            async fn postgres() {
                let Some(ts) = $crate::common::postgres(stringify!($name)).await else { return };
                scenario(&ts).await;
                $crate::common::assert_counters_exact(&ts.store).await;
                ts.close().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[$citus_attr]
            async fn citus() $citus
        }
    };
}

/// A stop of `journey` v`version`, with no reason.
pub fn stop_of(journey: &str, version: i64) -> journeyctl::store::OperatorAction {
    journeyctl::store::OperatorAction {
        kind: journeyctl::domain::ActionKind::Stop,
        target: journeyctl::store::Target::Version {
            journey: journey.into(),
            version: Some(version),
        },
        reason: None,
    }
}

/// The audit log's changes of status and hold, newest first: the rows an
/// `apply` writes (drafts made or rewritten) left out.
pub async fn changes(
    store: &Store,
    journey: Option<&str>,
    limit: i64,
) -> Vec<journeyctl::store::AuditEntry> {
    store
        .audit(journey, limit + 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.action != "apply")
        .take(limit as usize)
        .collect()
}

pub async fn assert_counters_exact(store: &Store) {
    let diffs = store.verify_counters().await.expect("recount");
    assert!(
        diffs.is_empty(),
        "counters differ from a recount of the rows:\n{}",
        diffs.join("\n")
    );
}

pub fn t(s: &str) -> Millis {
    parse_rfc3339(s).unwrap()
}

/// 2026-11-21T10:00:00Z plus `minutes`.
pub fn at(minutes: i64) -> Millis {
    t("2026-11-21T10:00:00Z") + minutes * 60_000
}

pub fn alice() -> Actor {
    Actor::new("alice", "ops-1")
}

pub fn bob() -> Actor {
    Actor::new("bob", "ops-2")
}

pub fn enter(journey: &str, profile: &str, at: Millis) -> TimedEvent {
    TimedEvent {
        event: Event::Enter {
            journey: journey.into(),
            profile: profile.into(),
        },
        at,
    }
}

pub fn goal(profile: &str, name: &str, at: Millis) -> TimedEvent {
    TimedEvent {
        event: Event::Named {
            profile: profile.into(),
            name: name.into(),
        },
        at,
    }
}

pub fn segment(profile: &str, segment: &str, at: Millis) -> TimedEvent {
    TimedEvent {
        event: Event::Segment {
            profile: profile.into(),
            segment: segment.into(),
        },
        at,
    }
}

pub fn def(toml: &str) -> Definition {
    Definition::from_toml(toml).unwrap_or_else(|e| panic!("bad test definition: {e}"))
}

/// email, wait 1h, sms: a journey with a pending step to watch.
pub fn simple(name: &str) -> Definition {
    def(&format!(
        r#"
name = "{name}"
goal = "purchase"
exit_events = ["unsubscribe"]
exit_segment = "suppressed"
exclusion_segment = "staff"

[[steps]]
kind = "message"
action = "email"

[[steps]]
kind = "wait"
duration = "1h"

[[steps]]
kind = "message"
action = "sms"
"#
    ))
}

pub async fn publish(store: &Store, d: &Definition, now: Millis) {
    store.apply(d, &alice(), now).await.expect("apply");
    store
        .publish(&d.name, &alice(), now)
        .await
        .expect("publish");
}

pub async fn summary(
    store: &Store,
    journey: &str,
    version: i64,
) -> journeyctl::store::VersionSummary {
    store
        .list(true)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.journey == journey && s.version == version)
        .unwrap_or_else(|| panic!("no {journey} v{version}"))
}

pub async fn outbox_states(store: &Store, journey: &str, version: i64) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT o.state FROM outbox_effective o JOIN versions v ON v.id = o.version_id \
         JOIN journeys j ON j.id = v.journey_id WHERE j.name = $1 AND v.number = $2 ORDER BY o.id",
    )
    .bind(journey)
    .bind(version)
    .fetch_all(store.pool())
    .await
    .unwrap();
    rows.into_iter().map(|r| r.0).collect()
}

/// Another session that holds a version row's lock (PostgreSQL) or the
/// store's write lock (SQLite), so that a process acting on that version
/// waits inside the database until [`Blocker::release`].
pub struct Blocker {
    conn: sqlx::pool::PoolConnection<sqlx::Any>,
    /// PostgreSQL: the holding session's backend pid.
    pid: Option<i64>,
}

impl Blocker {
    pub async fn hold(store: &Store, journey: &str, version: i64) -> Blocker {
        let mut conn = store.pool().acquire().await.expect("a connection");
        match store.backend() {
            journeyctl::store::Backend::Sqlite => {
                sqlx::query("BEGIN IMMEDIATE")
                    .execute(&mut *conn)
                    .await
                    .expect("take the write lock");
                Blocker { conn, pid: None }
            }
            journeyctl::store::Backend::Postgres | journeyctl::store::Backend::Citus => {
                sqlx::query("BEGIN").execute(&mut *conn).await.unwrap();
                let locked: Option<(i64,)> = sqlx::query_as(
                    "SELECT v.id FROM versions v JOIN journeys j ON j.id = v.journey_id \
                     WHERE j.name = $1 AND v.number = $2 FOR UPDATE OF v",
                )
                .bind(journey)
                .bind(version)
                .fetch_optional(&mut *conn)
                .await
                .unwrap();
                assert!(locked.is_some(), "no {journey} v{version} to lock");
                if store.backend() == journeyctl::store::Backend::Citus {
                    // What a change of status holds there: every bucket's
                    // fence, where batches, claims and records wait.
                    sqlx::query(
                        "INSERT INTO version_shares (bucket, version_id, key, n) \
                         SELECT b, v.id, '', 0 FROM generate_series(0, 63) AS b, versions v \
                         JOIN journeys j ON j.id = v.journey_id WHERE j.name = $1 AND v.number = $2 \
                         ON CONFLICT (bucket, version_id, key) DO UPDATE SET n = 0",
                    )
                    .bind(journey)
                    .bind(version)
                    .execute(&mut *conn)
                    .await
                    .unwrap();
                }
                // A cluster names each process by its global id.
                let who = if store.backend() == journeyctl::store::Backend::Citus {
                    "SELECT citus_backend_gpid()"
                } else {
                    "SELECT CAST(pg_backend_pid() AS BIGINT)"
                };
                let (pid,): (i64,) = sqlx::query_as(who).fetch_one(&mut *conn).await.unwrap();
                Blocker {
                    conn,
                    pid: Some(pid),
                }
            }
        }
    }

    /// PostgreSQL: how many sessions wait, directly or behind another
    /// waiter, for this lock. `None` on SQLite, whose waiters sleep in
    /// their own process and cannot be seen from here.
    pub async fn waiters(&self, store: &Store) -> Option<usize> {
        let holder = self.pid?;
        // (waiting pid, a pid it waits for); on a cluster the waits of
        // every node, by global process id.
        let edges: Vec<(i64, i64)> = if store.backend() == journeyctl::store::Backend::Citus {
            sqlx::query_as("SELECT waiting_gpid, blocking_gpid FROM citus_lock_waits")
                .fetch_all(store.pool())
                .await
                .unwrap()
        } else {
            sqlx::query_as(
                "SELECT CAST(a.pid AS BIGINT), CAST(b.pid AS BIGINT) FROM pg_stat_activity a \
                 CROSS JOIN LATERAL unnest(pg_blocking_pids(a.pid)) AS b(pid) \
                 WHERE a.wait_event_type = 'Lock'",
            )
            .fetch_all(store.pool())
            .await
            .unwrap()
        };
        let mut blocked = vec![holder];
        loop {
            let mut more: Vec<i64> = edges
                .iter()
                .filter(|(pid, by)| !blocked.contains(pid) && blocked.contains(by))
                .map(|(pid, _)| *pid)
                .collect();
            more.sort_unstable();
            more.dedup();
            if more.is_empty() {
                return Some(blocked.len() - 1);
            }
            blocked.extend(more);
        }
    }

    /// Waits until `n` sessions wait behind the lock (PostgreSQL), or until
    /// each of `children` is in line on SQLite (it holds or waits for the
    /// operators' lock file beside the store, as `/proc/locks` shows: the
    /// one holding it waits inside SQLite for the test's write lock), then
    /// checks that each is still running: none got past the lock.
    pub async fn wait_for(&self, store: &Store, n: usize, children: &mut [Proc]) {
        let start = std::time::Instant::now();
        if self.pid.is_some() {
            while self.waiters(store).await.unwrap_or(0) < n {
                assert!(
                    start.elapsed() < std::time::Duration::from_secs(20),
                    "only {:?} of {n} sessions reached the lock",
                    self.waiters(store).await
                );
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        } else {
            let journeyctl::store::Location::Sqlite(path) = store.location() else {
                unreachable!("a SQLite blocker on a SQLite store")
            };
            let pids: Vec<u32> = children.iter().map(|c| c.id()).collect();
            loop {
                let in_line = in_line_at(&operator_lock_file(path));
                let missing: Vec<_> = pids.iter().filter(|p| !in_line.contains(p)).collect();
                if missing.is_empty() {
                    break;
                }
                assert!(
                    start.elapsed() < std::time::Duration::from_secs(20),
                    "process(es) {missing:?} never got in line for the store"
                );
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
        for c in children.iter_mut() {
            assert!(
                c.child().try_wait().unwrap().is_none(),
                "a process finished while the lock was held: it did not wait in the database"
            );
        }
    }

    pub async fn release(mut self) {
        sqlx::query("ROLLBACK")
            .execute(&mut *self.conn)
            .await
            .expect("release the lock");
    }
}

/// The lock file an operator's action holds while it waits on a SQLite
/// store at `path`.
pub fn operator_lock_file(path: &std::path::Path) -> std::path::PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push("-operator");
    p.into()
}

/// The processes that hold or wait for a lock on `file`, from
/// `/proc/locks` (a waiter's line has `->` before its lock).
pub fn in_line_at(file: &std::path::Path) -> Vec<u32> {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(file) else {
        return Vec::new();
    };
    let inode = format!(":{}", meta.ino());
    std::fs::read_to_string("/proc/locks")
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().filter(|f| *f != "->").collect();
            // 1: FLOCK ADVISORY WRITE PID MAJ:MIN:INODE START END
            let dev = fields.get(5)?;
            if !dev.ends_with(&inode) {
                return None;
            }
            fields.get(4)?.parse().ok()
        })
        .collect()
}

/// Delivers up to `n` due messages through the store's claim and record
/// (as a worker whose channel accepts everything); how many it sent.
pub async fn deliver_n(store: &Store, n: i64) -> u64 {
    use journeyctl::store::Attempt;
    let mut sent = 0;
    for v in store.delivery_queue().await.expect("queue") {
        let claimed = store
            .claim(
                v.version_id,
                &v.actions,
                n - sent as i64,
                10_000,
                "test-worker",
            )
            .await
            .expect("claim");
        let attempts: Vec<_> = claimed.into_iter().map(|c| (c, Attempt::Sent)).collect();
        sent += store
            .record(
                v.version_id,
                "test-worker",
                &attempts,
                journeyctl::domain::time::now_millis(),
            )
            .await
            .expect("record")
            .sent;
        if sent as i64 >= n {
            break;
        }
    }
    // As a worker's pass ends: on a cluster the buckets' shares of what
    // it recorded go into the versions' figures.
    store.fold_shares().await.expect("fold");
    sent
}

/// A channels file in `dir` that sends action `email` to a webhook at
/// `url`, with `extra` lines (time-out, attempts); its path.
pub fn channels_file(dir: &std::path::Path, url: &str, extra: &str) -> String {
    let path = dir.join("channels.toml");
    std::fs::write(
        &path,
        format!("[channels.email]\nkind = \"webhook\"\nurl = \"{url}\"\n{extra}"),
    )
    .unwrap();
    path.display().to_string()
}

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
        if let Cleanup::PgSchema { admin_url, schema } = &self.cleanup
            && let Ok(pool) = sqlx::PgPool::connect(admin_url).await
        {
            {
                let sql = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
                pool.close().await;
            }
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
    let Ok(admin_url) = std::env::var(PG_ENV) else {
        loud!(
            "!!! PostgreSQL SKIPPED for {name}: set {PG_ENV} (e.g. postgres://postgres@127.0.0.1:5432/test)"
        );
        return None;
    };
    let schema = unique(name);
    let pool = sqlx::PgPool::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("{PG_ENV} is set but PostgreSQL is unreachable: {e}"));
    let sql = format!("CREATE SCHEMA \"{schema}\"");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&pool)
        .await
        .expect("create schema");
    pool.close().await;
    let sep = if admin_url.contains('?') { '&' } else { '?' };
    let url = format!("{admin_url}{sep}options=-c%20search_path%3D{schema}");
    let store = Store::connect(&Location::parse(&url).unwrap())
        .await
        .expect("open postgres");
    Some(TestStore {
        store,
        url,
        backend: "postgres",
        cleanup: Cleanup::PgSchema { admin_url, schema },
        _dir: None,
    })
}

/// Declares one test per backend: `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, |$ts:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn scenario($ts: &$crate::common::TestStore) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let ts = $crate::common::sqlite(stringify!($name)).await;
                scenario(&ts).await;
                $crate::common::assert_counters_exact(&ts.store).await;
                ts.close().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(ts) = $crate::common::postgres(stringify!($name)).await else { return };
                scenario(&ts).await;
                $crate::common::assert_counters_exact(&ts.store).await;
                ts.close().await;
            }
        }
    };
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
        event: Event::Goal {
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

//! The one place that speaks SQL. SQLite (the embedded default) and
//! PostgreSQL (a team's shared store) run the same statements through sqlx's
//! `Any` driver: every time is epoch milliseconds in a BIGINT and every flag
//! a BIGINT, so no type the `Any` driver cannot carry is ever stored.
//!
//! This file is the store's public face; the rest is laid out by job, each
//! folder under the ones it uses (`tests/layers.rs` keeps it so):
//! `order/` (who waits for whom: every lock), `open/` (reaching a store,
//! logins), `live/` (changes as they happen), `figures/` (counters, minutes,
//! a cluster's shares), `read/` (what the faces show), `lifecycle/`
//! (operators' actions and every status change), and the writers
//! `engine/`, `ingest/` and `delivery/`.

mod delivery;
mod dialect;
mod engine;
mod error;
mod figures;
mod ingest;
mod lifecycle;
mod live;
mod open;
mod order;
mod read;
mod schedule;

use std::time::Duration;

use sqlx::{AnyPool, Row};

pub use delivery::flow::{Limits, Slots};
pub use delivery::holds::{ActionHold, HoldExpiry, HoldImpact};
pub use delivery::rates::{LiveLimits, LiveRate, MOST_CONCURRENCY, RateChanged};
pub use delivery::{Attempt, Claimed, PendingVersion, Recorded};
pub use dialect::Backend;
pub use engine::lanes::TickReport;
pub use error::{Error, Outage, ReadOnly, Refusal, Result, Unopened};
pub use figures::minutes;
pub use ingest::{EVENTS_PER_TRANSACTION, IngestReport, LineError};
pub use lifecycle::audit::MessageFigures;
pub(crate) use lifecycle::audit::{AuditChange, insert_audit};
pub use live::{Change, Watcher};
pub use open::cluster::NodeRows;
pub use open::scratch;
pub use open::{FileChange, Location, PoolSettings, default_sqlite_path};

pub use crate::domain::{OperatorAction, Target};
pub use lifecycle::alert_state::{ActionWindow, Episode};
pub use lifecycle::approvals::{APPROVABLE, Policy, Request};
pub use lifecycle::change::{Impact, Outcome, VersionImpact};
pub use lifecycle::journeys::PublishImpact;
pub use lifecycle::notes::Noted;
pub use lifecycle::variants::{VariantChoice, VariantChosen};
pub use open::trust::{Grant, Granted};
pub use order::waits::Waiting;
pub use read::forecast::Forecast;
pub use read::{
    AbSummary, ActionHealth, AuditEntry, AuditFilter, Backlog, ChosenArm, Claim, Counts, Messages,
    Note, PausedSummary, PerMinute, ProfileEntry, Rates, Recent, ScheduleMark, StepCount,
    TREND_MARKS, Tally, TrendEvent, VariantSummary, VersionDetail, VersionSummary,
};
pub use schedule::{ScheduleState, Scheduled, ScheduledRun, ended_words};

use crate::domain::{Definition, Millis, VersionStatus};

/// Who acts: the operator's name and the host they act from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub host: String,
    /// The scheduled action this is carried out as (its audit rows name
    /// it, their way `scheduled`); `None` for an action taken now.
    pub schedule: Option<i64>,
    /// The approval request this carries out (four eyes): its audit rows
    /// name it and who asked.
    pub approval: Option<Approval>,
}

/// A request another operator asked for, being carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub id: i64,
    pub asked_by: String,
}

impl Actor {
    pub fn new(name: impl Into<String>, host: impl Into<String>) -> Actor {
        Actor {
            name: name.into(),
            host: host.into(),
            schedule: None,
            approval: None,
        }
    }

    /// `--actor`, else the login user, on this machine's hostname.
    pub fn from_environment(name: Option<String>) -> Actor {
        let name = name
            .filter(|n| !n.trim().is_empty())
            .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
            .or_else(|| std::env::var("LOGNAME").ok().filter(|u| !u.is_empty()))
            .or_else(login_from_passwd)
            .unwrap_or_else(|| "unknown".to_string());
        Actor::new(name, this_host())
    }

    /// `Err` when the name or the host holds a NUL or other control
    /// character: neither enters the audit log.
    pub fn refuse_control(&self) -> Result<()> {
        use crate::domain::text::refuse_control;
        refuse_control("--actor", &self.name, false)
            .and_then(|()| refuse_control("the host name", &self.host, false))
            .map_err(Error::Invalid)
    }

    /// The actor of date rules.
    pub fn schedule() -> Actor {
        Actor::new("schedule", this_host())
    }
}

/// The login name of this process's user, from /etc/passwd (no USER set,
/// as under cron or a bare `ssh host cmd`).
fn login_from_passwd() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut f = line.split(':');
        let name = f.next()?;
        let _ = f.next()?;
        (f.next()?.parse::<u32>().ok()? == uid).then(|| name.to_string())
    })
}

pub fn this_host() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    kind: dialect::SharedBackend,
    location: Location,
    /// A SQLite store's file as it was opened (device and inode): a file
    /// replaced under it (a demo run again, a restore) is noticed.
    file: Option<(u64, u64)>,
}

impl Store {
    /// Opens the store, making a missing SQLite file, and brings its schema
    /// up to date.
    pub async fn connect(location: &Location) -> Result<Store> {
        Store::connect_with(location, &PoolSettings::creating()).await
    }

    /// Opens the store and brings its schema up to date.
    pub async fn connect_with(location: &Location, options: &PoolSettings) -> Result<Store> {
        let store = Store::open(location, options).await?;
        if !store.schema_is_current().await {
            if !options.create_if_missing && store.is_empty_schema().await? {
                let err = store.empty_schema_error().await;
                store.close().await;
                return Err(err);
            }
            if !store.may_migrate().await? {
                let login = store.login().await?.unwrap_or_default();
                store.close().await;
                return Err(Error::ReadOnly(ReadOnly::OldSchema { login }));
            }
            store.migrate().await?;
        }
        Ok(store)
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        self.backend().migrator()
    }

    /// Whether every migration is applied already: then nothing needs
    /// writing, and a role that may only read can open the store.
    pub async fn schema_is_current(&self) -> bool {
        let newest = self.migrator().iter().map(|m| m.version).max().unwrap_or(0);
        let applied: std::result::Result<Option<i64>, _> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await;
        matches!(applied, Ok(Some(v)) if v >= newest) && self.laid_out().await.unwrap_or(false)
    }

    pub async fn migrate(&self) -> Result<()> {
        self.migrator()
            .run(&self.pool)
            .await
            .map_err(|e| Error::Migration(error::first_line(&e.to_string())))?;
        self.lay_out().await
    }

    /// Rows per multi-row statement. SQLite looks each `$N` up by name,
    /// which grows with the number of parameters; PostgreSQL pays per
    /// round trip instead.
    pub(crate) fn chunk_rows(&self) -> usize {
        self.backend().chunk_rows()
    }

    pub fn backend(&self) -> Backend {
        self.kind.get()
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Whether the store answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// The facts of one version row that the engine and the lifecycle need.
#[derive(Debug, Clone)]
pub(crate) struct VersionInfo {
    pub id: i64,
    pub journey_id: i64,
    pub journey: String,
    pub number: i64,
    pub status: VersionStatus,
    pub status_at: Millis,
    pub status_by: String,
    pub status_host: String,
    /// The definition; an empty one (no steps) when the stored one cannot
    /// be read, with why in `unreadable`.
    pub definition: Definition,
    pub unreadable: Option<String>,
    /// Other versions of the journey that still run (live or finished).
    pub others_running: i64,
    /// The hold, when the version is paused.
    pub paused: Option<Paused>,
}

/// A version's hold: since when, until when, what then, and by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paused {
    pub since: Millis,
    pub until: Millis,
    pub on_expiry: crate::domain::OnExpiry,
    pub by: String,
    /// The store-wide brake that made the hold, if one did.
    pub incident: Option<String>,
}

/// `SELECT` of the columns [`version_info`] reads, to be completed with
/// `concat!` by a `WHERE` clause.
macro_rules! select_version_info {
    () => {
        "SELECT v.id, v.journey_id, j.name AS journey, v.number, v.status, v.status_at, \
         v.status_by, v.status_host, v.definition, \
         v.paused_at, v.paused_until, v.paused_on_expiry, v.paused_by, v.paused_incident, \
         (SELECT COUNT(*) FROM versions o WHERE o.journey_id = v.journey_id AND o.id <> v.id \
          AND o.status IN ('live', 'finished')) AS others_running \
         FROM versions v JOIN journeys j ON j.id = v.journey_id "
    };
}
pub(crate) use select_version_info;

pub(crate) fn version_info(row: &sqlx::any::AnyRow) -> Result<VersionInfo> {
    let status: String = row.try_get("status")?;
    let (definition, unreadable) = read_definition(&row.try_get::<String, _>("definition")?);
    Ok(VersionInfo {
        id: row.try_get("id")?,
        journey_id: row.try_get("journey_id")?,
        journey: row.try_get("journey")?,
        number: row.try_get("number")?,
        status: status.parse().map_err(|what| Error::Corrupt { what })?,
        status_at: row.try_get("status_at")?,
        status_by: row.try_get("status_by")?,
        status_host: row.try_get("status_host")?,
        definition,
        unreadable,
        others_running: row.try_get("others_running")?,
        paused: paused_of(row)?,
    })
}

/// A stored definition, or (when it cannot be read) an empty one and why:
/// one bad row marks its version, never every screen or the engine.
pub(crate) fn read_definition(text: &str) -> (Definition, Option<String>) {
    match serde_json::from_str(text) {
        Ok(d) => (d, None),
        Err(e) => (
            Definition::unreadable(),
            Some(format!(
                "stored definition: {}",
                e.to_string().replace(['\n', '\r'], " ")
            )),
        ),
    }
}

/// The hold of a row with the `paused_*` columns, if any.
pub(crate) fn paused_of(row: &sqlx::any::AnyRow) -> Result<Option<Paused>> {
    let since: Option<Millis> = row.try_get("paused_at")?;
    let Some(since) = since else {
        return Ok(None);
    };
    let rule: Option<String> = row.try_get("paused_on_expiry")?;
    Ok(Some(Paused {
        since,
        until: row
            .try_get::<Option<Millis>, _>("paused_until")?
            .unwrap_or(since),
        on_expiry: rule.unwrap_or_default().parse().unwrap_or_default(),
        by: row
            .try_get::<Option<String>, _>("paused_by")?
            .unwrap_or_default(),
        incident: row.try_get("paused_incident")?,
    }))
}

/// The database's clock in epoch milliseconds, read on its own: a clock
/// bound as a value, where a statement may not call it (inside a CASE of a
/// write on a cluster) or must use one reading for several rows.
pub(crate) async fn db_clock_ms(conn: &mut sqlx::AnyConnection, backend: Backend) -> Result<i64> {
    Ok(
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT {}", backend.db_now())))
            .fetch_one(conn)
            .await?,
    )
}

impl VersionInfo {
    /// "spring-sale v2".
    pub fn label(&self) -> String {
        format!("{} v{}", self.journey, self.number)
    }

    /// "stopped by alice on ops-1 at 2026-11-21T10:00:00Z".
    pub fn status_story(&self) -> String {
        format!("{} {}", self.status, self.by_story())
    }

    /// "by alice on ops-1 at 2026-11-21T10:00:00Z".
    pub fn by_story(&self) -> String {
        format!(
            "by {} on {} at {}",
            self.status_by,
            self.status_host,
            crate::domain::time::to_rfc3339(self.status_at)
        )
    }
}

/// Runs `f` again when the store reports a transient conflict.
pub(crate) async fn with_retry<T, F, Fut>(mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut attempt = 0;
    loop {
        match f().await {
            Err(e) if e.is_transient() && attempt < 8 => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(10 << attempt.min(6))).await;
            }
            other => return other,
        }
    }
}

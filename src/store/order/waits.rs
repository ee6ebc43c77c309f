//! What an operator's action waits on, who holds it, and giving up.
//!
//! On PostgreSQL an action's transaction notes the server process it runs
//! in before it waits for a version's lock. While it waits, the store asks
//! the server who blocks that process (`pg_blocking_pids`) and tells the
//! watcher their login, application and since when. Giving up (the CLI's
//! `--lock-timeout`, Esc in the console's pane) cancels the waiting
//! statement on the server and then waits for the action's own answer, so
//! what is reported is exact: either it had committed, or nothing changed.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use sqlx::Row;

use crate::domain::Millis;
use crate::store::order::statements::turn_lock_class;
use crate::store::{Backend, Error, Result, Store};

/// What an operator's action is waiting for, told after it has waited a
/// while so that nobody stares at a silent prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waiting {
    /// Its turn at the store: another writer holds it.
    Store,
    /// Its turn at the store, held by these sessions (login, application,
    /// process, since when): PostgreSQL says who blocks it.
    Held(String),
    /// Deliveries of its versions still in flight (how many).
    Deliveries(i64),
}

/// An operator's action in progress: its server process (0: none yet)
/// and whether its operator gave up.
#[derive(Default)]
pub(crate) struct Progress {
    pid: AtomicI32,
    given_up: AtomicBool,
}

/// Who takes a turn at a version: an operator's action that can give up
/// and is never held hostage ([`Store::execute_until`]), or any other
/// writer (engine batches, ingests, deliveries, publishes, holds that run
/// out, and actions executed without a way to give up).
#[derive(Clone, Copy)]
pub(crate) enum Turn<'a> {
    Operator(&'a Progress),
    Background,
}

impl Progress {
    /// The operator gave up: the action stops waiting at its next look.
    pub(crate) fn give_up(&self) {
        self.given_up.store(true, Ordering::Relaxed);
    }

    /// The server process the action runs in; 0 when none yet.
    pub(crate) fn pid(&self) -> i32 {
        self.pid.load(Ordering::Relaxed)
    }
}

impl Turn<'_> {
    /// Whether the operator of this action gave up.
    pub(crate) fn given_up(self) -> bool {
        match self {
            Turn::Operator(p) => p.given_up.load(Ordering::Relaxed),
            Turn::Background => false,
        }
    }

    fn note_pid(self, pid: i32) {
        if let Turn::Operator(p) = self {
            p.pid.store(pid, Ordering::Relaxed);
        }
    }

    fn pid(self) -> i32 {
        match self {
            Turn::Operator(p) => p.pid(),
            Turn::Background => 0,
        }
    }
}

/// An operator's turn at a version on PostgreSQL (`lock` takes the
/// version's advisory lock, `$1` its id). The advisory lock puts the
/// action first in line before engine batches, but any login may take an
/// advisory lock, even one without a privilege on the schema. So the
/// action waits for it a second at a time; when what holds it then is
/// only logins that cannot update versions (no journeyctl engine,
/// operator or owner: nothing of ours is in flight), it goes on without
/// it. The version's row lock, which it takes next, needs the privilege
/// to update versions, and each engine batch checks the version's status
/// under that row lock before it writes its counters, so a batch that
/// starts meanwhile ends without effect.
pub(crate) async fn operator_turn(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    backend: Backend,
    lock: &'static str,
    version_id: i64,
    progress: &Progress,
) -> Result<()> {
    let turn = Turn::Operator(progress);
    // First (one round trip, as a plain lock would be): note the server
    // process, for who-blocks-it and for giving up, and try the lock.
    let Some(try_lock) = backend.try_exclude_engines() else {
        return Ok(());
    };
    let row = sqlx::query(try_lock)
        .bind(version_id)
        .fetch_one(&mut **tx)
        .await?;
    let pid: i32 = row.try_get("pid")?;
    turn.note_pid(pid);
    if row.try_get::<i32, _>("got")? == 1 {
        return Ok(());
    }
    loop {
        sqlx::raw_sql("SAVEPOINT turn; SET LOCAL lock_timeout = '1s'")
            .execute(&mut **tx)
            .await?;
        match sqlx::query(lock).bind(version_id).execute(&mut **tx).await {
            Ok(_) => {
                sqlx::raw_sql("SET LOCAL lock_timeout = 0; RELEASE SAVEPOINT turn")
                    .execute(&mut **tx)
                    .await?;
                return Ok(());
            }
            Err(sqlx::Error::Database(d)) if d.code().as_deref() == Some("55P03") => {
                sqlx::raw_sql("ROLLBACK TO SAVEPOINT turn; SET LOCAL lock_timeout = 0")
                    .execute(&mut **tx)
                    .await?;
            }
            Err(e) => return Err(e.into()),
        }
        if turn.given_up() {
            return Err(Error::GaveUp);
        }
        let (holders, ours): (i64, i64) = sqlx::query_as(concat!(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE has_table_privilege(a.usename, \
             format('%I.versions', current_schema()), 'UPDATE')) \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid() \
             AND l.classid = ",
            turn_lock_class!(),
            " AND l.objid = CAST($1 % 2147483647 AS INTEGER) AND l.objsubid = 2"
        ))
        .bind(version_id)
        .fetch_one(&mut **tx)
        .await?;
        if holders > 0 && ours == 0 {
            tracing::warn!(
                "version id {version_id}: its turn lock is held by {holders} session(s) of logins without a privilege on the store; the action goes on without it"
            );
            return Ok(());
        }
    }
}

/// An operator's turns at several versions (`json` their ids as JSON
/// rows, `ids` in id order): all tried at once, in one round trip, which
/// is how it goes when nothing else is in flight. When any is held, the
/// tries are undone and each is taken in id order as [`operator_turn`]
/// takes one, so two actions on overlapping sets never wait for each
/// other in a circle.
pub(crate) async fn operator_turns(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    backend: Backend,
    json: &str,
    ids: &[i64],
    progress: &Progress,
) -> Result<()> {
    let (Some(try_all), Some(lock)) =
        (backend.try_exclude_engines_of(1), backend.exclude_engines())
    else {
        return Ok(());
    };
    sqlx::raw_sql("SAVEPOINT turns").execute(&mut **tx).await?;
    let row = sqlx::query(sqlx::AssertSqlSafe(try_all))
        .bind(json)
        .fetch_one(&mut **tx)
        .await?;
    Turn::Operator(progress).note_pid(row.try_get("pid")?);
    let got: i64 = row.try_get("got")?;
    if usize::try_from(got).ok() == Some(ids.len()) {
        return Ok(());
    }
    sqlx::raw_sql("ROLLBACK TO SAVEPOINT turns")
        .execute(&mut **tx)
        .await?;
    for &id in ids {
        operator_turn(tx, backend, lock, id, progress).await?;
    }
    Ok(())
}

impl Store {
    /// Who holds what this action waits for, in a line: `mal
    /// (psql, pid 4242) since 10:02:03`; `None` when unknown (SQLite, not
    /// waiting on another process).
    pub(crate) async fn holders(&self, turn: Turn<'_>, waiting_since: Millis) -> Option<String> {
        let pid = turn.pid();
        if pid == 0 {
            return None;
        }
        let rows = sqlx::query(
            "SELECT a.pid, CAST(a.usename AS TEXT) AS login, CAST(a.application_name AS TEXT) AS app, \
             CAST(EXTRACT(EPOCH FROM COALESCE(a.xact_start, a.backend_start)) * 1000 AS BIGINT) AS since \
             FROM pg_stat_activity a WHERE a.pid = ANY (pg_blocking_pids($1)) ORDER BY a.pid",
        )
        .bind(pid)
        .fetch_all(&self.pool)
        .await
        .ok()?;
        let who: Vec<String> = rows
            .iter()
            .map(|r| {
                let login: Option<String> = r.try_get("login").ok().flatten();
                let app: Option<String> = r.try_get("app").ok().flatten();
                let since: Option<Millis> = r.try_get("since").ok().flatten();
                let pid: i32 = r.try_get("pid").unwrap_or(0);
                let app = app
                    .filter(|a| !a.is_empty())
                    .map_or_else(|| "no application name".into(), |a| shown(&a));
                let since = match since {
                    Some(t) => format!("since {}", crate::domain::time::to_rfc3339(t)),
                    None => format!(
                        "since before {}",
                        crate::domain::time::to_rfc3339(waiting_since)
                    ),
                };
                format!(
                    "{} ({app}, pid {pid}) {since}",
                    login.map_or_else(|| "an unknown login".into(), |l| shown(&l))
                )
            })
            .collect();
        (!who.is_empty()).then(|| who.join("; "))
    }
}

/// A name another login chose, at most 64 characters (the faces show its
/// control characters escaped: `present::waiting_line`).
fn shown(text: &str) -> String {
    text.chars().take(64).collect()
}

//! Who writes next on a SQLite store. SQLite writes one transaction at a
//! time and has no queue: a writer that finds the store busy polls until
//! its time-out, so an operator's stop would compete with every batch of a
//! running engine and worker, and sometimes lose. Two lock files beside the
//! store put order into it:
//!
//! - `STORE-operator`: an operator's action (stop, finish, pause, resume,
//!   kill switch) holds it exclusively while its transaction waits and
//!   runs. Engine batches, delivery claims and ingest batches look at it
//!   before they begin (a shared lock taken and let go at once) and wait
//!   while an action holds it. So an action waits for at most the one batch
//!   already running, and is served before the next one.
//! - `STORE-engine`: engines side by side take turns, a whole tick at a
//!   time. A second engine's batches could only interleave with the
//!   first's and slow both; instead it waits (woken the moment the lock is
//!   free), then runs what is still due.
//!
//! The operating system drops a lock with its process, so a killed engine
//! or operator never leaves one held. PostgreSQL needs neither: its lock
//! manager queues writers in order (see `exclude_engines`).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use crate::store::order::waits::{Turn, Waiting};
use crate::store::{Error, Location, Result, Store};

/// A lock file beside a SQLite store at `path`: `STORE-engine` or
/// `STORE-operator`.
fn side_path(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    p.into()
}

#[derive(Clone, Copy)]
enum Mode {
    Exclusive,
    Shared,
}

fn try_take(file: &File, mode: Mode) -> std::result::Result<(), TryLockError> {
    match mode {
        Mode::Exclusive => file.try_lock(),
        Mode::Shared => file.try_lock_shared(),
    }
}

/// Takes the lock of `suffix` in `mode`, waiting on a blocking thread
/// (woken the moment it is free) when it is held; `None` on PostgreSQL.
async fn take(location: &Location, suffix: &str, mode: Mode) -> Result<Option<File>> {
    let Location::Sqlite(path) = location else {
        return Ok(None);
    };
    let lock_path = side_path(path, suffix);
    // The lock files get the store's own mode: whoever may write the store
    // may take its turn, nobody else.
    let file_mode = {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).map_or(0o600, |m| m.permissions().mode() & 0o666)
    };
    let file = {
        use std::os::unix::fs::OpenOptionsExt;
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(file_mode)
            .open(&lock_path)
    }
    .map_err(|e| lock_error(&lock_path, &e))?;
    match try_take(&file, mode) {
        Ok(()) => return Ok(Some(file)),
        Err(TryLockError::WouldBlock) => {}
        Err(TryLockError::Error(e)) => return Err(lock_error(&lock_path, &e)),
    }
    tokio::task::spawn_blocking(move || {
        match mode {
            Mode::Exclusive => file.lock(),
            Mode::Shared => file.lock_shared(),
        }
        .map(|()| file)
    })
    .await
    .map_err(|e| Error::LockWait {
        lock: None,
        cause: e.to_string(),
    })?
    .map(Some)
    .map_err(|e| lock_error(&lock_path, &e))
}

impl Store {
    /// This engine's turn on a SQLite store, held until the value is
    /// dropped; `None` on PostgreSQL.
    pub(in crate::store) async fn engine_turn(&self) -> Result<Option<File>> {
        take(self.location(), "-engine", Mode::Exclusive).await
    }

    /// An operator's action goes first on a SQLite store: held until the
    /// value is dropped, it keeps the next engine batch, delivery claim and
    /// ingest batch waiting; `None` on PostgreSQL.
    pub(in crate::store) async fn operator_first(&self) -> Result<Option<File>> {
        take(self.location(), "-operator", Mode::Exclusive).await
    }

    /// Waits while an operator's action waits or runs on a SQLite store.
    /// Every batch of background work calls this before it begins.
    pub(in crate::store) async fn after_operators(&self) -> Result<()> {
        drop(take(self.location(), "-operator", Mode::Shared).await?);
        Ok(())
    }

    /// A write transaction of background work (engine batch, delivery
    /// claim, ingest batch): begun after any operator's action.
    pub(crate) async fn begin_background_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        self.after_operators().await?;
        self.begin_write().await
    }
}

/// How long an action waits before it says that it waits.
const WAIT_BEFORE_TELLING: std::time::Duration = std::time::Duration::from_secs(1);

impl Store {
    /// Runs one write of an operator's action in its turn: first in line
    /// on SQLite, again and again while the store reports itself busy, and
    /// telling `watch` once it has waited a second.
    pub(in crate::store) async fn in_turn<T, F, Fut>(
        &self,
        watch: &(dyn Fn(Waiting) + Sync),
        turn: Turn<'_>,
        write: F,
    ) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let started = std::time::Instant::now();
        let since = crate::domain::time::now_millis();
        // What the watcher was told last: told again only when it changes.
        let told = std::sync::Mutex::new(None::<Waiting>);
        let tell = |w: Waiting| {
            let mut last = told
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.as_ref() != Some(&w) {
                *last = Some(w.clone());
                watch(w);
            }
        };
        loop {
            if turn.given_up() {
                return Err(Error::GaveUp);
            }
            let attempt = async {
                let _first = self.operator_first().await?;
                write().await
            };
            tokio::pin!(attempt);
            // Once a second past the first: who holds what it waits for.
            let result = loop {
                let left = WAIT_BEFORE_TELLING.saturating_sub(started.elapsed());
                let pause = if left.is_zero() {
                    WAIT_BEFORE_TELLING
                } else {
                    left
                };
                tokio::select! {
                    r = &mut attempt => break r,
                    () = tokio::time::sleep(pause) => {
                        tell(match self.holders(turn, since).await {
                            Some(who) => Waiting::Held(who),
                            None => Waiting::Store,
                        });
                    }
                }
            };
            match result {
                Err(e) if e.is_busy() => {
                    if started.elapsed() >= WAIT_BEFORE_TELLING {
                        tell(Waiting::Store);
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                other => return other,
            }
        }
    }
}

fn lock_error(path: &Path, e: &std::io::Error) -> Error {
    Error::LockWait {
        lock: Some(path.to_path_buf()),
        cause: e.to_string(),
    }
}

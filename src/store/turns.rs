//! Engines side by side on one SQLite file take turns, a whole tick at a
//! time. SQLite writes one transaction at a time, so a second engine's
//! batches could only interleave with the first's and slow both; instead
//! each tick holds an exclusive lock on a file beside the store
//! (`STORE-engine`), and an engine that finds it held waits for it (woken
//! the moment it is free), then runs what is still due. The operating system drops the lock with the
//! process, so a killed engine never leaves it held. PostgreSQL engines
//! need no turns: their batches claim different participants.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use super::{Error, Location, Result, Store};

/// The lock file of a SQLite store at `path`.
pub(super) fn turn_path(path: &Path) -> std::path::PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push("-engine");
    p.into()
}

impl Store {
    /// This engine's turn on a SQLite store, held until the value is
    /// dropped; `None` on PostgreSQL.
    pub(super) async fn engine_turn(&self) -> Result<Option<File>> {
        let Location::Sqlite(path) = self.location() else {
            return Ok(None);
        };
        let lock_path = turn_path(path);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| lock_error(&lock_path, &e))?;
        match file.try_lock() {
            Ok(()) => return Ok(Some(file)),
            Err(TryLockError::WouldBlock) => {}
            Err(TryLockError::Error(e)) => return Err(lock_error(&lock_path, &e)),
        }
        // Held: wait on a blocking thread, woken the moment it is free.
        tokio::task::spawn_blocking(move || file.lock().map(|()| file))
            .await
            .map_err(|e| Error::Invalid(format!("the engines' lock wait failed: {e}")))?
            .map(Some)
            .map_err(|e| lock_error(&lock_path, &e))
    }
}

fn lock_error(path: &Path, e: &std::io::Error) -> Error {
    Error::Invalid(format!(
        "cannot take the engines' lock {}: {e}",
        path.display()
    ))
}

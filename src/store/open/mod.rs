//! Where a store is and how to reach it: locations as users name them,
//! pool settings, opening, and telling an operator exactly why a database
//! cannot be reached (refused, unknown host, authentication, time-out).

pub(in crate::store) mod cluster;
mod location;
pub mod scratch;
pub(in crate::store) mod trust;

pub use location::{Location, default_sqlite_path};

use std::str::FromStr;
use std::time::Duration;

use sqlx::ConnectOptions as _;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;

use crate::store::dialect::SharedBackend;
use crate::store::error::first_line;
use crate::store::{Backend, Error, Outage, Result, Store, Unopened};

/// Makes a new SQLite store's file readable and writable by its owner
/// only (0600; SQLite gives its `-wal` and `-shm` files the same mode),
/// and its missing folders 0700. The file is created, never opened
/// through a link: a dangling symbolic link where the store should be is
/// refused, not followed.
fn create_private(path: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| {
                Error::Invalid(format!("cannot create the folder {}: {e}", dir.display()))
            })?;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map(drop)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Error::Invalid(format!(
                "{} is a symbolic link: journeyctl never makes a store through a link",
                path.display()
            )),
            _ => Error::Invalid(format!("cannot create the store {}: {e}", path.display())),
        })
}

/// How to connect to `location`: pool settings (SQLite gets WAL and its
/// pragmas on every connection), connect options and the backend.
fn pool_for(
    location: &Location,
    options: &PoolSettings,
    citus: Option<bool>,
) -> Result<(AnyPoolOptions, AnyConnectOptions, SharedBackend)> {
    sqlx::any::install_default_drivers();
    let (any_options, backend) = match location {
        Location::Sqlite(path) => {
            if !options.create_if_missing && !path.exists() {
                return Err(Error::Invalid(format!(
                    "no store at {}: check the path (a new store is made by `journeyctl migrate`, `apply` or `ingest`)",
                    path.display()
                )));
            }
            if options.create_if_missing && !path.exists() {
                // Nothing there (or a link to nothing): made here, 0600.
                create_private(path)?;
            }
            let url = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(options.create_if_missing)
                .to_url_lossy();
            (AnyConnectOptions::from_url(&url)?, Backend::Sqlite)
        }
        Location::Postgres(url) => (
            AnyConnectOptions::from_str(url)?,
            if citus == Some(true) {
                Backend::Citus
            } else {
                Backend::Postgres
            },
        ),
    };
    // A store opened while its server was away learns from each new
    // session whether the database is a Citus cluster.
    let learn = citus.is_none() && matches!(location, Location::Postgres(_));
    let shared = SharedBackend::new(backend);
    let cell = shared.clone();
    let pool = AnyPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout)
        .after_connect(move |conn, _| {
            let cell = cell.clone();
            Box::pin(async move {
                if learn {
                    let n: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM pg_extension WHERE extname = 'citus'",
                    )
                    .fetch_one(&mut *conn)
                    .await?;
                    cell.set(if n > 0 {
                        Backend::Citus
                    } else {
                        Backend::Postgres
                    });
                }
                if let Some(setup) = cell.get().session_setup() {
                    sqlx::raw_sql(setup).execute(&mut *conn).await?;
                }
                Ok(())
            })
        });
    Ok((pool, any_options, shared))
}

#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// Make a missing SQLite file (and its folder). Only the commands that
    /// load a store and the embedded default do: anywhere else a missing
    /// file is a typo, and an empty store would read as "nothing running".
    pub create_if_missing: bool,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: 4,
            acquire_timeout: Duration::from_secs(5),
            create_if_missing: false,
        }
    }
}

impl PoolSettings {
    /// The defaults, creating a missing SQLite file.
    pub fn creating() -> PoolSettings {
        PoolSettings {
            create_if_missing: true,
            ..PoolSettings::default()
        }
    }
}

impl Store {
    /// Opens the store without touching the schema; a missing SQLite file
    /// is made only when `options` say so. A PostgreSQL server that cannot
    /// be reached is reported at once with the reason (refused, unknown
    /// host, authentication, time-out), never after waiting out the pool.
    pub async fn open(location: &Location, options: &PoolSettings) -> Result<Store> {
        let citus = match location {
            Location::Postgres(_) => probe(location, options.acquire_timeout).await?,
            Location::Sqlite(_) => false,
        };
        let (pool_options, any_options, backend) = pool_for(location, options, Some(citus))?;
        let pool = pool_options
            .connect_with(any_options)
            .await
            .map_err(|e| opening_error(location, &e))?;
        Ok(Store {
            pool,
            kind: backend,
            location: location.clone(),
            file: file_id(location),
        })
    }

    /// A store whose connections are made when first needed: for a console
    /// opened while the database is away, which then waits for it. Whether
    /// it is a Citus cluster is learned from its first session.
    pub fn open_lazy(location: &Location, options: &PoolSettings) -> Result<Store> {
        let (pool_options, any_options, backend) = pool_for(location, options, None)?;
        Ok(Store {
            pool: pool_options.connect_lazy_with(any_options),
            kind: backend,
            location: location.clone(),
            file: file_id(location),
        })
    }

    /// A SQLite store whose file is no longer the one opened: gone, or
    /// replaced by another (a demo run again, a restore). Its sessions
    /// still read the old file, so its figures would be the old file's
    /// under `● live`. `None` on PostgreSQL and while the file is the same.
    pub fn file_change(&self) -> Option<FileChange> {
        let (Location::Sqlite(path), Some(opened)) = (&self.location, self.file) else {
            return None;
        };
        match file_id(&self.location) {
            None => Some(FileChange::Gone(path.clone())),
            Some(now) if now != opened => Some(FileChange::Replaced(path.clone())),
            Some(_) => None,
        }
    }

    /// Keeps to the store's file as it is now: a SQLite file replaced
    /// under it (a restore, a demo run again) is opened anew (never
    /// made) and the old sessions closed, `Ok(true)`; a file that is gone
    /// is an error; else nothing changes, `Ok(false)`.
    pub async fn follow_file(&mut self) -> Result<bool> {
        match self.file_change() {
            None => Ok(false),
            Some(FileChange::Replaced(_)) => {
                let fresh = Store::open(&self.location, &PoolSettings::default()).await?;
                std::mem::replace(self, fresh).close().await;
                tracing::info!("the store's file was replaced: opened the new one");
                Ok(true)
            }
            Some(gone) => Err(gone.into()),
        }
    }

    /// Whether the store can be reached now, found out with one connection
    /// of its own (not the pool's, which waits out refusals while a server
    /// starts): `Ok` when it answers within `within`, else why not.
    pub async fn diagnose(&self, within: Duration) -> Result<()> {
        probe(&self.location, within).await.map(|_| ())
    }

    /// A heartbeat, far cheaper than a fetch: the PostgreSQL session
    /// `conn` (one of its own, taken from the pool the first time and
    /// again after a failure) answers a ping within `within`. A server
    /// that went away, or a link that went quiet without closing (a cut
    /// network, a frozen host), fails it. On SQLite there is no server to
    /// ping: always `Ok`.
    pub async fn heartbeat(
        &self,
        conn: &mut Option<sqlx::AnyConnection>,
        within: Duration,
    ) -> Result<()> {
        use sqlx::Connection;
        if let Location::Sqlite(_) = &self.location {
            // No server to ping; the file must still be the one opened.
            return match self.file_change() {
                Some(change) => Err(change.into()),
                None => Ok(()),
            };
        }
        let beat = async {
            if conn.is_none() {
                *conn = Some(self.pool.acquire().await?.detach());
            }
            if let Some(c) = conn.as_mut() {
                c.ping().await?;
            }
            Ok::<_, Error>(())
        };
        let answer = match tokio::time::timeout(within, beat).await {
            Ok(r) => r,
            Err(_) => Err(Error::Unreachable {
                location: None,
                cause: Outage::NoAnswer {
                    within: Some(within),
                },
            }),
        };
        if answer.is_err() {
            // A session that failed once is not trusted again.
            *conn = None;
        }
        answer
    }
}

/// How a SQLite store's file changed under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChange {
    Gone(std::path::PathBuf),
    Replaced(std::path::PathBuf),
}

impl From<FileChange> for Error {
    fn from(change: FileChange) -> Error {
        Error::Unreachable {
            location: None,
            cause: match change {
                FileChange::Gone(path) => Outage::FileGone(path),
                FileChange::Replaced(path) => Outage::FileReplaced(path),
            },
        }
    }
}

/// A SQLite file's device and inode, if it is there.
fn file_id(location: &Location) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    match location {
        Location::Sqlite(path) => std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino())),
        Location::Postgres(_) => None,
    }
}

/// One connection attempt outside the pool, classified.
/// Whether the store can be reached now, and (PostgreSQL) whether its
/// database has the citus extension: then the store is laid out over the
/// cluster (`migrations/citus/layout.sql`).
async fn probe(location: &Location, within: Duration) -> Result<bool> {
    match location {
        Location::Sqlite(path) => {
            if path.exists() {
                Ok(false)
            } else {
                Err(Error::Unreachable {
                    location: None,
                    cause: Outage::FileGone(path.clone()),
                })
            }
        }
        Location::Postgres(url) => {
            let options = PgConnectOptions::from_str(url)
                .map_err(|e| Error::Invalid(format!("bad PostgreSQL URL: {e}")))?;
            match tokio::time::timeout(within, options.connect()).await {
                Ok(Ok(mut conn)) => {
                    let citus: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM pg_extension WHERE extname = 'citus'",
                    )
                    .fetch_one(&mut conn)
                    .await?;
                    // Every journeyctl session of a cluster goes through its
                    // coordinator: the locks engines and operators meet on
                    // are that node's (each node has its own).
                    let worker = citus > 0
                        && !sqlx::query_scalar::<_, bool>("SELECT citus_is_coordinator()")
                            .fetch_one(&mut conn)
                            .await?;
                    let _ = sqlx::Connection::close(conn).await;
                    if worker {
                        return Err(Error::Invalid(format!(
                            "{} is a worker node of a Citus cluster: point journeyctl at the cluster's coordinator",
                            location.display()
                        )));
                    }
                    Ok(citus > 0)
                }
                Ok(Err(e)) => Err(opening_error(location, &e)),
                Err(_) => Err(Error::Unreachable {
                    location: Some(location.display()),
                    cause: Outage::NoAnswer {
                        within: Some(within),
                    },
                }),
            }
        }
    }
}

/// Why opening failed, as bad input (wrong credentials, no such database)
/// or as an outage (refused, unknown host, time-out, not accepting).
fn opening_error(location: &Location, e: &sqlx::Error) -> Error {
    let server = location.server();
    let unopened = |why| Error::Unopened {
        location: location.display(),
        why,
    };
    let cause = match e {
        sqlx::Error::Io(io) => Outage::of_io(io, Some(&server)),
        sqlx::Error::Database(d) => {
            let message = first_line(d.message());
            match d.code().as_deref() {
                Some(c) if c.starts_with("28") => {
                    return unopened(Unopened::Authentication(message));
                }
                Some("3D000") => return unopened(Unopened::NoDatabase(message)),
                // Starting up, shutting down, not accepting connections.
                _ => Outage::SessionRefused(message),
            }
        }
        sqlx::Error::Tls(t) => Outage::Tls(first_line(&t.to_string())),
        sqlx::Error::PoolTimedOut => Outage::NoAnswer { within: None },
        other => Outage::Other(first_line(&other.to_string())),
    };
    Error::Unreachable {
        location: Some(location.display()),
        cause,
    }
}

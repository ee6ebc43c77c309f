//! The lock statements of each backend, in one place: SQLite's write
//! transaction (`BEGIN IMMEDIATE`, one writer at a time); PostgreSQL's
//! advisory lock per version (engine batches hold it shared, a change of
//! the version takes it whole) and its row locks; on a Citus cluster the
//! row locks are taken by an update that changes nothing (see
//! [`Backend::write_lock`]), and the buckets' fences (`fences.rs`) order
//! batches, claims and records against a change.

use crate::store::Backend;
use crate::store::select_version_info;

/// journeyctl's class number of its advisory locks (the first half of
/// their key); `waits.rs` looks for holders of it.
macro_rules! turn_lock_class {
    () => {
        "7413"
    };
}
pub(in crate::store) use turn_lock_class;

/// The advisory lock key of the version whose id is `$id` (an SQL
/// expression): journeyctl's class number and the id (ids that collide
/// only share a lock).
macro_rules! version_lock_key {
    ($id:literal) => {
        concat!(
            turn_lock_class!(),
            ", CAST(",
            $id,
            " % 2147483647 AS INTEGER)"
        )
    };
}

impl Backend {
    /// How a write transaction begins. SQLite takes its write lock at once,
    /// so a transaction that reads before it writes never fails to upgrade
    /// (and write transactions run one at a time).
    pub(crate) fn begin_write(self) -> &'static str {
        match self {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres | Backend::Citus => "BEGIN",
        }
    }

    /// Reads one version row (`$1` its id), locking it for the rest of the
    /// transaction on PostgreSQL; SQLite's write transactions already run
    /// one at a time.
    pub(crate) fn lock_version(self) -> &'static str {
        match self {
            Backend::Sqlite => concat!(select_version_info!(), "WHERE v.id = $1"),
            Backend::Postgres => concat!(select_version_info!(), "WHERE v.id = $1 FOR UPDATE OF v"),
            // Locked first by `write_lock`.
            Backend::Citus => concat!(select_version_info!(), "WHERE v.id = $1"),
        }
    }

    /// A version's status (`$1` its id), read under its row lock on
    /// PostgreSQL.
    pub(crate) fn lock_status(self) -> &'static str {
        match self {
            Backend::Sqlite => "SELECT status FROM versions WHERE id = $1",
            Backend::Postgres => "SELECT status FROM versions WHERE id = $1 FOR UPDATE",
            // Locked first by `write_lock`.
            Backend::Citus => "SELECT status FROM versions WHERE id = $1",
        }
    }

    /// Taken before a version row is locked for update (`$1` the version
    /// id): PostgreSQL's lock manager queues requests in order, so a stop,
    /// an ingest or a delivery claim waiting here is served before engine
    /// batches that come after it. Engine batches hold the same lock
    /// shared ([`Backend::engine_share`]), so they run side by side and an
    /// update of the version waits for those in flight. (A row lock alone
    /// would let overlapping shared holders starve it.) SQLite's write
    /// transactions already run one at a time.
    pub(crate) fn exclude_engines(self) -> Option<&'static str> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres | Backend::Citus => Some(concat!(
                "SELECT pg_advisory_xact_lock(",
                version_lock_key!("$1"),
                ")"
            )),
        }
    }

    /// [`Backend::exclude_engines`] tried without waiting, with the server
    /// process it runs in (`pid`, `got`): an operator's action takes its
    /// turn this way first (see `waits::operator_turn`).
    pub(crate) fn try_exclude_engines(self) -> Option<&'static str> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres | Backend::Citus => Some(concat!(
                "SELECT pg_backend_pid() AS pid, CASE WHEN pg_try_advisory_xact_lock(",
                version_lock_key!("$1"),
                ") THEN 1 ELSE 0 END AS got"
            )),
        }
    }

    /// [`Backend::exclude_engines`] for the versions whose ids are the
    /// `id`s of the JSON rows bound at `$param`, taken in id order.
    pub(crate) fn exclude_engines_of(self, param: usize) -> Option<String> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres | Backend::Citus => Some(format!(
                concat!(
                    "SELECT pg_advisory_xact_lock(",
                    version_lock_key!("v.id"),
                    ") FROM {} ORDER BY v.id"
                ),
                self.json_rows(param, &[("id", "BIGINT")])
            )),
        }
    }

    /// [`Backend::try_exclude_engines`] for the versions whose ids are the
    /// `id`s of the JSON rows bound at `$param`: the server process
    /// (`pid`) and how many of the turns it took (`got`).
    pub(crate) fn try_exclude_engines_of(self, param: usize) -> Option<String> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres | Backend::Citus => Some(format!(
                concat!(
                    "SELECT pg_backend_pid() AS pid, CAST(COUNT(*) AS BIGINT) AS got FROM \
                     (SELECT v.id FROM {} WHERE pg_try_advisory_xact_lock(",
                    version_lock_key!("v.id"),
                    ")) AS t"
                ),
                self.json_rows(param, &[("id", "BIGINT")])
            )),
        }
    }

    /// [`Backend::lock_version`] for the versions whose ids are the `id`s
    /// of the JSON rows bound at `$param`, locked in id order.
    pub(crate) fn lock_versions_of(self, param: usize) -> String {
        let lock = match self {
            // Citus: locked first by `write_lock`.
            Backend::Sqlite | Backend::Citus => "",
            Backend::Postgres => " FOR UPDATE OF v",
        };
        format!(
            "{}WHERE v.id IN (SELECT v.id FROM {}) ORDER BY v.id{lock}",
            select_version_info!(),
            self.json_rows(param, &[("id", "BIGINT")])
        )
    }

    /// An engine batch's share of the store's lock and its version's:
    /// waited for, or only tried (`got` 1 or 0), so that engines skip a
    /// version an operator is acting on and come back to it. The store's
    /// (the key of version 0, which no version has) is what a store-wide
    /// brake takes whole, so it waits for the batches in flight once
    /// rather than chasing them from version to version.
    pub(crate) fn engine_share(self, wait: bool) -> Option<&'static str> {
        match (self, wait) {
            (Backend::Sqlite, _) => None,
            (Backend::Postgres | Backend::Citus, true) => Some(concat!(
                "SELECT pg_advisory_xact_lock_shared(",
                turn_lock_class!(),
                ", 0), pg_advisory_xact_lock_shared(",
                version_lock_key!("$1"),
                ")"
            )),
            (Backend::Postgres | Backend::Citus, false) => Some(concat!(
                "SELECT CASE WHEN pg_try_advisory_xact_lock_shared(",
                turn_lock_class!(),
                ", 0) AND pg_try_advisory_xact_lock_shared(",
                version_lock_key!("$1"),
                ") THEN 1 ELSE 0 END AS got"
            )),
        }
    }

    /// What ends the due query so that batches side by side claim
    /// different participants: each row read is locked, and rows another
    /// batch holds are passed over. SQLite's batches run one at a time.
    pub(crate) fn claim_rows(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres | Backend::Citus => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// What ends a `SELECT` of one row to lock it for the rest of the
    /// transaction: ` FOR UPDATE` on PostgreSQL; nothing on SQLite, whose
    /// write transactions already run one at a time.
    pub(crate) fn row_lock(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
            // Locked first by `write_lock`.
            Backend::Citus => "",
        }
    }

    /// [`Backend::write_lock`] for a set of rows (`ids` their keys).
    pub(crate) fn write_lock_of(self, table: &str, key: &str, ids: &[i64]) -> Option<String> {
        self.write_lock(table, key).map(|_| {
            format!(
                "UPDATE {table} SET {key} = {key} WHERE {key} IN ({})",
                crate::store::dialect::id_list(ids)
            )
        })
    }

    /// On a cluster, what takes a row's lock for the rest of the
    /// transaction before it is read (`$1` the key of the row of `table`
    /// in column `key`; both fixed names): an update that changes nothing.
    /// A `SELECT ... FOR UPDATE` of a reference table also takes the
    /// table's shard lock on every node in share mode, so two transactions
    /// that lock and then write the same row deadlock; an update takes the
    /// write lock at once. `None` elsewhere: [`Backend::row_lock`],
    /// [`Backend::lock_version`] and [`Backend::lock_status`] lock as they
    /// read.
    pub(crate) fn write_lock(self, table: &str, key: &str) -> Option<String> {
        match self {
            Backend::Citus => Some(format!("UPDATE {table} SET {key} = {key} WHERE {key} = $1")),
            Backend::Sqlite | Backend::Postgres => None,
        }
    }
}

//! Every difference between SQLite and PostgreSQL that the store's code
//! must know about, in one place: the rest of `store/` runs the same
//! statements on both and asks the backend here where they differ.

use super::select_version_info;

/// The advisory lock key of the version whose id is `$id` (an SQL
/// expression): journeyctl's class number and the id (ids that collide
/// only share a lock).
macro_rules! version_lock_key {
    ($id:literal) => {
        concat!("7413, CAST(", $id, " % 2147483647 AS INTEGER)")
    };
}

/// The buckets a profile falls into (`migrations/postgres/0012_buckets.sql`
/// writes the same number): a Citus layout spreads rows by bucket.
const BUCKETS: i32 = 64;

/// A store's backend, shared by its clones: fixed when the store is
/// opened, or for a store opened while its server was away (`open_lazy`),
/// learned from the first session it gets (plain PostgreSQL or a Citus
/// coordinator).
#[derive(Debug, Clone)]
pub(crate) struct SharedBackend(std::sync::Arc<std::sync::atomic::AtomicU8>);

impl SharedBackend {
    pub(crate) fn new(backend: Backend) -> SharedBackend {
        SharedBackend(std::sync::Arc::new(std::sync::atomic::AtomicU8::new(
            backend as u8,
        )))
    }

    pub(crate) fn get(&self) -> Backend {
        match self.0.load(std::sync::atomic::Ordering::Relaxed) {
            x if x == Backend::Citus as u8 => Backend::Citus,
            x if x == Backend::Postgres as u8 => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }

    pub(crate) fn set(&self, backend: Backend) {
        self.0
            .store(backend as u8, std::sync::atomic::Ordering::Relaxed);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum Backend {
    #[default]
    Sqlite,
    Postgres,
    /// PostgreSQL with the citus extension: participants and messages
    /// spread over the cluster's workers by bucket (see
    /// `migrations/citus/layout.sql`).
    Citus,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Backend {
    /// Rows per multi-row statement: SQLite looks each `$N` up by name,
    /// which grows with the number of parameters; PostgreSQL pays per
    /// round trip instead.
    pub(crate) fn chunk_rows(self) -> usize {
        match self {
            Backend::Sqlite => 50,
            Backend::Postgres | Backend::Citus => 500,
        }
    }

    /// Whether the database has logins of its own (PostgreSQL), so roles
    /// and grants decide who may do what; a SQLite file has none.
    pub(crate) fn has_logins(self) -> bool {
        self != Backend::Sqlite
    }

    /// The migrations folder of this backend.
    pub(crate) fn migrator(self) -> &'static sqlx::migrate::Migrator {
        match self {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres | Backend::Citus => &POSTGRES_MIGRATIONS,
        }
    }

    /// Settings for every new connection.
    pub(crate) fn session_setup(self) -> Option<&'static str> {
        match self {
            Backend::Sqlite => Some(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; \
                 PRAGMA cache_size = -16000; PRAGMA mmap_size = 268435456;",
            ),
            Backend::Postgres => None,
            // A transaction that has read or written several shards at once
            // may not then write a reference table (the versions' counters):
            // one connection per worker keeps both possible.
            Backend::Citus => Some("SET citus.multi_shard_modify_mode TO 'sequential'"),
        }
    }

    /// How a write transaction begins. SQLite takes its write lock at once,
    /// so a transaction that reads before it writes never fails to upgrade
    /// (and write transactions run one at a time).
    pub(crate) fn begin_write(self) -> &'static str {
        match self {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres | Backend::Citus => "BEGIN",
        }
    }

    /// How a read transaction that must see one snapshot begins (a SQLite
    /// read transaction sees one snapshot from its first read).
    pub(crate) fn begin_snapshot(self) -> &'static str {
        match self {
            Backend::Sqlite => "BEGIN",
            Backend::Postgres | Backend::Citus => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
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

    /// An engine batch's share of its version's lock: waited for, or only
    /// tried (`got` 1 or 0), so that engines skip a version an operator is
    /// acting on and come back to it.
    pub(crate) fn engine_share(self, wait: bool) -> Option<&'static str> {
        match (self, wait) {
            (Backend::Sqlite, _) => None,
            (Backend::Postgres | Backend::Citus, true) => Some(concat!(
                "SELECT pg_advisory_xact_lock_shared(",
                version_lock_key!("$1"),
                ")"
            )),
            (Backend::Postgres | Backend::Citus, false) => Some(concat!(
                "SELECT CASE WHEN pg_try_advisory_xact_lock_shared(",
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

    /// The buckets an engine batch reads one at a time (a single-shard
    /// claim on a cluster: Citus locks rows only in a query that reaches
    /// one shard); `None`: the whole version at once.
    pub(crate) fn buckets(self) -> Option<i32> {
        match self {
            Backend::Citus => Some(BUCKETS),
            Backend::Sqlite | Backend::Postgres => None,
        }
    }

    /// Batches one engine runs at once on a version: on PostgreSQL two,
    /// each on its own connection and server process; SQLite writes one
    /// transaction at a time.
    pub(crate) fn engine_lanes(self) -> usize {
        match self {
            Backend::Sqlite => 1,
            Backend::Postgres | Backend::Citus => 2,
        }
    }

    /// A row source `v` of the JSON array of objects bound at `$param`,
    /// with the given (name, SQL type) columns: one parameter and one
    /// statement text for a batch of any size, prepared once.
    pub(crate) fn json_rows(self, param: usize, columns: &[(&str, &str)]) -> String {
        match self {
            Backend::Sqlite => {
                let picks: Vec<String> = columns
                    .iter()
                    .map(|(name, _)| format!("json_extract(value, '$.{name}') AS {name}"))
                    .collect();
                format!(
                    "(SELECT {} FROM json_each(${param})) AS v",
                    picks.join(", ")
                )
            }
            Backend::Postgres | Backend::Citus => {
                let types: Vec<String> = columns
                    .iter()
                    .map(|(name, ty)| format!("{name} {ty}"))
                    .collect();
                format!(
                    "json_to_recordset(CAST(${param} AS json)) AS v({})",
                    types.join(", ")
                )
            }
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

    /// Settings for an engine batch's transaction. PostgreSQL moves
    /// participants by primary key, whatever the statistics say: right
    /// after a bulk load they can be stale enough for the planner to
    /// hash-join every active row for each chunk.
    pub(crate) fn engine_batch_setup(self) -> Option<&'static str> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres | Backend::Citus => {
                Some("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off")
            }
        }
    }

    /// The bucket of the profile in the SQL expression `profile`: a
    /// function of the profile, by which a Citus layout spreads rows over
    /// the workers. A SQLite store is never spread (every bucket is 0).
    pub(crate) fn bucket_of(self, profile: &str) -> String {
        match self {
            Backend::Sqlite => "0".to_string(),
            Backend::Postgres | Backend::Citus => {
                format!("(hashtext({profile}) & 2147483647) % {BUCKETS}")
            }
        }
    }

    /// The columns of the participants' unique key, as `ON CONFLICT`
    /// names them (PostgreSQL's names the bucket, as Citus requires).
    pub(crate) fn participant_key(self) -> &'static str {
        match self {
            Backend::Sqlite => "version_id, profile",
            Backend::Postgres | Backend::Citus => "profile, version_id, bucket",
        }
    }

    /// Whether the store is laid out over a cluster's nodes (Citus).
    pub(crate) fn is_cluster(self) -> bool {
        self == Backend::Citus
    }

    /// Since when the first due participant (`$1` now) and the first due
    /// message (`$2` now) of the running, unpaused versions have been due:
    /// per version through its due index (first in line); on a cluster,
    /// which runs no correlated subquery, one aggregate over every shard,
    /// each through its own index.
    pub(crate) fn backlog_query(self) -> &'static str {
        match self {
            Backend::Citus => {
                "SELECT (SELECT MIN(p.due_at) FROM participants p JOIN versions v ON v.id = p.version_id \
                 WHERE v.status IN ('live', 'finished') AND v.paused_at IS NULL \
                 AND p.state = 'active' AND p.due_at <= $1) AS participant, \
                 (SELECT MIN(CASE WHEN o.next_at > o.created_at THEN o.next_at ELSE o.created_at END) \
                 FROM outbox o JOIN versions v ON v.id = o.version_id \
                 WHERE v.status IN ('live', 'finished') AND v.paused_at IS NULL \
                 AND o.state = 'pending' AND o.next_at <= $2) AS message"
            }
            Backend::Sqlite | Backend::Postgres => {
                "SELECT MIN((SELECT p.due_at FROM participants p WHERE p.version_id = v.id \
                 AND p.state = 'active' AND p.due_at <= $1 \
                 ORDER BY p.due_at, p.id LIMIT 1)) AS participant, \
                 MIN((SELECT CASE WHEN o.next_at > o.created_at THEN o.next_at ELSE o.created_at END \
                 FROM outbox o WHERE o.version_id = v.id AND o.state = 'pending' \
                 AND o.next_at <= $2 ORDER BY o.next_at, o.id LIMIT 1)) AS message \
                 FROM versions v WHERE v.status IN ('live', 'finished') AND v.paused_at IS NULL"
            }
        }
    }

    /// The database's clock in epoch milliseconds, as an SQL expression.
    /// Delivery leases and gates use it, so hosts whose clocks disagree
    /// still agree on whether a claim is in flight.
    pub(crate) fn db_now(self) -> &'static str {
        match self {
            Backend::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS BIGINT)",
            Backend::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
            // A statement on distributed tables takes no volatile function
            // (each shard would read its own clock): the coordinator's
            // clock when the statement began.
            Backend::Citus => "CAST(EXTRACT(EPOCH FROM statement_timestamp()) * 1000 AS BIGINT)",
        }
    }
}

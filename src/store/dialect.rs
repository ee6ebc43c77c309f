//! Every difference between SQLite and PostgreSQL that the store's code
//! must know about, in one place: the rest of `store/` runs the same
//! statements on both and asks the backend here where they differ.

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
            // Its changes are announced after they commit, never from
            // inside their transaction (migrations/postgres/0014).
            Backend::Postgres => Some("SET journeyctl.notify TO 'after_commit'"),
            // A transaction that has read or written several shards at once
            // may not then write a reference table (the versions' counters):
            // one connection per worker keeps both possible.
            Backend::Citus => Some(
                "SET journeyctl.notify TO 'after_commit'; \
                 SET citus.multi_shard_modify_mode TO 'sequential'",
            ),
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

/// A batch's rows as the one JSON parameter of a `json_rows` source.
pub(crate) fn batch_json<T: serde::Serialize>(rows: &[T]) -> crate::store::Result<String> {
    serde_json::to_string(rows)
        .map_err(|e| crate::store::Error::Invalid(format!("cannot encode a batch: {e}")))
}

/// Version ids as the one JSON parameter of a `json_rows` source with one
/// `id` column.
pub(crate) fn ids_json(ids: &[i64]) -> String {
    let rows: Vec<String> = ids.iter().map(|id| format!("{{\"id\":{id}}}")).collect();
    format!("[{}]", rows.join(","))
}

/// Version ids as the list of an `IN (...)`: numbers only, so they may be
/// formatted into a statement (`NULL`, which matches nothing, for none).
pub(crate) fn id_list(ids: &[i64]) -> String {
    if ids.is_empty() {
        return "NULL".into();
    }
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `$first, $first+1, ...`: `n` placeholders for an `IN` list.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|k| format!("${k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

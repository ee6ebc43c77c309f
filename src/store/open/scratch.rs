//! Stores made anew for a tool or a test: a PostgreSQL schema of its own
//! (dropped first when it exists), or a SQLite file removed with its WAL
//! and shared-memory files (and the engines' lock file).
//!
//! Such a store is marked as one (a SQLite `application_id`, a comment on
//! the PostgreSQL schema), and only a marked one is ever removed or
//! dropped: `demo`, `bench` and `screenshots` pointed at a real store, or
//! at any other file, refuse instead of replacing it.

use std::path::Path;

use crate::store::{Error, Location, PoolSettings, Result, Store};

/// `url` with every session working in `schema`.
pub fn url_in_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

fn checked(schema: &str) -> Result<&str> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !schema.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(schema)
    } else {
        Err(Error::Invalid(format!(
            "{schema:?} is not a schema name journeyctl makes (a-z, 0-9, _)"
        )))
    }
}

/// The mark of a schema journeyctl made for a tool or a test.
const SCHEMA_MARK: &str = "journeyctl scratch store";

/// The mark of such a SQLite file: its header's `application_id`, "JCSD".
const FILE_MARK: i32 = 0x4A43_5344;

/// `Err` unless `schema` does not exist or is marked as made by this
/// module; `admin` is connected to the server.
async fn only_scratch_schema(admin: &Store, schema: &str) -> Result<()> {
    let comment: Option<Option<String>> = sqlx::query_scalar(
        "SELECT CAST(obj_description(oid, 'pg_namespace') AS TEXT) FROM pg_namespace WHERE nspname = $1",
    )
    .bind(schema)
    .fetch_optional(admin.pool())
    .await?;
    match comment {
        None => Ok(()),
        Some(Some(c)) if c == SCHEMA_MARK => Ok(()),
        Some(_) => Err(Error::Invalid(format!(
            "schema {schema} exists and is not one journeyctl made for a demo, bench or test: it is left as it is (drop it yourself if it is yours to lose)"
        ))),
    }
}

/// Drops `schema` on the PostgreSQL server at `url` if it exists (and is
/// marked as made here), makes it anew, and returns a store in it with the
/// schema migrated.
pub async fn fresh_schema(url: &str, schema: &str) -> Result<Store> {
    let schema = checked(schema)?;
    let admin = Store::open(&Location::parse(url)?, &PoolSettings::default()).await?;
    let made = match only_scratch_schema(&admin, schema).await {
        Ok(()) => {
            let sql = format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; \
                 COMMENT ON SCHEMA {schema} IS '{SCHEMA_MARK}'"
            );
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(admin.pool())
                .await
                .map_err(Error::from)
        }
        Err(e) => Err(e),
    };
    admin.close().await;
    made?;
    Store::connect(&Location::parse(&url_in_schema(url, schema))?).await
}

/// Drops `schema` on the PostgreSQL server at `url`, if it exists and is
/// marked as made here.
pub async fn drop_schema(url: &str, schema: &str) -> Result<()> {
    let schema = checked(schema)?;
    let admin = Store::open(&Location::parse(url)?, &PoolSettings::default()).await?;
    let dropped = match only_scratch_schema(&admin, schema).await {
        Ok(()) => sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE"
        )))
        .execute(admin.pool())
        .await
        .map(|_| ())
        .map_err(Error::from),
        Err(e) => Err(e),
    };
    admin.close().await;
    dropped
}

/// Whether the file at `path` is a SQLite store marked as made here (its
/// header's magic and `application_id`).
fn is_scratch_file(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 72];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && head.starts_with(b"SQLite format 3\0")
        && head[68..72] == FILE_MARK.to_be_bytes()
}

/// Removes a SQLite store's file and its `-wal` and `-shm` companions.
pub fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-engine", "-operator"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(std::path::PathBuf::from(p));
    }
}

/// A fresh SQLite store at `path`: an old one there is removed first, if
/// it is one made here; any other file (a real store, a text file, a
/// link) is refused and left as it is.
pub async fn fresh_sqlite(path: &Path) -> Result<Store> {
    if std::fs::symlink_metadata(path).is_ok() && !is_scratch_file(path) {
        return Err(Error::Invalid(format!(
            "{} exists and is not a store journeyctl made for a demo, bench or screenshots: it is left as it is (name a new path)",
            path.display()
        )));
    }
    remove_sqlite(path);
    let store = Store::connect(&Location::Sqlite(path.to_path_buf())).await?;
    // Into the file's header now (not only the WAL), so the mark holds
    // whatever happens to this process.
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "PRAGMA application_id = {FILE_MARK}; PRAGMA wal_checkpoint(TRUNCATE)"
    )))
    .execute(store.pool())
    .await?;
    Ok(store)
}

/// A bare `COPY` of `rows` participant rows into a copy of the
/// participants table (its indexes too) in the scratch schema `schema` at
/// `url`, dropped after: the bench's yardstick for an ingest. How long the
/// `COPY` alone took.
pub async fn bare_copy(url: &str, schema: &str, rows: u64) -> Result<std::time::Duration> {
    use sqlx::Connection as _;
    use std::fmt::Write as _;
    let schema = checked(schema)?;
    let mut conn = sqlx::PgConnection::connect(&url_in_schema(url, schema)).await?;
    sqlx::raw_sql(
        "DROP TABLE IF EXISTS bench_copy; CREATE TABLE bench_copy (LIKE participants INCLUDING ALL)",
    )
    .execute(&mut conn)
    .await?;
    let mut data = String::with_capacity(rows as usize * 40);
    for i in 0..rows {
        let _ = writeln!(data, "1\t1\tfeed-{i}\t{}\tactive\t0\t0\t0\t0", i % 64);
    }
    let start = std::time::Instant::now();
    let mut copy = conn
        .copy_in_raw(
            "COPY bench_copy (version_id, journey_id, profile, bucket, state, step, due_at, entered_at, updated_at) FROM STDIN",
        )
        .await?;
    for chunk in data.as_bytes().chunks(1 << 20) {
        copy.send(chunk).await?;
    }
    copy.finish().await?;
    let took = start.elapsed();
    sqlx::raw_sql("DROP TABLE bench_copy")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(took)
}

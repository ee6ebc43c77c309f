//! Stores made anew for a tool or a test: a PostgreSQL schema of its own
//! (dropped first when it exists), or a SQLite file removed with its WAL
//! and shared-memory files (and the engines' lock file).

use std::path::Path;

use super::{Error, Location, PoolSettings, Result, Store};

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

/// Drops `schema` on the PostgreSQL server at `url` if it exists, makes it
/// anew, and returns a store in it with the schema migrated.
pub async fn fresh_schema(url: &str, schema: &str) -> Result<Store> {
    let schema = checked(schema)?;
    let admin = Store::open(&Location::parse(url)?, &PoolSettings::default()).await?;
    let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}");
    let made = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(admin.pool())
        .await;
    admin.close().await;
    made?;
    Store::connect(&Location::parse(&url_in_schema(url, schema))?).await
}

/// Drops `schema` on the PostgreSQL server at `url`, if it exists.
pub async fn drop_schema(url: &str, schema: &str) -> Result<()> {
    let schema = checked(schema)?;
    let admin = Store::open(&Location::parse(url)?, &PoolSettings::default()).await?;
    let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
    let dropped = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(admin.pool())
        .await;
    admin.close().await;
    dropped?;
    Ok(())
}

/// Removes a SQLite store's file and its `-wal` and `-shm` companions.
pub fn remove_sqlite(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-engine", "-operator"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(std::path::PathBuf::from(p));
    }
}

/// A fresh SQLite store at `path` (an old one there is removed first).
pub async fn fresh_sqlite(path: &Path) -> Result<Store> {
    remove_sqlite(path);
    Store::connect(&Location::Sqlite(path.to_path_buf())).await
}

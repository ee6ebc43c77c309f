//! Where a store is, as users name it: a PostgreSQL URL or a SQLite file;
//! how it is shown, and the name an operator types for the whole store.

use std::path::PathBuf;
use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;

use crate::store::{Error, Result};

/// Where the store is, as a user names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    /// `postgres://...`, `sqlite://PATH`, `sqlite:PATH` or a plain file path.
    pub fn parse(url: &str) -> Result<Location> {
        let url = url.trim();
        if url.is_empty() {
            return Err(Error::Invalid("the database URL is empty".into()));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            sqlx::postgres::PgConnectOptions::from_str(url)
                .map_err(|e| Error::Invalid(format!("bad PostgreSQL URL: {e}")))?;
            return Ok(Location::Postgres(url.to_string()));
        }
        if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = rest.split('?').next().unwrap_or(rest);
            if path.is_empty() {
                return Err(Error::Invalid(format!(
                    "bad SQLite URL {url:?}: no file path"
                )));
            }
            return Ok(Location::Sqlite(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = url.split_once("://") {
            return Err(Error::Invalid(format!(
                "unsupported database URL scheme {scheme:?} (use postgres://..., sqlite://PATH or a file path)"
            )));
        }
        Ok(Location::Sqlite(PathBuf::from(url)))
    }

    /// `host:port` of a PostgreSQL server, or the SQLite path.
    pub fn server(&self) -> String {
        match self {
            Location::Sqlite(p) => p.display().to_string(),
            Location::Postgres(url) => match PgConnectOptions::from_str(url) {
                Ok(o) => format!("{}:{}", o.get_host(), o.get_port()),
                Err(_) => "the server".to_string(),
            },
        }
    }

    /// The store's name as an operator types it to confirm something done
    /// to the whole store, where the config file names none: a SQLite
    /// file's name without its extension, a PostgreSQL database's name.
    pub fn name(&self) -> String {
        match self {
            Location::Sqlite(p) => p
                .file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned()),
            Location::Postgres(url) => sqlx::postgres::PgConnectOptions::from_str(url)
                .ok()
                .and_then(|o| o.get_database().map(str::to_string))
                .unwrap_or_else(|| "postgres".to_string()),
        }
    }

    /// For headers and messages: the SQLite path, or PostgreSQL
    /// login@host:port/database and the schema where the URL names one,
    /// never a password.
    pub fn display(&self) -> String {
        match self {
            Location::Sqlite(p) => format!("sqlite {}", p.display()),
            Location::Postgres(url) => match sqlx::postgres::PgConnectOptions::from_str(url) {
                Ok(o) => format!(
                    "postgres {}@{}:{}/{}{}",
                    o.get_username(),
                    o.get_host(),
                    o.get_port(),
                    o.get_database().unwrap_or(""),
                    search_path(o.get_options())
                        .map(|s| format!(" schema {s}"))
                        .unwrap_or_default()
                ),
                Err(_) => "postgres".to_string(),
            },
        }
    }

    /// The login a PostgreSQL URL connects as (`None` for SQLite).
    pub fn login(&self) -> Option<String> {
        match self {
            Location::Sqlite(_) => None,
            Location::Postgres(url) => PgConnectOptions::from_str(url)
                .ok()
                .map(|o| o.get_username().to_string()),
        }
    }
}

/// The schema a URL's `options=-c search_path=...` names (its first).
fn search_path(options: Option<&str>) -> Option<String> {
    let options = options?;
    let at = options.find("search_path")?;
    let value = options[at + "search_path".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let first: String = value
        .split([',', ' '])
        .next()
        .unwrap_or("")
        .trim_matches('"')
        .to_string();
    (!first.is_empty()).then_some(first)
}

/// The embedded default store: a SQLite file in the user's data directory.
pub fn default_sqlite_path() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("journeyctl")
        .join("journeyctl.db")
}

#[cfg(test)]
mod tests {
    use super::Location;

    #[test]
    fn a_postgres_store_is_shown_with_its_schema_and_never_a_password() {
        let at = |url: &str| Location::parse(url).unwrap().display();
        assert_eq!(
            at("postgres://bob:secret@db:5433/journeys?options=-c%20search_path%3Dnc_cfg"),
            "postgres bob@db:5433/journeys schema nc_cfg"
        );
        assert_eq!(
            at("postgres://bob:secret@db/journeys"),
            "postgres bob@db:5432/journeys"
        );
        let login = Location::parse("postgres://bob@db/j").unwrap().login();
        assert_eq!(login.as_deref(), Some("bob"));
    }
}

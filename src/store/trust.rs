//! Least privilege on PostgreSQL: `journeyctl grant --viewer|--operator
//! ROLE` gives a login role exactly what the console and the commands
//! need, and the store refuses to migrate with a role that cannot.

use sqlx::Row;

use super::{Error, Result, Store};

/// What a role may do with the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Reads everything the console, `list`, `audit` and `check` read.
    Viewer,
    /// Also ingests, ticks, delivers, applies, publishes, finishes, stops,
    /// pauses and resumes; never updates or deletes audit rows, deletes
    /// participants or messages, truncates, or changes the schema.
    Operator,
}

impl Grant {
    pub fn as_str(self) -> &'static str {
        match self {
            Grant::Viewer => "viewer",
            Grant::Operator => "operator",
        }
    }

    /// What an operator may do to one table besides reading it.
    fn writes_on(self, table: &str) -> Option<&'static str> {
        match (self, table) {
            (Grant::Viewer, _) | (Grant::Operator, "_sqlx_migrations") => None,
            // Appended to, never changed: the append-only trigger refuses
            // the rest even to the owner.
            (Grant::Operator, "audit") => Some("INSERT"),
            // A draft's variants are replaced when the draft is applied again.
            (Grant::Operator, "variants") => Some("INSERT, UPDATE, DELETE"),
            // The engine drops trend minutes older than their window.
            (Grant::Operator, "version_minutes") => Some("INSERT, UPDATE, DELETE"),
            (Grant::Operator, _) => Some("INSERT, UPDATE"),
        }
    }
}

/// What `grant` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub role: String,
    pub schema: String,
    pub tables: usize,
}

/// `role` as a quoted SQL identifier.
fn quoted(role: &str) -> String {
    format!("\"{}\"", role.replace('"', "\"\""))
}

impl Store {
    /// Sets `role`'s privileges on this store's schema to exactly those of
    /// `grant` (what it had before is revoked first, so running it again,
    /// or with the other level, is safe). Run by the schema's owner.
    pub async fn grant(&self, role: &str, grant: Grant) -> Result<Granted> {
        if !self.backend.has_logins() {
            return Err(Error::Invalid(
                "grant is for PostgreSQL: a SQLite store has no logins, its file's permissions decide who may read or change it (see the README, \"Team setup\")"
                    .into(),
            ));
        }
        let exists = sqlx::query("SELECT 1 FROM pg_roles WHERE rolname = $1")
            .bind(role)
            .fetch_optional(&self.pool)
            .await?;
        if exists.is_none() {
            return Err(Error::Invalid(format!(
                "there is no role {role:?} on this server: create it first (CREATE ROLE {} LOGIN)",
                quoted(role)
            )));
        }
        let mut tx = self.pool.begin().await?;
        let schema: String = sqlx::query_scalar("SELECT CAST(current_schema() AS TEXT)")
            .fetch_one(&mut *tx)
            .await?;
        let tables: Vec<String> = sqlx::query(
            "SELECT CAST(tablename AS TEXT) AS tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename",
        )
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get("tablename"))
        .collect::<std::result::Result<_, _>>()?;
        let (s, r) = (quoted(&schema), quoted(role));
        let mut statements = vec![
            format!("REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {r}"),
            format!("REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM {r}"),
            format!("GRANT USAGE ON SCHEMA {s} TO {r}"),
            // Tables and views alike.
            format!("GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {r}"),
        ];
        if grant == Grant::Operator {
            statements.push(format!("GRANT USAGE ON ALL SEQUENCES IN SCHEMA {s} TO {r}"));
        }
        for table in &tables {
            if let Some(what) = grant.writes_on(table) {
                statements.push(format!("GRANT {what} ON {s}.{} TO {r}", quoted(table)));
            }
        }
        for sql in statements {
            // Identifiers are quoted above; privileges are fixed words.
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut *tx)
                .await
                .map_err(|e| owner_needed(e, "grant"))?;
        }
        tx.commit().await?;
        Ok(Granted {
            role: role.to_string(),
            schema,
            tables: tables.len(),
        })
    }

    /// Whether this login may bring the schema up to date: on PostgreSQL
    /// only a member of the role that owns the tables can (a new, empty
    /// schema is anyone's to make).
    pub(crate) async fn may_migrate(&self) -> Result<bool> {
        if !self.backend.has_logins() {
            return Ok(true);
        }
        let owner: Option<bool> = sqlx::query_scalar(
            "SELECT pg_has_role(current_user, tableowner, 'USAGE') FROM pg_tables \
             WHERE schemaname = current_schema() AND tablename = 'versions'",
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(owner.unwrap_or(true))
    }

    /// The login the database sees (`None` on SQLite).
    pub async fn login(&self) -> Result<Option<String>> {
        if !self.backend.has_logins() {
            return Ok(None);
        }
        Ok(Some(
            sqlx::query_scalar("SELECT CAST(session_user AS TEXT)")
                .fetch_one(&self.pool)
                .await?,
        ))
    }
}

/// A refusal by the database's privileges, said as what to do instead.
fn owner_needed(e: sqlx::Error, what: &str) -> Error {
    match &e {
        sqlx::Error::Database(d) if d.code().as_deref() == Some("42501") => {
            Error::ReadOnly(format!(
                "{what} must be run by the role that owns the store's schema (the one that ran `journeyctl migrate`): {}",
                d.message()
            ))
        }
        _ => e.into(),
    }
}

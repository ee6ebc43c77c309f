//! Least privilege on PostgreSQL: `journeyctl grant
//! --viewer|--operator|--engine ROLE` gives a login role exactly what the
//! console and the commands need, and the store refuses to migrate with a
//! role that cannot. What the privileges leave open, the schema's triggers
//! close (migrations/postgres/0009_store_rules.sql).

use sqlx::Row;

use crate::store::{Error, Result, Store};

/// What a role may do with the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Reads everything the console, `list`, `audit` and `check` read.
    Viewer,
    /// A person at the console: also applies, publishes, finishes, stops,
    /// pauses and resumes. Writes journeys, versions (counters only as a
    /// stop moves them), a draft's variants and audit rows; never a
    /// participant, message, minute or A/B figure.
    Operator,
    /// The service logins of `run`, `tick`, `deliver` and `ingest`: also
    /// moves participants, messages, counters, minutes and A/B figures.
    /// Never updates or deletes audit rows, deletes participants or
    /// messages, truncates, or changes the schema.
    Engine,
}

impl Grant {
    pub fn as_str(self) -> &'static str {
        match self {
            Grant::Viewer => "viewer",
            Grant::Operator => "operator",
            Grant::Engine => "engine",
        }
    }

    /// What a role of this level may do to one table besides reading it.
    fn writes_on(self, table: &str) -> Option<&'static str> {
        match (self, table) {
            (Grant::Viewer, _) | (_, "_sqlx_migrations") => None,
            // Appended to, never changed: the append-only trigger refuses
            // the rest even to the owner.
            (_, "audit") => Some("INSERT"),
            // A draft's variants are replaced when the draft is applied
            // again (a trigger keeps a published version's as they are).
            (Grant::Operator, "variants") => Some("INSERT, DELETE"),
            (Grant::Operator, "journeys" | "versions") => Some("INSERT, UPDATE"),
            // A stop moves the per-action counters: pending to cancelled.
            (Grant::Operator, "outbox_actions") => Some("UPDATE"),
            // `journeyctl rate` sets and clears a channel's live limits;
            // delivery workers only read them.
            (Grant::Operator, "channel_rates") => Some("INSERT, UPDATE, DELETE"),
            (Grant::Engine, "channel_rates") => None,
            // `hold` and `release`; the engine ends a hold at its expiry.
            (Grant::Operator, "action_holds") => Some("INSERT, UPDATE, DELETE"),
            // The engine also carries out a hold set for a time (`--at`).
            (Grant::Engine, "action_holds") => Some("INSERT, UPDATE, DELETE"),
            // `--at` sets a schedule and `unschedule` takes it back; the
            // engine takes one, and ends it.
            (Grant::Operator, "scheduled_actions") => Some("INSERT, UPDATE"),
            // `journeyctl variant` records an operator's A/B choice; the
            // engine only reads them.
            (Grant::Operator, "variant_choices") => Some("INSERT"),
            (Grant::Engine, "variant_choices") => None,
            (Grant::Engine, "scheduled_actions") => Some("UPDATE"),
            // A resume, publish or release the policy makes ask first is
            // a request; another operator's approval ends it. Only the
            // schema's owner sets the policy.
            (Grant::Operator, "approval_requests") => Some("INSERT, UPDATE"),
            (Grant::Engine, "approval_requests") => Some("INSERT"),
            (_, "store_policy") => None,
            // `alerts --to` (an operator's or the engine's `run
            // --alerts`) keeps the episodes it told.
            (Grant::Operator | Grant::Engine, "alert_state" | "alert_samples") => {
                Some("INSERT, DELETE")
            }
            // A release records its choice for overdue messages; the
            // engine's claims apply it and delete it.
            (Grant::Operator, "action_overdue") => Some("INSERT"),
            (Grant::Engine, "action_overdue") => Some("INSERT, DELETE"),
            // On a cluster: a change of status writes the buckets' fences,
            // and takes their shares of active, pending and sent.
            (_, "version_shares") => Some("INSERT, UPDATE, DELETE"),
            (Grant::Operator, _) => None,
            (Grant::Engine, "variants") => Some("INSERT, UPDATE, DELETE"),
            // The engine drops trend minutes older than their window.
            (Grant::Engine, "version_minutes") => Some("INSERT, UPDATE, DELETE"),
            // A delivery worker gives its concurrency lease back.
            (Grant::Engine, "channel_leases") => Some("INSERT, UPDATE, DELETE"),
            (Grant::Engine, _) => Some("INSERT, UPDATE"),
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
        if !self.backend().has_logins() {
            return Err(Error::Invalid(
                "grant is for PostgreSQL: a SQLite store has no logins, its file's permissions decide who may read or change it (see docs/team.md, \"Team setup on SQLite\")"
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
        // Privileges mean nothing to a superuser or the schema's owner, and
        // revoking the owner's would strip the store of its administrator.
        let (superuser, owner): (bool, bool) = sqlx::query_as(
            "SELECT r.rolsuper, pg_has_role($1, n.nspowner, 'MEMBER')              FROM pg_roles r, pg_namespace n WHERE r.rolname = $1 AND n.nspname = current_schema()",
        )
        .bind(role)
        .fetch_one(&self.pool)
        .await?;
        if superuser || owner {
            return Err(Error::Invalid(format!(
                "{role} {} this store's schema: grant is for other logins (privileges cannot narrow it)",
                if superuser {
                    "is a superuser, above"
                } else {
                    "owns"
                }
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
        if grant != Grant::Viewer {
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
    /// Refuses, before anything is written, a login that cannot run the
    /// engine: its date rules would commit and its first batch be
    /// refused. SQLite has no logins.
    pub(crate) async fn refuse_unless_engine(&self) -> Result<()> {
        if !self.backend().has_logins() {
            return Ok(());
        }
        let (login, may): (String, bool) = sqlx::query_as(
            "SELECT CAST(current_user AS TEXT), \
             has_table_privilege(format('%I.participants', current_schema()), 'UPDATE') \
             AND has_table_privilege(format('%I.outbox', current_schema()), 'INSERT')",
        )
        .fetch_one(&self.pool)
        .await?;
        if may {
            return Ok(());
        }
        Err(Error::ReadOnly(crate::store::ReadOnly::NotEngine { login }))
    }

    pub(crate) async fn may_migrate(&self) -> Result<bool> {
        if !self.backend().has_logins() {
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

    /// Whether this PostgreSQL schema holds no journeyctl store at all (a
    /// mistyped database or search_path); false on SQLite, whose missing
    /// file is refused before it is opened.
    pub(crate) async fn is_empty_schema(&self) -> Result<bool> {
        if !self.backend().has_logins() {
            return Ok(false);
        }
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'versions'",
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_none())
    }

    /// Why a read refuses an empty PostgreSQL schema, in one line: reads
    /// never create a store (only `migrate`, `apply` and `ingest` do).
    pub(crate) async fn empty_schema_error(&self) -> Error {
        let place: Option<(String, String)> = sqlx::query_as(
            "SELECT CAST(COALESCE(current_schema(), '(none)') AS TEXT), CAST(current_database() AS TEXT)",
        )
        .fetch_optional(&self.pool)
        .await
        .ok()
        .flatten();
        let (schema, database) = place.unwrap_or_else(|| ("?".into(), "?".into()));
        Error::Invalid(format!(
            "no journeyctl store in schema {schema} of database {database}: check the URL (database name, options=-c search_path=...); `journeyctl migrate` creates one there"
        ))
    }

    /// Whether this login may change the store (an operator's or an
    /// engine's grant, or the owner); false for a viewer. True on SQLite,
    /// whose file permissions decide.
    pub async fn may_operate(&self) -> Result<bool> {
        if !self.backend().has_logins() {
            return Ok(true);
        }
        Ok(
            sqlx::query_scalar("SELECT has_table_privilege('versions', 'UPDATE')")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// The login the database sees (`None` on SQLite).
    pub async fn login(&self) -> Result<Option<String>> {
        if !self.backend().has_logins() {
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
            Error::ReadOnly(crate::store::ReadOnly::OwnerOnly {
                what: what.to_string(),
                detail: crate::store::error::first_line(d.message()),
            })
        }
        _ => e.into(),
    }
}

//! Real PostgreSQL login roles for the trust tests: an administrator who
//! owns a schema of its own, alice (operator), bob (viewer), carol (engine)
//! and mal (a login with no privileges on the schema); and the commands
//! and statements the tests run as them.

use std::path::Path;
use std::process::Output;

use journeyctl::store::scratch::url_in_schema;

pub fn run(url: &str, args: &[&str]) -> Output {
    super::journeyctl(url).user("ops").args(args).output()
}

pub fn ok(url: &str, args: &[&str]) -> String {
    let o = run(url, args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A refused command: exit 3 (a refusal, as a read-only role's is) or 1
/// (bad input), and one line on standard error, returned.
pub fn refused(url: &str, args: &[&str]) -> String {
    let o = run(url, args);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        matches!(o.status.code(), Some(3) | Some(1)),
        "{args:?} should be refused: {err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    err
}

pub fn json(url: &str, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(url, args)).unwrap()
}

pub fn status_of(url: &str, journey: &str) -> String {
    json(url, &["list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["journey"] == journey)
        .map(|v| v["status"].as_str().unwrap().to_string())
        .unwrap()
}

pub fn write_def(dir: &Path, name: &str) -> String {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!(
            "name = \"{name}\"\ngoal = \"purchase\"\n[[steps]]\nkind = \"message\"\naction = \"email\"\n[[steps]]\nkind = \"wait\"\nduration = \"1d\"\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

/// Login roles of this test and a schema owned by the first, removed
/// (with everything they own) when dropped.
pub struct Roles {
    pub admin_pool: sqlx::PgPool,
    pub server: String,
    pub schema: String,
    pub names: Vec<String>,
}

impl Roles {
    pub async fn create(tag: &str) -> Option<Roles> {
        Roles::create_in(super::PG_ENV, tag).await
    }

    /// The same on the server that `env` names (PostgreSQL, or a Citus
    /// coordinator, which gives the roles to its workers too).
    pub async fn create_in(env: &str, tag: &str) -> Option<Roles> {
        let Ok(server) = std::env::var(env) else {
            loud!("!!! {env} unset: the trust test {tag} was SKIPPED");
            return None;
        };
        let admin_pool = sqlx::PgPool::connect(&server).await.unwrap();
        let id = std::process::id();
        let names: Vec<String> = ["admin", "alice", "bob", "carol", "mal"]
            .iter()
            .map(|n| format!("jc_{tag}_{n}_{id}"))
            .collect();
        let schema = format!("jc_{tag}_{id}");
        let mut sql = vec![format!("DROP SCHEMA IF EXISTS {schema} CASCADE")];
        for n in &names {
            sql.push(format!("DROP ROLE IF EXISTS {n}"));
            sql.push(format!("CREATE ROLE {n} LOGIN"));
        }
        sql.push(format!("CREATE SCHEMA {schema} AUTHORIZATION {}", names[0]));
        for s in sql {
            sqlx::query(sqlx::AssertSqlSafe(s))
                .execute(&admin_pool)
                .await
                .unwrap();
        }
        Some(Roles {
            admin_pool,
            server,
            schema,
            names,
        })
    }

    /// The store's URL as login `role`.
    pub fn url(&self, role: &str) -> String {
        let base = self
            .server
            .replacen("postgres://postgres@", &format!("postgres://{role}@"), 1);
        assert!(
            base.contains(role),
            "{} must log in as postgres",
            self.server
        );
        url_in_schema(&base, &self.schema)
    }

    pub async fn pool(&self, role: &str) -> sqlx::PgPool {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&self.url(role))
            .await
            .unwrap()
    }

    pub async fn drop_all(self) {
        let mut sql = vec![format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema)];
        for n in &self.names {
            sql.push(format!("DROP OWNED BY {n}"));
            sql.push(format!("DROP ROLE IF EXISTS {n}"));
        }
        for s in sql {
            let _ = sqlx::query(sqlx::AssertSqlSafe(s))
                .execute(&self.admin_pool)
                .await;
        }
        self.admin_pool.close().await;
    }
}

/// Runs `sql` as one transaction on `pool`; the error's text if it fails.
pub async fn try_sql(pool: &sqlx::PgPool, sql: &str) -> Result<(), String> {
    let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
    // A refused change of status is refused here, at commit.
    tx.commit().await.map_err(|e| e.to_string())
}

pub async fn count(pool: &sqlx::PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(pool)
        .await
        .unwrap()
}

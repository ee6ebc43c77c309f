//! Trust on PostgreSQL, with real login roles: an administrator owns the
//! store and runs `grant`; alice operates, bob looks. The database writes
//! who really logged in, and no status changes without an audit row.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use journeyctl::store::scratch::url_in_schema;

use common::bin;
use common::tmux::Tmux;

fn run(url: &str, args: &[&str]) -> Output {
    Command::new(bin())
        .env("DATABASE_URL", url)
        .env("USER", "ops")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn ok(url: &str, args: &[&str]) -> String {
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
fn refused(url: &str, args: &[&str]) -> String {
    let o = run(url, args);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        matches!(o.status.code(), Some(3) | Some(1)),
        "{args:?} should be refused: {err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    err
}

fn json(url: &str, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(url, args)).unwrap()
}

fn status_of(url: &str, journey: &str) -> String {
    json(url, &["list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["journey"] == journey)
        .map(|v| v["status"].as_str().unwrap().to_string())
        .unwrap()
}

fn write_def(dir: &Path, name: &str) -> String {
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
struct Roles {
    admin_pool: sqlx::PgPool,
    server: String,
    schema: String,
    names: Vec<String>,
}

impl Roles {
    async fn create(tag: &str) -> Option<Roles> {
        let Ok(server) = std::env::var(common::PG_ENV) else {
            loud!(
                "!!! PostgreSQL SKIPPED for the trust test: set {}",
                common::PG_ENV
            );
            return None;
        };
        let admin_pool = sqlx::PgPool::connect(&server).await.unwrap();
        let id = std::process::id();
        let names: Vec<String> = ["admin", "alice", "bob"]
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
    fn url(&self, role: &str) -> String {
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

    async fn pool(&self, role: &str) -> sqlx::PgPool {
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&self.url(role))
            .await
            .unwrap()
    }

    async fn drop_all(self) {
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
async fn try_sql(pool: &sqlx::PgPool, sql: &str) -> Result<(), String> {
    let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut *tx)
        .await
        .map_err(|e| e.to_string())?;
    // A refused change of status is refused here, at commit.
    tx.commit().await.map_err(|e| e.to_string())
}

async fn count(pool: &sqlx::PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_and_viewers_with_the_database_keeping_the_audit() {
    let Some(roles) = Roles::create("trust").await else {
        return;
    };
    let [admin, alice, bob] = [0, 1, 2].map(|i| roles.names[i].clone());
    let (admin_url, alice_url, bob_url) = (roles.url(&admin), roles.url(&alice), roles.url(&bob));
    let dir = tempfile::tempdir().unwrap();

    // The administrator makes the store and grants; granting again is safe.
    for name in ["cart", "welcome", "promo"] {
        ok(
            &admin_url,
            &["apply", &write_def(dir.path(), name), "--publish"],
        );
    }
    for _ in 0..2 {
        let said = ok(&admin_url, &["grant", "--operator", &alice]);
        assert!(
            said.contains(&format!("{alice} is now an operator")),
            "{said}"
        );
        ok(&admin_url, &["grant", "--viewer", &bob]);
    }
    let err = refused(&admin_url, &["grant", "--viewer", "nobody_here"]);
    assert!(err.contains("there is no role \"nobody_here\""), "{err}");

    // alice operates: ingest and tick.
    let events: String = (0..30)
        .map(|i| format!("{{\"type\":\"enter\",\"journey\":\"cart\",\"profile\":\"p-{i}\"}}\n"))
        .collect();
    let file = dir.path().join("events.ndjson");
    std::fs::write(&file, events).unwrap();
    ok(&alice_url, &["ingest", file.to_str().unwrap()]);
    ok(&alice_url, &["tick"]);

    // bob looks, and his stop is refused by the database, changing nothing.
    let listed = json(&bob_url, &["list", "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), 3);
    let audits_before = json(&bob_url, &["audit", "--json"])
        .as_array()
        .unwrap()
        .len();
    let err = refused(&bob_url, &["stop", "cart", "--yes"]);
    assert!(err.contains("this role may only read"), "{err}");
    assert!(err.contains("journeyctl grant --operator"), "{err}");
    assert_eq!(status_of(&admin_url, "cart"), "live");
    let err = refused(&bob_url, &["grant", "--operator", &bob]);
    assert!(err.contains("must be run by the role that owns"), "{err}");
    assert_eq!(
        json(&bob_url, &["audit", "--json"])
            .as_array()
            .unwrap()
            .len(),
        audits_before
    );

    // alice's stop under another name: the label is kept, the login too.
    ok(
        &alice_url,
        &[
            "stop", "cart", "--yes", "--actor", "mallory", "--reason", "test",
        ],
    );
    let audit = json(&bob_url, &["audit", "--json"]);
    assert_eq!(audit[0]["action"], "stop");
    assert_eq!(audit[0]["actor"], "mallory");
    assert_eq!(audit[0]["db_user"], alice.as_str());
    assert_eq!(audit[1]["db_user"], admin.as_str());
    let text = ok(&bob_url, &["audit"]);
    assert!(text.contains(&format!("{alice} (as mallory)")), "{text}");
    // Her own name is not repeated.
    ok(&alice_url, &["finish", "promo", "--yes", "--actor", &alice]);
    let audit = json(&bob_url, &["audit", "--json"]);
    assert_eq!(audit[0]["actor"], alice.as_str());
    let newest = ok(&bob_url, &["audit"]).lines().next().unwrap().to_string();
    assert!(
        newest.contains(&alice) && !newest.contains("(as "),
        "{newest}"
    );

    // alice by hand, as in psql.
    let ap = roles.pool(&alice).await;
    let err = try_sql(
        &ap,
        "UPDATE versions SET status = 'stopped' WHERE status = 'live'",
    )
    .await
    .unwrap_err();
    assert!(err.contains("without an audit row"), "{err}");
    let err = try_sql(
        &ap,
        "UPDATE versions SET paused_at = 1 WHERE status = 'live'",
    )
    .await
    .unwrap_err();
    assert!(err.contains("without an audit row"), "{err}");
    assert_eq!(status_of(&admin_url, "welcome"), "live");
    // Tables of the same name elsewhere do not stand in for the audit log.
    let spoof = "CREATE TEMP TABLE journeys AS SELECT * FROM journeys; \
                 CREATE TEMP TABLE audit AS SELECT * FROM audit; \
                 INSERT INTO audit (id, at, actor, host, action, journey, version, xact) \
                 VALUES (-1, 0, 'x', 'x', 'stop', 'welcome', 1, txid_current()); \
                 UPDATE versions SET status = 'stopped' WHERE status = 'live'";
    let err = try_sql(&ap, spoof).await.unwrap_err();
    assert!(err.contains("without an audit row"), "{err}");
    assert_eq!(status_of(&admin_url, "welcome"), "live");
    // With an audit row of her own, the change goes through, and the row
    // names her whatever she claims.
    try_sql(
        &ap,
        "INSERT INTO audit (at, actor, host, action, journey, version, db_user) \
         VALUES (0, 'someone', 'psql', 'stop', 'welcome', 1, 'postgres'); \
         UPDATE versions SET status = 'stopped' WHERE status = 'live'",
    )
    .await
    .unwrap();
    let audit = json(&bob_url, &["audit", "--json"]);
    assert_eq!(audit[0]["actor"], "someone");
    assert_eq!(audit[0]["db_user"], alice.as_str());

    // What an operator can never do.
    for sql in [
        "UPDATE audit SET actor = 'nobody'",
        "DELETE FROM audit",
        "TRUNCATE audit",
        "DELETE FROM participants",
        "DELETE FROM outbox",
        "TRUNCATE participants",
        "DROP TABLE participants",
        "ALTER TABLE audit DISABLE TRIGGER audit_no_update",
        "ALTER TABLE versions DISABLE TRIGGER versions_status_audited",
        "CREATE TABLE versions_copy (id BIGINT)",
    ] {
        let err = try_sql(&ap, sql).await.unwrap_err();
        assert!(
            err.contains("permission denied")
                || err.contains("must be owner")
                || err.contains("append-only"),
            "{sql}: {err}"
        );
    }
    let admin_pool = roles.pool(&admin).await;
    assert_eq!(
        count(&admin_pool, "SELECT COUNT(*) FROM participants").await,
        30
    );
    assert!(count(&admin_pool, "SELECT COUNT(*) FROM outbox").await > 0);
    let audit_rows = count(&admin_pool, "SELECT COUNT(*) FROM audit").await;
    assert_eq!(
        audit_rows as usize,
        json(&bob_url, &["audit", "--json"])
            .as_array()
            .unwrap()
            .len()
    );

    // bob's console opens and shows the journeys.
    let console = format!(
        "cd {} && DATABASE_URL='{bob_url}' XDG_STATE_HOME={}/state exec {} --refresh 1s",
        dir.path().display(),
        dir.path().display(),
        bin()
    );
    let t = Tmux::start(&format!("trust_{}", std::process::id()), &console, 120, 35);
    t.wait_for("0 of 3 versions");
    t.keys(&["t"]);
    let screen = t.wait_for("welcome");
    assert!(
        screen.contains("cart") && screen.contains("promo"),
        "{screen}"
    );
    t.keys(&["q"]);
    t.wait_dead();

    // A schema older than the binary: alice may not migrate it, and is told
    // who can; nothing is attempted.
    sqlx::query(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    )
    .execute(&admin_pool)
    .await
    .unwrap();
    let err = refused(&alice_url, &["list"]);
    assert!(
        err.contains("run `journeyctl migrate` as the role that owns the schema"),
        "{err}"
    );
    assert!(err.contains(&alice), "{err}");

    ap.close().await;
    admin_pool.close().await;
    roles.drop_all().await;
}

#[test]
fn grant_on_sqlite_says_the_file_decides() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    ok(&url, &["migrate"]);
    let err = refused(&url, &["grant", "--viewer", "bob"]);
    assert!(err.contains("file's permissions"), "{err}");
    let audit = json(&url, &["audit", "--json"]);
    assert_eq!(audit.as_array().unwrap().len(), 0);
}

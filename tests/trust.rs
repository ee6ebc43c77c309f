//! Trust on PostgreSQL, with real login roles: an administrator owns the
//! store and runs `grant`; alice operates, bob looks. The database writes
//! who really logged in, and no status changes without an audit row.

mod common;

use common::bin;
use common::roles::*;
use common::tmux::Tmux;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_postgres,
    ignore = "PostgreSQL skipped: set JOURNEYCTL_TEST_POSTGRES_URL"
)]
async fn operators_and_viewers_with_the_database_keeping_the_audit() {
    let Some(roles) = Roles::create("trust").await else {
        return;
    };
    let [admin, alice, bob, carol] = [0, 1, 2, 3].map(|i| roles.names[i].clone());
    let (admin_url, alice_url, bob_url) = (roles.url(&admin), roles.url(&alice), roles.url(&bob));
    let carol_url = roles.url(&carol);
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
        let said = ok(&admin_url, &["grant", "--engine", &carol]);
        assert!(
            said.contains(&format!("{carol} is now an engine")),
            "{said}"
        );
    }
    let err = refused(&admin_url, &["grant", "--viewer", "nobody_here"]);
    assert!(err.contains("there is no role \"nobody_here\""), "{err}");
    // The owner and superusers are above privileges: grant refuses them
    // (a viewer grant to the owner would strip the store's administrator).
    let err = refused(&admin_url, &["grant", "--viewer", &admin]);
    assert!(err.contains("owns this store's schema"), "{err}");
    let err = refused(&admin_url, &["grant", "--operator", "postgres"]);
    assert!(err.contains("is a superuser"), "{err}");

    // carol is the engine: ingest and tick; alice, a person, may not.
    let events: String = (0..30)
        .map(|i| format!("{{\"type\":\"enter\",\"journey\":\"cart\",\"profile\":\"p-{i}\"}}\n"))
        .collect();
    let file = dir.path().join("events.ndjson");
    std::fs::write(&file, events).unwrap();
    let err = refused(&alice_url, &["ingest", file.to_str().unwrap()]);
    assert!(err.contains("journeyctl grant --engine ROLE"), "{err}");
    ok(&carol_url, &["ingest", file.to_str().unwrap()]);
    ok(&carol_url, &["tick"]);

    // The console's header says who may only look.
    for (url, may) in [(&bob_url, false), (&alice_url, true), (&carol_url, true)] {
        let location = journeyctl::store::Location::parse(url).unwrap();
        let store = journeyctl::store::Store::open(&location, &Default::default())
            .await
            .unwrap();
        assert_eq!(store.may_operate().await.unwrap(), may, "{url}");
        store.close().await;
    }

    // bob looks, and his stop is refused by the database, changing nothing.
    let listed = json(&bob_url, &["list", "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), 3, "live ones");
    let audits_before = json(&bob_url, &["audit", "--json"])
        .as_array()
        .unwrap()
        .len();
    let err = refused(&bob_url, &["stop", "cart", "--yes"]);
    assert!(err.contains("refused this change for this role"), "{err}");
    assert!(err.contains("journeyctl grant --operator"), "{err}");
    // Said once, in our words: never the driver's text after it.
    assert_eq!(err.matches("permission denied").count(), 1, "{err}");
    assert!(!err.contains("error returned from database"), "{err}");
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
        "UPDATE versions SET paused_at = 1, paused_until = 2, paused_on_expiry = 'resume' \
         WHERE status = 'live'",
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
    // An audit row that does not say what changed is no audit row.
    let err = try_sql(
        &ap,
        "INSERT INTO audit (at, actor, host, action, journey, version, from_status, to_status) \
         VALUES (0, 'someone', 'psql', 'publish', 'welcome', 1, 'draft', 'live'); \
         UPDATE versions SET status = 'stopped' WHERE status = 'live'",
    )
    .await
    .unwrap_err();
    assert!(err.contains("without an audit row saying so"), "{err}");
    // Nor one with the right action but a false from or to: a stop that
    // claims to have gone from draft, or to have gone to live.
    for (from, to) in [("draft", "stopped"), ("live", "live")] {
        let err = try_sql(
            &ap,
            &format!(
                "INSERT INTO audit (at, actor, host, action, journey, version, from_status, to_status) \
                 VALUES (0, 'someone', 'psql', 'stop', 'welcome', 1, '{from}', '{to}'); \
                 UPDATE versions SET status = 'stopped' WHERE status = 'live'"
            ),
        )
        .await
        .unwrap_err();
        assert!(
            err.contains("without an audit row saying so"),
            "stop {from} -> {to}: {err}"
        );
    }
    assert_eq!(status_of(&admin_url, "welcome"), "live");
    // With a true audit row of her own, the change goes through, and the
    // row names her whatever she claims.
    try_sql(
        &ap,
        "INSERT INTO audit (at, actor, host, action, journey, version, from_status, to_status, db_user) \
         VALUES (0, 'someone', 'psql', 'stop', 'welcome', 1, 'live', 'stopped', 'postgres'); \
         UPDATE versions SET status = 'stopped' WHERE status = 'live'",
    )
    .await
    .unwrap();
    let audit = json(&bob_url, &["audit", "--json"]);
    assert_eq!(audit[0]["actor"], "someone");
    assert_eq!(audit[0]["db_user"], alice.as_str());
    // Its claimed time (1970) is shown beside the database's own.
    assert!(audit[0]["recorded_at"].as_str().unwrap().starts_with("20"));
    let newest = ok(&bob_url, &["audit"]).lines().next().unwrap().to_string();
    assert!(
        newest.starts_with("1970-01-01T00:00:00Z (recorded 20"),
        "{newest}"
    );

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

    // alice's tick is refused before its date rules run: a refused
    // command changes nothing (its date rule once committed a finish).
    let ended = dir.path().join("ended.toml");
    std::fs::write(
        &ended,
        "name = \"ended\"\nentry_end_at = \"2020-01-01T00:00:00Z\"\n\
         [[steps]]\nkind = \"message\"\naction = \"email\"\n",
    )
    .unwrap();
    ok(&admin_url, &["apply", ended.to_str().unwrap(), "--publish"]);
    let err = refused(&alice_url, &["tick"]);
    assert!(err.contains("may not run the engine"), "{err}");
    assert!(
        err.contains(&format!("journeyctl grant --engine {alice}")),
        "{err}"
    );
    assert_eq!(status_of(&admin_url, "ended"), "live", "nothing changed");
    ok(&carol_url, &["tick"]);
    assert_eq!(status_of(&admin_url, "ended"), "finished");

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

//! The store keeps its own rules, whoever connects: each attack a login
//! could try in `psql` on the README's team setup (the owner ran `migrate`
//! and `grant`; alice is an operator, bob a viewer, carol the engine, mal a
//! login with no privileges on the schema) is refused, or audited with the
//! truth where an operator may do it, and the stopped version is stopped
//! at the end of every one.

mod common;

use common::roles::*;

/// A journey whose second step is an A/B split (its variants are rows).
fn write_split(dir: &std::path::Path, name: &str) -> String {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!(
            "name = \"{name}\"\ngoal = \"purchase\"\n\
             [[steps]]\nkind = \"message\"\naction = \"email\"\n\
             [[steps]]\nkind = \"split\"\ntest = \"t\"\nvariants = [\n\
             {{ name = \"A\", weight = 50, action = \"email:a\" }},\n\
             {{ name = \"B\", weight = 50, action = \"email:b\" }},\n]\n\
             [[steps]]\nkind = \"wait\"\nduration = \"1d\"\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

/// Runs `sql` as one transaction on `pool`, and says why it was refused.
async fn refused_sql(pool: &sqlx::PgPool, sql: &str) -> String {
    match try_sql(pool, sql).await {
        Ok(()) => panic!("{sql}: should be refused, and it committed"),
        Err(e) => e,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_postgres,
    ignore = "PostgreSQL skipped: set JOURNEYCTL_TEST_POSTGRES_URL"
)]
async fn no_login_can_bring_a_stopped_version_back_or_rewrite_what_was_published() {
    let Some(roles) = Roles::create("rules").await else {
        return;
    };
    let [admin, alice, bob, carol] = [0, 1, 2, 3].map(|i| roles.names[i].clone());
    let (admin_url, alice_url, carol_url) =
        (roles.url(&admin), roles.url(&alice), roles.url(&carol));
    let dir = tempfile::tempdir().unwrap();
    ok(&admin_url, &["migrate"]);
    ok(&admin_url, &["grant", "--operator", &alice]);
    ok(&admin_url, &["grant", "--viewer", &bob]);
    ok(&admin_url, &["grant", "--engine", &carol]);
    // alice, a person, applies and publishes (a draft's variants are hers
    // to write); carol's engine moves people and messages.
    for name in ["spring-sale", "summer"] {
        ok(
            &alice_url,
            &["apply", &write_split(dir.path(), name), "--publish"],
        );
    }
    let events: String = (0..40)
        .flat_map(|i| {
            ["spring-sale", "summer"].map(|j| {
                format!("{{\"type\":\"enter\",\"journey\":\"{j}\",\"profile\":\"p-{i}\"}}\n")
            })
        })
        .collect();
    let file = dir.path().join("events.ndjson");
    std::fs::write(&file, events).unwrap();
    ok(&carol_url, &["ingest", file.to_str().unwrap()]);
    ok(&carol_url, &["tick"]);
    // alice's daily commands go through, counters and all.
    ok(&alice_url, &["pause", "summer", "--hold", "1h", "--yes"]);
    ok(&alice_url, &["resume", "summer", "--yes"]);
    ok(&alice_url, &["stop", "spring-sale", "--yes"]);
    assert_eq!(status_of(&admin_url, "spring-sale"), "stopped");
    let ap = roles.pool(&alice).await;
    let admin_pool = roles.pool(&admin).await;
    let cp = roles.pool(&carol).await;
    let stopped = "(SELECT v.id FROM versions v JOIN journeys j ON j.id = v.journey_id \
                   WHERE j.name = 'spring-sale')";

    // The issue's own attack: a made-up publish row and an update.
    let err = refused_sql(
        &ap,
        &format!(
            "INSERT INTO audit (at, actor, host, action, journey, version, from_status, to_status) \
             VALUES (1600000000000, 'schedule', 'ops-1', 'publish', 'spring-sale', 1, 'draft', 'live'); \
             UPDATE versions SET status = 'live', paused_at = NULL WHERE id = {stopped}"
        ),
    )
    .await;
    assert!(err.contains("cannot go from stopped to live"), "{err}");
    // Nor back to draft; nor by the engine, nor by the owner.
    for (pool, sql) in [
        (&ap, "UPDATE versions SET status = 'draft'"),
        (&cp, "UPDATE versions SET status = 'live'"),
        (&admin_pool, "UPDATE versions SET status = 'finished'"),
    ] {
        let err = refused_sql(pool, &format!("{sql} WHERE id = {stopped}")).await;
        assert!(err.contains("cannot go from stopped to"), "{sql}: {err}");
    }

    // A function of her own earlier on her search_path changes nothing:
    // the trigger calls pg_catalog's txid_current. Here it returns the
    // transaction of her own earlier pause of summer, whose audit row
    // (pause, live -> paused) would otherwise explain a second pause with
    // no row at all.
    let database: String = sqlx::query_scalar("SELECT CAST(current_database() AS TEXT)")
        .fetch_one(&roles.admin_pool)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "GRANT CREATE ON DATABASE \"{database}\" TO {alice}"
    )))
    .execute(&roles.admin_pool)
    .await
    .unwrap();
    let paused_xact = count(
        &ap,
        "SELECT xact FROM audit WHERE action = 'pause' ORDER BY id DESC LIMIT 1",
    )
    .await;
    let trick = format!(
        "CREATE SCHEMA {mine}; \
         CREATE FUNCTION {mine}.txid_current() RETURNS bigint LANGUAGE sql AS 'SELECT {paused_xact}::bigint'; \
         SET LOCAL search_path = {mine}, pg_catalog, {schema}; \
         UPDATE versions SET paused_at = 1, paused_until = 9999999999999, paused_on_expiry = 'resume', \
         paused_by = 'alice' WHERE paused_at IS NULL AND status = 'live'",
        schema = roles.schema,
        mine = format!("{}_s", roles.schema)
    );
    let err = refused_sql(&ap, &trick).await;
    assert!(err.contains("without an audit row saying so"), "{err}");
    // Every function of the schema pins its search_path.
    let unpinned = count(
        &admin_pool,
        "SELECT COUNT(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE n.nspname = current_schema() AND NOT EXISTS \
         (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')",
    )
    .await;
    assert_eq!(unpinned, 0, "functions without a pinned search_path");
    ok(&alice_url, &["pause", "summer", "--hold", "1h", "--yes"]);
    // A decision, stored the engine's way, for the owner to try to rewrite.
    sqlx::query(
        "INSERT INTO ab_decisions (version_id, test, winner, decided_at, p_value, figures) \
         SELECT id, 't', 'A', 0, 0.01, '{\"variants\":[],\"pairs\":[]}' FROM versions WHERE id = \
         (SELECT v.id FROM versions v JOIN journeys j ON j.id = v.journey_id WHERE j.name = 'summer')",
    )
    .execute(&cp)
    .await
    .unwrap();

    // Without an audit row, a published version stays as published.
    let live = "(SELECT v.id FROM versions v JOIN journeys j ON j.id = v.journey_id \
                WHERE j.name = 'summer')";
    for (sql, why) in [
        (
            format!(
                "UPDATE versions SET definition = replace(definition, 'email:a', 'email:x') WHERE id = {live}"
            ),
            "its definition never changes",
        ),
        (
            format!("UPDATE versions SET status_by = 'sam' WHERE id = {live}"),
            "changes only with its status",
        ),
        (
            format!("UPDATE versions SET paused_until = paused_until + 86400000 WHERE id = {live}"),
            "never rewritten",
        ),
        (
            format!("UPDATE versions SET gate_until = 9999999999999 WHERE id = {live}"),
            "delivery gate",
        ),
        (
            format!("UPDATE versions SET entered = entered + 100 WHERE id = {live}"),
            "counters",
        ),
        (
            format!("UPDATE versions SET active = 0, stopped = stopped + active WHERE id = {live}"),
            "only as its stop does",
        ),
        (
            "UPDATE journeys SET name = 'autumn' WHERE name = 'summer'".into(),
            "keeps its name",
        ),
        (
            format!("DELETE FROM variants WHERE version_id = {live}"),
            "only counted",
        ),
        (
            format!(
                "INSERT INTO variants (version_id, test, name, position) VALUES ({live}, 't', 'C', 3)"
            ),
            "only counted",
        ),
        (
            "UPDATE outbox_actions SET sent = sent + 5".into(),
            "only as a stop does",
        ),
        (
            "UPDATE outbox SET state = 'sent'".into(),
            "permission denied",
        ),
        (
            "UPDATE outbox SET profile = 'p-0'".into(),
            "permission denied",
        ),
        (
            format!(
                "INSERT INTO outbox (version_id, participant_id, profile, action, state, created_at) \
                  VALUES ({live}, 1, 'x', 'email', 'pending', 0)"
            ),
            "permission denied",
        ),
        ("DELETE FROM version_minutes".into(), "permission denied"),
        (
            "UPDATE ab_decisions SET figures = 'x'".into(),
            "permission denied",
        ),
        ("DELETE FROM ab_decisions".into(), "permission denied"),
        (
            "UPDATE participants SET state = 'active'".into(),
            "permission denied",
        ),
        (
            "UPDATE variants SET assigned = 0".into(),
            "permission denied",
        ),
    ] {
        let err = refused_sql(&ap, &sql).await;
        assert!(err.contains(why), "{sql}: {err}");
    }
    // The engine and the owner cannot rewrite a decision or a variant
    // list either.
    for (pool, sql, why) in [
        (&admin_pool, "UPDATE ab_decisions SET figures = 'x'".to_string(), "never changes"),
        (&cp, "DELETE FROM ab_decisions".to_string(), "permission denied"),
        (&admin_pool, "DELETE FROM ab_decisions".to_string(), "never changes"),
        (&cp, format!("DELETE FROM variants WHERE version_id = {live}"), "only counted"),
        (&admin_pool, "UPDATE versions SET definition = '{}' WHERE status <> 'draft'".to_string(), "never changes"),
        (&admin_pool, "INSERT INTO versions (journey_id, number, status, status_at, status_by, status_host, definition, created_at) \
                       SELECT journey_id, 9, 'live', 0, 'x', 'x', definition, 0 FROM versions LIMIT 1".to_string(), "born a draft"),
    ] {
        let err = refused_sql(pool, &sql).await;
        assert!(err.contains(why), "{sql}: {err}");
    }

    // What alice did is in the audit trail under her login, and the trail
    // explains every status; the stopped version is stopped.
    let audit = json(&roles.url(&bob), &["audit", "--json"]);
    let mine: Vec<&serde_json::Value> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["db_user"] == alice.as_str())
        .collect();
    let actions: Vec<&str> = mine.iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "pause", "stop", "resume", "pause", "publish", "apply", "publish", "apply"
        ]
    );
    let checked = ok(&admin_url, &["check"]);
    assert!(checked.contains("every counter equals"), "{checked}");
    assert_eq!(status_of(&admin_url, "spring-sale"), "stopped");

    ap.close().await;
    cp.close().await;
    admin_pool.close().await;
    roles.drop_all().await;
}

both_backends!(
    check_says_when_the_audit_trail_does_not_explain_a_status,
    citus: "it writes a status by hand with the versions' triggers turned off, and Citus cannot turn off a reference table's triggers",
    |ts| {
        use common::*;
        let s = &ts.store;
        publish(s, &simple("x"), at(0)).await;
        publish(s, &simple("y"), at(0)).await;
        let stop = common::stop_of("x", 1);
        s.execute(&stop, &alice(), at(1)).await.unwrap();
        assert!(s.verify_counters().await.unwrap().is_empty());
        // Behind the store's back (on PostgreSQL only a superuser can: it
        // turns the rules off first).
        let _ = sqlx::query("ALTER TABLE versions DISABLE TRIGGER USER")
            .execute(s.pool())
            .await;
        sqlx::query(
        "UPDATE versions SET status = 'live' WHERE journey_id = (SELECT id FROM journeys WHERE name = 'x')",
    )
    .execute(s.pool())
    .await
    .unwrap();
        let diffs = s.verify_counters().await.unwrap();
        assert!(
            diffs.iter().any(|d| d.starts_with(
                "x v1: it is live, but its audit trail ends stopped"
            )),
            "{diffs:?}"
        );
        assert!(!diffs.iter().any(|d| d.starts_with("y ")), "{diffs:?}");
        sqlx::query(
        "UPDATE versions SET status = 'stopped' WHERE journey_id = (SELECT id FROM journeys WHERE name = 'x')",
    )
    .execute(s.pool())
    .await
    .unwrap();
        let _ = sqlx::query("ALTER TABLE versions ENABLE TRIGGER USER")
            .execute(s.pool())
            .await;
    }
);

/// Runs the binary as `url`'s login; its output, or a panic when it has
/// not finished within `limit` (a stop held hostage never would).
fn run_within(url: &str, args: &[&str], limit: std::time::Duration) -> std::process::Output {
    common::Proc::spawn(
        common::journeyctl(url)
            .args(args)
            .command()
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped()),
    )
    .finish(limit)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_postgres,
    ignore = "PostgreSQL skipped: set JOURNEYCTL_TEST_POSTGRES_URL"
)]
async fn a_stop_is_never_held_hostage_and_says_who_holds_it() {
    let Some(roles) = Roles::create("hostage").await else {
        return;
    };
    let [admin, alice, _bob, _carol, mal] = [0, 1, 2, 3, 4].map(|i| roles.names[i].clone());
    let (admin_url, alice_url) = (roles.url(&admin), roles.url(&alice));
    let dir = tempfile::tempdir().unwrap();
    ok(&admin_url, &["migrate"]);
    ok(&admin_url, &["grant", "--operator", &alice]);
    for name in ["taken", "rowlocked"] {
        ok(
            &admin_url,
            &["apply", &write_def(dir.path(), name), "--publish"],
        );
    }
    let admin_pool = roles.pool(&admin).await;
    let id_of = |name: &str| {
        format!(
            "(SELECT v.id FROM versions v JOIN journeys j ON j.id = v.journey_id WHERE j.name = '{name}')"
        )
    };
    let taken: i64 = count(&admin_pool, &format!("SELECT {}", id_of("taken"))).await;

    // mal has no privilege on the schema, only CONNECT, and takes the
    // version's turn lock for as long as he likes.
    let mal_pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&roles.url(&mal))
        .await
        .unwrap();
    let mut mal_conn = mal_pool.acquire().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT pg_advisory_lock(7413, {taken})"
    )))
    .execute(&mut *mal_conn)
    .await
    .unwrap();
    let out = run_within(
        &alice_url,
        &["stop", "taken", "--yes"],
        std::time::Duration::from_secs(30),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(status_of(&admin_url, "taken"), "stopped");

    // alice holds the other version's row in an open transaction (she may:
    // she is an operator). A stop by the administrator says who holds it,
    // and gives up at its --lock-timeout, changing nothing.
    let alice_opts: sqlx::postgres::PgConnectOptions = alice_url.parse().unwrap();
    let alice_pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(alice_opts.application_name("psql-alice"))
        .await
        .unwrap();
    let mut held = alice_pool.begin().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM versions WHERE id = {} FOR UPDATE",
        id_of("rowlocked")
    )))
    .execute(&mut *held)
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let out = run_within(
        &admin_url,
        &["stop", "rowlocked", "--yes", "--lock-timeout", "3s"],
        std::time::Duration::from_secs(30),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("held by {alice} (psql-alice, pid ")),
        "{err}"
    );
    assert!(
        err.contains("gave up after --lock-timeout 3s: the action did not run"),
        "{err}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    assert_eq!(status_of(&admin_url, "rowlocked"), "live");
    held.rollback().await.unwrap();
    ok(&admin_url, &["stop", "rowlocked", "--yes"]);
    assert_eq!(status_of(&admin_url, "rowlocked"), "stopped");
    let checked = ok(&admin_url, &["check"]);
    assert!(checked.contains("every counter equals"), "{checked}");

    drop(mal_conn);
    mal_pool.close().await;
    alice_pool.close().await;
    admin_pool.close().await;
    roles.drop_all().await;
}

/// Sessions waiting, directly or behind another waiter, on `holder`.
async fn waiting_behind(pool: &sqlx::PgPool, holder: i32) -> usize {
    let edges: Vec<(i32, i32)> = sqlx::query_as(
        "SELECT a.pid, b.pid FROM pg_stat_activity a \
         CROSS JOIN LATERAL unnest(pg_blocking_pids(a.pid)) AS b(pid) \
         WHERE a.wait_event_type = 'Lock'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut blocked = vec![holder];
    loop {
        let more: Vec<i32> = edges
            .iter()
            .filter(|(p, by)| !blocked.contains(p) && blocked.contains(by))
            .map(|(p, _)| *p)
            .collect();
        if more.is_empty() {
            return blocked.len() - 1;
        }
        blocked.extend(more);
    }
}

/// The race the engine's status check under the version's row lock
/// exists for: a stop that went on without its turn lock (held by a login
/// with no privilege) while an engine batch started beside it. The batch
/// has read and written its rows when the stop commits; it then finds the
/// version stopped and ends without effect, so nothing is queued or
/// counted in the stopped version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_postgres,
    ignore = "PostgreSQL skipped: set JOURNEYCTL_TEST_POSTGRES_URL"
)]
async fn an_engine_batch_beside_a_stop_without_its_turn_ends_without_effect() {
    let Some(roles) = Roles::create("beside").await else {
        return;
    };
    let [admin, alice, _bob, _carol, mal] = [0, 1, 2, 3, 4].map(|i| roles.names[i].clone());
    let (admin_url, alice_url) = (roles.url(&admin), roles.url(&alice));
    let dir = tempfile::tempdir().unwrap();
    ok(&admin_url, &["migrate"]);
    ok(&admin_url, &["grant", "--operator", &alice]);
    // Advisory lock keys name a version by its id in the whole database,
    // and the other tests' stores in it number theirs from 1 (one of them
    // holds a version's turn lock for a while): an id of its own.
    let admin_pool = roles.pool(&admin).await;
    sqlx::query("SELECT setval(pg_get_serial_sequence('versions', 'id'), 700000 + $1)")
        .bind(i64::from(std::process::id() % 100_000))
        .execute(&admin_pool)
        .await
        .unwrap();
    ok(
        &admin_url,
        &["apply", &write_def(dir.path(), "raced"), "--publish"],
    );
    let events: String = (0..50)
        .map(|i| format!("{{\"type\":\"enter\",\"journey\":\"raced\",\"profile\":\"p-{i}\"}}\n"))
        .collect();
    let file = dir.path().join("events.ndjson");
    std::fs::write(&file, events).unwrap();
    ok(&admin_url, &["ingest", file.to_str().unwrap()]);
    let id: i64 = count(
        &admin_pool,
        "SELECT v.id FROM versions v JOIN journeys j ON j.id = v.journey_id WHERE j.name = 'raced'",
    )
    .await;
    // mal, with only CONNECT, shares the version's turn lock: the stop
    // cannot take it and goes on without; engine batches still can.
    let mal_pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&roles.url(&mal))
        .await
        .unwrap();
    let mut mal_conn = mal_pool.acquire().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT pg_advisory_lock_shared(7413, {id})"
    )))
    .execute(&mut *mal_conn)
    .await
    .unwrap();
    // The version's row, held so that both line up behind it.
    let mut held = admin_pool.begin().await.unwrap();
    let holder: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *held)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT id FROM versions WHERE id = {id} FOR UPDATE"
    )))
    .execute(&mut *held)
    .await
    .unwrap();
    let stop = common::journeyctl(&alice_url)
        .args(["stop", "raced", "--yes"])
        .spawn();
    let waited = std::time::Instant::now();
    while waiting_behind(&roles.admin_pool, holder).await < 1 {
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(20),
            "the stop never reached the version's row"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let tick = common::journeyctl(&admin_url).args(["tick"]).spawn();
    while waiting_behind(&roles.admin_pool, holder).await < 2 {
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(20),
            "the engine's batch never reached the version's row"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    held.rollback().await.unwrap();
    let stopped = stop.finish(std::time::Duration::from_secs(30));
    assert!(
        stopped.status.success(),
        "{}",
        String::from_utf8_lossy(&stopped.stderr)
    );
    let ticked = tick.finish(std::time::Duration::from_secs(30));
    assert!(
        ticked.status.success(),
        "{}",
        String::from_utf8_lossy(&ticked.stderr)
    );
    assert_eq!(status_of(&admin_url, "raced"), "stopped");
    let listed = json(&admin_url, &["list", "--all", "--json"]);
    let v = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["journey"] == "raced")
        .unwrap();
    assert_eq!(
        (
            v["counts"]["active"].as_i64(),
            v["messages"]["pending"].as_i64()
        ),
        (Some(0), Some(0)),
        "the batch beside the stop queued or counted in the stopped version: {v}"
    );
    let checked = ok(&admin_url, &["check"]);
    assert!(checked.contains("every counter equals"), "{checked}");
    drop(mal_conn);
    mal_pool.close().await;
    admin_pool.close().await;
    roles.drop_all().await;
}

/// A member of a group sharing a store revives a stopped version by hand
/// and writes a `publish stopped -> live` row to cover it: `check` names
/// the row. (Not `both_backends!`: its closing check would fail on the
/// forged row, which an append-only audit keeps for good.)
async fn a_forged_publish_is_named(ts: &common::TestStore) {
    let dir = tempfile::tempdir().unwrap();
    for name in ["kept", "forged"] {
        ok(
            &ts.url,
            &["apply", &write_def(dir.path(), name), "--publish"],
        );
    }
    ok(&ts.url, &["stop", "forged", "--yes"]);
    ok(&ts.url, &["pause", "kept", "--yes"]);
    let said = ok(&ts.url, &["check"]);
    assert!(
        said.contains("every version stands where its audit trail ends"),
        "{said}"
    );
    // The store's rules may refuse the UPDATE (PostgreSQL): the forged
    // row alone is named either way.
    let _ = sqlx::query(
        "UPDATE versions SET status = 'live' WHERE number = 1 AND journey_id = \
         (SELECT id FROM journeys WHERE name = 'forged')",
    )
    .execute(ts.store.pool())
    .await;
    sqlx::query(
        "INSERT INTO audit (at, actor, host, action, journey, version, from_status, to_status) \
         VALUES (1, 'mallory', 'h', 'publish', 'forged', 1, 'stopped', 'live')",
    )
    .execute(ts.store.pool())
    .await
    .unwrap();
    let o = common::journeyctl(&ts.url).args(["check"]).output();
    let (out, err) = common::text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        out.contains("forged v1: audit row")
            && out.contains("(publish stopped -> live) is not a lawful change from stopped"),
        "{out}"
    );
    assert!(
        !out.contains("kept v1"),
        "a paused version is lawful: {out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_names_a_forged_publish_on_sqlite() {
    let ts = common::sqlite("forged_publish").await;
    a_forged_publish_is_named(&ts).await;
    ts.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_postgres,
    ignore = "PostgreSQL skipped: set JOURNEYCTL_TEST_POSTGRES_URL"
)]
async fn check_names_a_forged_publish_on_postgres() {
    let Some(ts) = common::postgres("forged_publish").await else {
        return;
    };
    a_forged_publish_is_named(&ts).await;
    ts.close().await;
}

/// A resume's overdue choice rewritten by hand (the audit row says
/// `send`, the version row `skip` until the year 3000): `check` names it.
async fn a_forged_overdue_choice_is_named(ts: &common::TestStore) {
    let dir = tempfile::tempdir().unwrap();
    ok(
        &ts.url,
        &["apply", &write_def(dir.path(), "held"), "--publish"],
    );
    ok(&ts.url, &["pause", "held", "--yes"]);
    ok(&ts.url, &["resume", "held", "--overdue", "skip", "--yes"]);
    let said = ok(&ts.url, &["check"]);
    assert!(
        said.contains("every version stands where its audit trail ends"),
        "{said}"
    );
    // By hand: the choice says skip until the year 3000. On PostgreSQL
    // the store refuses the UPDATE itself; `check` is for what got past.
    let by_hand = sqlx::query("UPDATE versions SET overdue_before = 32503680000000")
        .execute(ts.store.pool())
        .await;
    if let Err(e) = by_hand {
        assert!(
            e.to_string()
                .contains("choice for overdue messages is set by its resume"),
            "{e}"
        );
        return;
    }
    let o = common::journeyctl(&ts.url).args(["check"]).output();
    let (out, err) = common::text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(
        out.contains("held v1: its overdue choice (skip) reaches to 3000-01-01T00:00:00Z"),
        "{out}"
    );
    // And a choice the row never said.
    sqlx::query("UPDATE versions SET overdue_mode = 'spread', overdue_spread_ms = 60000, overdue_before = 1")
        .execute(ts.store.pool())
        .await
        .unwrap();
    let o = common::journeyctl(&ts.url).args(["check"]).output();
    let out = common::text(&o).0;
    assert!(
        out.contains("held v1: its overdue messages wait to be handled as spread 1m, but its resume's audit row says skip"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_names_a_forged_overdue_choice_on_sqlite() {
    let ts = common::sqlite("forged_overdue").await;
    a_forged_overdue_choice_is_named(&ts).await;
    ts.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_postgres,
    ignore = "PostgreSQL skipped: set JOURNEYCTL_TEST_POSTGRES_URL"
)]
async fn check_names_a_forged_overdue_choice_on_postgres() {
    let Some(ts) = common::postgres("forged_overdue").await else {
        return;
    };
    a_forged_overdue_choice_is_named(&ts).await;
    ts.close().await;
}

both_backends!(the_store_bounds_reasons_and_names_whoever_writes, |ts| {
    // Written by hand (a psql login, a member of a group sharing the
    // file): the store refuses what the product never writes.
    let long = "r".repeat(1_001);
    let err = sqlx::query(
        "INSERT INTO audit (at, actor, host, action, journey, version, from_status, to_status, reason) \
         VALUES (1, 'mallory', 'h', 'note', 'x', NULL, NULL, NULL, $1)",
    )
    .bind(&long)
    .execute(ts.store.pool())
    .await
    .expect_err("a 1,001-character reason went in");
    assert!(err.to_string().contains("reason"), "{err}");
    let err = sqlx::query("INSERT INTO journeys (name, created_at) VALUES ($1, 0)")
        .bind("n".repeat(201))
        .execute(ts.store.pool())
        .await
        .expect_err("a 201-character name went in");
    assert!(err.to_string().contains("name"), "{err}");
    // At the bounds, both go in.
    sqlx::query(
        "INSERT INTO audit (at, actor, host, action, journey, version, from_status, to_status, reason) \
         VALUES (1, 'ops', 'h', 'note', 'x', NULL, NULL, NULL, $1)",
    )
    .bind("r".repeat(1_000))
    .execute(ts.store.pool())
    .await
    .unwrap();
});

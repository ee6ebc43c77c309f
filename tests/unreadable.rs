//! One bad row, one marked row: a version whose stored definition or A/B
//! figures cannot be read is shown `unreadable: what`, and the engine
//! reports it and runs every other version; on SQLite and PostgreSQL.

mod common;

use common::*;

/// Runs a statement behind the store's back. On PostgreSQL the store's
/// own triggers refuse these rewrites to every login, so the test (a
/// superuser) turns them off for the statement.
async fn by_hand(ts: &TestStore, table: &str, sql: &str) {
    let pg = ts.backend != "sqlite";
    if pg {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE {table} DISABLE TRIGGER USER"
        )))
        .execute(ts.store.pool())
        .await
        .unwrap();
    }
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(ts.store.pool())
        .await
        .unwrap();
    if pg {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE {table} ENABLE TRIGGER USER"
        )))
        .execute(ts.store.pool())
        .await
        .unwrap();
    }
}

fn cli(ts: &TestStore, args: &[&str]) -> std::process::Output {
    journeyctl(&ts.url).args(args).output()
}

const ID_OF: &str =
    "(SELECT id FROM versions WHERE journey_id = (SELECT id FROM journeys WHERE name = 'broken'))";

both_backends!(
    one_unreadable_row_marks_its_version_and_nothing_else,
    citus: "it corrupts a row by hand with the versions' triggers turned off, and Citus cannot turn off a reference table's triggers",
    |ts| {
        let s = &ts.store;
        for name in ["good", "broken", "decided"] {
            publish(s, &simple(name), at(0)).await;
        }
        let entries: Vec<_> = (0..20)
            .flat_map(|i| ["good", "broken"].map(|j| enter(j, &format!("{j}-{i}"), at(0))))
            .collect();
        s.ingest(&entries).await.unwrap();
        let original: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT definition FROM versions WHERE id = {ID_OF}"
        )))
        .fetch_one(s.pool())
        .await
        .unwrap();
        by_hand(
            ts,
            "versions",
            &format!("UPDATE versions SET definition = '{{\"name\": 7' WHERE id = {ID_OF}"),
        )
        .await;
        by_hand(
        ts,
        "ab_decisions",
        "INSERT INTO ab_decisions (version_id, test, winner, decided_at, p_value, figures) \
         SELECT v.id, 't', 'A', 0, 0.01, 'x' FROM versions v JOIN journeys j ON j.id = v.journey_id \
         WHERE j.name = 'decided'",
    )
    .await;

        // Every other version shows as usual; the two are marked with why.
        let list = s.list(true).await.unwrap();
        assert_eq!(list.len(), 3);
        let find = |n: &str| list.iter().find(|v| v.journey == n).unwrap();
        assert_eq!(find("good").unreadable, None);
        assert_eq!(find("good").counts.entered, 20);
        let broken = find("broken").unreadable.clone().unwrap();
        assert!(broken.starts_with("stored definition: "), "{broken}");
        assert!(!broken.contains('\n'));
        let decided = find("decided").unreadable.clone().unwrap();
        assert!(decided.starts_with("stored A/B decision: "), "{decided}");
        assert!(journeyctl::present::status_cell(find("broken"), at(1)).contains("⚠ unreadable"));
        let text = String::from_utf8(cli(ts, &["list"]).stdout).unwrap();
        assert!(text.contains("⚠ unreadable: stored definition: "), "{text}");
        assert!(text.contains("good"), "{text}");
        let diffs = s.verify_counters().await.unwrap();
        assert!(
            diffs
                .iter()
                .any(|d| d.starts_with("broken v1: unreadable: stored definition")),
            "{diffs:?}"
        );

        // Nobody enters it; the engine reports it and runs the others.
        let more = s.ingest(&[enter("broken", "late", at(1))]).await.unwrap();
        assert_eq!(more.entered, 0);
        let tick = s.tick(at(2)).await.unwrap();
        assert_eq!(tick.failed.len(), 1, "{tick:?}");
        assert!(
            tick.failed[0].starts_with("broken v1: stored definition"),
            "{tick:?}"
        );
        assert_eq!(tick.messages, 20, "good's 20 people got their message");
        let out = cli(ts, &["tick"]);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("could not run broken v1"), "{err}");
        assert!(
            err.contains("1 version(s) could not run (the others did)"),
            "{err}"
        );

        // It can still be stopped.
        let stop = common::stop_of("broken", 1);
        s.execute(&stop, &alice(), at(3)).await.unwrap();
        assert_eq!(summary(s, "broken", 1).await.status.as_str(), "stopped");

        // Put right, everything reads again.
        by_hand(
            ts,
            "versions",
            &format!(
                "UPDATE versions SET definition = '{}' WHERE id = {ID_OF}",
                original.replace('\'', "''")
            ),
        )
        .await;
        by_hand(ts, "ab_decisions", "DELETE FROM ab_decisions").await;
        assert!(
            s.list(true)
                .await
                .unwrap()
                .iter()
                .all(|v| v.unreadable.is_none())
        );
    }
);

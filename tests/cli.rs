//! The binary as scripts and runbooks use it: exit codes, one-line errors,
//! JSON fields, and the README's worked example run as written.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{bin, journeyctl, journeyctl_without_store, text};

fn run(dir: &Path, url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let j = journeyctl(url).user("carol").dir(dir).args(args);
    match stdin {
        Some(input) => j.stdin(input).output(),
        None => j.output(),
    }
}

const SAMPLE: &str = include_str!("data/spring-sale.toml");

both_backends!(readme_worked_example_runs_as_written, |ts| {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("<!-- worked-example:start -->")
        .expect("README has the worked example");
    let end = readme.find("<!-- worked-example:end -->").unwrap();
    let block = &readme[start..end];
    let script: String = block
        .split("```sh\n")
        .skip(1)
        .map(|part| part.split("```").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        script.contains("journeyctl stop"),
        "the example stops a journey"
    );
    let dir = tempfile::tempdir().unwrap();
    let bin_dir = Path::new(bin()).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .arg("-euo")
        .arg("pipefail")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env("PATH", path)
        .env("DATABASE_URL", &ts.url)
        .env("USER", "carol")
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert!(
        out.status.success(),
        "[{}] worked example failed:\n{stdout}\n{stderr}",
        ts.backend
    );
    assert!(
        stdout.contains("\"action\": \"stop\""),
        "[{}] {stdout}",
        ts.backend
    );
    assert!(
        stdout.contains("\"actor\": \"carol\""),
        "[{}] {stdout}",
        ts.backend
    );
});

both_backends!(
    bad_event_lines_are_reported_and_skipped_and_good_lines_applied,
    |ts| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s.toml"), SAMPLE).unwrap();
        let o = run(dir.path(), &ts.url, &["apply", "s.toml", "--publish"], None);
        assert!(o.status.success(), "{:?}", text(&o));
        let events = [
        r#"{"type":"enter","journey":"spring-sale","profile":"p-1","at":"2026-11-21T10:00:00Z"}"#,
        "this is not json",
        r#"{"type":"enter","journey":"spring-sale","profile":"p-2","at":"2026-11-21T10:00:00Z"}"#,
        r#"{"type":"teleport","profile":"p-1"}"#,
        "",
        r#"{"type":"enter","journey":"spring-sale","at":"2026-11-21T10:00:00Z"}"#,
        r#"{"type":"event","profile":"p-1","name":"purchase","at":"yesterday"}"#,
        r#"{"type":"enter","journey":"spring-sale","profile":"p-1","at":"2026-11-21T10:00:00Z"}"#,
        r#"{"type":"enter","journey":"spring-sale","profile":"p-3","at":"2099-12-02T10:00:00Z"}"#,
        r#"{"type":"segment","profile":"p-2","segment":"suppressed"}"#,
        // NUL in a profile: PostgreSQL refuses it in text, so unchecked it
        // failed the whole batch there.
        r#"{"type":"enter","journey":"spring-sale","profile":"a\u0000b","at":"2026-11-21T10:00:00Z"}"#,
        r#"{"type":"event","profile":"p-2","name":"buy\u001b[2J","at":"2026-11-21T10:00:00Z"}"#,
    ]
    .join("\n");
        let o = run(
            dir.path(),
            &ts.url,
            &["ingest", "-", "--json"],
            Some(&events),
        );
        let (stdout, stderr) = text(&o);
        // Some lines were invalid: exit 4, the rest went in.
        assert_eq!(o.status.code(), Some(4), "{stdout}{stderr}");
        assert!(
            stderr.ends_with("journeyctl: warning: 6 invalid line(s) skipped (each named above); every other line went in\n"),
            "{stderr}"
        );
        for line in [
            "line 2:", "line 4:", "line 6:", "line 7:", "line 11:", "line 12:",
        ] {
            assert!(stderr.contains(line), "{line} missing in {stderr}");
        }
        assert!(
            stderr.contains("field \"profile\" contains the control character U+0000"),
            "{stderr}"
        );
        assert!(
            stderr.contains("field \"name\" contains the control character U+001B"),
            "{stderr}"
        );
        assert_eq!(stderr.lines().count(), 7, "{stderr}");
        let r: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(r["accepted"], 5);
        assert_eq!(r["invalid"], 6);
        assert_eq!(r["entered"], 2);
        assert_eq!(r["exited"], 1);
        assert_eq!(r["refused"]["already_entered"], 1);
        assert_eq!(r["refused"]["entry_ended"], 1);
        assert_eq!(r["errors"][0]["line"], 2);
        let o = run(dir.path(), &ts.url, &["list", "--json"], None);
        let list: serde_json::Value = serde_json::from_str(&text(&o).0).unwrap();
        assert_eq!(list[0]["counts"]["entered"], 2);
        assert_eq!(list[0]["counts"]["exited"], 1);
    }
);

both_backends!(list_and_audit_json_carry_the_contract_fields, |ts| {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), SAMPLE).unwrap();
    run(dir.path(), &ts.url, &["apply", "s.toml", "--publish"], None);
    let o = run(
        dir.path(),
        &ts.url,
        &[
            "--actor",
            "dave",
            "stop",
            "spring-sale",
            "--reason",
            "bad list",
            "--yes",
        ],
        None,
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let list: serde_json::Value =
        serde_json::from_str(&text(&run(dir.path(), &ts.url, &["list", "--json"], None)).0)
            .unwrap();
    let v = &list[0];
    for key in [
        "journey",
        "version",
        "status",
        "entry_open",
        "entry_end_at",
        "counts",
        "conversion_rate",
        "messages",
        "ab",
    ] {
        assert!(v.get(key).is_some(), "list --json lacks {key}: {v}");
    }
    for key in [
        "entered",
        "active",
        "completed",
        "exited",
        "stopped",
        "converted",
    ] {
        assert!(v["counts"].get(key).is_some(), "counts lacks {key}");
    }
    for key in ["pending", "sent", "cancelled"] {
        assert!(v["messages"].get(key).is_some(), "messages lacks {key}");
    }
    for key in [
        "test",
        "variants",
        "verdict",
        "winner",
        "p_value",
        "decided_at",
    ] {
        assert!(v["ab"].get(key).is_some(), "ab lacks {key}");
    }
    assert_eq!(v["status"], "stopped");
    assert_eq!(v["conversion_rate"], serde_json::Value::Null);
    assert_eq!(v["entry_end_at"], "2099-12-01T00:00:00Z");
    let audit: serde_json::Value =
        serde_json::from_str(&text(&run(dir.path(), &ts.url, &["audit", "--json"], None)).0)
            .unwrap();
    let a = &audit[0];
    for key in [
        "at",
        "actor",
        "host",
        "action",
        "journey",
        "version",
        "from",
        "to",
        "reason",
        "affected_active",
    ] {
        assert!(a.get(key).is_some(), "audit --json lacks {key}: {a}");
    }
    assert_eq!(a["actor"], "dave");
    assert_eq!(a["action"], "stop");
    assert_eq!(a["from"], "live");
    assert_eq!(a["to"], "stopped");
    assert_eq!(a["reason"], "bad list");
    assert_eq!(audit[1]["action"], "publish");
    assert_eq!(audit[1]["actor"], "carol");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_and_bad_input_exit_non_zero_with_one_line() {
    let ts = common::sqlite("refusals").await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("s.toml"), SAMPLE).unwrap();
    std::fs::write(
        d.join("bad.toml"),
        "name = \"x\"\n[[steps]]\nkind = \"message\"\nactoin = \"email\"\n",
    )
    .unwrap();
    let one_line = |o: &Output, code: i32, want: &str| {
        let (_, err) = text(o);
        assert_eq!(o.status.code(), Some(code), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
        assert!(err.contains(want), "{want:?} not in {err}");
    };
    one_line(
        &run(d, &ts.url, &["apply", "missing.toml"], None),
        1,
        "cannot read missing.toml",
    );
    one_line(
        &run(d, &ts.url, &["apply", "bad.toml"], None),
        1,
        "bad.toml:2: steps[1]: unknown field `actoin`",
    );
    // What the store does not hold, and its refusals, name the store
    // they were met in (the default one, unasked, above all).
    let store = format!("(store sqlite {})", ts.url.trim_start_matches("sqlite://"));
    one_line(
        &run(d, &ts.url, &["finish", "nope", "--yes"], None),
        1,
        &format!("unknown journey \"nope\" {store}"),
    );
    one_line(
        &run(
            d,
            &ts.url,
            &["pause", "--uses-action", "webhook:crm", "--yes"],
            None,
        ),
        3,
        &format!("uses the action \"webhook:crm\" {store}"),
    );
    // NUL and other control characters are refused where text enters.
    std::fs::write(
        d.join("nul.toml"),
        "name = \"x\"\n[[steps]]\nkind = \"message\"\naction = \"a\\u0000b\"\n",
    )
    .unwrap();
    one_line(
        &run(d, &ts.url, &["apply", "nul.toml"], None),
        1,
        "steps[1]: action contains the control character U+0000",
    );
    one_line(
        &run(
            d,
            &ts.url,
            &["stop", "spring-sale", "--yes", "--actor", "eve\u{1b}[2J"],
            None,
        ),
        1,
        "--actor contains the control character U+001B",
    );
    one_line(
        &run(
            d,
            &ts.url,
            &[
                "stop",
                "spring-sale",
                "--yes",
                "--reason",
                "ok\nforged line",
            ],
            None,
        ),
        1,
        "--reason contains the control character U+000A",
    );
    // Text that reorders or hides what is shown is refused the same way,
    // and reasons, names and steps are bounded.
    one_line(
        &run(
            d,
            &ts.url,
            &[
                "stop",
                "spring-sale",
                "--yes",
                "--reason",
                "refund \u{202E}exe.pdf",
            ],
            None,
        ),
        1,
        "--reason contains the invisible formatting character U+202E",
    );
    let long = "r".repeat(1_001);
    one_line(
        &run(
            d,
            &ts.url,
            &["stop", "spring-sale", "--yes", "--reason", &long],
            None,
        ),
        1,
        "--reason is 1001 characters long; at most 1000",
    );
    std::fs::write(
        d.join("long.toml"),
        format!(
            "name = \"{}\"\n[[steps]]\nkind = \"message\"\naction = \"email\"\n",
            "n".repeat(201)
        ),
    )
    .unwrap();
    one_line(
        &run(d, &ts.url, &["apply", "long.toml"], None),
        1,
        "name is 201 characters long; at most 200",
    );
    std::fs::write(
        d.join("many.toml"),
        format!(
            "name = \"many\"\n{}",
            "[[steps]]\nkind = \"message\"\naction = \"email\"\n".repeat(201)
        ),
    )
    .unwrap();
    one_line(
        &run(d, &ts.url, &["apply", "many.toml"], None),
        1,
        "a journey has at most 200 steps; this one has 201",
    );
    one_line(
        &run(d, "mysql://x/y", &["list"], None),
        1,
        "unsupported database URL scheme",
    );
    one_line(
        &run(d, "postgres://nobody@127.0.0.1:1/none", &["list"], None),
        1,
        "cannot open the store",
    );
    assert!(
        run(d, &ts.url, &["apply", "s.toml", "--publish"], None)
            .status
            .success()
    );
    // No terminal and no --yes: refused, nothing changed.
    one_line(
        &run(d, &ts.url, &["stop", "spring-sale"], None),
        3,
        "needs --yes",
    );
    // A typed name that does not match: refused, nothing changed.
    one_line(
        &run(
            d,
            &ts.url,
            &[
                "finish",
                "spring-sale",
                "--version",
                "1",
                "--yes",
                "--read-only",
            ],
            None,
        ),
        3,
        "read-only",
    );
    let o = run(d, &ts.url, &["list", "--json"], None);
    assert!(text(&o).0.contains("\"status\": \"live\""));
    assert!(
        run(d, &ts.url, &["stop", "spring-sale", "--yes"], None)
            .status
            .success()
    );
    one_line(
        &run(
            d,
            &ts.url,
            &["stop", "spring-sale", "--version", "1", "--yes"],
            None,
        ),
        3,
        "already stopped (stopped by carol on ",
    );
    one_line(
        &run(d, &ts.url, &["tick", "--now", "soon"], None),
        1,
        "--now",
    );
    // Read-only still reads.
    assert!(
        run(d, &ts.url, &["--read-only", "list"], None)
            .status
            .success()
    );
    // On a store with no schema, read-only says what to do.
    std::fs::write(d.join("fresh.db"), "").unwrap();
    let fresh = format!("sqlite://{}/fresh.db", d.display());
    one_line(
        &run(d, &fresh, &["--read-only", "list"], None),
        1,
        "run `journeyctl migrate` first in a session that may write (no --read-only",
    );
    ts.close().await;
}

#[test]
fn verdict_calculator_figures_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(
        dir.path(),
        "unused.db",
        &[
            "verdict",
            "--arm",
            "A=1000/20000",
            "--arm",
            "B=1200/20000",
            "--json",
        ],
        None,
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let v: serde_json::Value = serde_json::from_str(&text(&o).0).unwrap();
    assert_eq!(v["verdict"], "winner");
    assert_eq!(v["winner"], "B");
    let p = &v["pairs"][0];
    assert_eq!((p["a"].as_str(), p["b"].as_str()), (Some("A"), Some("B")));
    assert!((p["p_value"].as_f64().unwrap() - 6.16073e-4).abs() < 1e-9);
    assert!((p["cs_lower"].as_f64().unwrap() - 0.0026787).abs() < 5e-8);
    assert!((p["cs_upper"].as_f64().unwrap() - 0.0173213).abs() < 5e-8);
    // The text shows the interval in percentage points, as rates show in
    // percent.
    let o = run(
        dir.path(),
        "unused.db",
        &["verdict", "--arm", "A=1000/20000", "--arm", "B=1200/20000"],
        None,
    );
    assert!(
        text(&o).0.contains("B - A in [+0.27, +1.73] points"),
        "{}",
        text(&o).0
    );
    let o = run(
        dir.path(),
        "unused.db",
        &["verdict", "--arm", "A=0/500", "--arm", "B=0/500", "--json"],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&text(&o).0).unwrap();
    assert_eq!(v["pairs"][0]["p_value"], 1.0);
    assert_eq!(v["pairs"][0]["cs_lower"], serde_json::Value::Null);
    for (args, want) in [
        (
            vec!["verdict", "--arm", "A=60/50", "--arm", "B=1/50"],
            "more than",
        ),
        (vec!["verdict", "--arm", "A=6/50"], "at least two"),
        (
            vec!["verdict", "--arm", "A6/50", "--arm", "B=1/2"],
            "NAME=CONVERSIONS/PARTICIPANTS",
        ),
    ] {
        let o = run(dir.path(), "unused.db", &args, None);
        assert_eq!(o.status.code(), Some(1));
        assert!(text(&o).1.contains(want), "{:?}", text(&o));
    }
    // One sample ratio check by hand.
    let o = run(
        dir.path(),
        "unused.db",
        &[
            "verdict",
            "--srm",
            "A=5000/50",
            "--srm",
            "B=5400/50",
            "--json",
        ],
        None,
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let v: serde_json::Value = serde_json::from_str(&text(&o).0).unwrap();
    assert!((v["p_value"].as_f64().unwrap() - 8.7699e-5).abs() < 5e-10);
    assert_eq!(v["srm"], true);
    assert_eq!(v["observed"]["B"], 5400);
    assert_eq!(v["expected"]["A"], 5200.0);
    let o = run(
        dir.path(),
        "unused.db",
        &["verdict", "--srm", "A=5000/50", "--srm", "B=5400/50"],
        None,
    );
    assert_eq!(
        text(&o).0.trim(),
        "⚠ SRM p = 8.770e-5 < 0.001: A 5,000 (expected 5,200), B 5,400 (expected 5,200)"
    );
    for (args, want) in [
        (vec!["verdict", "--srm", "A=5000/50"], "at least two --srm"),
        (
            vec!["verdict", "--srm", "A=5000/0", "--srm", "B=1/1"],
            "not a positive number",
        ),
        (
            vec!["verdict", "--srm", "A=50", "--srm", "B=1/1"],
            "NAME=PEOPLE/WEIGHT",
        ),
    ] {
        let o = run(dir.path(), "unused.db", &args, None);
        assert_eq!(o.status.code(), Some(1));
        assert!(text(&o).1.contains(want), "{:?}", text(&o));
    }
    assert!(
        !dir.path().join("unused.db").exists(),
        "verdict must not touch a store"
    );
}

/// A mistyped SQLite path never shows an empty store that reads as
/// "nothing is running": the console, reads and actions refuse it and
/// create nothing; only the commands that load a store make one.
#[test]
fn a_missing_sqlite_file_is_refused_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let typo = d.join("typo").join("dir").join("x.db");
    let url = typo.display().to_string();
    for args in [
        &["list"][..],
        &["list", "--json"],
        &["audit"],
        &["profile", "p-1"],
        &["tick"],
        &["check"],
        &["stop", "cart", "--yes"],
        &["finish", "cart", "--yes"],
        &["publish", "cart"],
        &["--read-only", "list"],
        &["verdict", "cart"],
    ] {
        let o = run(d, &url, args, None);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?} printed {out}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.contains(&format!("no store at {}", typo.display())),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("journeyctl migrate"),
            "{args:?}: the hint: {err}"
        );
        assert!(
            !d.join("typo").exists(),
            "{args:?} created something on disk"
        );
    }
    // The console refuses it too, before it takes the terminal.
    let o = run(d, &url, &[], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).1.contains("no store at"), "{:?}", text(&o));
    assert!(!d.join("typo").exists());
    // The commands that load a store make it, folder and all; `migrate`
    // says that it did, and where.
    let o = run(d, &url, &["migrate"], None);
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(typo.exists());
    assert_eq!(
        text(&o).0.trim(),
        format!("created a journeyctl store: sqlite {}", typo.display())
    );
    let o = run(d, &url, &["migrate"], None);
    assert!(
        text(&o).0.starts_with("schema is up to date"),
        "{:?}",
        text(&o)
    );
    let fresh = d.join("new").join("events.db").display().to_string();
    std::fs::write(d.join("s.toml"), SAMPLE).unwrap();
    assert!(run(d, &fresh, &["apply", "s.toml"], None).status.success());
    let other = d.join("ingested.db").display().to_string();
    let o = run(d, &other, &["ingest", "-"], Some(""));
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(d.join("ingested.db").exists());
}

/// The same on PostgreSQL: a database or search_path typed wrong finds an
/// empty schema, and reads refuse it with one line, creating nothing; only
/// `migrate`, `apply` and `ingest` make a store there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_postgres_schema_is_refused_and_nothing_is_created() {
    let Ok(server) = std::env::var(common::PG_ENV) else {
        loud!(
            "!!! PostgreSQL SKIPPED for the empty-schema test: set {}",
            common::PG_ENV
        );
        return;
    };
    let schema = format!("jc_empty_{}", std::process::id());
    let admin = sqlx::PgPool::connect(&server).await.unwrap();
    for sql in [
        format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        format!("CREATE SCHEMA {schema}"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&admin)
            .await
            .unwrap();
    }
    let url = journeyctl::store::scratch::url_in_schema(&server, &schema);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tables = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM pg_tables WHERE schemaname = $1")
            .bind(&schema)
            .fetch_one(&admin)
            .await
            .unwrap()
    };
    for args in [
        &["list"][..],
        &["audit"],
        &["tick"],
        &["check"],
        &["stop", "cart", "--yes"],
        &["channels"],
    ] {
        let o = run(d, &url, args, None);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?} printed {out}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.contains(&format!(
                "no journeyctl store in schema {schema} of database"
            )),
            "{args:?}: {err}"
        );
        assert!(err.contains("journeyctl migrate"), "{args:?}: {err}");
        assert_eq!(tables().await, 0, "{args:?} created tables");
    }
    let o = run(d, &url, &["migrate"], None);
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(
        text(&o).0.starts_with("created a journeyctl store: "),
        "{:?}",
        text(&o)
    );
    assert!(tables().await > 10);
    assert!(run(d, &url, &["list"], None).status.success());
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
}

/// The ticks a `run --metrics ADDR` has counted (its tick-duration
/// histogram's count), read over a bare HTTP/1.0 request.
fn ticks_counted(addr: &str) -> u64 {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    body.lines()
        .find_map(|l| l.strip_prefix("journeyctl_tick_duration_seconds_count "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no tick count in:\n{body}")) as u64
}

/// Durations take the usual forms everywhere: `run --interval 500ms`
/// ticks twice a second.
#[test]
fn run_takes_an_interval_of_500ms() {
    let metrics = {
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        free.local_addr().unwrap().to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let url = d.join("run.db").display().to_string();
    std::fs::write(d.join("s.toml"), SAMPLE).unwrap();
    assert!(
        run(d, &url, &["apply", "s.toml", "--publish"], None)
            .status
            .success()
    );
    let events = "{\"type\":\"enter\",\"journey\":\"spring-sale\",\"profile\":\"p-1\"}\n";
    assert!(
        run(d, &url, &["ingest", "-"], Some(events))
            .status
            .success()
    );
    let engine = journeyctl(&url)
        .dir(d)
        .args(["run", "--interval", "500ms", "--metrics", &metrics])
        .spawn();
    let start = std::time::Instant::now();
    let sent = loop {
        let o = run(d, &url, &["list", "--json"], None);
        let list: serde_json::Value = serde_json::from_str(&text(&o).0).unwrap();
        let pending = list[0]["messages"]["pending"].as_i64().unwrap();
        if pending > 0 {
            break pending;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "run --interval 500ms never ticked"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(sent, 1, "the first email of p-1");
    // Each tick is one observation of the tick duration: six are due in
    // 3 s; at least five came (at 750 ms there would be four at most),
    // and no more than seven (a tick per 500 ms, not faster).
    let before = ticks_counted(&metrics);
    std::thread::sleep(std::time::Duration::from_millis(3000));
    let after = ticks_counted(&metrics);
    assert!(
        (before + 5..=before + 7).contains(&after),
        "{before} ticks, then {after} 3 s later"
    );
    engine.sigterm();
    let out = engine.finish(std::time::Duration::from_secs(10));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ticking every 500ms"), "{err}");
    // A bad duration is one line that says what is wrong.
    let o = run(d, &url, &["run", "--interval", "5 parsecs"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("5 parsecs"), "{:?}", text(&o));
}

#[test]
fn completions_parse_and_the_manual_page_is_roff() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("none.db").display());
    let bash = run(dir.path(), &url, &["completions", "bash"], None);
    let (script, err) = text(&bash);
    assert!(bash.status.success(), "{err}");
    assert!(script.contains("journeyctl") && script.contains("grant"));
    let file = dir.path().join("journeyctl.bash");
    std::fs::write(&file, &script).unwrap();
    let check = std::process::Command::new("bash")
        .arg("-n")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    for shell in ["zsh", "fish"] {
        let o = run(dir.path(), &url, &["completions", shell], None);
        assert!(o.status.success());
        assert!(text(&o).0.contains("journeyctl"), "{shell}");
    }
    let man = run(dir.path(), &url, &["man"], None);
    let (page, _) = text(&man);
    assert!(man.status.success());
    assert!(page.starts_with(".TH"), "{}", &page[..page.len().min(200)]);
    assert!(page.contains("completions"));
    // One page with every command's options: no journeyctl-stop(1) to
    // look for.
    assert!(
        !page.contains("journeyctl\\-stop(1)"),
        "a SEE ALSO page that does not exist"
    );
    assert!(page.contains(".SS \"journeyctl stop\""));
    for section in [".SH \"EXIT STATUS\"", ".SH ENVIRONMENT", ".SH FILES"] {
        assert!(page.contains(section), "{section} missing");
    }
    assert!(page.contains("uses\\-action"));
    // Neither touches a store.
    assert!(!dir.path().join("none.db").exists());
}

/// A long ingest draws a progress bar when standard error is a terminal
/// (here tmux), then clears it and prints its report; with standard error
/// piped it prints nothing but the report.
#[test]
fn long_work_shows_progress_on_a_terminal_and_is_quiet_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("p.db").display().to_string();
    std::fs::write(dir.path().join("j.toml"), SAMPLE).unwrap();
    assert!(
        run(dir.path(), &url, &["apply", "j.toml", "--publish"], None)
            .status
            .success()
    );
    let feed: String = (0..100_000)
        .map(|i| {
            format!(
                "{{\"type\":\"enter\",\"journey\":\"spring-sale\",\"profile\":\"p-{i}\",\"at\":\"2026-11-21T10:00:00Z\"}}\n"
            )
        })
        .collect();
    std::fs::write(dir.path().join("feed.ndjson"), &feed).unwrap();
    let t = common::tmux::Tmux::start(
        "progress",
        &format!(
            "cd {} && DATABASE_URL={url} {} ingest feed.ndjson",
            dir.path().display(),
            bin()
        ),
        100,
        10,
    );
    let screen = t.wait_for(" read (");
    assert!(screen.contains("MiB read ("), "{screen}");
    t.wait_dead();
    let screen = t.history();
    assert!(
        screen.contains("read 100,000 line(s): 100,000 entered"),
        "{screen}"
    );
    assert!(!screen.contains(" read ("), "the bar is cleared:\n{screen}");

    let url2 = dir.path().join("q.db").display().to_string();
    assert!(
        run(dir.path(), &url2, &["apply", "j.toml", "--publish"], None)
            .status
            .success()
    );
    let o = run(dir.path(), &url2, &["ingest", "feed.ndjson"], None);
    let (out, err) = text(&o);
    assert!(o.status.success());
    assert_eq!(err, "", "nothing but the report when not on a terminal");
    assert!(
        out.starts_with("read 100,000 line(s): 100,000 entered"),
        "{out}"
    );
}

both_backends!(event_lines_over_the_limits_are_skipped_and_named, |ts| {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), SAMPLE).unwrap();
    run(dir.path(), &ts.url, &["apply", "s.toml", "--publish"], None);
    let enter = |p: &str| {
        format!(
            r#"{{"type":"enter","journey":"spring-sale","profile":"{p}","at":"2026-11-21T10:00:00Z"}}"#
        )
    };
    let mut feed: Vec<u8> = Vec::new();
    for line in [
        enter("p-1"),
        enter(&"x".repeat(257)),
        enter(&"y".repeat(70 * 1024)),
        enter("p-2"),
    ] {
        feed.extend_from_slice(line.as_bytes());
        feed.push(b'\n');
    }
    // Two profiles that differ only in a byte that is not UTF-8: neither
    // is taken (replacing it would make them one).
    for bad in [b"p-\xff", b"p-\xfe"] {
        feed.extend_from_slice(br#"{"type":"enter","journey":"spring-sale","profile":""#);
        feed.extend_from_slice(bad);
        feed.extend_from_slice(b"\"}\n");
    }
    let path = dir.path().join("feed.ndjson");
    std::fs::write(&path, &feed).unwrap();
    let o = run(
        dir.path(),
        &ts.url,
        &["ingest", path.to_str().unwrap(), "--json"],
        None,
    );
    let (out, err) = text(&o);
    assert!(
        err.contains("line 2: field \"profile\" is 257 bytes long; at most 256 (skipped)"),
        "{err}"
    );
    assert!(
        err.contains("line 3: longer than 64 KiB (skipped)"),
        "{err}"
    );
    assert!(
        err.contains("line 5: not valid UTF-8 (at byte 54) (skipped)"),
        "{err}"
    );
    assert!(err.contains("line 6: not valid UTF-8"), "{err}");
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["entered"], 2);
    assert_eq!(r["invalid"], 4);
});

/// A 300 MB line is read past, never held: the whole ingest stays under
/// 100 MB of memory (the child's peak resident set, from the kernel).
#[test]
fn a_300_mb_line_keeps_memory_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let db = d.join("big.db").display().to_string();
    std::fs::write(d.join("s.toml"), SAMPLE).unwrap();
    assert!(
        run(d, &db, &["apply", "s.toml", "--publish"], None)
            .status
            .success()
    );
    let path = d.join("huge.ndjson");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        f.write_all(br#"{"type":"enter","journey":"spring-sale","profile":""#)
            .unwrap();
        let chunk = vec![b'z'; 1 << 20];
        for _ in 0..300 {
            f.write_all(&chunk).unwrap();
        }
        f.write_all(b"\"}\n").unwrap();
        f.write_all(br#"{"type":"enter","journey":"spring-sale","profile":"after","at":"2026-11-21T10:00:00Z"}"#).unwrap();
        f.write_all(b"\n").unwrap();
    }
    let script = "import resource,subprocess,sys\n\
                  p=subprocess.run(sys.argv[1:],capture_output=True)\n\
                  print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n\
                  sys.stderr.write(p.stderr.decode())";
    let o = Command::new("python3")
        .args([
            "-c",
            script,
            bin(),
            "--database-url",
            &db,
            "ingest",
            path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let (out, err) = text(&o);
    let mut it = out.split_whitespace();
    let code: i32 = it.next().unwrap().parse().unwrap();
    let peak_kb: u64 = it.next().unwrap().parse().unwrap();
    assert!(
        err.contains("line 1: longer than 64 KiB (skipped)"),
        "{err}"
    );
    assert_eq!(code, 4, "{err}");
    assert!(peak_kb < 100 * 1024, "peak resident set {peak_kb} KB");
    let list = run(d, &db, &["list", "--json"], None);
    let list: serde_json::Value = serde_json::from_str(&text(&list).0).unwrap();
    assert_eq!(list[0]["counts"]["entered"], 1);
}

both_backends!(control_characters_from_the_store_are_shown_escaped, |ts| {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), SAMPLE).unwrap();
    run(dir.path(), &ts.url, &["apply", "s.toml", "--publish"], None);
    // What a login could write by hand (journeyctl refuses it at its
    // edges): ESC and CR in an actor, a newline that would forge a line in
    // a reason, ESC in an action's name.
    sqlx::query(
        "INSERT INTO audit (at, actor, host, action, journey, version, reason) \
         VALUES (0, $1, 'h', 'note', 'spring-sale', 1, $2)",
    )
    .bind("\u{1b}[2K\rbob")
    .bind("ok\n2026-11-30T00:00:00Z  alice  ops-1  stop  spring-sale v1")
    .execute(ts.store.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO outbox_actions (version_id, action, pending, sent, failed, cancelled, retrying, last_error, last_error_at) \
         SELECT id, $1, 0, 0, 0, 0, 0, $2, 0 FROM versions",
    )
    .bind("email\u{1b}[31m")
    .bind("boom\u{1b}]0;title\u{7}")
    .execute(ts.store.pool())
    .await
    .unwrap();
    for args in [&["audit"][..], &["channels"]] {
        let o = run(dir.path(), &ts.url, args, None);
        let (out, err) = text(&o);
        assert!(o.status.success(), "{args:?}: {err}");
        assert!(
            !out.contains('\u{1b}') && !out.contains('\r') && !out.contains('\u{7}'),
            "{args:?}: {out:?}"
        );
        assert!(out.contains("\\e"), "{args:?}: {out}");
    }
    let audit = text(&run(dir.path(), &ts.url, &["audit"], None)).0;
    assert_eq!(audit.lines().count(), 3, "one line per row: {audit}");
    assert!(audit.contains("\\e[2K\\rbob"), "{audit}");
    assert!(audit.contains("ok\\n2026-11-30"), "{audit}");
    let channels = text(&run(dir.path(), &ts.url, &["channels"], None)).0;
    assert!(channels.contains("email\\e[31m"), "{channels}");
    assert!(channels.contains("boom\\e]0;title\\u{7}"), "{channels}");
    // Put the store back as the counters expect.
    sqlx::query(
        "DELETE FROM outbox_actions WHERE action LIKE 'email%' AND pending = 0 AND sent = 0",
    )
    .execute(ts.store.pool())
    .await
    .unwrap();
});

/// `demo` writes only to a store it made: a real store or any other file
/// named with `--database-url` is refused and left as it was.
#[test]
fn demo_never_replaces_a_store_it_did_not_make() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("s.toml"), SAMPLE).unwrap();
    let real = d.join("prod.db").display().to_string();
    assert!(
        run(d, &real, &["apply", "s.toml", "--publish"], None)
            .status
            .success()
    );
    let before = std::fs::read(d.join("prod.db")).unwrap();
    std::fs::write(d.join("notes.txt"), "my notes\n").unwrap();
    let demo = [
        "demo",
        "--no-console",
        "--duration",
        "1",
        "--profiles",
        "100",
    ];
    for (target, shown) in [(real.as_str(), "prod.db"), ("notes.txt", "notes.txt")] {
        let mut args = vec!["--database-url", target];
        args.extend(demo);
        let o = journeyctl_without_store().dir(d).args(&args).output();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(
            err.contains(&format!(
                "{shown} exists and is not a store journeyctl made"
            )),
            "{err}"
        );
    }
    assert_eq!(std::fs::read(d.join("prod.db")).unwrap(), before);
    assert_eq!(
        std::fs::read_to_string(d.join("notes.txt")).unwrap(),
        "my notes\n"
    );
    // A path that does not exist yet becomes a demo store, and stays the
    // demo's to replace.
    for _ in 0..2 {
        let mut args = vec!["--database-url", "fresh-demo.db"];
        args.extend(demo);
        let o = journeyctl_without_store().dir(d).args(&args).output();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

/// `demo --help` says which store the demo uses (never DATABASE_URL),
/// and how to read the PostgreSQL demo from the CLI.
#[test]
fn demo_help_says_where_its_store_is() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), "", &["demo", "--help"], None);
    let help = text(&o).0.replace('\n', " ");
    assert!(
        help.contains("DATABASE_URL, --store and the config file's default_store are never used"),
        "{help}"
    );
    assert!(
        help.contains("?options=-c%20search_path%3Djourneyctl_demo"),
        "{help}"
    );
}

/// A password on the command line is warned about; neither it nor a URL
/// parameter's value is ever written to the log.
#[test]
fn url_secrets_are_warned_about_and_never_logged() {
    let dir = tempfile::tempdir().unwrap();
    let url = "postgres://ops:hunter2@127.0.0.1:1/none?token=t0ken-value";
    let o = journeyctl_without_store()
        .env("XDG_STATE_HOME", dir.path())
        .args(["--database-url", url, "list"])
        .output();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("journeyctl: warning: a password on the command line is visible to every user of this host"),
        "{err}"
    );
    let log = std::fs::read_to_string(dir.path().join("journeyctl").join("journeyctl.log"))
        .unwrap_or_default();
    for secret in ["hunter2", "t0ken-value"] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
        assert!(!err.contains(secret), "{secret} on stderr: {err}");
    }
}

/// Durations take the units the README lists, within each flag's bounds,
/// and an error names the flag.
#[test]
fn durations_have_units_and_bounds_and_errors_name_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    for (args, want) in [
        (
            vec!["--refresh", "2months", "list"],
            "invalid value '2months' for '--refresh <REFRESH>': duration \"2months\": unit \"months\" is not one of ms, s, m, h, d, w",
        ),
        (
            vec!["--refresh", "1y", "list"],
            "unit \"y\" is not one of ms, s, m, h, d, w",
        ),
        (
            vec!["--refresh", "10s", "list"],
            "'--refresh <REFRESH>': \"10s\" is out of bounds: the console refreshes every 500ms to 5s",
        ),
        (
            vec!["run", "--interval", "50ms"],
            "'--interval <INTERVAL>': \"50ms\" is out of bounds: the interval is 100ms to 1h",
        ),
    ] {
        let o = run(dir.path(), "unused.db", &args, None);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    assert!(!dir.path().join("unused.db").exists());
}

/// `--help`'s line for `grant` names every role it gives.
#[test]
fn the_grant_summary_names_all_three_roles() {
    let o = journeyctl_without_store().args(["--help"]).output();
    let (out, _) = text(&o);
    let grant: String = out
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("grant"))
        .take(3)
        .collect();
    for role in ["viewer", "operator", "engine"] {
        assert!(grant.contains(role), "{role}: {grant}");
    }
}

/// A `--read-only` refusal does not send the operator to `--write` alone,
/// which lifts only the config file's mark.
#[test]
fn a_read_only_refusal_says_where_read_only_comes_from() {
    let o = journeyctl_without_store()
        .args(["--read-only", "stop", "spring", "--yes"])
        .output();
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("(--read-only, or the store's read_only"),
        "{err}"
    );
}

// A definition whose entry end has passed is applied with a warning, and
// an ingest whose every event was refused says so: a newcomer is never
// left with exit 0 and nothing in.
both_backends!(a_past_entry_end_is_said_at_apply_and_at_ingest, |ts| {
    let dir = tempfile::tempdir().unwrap();
    let past = SAMPLE.replace("2099-12-01T00:00:00Z", "2020-01-01T00:00:00Z");
    assert_ne!(past, SAMPLE);
    std::fs::write(dir.path().join("s.toml"), past).unwrap();
    let o = run(dir.path(), &ts.url, &["apply", "s.toml", "--publish"], None);
    let (_, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("entry_end_at 2020-01-01T00:00:00Z has passed"),
        "{err}"
    );
    let events =
        r#"{"type":"enter","journey":"spring-sale","profile":"p-1","at":"2026-11-21T10:00:00Z"}"#;
    let o = run(dir.path(), &ts.url, &["ingest", "-"], Some(events));
    let (out, err) = text(&o);
    assert!(out.contains("1 refused (entry_ended 1)"), "{out}");
    assert!(err.contains("every event given was refused"), "{err}");
});

/// The demo's own store: a named store or `--write` is refused, not
/// silently ignored.
#[test]
fn the_demo_refuses_options_it_would_ignore() {
    for args in [
        &["--store", "prod", "demo", "--no-console"][..],
        &["--write", "demo", "--no-console"][..],
    ] {
        let o = journeyctl_without_store().args(args).output();
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("do not apply"), "{err}");
    }
}

/// Under systemd with `StateDirectory=`, the log goes where it says.
#[test]
fn the_log_goes_to_systemds_state_directory() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("lib/journeyctl");
    std::fs::create_dir_all(&state).unwrap();
    let o = journeyctl_without_store()
        .env("STATE_DIRECTORY", state.to_str().unwrap())
        .args(["stores"])
        .output();
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(state.join("journeyctl.log").exists(), "no log in {state:?}");
}

// `channels --channels FILE` shows the routing to someone without the
// secrets: a variable that is not set stands in, `deliver` still needs it.
both_backends!(channels_shows_routing_without_the_secrets, |ts| {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("channels.toml");
    std::fs::write(
        &file,
        "[channels.email]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/send\"\n\
         headers = { Authorization = \"Bearer ${JOURNEYCTL_TEST_UNSET_TOKEN}\" }\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let o = run(dir.path(), &ts.url, &["channels", "--channels", f], None);
    assert!(o.status.success(), "{:?}", text(&o));
    let o = run(
        dir.path(),
        &ts.url,
        &["deliver", "--channels", f, "--once"],
        None,
    );
    assert!(!o.status.success());
    assert!(
        text(&o)
            .1
            .contains("JOURNEYCTL_TEST_UNSET_TOKEN is not set"),
        "{:?}",
        text(&o)
    );
});

/// A reader that goes away (`journeyctl trend ... | head -1`) ends a
/// command that only prints as it ends `cat`: quietly, by SIGPIPE, never
/// with a panic and exit 101.
#[test]
fn a_closed_pipe_ends_a_printing_command_quietly() {
    use std::io::BufRead;
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let url = d.join("pipe.db").display().to_string();
    std::fs::write(d.join("s.toml"), SAMPLE).unwrap();
    assert!(
        run(d, &url, &["apply", "s.toml", "--publish"], None)
            .status
            .success()
    );
    // 48 hours a minute a line: far more than a pipe holds.
    let mut child = journeyctl(&url)
        .dir(d)
        .args(["trend", "spring-sale", "--since", "48h"])
        .command()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("MINUTE"), "{first}");
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    // SIGPIPE is 13 on Linux.
    assert_eq!(out.status.signal(), Some(13), "{:?}", out.status);
}

/// `run` on a SQLite file replaced under it (a restore, a demo run again)
/// ticks the new file, never the deleted copy it had open.
#[test]
fn run_ticks_a_store_file_replaced_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let url = d.join("engine.db").display().to_string();
    std::fs::write(d.join("s.toml"), SAMPLE).unwrap();
    assert!(run(d, &url, &["migrate"], None).status.success());
    let engine = journeyctl(&url)
        .dir(d)
        .args(["run", "--interval", "200ms"])
        .spawn();
    std::thread::sleep(std::time::Duration::from_millis(600));
    // Another store with one entrant waiting for its first tick takes the
    // file's place, its log with it.
    let other = d.join("other.db").display().to_string();
    assert!(
        run(d, &other, &["apply", "s.toml", "--publish"], None)
            .status
            .success()
    );
    let events = "{\"type\":\"enter\",\"journey\":\"spring-sale\",\"profile\":\"p-1\"}\n";
    assert!(
        run(d, &other, &["ingest", "-"], Some(events))
            .status
            .success()
    );
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{url}{suffix}"));
    }
    for suffix in ["-wal", "-shm", ""] {
        let _ = std::fs::rename(format!("{other}{suffix}"), format!("{url}{suffix}"));
    }
    let start = std::time::Instant::now();
    loop {
        let o = run(d, &url, &["list", "--json"], None);
        let list: serde_json::Value = serde_json::from_str(&text(&o).0).unwrap();
        if list[0]["messages"]["pending"].as_i64() == Some(1) {
            break;
        }
        // Ticking every 200 ms, the new file's first tick is well within
        // 3 s (the deleted copy's sessions would hold on for longer).
        assert!(
            start.elapsed() < std::time::Duration::from_secs(3),
            "the engine did not tick the new file: {list}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    drop(engine);
}

/// `bench --feed-only` runs `journeyctl ingest` itself on each backend
/// given and prints its rate against its yardstick: a bare COPY on
/// PostgreSQL, one PostgreSQL node on a cluster (figures, not asserted).
#[test]
fn bench_feed_only_times_journeyctl_ingest_against_its_yardsticks() {
    let out = common::journeyctl_without_store()
        .args(["bench", "--feed-only", "--feed-events", "3000"])
        .output();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let row = |name: &str| -> Vec<String> {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {name}")))
            .unwrap_or_else(|| panic!("no row {name:?}: {stdout}"));
        line.trim_matches('|')
            .split(" | ")
            .map(|c| c.trim().to_string())
            .collect()
    };
    let ingest = row("journeyctl ingest, a feed of 3000 entry events");
    let tick = row("engine tick over the feed's people");
    assert!(ingest[2].ends_with(" events/s"), "{ingest:?}");
    assert!(tick[2].ends_with(" steps/s"), "{tick:?}");
    let postgres = std::env::var(common::PG_ENV).is_ok();
    let citus = std::env::var("JOURNEYCTL_TEST_CITUS_URL").is_ok_and(|u| !u.is_empty());
    if postgres {
        assert!(ingest[3].contains("x a bare COPY ("), "{ingest:?}");
    } else {
        assert_eq!(ingest[3], "skipped");
    }
    if citus && postgres {
        assert!(ingest[4].contains("x one node ("), "{ingest:?}");
        assert!(tick[4].contains("x one node ("), "{tick:?}");
    }
}

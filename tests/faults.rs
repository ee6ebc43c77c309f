//! Faults, races and bad input: racing processes, a stop under engine
//! load, kill -9 mid-write, a read-only database role, and fuzzed input.

mod common;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use journeyctl::domain::Definition;
use journeyctl::domain::events::parse_line;
use journeyctl::domain::rng::SplitMix64;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_journeyctl")
}

fn cmd(url: &str, args: &[&str]) -> Command {
    let mut c = Command::new(bin());
    c.env("DATABASE_URL", url).env("USER", "tester").args(args);
    c
}

fn run(url: &str, args: &[&str]) -> Output {
    cmd(url, args).stdin(Stdio::null()).output().unwrap()
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

fn write_def(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!("name = \"{name}\"\ngoal = \"purchase\"\n{body}"),
    )
    .unwrap();
    path.display().to_string()
}

const TWO_STEPS: &str = "[[steps]]\nkind = \"message\"\naction = \"email\"\n[[steps]]\nkind = \"wait\"\nduration = \"1d\"\n";

fn entries(dir: &Path, journey: &str, n: usize) -> String {
    let path = dir.join(format!("{journey}-{n}.ndjson"));
    let body: String = (0..n)
        .map(|i| {
            format!("{{\"type\":\"enter\",\"journey\":\"{journey}\",\"profile\":\"p-{i}\"}}\n")
        })
        .collect();
    std::fs::write(&path, body).unwrap();
    path.display().to_string()
}

fn json(url: &str, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(url, args)).unwrap()
}

fn version_json(url: &str, journey: &str) -> serde_json::Value {
    json(url, &["list", "--all", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["journey"] == journey)
        .cloned()
        .unwrap()
}

fn kill9_after(mut child: Child, delay: Duration) {
    std::thread::sleep(delay);
    let _ = Command::new("kill")
        .arg("-9")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
}

both_backends!(
    eight_racing_processes_one_stop_wins_and_one_audit_row,
    |ts| {
        let dir = tempfile::tempdir().unwrap();
        let d = write_def(dir.path(), "race", TWO_STEPS);
        ok(&ts.url, &["apply", &d, "--publish"]);
        ok(&ts.url, &["ingest", &entries(dir.path(), "race", 100)]);
        let children: Vec<(usize, Child)> = (0..8)
            .map(|i| {
                let actor = format!("op-{i}");
                let child = cmd(
                    &ts.url,
                    &["--actor", &actor, "stop", "race", "--version", "1", "--yes"],
                )
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
                (i, child)
            })
            .collect();
        let mut winners = 0;
        for (_, child) in children {
            let o = child.wait_with_output().unwrap();
            if o.status.success() {
                winners += 1;
            } else {
                let err = String::from_utf8_lossy(&o.stderr);
                assert_eq!(o.status.code(), Some(3), "{err}");
                assert!(
                    err.contains("already stopped (stopped by op-"),
                    "the loser is told who won: {err}"
                );
            }
        }
        assert_eq!(winners, 1);
        let audit = json(&ts.url, &["audit", "--json"]);
        let stops: Vec<_> = audit
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["action"] == "stop")
            .collect();
        assert_eq!(stops.len(), 1);
        assert_eq!(stops[0]["affected_active"], 100);
        // Finishing and stopping at once: at most one of each, in that order.
        let d = write_def(dir.path(), "mixed", TWO_STEPS);
        ok(&ts.url, &["apply", &d, "--publish"]);
        let children: Vec<(bool, Child)> = (0..8)
            .map(|i| {
                let verb = if i % 2 == 0 { "finish" } else { "stop" };
                let child = cmd(
                    &ts.url,
                    &[
                        "--actor",
                        &format!("op-{i}"),
                        verb,
                        "mixed",
                        "--version",
                        "1",
                        "--yes",
                    ],
                )
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
                (verb == "finish", child)
            })
            .collect();
        let (mut finishes, mut stops) = (0, 0);
        for (is_finish, mut child) in children {
            if child.wait().unwrap().success() {
                if is_finish { finishes += 1 } else { stops += 1 }
            }
        }
        assert!(
            finishes <= 1 && stops == 1,
            "finishes {finishes}, stops {stops}"
        );
        let audit = json(&ts.url, &["audit", "--journey", "mixed", "--json"]);
        assert_eq!(audit.as_array().unwrap().len(), 1 + finishes + stops);
    }
);

both_backends!(
    once_a_stop_commits_the_running_engine_enqueues_nothing_more,
    |ts| {
        let dir = tempfile::tempdir().unwrap();
        let mut steps = String::new();
        for _ in 0..30 {
            steps.push_str("[[steps]]\nkind = \"message\"\naction = \"email\"\n[[steps]]\nkind = \"wait\"\nduration = \"1s\"\n");
        }
        let d = write_def(dir.path(), "busy", &steps);
        ok(&ts.url, &["apply", &d, "--publish"]);
        ok(&ts.url, &["ingest", &entries(dir.path(), "busy", 3000)]);
        let mut engine = cmd(&ts.url, &["run", "--interval", "1s"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let outbox = |url: &str| -> (i64, i64) {
            let v = version_json(url, "busy");
            (
                v["messages"]["pending"].as_i64().unwrap()
                    + v["messages"]["sent"].as_i64().unwrap()
                    + v["messages"]["cancelled"].as_i64().unwrap(),
                v["messages"]["pending"].as_i64().unwrap(),
            )
        };
        // Wait until the engine is busy with this version.
        let start = Instant::now();
        while outbox(&ts.url).0 < 6000 {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the engine never got going"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        // Counters and rows agree in one snapshot even while the engine writes.
        for _ in 0..3 {
            ok(&ts.url, &["check"]);
        }
        ok(&ts.url, &["stop", "busy", "--yes"]);
        let (total_at_stop, pending_at_stop) = outbox(&ts.url);
        assert_eq!(pending_at_stop, 0);
        std::thread::sleep(Duration::from_millis(3500));
        let (total_later, pending_later) = outbox(&ts.url);
        assert_eq!(
            total_later, total_at_stop,
            "messages were enqueued after the stop committed"
        );
        assert_eq!(pending_later, 0);
        let _ = engine.kill();
        let _ = engine.wait();
        // The counters match the rows: no row was added behind their back.
        ok(&ts.url, &["check"]);
    }
);

both_backends!(
    kill_9_mid_ingest_or_tick_leaves_exact_counters_and_reruns_cleanly,
    |ts| {
        let dir = tempfile::tempdir().unwrap();
        let d = write_def(dir.path(), "crash", TWO_STEPS);
        ok(&ts.url, &["apply", &d, "--publish"]);
        let file = entries(dir.path(), "crash", 150_000);
        let child = cmd(&ts.url, &["ingest", &file])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        kill9_after(child, Duration::from_millis(400));
        ok(&ts.url, &["check"]);
        let partial = version_json(&ts.url, "crash")["counts"]["entered"]
            .as_i64()
            .unwrap();
        // Re-running the same feed loses nothing and duplicates nothing.
        ok(&ts.url, &["ingest", &file]);
        ok(&ts.url, &["check"]);
        assert_eq!(
            version_json(&ts.url, "crash")["counts"]["entered"],
            150_000,
            "partial run had {partial}"
        );
        // Kill the engine mid-tick: then tick again; one email per participant.
        let child = cmd(&ts.url, &["tick"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        kill9_after(child, Duration::from_millis(300));
        ok(&ts.url, &["check"]);
        ok(&ts.url, &["tick"]);
        ok(&ts.url, &["check"]);
        let v = version_json(&ts.url, "crash");
        assert_eq!(
            v["messages"]["pending"], 150_000,
            "exactly one email each: {v}"
        );
        // Kill a stop: it is one short transaction, so either it happened or not.
        let child = cmd(&ts.url, &["stop", "crash", "--yes"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        kill9_after(child, Duration::from_millis(5));
        ok(&ts.url, &["check"]);
        let status = version_json(&ts.url, "crash")["status"]
            .as_str()
            .unwrap()
            .to_string();
        let stops = json(&ts.url, &["audit", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["action"] == "stop")
            .count();
        assert_eq!(
            stops,
            usize::from(status == "stopped"),
            "the audit row goes with the change"
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_select_only_postgres_role_can_look_but_not_act() {
    let Some(ts) = common::postgres("readonly_role").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = write_def(dir.path(), "guarded", TWO_STEPS);
    ok(&ts.url, &["apply", &d, "--publish"]);
    let admin_url = std::env::var(common::PG_ENV).unwrap();
    let role = format!("jctl_ro_{}", std::process::id());
    let schema = ts.url.split("search_path%3D").nth(1).unwrap().to_string();
    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap();
    for sql in [
        format!("DROP ROLE IF EXISTS {role}"),
        format!("CREATE ROLE {role} LOGIN"),
        format!("GRANT USAGE ON SCHEMA \"{schema}\" TO {role}"),
        format!("GRANT SELECT ON ALL TABLES IN SCHEMA \"{schema}\" TO {role}"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&admin)
            .await
            .unwrap();
    }
    let ro_url = ts
        .url
        .replacen("postgres://postgres@", &format!("postgres://{role}@"), 1);
    assert_ne!(ro_url, ts.url);
    // Looking works, with no --read-only flag needed.
    let list = json(&ro_url, &["list", "--json"]);
    assert_eq!(list[0]["journey"], "guarded");
    ok(&ro_url, &["audit", "--json"]);
    // Acting is refused by the database, with a clear line, and changes nothing.
    let o = run(&ro_url, &["stop", "guarded", "--yes"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("this role may only read"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1);
    assert_eq!(version_json(&ts.url, "guarded")["status"], "live");
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP OWNED BY {role}")))
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP ROLE {role}")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    ts.close().await;
}

/// Mutates valid input at random: flips, cuts, inserts and duplicates.
fn mutate(rng: &mut SplitMix64, base: &str) -> String {
    let mut bytes = base.as_bytes().to_vec();
    for _ in 0..(1 + rng.below(4)) {
        if bytes.is_empty() {
            break;
        }
        let i = rng.below(bytes.len() as u64) as usize;
        match rng.below(5) {
            0 => bytes[i] = rng.below(256) as u8,
            1 => bytes.truncate(i),
            2 => {
                let alphabet = b"{}[]\":,\\\n\x00\xff9-eE.ta ";
                bytes.insert(i, alphabet[rng.below(alphabet.len() as u64) as usize]);
            }
            3 => {
                let j = (i + rng.below(16) as usize).min(bytes.len());
                let dup = bytes[i..j].to_vec();
                bytes.splice(i..i, dup);
            }
            _ => {
                bytes.remove(i);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn fuzzed_event_lines_never_panic_and_always_say_why_in_one_line() {
    let seeds = [
        r#"{"type":"enter","journey":"spring-sale","profile":"p-1","at":"2026-11-21T10:00:00Z"}"#,
        r#"{"type":"event","profile":"p-1","name":"purchase"}"#,
        r#"{"type":"segment","profile":"p-1","segment":"suppressed","at":"2026-11-21T10:00:00+01:00"}"#,
    ];
    // Inputs that once looked risky: huge numbers, deep nesting, odd times.
    let corpus = [
        r#"{"type":"enter","journey":"j","profile":"p","at":"9999-99-99T99:99:99Z"}"#,
        r#"{"type":"enter","journey":"j","profile":"p","at":"+275760-09-13T00:00:00Z"}"#,
        r#"{"type":"enter","journey":1e999,"profile":"p"}"#,
        &format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
        "\u{feff}{\"type\":\"event\"}",
        r#"{"type":"enter","journey":"j","profile":"p","type":"event"}"#,
    ];
    let mut rng = SplitMix64::new(99);
    let mut inputs: Vec<String> = corpus.iter().map(|s| s.to_string()).collect();
    for _ in 0..20_000 {
        let seed = seeds[rng.below(seeds.len() as u64) as usize];
        inputs.push(mutate(&mut rng, seed));
    }
    for input in inputs {
        let result = std::panic::catch_unwind(|| parse_line(&input, 0));
        let Ok(result) = result else {
            panic!("parse_line panicked on {input:?}")
        };
        if let Err(e) = result {
            assert!(!e.is_empty() && !e.contains('\n'), "{input:?} -> {e:?}");
        }
    }
}

#[test]
fn fuzzed_definitions_never_panic_and_errors_say_where() {
    let base = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/spring-sale.toml"
    ))
    .unwrap();
    let corpus = [
        "name = \"x\"\n[[steps]]\nkind = \"wait\"\nduration = \"99999999999999999999d\"\n",
        "name = \"x\"\n[[steps]]\nkind = \"split\"\ntest = \"t\"\nexpected_participants = 0\nvariants = [{name=\"A\",weight=1,action=\"a\"},{name=\"B\",weight=1,action=\"b\"}]\n",
        "name = \"x\"\n[[steps]]\nkind = \"split\"\ntest = \"t\"\nvariants = [{name=\"A\",weight=4294967295,action=\"a\"},{name=\"B\",weight=4294967295,action=\"b\"}]\n",
        "name = \"\u{0}\"\n[[steps]]\nkind = \"message\"\naction = \"a\"\n",
    ];
    let mut rng = SplitMix64::new(7);
    let mut inputs: Vec<String> = corpus.iter().map(|s| s.to_string()).collect();
    for _ in 0..5_000 {
        inputs.push(mutate(&mut rng, &base));
    }
    for input in inputs {
        let Ok(result) = std::panic::catch_unwind(|| Definition::from_toml(&input)) else {
            panic!("from_toml panicked on {input:?}")
        };
        if let Err(e) = result {
            assert!(!e.is_empty() && !e.contains('\n'), "{input:?} -> {e:?}");
        }
    }
}

//! Faults, races and bad input: racing processes, a stop under engine
//! load, kill -9 mid-write. Bad input is in tests/properties.rs.

mod common;

use common::Proc;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn cmd(url: &str, args: &[&str]) -> Command {
    common::journeyctl(url).args(args).command()
}

fn run(url: &str, args: &[&str]) -> Output {
    common::journeyctl(url).args(args).output()
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

/// Applies and publishes the two-step journey `name` and enters `n`
/// profiles into it.
fn published_with(url: &str, dir: &Path, name: &str, n: usize) {
    let d = write_def(dir, name, TWO_STEPS);
    ok(url, &["apply", &d, "--publish"]);
    if n > 0 {
        ok(url, &["ingest", &entries(dir, name, n)]);
    }
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

/// Spawns one action per verb on `journey` v1, queued behind a lock held
/// by the test so that they overlap by construction, then releases it;
/// returns each one's verb and output.
async fn race_behind_a_lock(
    ts: &common::TestStore,
    journey: &str,
    verbs: &[&str],
) -> Vec<(String, Output)> {
    let blocker = common::Blocker::hold(&ts.store, journey, 1).await;
    let mut children: Vec<Proc> = verbs
        .iter()
        .enumerate()
        .map(|(i, verb)| {
            Proc::spawn(
                cmd(
                    &ts.url,
                    &[
                        "--actor",
                        &format!("op-{i}"),
                        verb,
                        journey,
                        "--version",
                        "1",
                        "--yes",
                    ],
                )
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
            )
        })
        .collect();
    blocker
        .wait_for(&ts.store, verbs.len(), &mut children)
        .await;
    blocker.release().await;
    verbs
        .iter()
        .zip(children)
        .map(|(verb, c)| (verb.to_string(), c.finish(Duration::from_secs(60))))
        .collect()
}

both_backends!(
    eight_racing_processes_one_stop_wins_and_one_audit_row,
    citus: "who holds the lock is read with pg_blocking_pids, which cannot see a wait on a worker node: each loser also prints a generic waiting line",
    |ts| {
        let dir = tempfile::tempdir().unwrap();
        published_with(&ts.url, dir.path(), "race", 100);
        let results = race_behind_a_lock(ts, "race", &["stop"; 8]).await;
        let mut winners = 0;
        for (_, o) in &results {
            let err = String::from_utf8_lossy(&o.stderr);
            if o.status.success() {
                winners += 1;
                assert!(String::from_utf8_lossy(&o.stdout).contains("stopped race v1"));
            } else {
                assert_eq!(o.status.code(), Some(3), "{err}");
                assert_eq!(err.trim_end().lines().count(), 1, "{err}");
                assert!(
                    err.contains("cannot stop race v1: it is already stopped (stopped by op-"),
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
        // Finishing and stopping at once: the stop always wins once; a
        // finish wins only before it, and then the stop stops a finished
        // version. Every loser is told why.
        published_with(&ts.url, dir.path(), "mixed", 0);
        let verbs: Vec<&str> = (0..8)
            .map(|i| if i % 2 == 0 { "finish" } else { "stop" })
            .collect();
        let results = race_behind_a_lock(ts, "mixed", &verbs).await;
        let (mut finishes, mut stops) = (0, 0);
        for (verb, o) in &results {
            let err = String::from_utf8_lossy(&o.stderr);
            if o.status.success() {
                if verb == "finish" {
                    finishes += 1
                } else {
                    stops += 1
                }
            } else {
                assert_eq!(o.status.code(), Some(3), "{verb}: {err}");
                assert!(
                    err.contains(&format!("cannot {verb} mixed v1: it is already ")),
                    "{verb}: {err}"
                );
            }
        }
        assert!(
            finishes <= 1 && stops == 1,
            "finishes {finishes}, stops {stops}"
        );
        let audit = json(&ts.url, &["audit", "--journey", "mixed", "--json"]);
        // Status changes only (an apply writes a row of its own).
        let rows: Vec<&serde_json::Value> = audit
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["action"] != "apply")
            .collect();
        assert_eq!(rows.len(), 1 + finishes + stops);
        // Newest first: the stop, then the finish if one won, then publish.
        assert_eq!(rows[0]["action"], "stop");
        if finishes == 1 {
            assert_eq!(rows[0]["from"], "finished");
            assert_eq!(rows[1]["action"], "finish");
            assert_eq!(rows[1]["from"], "live");
        } else {
            assert_eq!(rows[0]["from"], "live");
        }
        assert_eq!(rows[rows.len() - 1]["action"], "publish");
    }
);

/// `stop edit-X v1` and `publish edit-X` (which finishes v1) queued behind
/// a lock in the order given; returns v1's audit rows, oldest first, as
/// (action, from, to).
async fn stop_and_publish_in_order(
    ts: &common::TestStore,
    journey: &str,
    stop_first: bool,
) -> Vec<(String, String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let d = write_def(dir.path(), journey, TWO_STEPS);
    ok(&ts.url, &["apply", &d, "--publish"]);
    ok(&ts.url, &["ingest", &entries(dir.path(), journey, 30)]);
    ok(&ts.url, &["apply", &d]);
    let stop = [
        "--actor",
        "stopper",
        "stop",
        journey,
        "--version",
        "1",
        "--yes",
    ];
    let publish = ["--actor", "publisher", "publish", journey, "--yes"];
    let order: [&[&str]; 2] = if stop_first {
        [&stop, &publish]
    } else {
        [&publish, &stop]
    };
    let blocker = common::Blocker::hold(&ts.store, journey, 1).await;
    let mut children = Vec::new();
    for args in order {
        children.push(Proc::spawn(
            cmd(&ts.url, args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        ));
        // PostgreSQL queues lock waiters in order of arrival.
        blocker
            .wait_for(&ts.store, children.len(), &mut children)
            .await;
    }
    blocker.release().await;
    for c in children {
        let o = c.finish(Duration::from_secs(60));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let list = json(&ts.url, &["list", "--all", "--json"]);
    let status = |n: i64| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|v| v["journey"] == journey && v["version"] == n)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status(1), "stopped");
    assert_eq!(status(2), "live");
    let audit = json(&ts.url, &["audit", "--journey", journey, "--json"]);
    audit
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .filter(|a| a["version"] == 1 && a["action"] != "apply")
        .map(|a| {
            (
                a["action"].as_str().unwrap().to_string(),
                a["from"].as_str().unwrap().to_string(),
                a["to"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

both_backends!(
    a_stop_racing_a_publish_leaves_one_audit_row_per_change,
    |ts| {
        let row = |a: &str, f: &str, t: &str| (a.to_string(), f.to_string(), t.to_string());
        let publish_won = vec![
            row("publish", "draft", "live"),
            row("finish", "live", "finished"),
            row("stop", "finished", "stopped"),
        ];
        let stop_won = vec![
            row("publish", "draft", "live"),
            row("stop", "live", "stopped"),
        ];
        for (journey, stop_first) in [("edit-a", true), ("edit-b", false)] {
            let v1 = stop_and_publish_in_order(ts, journey, stop_first).await;
            // Each row starts where the one before it ended, and nothing
            // that did not happen is written.
            if ts.backend != "sqlite" {
                let want = if stop_first { &stop_won } else { &publish_won };
                assert_eq!(&v1, want, "{journey}");
            } else {
                // SQLite's waiters retry on their own: either may go first.
                assert!(v1 == stop_won || v1 == publish_won, "{journey}: {v1:?}");
            }
        }
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
        // Each tick moves everyone one message on: many batches a tick.
        const CROWD: i64 = 20_000;
        let mut engine = Proc::spawn(
            cmd(&ts.url, &["run", "--interval", "1s"])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        let outbox = |url: &str, journey: &str| -> (i64, i64) {
            let v = version_json(url, journey);
            (
                v["messages"]["pending"].as_i64().unwrap()
                    + v["messages"]["sent"].as_i64().unwrap()
                    + v["messages"]["cancelled"].as_i64().unwrap(),
                v["messages"]["pending"].as_i64().unwrap(),
            )
        };
        // A stop that lands after a tick's last batch proves nothing about
        // batches after it: on a busy machine that can happen, so up to
        // three journeys, until one stop lands inside a tick.
        let mut landed_inside = Vec::new();
        for attempt in 0..3 {
            let journey = format!("busy-{attempt}");
            let d = write_def(dir.path(), &journey, &steps);
            ok(&ts.url, &["apply", &d, "--publish"]);
            ok(
                &ts.url,
                &["ingest", &entries(dir.path(), &journey, CROWD as usize)],
            );
            let queued = Instant::now();
            while outbox(&ts.url, &journey).0 < CROWD {
                assert!(
                    queued.elapsed() < Duration::from_secs(120),
                    "the engine never queued the first message of all {CROWD} of {journey}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
            // Counters and rows agree in one snapshot even while the engine
            // writes.
            for _ in 0..2 {
                ok(&ts.url, &["check"]);
            }
            let (total_at_stop, total_later) = stop_mid_tick(ts, &journey, CROWD, &outbox).await;
            assert_eq!(
                total_later, total_at_stop,
                "{journey}: messages were enqueued after the stop committed"
            );
            landed_inside.push(total_at_stop % CROWD != 0);
            if total_at_stop % CROWD != 0 {
                break;
            }
        }
        assert!(
            landed_inside.contains(&true),
            "no stop of three landed inside a tick: {landed_inside:?}"
        );
        assert!(
            engine.child().try_wait().unwrap().is_none(),
            "the engine died: an engine that cannot enqueue proves nothing"
        );
        drop(engine);
        // The counters match the rows: no row was added behind their back.
        ok(&ts.url, &["check"]);
    }
);

/// A child that is killed when the test ends, passed or not: a failed
/// assertion leaves no engine running.
/// Waits until a tick of `journey` is under way (part of everyone moved),
/// stops it at once (in this process: a CLI's start-up could miss the
/// tick), and returns its messages at the stop and 3.5 s later.
async fn stop_mid_tick(
    ts: &common::TestStore,
    journey: &str,
    crowd: i64,
    outbox: &dyn Fn(&str, &str) -> (i64, i64),
) -> (i64, i64) {
    let start = Instant::now();
    loop {
        let m = common::summary(&ts.store, journey, 1).await.messages;
        if (m.pending + m.sent + m.cancelled) % crowd != 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "never saw the engine in the middle of a tick"
        );
        // A short breath between reads: no loop spins on 2 cores.
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let stop = common::stop_of(journey, 1);
    ts.store
        .execute(
            &stop,
            &common::alice(),
            journeyctl::domain::time::now_millis(),
        )
        .await
        .unwrap();
    let (total_at_stop, pending_at_stop) = outbox(&ts.url, journey);
    assert_eq!(pending_at_stop, 0);
    std::thread::sleep(Duration::from_millis(3500));
    let (total_later, pending_later) = outbox(&ts.url, journey);
    assert_eq!(pending_later, 0);
    (total_at_stop, total_later)
}

/// Runs `args` and kills it with SIGKILL as soon as `progress` reads more
/// than zero from the store (its first batch has committed); returns what
/// `progress` reads once it is dead.
async fn kill_9_mid_work(
    ts: &common::TestStore,
    args: &[&str],
    progress: impl AsyncFn(&journeyctl::store::Store) -> i64,
) -> i64 {
    let mut child = Proc::spawn(
        cmd(&ts.url, args)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let start = Instant::now();
    while progress(&ts.store).await == 0 {
        assert!(
            child.child().try_wait().unwrap().is_none(),
            "{args:?} ended before its first batch was seen"
        );
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{args:?} made no progress"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill();
    progress(&ts.store).await
}

both_backends!(
    kill_9_mid_ingest_or_tick_leaves_exact_counters_and_reruns_cleanly,
    |ts| {
        const TOTAL: i64 = 150_000;
        let dir = tempfile::tempdir().unwrap();
        let d = write_def(dir.path(), "crash", TWO_STEPS);
        ok(&ts.url, &["apply", &d, "--publish"]);
        let file = entries(dir.path(), "crash", TOTAL as usize);
        let entered = async |s: &journeyctl::store::Store| {
            common::summary(s, "crash", 1).await.counts.entered
        };
        let partial = kill_9_mid_work(ts, &["ingest", &file], entered).await;
        assert!(
            0 < partial && partial < TOTAL,
            "the kill did not land mid-ingest: {partial} of {TOTAL} entered"
        );
        ok(&ts.url, &["check"]);
        // Re-running the same feed loses nothing and duplicates nothing.
        ok(&ts.url, &["ingest", &file]);
        ok(&ts.url, &["check"]);
        assert_eq!(version_json(&ts.url, "crash")["counts"]["entered"], TOTAL);
        // Kill the engine mid-tick: then tick again; one email per participant.
        let queued = async |s: &journeyctl::store::Store| {
            common::summary(s, "crash", 1).await.messages.pending
        };
        let partial = kill_9_mid_work(ts, &["tick"], queued).await;
        assert!(
            0 < partial && partial < TOTAL,
            "the kill did not land mid-tick: {partial} of {TOTAL} emails"
        );
        ok(&ts.url, &["check"]);
        ok(&ts.url, &["tick"]);
        ok(&ts.url, &["check"]);
        let v = version_json(&ts.url, "crash");
        assert_eq!(
            v["messages"]["pending"], TOTAL,
            "exactly one email each: {v}"
        );
    }
);

both_backends!(
    kill_9_while_a_stop_waits_in_the_database_changes_nothing,
    |ts| {
        let dir = tempfile::tempdir().unwrap();
        published_with(&ts.url, dir.path(), "held", 50);
        // The stop queues behind a lock the test holds, inside the
        // database (PostgreSQL: in its transaction, on the version row).
        let blocker = common::Blocker::hold(&ts.store, "held", 1).await;
        let mut stop = vec![Proc::spawn(
            cmd(&ts.url, &["stop", "held", "--yes"])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )];
        blocker.wait_for(&ts.store, 1, &mut stop).await;
        stop.pop().unwrap().kill();
        blocker.release().await;
        // Nothing half-done: still live, no audit row, counters exact, and a
        // stop after it goes through (the row is neither changed nor held).
        ok(&ts.url, &["check"]);
        assert_eq!(version_json(&ts.url, "held")["status"], "live");
        let stops = |url: &str| {
            json(url, &["audit", "--journey", "held", "--json"])
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["action"] == "stop")
                .count()
        };
        assert_eq!(stops(&ts.url), 0, "the audit row goes with the change");
        ok(&ts.url, &["stop", "held", "--yes"]);
        assert_eq!(stops(&ts.url), 1);
        assert_eq!(version_json(&ts.url, "held")["counts"]["stopped"], 50);
    }
);

both_backends!(
    the_counter_oracle_reports_exactly_what_was_corrupted,
    |ts| {
        let dir = tempfile::tempdir().unwrap();
        published_with(&ts.url, dir.path(), "oracle", 40);
        ok(&ts.url, &["tick"]);
        let exec = async |sql: &'static str| {
            sqlx::query(sql).execute(ts.store.pool()).await.unwrap();
        };
        let check = || {
            let o = run(&ts.url, &["check"]);
            (
                o.status.code(),
                String::from_utf8_lossy(&o.stdout).into_owned(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        };
        assert_eq!(
            ts.store.verify_counters().await.unwrap(),
            Vec::<String>::new()
        );
        // A counter that drifted from its rows.
        exec("UPDATE versions SET active = active + 1").await;
        let diffs = ts.store.verify_counters().await.unwrap();
        assert_eq!(
            diffs,
            vec!["oracle v1: active: counter 41, rows 40".to_string()]
        );
        let (code, out, err) = check();
        assert_eq!(code, Some(1));
        assert_eq!(out.trim_end(), "oracle v1: active: counter 41, rows 40");
        assert!(
            err.contains("1 figure(s) differ from a recount of the rows"),
            "{err}"
        );
        exec("UPDATE versions SET active = active - 1").await;
        // A row changed behind the counters' back.
        exec(
            "UPDATE participants SET state = 'completed' \
             WHERE id = (SELECT MIN(id) FROM participants)",
        )
        .await;
        let diffs = ts.store.verify_counters().await.unwrap();
        assert_eq!(
            diffs,
            vec![
                "oracle v1: active: counter 40, rows 39".to_string(),
                "oracle v1: completed: counter 0, rows 1".to_string(),
            ]
        );
        let (code, out, _) = check();
        assert_eq!(code, Some(1));
        assert_eq!(out.lines().count(), 2, "{out}");
        // A message row, likewise.
        exec(
            "UPDATE participants SET state = 'active' \
             WHERE id = (SELECT MIN(id) FROM participants)",
        )
        .await;
        exec("UPDATE outbox SET state = 'sent' WHERE id = (SELECT MIN(id) FROM outbox)").await;
        let diffs = ts.store.verify_counters().await.unwrap();
        assert_eq!(
            diffs,
            vec![
                "oracle v1: messages pending: counter 40, rows 39".to_string(),
                "oracle v1: messages sent: counter 0, rows 1".to_string(),
                "oracle v1 email: pending: counter 40, rows 39".to_string(),
                "oracle v1 email: sent: counter 0, rows 1".to_string(),
            ]
        );
        exec("UPDATE outbox SET state = 'pending' WHERE id = (SELECT MIN(id) FROM outbox)").await;
        assert_eq!(check().0, Some(0));
    }
);

both_backends!(
    a_stop_that_gives_up_at_its_lock_timeout_changes_nothing,
    |ts| {
        let dir = tempfile::tempdir().unwrap();
        published_with(&ts.url, dir.path(), "waits", 40);
        // The stop waits behind a lock the test holds (on a cluster, on the
        // version row after the buckets' fences), then gives up.
        let blocker = common::Blocker::hold(&ts.store, "waits", 1).await;
        let started = Instant::now();
        let mut stop = vec![Proc::spawn(
            cmd(&ts.url, &["stop", "waits", "--yes", "--lock-timeout", "2s"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        )];
        blocker.wait_for(&ts.store, 1, &mut stop).await;
        let out = stop.pop().unwrap().finish(Duration::from_secs(60));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("gave up after --lock-timeout 2s: the action did not run"),
            "{err}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
        blocker.release().await;
        // Nothing half-done: still live with its people, no stop in the
        // audit trail, and a stop after it goes through whole.
        let v = version_json(&ts.url, "waits");
        assert_eq!(v["status"], "live", "{v}");
        assert_eq!(v["counts"]["active"], 40, "{v}");
        ok(&ts.url, &["check"]);
        ok(&ts.url, &["stop", "waits", "--yes"]);
        let v = version_json(&ts.url, "waits");
        assert_eq!(v["counts"]["stopped"], 40, "{v}");
    }
);

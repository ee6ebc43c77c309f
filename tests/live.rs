//! Live changes (the console and `watch`): a stop made by another process
//! shows in a console in tmux without waiting for its refresh; a console
//! whose listen connection is cut says it polls, and comes back; `watch
//! --json` prints a line for each stop, pause, resume and finish.

mod common;

use std::io::BufRead;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::roles::{ok, write_def};
use common::tmux::Tmux;
use common::*;

/// The console on `url` in tmux, refreshing only every 5 s.
fn console(name: &str, url: &str, dir: &Path) -> Tmux {
    console_with(name, url, dir, "")
}

/// The same, with `env` (`NAME=value ...`) in its environment.
fn console_with(name: &str, url: &str, dir: &Path, env: &str) -> Tmux {
    let command = format!(
        "cd {} && {env} DATABASE_URL='{url}' XDG_STATE_HOME={}/state exec {} --actor erin --refresh 5s",
        dir.display(),
        dir.display(),
        bin()
    );
    Tmux::start(name, &command, 120, 35)
}

/// What the README promises (300 ms), with room for a busy machine and
/// tmux: the console shows a change made elsewhere within a second, well
/// before its 5 s refresh.
const SHOWN_WITHIN: Duration = Duration::from_millis(1_000);

/// A stop by another process, shown by a console on `url` in tmux
/// started with `env`; how long it took to show.
fn stop_shows(name: &str, url: &str, dir: &Path, env: &str) -> Duration {
    ok(url, &["apply", &write_def(dir, "cart"), "--publish"]);
    let t = console_with(name, url, dir, env);
    t.wait_for("● live");
    t.wait_for("cart");
    // Well after its first fetch: a poll would come only 5 s after it.
    std::thread::sleep(Duration::from_millis(1_000));
    ok(url, &["stop", "cart", "--yes"]);
    let committed = Instant::now();
    // A stopped version leaves the live list.
    t.wait_for_every("no live or draining version", Duration::from_millis(20));
    let shown = committed.elapsed();
    t.keys(&["q"]);
    t.wait_dead();
    shown
}

both_backends!(
    a_stop_elsewhere_shows_without_waiting_for_the_refresh,
    |ts| {
        let dir = tempfile::tempdir().unwrap();
        let shown = stop_shows(&format!("live-{}", ts.backend), &ts.url, dir.path(), "");
        assert!(
            shown < SHOWN_WITHIN,
            "the stop showed after {shown:?}: the console waited for its refresh"
        );
    }
);

// Where the kernel's file events cannot be had (some network file
// systems), a SQLite console looks at the file's size and time instead.
#[test]
fn a_sqlite_console_without_file_events_sees_a_stop_by_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("stat.db").display());
    let shown = stop_shows(
        "live-stat",
        &url,
        dir.path(),
        "JOURNEYCTL_FAULT_NO_FILE_EVENTS=1 JOURNEYCTL_LOG=debug",
    );
    assert!(
        shown < SHOWN_WITHIN,
        "the stop showed after {shown:?}: the console waited for its refresh"
    );
    let log = std::fs::read_to_string(dir.path().join("state/journeyctl/journeyctl.log"))
        .unwrap_or_default();
    assert!(
        log.contains("no file events, looking every 100 ms"),
        "the console did not fall back to stat: {log}"
    );
}

both_backends!(a_watcher_sees_each_change_after_quiet_spells, |ts| {
    // Changes made by other processes, with quiet spells between them
    // longer than a watcher's looks after a write: each is seen, and the
    // watch never breaks (a broken one would make the console poll).
    let dir = tempfile::tempdir().unwrap();
    let names = ["w-a", "w-b", "w-c"];
    for name in names {
        ok(
            &ts.url,
            &["apply", &write_def(dir.path(), name), "--publish"],
        );
    }
    // The watcher runs all along, as in a console: its looks after a write
    // end in quiet.
    let mut watcher = ts.store.watch_changes().await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watching = tokio::spawn(async move {
        loop {
            let change = watcher.next().await.map_err(|e| e.to_string());
            let broke = change.is_err();
            if tx.send(change).is_err() || broke {
                return;
            }
        }
    });
    for name in names {
        tokio::time::sleep(Duration::from_millis(700)).await;
        while let Ok(change) = rx.try_recv() {
            change.unwrap_or_else(|e| panic!("the watch broke before the stop of {name}: {e}"));
        }
        ok(&ts.url, &["stop", name, "--yes"]);
        let seen = Instant::now();
        loop {
            let change = tokio::time::timeout(Duration::from_secs(2), rx.recv())
                .await
                .unwrap_or_else(|_| panic!("the stop of {name} was not seen within 2 s"))
                .unwrap()
                .unwrap_or_else(|e| panic!("the watch broke after the stop of {name}: {e}"));
            if change == journeyctl::store::Change::Status {
                break;
            }
        }
        assert!(
            seen.elapsed() < Duration::from_secs(1),
            "{:?}",
            seen.elapsed()
        );
    }
    watching.abort();
});

/// The listen connection of the console on the store's schema, cut.
async fn cut_listener(url: &str) -> i64 {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let schema: String = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(&pool)
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE query LIKE $1",
    )
    .bind(format!("LISTEN %journeyctl_{schema}%"))
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_postgres,
    ignore = "PostgreSQL skipped: set JOURNEYCTL_TEST_POSTGRES_URL"
)]
async fn a_console_whose_listen_connection_is_cut_polls_and_comes_back() {
    let Some(ts) = common::postgres("live_cut").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    ok(
        &ts.url,
        &["apply", &write_def(dir.path(), "cart"), "--publish"],
    );
    let t = console("live-cut", &ts.url, dir.path());
    t.wait_for("● live");
    assert_eq!(cut_listener(&ts.url).await, 1, "one console listens");
    t.wait_for("⟳ polling every 5s");
    // It listens again by itself, and changes show at once again.
    t.wait_for("● live");
    std::thread::sleep(Duration::from_millis(1_000));
    ok(&ts.url, &["pause", "cart", "--yes"]);
    let committed = Instant::now();
    t.wait_for_every("⏸ paused", Duration::from_millis(20));
    assert!(
        committed.elapsed() < SHOWN_WITHIN,
        "{:?}",
        committed.elapsed()
    );
    t.keys(&["q"]);
    t.wait_dead();
    ts.close().await;
}

both_backends!(watch_prints_a_line_for_each_change, |ts| {
    let dir = tempfile::tempdir().unwrap();
    ok(
        &ts.url,
        &["apply", &write_def(dir.path(), "cart"), "--publish"],
    );
    let (watch, rx) = watching(&ts.url);
    for args in [
        vec!["pause", "cart", "--yes"],
        vec!["resume", "cart", "--yes"],
        vec!["finish", "cart", "--yes"],
        vec!["stop", "cart", "--version", "1", "--yes"],
    ] {
        ok(&ts.url, &args);
    }
    let mut seen = Vec::new();
    while seen.len() < 4 {
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("watch printed only {seen:?}"));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            (v["kind"].as_str(), v["journey"].as_str()),
            (Some("audit"), Some("cart"))
        );
        seen.push(format!("{} {}->{}", v["action"], v["from"], v["to"]).replace('"', ""));
    }
    assert_eq!(
        seen,
        [
            "pause live->paused",
            "resume paused->live",
            "finish live->finished",
            "stop finished->stopped"
        ]
    );
    watch.signal("-INT");
    let status = watch.finish(Duration::from_secs(10)).status;
    assert!(status.success(), "Ctrl-C ends watch with {status}");
});

/// Waits until the console's screen shows `want`; how long that took from
/// `since`.
fn shown_after(t: &Tmux, want: &str, since: Instant) -> Duration {
    t.wait_for_every(want, Duration::from_millis(20));
    since.elapsed()
}

// A live console asks the store nothing while nothing changes; it still
// says the store is gone within 3 s, whether the link goes quiet (a cut
// network, a frozen host: nothing closes) or the server closes every
// connection, and comes back by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_postgres,
    ignore = "PostgreSQL skipped: set JOURNEYCTL_TEST_POSTGRES_URL"
)]
async fn a_live_console_sees_its_database_vanish_within_3_s() {
    use common::proxy::{Mode, Proxy};
    let Some(ts) = common::postgres("vanish").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    ok(
        &ts.url,
        &["apply", &write_def(dir.path(), "cart"), "--publish"],
    );
    let upstream = "127.0.0.1:5432";
    assert!(
        ts.url.contains(upstream),
        "the test server is at {upstream}: {}",
        ts.url
    );
    let proxy = Proxy::start(upstream).await;
    let url = proxy.url_for(&ts.url, upstream);
    let t = console("vanish", &url, dir.path());
    t.wait_for("● live");
    t.wait_for("cart");
    for mode in [Mode::Quiet, Mode::Cut] {
        // Idle: the last fetch is well behind, the next safety fetch far.
        std::thread::sleep(Duration::from_millis(1_500));
        assert!(!t.screen().contains("STALE"), "{}", t.screen());
        proxy.set(mode);
        let took = shown_after(&t, "STALE", Instant::now());
        assert!(
            took < Duration::from_secs(3),
            "{mode:?}: STALE after {took:?}"
        );
        proxy.set(Mode::Forward);
        t.wait_for("● live");
        let start = Instant::now();
        while t.screen().contains("STALE") {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{mode:?}: the console never came back:\n{}",
                t.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    t.keys(&["q"]);
    t.wait_dead();
    ts.close().await;
}

/// Nothing about notifications can fail a stop: a journeyctl session's
/// transactions send none (PostgreSQL checks its server-wide queue at
/// commit, so any login filling it would fail them); the change is
/// announced once committed, and a `psql` session's change still is
/// announced by the trigger.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_postgres,
    ignore = "PostgreSQL skipped: set JOURNEYCTL_TEST_POSTGRES_URL"
)]
async fn no_journeyctl_transaction_sends_a_notification() {
    let Some(ts) = common::postgres("live_queue").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for name in ["q-a", "q-b"] {
        ok(
            &ts.url,
            &["apply", &write_def(dir.path(), name), "--publish"],
        );
    }
    let pool = sqlx::PgPool::connect(&ts.url).await.unwrap();
    let channel: String = sqlx::query_scalar("SELECT left('journeyctl_' || current_schema(), 63)")
        .fetch_one(&pool)
        .await
        .unwrap();
    let mut listener = sqlx::postgres::PgListener::connect(&ts.url).await.unwrap();
    listener.listen(&channel).await.unwrap();
    // A stop's kind of transaction, in a session set as journeyctl sets
    // its own: a status change and an audit row, and nothing queued.
    let mut conn = pool.acquire().await.unwrap();
    sqlx::raw_sql(
        "SET journeyctl.notify TO 'after_commit'; BEGIN; \
         UPDATE versions SET paused_at = paused_at WHERE id = (SELECT MIN(id) FROM versions); \
         INSERT INTO audit (at, actor, host, action, journey, version, from_status, to_status) \
           VALUES (0, 't', 'h', 'apply', 'q-a', 1, NULL, 'draft'); COMMIT",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    assert_eq!(
        heard(&mut listener).await,
        None,
        "a journeyctl transaction notified"
    );
    // The same from a session that is not journeyctl's (psql): announced.
    sqlx::raw_sql(
        "RESET journeyctl.notify; \
         UPDATE versions SET paused_at = paused_at WHERE id = (SELECT MIN(id) FROM versions)",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    assert_eq!(heard(&mut listener).await.as_deref(), Some("status"));
    drop(conn);
    // A stop through the product commits, then announces itself once:
    // its own transaction (its session set as journeyctl sets every
    // session) sent nothing.
    ok(&ts.url, &["stop", "q-b", "--yes"]);
    assert_eq!(heard(&mut listener).await.as_deref(), Some("status"));
    assert_eq!(
        heard(&mut listener).await,
        None,
        "the stop was announced twice: its own transaction notified"
    );
    pool.close().await;
}

/// The payload of the next notification within 700 ms, if any.
async fn heard(listener: &mut sqlx::postgres::PgListener) -> Option<String> {
    tokio::time::timeout(Duration::from_millis(700), listener.recv())
        .await
        .ok()
        .map(|n| n.unwrap().payload().to_string())
}

/// Two writers committing in the opposite order of their audit rows' ids
/// (a stop's row committed while an earlier row's transaction was still
/// open): `watch` prints both, the late one when it commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_postgres,
    ignore = "PostgreSQL skipped: set JOURNEYCTL_TEST_POSTGRES_URL"
)]
async fn watch_prints_a_row_that_commits_after_a_later_one() {
    let Some(ts) = common::postgres("live_order").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    ok(
        &ts.url,
        &["apply", &write_def(dir.path(), "early"), "--publish"],
    );
    ok(
        &ts.url,
        &["apply", &write_def(dir.path(), "later"), "--publish"],
    );
    let (watch, rx) = watching(&ts.url);
    // The first writer takes an id and holds its transaction open.
    let pool = sqlx::PgPool::connect(&ts.url).await.unwrap();
    let mut open = pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO audit (at, actor, host, action, journey, version, from_status, to_status, reason) \
         VALUES (0, 'slow', 'h', 'apply', 'early', 1, NULL, 'draft', 'late commit')",
    )
    .execute(&mut *open)
    .await
    .unwrap();
    // The second commits first, with the higher id.
    ok(&ts.url, &["stop", "later", "--yes"]);
    let line = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the stop was not printed");
    assert!(line.contains("\"later\""), "{line}");
    open.commit().await.unwrap();
    let line = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the row that committed late was skipped");
    assert!(line.contains("late commit"), "{line}");
    watch.signal("-INT");
    watch.finish(Duration::from_secs(10));
    pool.close().await;
}

/// `watch --json` on `url`, its lines sent as they come. Its first look
/// at the store is done before it returns: it says so on standard error.
fn watching(url: &str) -> (Proc, std::sync::mpsc::Receiver<String>) {
    let mut watch = Proc::spawn(
        journeyctl(url)
            .args(["watch", "--json"])
            .command()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let child = watch.child();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    assert!(first.contains("watching for changes"), "{first}");
    (watch, rx)
}

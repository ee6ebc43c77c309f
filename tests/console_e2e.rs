//! The real binary in tmux against a real store: the stop pane with the
//! right name, a wrong name, Esc, and a hang-up with the name typed.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::bin;

use common::tmux::Tmux;

fn cli(url: &str, args: &[&str]) -> String {
    let out = common::journeyctl(url).user("setup").args(args).output();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn status_of(url: &str, journey: &str) -> String {
    let list: serde_json::Value = serde_json::from_str(&cli(url, &["list", "--json"])).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .find(|v| v["journey"] == journey)
        .map(|v| v["status"].as_str().unwrap().to_string())
        .unwrap()
}

fn seed(url: &str, dir: &Path) {
    for name in ["cart", "welcome"] {
        let def = format!(
            "name = \"{name}\"\ngoal = \"purchase\"\n[[steps]]\nkind = \"message\"\naction = \"email\"\n[[steps]]\nkind = \"wait\"\nduration = \"1d\"\n"
        );
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(&path, def).unwrap();
        cli(
            url,
            &["apply", path.to_str().unwrap(), "--publish", "--yes"],
        );
    }
    let events: String = (0..40)
        .map(|i| format!("{{\"type\":\"enter\",\"journey\":\"cart\",\"profile\":\"p-{i}\"}}\n"))
        .collect();
    let path = dir.join("events.ndjson");
    std::fs::write(&path, events).unwrap();
    cli(url, &["ingest", path.to_str().unwrap()]);
}

fn console_command(url: &str, dir: &Path) -> String {
    format!(
        "cd {} && DATABASE_URL='{url}' XDG_STATE_HOME={}/state exec {} --actor erin --refresh 1s",
        dir.display(),
        dir.display(),
        bin()
    )
}

/// The console on `url` in tmux, filtered to the journey "cart" so it is
/// selected whatever the sort order.
fn console_on_cart(name: &str, url: &str, dir: &Path, width: u16, height: u16) -> Tmux {
    let t = Tmux::start(name, &console_command(url, dir), width, height);
    t.wait_for("cart");
    t.keys(&["/"]);
    t.text("cart");
    t.keys(&["Enter"]);
    t
}

async fn stop_pane_flows(ts: &common::TestStore, tag: &str) {
    let dir = tempfile::tempdir().unwrap();
    seed(&ts.url, dir.path());
    let t = console_on_cart(&format!("stop-{tag}"), &ts.url, dir.path(), 120, 35);
    // Wrong name + Enter: refused in the pane, which says what it wants.
    t.keys(&["s"]);
    t.wait_for("Type cart to confirm");
    t.text("car");
    t.keys(&["Enter"]);
    t.wait_for("type cart exactly to confirm the stop");
    assert_eq!(status_of(&ts.url, "cart"), "live");
    t.keys(&["Escape"]);
    wait_gone(&t, "Type cart to confirm");
    // Name typed, then Esc: nothing changes.
    t.keys(&["s"]);
    t.wait_for("Type cart to confirm");
    t.text("cart");
    t.wait_for("▸cart");
    t.keys(&["Escape"]);
    wait_gone(&t, "Type cart to confirm");
    assert_eq!(status_of(&ts.url, "cart"), "live");
    // `s`, the name, Enter: stopped, audited with the operator.
    t.keys(&["s"]);
    t.wait_for("40 active stopped");
    t.text("cart");
    t.keys(&["Tab"]);
    t.text("e2e test");
    t.keys(&["Enter"]);
    t.wait_for("✓ stopped cart v1");
    assert_eq!(status_of(&ts.url, "cart"), "stopped");
    let audit: serde_json::Value =
        serde_json::from_str(&cli(&ts.url, &["audit", "--json"])).unwrap();
    let stop = &audit[0];
    assert_eq!(stop["action"], "stop");
    assert_eq!(stop["actor"], "erin");
    assert_eq!(stop["reason"], "e2e test");
    assert_eq!(stop["affected_active"], 40);
    assert_eq!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["action"] == "stop")
            .count(),
        1
    );
    t.keys(&["Enter", "q"]);
    t.wait_dead();
    assert_eq!(
        t.query("#{alternate_on}"),
        "0",
        "the terminal was not restored"
    );
}

/// Waits until the screen no longer shows `gone` (a pane closed).
fn wait_gone(t: &Tmux, gone: &str) {
    let start = Instant::now();
    while t.screen().contains(gone) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the screen still shows {gone:?}:\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A name made of keys that act elsewhere (n closes a y/n pane, h and l
/// move between buttons, y confirms a finish, q quits) with a dash and a
/// digit: `s`, the name typed as it is, Enter stops it.
async fn a_name_of_shortcut_letters_is_typed_intact(ts: &common::TestStore, tag: &str) {
    let dir = tempfile::tempdir().unwrap();
    let name = "only-hq-n7y";
    let def = format!(
        "name = \"{name}\"\n[[steps]]\nkind = \"message\"\naction = \"email\"\n[[steps]]\nkind = \"wait\"\nduration = \"1d\"\n"
    );
    let path = dir.path().join("def.toml");
    std::fs::write(&path, def).unwrap();
    cli(
        &ts.url,
        &["apply", path.to_str().unwrap(), "--publish", "--yes"],
    );
    let t = Tmux::start(
        &format!("keys-{tag}"),
        &console_command(&ts.url, dir.path()),
        120,
        35,
    );
    t.wait_for(name);
    t.keys(&["s"]);
    t.wait_for(&format!("Type {name} to confirm"));
    t.text(name);
    t.wait_for(&format!("▸{name}"));
    assert_eq!(status_of(&ts.url, name), "live");
    t.keys(&["Enter"]);
    t.wait_for(&format!("✓ stopped {name} v1"));
    assert_eq!(status_of(&ts.url, name), "stopped");
    t.keys(&["Enter", "q"]);
    t.wait_dead();
}

async fn hangup_with_the_name_typed(ts: &common::TestStore, tag: &str, signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    seed(&ts.url, dir.path());
    let t = console_on_cart(&format!("hup-{tag}"), &ts.url, dir.path(), 100, 30);
    t.keys(&["s"]);
    t.text("cart");
    t.wait_for("▸cart");
    let pid = t.query("#{pane_pid}");
    let st = Command::new("kill")
        .args([&format!("-{signal}"), &pid])
        .status()
        .unwrap();
    assert!(st.success());
    t.wait_dead();
    assert_eq!(
        t.query("#{alternate_on}"),
        "0",
        "the terminal was not restored after {signal}"
    );
    assert_eq!(
        status_of(&ts.url, "cart"),
        "live",
        "{signal} must never commit a half-confirmed stop"
    );
}

fn paused_of(url: &str, journey: &str) -> serde_json::Value {
    let list: serde_json::Value = serde_json::from_str(&cli(url, &["list", "--json"])).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .find(|v| v["journey"] == journey)
        .map(|v| v["paused"].clone())
        .unwrap()
}

async fn pause_and_resume(ts: &common::TestStore, tag: &str) {
    let dir = tempfile::tempdir().unwrap();
    seed(&ts.url, dir.path());
    let t = console_on_cart(&format!("pause-{tag}"), &ts.url, dir.path(), 120, 35);
    // p opens on Cancel: Enter there pauses nothing.
    t.keys(&["p"]);
    t.wait_for("Hold for (at most 30d)");
    t.keys(&["Enter"]);
    wait_gone(&t, "Hold for (at most 30d)");
    assert!(paused_of(&ts.url, "cart").is_null());
    // p, Tab to the hold, 6h, the rule resume, y: paused.
    t.keys(&["p"]);
    t.wait_for("40 active held");
    t.keys(&["Tab", "BSpace", "BSpace"]);
    t.text("6h");
    t.keys(&["Tab", "Right"]);
    t.wait_for("▸resume◂");
    t.keys(&["y"]);
    t.wait_for("✓ paused cart v1");
    let paused = paused_of(&ts.url, "cart");
    assert_eq!(paused["on_expiry"], "resume");
    assert_eq!(paused["by"], "erin");
    t.keys(&["Enter"]);
    t.wait_for("⏸ paused 0s, resume in 5h");
    // r, y: resumed.
    t.keys(&["r"]);
    t.wait_for("The hold ends");
    t.keys(&["y"]);
    t.wait_for("✓ resumed cart v1");
    t.keys(&["Enter"]);
    wait_gone(&t, "⏸ paused");
    assert!(paused_of(&ts.url, "cart").is_null());
    let audit: serde_json::Value =
        serde_json::from_str(&cli(&ts.url, &["audit", "--json"])).unwrap();
    assert_eq!(
        (&audit[0]["action"], &audit[1]["action"]),
        (&serde_json::json!("resume"), &serde_json::json!("pause"))
    );
    t.keys(&["q"]);
    t.wait_dead();
}

/// A stop confirmed in the real console while a delivery is in flight to a
/// receiver that never answers: the pane says it waits for it, and the
/// stop commits once the attempt's time-out has ended it.
async fn stop_waits_for_a_delivery_in_flight(ts: &common::TestStore, tag: &str) {
    use journeyctl::demo::receiver::{Answer, Receiver};
    let dir = tempfile::tempdir().unwrap();
    seed(&ts.url, dir.path());
    cli(&ts.url, &["tick"]);
    let rx = Receiver::start(Answer::Hang).await.unwrap();
    let file = common::channels_file(dir.path(), &rx.url("send"), "timeout = \"4s\"\n");
    let worker = common::journeyctl(&ts.url)
        .args([
            "deliver",
            "--channels",
            &file,
            "--workers",
            "1",
            "--batch",
            "1",
        ])
        .spawn();
    let start = Instant::now();
    while rx.count() == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no request arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let t = console_on_cart(&format!("stop-wait-{tag}"), &ts.url, dir.path(), 120, 35);
    t.keys(&["s"]);
    t.wait_for("Type cart to confirm");
    t.text("cart");
    t.keys(&["Enter"]);
    t.wait_for("waiting for 1 delivery(ies) in flight");
    assert_eq!(
        status_of(&ts.url, "cart"),
        "live",
        "it waits before it commits"
    );
    t.wait_for("✓ stopped cart v1");
    assert_eq!(status_of(&ts.url, "cart"), "stopped");
    assert_eq!(rx.count(), 1, "nothing more was sent");
    worker.kill();
    t.keys(&["Enter", "q"]);
    t.wait_dead();
}

both_backends!(
    console_stop_waits_for_a_delivery_in_flight_and_says_so,
    |ts| {
        stop_waits_for_a_delivery_in_flight(ts, ts.backend).await;
    }
);

both_backends!(console_pause_shows_the_hold_and_resume_ends_it, |ts| {
    pause_and_resume(ts, ts.backend).await;
});

both_backends!(console_stop_pane_right_name_wrong_name_and_esc, |ts| {
    stop_pane_flows(ts, ts.backend).await;
});

both_backends!(console_a_name_of_shortcut_letters_is_typed_intact, |ts| {
    a_name_of_shortcut_letters_is_typed_intact(ts, ts.backend).await;
});

async fn remapped_stop(ts: &common::TestStore, tag: &str) {
    // `[keys] stop = "z"`: z opens the stop pane, s no longer does, and
    // the help and the footer show z.
    let dir = tempfile::tempdir().unwrap();
    seed(&ts.url, dir.path());
    let config = dir.path().join("config").join("journeyctl");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("config.toml"), "[keys]\nstop = \"z\"\n").unwrap();
    let command = format!(
        "export XDG_CONFIG_HOME={}/config; {}",
        dir.path().display(),
        console_command(&ts.url, dir.path())
    );
    let t = Tmux::start(&format!("keys-{tag}"), &command, 120, 35);
    t.wait_for("cart");
    t.keys(&["/"]);
    t.text("cart");
    t.keys(&["Enter"]);
    t.wait_for("z stop");
    t.keys(&["?"]);
    let help = t.wait_for("Keys");
    assert!(
        help.lines()
            .any(|l| l.contains(" z ") && l.contains("stop the selected version")),
        "{help}"
    );
    t.keys(&["Escape"]);
    wait_gone(&t, "stop the selected version");
    t.keys(&["s"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        !t.screen().contains("Type cart to confirm"),
        "s is free now"
    );
    t.keys(&["z"]);
    t.wait_for("Type cart to confirm");
    t.text("cart");
    t.keys(&["Enter"]);
    t.wait_for("✓ stopped cart v1");
    assert_eq!(status_of(&ts.url, "cart"), "stopped");
    t.keys(&["Enter", "q"]);
    t.wait_dead();
}

both_backends!(console_a_remapped_stop_key_works_and_help_shows_it, |ts| {
    remapped_stop(ts, ts.backend).await;
});

both_backends!(
    console_hangup_and_term_with_the_name_typed_commit_nothing,
    |ts| {
        hangup_with_the_name_typed(ts, &format!("{}-hup", ts.backend), "HUP").await;
        hangup_with_the_name_typed(ts, &format!("{}-term", ts.backend), "TERM").await;
    }
);

#[test]
fn a_panic_restores_the_terminal_and_says_where_the_log_is() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/p.db", dir.path().display());
    cli(&url, &["migrate"]);
    let command = format!(
        "cd {d} && DATABASE_URL='{url}' XDG_STATE_HOME={d}/state JOURNEYCTL_FAULT_PANIC_KEY=P exec {b}",
        d = dir.path().display(),
        b = bin()
    );
    let t = Tmux::start("panic", &command, 100, 30);
    t.wait_for("journeyctl");
    t.keys(&["P"]);
    t.wait_dead();
    assert_eq!(
        t.query("#{alternate_on}"),
        "0",
        "the terminal was not restored after a panic"
    );
    let screen = t.history();
    assert!(
        screen.contains("journeyctl stopped on an internal error"),
        "{screen}"
    );
    assert!(screen.contains("fault injected"), "{screen}");
    assert!(
        screen.contains(&format!(
            "The log is at {}/state/journeyctl/journeyctl.log",
            dir.path().display()
        )),
        "{screen}"
    );
}

#[test]
fn a_terminal_that_goes_away_ends_the_console_quietly() {
    // With the pty gone, even the last "show the cursor" fails: the
    // console must end without a panic (the log would say so).
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/h.db", dir.path().display());
    cli(&url, &["migrate"]);
    let t = Tmux::start("gone", &console_command(&url, dir.path()), 100, 30);
    t.wait_for("journeyctl");
    let pid = t.query("#{pane_pid}");
    t.hang_up();
    let start = std::time::Instant::now();
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        assert!(start.elapsed().as_secs() < 10, "the console did not end");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let log = std::fs::read_to_string(dir.path().join("state/journeyctl/journeyctl.log")).unwrap();
    assert!(log.contains("console closed by SIGHUP"), "{log}");
    assert!(!log.contains("panic"), "{log}");
}

/// Until the header says the data is fresh: `● live`, or `updated ...`
/// while it polls (never `⚠ STALE`).
fn wait_fresh(t: &Tmux) {
    let start = std::time::Instant::now();
    loop {
        let screen = t.screen();
        let header = screen.lines().next().unwrap_or("").to_string();
        if !header.contains("STALE") && (header.contains("● live") || header.contains("updated "))
        {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the data never came back fresh:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn pg_admin() -> Option<String> {
    match std::env::var(common::PG_ENV) {
        Ok(u) => Some(u),
        Err(_) => {
            loud!(
                "!!! PostgreSQL SKIPPED for the outage test: set {}",
                common::PG_ENV
            );
            None
        }
    }
}

fn psql(url: &str, sql: &str) {
    let out = Command::new("psql")
        .arg(url)
        .arg("-qAtc")
        .arg(sql)
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A PostgreSQL database of a test's own, so it can be made unreachable
/// without disturbing tests running alongside; dropped afterwards.
struct OwnDatabase {
    admin: String,
    name: String,
    url: String,
}

impl OwnDatabase {
    fn create(prefix: &str) -> Option<OwnDatabase> {
        let admin = pg_admin()?;
        let name = format!("{prefix}_{}", std::process::id());
        psql(&admin, &format!("DROP DATABASE IF EXISTS {name}"));
        psql(&admin, &format!("CREATE DATABASE {name}"));
        let (base, query) = admin
            .split_once('?')
            .map_or((admin.as_str(), ""), |(b, q)| (b, q));
        let root = &base[..base.rfind('/').unwrap()];
        let url = if query.is_empty() {
            format!("{root}/{name}")
        } else {
            format!("{root}/{name}?{query}")
        };
        Some(OwnDatabase { admin, name, url })
    }
}

impl OwnDatabase {
    /// A database of the test's own with the console tests' journeys in
    /// it, its URL, and the folder the definitions were written to.
    fn seeded(prefix: &str) -> Option<(OwnDatabase, String, tempfile::TempDir)> {
        let own = OwnDatabase::create(prefix)?;
        let url = own.url.clone();
        let dir = tempfile::tempdir().unwrap();
        seed(&url, dir.path());
        Some((own, url, dir))
    }

    /// Lets new connections in, or refuses them.
    fn allow_connections(&self, allow: bool) {
        psql(
            &self.admin,
            &format!("ALTER DATABASE {} ALLOW_CONNECTIONS {allow}", self.name),
        );
    }

    /// Ends every session connected to it now.
    fn kick_sessions(&self) {
        psql(
            &self.admin,
            &format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}'",
                self.name
            ),
        );
    }
}

impl Drop for OwnDatabase {
    fn drop(&mut self) {
        self.allow_connections(true);
        self.kick_sessions();
        psql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {}", self.name),
        );
    }
}

/// PostgreSQL goes away under an open console (connections killed, new
/// ones refused) and comes back: the console stays up, shows stale data,
/// refuses the stop, reconnects, and the refused stop never runs.
#[test]
fn console_survives_a_postgres_outage_and_a_refused_stop_never_runs_later() {
    let Some((own, url, dir)) = OwnDatabase::seeded("jctl_outage") else {
        return;
    };
    let t = console_on_cart("outage", &url, dir.path(), 120, 35);
    wait_fresh(&t);
    own.allow_connections(false);
    own.kick_sessions();
    // Two refresh intervals at --refresh 1s, and not a second more.
    let gone = Instant::now();
    t.wait_for("STALE");
    let took = gone.elapsed();
    assert!(
        took <= Duration::from_secs(3),
        "stale only after {took:?} at --refresh 1s"
    );
    t.wait_for("the server refused the session");
    t.keys(&["s"]);
    t.text("cart");
    t.keys(&["Enter"]);
    t.wait_for("refused: the store is unreachable");
    t.keys(&["Escape"]);
    wait_gone(&t, "refused: the store is unreachable");
    own.allow_connections(true);
    let start = Instant::now();
    while t.screen().contains("STALE") {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the console never reconnected:\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    wait_fresh(&t);
    // Two refreshes on the store that is back: a refused stop that was
    // kept somewhere would have run by now.
    std::thread::sleep(Duration::from_secs(2));
    assert!(!t.screen().contains("STALE"), "{}", t.screen());
    assert_eq!(
        status_of(&url, "cart"),
        "live",
        "a refused stop must never run later"
    );
    t.keys(&["q"]);
    t.wait_dead();
    drop(t);
    drop(own);
}

/// Another process holds SQLite's write lock: the console keeps showing
/// data, and a confirmed stop waits its turn (saying so) instead of failing,
/// then commits once the lock is released.
#[test]
fn console_with_sqlite_locked_by_another_writer_waits_and_then_stops() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shared.db");
    let url = format!("sqlite://{}", db.display());
    seed(&url, dir.path());
    let t = console_on_cart("sqlite-lock", &url, dir.path(), 120, 35);
    // Longer than SQLite's own 5 s busy time-out: the stop must not give up.
    let mut holder = common::Proc::spawn(
        Command::new("python3")
            .arg("-c")
            .arg(format!(
                "import sqlite3,time,sys\nc=sqlite3.connect('{}',isolation_level=None)\nc.execute('BEGIN IMMEDIATE')\nprint('locked',flush=True)\ntime.sleep(7)\nc.execute('ROLLBACK')",
                db.display()
            ))
            .stdout(std::process::Stdio::piped()),
    );
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.child().stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "locked");
    t.keys(&["s"]);
    t.text("cart");
    t.keys(&["Enter"]);
    t.wait_for("waiting for the store");
    assert!(
        !t.screen().contains("STALE"),
        "reads go on while another process writes"
    );
    assert_eq!(
        status_of(&url, "cart"),
        "live",
        "not before the lock is gone"
    );
    holder.finish(Duration::from_secs(20));
    t.wait_for("✓ stopped cart v1");
    assert_eq!(status_of(&url, "cart"), "stopped");
    t.keys(&["Enter", "q"]);
    t.wait_dead();
}

/// A SQLite store replaced under an open console (a demo run again, a
/// restore) is noticed: the console reopens the new file, shows its
/// journeys and acts on it; a file that is gone is said so.
#[test]
fn a_store_file_replaced_under_the_console_is_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let url = format!("sqlite://{}", db.display());
    seed(&url, dir.path());
    let t = Tmux::start(
        "sqlite-replaced",
        &console_command(&url, dir.path()),
        120,
        35,
    );
    t.wait_for("welcome");
    // Another store, made beside it, takes its place.
    let other = dir.path().join("other.db");
    let other_url = format!("sqlite://{}", other.display());
    let def = dir.path().join("replacement.toml");
    std::fs::write(
        &def,
        "name = \"replacement\"\n[[steps]]\nkind = \"message\"\naction = \"email\"\n",
    )
    .unwrap();
    cli(
        &other_url,
        &["apply", def.to_str().unwrap(), "--publish", "--yes"],
    );
    // As the demo does: the old file and its log go, the new one comes
    // (with its log, the file last).
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    for suffix in ["-wal", "-shm", ""] {
        let _ = std::fs::rename(
            format!("{}{suffix}", other.display()),
            format!("{}{suffix}", db.display()),
        );
    }
    t.wait_for("replacement");
    wait_gone(&t, "welcome");
    assert!(t.screen().contains("● live"), "{}", t.screen());
    // An action goes to the new file.
    t.keys(&["s"]);
    t.text("replacement");
    t.keys(&["Enter"]);
    t.wait_for("✓ stopped replacement v1");
    assert_eq!(status_of(&url, "replacement"), "stopped");
    t.keys(&["Enter"]);
    // The file gone: said at once, not the old figures under `● live`.
    std::fs::remove_file(&db).unwrap();
    t.wait_for("⚠ STALE");
    assert!(t.screen().contains("no store at"), "{}", t.screen());
    t.keys(&["q"]);
    t.wait_dead();
}

/// A terminal resize redraws for the new size; nothing is lost.
#[test]
fn a_resize_redraws_for_the_new_size() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/r.db", dir.path().display());
    seed(&url, dir.path());
    let t = Tmux::start("resize", &console_command(&url, dir.path()), 120, 35);
    t.wait_for("COMPLETED");
    let st = Command::new("tmux")
        .args([
            "-L",
            t.socket(),
            "resize-window",
            "-t",
            "main",
            "-x",
            "70",
            "-y",
            "20",
        ])
        .status()
        .unwrap();
    assert!(st.success());
    let start = Instant::now();
    loop {
        let s = t.screen();
        let widest = s.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        if widest <= 70 && !s.contains("COMPLETED") && s.contains("cart") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no redraw for 70x20:\n{s}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let st = Command::new("tmux")
        .args([
            "-L",
            t.socket(),
            "resize-window",
            "-t",
            "main",
            "-x",
            "120",
            "-y",
            "35",
        ])
        .status()
        .unwrap();
    assert!(st.success());
    t.wait_for("COMPLETED");
    assert_eq!(t.query("#{pane_dead}"), "0");
    t.keys(&["q"]);
    t.wait_dead();
}

/// Opened while PostgreSQL refuses connections, the console says so and
/// shows the data once the database answers.
#[test]
fn console_opens_while_postgres_is_away_and_waits_for_it() {
    let Some((own, url, dir)) = OwnDatabase::seeded("jctl_away") else {
        return;
    };
    own.allow_connections(false);
    let t = Tmux::start("away", &console_command(&url, dir.path()), 120, 35);
    t.wait_for("STALE");
    assert_eq!(t.query("#{pane_dead}"), "0", "the console must not quit");
    own.allow_connections(true);
    t.wait_for("cart");
    wait_fresh(&t);
    t.keys(&["q"]);
    t.wait_dead();
    drop(t);
    drop(own);
}

/// A port where nothing listens: bound, then let go.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A closed port is a refusal, said at once by the console and by every
/// command, never a time-out after waiting.
#[test]
fn a_refused_connection_is_said_at_once() {
    let url = format!("postgres://postgres@127.0.0.1:{}/test", closed_port());
    for args in [&["list"][..], &["stop", "cart", "--yes"], &["tick"]] {
        let start = Instant::now();
        let out = common::journeyctl(&url).args(args).output();
        let took = start.elapsed();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("connection refused by 127.0.0.1:"),
            "{args:?}: {err}"
        );
        assert!(took < Duration::from_secs(1), "{args:?} took {took:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let t = Tmux::start("refused", &console_command(&url, dir.path()), 120, 35);
    t.wait_for("connection refused");
    let took = start.elapsed();
    // From before tmux starts to the words on its screen: tmux and the
    // console's own start are in it (1.002 s once on a busy CI machine).
    // What it tells apart is a refusal said at once from one said after
    // the 5 s connect time-out.
    assert!(
        took < Duration::from_secs(2),
        "the console said it after {took:?}"
    );
    assert!(t.screen().contains("STALE"), "{}", t.screen());
    t.keys(&["q"]);
    t.wait_dead();
}

/// On PostgreSQL a stop that waits says who holds what it waits for, and
/// Esc gives up: the waiting statement is cancelled, nothing changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    journeyctl_no_postgres,
    ignore = "PostgreSQL skipped: set JOURNEYCTL_TEST_POSTGRES_URL"
)]
async fn console_stop_says_who_holds_the_row_and_esc_gives_up() {
    let Some(ts) = common::postgres("esc_gives_up").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    seed(&ts.url, dir.path());
    let opts: sqlx::postgres::PgConnectOptions = ts.url.parse().unwrap();
    let holder = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(opts.application_name("psql-holder"))
        .await
        .unwrap();
    let mut held = holder.begin().await.unwrap();
    sqlx::query(
        "SELECT v.id FROM versions v JOIN journeys j ON j.id = v.journey_id WHERE j.name = 'cart' FOR UPDATE",
    )
    .execute(&mut *held)
    .await
    .unwrap();
    let t = console_on_cart("esc-gives-up", &ts.url, dir.path(), 160, 35);
    t.keys(&["s"]);
    t.text("cart");
    t.keys(&["Enter"]);
    t.wait_for("held by postgres (psql-holder, pid ");
    assert_eq!(status_of(&ts.url, "cart"), "live");
    t.keys(&["Escape"]);
    t.wait_for("gave up waiting: the action did not run");
    assert_eq!(status_of(&ts.url, "cart"), "live");
    held.rollback().await.unwrap();
    t.keys(&["Enter"]);
    wait_gone(&t, "gave up waiting");
    // With the row free, the same stop goes through.
    t.keys(&["s"]);
    t.text("cart");
    t.keys(&["Enter"]);
    t.wait_for("✓ stopped cart v1");
    assert_eq!(status_of(&ts.url, "cart"), "stopped");
    t.keys(&["Enter", "q"]);
    t.wait_dead();
    holder.close().await;
    ts.close().await;
}

/// `P` in cart's detail: the pane says what the publish finishes, the
/// name typed, Enter: v2 live, v1 finished with its 40 carrying on.
async fn publish_from_the_detail(ts: &common::TestStore, tag: &str) {
    let dir = tempfile::tempdir().unwrap();
    seed(&ts.url, dir.path());
    let path = dir.path().join("cart-v2.toml");
    std::fs::write(
        &path,
        "name = \"cart\"\ngoal = \"purchase\"\n[[steps]]\nkind = \"message\"\naction = \"sms\"\n",
    )
    .unwrap();
    cli(&ts.url, &["apply", path.to_str().unwrap()]);
    let t = console_on_cart(&format!("publish-{tag}"), &ts.url, dir.path(), 120, 35);
    t.keys(&["Enter"]);
    t.wait_for("cart · goal purchase");
    t.keys(&["P"]);
    t.wait_for("finishes v1: 40 active go on to the end; new entries go to v2");
    t.wait_for("step 1: message email -> message sms");
    t.text("cart");
    t.keys(&["Tab"]);
    t.text("new copy");
    t.keys(&["Enter"]);
    t.wait_for("✓ published cart v2");
    let list: serde_json::Value =
        serde_json::from_str(&cli(&ts.url, &["list", "--all", "--json"])).unwrap();
    let status = |n: i64| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|v| v["journey"] == "cart" && v["version"] == n)
            .map(|v| v["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(status(1), "finished");
    assert_eq!(status(2), "live");
    let audit: serde_json::Value =
        serde_json::from_str(&cli(&ts.url, &["audit", "--json"])).unwrap();
    let publish = &audit[0];
    assert_eq!(publish["action"], "publish");
    assert_eq!(publish["actor"], "erin");
    assert_eq!(publish["reason"], "new copy");
    t.keys(&["Enter", "q"]);
    t.wait_dead();
}

both_backends!(console_publishes_the_newest_draft_from_the_detail, |ts| {
    publish_from_the_detail(ts, ts.backend).await;
});

/// Space on two versions, `p`, `y`: both paused in one action, their
/// audit rows sharing one incident id.
async fn pause_the_marked(ts: &common::TestStore, tag: &str) {
    let dir = tempfile::tempdir().unwrap();
    seed(&ts.url, dir.path());
    let t = Tmux::start(
        &format!("marks-{tag}"),
        &console_command(&ts.url, dir.path()),
        120,
        35,
    );
    t.wait_for("welcome");
    t.keys(&["Space", "Space"]);
    t.wait_for("✓ 2 marked");
    t.keys(&["p"]);
    t.wait_for("pause 2 journeys");
    t.keys(&["y"]);
    t.wait_for("paused cart v1, welcome v1");
    let audit: serde_json::Value =
        serde_json::from_str(&cli(&ts.url, &["audit", "--json"])).unwrap();
    let pauses: Vec<&serde_json::Value> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "pause")
        .collect();
    assert_eq!(pauses.len(), 2, "{audit}");
    assert_eq!(pauses[0]["incident"], pauses[1]["incident"]);
    assert!(pauses[0]["incident"].is_string(), "{audit}");
    let journeys: std::collections::BTreeSet<&str> = pauses
        .iter()
        .map(|a| a["journey"].as_str().unwrap())
        .collect();
    assert_eq!(journeys, ["cart", "welcome"].into_iter().collect());
    t.keys(&["Enter"]);
    wait_gone(&t, "✓ 2 marked");
    t.keys(&["q"]);
    t.wait_dead();
}

both_backends!(console_pauses_the_marked_versions_in_one_action, |ts| {
    pause_the_marked(ts, ts.backend).await;
});

/// A filter set in one session comes back in the next for the same
/// store, and only for it.
async fn the_filter_comes_back(ts: &common::TestStore, tag: &str) {
    let dir = tempfile::tempdir().unwrap();
    seed(&ts.url, dir.path());
    let t = Tmux::start(
        &format!("filter-{tag}"),
        &console_command(&ts.url, dir.path()),
        120,
        35,
    );
    t.wait_for("welcome");
    t.keys(&["/"]);
    t.text("!welcome status:live");
    t.keys(&["Enter"]);
    t.wait_for("filter /!welcome status:live · 1 hidden");
    t.keys(&["q"]);
    t.wait_dead();
    drop(t);
    let t = Tmux::start(
        &format!("filter-again-{tag}"),
        &console_command(&ts.url, dir.path()),
        120,
        35,
    );
    let screen = t.wait_for("filter /!welcome status:live · 1 hidden");
    assert!(
        !screen.contains("│  welcome") && !screen.contains("▶ welcome"),
        "{screen}"
    );
    // Esc clears it, for next time too.
    t.keys(&["Escape"]);
    wait_gone(&t, "filter /");
    t.keys(&["q"]);
    t.wait_dead();
    drop(t);
    let t = Tmux::start(
        &format!("filter-gone-{tag}"),
        &console_command(&ts.url, dir.path()),
        120,
        35,
    );
    let screen = t.wait_for("welcome");
    assert!(!screen.contains("filter /"), "{screen}");
    t.keys(&["q"]);
    t.wait_dead();
}

both_backends!(console_the_filter_comes_back_for_the_same_store, |ts| {
    the_filter_comes_back(ts, ts.backend).await;
});

/// `y` in a real terminal: the name reaches tmux's clipboard through
/// OSC 52 (as it would the operator's own over SSH).
async fn y_reaches_the_clipboard(ts: &common::TestStore, tag: &str) {
    let dir = tempfile::tempdir().unwrap();
    seed(&ts.url, dir.path());
    let t = console_on_cart(&format!("copy-{tag}"), &ts.url, dir.path(), 120, 35);
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .args(["-L", t.socket()])
            .args(args)
            .output()
            .unwrap()
    };
    assert!(tmux(&["set", "-g", "set-clipboard", "on"]).status.success());
    t.wait_for("▶ cart");
    t.keys(&["y"]);
    t.wait_for("copied to your clipboard (OSC 52): cart");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let buffer = String::from_utf8_lossy(&tmux(&["show-buffer"]).stdout).into_owned();
        if buffer == "cart" {
            break;
        }
        assert!(Instant::now() < deadline, "tmux's buffer holds {buffer:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    t.keys(&["q"]);
    t.wait_dead();
}

both_backends!(console_y_copies_through_osc52, |ts| {
    y_reaches_the_clipboard(ts, ts.backend).await;
});

/// `c`, `-` on the only action, a figure typed, Enter: the store keeps
/// the rate, audited as the console's operator, and the screen shows it.
async fn rate_from_the_channels_screen(ts: &common::TestStore, tag: &str) {
    let dir = tempfile::tempdir().unwrap();
    seed(&ts.url, dir.path());
    let t = Tmux::start(
        &format!("rate-{tag}"),
        &console_command(&ts.url, dir.path()),
        120,
        35,
    );
    t.wait_for("welcome");
    t.keys(&["c"]);
    t.wait_for("1 actions in use");
    t.keys(&["-"]);
    t.wait_for("rate of email");
    // No limit known yet (no worker has said): the field starts empty.
    t.text("50/s");
    t.keys(&["Tab", "Tab"]);
    t.text("receiver slow");
    t.keys(&["Enter"]);
    t.wait_for("✓ email: 50/s (was the channels file's)");
    t.keys(&["Enter"]);
    t.wait_for("50/s (live)");
    let rates: serde_json::Value =
        serde_json::from_str(&cli(&ts.url, &["channels", "--json"])).unwrap();
    assert_eq!(rates[0]["rate"], "50/s", "{rates}");
    assert_eq!(rates[0]["live"]["by"], "erin", "{rates}");
    assert_eq!(rates[0]["live"]["reason"], "receiver slow", "{rates}");
    t.keys(&["q"]);
    t.wait_dead();
}

both_backends!(console_sets_a_rate_live_from_the_channels_screen, |ts| {
    rate_from_the_channels_screen(ts, ts.backend).await;
});

/// `c`, `h` on the only action, Enter: the store holds it, audited as
/// the console's operator; `r`, Enter releases it.
async fn hold_from_the_channels_screen(ts: &common::TestStore, tag: &str) {
    let dir = tempfile::tempdir().unwrap();
    seed(&ts.url, dir.path());
    // cart's 40 emails enqueued.
    cli(&ts.url, &["tick"]);
    let t = Tmux::start(
        &format!("hold-{tag}"),
        &console_command(&ts.url, dir.path()),
        120,
        35,
    );
    t.wait_for("welcome");
    t.keys(&["c"]);
    t.wait_for("1 actions in use");
    t.keys(&["h"]);
    t.wait_for("hold email");
    t.wait_for("40 pending in 1 running version(s) (cart v1: 40)");
    t.keys(&["Enter"]);
    t.wait_for("✓ held email");
    t.keys(&["Enter"]);
    t.wait_for("⏸ held");
    let holds = ts.store.action_holds().await.unwrap();
    assert_eq!(holds.len(), 1);
    assert_eq!(holds[0].held_by, "erin");
    t.keys(&["r"]);
    t.wait_for("release email");
    t.keys(&["Enter"]);
    t.wait_for("✓ released email");
    assert!(ts.store.action_holds().await.unwrap().is_empty());
    t.keys(&["Enter", "q"]);
    t.wait_dead();
}

both_backends!(
    console_holds_and_releases_an_action_from_the_channels_screen,
    |ts| {
        hold_from_the_channels_screen(ts, ts.backend).await;
    }
);

/// Keys typed before the console is on the screen (here while a shell
/// sleeps before starting it; in the demo while it seeds) are dropped:
/// `?` typed then opens no help once it starts, and `?` typed after does.
#[test]
fn keys_typed_before_the_console_shows_do_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/s.db", dir.path().display());
    seed(&url, dir.path());
    let command = format!("sleep 1; {}", console_command(&url, dir.path()));
    let t = Tmux::start("typeahead", &command, 100, 30);
    t.keys(&["?"]);
    t.wait_for("cart");
    std::thread::sleep(Duration::from_millis(700));
    assert!(
        !t.screen().contains("Any key closes this help"),
        "{}",
        t.screen()
    );
    t.keys(&["?"]);
    t.wait_for("Any key closes this help");
    t.keys(&["Escape", "q"]);
    t.wait_dead();
}

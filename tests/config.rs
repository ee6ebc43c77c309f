//! Named stores in `$XDG_CONFIG_HOME/journeyctl/config.toml`: picked by
//! `--store`, the precedence of SPEC §5, `read_only` and `--write`, a
//! malformed file named by its line, `stores` without passwords, and the
//! console's header naming the store.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::bin;
use common::tmux::Tmux;

/// The binary with a config home and a data home of the test's own, and
/// DATABASE_URL only when given.
fn run(home: &Path, env_url: Option<&str>, args: &[&str]) -> Output {
    let j = match env_url {
        Some(url) => common::journeyctl(url),
        None => common::journeyctl_without_store(),
    };
    j.env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .user("ops")
        .args(args)
        .output()
}

fn out(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Which store a command used: `migrate` says it.
fn used(home: &Path, env_url: Option<&str>, args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.push("migrate");
    let o = run(home, env_url, &all);
    let (stdout, stderr) = out(&o);
    assert!(o.status.success(), "{all:?}: {stderr}");
    stdout
}

fn write_config(home: &Path, text: &str) {
    let dir = home.join("config").join("journeyctl");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), text).unwrap();
}

fn definition(home: &Path) -> String {
    let path = home.join("cart.toml");
    std::fs::write(
        &path,
        "name = \"cart\"\ngoal = \"purchase\"\n[[steps]]\nkind = \"message\"\naction = \"email\"\n",
    )
    .unwrap();
    path.display().to_string()
}

#[test]
fn named_stores_precedence_read_only_and_stores() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let a = home.join("a.db");
    let b = home.join("b.db");
    let c = home.join("c.db");
    let pg = std::env::var(common::PG_ENV).ok();
    if pg.is_none() {
        loud!(
            "!!! PostgreSQL SKIPPED for the named PostgreSQL store: set {}",
            common::PG_ENV
        );
    }
    let team = pg
        .as_deref()
        .map(|u| u.replacen("postgres://postgres@", "postgres://postgres:s3cret@", 1))
        .unwrap_or_else(|| "postgres://ops:s3cret@db.invalid/j".into());
    write_config(
        home,
        &format!(
            "default_store = \"local\"\n\n[stores.local]\nurl = \"sqlite://{}\"\n\n\
             [stores.prod]\nurl = \"sqlite://{}\"\ncolour = \"red\"\nread_only = true\n\n\
             [stores.team]\nurl = \"{team}\"\ncolour = \"yellow\"\n",
            a.display(),
            b.display()
        ),
    );
    let c_url = format!("sqlite://{}", c.display());
    let sa = format!("sqlite {}", a.display());
    let sc = format!("sqlite {}", c.display());
    // --database-url beats --store, --store beats DATABASE_URL, DATABASE_URL
    // beats default_store, default_store beats the embedded default.
    assert!(
        used(
            home,
            Some(&c_url),
            &["--database-url", &c_url, "--store", "local"]
        )
        .contains(&sc)
    );
    assert!(used(home, Some(&c_url), &["--store", "local"]).contains(&sa));
    assert!(used(home, Some(&c_url), &[]).contains(&sc));
    assert!(used(home, None, &[]).contains(&sa));

    // read_only: refused without --write, allowed with it.
    let d = definition(home);
    let o = run(home, None, &["--store", "prod", "apply", &d, "--publish"]);
    let (_, err) = out(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("read-only"), "{err}");
    assert!(err.contains("--write lifts"), "{err}");
    let o = run(
        home,
        None,
        &["--store", "prod", "--write", "apply", &d, "--publish"],
    );
    assert!(o.status.success(), "{}", out(&o).1);
    let o = run(home, None, &["--store", "prod", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(list[0]["journey"], "cart");
    let o = run(home, None, &["--store", "prod", "stop", "cart", "--yes"]);
    assert_eq!(o.status.code(), Some(3), "{}", out(&o).1);
    assert!(out(&o).1.contains("read-only"));
    let o = run(home, None, &["--store", "prod", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(list[0]["status"], "live", "a refused stop changed nothing");

    // A PostgreSQL store by name.
    if let Some(server) = &pg {
        let schema = format!("jc_config_{}", std::process::id());
        let url = journeyctl::store::scratch::url_in_schema(
            &server.replacen("postgres://postgres@", "postgres://postgres:s3cret@", 1),
            &schema,
        );
        let text = std::fs::read_to_string(home.join("config/journeyctl/config.toml")).unwrap();
        write_config(home, &text.replace(&team, &url));
        // A schema of the team's own (not one journeyctl's tools make).
        let made = Command::new("psql")
            .arg(server)
            .arg("-qc")
            .arg(format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
            ))
            .output()
            .unwrap();
        assert!(made.status.success());
        let o = run(home, None, &["--store", "team", "apply", &d, "--publish"]);
        assert!(o.status.success(), "{}", out(&o).1);
        assert!(used(home, None, &["--store", "team"]).contains("postgres postgres@"));
        let dropped = Command::new("psql")
            .arg(server)
            .arg("-qc")
            .arg(format!("DROP SCHEMA {schema} CASCADE"))
            .output()
            .unwrap();
        assert!(dropped.status.success());
    }

    // stores: every name, never a password.
    let o = run(home, None, &["stores"]);
    let (text, _) = out(&o);
    assert!(o.status.success());
    for name in ["local", "prod", "team"] {
        assert!(text.contains(name), "{text}");
    }
    assert!(text.contains("* local"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");

    // An unknown name says which there are.
    let o = run(home, None, &["--store", "nope", "list"]);
    let (_, err) = out(&o);
    assert!(
        err.contains("no store \"nope\"") && err.contains("local, prod, team"),
        "{err}"
    );
}

#[test]
fn a_malformed_config_names_its_line_and_key() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    write_config(
        home,
        "default_store = \"local\"\n\n[stores.local]\nurl = \"sqlite:x.db\"\ncolour = \"pink\"\n",
    );
    let o = run(home, None, &["list"]);
    let (_, err) = out(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains("config.toml:5: stores.local.colour: \"pink\" is not one of"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1);
    write_config(
        home,
        "[stores.local]\nurl = \"sqlite:x.db\"\nreadonly = true\n",
    );
    let (_, err) = out(&run(home, None, &["--store", "local", "list"]));
    assert!(
        err.contains("config.toml:3: stores.local.readonly: unknown field `readonly`"),
        "{err}"
    );
    // A value of the wrong type: the key is named too.
    write_config(
        home,
        "[stores.local]\nurl = \"sqlite:x.db\"\nread_only = \"yes\"\n",
    );
    let (_, err) = out(&run(home, None, &["--store", "local", "list"]));
    assert!(
        err.contains(
            "config.toml:3: stores.local.read_only: invalid type: string \"yes\", expected a boolean"
        ),
        "{err}"
    );
    write_config(home, "default_store = 3\n");
    let (_, err) = out(&run(home, None, &["list"]));
    assert!(
        err.contains("config.toml:1: default_store: invalid type"),
        "{err}"
    );
}

#[test]
fn a_key_remap_that_would_misfire_is_refused_at_load() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    for (text, want) in [
        (
            "[stores.local]\nurl = \"sqlite:x.db\"\n\n[keys]\nfinish = \"F\"\nstop = \"S\"\n",
            "config.toml:6: keys.stop: S is already stop_all",
        ),
        (
            "[keys]\nconfirm = \"y\"\n",
            "config.toml:2: keys.confirm: a printable key would commit a pane while its name is typed",
        ),
        (
            "[keys]\nconfirm = \"Esc\"\n",
            "config.toml:2: keys.confirm: Esc, Tab, the arrows and Backspace act in a pane (Esc cancels it): none may commit one",
        ),
        (
            "[keys]\nhalt = \"h\"\n",
            "config.toml:2: keys.halt: no such action",
        ),
        (
            "[keys]\nstop = \"Ctrl-x\"\n",
            "config.toml:2: keys.stop: \"Ctrl-x\" is not a key",
        ),
    ] {
        write_config(home, text);
        let o = run(home, None, &["list"]);
        let (_, err) = out(&o);
        assert_eq!(o.status.code(), Some(1), "{text}: {err}");
        assert!(err.contains(want), "{text}: {err}");
    }
}

#[test]
fn a_definition_mistake_names_its_line_and_place() {
    // A tagged step hides positions from the parser: the line is that of
    // the step or variant at fault, not the first [[steps]].
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let def = |text: &str| {
        let file = home.join("d.toml");
        std::fs::write(&file, text).unwrap();
        let o = run(home, None, &["apply", &file.display().to_string()]);
        assert_eq!(o.status.code(), Some(1));
        out(&o).1
    };
    let split = "name = \"d\"\n\n[[steps]]\nkind = \"message\"\naction = \"email\"\n\n\
                 [[steps]]\nkind = \"split\"\ntest = \"t\"\nvariants = [\n  \
                 { name = \"A\", weight = 1, action = \"a\" },\n  { name = \"B\", weight = 1 },\n]\n";
    let err = def(split);
    assert!(
        err.contains("d.toml:12: steps[2].variants[2]: missing field `action`"),
        "{err}"
    );
    let err = def(
        "name = \"d\"\n[[steps]]\nkind = \"message\"\naction = \"e\"\n[[steps]]\nkind = \"wait\"\nduration = \"2 fortnights\"\n",
    );
    assert!(
        err.contains("d.toml:5: steps[2]: duration \"2 fortnights\""),
        "{err}"
    );
    let err = def("name = \"d\"\n[[steps]]\nkind = \"teleport\"\n");
    assert!(
        err.contains("d.toml:2: steps[1]: unknown variant `teleport`"),
        "{err}"
    );
    let err = def("name = \"d\"\n[[steps]]\nkind = \"message\"\naction = \"e\n");
    assert!(err.contains("d.toml:4: "), "the parser's own line: {err}");
}

#[test]
fn the_console_header_names_the_store() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let a = home.join("a.db");
    write_config(
        home,
        &format!(
            "[stores.staging]\nurl = \"sqlite://{}\"\ncolour = \"green\"\n",
            a.display()
        ),
    );
    let o = run(
        home,
        None,
        &[
            "--store",
            "staging",
            "apply",
            &definition(home),
            "--publish",
        ],
    );
    assert!(o.status.success(), "{}", out(&o).1);
    let command = format!(
        "XDG_CONFIG_HOME={0}/config XDG_STATE_HOME={0}/state exec {1} --store staging",
        home.display(),
        bin()
    );
    let t = Tmux::start(&format!("config_{}", std::process::id()), &command, 120, 30);
    let screen = t.wait_for("cart");
    assert!(screen.contains("[staging] sqlite"), "{screen}");
    t.keys(&["q"]);
    t.wait_dead();
}

/// A config file holding a password and readable by others gets one
/// warning line (as ssh warns about a key); 0600 quiets it. New stores,
/// their folders and the log are the user's only; a store is never made
/// through a symbolic link.
#[test]
fn files_are_private_and_a_readable_password_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let store = h.join("made").join("here").join("s.db");
    write_config(
        h,
        &format!(
            "default_store = \"local\"\n[stores.local]\nurl = \"{}\"\n[stores.team]\nurl = \"postgres://ops:hunter2@db.internal/journeys\"\n",
            store.display()
        ),
    );
    let config = h.join("config").join("journeyctl").join("config.toml");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = run(h, None, &["migrate"]);
    let (_, err) = out(&o);
    assert!(o.status.success(), "{err}");
    assert_eq!(
        err.trim(),
        format!(
            "journeyctl: warning: {} holds a password and others can read it: chmod 600 {}",
            config.display(),
            config.display()
        )
    );
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&store), 0o600);
    assert_eq!(mode(&h.join("made")), 0o700);
    assert_eq!(mode(&h.join("made").join("here")), 0o700);
    assert_eq!(
        mode(&h.join("state").join("journeyctl").join("journeyctl.log")),
        0o600
    );
    // The operators' lock file gets the store's mode.
    std::fs::write(
        h.join("cart.toml"),
        "name = \"cart\"\n[[steps]]\nkind = \"message\"\naction = \"email\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = run(
        h,
        None,
        &["apply", h.join("cart.toml").to_str().unwrap(), "--publish"],
    );
    assert!(o.status.success(), "{:?}", out(&o));
    let o = run(h, None, &["stop", "cart", "--yes"]);
    let (_, err) = out(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.is_empty(), "no warning once 0600: {err}");
    let mut lock = store.as_os_str().to_owned();
    lock.push("-operator");
    assert_eq!(mode(std::path::Path::new(&lock)), 0o600);
    // A dangling link where a store should be made: refused, not followed.
    let target = h.join("elsewhere.db");
    let link = h.join("link.db");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let o = run(
        h,
        Some(link.to_str().unwrap()),
        &["--database-url", link.to_str().unwrap(), "migrate"],
    );
    let (_, err) = out(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("is a symbolic link: journeyctl never makes a store through a link"),
        "{err}"
    );
    assert!(!target.exists());
}

/// A named store's password can live in a file of its own, readable by its
/// owner only (as `~/.pgpass` must be); one readable by others is refused.
#[test]
fn a_password_file_must_be_private() {
    use std::os::unix::fs::PermissionsExt;
    let Ok(server) = std::env::var(common::PG_ENV) else {
        loud!(
            "!!! PostgreSQL SKIPPED for the password_file test: set {}",
            common::PG_ENV
        );
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let secret = h.join("pw");
    std::fs::write(&secret, "not-needed-on-trust-auth\n").unwrap();
    write_config(
        h,
        &format!(
            "default_store = \"team\"\n[stores.team]\nurl = \"{server}\"\npassword_file = \"{}\"\n",
            secret.display()
        ),
    );
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = run(h, None, &["stores"]);
    assert!(o.status.success());
    let o = run(h, None, &["check"]);
    let (_, err) = out(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    // FILE:LINE, as every config error says where.
    assert!(
        err.contains(&format!(
            "config.toml:4: stores.team.password_file: {} is readable by others: chmod 600",
            secret.display()
        )),
        "{err}"
    );
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = run(h, None, &["stores"]);
    let (listed, _) = out(&o);
    assert!(!listed.contains("not-needed"), "{listed}");
    // The password reaches the connection (trust auth ignores it here).
    let o = run(h, None, &["audit", "--journey", "nothing-here"]);
    let (_, err) = out(&o);
    assert!(!err.contains("password_file"), "{err}");
}

/// The config file and a password file are small regular files of the
/// user's: one writable by anyone, a FIFO (which would hang) or a huge
/// one is refused in one line; a hostile store name prints as text.
#[test]
fn config_and_password_files_are_bounded_regular_files_of_the_users() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    write_config(h, "[stores.local]\nurl = \"sqlite:x.db\"\n");
    let file = h.join("config").join("journeyctl").join("config.toml");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
    let (_, err) = out(&run(h, None, &["stores"]));
    assert!(err.contains("can be written by anyone: chmod o-w"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    // A password file that is a FIFO, then one of 2 MB.
    let fifo = h.join("pw.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    std::fs::set_permissions(&fifo, std::fs::Permissions::from_mode(0o600)).unwrap();
    let big = h.join("pw.big");
    std::fs::write(&big, "x".repeat(2 * 1024 * 1024)).unwrap();
    std::fs::set_permissions(&big, std::fs::Permissions::from_mode(0o600)).unwrap();
    for (pw, want) in [
        (&fifo, "is not a regular file"),
        (&big, "bytes; at most 1048576"),
    ] {
        write_config(
            h,
            &format!(
                "default_store = \"team\"\n[stores.team]\nurl = \"postgres://u@127.0.0.1:1/x\"\npassword_file = \"{}\"\n",
                pw.display()
            ),
        );
        let started = std::time::Instant::now();
        let (_, err) = out(&run(h, None, &["list"]));
        assert!(err.contains(want), "{err}");
        assert!(
            err.contains("config.toml:4: stores.team.password_file"),
            "{err}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }
    // A store's name with an escape sequence is shown as text.
    write_config(h, "[stores.\"evil\\u001b[2J\"]\nurl = \"sqlite:x.db\"\n");
    let (listed, _) = out(&run(h, None, &["stores"]));
    assert!(!listed.contains('\u{1b}'), "{listed:?}");
}

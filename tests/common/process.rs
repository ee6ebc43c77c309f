//! The one way the tests run the binary: [`journeyctl`] builds its
//! command (a store, an environment of the test's own, no terminal on
//! standard input), and the shorthands of each test file only add to it.
//! [`Proc`] keeps a process a test started and kills it when the test
//! ends, passed or failed, so a failed test leaves nothing running.

use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_journeyctl")
}

/// The binary on the store at `url`, run as the login `tester`.
pub fn journeyctl(url: &str) -> Journeyctl {
    let mut j = journeyctl_without_store();
    j.cmd.env("DATABASE_URL", url);
    j
}

/// The binary with no store named in its environment (the config file's,
/// `--database-url`'s or the default one decides).
pub fn journeyctl_without_store() -> Journeyctl {
    let mut cmd = Command::new(bin());
    cmd.env_remove("DATABASE_URL")
        .env("USER", "tester")
        .stdin(Stdio::null());
    Journeyctl { cmd, input: None }
}

/// A command of the binary under test, being built.
pub struct Journeyctl {
    cmd: Command,
    input: Option<Vec<u8>>,
}

impl Journeyctl {
    pub fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.cmd.args(args);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    /// The login name it runs as (`USER`: the audit's actor by default).
    pub fn user(self, name: &str) -> Self {
        self.env("USER", name)
    }

    /// Its working folder, with its state (the log) kept there too.
    pub fn dir(mut self, dir: &Path) -> Self {
        self.cmd
            .current_dir(dir)
            .env("XDG_STATE_HOME", dir.join("state"));
        self
    }

    /// What it reads on standard input.
    pub fn stdin(mut self, text: &str) -> Self {
        self.cmd.stdin(Stdio::piped());
        self.input = Some(text.as_bytes().to_vec());
        self
    }

    /// Started by `wrapper` (e.g. `prlimit --as=...`), with the same
    /// arguments and environment.
    pub fn under(self, wrapper: &[&str]) -> Self {
        let Some((program, rest)) = wrapper.split_first() else {
            return self;
        };
        let mut cmd = Command::new(program);
        cmd.args(rest)
            .arg(self.cmd.get_program())
            .args(self.cmd.get_args());
        for (k, v) in self.cmd.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        if let Some(dir) = self.cmd.get_current_dir() {
            cmd.current_dir(dir);
        }
        cmd.stdin(Stdio::null());
        Journeyctl {
            cmd,
            input: self.input,
        }
    }

    /// The command, for a test that needs its own pipes.
    pub fn command(self) -> Command {
        self.cmd
    }

    /// Runs it to its end; its output.
    pub fn output(mut self) -> Output {
        self.cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = self.cmd.spawn().expect("journeyctl starts");
        if let Some(input) = self.input {
            // A command that exits without reading all of it is fine.
            let _ = child.stdin.take().expect("a stdin pipe").write_all(&input);
        }
        child.wait_with_output().expect("journeyctl's output")
    }

    /// [`Journeyctl::output`] off the test's runtime threads.
    pub async fn output_async(self) -> Output {
        tokio::task::spawn_blocking(move || self.output())
            .await
            .expect("journeyctl's output")
    }

    /// Starts it (standard output discarded, standard error piped).
    pub fn spawn(mut self) -> Proc {
        self.cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        Proc::spawn(&mut self.cmd)
    }
}

/// Standard output and standard error, as text.
pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A process a test started: killed when dropped, unless it was waited
/// for, so a test that fails leaves nothing running.
pub struct Proc(Option<Child>);

impl Proc {
    /// Starts `cmd`.
    pub fn spawn(cmd: &mut Command) -> Proc {
        Proc(Some(cmd.spawn().expect("the process starts")))
    }

    pub fn id(&self) -> u32 {
        self.0.as_ref().expect("a running process").id()
    }

    /// The process, for its pipes and `try_wait`.
    pub fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("a running process")
    }

    /// Sends `sig` (`-TERM`, `-INT`).
    pub fn signal(&self, sig: &str) {
        let _ = Command::new("kill")
            .args([sig, &self.id().to_string()])
            .status();
    }

    /// Asks it to stop as an operator would (SIGTERM).
    pub fn sigterm(&self) {
        self.signal("-TERM");
    }

    /// Kills it (SIGKILL) and waits for it.
    pub fn kill(mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Waits up to `limit` for it to end; its output. Past the limit the
    /// test fails (and the process is killed).
    pub fn finish(mut self, limit: Duration) -> Output {
        let start = Instant::now();
        let child = self.child();
        while child.try_wait().expect("a process's status").is_none() {
            assert!(
                start.elapsed() < limit,
                "process {} still runs after {limit:?}",
                child.id()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.0
            .take()
            .expect("a process")
            .wait_with_output()
            .expect("a process's output")
    }

    /// [`Proc::finish`] off the test's runtime threads.
    pub async fn finish_async(self, limit: Duration) -> Output {
        tokio::task::spawn_blocking(move || self.finish(limit))
            .await
            .expect("a process's output")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

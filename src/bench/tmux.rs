//! The real console in tmux, on a server socket of its own (killed when
//! the session is dropped): the one driver of the bench's console figures
//! and of the end-to-end tests (`tests/common/tmux.rs` turns its errors
//! into test failures). Keys typed, the screen read, the pane watched.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A tmux server of its own with one session, `main`.
pub struct Session {
    socket: String,
}

impl Session {
    /// Starts `command` in a detached session on the server `socket`, a
    /// terminal of `width` by `height`; the pane stays when it exits, so
    /// its last screen can be read.
    pub fn start(
        socket: String,
        command: &str,
        width: u16,
        height: u16,
    ) -> anyhow::Result<Session> {
        let session = Session { socket };
        let (cols, rows) = (width.to_string(), height.to_string());
        let ok = session
            .tmux(&[
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "main",
                "-x",
                &cols,
                "-y",
                &rows,
                command,
            ])
            .map_err(|e| anyhow::anyhow!("the console in a terminal needs tmux: {e}"))?;
        if !ok.status.success() {
            anyhow::bail!("tmux failed: {}", String::from_utf8_lossy(&ok.stderr));
        }
        session.tmux(&["set-option", "-g", "remain-on-exit", "on"])?;
        Ok(session)
    }

    /// The server's name (`tmux -L NAME`).
    pub fn socket(&self) -> &str {
        &self.socket
    }

    /// Runs `tmux -L SOCKET ARGS`.
    pub fn tmux(&self, args: &[&str]) -> std::io::Result<Output> {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
    }

    /// Types each of `keys` (tmux key names: `Enter`, `Escape`, `q`), 40 ms
    /// apart, as a person would.
    pub fn keys(&self, keys: &[&str]) -> anyhow::Result<()> {
        for k in keys {
            let out = self.tmux(&["send-keys", "-t", "main", k])?;
            if !out.status.success() {
                anyhow::bail!(
                    "tmux send-keys {k}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(40));
        }
        Ok(())
    }

    /// Types `text` literally.
    pub fn text(&self, text: &str) -> anyhow::Result<()> {
        let out = self.tmux(&["send-keys", "-t", "main", "-l", text])?;
        if !out.status.success() {
            anyhow::bail!("tmux send-keys: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    }

    /// What the terminal shows now.
    pub fn screen(&self) -> String {
        self.capture(&["capture-pane", "-p", "-t", "main"])
    }

    /// The screen and what scrolled off it.
    pub fn history(&self) -> String {
        self.capture(&["capture-pane", "-p", "-S", "-", "-t", "main"])
    }

    /// A pane variable (`#{pane_dead}`, `#{pane_pid}`), trimmed.
    pub fn query(&self, format: &str) -> String {
        self.capture(&["display-message", "-p", "-t", "main", format])
            .trim()
            .to_string()
    }

    fn capture(&self, args: &[&str]) -> String {
        self.tmux(args)
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    /// The console's process id.
    pub fn pid(&self) -> anyhow::Result<String> {
        let pid = self.query("#{pane_pid}");
        if pid.is_empty() {
            anyhow::bail!("tmux names no process in the pane");
        }
        Ok(pid)
    }

    /// Waits until the screen shows `what`, reading it every `every`; the
    /// screen then, or what it showed when `limit` ran out.
    pub fn wait_for(&self, what: &str, limit: Duration, every: Duration) -> Result<String, String> {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(what) {
                return Ok(screen);
            }
            if start.elapsed() > limit {
                return Err(screen);
            }
            std::thread::sleep(every);
        }
    }

    /// Waits until the program in the pane has exited; whether it did
    /// within `limit`.
    pub fn wait_dead(&self, limit: Duration) -> bool {
        let start = Instant::now();
        while self.query("#{pane_dead}") != "1" {
            if start.elapsed() > limit {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        true
    }

    /// The terminal goes away under the console, as when an SSH link
    /// drops: the server ends, the pty closes and the console gets SIGHUP.
    pub fn hang_up(&self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

//! The real console in tmux, on a server socket of its own (killed when
//! the session is dropped), for the bench's console figures.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub(super) struct Session {
    socket: String,
}

impl Session {
    /// Starts `command` in a detached session `b`, 120 columns wide.
    pub(super) fn start(socket: String, command: &str, height: u16) -> anyhow::Result<Session> {
        let session = Session { socket };
        let rows = height.to_string();
        let ok = session
            .tmux(&[
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "b",
                "-x",
                "120",
                "-y",
                &rows,
                command,
            ])
            .map_err(|e| anyhow::anyhow!("the console figures need tmux: {e}"))?;
        if !ok.status.success() {
            anyhow::bail!("tmux failed: {}", String::from_utf8_lossy(&ok.stderr));
        }
        Ok(session)
    }

    pub(super) fn tmux(&self, args: &[&str]) -> std::io::Result<Output> {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
    }

    pub(super) fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "b"])
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    /// The console's process id.
    pub(super) fn pid(&self) -> anyhow::Result<String> {
        let out = self.tmux(&["display-message", "-p", "-t", "b", "#{pane_pid}"])?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    pub(super) fn wait_for(&self, what: &str, limit: Duration) -> anyhow::Result<()> {
        let start = Instant::now();
        while !self.screen().contains(what) {
            if start.elapsed() > limit {
                anyhow::bail!("the console never showed {what:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

//! Logs go to a file under the XDG state directory (or systemd's
//! `$STATE_DIRECTORY`), never to the screen.

use std::path::PathBuf;

pub fn log_path() -> PathBuf {
    // Under systemd with `StateDirectory=`, the folder it made (the first
    // where it names several): a service's home may be out of reach.
    if let Some(first) = std::env::var_os("STATE_DIRECTORY")
        .map(PathBuf::from)
        .and_then(|d| {
            d.to_str()
                .and_then(|s| s.split(':').next())
                .map(PathBuf::from)
        })
        .filter(|d| d.is_absolute())
    {
        return first.join("journeyctl.log");
    }
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .unwrap_or_else(std::env::temp_dir)
        .join("journeyctl")
        .join("journeyctl.log")
}

/// Starts file logging; returns the log file's path, or `None` when it could
/// not be opened (logging is then off rather than on the screen).
pub fn init() -> Option<PathBuf> {
    let path = log_path();
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(dir) = path.parent() {
        // Its folder and the log are the user's only: a log can name
        // journeys, profiles and errors.
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .ok()?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)
        .ok()?;
    let filter = std::env::var("JOURNEYCTL_LOG").unwrap_or_else(|_| "info".into());
    let level = match filter.as_str() {
        "trace" => tracing::Level::TRACE,
        "debug" => tracing::Level::DEBUG,
        "warn" => tracing::Level::WARN,
        "error" => tracing::Level::ERROR,
        _ => tracing::Level::INFO,
    };
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    // sqlx names an unknown URL parameter with its value (a `?token=...`):
    // never written.
    let targets = tracing_subscriber::filter::Targets::new()
        .with_default(level)
        .with_target(
            "sqlx_postgres::options::parse",
            tracing::level_filters::LevelFilter::OFF,
        );
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::sync::Mutex::new(file))
                .with_ansi(false)
                .with_filter(targets),
        )
        .try_init()
        .ok()?;
    Some(path)
}

/// Keeps a long-running process's standard error readable while the store
/// is away: the first failure is said at once, repeats of the same failure
/// are counted and summed up at most once per `every`, and the recovery is
/// said once.
#[derive(Debug)]
pub struct RepeatLimiter {
    every: std::time::Duration,
    last: Option<String>,
    said_at: Option<std::time::Instant>,
    held: u64,
    failures: u64,
}

impl RepeatLimiter {
    pub fn new(every: std::time::Duration) -> RepeatLimiter {
        RepeatLimiter {
            every,
            last: None,
            said_at: None,
            held: 0,
            failures: 0,
        }
    }

    /// The line to print for this failure, if any.
    pub fn failure(&mut self, what: &str, at: std::time::Instant) -> Option<String> {
        self.failures += 1;
        let same = self.last.as_deref() == Some(what);
        let due = self
            .said_at
            .is_none_or(|t| at.saturating_duration_since(t) >= self.every);
        if same && !due {
            self.held += 1;
            return None;
        }
        let line = if same {
            format!("{what} (again {} time(s) since)", self.held + 1)
        } else {
            what.to_string()
        };
        self.last = Some(what.to_string());
        self.said_at = Some(at);
        self.held = 0;
        Some(line)
    }

    /// The line to print when things work again after failures.
    pub fn success(&mut self) -> Option<String> {
        if self.failures == 0 {
            return None;
        }
        let line = format!("working again after {} failure(s)", self.failures);
        *self = RepeatLimiter::new(self.every);
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::RepeatLimiter;
    use std::time::{Duration, Instant};

    #[test]
    fn repeats_are_summed_up_once_per_period() {
        let t0 = Instant::now();
        let mut r = RepeatLimiter::new(Duration::from_secs(30));
        assert_eq!(
            r.failure("tick failed: refused", t0).as_deref(),
            Some("tick failed: refused")
        );
        for s in 1..30 {
            assert_eq!(
                r.failure("tick failed: refused", t0 + Duration::from_secs(s)),
                None
            );
        }
        assert_eq!(
            r.failure("tick failed: refused", t0 + Duration::from_secs(30))
                .as_deref(),
            Some("tick failed: refused (again 30 time(s) since)")
        );
        // A different failure is said at once.
        assert_eq!(
            r.failure("tick failed: timed out", t0 + Duration::from_secs(31))
                .as_deref(),
            Some("tick failed: timed out")
        );
        assert_eq!(
            r.success().as_deref(),
            Some("working again after 32 failure(s)")
        );
        assert_eq!(r.success(), None);
    }
}

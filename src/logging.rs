//! Logs go to a file under the XDG state directory, never to the screen.

use std::path::PathBuf;

pub fn log_path() -> PathBuf {
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
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).ok()?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
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
    tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .with_max_level(level)
        .try_init()
        .ok()?;
    Some(path)
}

//! What the console remembers between sessions, per store: the main
//! list's filter. One small JSON file beside the log, the user's only
//! (0600); one that is not a regular file, is larger than it can be or
//! does not read as ours is left alone (and not overwritten).

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Stores it remembers at most (the least recently written go).
const MOST_STORES: usize = 100;
/// Its size at most.
const MOST_BYTES: u64 = 256 * 1024;

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct State {
    /// Store (as the header names it) -> its filter, newest last.
    #[serde(default)]
    filters: Vec<(String, String)>,
}

/// The state file: beside the log.
pub fn path() -> PathBuf {
    crate::logging::log_path().with_file_name("console-state.json")
}

/// Reads the file: `None` when it is missing or not one we wrote.
fn read(path: &Path) -> Option<State> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > MOST_BYTES {
        tracing::warn!(
            "{} is not a small regular file: the console's state is not read",
            path.display()
        );
        return None;
    }
    let mut text = String::new();
    file.take(MOST_BYTES).read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

/// The filter last used on `store`, if any (a text the filter field
/// takes: printable, at most a name long).
pub fn filter_for(path: &Path, store: &str) -> Option<String> {
    let state = read(path)?;
    let (_, text) = state.filters.into_iter().rev().find(|(s, _)| s == store)?;
    let ok = crate::domain::text::refuse_control("filter", &text, false).is_ok()
        && text.chars().count() <= crate::domain::text::MOST_NAME;
    (ok && !text.is_empty()).then_some(text)
}

/// Remembers `text` as the filter of `store` (none when empty). A file
/// that is there and is not ours is left as it is.
pub fn remember_filter(path: &Path, store: &str, text: &str) -> std::io::Result<()> {
    let mut state = match read(path) {
        Some(s) => s,
        None if path.symlink_metadata().is_ok() => {
            return Err(std::io::Error::other(format!(
                "{} is not the console's state: left alone",
                path.display()
            )));
        }
        None => State::default(),
    };
    state.filters.retain(|(s, _)| s != store);
    if !text.is_empty() {
        state.filters.push((store.to_string(), text.to_string()));
    }
    let excess = state.filters.len().saturating_sub(MOST_STORES);
    state.filters.drain(..excess);
    if let Some(dir) = path.parent() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    // Written whole beside it, then moved into place.
    let tmp = path.with_extension(format!("json.{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&tmp)?;
    let json = serde_json::to_vec(&state).map_err(std::io::Error::other)?;
    std::io::Write::write_all(&mut file, &json)?;
    drop(file);
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// The filters as they would be read back (for tests).
pub fn filters(path: &Path) -> Option<BTreeMap<String, String>> {
    read(path).map(|s| s.filters.into_iter().collect())
}

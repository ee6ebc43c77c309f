//! Progress on standard error for long work (`ingest` of a file, `tick`
//! over a backlog, `deliver --once`), drawn only when standard error is a
//! terminal: scripts and logs see nothing of it.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::present::thousands;

/// Whether progress would be seen at all.
fn shown() -> bool {
    std::io::stderr().is_terminal()
}

fn bar(len: Option<u64>, template: &str) -> ProgressBar {
    if !shown() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(template) {
        // Whole things per second, grouped like every other number here.
        let rate = |s: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{}/s", thousands(s.per_sec() as i64));
        };
        bar.set_style(style.with_key("rate", rate).progress_chars("█▉▊▋▌▍▎▏ "));
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// Bytes of a file read so far.
pub fn bytes(len: u64) -> ProgressBar {
    bar(
        Some(len),
        "{bar:30} {bytes}/{total_bytes} read ({elapsed}, about {eta} left)",
    )
}

/// Things done, with no known total (standard input, a tick's backlog).
pub fn count(what: &str) -> ProgressBar {
    let b = bar(None, "{spinner} {human_pos} {msg} ({rate}, {elapsed})");
    b.set_message(what.to_string());
    b
}

/// Things done out of a known total.
pub fn of(len: u64, what: &str) -> ProgressBar {
    let b = bar(
        Some(len),
        "{bar:30} {human_pos}/{human_len} {msg} ({rate}, about {eta} left)",
    );
    b.set_message(what.to_string());
    b
}

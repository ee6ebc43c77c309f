//! Owning the operator's terminal: raw mode and the alternate screen in,
//! and always out again — on return, on error, on panic and on signals.

use std::io::{BufWriter, Stdout, Write};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::{cursor, execute, terminal};

pub type Term = Terminal<CrosstermBackend<BufWriter<Stdout>>>;

/// Restores the terminal when dropped.
pub struct TerminalGuard {
    terminal: Option<Term>,
}

static PANIC_HOOK: Once = Once::new();

/// Whether the console holds the terminal now. Restoring twice would send
/// a second "leave the alternate screen", which makes some terminals
/// (tmux) jump the cursor back over what was printed in between.
static ENTERED: AtomicBool = AtomicBool::new(false);

/// Leaves raw mode and the alternate screen, once; errors are ignored
/// (after a hang-up there is no terminal left to restore).
pub fn restore() {
    if !ENTERED.swap(false, Ordering::SeqCst) {
        return;
    }
    let _ = terminal::disable_raw_mode();
    let mut out = std::io::stdout();
    let _ = execute!(
        out,
        terminal::EndSynchronizedUpdate,
        terminal::LeaveAlternateScreen,
        cursor::Show
    );
    let _ = out.flush();
}

fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            restore();
            let msg = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            let place = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            tracing::error!("panic{place}: {msg}");
            eprintln!("journeyctl stopped on an internal error{place}: {msg}");
            eprintln!(
                "Nothing was changed by it. The log is at {}",
                crate::logging::log_path().display()
            );
        }));
    });
}

impl TerminalGuard {
    pub fn enter() -> std::io::Result<TerminalGuard> {
        install_panic_hook();
        terminal::enable_raw_mode()?;
        ENTERED.store(true, Ordering::SeqCst);
        // Keys typed before the console is drawn (while the demo seeded,
        // or the store was opened) never act on a screen nobody saw.
        while ratatui::crossterm::event::poll(std::time::Duration::ZERO).unwrap_or(false) {
            if ratatui::crossterm::event::read().is_err() {
                break;
            }
        }
        let mut out = std::io::stdout();
        if let Err(e) = execute!(out, terminal::EnterAlternateScreen, cursor::Hide) {
            restore();
            return Err(e);
        }
        let backend = CrosstermBackend::new(BufWriter::with_capacity(1 << 16, std::io::stdout()));
        let terminal = match Terminal::new(backend) {
            Ok(t) => t,
            Err(e) => {
                restore();
                return Err(std::io::Error::other(e.to_string()));
            }
        };
        Ok(TerminalGuard {
            terminal: Some(terminal),
        })
    }

    pub fn term(&mut self) -> &mut Term {
        self.terminal
            .as_mut()
            .expect("the terminal is held until drop")
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
        // ratatui's own drop shows the cursor and, when it cannot, prints
        // that to standard error; after a hang-up that print panics. So it
        // is shown here, and where that fails the terminal is gone and the
        // value is let go without its drop.
        if let Some(mut term) = self.terminal.take()
            && term.show_cursor().is_err()
        {
            std::mem::forget(term);
        }
    }
}

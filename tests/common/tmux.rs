//! The end-to-end tests' side of the one tmux driver
//! (`journeyctl::bench::tmux`, which the bench uses too): the real binary
//! in a terminal of a given size, keys typed, the screen read, and what
//! goes wrong a test failure.

use std::time::Duration;

use journeyctl::bench::tmux::Session;

pub struct Tmux(Session);

impl Tmux {
    pub fn start(name: &str, command: &str, width: u16, height: u16) -> Tmux {
        let socket = format!("jctl-{name}-{}", std::process::id());
        Tmux(
            Session::start(socket, command, width, height)
                .expect("tmux must be installed for the console end-to-end tests"),
        )
    }

    /// The tmux server's name.
    pub fn socket(&self) -> &str {
        self.0.socket()
    }

    pub fn keys(&self, keys: &[&str]) {
        self.0.keys(keys).unwrap();
    }

    pub fn text(&self, s: &str) {
        self.0.text(s).unwrap();
    }

    pub fn screen(&self) -> String {
        self.0.screen()
    }

    /// The screen and what scrolled off it.
    pub fn history(&self) -> String {
        self.0.history()
    }

    pub fn query(&self, format: &str) -> String {
        self.0.query(format)
    }

    pub fn wait_for(&self, want: &str) -> String {
        self.wait_for_every(want, Duration::from_millis(100))
    }

    /// [`Tmux::wait_for`], reading the screen every `every` (a test that
    /// times what it waits for reads often).
    pub fn wait_for_every(&self, want: &str, every: Duration) -> String {
        self.0
            .wait_for(want, Duration::from_secs(20), every)
            .unwrap_or_else(|s| panic!("screen never showed {want:?}:\n{s}"))
    }

    pub fn wait_dead(&self) {
        assert!(
            self.0.wait_dead(Duration::from_secs(10)),
            "the console did not exit:\n{}",
            self.screen()
        );
    }

    /// The terminal goes away under the console, as when an SSH link
    /// drops: the server ends, the pty closes and the console gets SIGHUP.
    pub fn hang_up(&self) {
        self.0.hang_up();
    }
}

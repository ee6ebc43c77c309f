//! The one key table: which key does what on a screen. It drives the
//! dispatch (`keys.rs`), the footer and the help screen, and `[keys]` in
//! `config.toml` remaps any action:
//!
//! ```toml
//! [keys]
//! stop = "z"
//! down = ["Down", "J"]
//! ```
//!
//! A remap that gives one key to two actions, names no key, or puts a
//! printable key on a pane's commit (typing the name would commit it) is
//! refused when the file is read.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

mod names;
pub use names::{key_name, parse_key};

/// Everything a key can ask for outside a text field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Details,
    Back,
    Filter,
    All,
    Sort,
    SortReverse,
    Audit,
    Channels,
    Finish,
    Stop,
    StopAll,
    Pause,
    Resume,
    KillSwitch,
    Brake,
    Publish,
    RateDown,
    RateUp,
    HoldAction,
    Unschedule,
    Approvals,
    ArmDisable,
    ArmWinner,
    Note,
    ClaimIt,
    Mark,
    MarkAll,
    Unmark,
    Copy,
    CopyAction,
    Help,
    Quit,
    /// A pane's commit (Enter): never a printable key.
    Confirm,
}

/// One row of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub action: Action,
    /// Its name in `[keys]`.
    pub name: &'static str,
    pub keys: Vec<KeyCode>,
    /// For the help screen.
    pub help: &'static str,
    /// For the footer (`None`: not shown there).
    pub short: Option<&'static str>,
}

/// The table in use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyMap {
    bindings: Vec<Binding>,
}

/// A default row: action, name in `[keys]`, keys, help, footer label.
type Row = (
    Action,
    &'static str,
    &'static [KeyCode],
    &'static str,
    Option<&'static str>,
);

const DEFAULTS: &[Row] = {
    use Action::*;
    use KeyCode::{Char, Down as D, End, Enter, Esc, Home, PageDown as PD, PageUp as PU, Up as U};
    &[
        (Up, "up", &[U, Char('k')], "move up", None),
        (Down, "down", &[D, Char('j')], "move down", None),
        (PageUp, "page_up", &[PU], "a page up", None),
        (PageDown, "page_down", &[PD], "a page down", None),
        (Top, "top", &[Home, Char('g')], "to the top", None),
        (Bottom, "bottom", &[End, Char('G')], "to the bottom", None),
        (
            Details,
            "details",
            &[Enter],
            "details of the selected version's journey",
            Some("details"),
        ),
        (
            Back,
            "back",
            &[Esc],
            "back; clears the filter on the main screen",
            Some("back"),
        ),
        (
            Filter,
            "filter",
            &[Char('/')],
            "filter: words, status:S, action:A, !word (several at once)",
            Some("filter"),
        ),
        (
            All,
            "all",
            &[Char('t')],
            "show every version, or live & draining only",
            Some("all"),
        ),
        (Sort, "sort", &[Char('o')], "next sort column", Some("sort")),
        (
            SortReverse,
            "sort_reverse",
            &[Char('O')],
            "reverse the order",
            None,
        ),
        (Audit, "audit", &[Char('a')], "audit log", Some("audit")),
        (
            Channels,
            "channels",
            &[Char('c')],
            "channels: delivery health per action",
            Some("channels"),
        ),
        (
            Finish,
            "finish",
            &[Char('f')],
            "finish the selected version (asks first)",
            Some("finish"),
        ),
        (
            Stop,
            "stop",
            &[Char('s')],
            "stop the selected version (asks for the name)",
            Some("stop"),
        ),
        (
            StopAll,
            "stop_all",
            &[Char('S')],
            "stop every version of the journey (asks for the name)",
            Some("stop all"),
        ),
        (
            Pause,
            "pause",
            &[Char('p')],
            "pause the selected version: hold it, reversibly (asks first)",
            Some("pause"),
        ),
        (
            Resume,
            "resume",
            &[Char('r')],
            "resume the selected paused version (asks first)",
            Some("resume"),
        ),
        (
            KillSwitch,
            "kill_switch",
            &[Char('K')],
            "kill switch: stop or pause every version using an action",
            Some("kill"),
        ),
        (
            Brake,
            "brake",
            &[Char('!')],
            "brake: pause or stop the whole store (asks for its name)",
            Some("brake"),
        ),
        (
            Publish,
            "publish",
            &[Char('P')],
            "publish the newest draft, the live one finishes (asks the name)",
            Some("publish"),
        ),
        (
            RateDown,
            "rate_down",
            &[Char('-')],
            "channels: halve the selected action's rate, live (or type one)",
            Some("rate ½"),
        ),
        (
            RateUp,
            "rate_up",
            &[Char('+')],
            "channels: double the selected action's rate, live (or type one)",
            Some("rate ×2"),
        ),
        (
            HoldAction,
            "hold_action",
            &[Char('h')],
            "channels: hold the selected action (its messages wait); r releases it",
            Some("hold"),
        ),
        (
            Unschedule,
            "unschedule",
            &[Char('x')],
            "take back the selected version's action set for a time (⏰)",
            None,
        ),
        (
            Approvals,
            "approvals",
            &[Char('A')],
            "the requests waiting for approval (four eyes): Enter approves one",
            None,
        ),
        (
            ArmDisable,
            "arm_disable",
            &[Char('d')],
            "detail: disable an arm of the A/B test (new entries go to the others)",
            None,
        ),
        (
            ArmWinner,
            "arm_winner",
            &[Char('w')],
            "detail: pick the A/B winner",
            None,
        ),
        (
            Note,
            "note",
            &[Char('n')],
            "leave a note on the selected version",
            None,
        ),
        (
            ClaimIt,
            "claim",
            &[Char('m')],
            "claim the version; yours: give it back",
            None,
        ),
        (
            Mark,
            "mark",
            &[Char(' ')],
            "mark the selected version; f s p r then act on every marked one",
            Some("mark"),
        ),
        (
            MarkAll,
            "mark_all",
            &[Char('*')],
            "mark every version shown (after a filter: those it shows)",
            None,
        ),
        (Unmark, "unmark", &[Char('u')], "clear the marks", None),
        (
            Copy,
            "copy",
            &[Char('y')],
            "copy the journey's name to your clipboard (OSC 52)",
            None,
        ),
        (
            CopyAction,
            "copy_action",
            &[Char('Y')],
            "copy the last action's command line (OSC 52)",
            None,
        ),
        (Help, "help", &[Char('?')], "this help", Some("help")),
        (
            Quit,
            "quit",
            &[Char('q')],
            "quit (Ctrl-C too)",
            Some("quit"),
        ),
        (
            Confirm,
            "confirm",
            &[Enter],
            "in a pane: commit (y too where no name is typed)",
            None,
        ),
    ]
};

impl Default for KeyMap {
    fn default() -> KeyMap {
        KeyMap {
            bindings: DEFAULTS
                .iter()
                .map(|&(action, name, keys, help, short)| Binding {
                    action,
                    name,
                    keys: keys.to_vec(),
                    help,
                    short,
                })
                .collect(),
        }
    }
}

impl KeyMap {
    /// The defaults with `remaps` (action name, key names) applied; why a
    /// remap is refused, as `keys.ACTION: why` with the remap's index.
    pub fn with_remaps(remaps: &[(String, Vec<String>)]) -> Result<KeyMap, (usize, String)> {
        let mut map = KeyMap::default();
        for (i, (name, keys)) in remaps.iter().enumerate() {
            let why = |w: String| (i, format!("keys.{name}: {w}"));
            let Some(b) = map.bindings.iter_mut().find(|b| b.name == name) else {
                let names: Vec<&str> = DEFAULTS.iter().map(|d| d.1).collect();
                return Err(why(format!("no such action (one of {})", names.join(", "))));
            };
            if keys.is_empty() {
                return Err(why("names no key".into()));
            }
            let codes = keys
                .iter()
                .map(|k| parse_key(k))
                .collect::<Result<Vec<_>, _>>()
                .map_err(why)?;
            if b.action == Action::Confirm && codes.iter().any(|c| matches!(c, KeyCode::Char(_))) {
                return Err(why(
                    "a printable key would commit a pane while its name is typed".into(),
                ));
            }
            // Esc cancels every pane, and Tab and the arrows move in it:
            // none of them may commit one.
            if b.action == Action::Confirm
                && codes.iter().any(|c| {
                    matches!(
                        c,
                        KeyCode::Esc
                            | KeyCode::Tab
                            | KeyCode::BackTab
                            | KeyCode::Left
                            | KeyCode::Right
                            | KeyCode::Backspace
                    )
                })
            {
                return Err(why(
                    "Esc, Tab, the arrows and Backspace act in a pane (Esc cancels it): none may commit one"
                        .into(),
                ));
            }
            b.keys = codes;
        }
        let remapped: Vec<&str> = remaps.iter().map(|(n, _)| n.as_str()).collect();
        map.refuse_collisions(&remapped).map_err(|(name, w)| {
            let i = remaps.iter().position(|(n, _)| *n == name).unwrap_or(0);
            (i, format!("keys.{name}: {w}"))
        })?;
        Ok(map)
    }

    /// Two actions of the screens on one key would make one of them
    /// unreachable. (The pane's commit shares Enter with details: they
    /// never meet, a pane takes every key while it is open.)
    /// The remapped action is named: "s is already stop".
    fn refuse_collisions(&self, remapped: &[&str]) -> Result<(), (String, String)> {
        let screen = |b: &&Binding| b.action != Action::Confirm;
        for (i, a) in self.bindings.iter().filter(screen).enumerate() {
            for b in self.bindings.iter().filter(screen).skip(i + 1) {
                if let Some(k) = a.keys.iter().find(|k| b.keys.contains(k)) {
                    let (moved, other) = if remapped.contains(&b.name) {
                        (b, a)
                    } else {
                        (a, b)
                    };
                    return Err((
                        moved.name.to_string(),
                        format!("{} is already {}", key_name(*k), other.name),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The action of a key on a screen (Ctrl-C quits whatever the table).
    pub fn action(&self, key: KeyEvent) -> Option<Action> {
        if key.modifiers.contains(KeyModifiers::CONTROL) {
            return (key.code == KeyCode::Char('c')).then_some(Action::Quit);
        }
        self.bindings
            .iter()
            .filter(|b| b.action != Action::Confirm)
            .find(|b| b.keys.contains(&key.code))
            .map(|b| b.action)
    }

    /// Whether `key` commits a pane.
    pub fn confirms(&self, key: KeyEvent) -> bool {
        self.binding(Action::Confirm).keys.contains(&key.code)
    }

    pub fn binding(&self, action: Action) -> &Binding {
        self.bindings
            .iter()
            .find(|b| b.action == action)
            .expect("every action has a row")
    }

    /// The first key of an action, as the footer and notices write it.
    pub fn key(&self, action: Action) -> String {
        self.binding(action)
            .keys
            .first()
            .map_or("-".into(), |k| key_name(*k))
    }

    /// Every row, for the help screen: the action, what it does.
    pub fn rows(&self) -> Vec<(Action, &'static str)> {
        self.bindings.iter().map(|b| (b.action, b.help)).collect()
    }

    /// `key label` pairs for the footer, in the order given.
    pub fn footer(&self, actions: &[Action]) -> String {
        actions
            .iter()
            .filter_map(|&a| {
                let b = self.binding(a);
                b.short.map(|s| format!("{} {s}", self.key(b.action)))
            })
            .collect::<Vec<_>>()
            .join("  ")
    }
}

#[cfg(test)]
mod tests;

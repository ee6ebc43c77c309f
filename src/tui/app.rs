//! Console state and its update function: keys and data arrive as messages,
//! `update` changes the state and asks the runtime for effects. No terminal
//! and no database here, so most console tests need neither.

use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

use super::confirm::{ConfirmPane, PaneReply, PaneState};
use crate::domain::time::Millis;
use crate::domain::{EndKind, VersionStatus};
use crate::store::{
    AuditEntry, Impact, OperatorAction, Outcome, Target, VersionDetail, VersionSummary,
};

/// Facts about this session shown in the header.
#[derive(Debug, Clone)]
pub struct Context {
    pub store: String,
    pub operator: String,
    pub read_only: bool,
    /// Shown under the header (the demo says what it is).
    pub banner: Option<String>,
    pub refresh: std::time::Duration,
    /// The demo's simulated clock: activity times are on it, not the wall's.
    pub sim_clock: Option<crate::domain::clock::SimClock>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Main,
    Detail,
    Audit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Status,
    Journey,
    Entered,
    Active,
    Conversion,
    LastActivity,
}

impl SortKey {
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Status => "status",
            SortKey::Journey => "journey",
            SortKey::Entered => "entered",
            SortKey::Active => "active",
            SortKey::Conversion => "conversion",
            SortKey::LastActivity => "last activity",
        }
    }

    fn next(self) -> SortKey {
        match self {
            SortKey::Status => SortKey::Journey,
            SortKey::Journey => SortKey::Entered,
            SortKey::Entered => SortKey::Active,
            SortKey::Active => SortKey::Conversion,
            SortKey::Conversion => SortKey::LastActivity,
            SortKey::LastActivity => SortKey::Status,
        }
    }
}

/// What the runtime must fetch for the current view.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Want {
    pub detail: Option<String>,
    pub audit: bool,
    pub impact: Option<OperatorAction>,
}

/// The detail view's data: every version of one journey and its history.
#[derive(Debug, Clone, Default)]
pub struct DetailData {
    pub journey: String,
    pub versions: Vec<VersionDetail>,
    pub audit: Vec<AuditEntry>,
}

/// One refresh's data.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub versions: Vec<VersionSummary>,
    pub detail: Option<DetailData>,
    pub audit: Option<Vec<AuditEntry>>,
    pub impact: Option<(OperatorAction, Result<Impact, String>)>,
    pub fetched_at: Millis,
}

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Data(Box<Snapshot>),
    /// A refresh failed: the store is unreachable or refused.
    DataError(String, Millis),
    ActionDone(Result<Outcome, String>),
    /// The once-a-second clock.
    Clock(Millis),
    Resize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Quit,
    /// Fetch now (the view changed).
    Refresh,
    /// The one way to a dangerous change: a confirmed action.
    Execute(OperatorAction),
}

#[derive(Debug, Clone)]
pub struct App {
    pub ctx: Context,
    pub now: Millis,
    pub view: View,
    pub versions: Vec<VersionSummary>,
    pub show_all: bool,
    pub sort: SortKey,
    pub sort_desc: bool,
    pub filter: Input,
    pub filtering: bool,
    /// Selected row in the visible main list.
    pub selected: usize,
    pub detail: Option<DetailData>,
    pub detail_selected: usize,
    pub audit: Vec<AuditEntry>,
    pub audit_offset: usize,
    pub help: bool,
    pub pane: Option<ConfirmPane>,
    /// A one-line message in the footer (why a key did nothing).
    pub notice: Option<String>,
    pub last_ok: Option<Millis>,
    /// The last refresh failed with this.
    pub stale: Option<String>,
    pub loaded: bool,
    pub dirty: bool,
    effects: Vec<Effect>,
}

impl App {
    pub fn new(ctx: Context, now: Millis) -> App {
        App {
            ctx,
            now,
            view: View::Main,
            versions: Vec::new(),
            show_all: false,
            sort: SortKey::Status,
            sort_desc: false,
            filter: Input::default(),
            filtering: false,
            selected: 0,
            detail: None,
            detail_selected: 0,
            audit: Vec::new(),
            audit_offset: 0,
            help: false,
            pane: None,
            notice: None,
            last_ok: None,
            stale: None,
            loaded: false,
            dirty: true,
            effects: Vec::new(),
        }
    }

    /// "Now" on the clock the store's activity times are on.
    pub fn activity_now(&self) -> Millis {
        self.ctx.sim_clock.map_or(self.now, |c| c.at_wall(self.now))
    }

    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// What the runtime should fetch for what is on screen.
    pub fn want(&self) -> Want {
        Want {
            detail: (self.view == View::Detail)
                .then(|| self.detail_journey())
                .flatten(),
            audit: self.view == View::Audit,
            impact: self
                .pane
                .as_ref()
                .filter(|p| p.state == PaneState::Editing)
                .filter(|p| !p.kill_switch || !p.typed_action().is_empty())
                .map(|p| p.action.clone()),
        }
    }

    fn detail_journey(&self) -> Option<String> {
        self.detail.as_ref().map(|d| d.journey.clone())
    }

    /// Why actions are refused right now, if they are.
    pub fn blocked(&self) -> Option<String> {
        if self.ctx.read_only {
            return Some(crate::present::read_only(
                "this console cannot finish or stop",
            ));
        }
        if let Some(err) = &self.stale {
            let age = self
                .last_ok
                .map(|t| {
                    format!(
                        "; data shown is from {}",
                        crate::domain::time::ago(self.now, t)
                    )
                })
                .unwrap_or_default();
            return Some(format!(
                "the store is unreachable, so no action can run now ({err}){age}"
            ));
        }
        if !self.loaded {
            return Some("no data yet: wait for the first refresh".into());
        }
        None
    }

    /// The versions on the main screen, filtered and sorted.
    pub fn visible(&self) -> Vec<&VersionSummary> {
        let needle = self.filter.value().to_lowercase();
        let mut out: Vec<&VersionSummary> = self
            .versions
            .iter()
            .filter(|v| self.show_all || running(v))
            .filter(|v| needle.is_empty() || v.journey.to_lowercase().contains(&needle))
            .collect();
        let rank = |v: &VersionSummary| crate::present::shown(v).rank();
        out.sort_by(|a, b| {
            let primary = match self.sort {
                SortKey::Status => rank(a).cmp(&rank(b)),
                SortKey::Journey => natural_cmp(&a.journey, &b.journey),
                SortKey::Entered => b.counts.entered.cmp(&a.counts.entered),
                SortKey::Active => b.counts.active.cmp(&a.counts.active),
                SortKey::Conversion => b
                    .conversion_rate
                    .unwrap_or(-1.0)
                    .total_cmp(&a.conversion_rate.unwrap_or(-1.0)),
                SortKey::LastActivity => b.last_activity_ms.cmp(&a.last_activity_ms),
            };
            let primary = if self.sort_desc {
                primary.reverse()
            } else {
                primary
            };
            primary
                .then_with(|| natural_cmp(&a.journey, &b.journey))
                .then_with(|| b.version.cmp(&a.version))
        });
        out
    }

    pub fn selected_version(&self) -> Option<&VersionSummary> {
        let visible = self.visible();
        visible
            .get(self.selected.min(visible.len().saturating_sub(1)))
            .copied()
    }

    /// The version an action key acts on: the main list's selection, or the
    /// detail view's.
    fn action_subject(&self) -> Option<(String, i64, VersionStatus)> {
        match self.view {
            View::Detail => {
                let detail = self.detail.as_ref()?;
                let d = detail.versions.get(self.detail_selected)?;
                Some((detail.journey.clone(), d.summary.version, d.summary.status))
            }
            _ => self
                .selected_version()
                .map(|v| (v.journey.clone(), v.version, v.status)),
        }
    }

    pub fn update(&mut self, msg: Msg) {
        self.dirty = true;
        match msg {
            Msg::Key(key) => self.on_key(key),
            Msg::Data(snapshot) => self.on_data(*snapshot),
            Msg::DataError(err, at) => {
                let changed = self.stale.as_deref() != Some(err.as_str());
                self.stale = Some(err);
                self.now = self.now.max(at);
                self.dirty = changed || self.dirty;
            }
            Msg::ActionDone(result) => {
                if let Some(pane) = &mut self.pane {
                    pane.state = match result {
                        Ok(outcome) => PaneState::Done(outcome),
                        Err(why) => PaneState::Refused(why),
                    };
                }
                self.effects.push(Effect::Refresh);
            }
            Msg::Clock(now) => {
                // Only the age labels change: redraw once a second.
                self.now = now;
            }
            Msg::Resize => {}
        }
    }

    fn on_data(&mut self, s: Snapshot) {
        let keep = self
            .selected_version()
            .map(|v| (v.journey.clone(), v.version));
        self.versions = s.versions;
        self.stale = None;
        self.loaded = true;
        self.last_ok = Some(s.fetched_at);
        self.now = self.now.max(s.fetched_at);
        if let Some((j, n)) = keep
            && let Some(i) = self
                .visible()
                .iter()
                .position(|v| v.journey == j && v.version == n)
        {
            self.selected = i;
        }
        self.clamp_selection();
        if let Some(detail) = s.detail
            && self.view == View::Detail
            && self.detail_journey().as_deref() == Some(detail.journey.as_str())
        {
            self.detail_selected = self
                .detail_selected
                .min(detail.versions.len().saturating_sub(1));
            self.detail = Some(detail);
        }
        if let Some(audit) = s.audit {
            self.audit = audit;
            self.audit_offset = self.audit_offset.min(self.audit.len().saturating_sub(1));
        }
        if let (Some((action, impact)), Some(pane)) = (s.impact, self.pane.as_mut())
            && pane.action == action
            && pane.state == PaneState::Editing
        {
            pane.impact = Some(impact);
            pane.impact_at = Some(s.fetched_at);
            if pane.kill_switch {
                // The versions are listed now; the old "wait" is moot.
                pane.hint = None;
            }
        }
    }

    fn clamp_selection(&mut self) {
        let n = self.visible().len();
        self.selected = self.selected.min(n.saturating_sub(1));
    }

    fn on_key(&mut self, key: KeyEvent) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') && self.pane.is_none() {
            self.effects.push(Effect::Quit);
            return;
        }
        if self.pane.is_some() {
            let blocked = self.blocked();
            let Some(pane) = self.pane.as_mut() else {
                return;
            };
            match pane.on_key(key, blocked.as_deref()) {
                PaneReply::Nothing => {}
                PaneReply::Close => {
                    self.pane = None;
                    self.effects.push(Effect::Refresh);
                }
                PaneReply::Confirmed(action) => self.effects.push(Effect::Execute(action)),
            }
            return;
        }
        if self.help {
            self.help = false;
            return;
        }
        if self.filtering {
            match key.code {
                KeyCode::Esc => {
                    self.filter.reset();
                    self.filtering = false;
                }
                KeyCode::Enter => self.filtering = false,
                KeyCode::Up | KeyCode::Down => {
                    self.filtering = false;
                    self.on_key(key);
                    return;
                }
                _ => {
                    self.filter.handle_event(&Event::Key(key));
                }
            }
            self.selected = 0;
            return;
        }
        self.notice = None;
        match key.code {
            KeyCode::Char('q') => self.effects.push(Effect::Quit),
            KeyCode::Char('?') => self.help = true,
            KeyCode::Esc => match self.view {
                View::Main => {
                    if !self.filter.value().is_empty() {
                        self.filter.reset();
                        self.selected = 0;
                    }
                }
                _ => self.view = View::Main,
            },
            KeyCode::Up | KeyCode::Char('k') => self.move_by(-1),
            KeyCode::Down | KeyCode::Char('j') => self.move_by(1),
            KeyCode::PageUp => self.move_by(-10),
            KeyCode::PageDown => self.move_by(10),
            KeyCode::Home | KeyCode::Char('g') => self.move_by(-1_000_000),
            KeyCode::End | KeyCode::Char('G') => self.move_by(1_000_000),
            KeyCode::Enter if self.view == View::Main => {
                if let Some(v) = self.selected_version() {
                    self.detail = Some(DetailData {
                        journey: v.journey.clone(),
                        ..Default::default()
                    });
                    self.detail_selected = 0;
                    self.view = View::Detail;
                    self.effects.push(Effect::Refresh);
                }
            }
            KeyCode::Char('a') => {
                self.view = View::Audit;
                self.audit_offset = 0;
                self.effects.push(Effect::Refresh);
            }
            KeyCode::Char('/') if self.view == View::Main => {
                self.filtering = true;
            }
            KeyCode::Char('t') if self.view == View::Main => {
                self.show_all = !self.show_all;
                self.clamp_selection();
            }
            KeyCode::Char('o') if self.view == View::Main => {
                self.sort = self.sort.next();
                self.sort_desc = false;
                self.selected = 0;
            }
            KeyCode::Char('O') if self.view == View::Main => {
                self.sort_desc = !self.sort_desc;
                self.selected = 0;
            }
            KeyCode::Char('f') => self.open_pane(EndKind::Finish, false),
            KeyCode::Char('s') => self.open_pane(EndKind::Stop, false),
            KeyCode::Char('S') => self.open_pane(EndKind::Stop, true),
            KeyCode::Char('K') => self.open_kill_switch(),
            _ => {}
        }
    }

    fn move_by(&mut self, delta: i64) {
        match self.view {
            View::Main => {
                let n = self.visible().len() as i64;
                self.selected = (self.selected as i64 + delta).clamp(0, (n - 1).max(0)) as usize;
            }
            View::Detail => {
                let n = self.detail.as_ref().map_or(0, |d| d.versions.len()) as i64;
                self.detail_selected =
                    (self.detail_selected as i64 + delta).clamp(0, (n - 1).max(0)) as usize;
            }
            View::Audit => {
                let n = self.audit.len() as i64;
                self.audit_offset =
                    (self.audit_offset as i64 + delta).clamp(0, (n - 1).max(0)) as usize;
            }
        }
    }

    fn open_kill_switch(&mut self) {
        if self.view == View::Audit {
            return;
        }
        if self.ctx.read_only {
            self.notice = Some(crate::present::read_only("K does nothing"));
            return;
        }
        self.pane = Some(ConfirmPane::kill_switch());
    }

    /// Actions that running versions send through, for the kill switch,
    /// folded by channel: `email:* (13)` when a channel has several.
    pub fn actions_in_use(&self) -> Vec<String> {
        let mut all: Vec<&str> = self
            .versions
            .iter()
            .filter(|v| v.status.runs_steps())
            .flat_map(|v| v.uses_actions.iter().map(String::as_str))
            .collect();
        all.sort_unstable();
        all.dedup();
        let mut out: Vec<String> = Vec::new();
        let mut i = 0;
        while i < all.len() {
            let channel = all[i].split(':').next().unwrap_or(all[i]);
            let same = all[i..]
                .iter()
                .take_while(|a| a.split(':').next() == Some(channel))
                .count();
            if same > 1 {
                out.push(format!("{channel}:* ({same})"));
            } else {
                out.push(all[i].to_string());
            }
            i += same;
        }
        out
    }

    fn open_pane(&mut self, kind: EndKind, all_versions: bool) {
        if self.view == View::Audit {
            return;
        }
        if self.ctx.read_only {
            self.notice = Some(crate::present::read_only("f, s and S do nothing"));
            return;
        }
        let Some((journey, version, status)) = self.action_subject() else {
            self.notice = Some("nothing selected".into());
            return;
        };
        if !all_versions && let Some(why) = status.refusal(kind) {
            self.notice = Some(format!(
                "cannot {} {journey} v{version}: {why}",
                kind.verb()
            ));
            return;
        }
        let target = if all_versions {
            Target::AllVersions { journey }
        } else {
            Target::Version {
                journey,
                version: Some(version),
            }
        };
        self.pane = Some(ConfirmPane::new(OperatorAction {
            kind,
            target,
            reason: None,
        }));
        self.effects.push(Effect::Refresh);
    }
}

/// On the main screen by default: live versions and finished ones still
/// draining; `t` shows every version.
pub fn running(v: &VersionSummary) -> bool {
    crate::present::shown(v).running()
}

/// Orders names as people do: `journey-2` before `journey-10`.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.chars().peekable(), b.chars().peekable());
    loop {
        match (x.peek().copied(), y.peek().copied()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, Some(_)) => return std::cmp::Ordering::Less,
            (Some(_), None) => return std::cmp::Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let mut n = String::new();
                while let Some(c) = x.peek().copied().filter(char::is_ascii_digit) {
                    n.push(c);
                    x.next();
                }
                let mut m = String::new();
                while let Some(d) = y.peek().copied().filter(char::is_ascii_digit) {
                    m.push(d);
                    y.next();
                }
                let (n, m) = (n.trim_start_matches('0'), m.trim_start_matches('0'));
                let ord = n.len().cmp(&m.len()).then_with(|| n.cmp(m));
                if ord != std::cmp::Ordering::Equal {
                    return ord;
                }
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(&d);
                }
                x.next();
                y.next();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::natural_cmp;
    use std::cmp::Ordering::*;

    #[test]
    fn natural_order_of_names() {
        assert_eq!(natural_cmp("journey-2", "journey-10"), Less);
        assert_eq!(natural_cmp("journey-10", "journey-10"), Equal);
        assert_eq!(natural_cmp("a", "b"), Less);
        assert_eq!(natural_cmp("v007", "v7"), Equal);
        assert_eq!(natural_cmp("cart", "cart-recovery"), Less);
    }
}

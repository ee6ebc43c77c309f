//! Console state and its update function: keys and data arrive as messages,
//! `update` changes the state and asks the runtime for effects. No terminal
//! and no database here, so most console tests need neither.

use ratatui::crossterm::event::KeyEvent;
use tui_input::Input;

use super::confirm::{ConfirmPane, PaneState};
use super::publish::{PublishPane, PublishState};
pub use super::sort::SortKey;
use super::sort::natural_cmp;
use crate::domain::VersionStatus;
use crate::domain::time::Millis;
use crate::store::{
    ActionHealth, AuditEntry, Impact, OperatorAction, Outcome, PublishImpact, VersionDetail,
    VersionSummary,
};

/// Facts about this session shown in the header.
pub use super::effect::Effect;

#[derive(Debug, Clone, Default)]
pub struct Context {
    pub store: String,
    /// The config file's name for the store, and its colour.
    pub store_name: Option<String>,
    /// The store's own name where the config file gives none (a SQLite
    /// file's, a database's): what the store-wide brake asks to type.
    pub whole_name: String,
    pub store_colour: Option<String>,
    pub operator: String,
    /// The database login (PostgreSQL), with ` (viewer)` when it can only
    /// look: the header shows who the database sees.
    pub login: Option<String>,
    pub read_only: bool,
    /// Shown under the header (the demo says what it is).
    pub banner: Option<String>,
    pub refresh: std::time::Duration,
    /// The demo's simulated clock: activity times are on it, not the wall's.
    pub sim_clock: Option<crate::domain::clock::SimClock>,
    /// The key table (the defaults with the config file's `[keys]`).
    pub keys: super::keymap::KeyMap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Main,
    Detail,
    Audit,
    Channels,
}

/// What the runtime must fetch for the current view.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Want {
    pub detail: Option<String>,
    pub audit: bool,
    /// Delivery health per action: the channels screen, the kill switch.
    pub channels: bool,
    pub impact: Option<OperatorAction>,
    /// The journey whose publish the open pane shows.
    pub publish: Option<String>,
    /// The action whose hold or release the open pane shows.
    pub hold: Option<String>,
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
    pub channels: Option<Vec<ActionHealth>>,
    pub impact: Option<(OperatorAction, Result<Impact, String>)>,
    pub publish: Option<(String, Result<PublishImpact, String>)>,
    pub hold: Option<(String, Result<crate::store::HoldImpact, String>)>,
    pub fetched_at: Millis,
}

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Data(Box<Snapshot>),
    /// A refresh failed: the store is unreachable or refused.
    DataError(crate::store::Error, Millis),
    ActionDone(Result<Outcome, crate::store::Error>),
    /// The confirmed publish: the version that went live, or why not.
    PublishDone(Result<i64, crate::store::Error>),
    /// The confirmed hold or release: what it did, or why not.
    HoldDone(Result<String, crate::store::Error>),
    /// The confirmed take-back of an action set for a time.
    UnscheduleDone(Result<String, crate::store::Error>),
    /// The requests waiting for approval, read for the pane.
    ApprovalsLoaded(Result<Vec<crate::store::Request>, crate::store::Error>),
    /// An approval: what it carried out, or why not.
    ApproveDone(Result<String, crate::store::Error>),
    /// The confirmed A/B choice by hand.
    ArmDone(Result<String, crate::store::Error>),
    /// The note, claim or unclaim.
    TeamDone(Result<String, crate::store::Error>),
    /// The confirmed live rate: what it changed, or why not.
    RateDone(Result<crate::store::RateChanged, crate::store::Error>),
    /// The confirmed stop waits for this many deliveries in flight.
    ActionWaiting(crate::store::Waiting),
    /// The once-a-second clock.
    Clock(Millis),
    /// Whether changes reach the console as they happen (`false`: it
    /// polls every refresh, having lost or never had the watch).
    Live(bool),
    Resize,
}

/// What has the keyboard: the screen, the filter being typed, the help,
/// or a confirmation pane. One at a time.
#[derive(Debug, Clone)]
pub enum Mode {
    Browse,
    Filtering,
    Help,
    Pane(Box<ConfirmPane>),
    Publish(Box<PublishPane>),
    Rate(Box<super::rate::RatePane>),
    Hold(Box<super::hold::HoldPane>),
    Unschedule(Box<super::unschedule::UnschedulePane>),
    Approve(Box<super::approve::ApprovePane>),
    Arm(Box<super::arm::ArmPane>),
    Team(Box<super::team::TeamPane>),
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
    /// The command line of the last action confirmed in this console.
    pub last_cli: Option<String>,
    /// Versions marked for an action on a set (journey, version).
    pub marks: std::collections::BTreeSet<(String, i64)>,
    /// Selected row in the visible main list.
    pub selected: usize,
    pub detail: Option<DetailData>,
    pub detail_selected: usize,
    /// The first step shown in the detail view (PgUp/PgDn scroll them).
    pub step_offset: usize,
    /// How far the help is scrolled, on a screen too short for it.
    pub help_offset: u16,
    pub audit: Vec<AuditEntry>,
    pub audit_offset: usize,
    pub channels: Vec<ActionHealth>,
    /// Selected row of the channels screen.
    pub channel_selected: usize,
    /// What has the keyboard.
    pub mode: Mode,
    /// A one-line message in the footer (why a key did nothing).
    pub notice: Option<String>,
    pub last_ok: Option<Millis>,
    /// Whether changes arrive as they happen (`None`: not known yet).
    pub live: Option<bool>,
    /// Why the last refresh failed, in the header's words.
    pub stale: Option<String>,
    pub loaded: bool,
    pub dirty: bool,
    pub(super) effects: Vec<Effect>,
}

impl App {
    pub fn filtering(&self) -> bool {
        matches!(self.mode, Mode::Filtering)
    }

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
            marks: Default::default(),
            last_cli: None,
            selected: 0,
            detail: None,
            detail_selected: 0,
            step_offset: 0,
            help_offset: 0,
            audit: Vec::new(),
            audit_offset: 0,
            channels: Vec::new(),
            channel_selected: 0,
            mode: Mode::Browse,
            notice: None,
            last_ok: None,
            live: None,
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
            channels: self.view == View::Channels
                || self.pane().is_some_and(|p| p.is_kill_switch()),
            impact: self
                .pane()
                .filter(|p| p.state == PaneState::Editing)
                .filter(|p| !p.is_kill_switch() || !p.typed_action().is_empty())
                .map(|p| p.action.clone()),
            publish: self
                .publish_pane()
                .filter(|p| p.state == PublishState::Editing)
                .map(|p| p.journey.clone()),
            hold: self
                .hold_pane()
                .filter(|p| p.state == super::hold::HoldState::Editing)
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

    /// The versions the main list shows before its filter: live and
    /// draining, or every version after `t`.
    pub fn in_scope(&self) -> impl Iterator<Item = &VersionSummary> {
        self.versions
            .iter()
            .filter(|v| self.show_all || crate::present::shown(v).running())
    }

    /// Whether the version is marked for an action on a set.
    pub fn is_marked(&self, v: &VersionSummary) -> bool {
        self.marks.contains(&(v.journey.clone(), v.version))
    }

    /// The versions on the main screen, filtered and sorted.
    pub fn visible(&self) -> Vec<&VersionSummary> {
        let filter = super::filter::Filter::parse(self.filter.value());
        let mut out: Vec<&VersionSummary> = self
            .in_scope()
            .filter(|v| filter.is_empty() || filter.matches(v))
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

    /// The audit rows the filter lets through (the audit screen).
    pub fn visible_audit(&self) -> Vec<&AuditEntry> {
        let filter = super::filter::Filter::parse(self.filter.value());
        self.audit
            .iter()
            .filter(|e| filter.matches_audit(e))
            .collect()
    }

    pub fn selected_version(&self) -> Option<&VersionSummary> {
        let visible = self.visible();
        visible
            .get(self.selected.min(visible.len().saturating_sub(1)))
            .copied()
    }

    /// The version an action key acts on: the main list's selection, or the
    /// detail view's.
    pub(super) fn action_subject(&self) -> Option<(String, i64, VersionStatus, bool)> {
        let v = match self.view {
            View::Detail => {
                let detail = self.detail.as_ref()?;
                &detail.versions.get(self.detail_selected)?.summary
            }
            _ => self.selected_version()?,
        };
        Some((v.journey.clone(), v.version, v.status, v.paused.is_some()))
    }

    pub fn update(&mut self, msg: Msg) {
        self.dirty = true;
        match msg {
            Msg::Key(key) => self.on_key(key),
            Msg::Data(snapshot) => self.on_data(*snapshot),
            Msg::DataError(err, at) => {
                let words = crate::present::errors::outage_short(&err);
                let changed = self.stale.as_deref() != Some(words.as_str());
                self.stale = Some(words);
                self.now = self.now.max(at);
                self.dirty = changed || self.dirty;
            }
            Msg::ActionWaiting(w) => {
                if let Some(pane) = self.pane_mut()
                    && let PaneState::Working { waiting, .. } = &mut pane.state
                {
                    *waiting = Some(w);
                }
            }
            Msg::ActionDone(result) => {
                let on_marks = self.pane().is_some_and(|p| {
                    matches!(p.action.target, crate::store::Target::Journeys { .. })
                });
                if on_marks && result.is_ok() {
                    self.marks.clear();
                }
                if let Some(pane) = self.pane_mut() {
                    pane.state = match result {
                        Ok(outcome) => PaneState::Done(outcome),
                        Err(why) => PaneState::Refused(crate::present::errors::for_console(&why)),
                    };
                }
                self.effects.push(Effect::Refresh);
            }
            Msg::PublishDone(result) => {
                if let Some(pane) = self.publish_pane_mut() {
                    pane.state = match result {
                        Ok(n) => PublishState::Done(n),
                        Err(why) => {
                            PublishState::Refused(crate::present::errors::for_console(&why))
                        }
                    };
                }
                self.effects.push(Effect::Refresh);
            }
            Msg::RateDone(result) => self.rate_done(result),
            Msg::HoldDone(result) => self.hold_done(result),
            Msg::UnscheduleDone(result) => self.unschedule_done(result),
            Msg::ApprovalsLoaded(result) => self.approvals_loaded(result),
            Msg::ApproveDone(result) => self.approve_done(result),
            Msg::ArmDone(result) => self.arm_done(result),
            Msg::TeamDone(result) => self.team_done(result),
            Msg::Clock(now) => {
                // Only the age labels change: redraw once a second.
                self.now = now;
            }
            Msg::Resize => {}
            Msg::Live(live) => self.live = Some(live),
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
        if let Some(channels) = s.channels {
            self.channels = channels;
            self.channel_selected = self
                .channel_selected
                .min(self.channels.len().saturating_sub(1));
        }
        if let Some(audit) = s.audit {
            self.audit = audit;
            self.audit_offset = self.audit_offset.min(self.audit.len().saturating_sub(1));
        }
        if let (Some((journey, impact)), Some(pane)) = (s.publish, self.publish_pane_mut())
            && pane.journey == journey
            && pane.state == PublishState::Editing
        {
            pane.impact = Some(impact);
        }
        if let (Some((action, impact)), Some(pane)) = (s.hold, self.hold_pane_mut())
            && pane.action == action
            && pane.state == super::hold::HoldState::Editing
        {
            pane.impact = Some(impact);
        }
        if let (Some((action, impact)), Some(pane)) = (s.impact, self.pane_mut())
            && pane.action == action
            && pane.state == PaneState::Editing
        {
            pane.impact = Some(impact);
            pane.impact_at = Some(s.fetched_at);
            if pane.is_kill_switch() {
                // The versions are listed now; the old "wait" is moot.
                pane.hint = None;
            }
        }
    }

    pub(super) fn clamp_selection(&mut self) {
        let n = self.visible().len();
        self.selected = self.selected.min(n.saturating_sub(1));
    }
}

//! What each key does to the console's state (the pane's own keys are in
//! `confirm`).

use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use tui_input::backend::crossterm::EventHandler;

use super::app::{App, DetailData, Effect, Mode, View};
use super::confirm::{ConfirmPane, PaneReply};
use super::publish::{PublishPane, PublishReply};
use crate::domain::{ActionKind, Hold};
use crate::store::{OperatorAction, Target};

/// How many steps PgUp and PgDn scroll in the detail view.
const STEP_PAGE: usize = 3;

impl App {
    pub(super) fn on_key(&mut self, key: KeyEvent) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl
            && key.code == KeyCode::Char('c')
            && self.pane().is_none()
            && self.publish_pane().is_none()
            && self.rate_pane().is_none()
            && self.hold_pane().is_none()
        {
            self.effects.push(Effect::Quit);
            return;
        }
        match self.mode {
            Mode::Pane(_) => self.on_pane_key(key),
            Mode::Publish(_) => self.on_publish_key(key),
            Mode::Rate(_) => self.on_rate_key(key),
            Mode::Hold(_) => self.on_hold_key(key),
            Mode::Unschedule(_) => self.on_unschedule_key(key),
            Mode::Approve(_) => self.on_approve_key(key),
            Mode::Arm(_) => self.on_arm_key(key),
            Mode::Team(_) => self.on_team_key(key),
            Mode::Help => self.on_help_key(key),
            Mode::Filtering => self.on_filter_key(key),
            Mode::Browse => {
                self.notice = None;
                self.on_screen_key(key);
            }
        }
    }

    /// A key while a pane is open: the pane decides.
    fn on_pane_key(&mut self, key: KeyEvent) {
        let blocked = self.blocked();
        let key = self.in_pane(key);
        let Some(pane) = self.pane_mut() else {
            return;
        };
        match pane.on_key(key, blocked.as_deref()) {
            PaneReply::Nothing => {}
            PaneReply::Close => {
                self.mode = Mode::Browse;
                self.effects.push(Effect::Refresh);
            }
            PaneReply::Confirmed(action) => {
                self.last_cli = Some(crate::present::cli_line(&action));
                self.effects.push(Effect::Execute(action))
            }
            PaneReply::GiveUp => self.effects.push(Effect::GiveUp),
        }
    }

    /// A key as a pane takes it: one the table gives the pane's commit
    /// acts as Enter there.
    pub(super) fn in_pane(&self, key: KeyEvent) -> KeyEvent {
        if self.ctx.keys.confirms(key) {
            KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)
        } else {
            key
        }
    }

    /// A key while the publish pane is open: the pane decides.
    fn on_publish_key(&mut self, key: KeyEvent) {
        let blocked = self.blocked();
        let key = self.in_pane(key);
        let Some(pane) = self.publish_pane_mut() else {
            return;
        };
        match pane.on_key(key, blocked.as_deref()) {
            PublishReply::Nothing => {}
            PublishReply::Close => {
                self.mode = Mode::Browse;
                self.effects.push(Effect::Refresh);
            }
            PublishReply::Confirmed { journey, reason } => {
                self.last_cli = Some(crate::present::publish_line(&journey, reason.as_deref()));
                self.effects.push(Effect::Publish { journey, reason })
            }
        }
    }

    /// `y`: the journey's name (the selected version's, or the detail's).
    fn copy_name(&mut self) {
        let name = match self.view {
            View::Detail => self.detail.as_ref().map(|d| d.journey.clone()),
            _ => self.selected_version().map(|v| v.journey.clone()),
        };
        match name {
            Some(name) => self.copy(name),
            None => self.notice = Some("nothing selected: nothing to copy".into()),
        }
    }

    fn copy(&mut self, text: String) {
        self.notice = Some(format!(
            "copied to your clipboard (OSC 52): {}",
            crate::present::escaped(&text)
        ));
        self.effects.push(Effect::Copy(text));
    }

    /// Space: marks the selected version, or unmarks it, and moves on.
    fn toggle_mark(&mut self) {
        let Some(v) = self.selected_version() else {
            return;
        };
        let key = (v.journey.clone(), v.version);
        if !self.marks.remove(&key) {
            self.marks.insert(key);
        }
        self.move_by(1);
    }

    /// The pane for an action on every marked version: one pane that lists
    /// them, the store refusing the whole set if any cannot change.
    fn open_set_pane(&mut self, kind: ActionKind) {
        let journeys = self
            .marks
            .iter()
            .map(|(j, v)| (j.clone(), Some(*v)))
            .collect();
        self.mode = Mode::Pane(Box::new(ConfirmPane::new(OperatorAction {
            kind,
            target: Target::Journeys { journeys },
            reason: None,
        })));
        self.effects.push(Effect::Refresh);
    }

    /// `P` in a journey's detail: the publish pane for its newest draft.
    fn open_publish(&mut self) {
        if self.view != View::Detail {
            let key = self.ctx.keys.key(super::keymap::Action::Publish);
            let details = self.ctx.keys.key(super::keymap::Action::Details);
            self.notice = Some(format!(
                "{key} publishes from a journey's detail ({details} opens it)"
            ));
            return;
        }
        if self.ctx.read_only {
            let key = self.ctx.keys.key(super::keymap::Action::Publish);
            self.notice = Some(crate::present::read_only(&format!("{key} does nothing")));
            return;
        }
        let Some(journey) = self.detail.as_ref().map(|d| d.journey.clone()) else {
            self.notice = Some("nothing selected".into());
            return;
        };
        self.mode = Mode::Publish(Box::new(PublishPane::new(&journey)));
        self.effects.push(Effect::Refresh);
    }

    /// A key while typing the filter.
    fn on_filter_key(&mut self, key: KeyEvent) {
        match key.code {
            KeyCode::Esc => {
                self.filter.reset();
                self.mode = Mode::Browse;
                self.remember_filter();
            }
            KeyCode::Enter => {
                self.mode = Mode::Browse;
                self.remember_filter();
            }
            KeyCode::Up | KeyCode::Down => {
                self.mode = Mode::Browse;
                self.remember_filter();
                self.on_key(key);
                return;
            }
            // A long paste stops at what a name can be: each key refilters.
            KeyCode::Char(_)
                if self.filter.value().chars().count() >= crate::domain::text::MOST_NAME => {}
            _ => {
                self.filter.handle_event(&Event::Key(key));
            }
        }
        self.selected = 0;
    }

    /// A key on a screen: moves, views, and the action keys, as the key
    /// table says.
    fn on_screen_key(&mut self, key: KeyEvent) {
        use super::keymap::Action::*;
        let main = self.view == View::Main;
        let Some(action) = self.ctx.keys.action(key) else {
            return;
        };
        if self.on_channels_key(action) {
            return;
        }
        match action {
            Quit => self.effects.push(Effect::Quit),
            Help => self.mode = Mode::Help,
            Back => self.back(),
            Up => self.move_by(-1),
            Down => self.move_by(1),
            // In the detail view the pages are the version's steps.
            PageUp if self.view == View::Detail => {
                self.step_offset = self.step_offset.saturating_sub(STEP_PAGE)
            }
            PageDown if self.view == View::Detail => {
                let steps = self
                    .detail
                    .as_ref()
                    .and_then(|d| d.versions.get(self.detail_selected))
                    .map_or(0, |v| v.steps.len());
                self.step_offset = (self.step_offset + STEP_PAGE).min(steps.saturating_sub(1));
            }
            PageUp => self.move_by(-10),
            PageDown => self.move_by(10),
            Top => self.move_by(-1_000_000),
            Bottom => self.move_by(1_000_000),
            Details if main => self.open_detail(),
            Audit => {
                self.view = View::Audit;
                self.audit_offset = 0;
                self.effects.push(Effect::Refresh);
            }
            Channels => {
                self.view = View::Channels;
                self.effects.push(Effect::Refresh);
            }
            Filter if main || self.view == View::Audit => self.mode = Mode::Filtering,
            All if main => {
                self.show_all = !self.show_all;
                self.clamp_selection();
            }
            Sort if main => {
                self.sort = self.sort.next();
                self.sort_desc = false;
                self.selected = 0;
            }
            SortReverse if main => {
                self.sort_desc = !self.sort_desc;
                self.selected = 0;
            }
            Finish | Stop | StopAll | KillSwitch | Brake | Publish | Unschedule | Approvals
            | ArmDisable | ArmWinner | Note | ClaimIt => self.open_for(action),
            Mark if main => self.toggle_mark(),
            MarkAll if main => self.mark_all_shown(),
            Unmark if main => self.marks.clear(),
            Copy => self.copy_name(),
            CopyAction => match self.last_cli.clone() {
                Some(line) => self.copy(line),
                None => self.notice = Some("no action yet in this console: nothing to copy".into()),
            },
            Pause => self.open_pane(ActionKind::Pause(Hold::default()), false),
            Resume => self.open_pane(ActionKind::Resume(crate::domain::Overdue::Send), false),
            Details | Filter | All | Sort | SortReverse | Confirm | Mark | MarkAll | Unmark
            | RateDown | RateUp | HoldAction => {}
        }
    }

    /// The key of a pane that acts: its pane opens.
    fn open_for(&mut self, action: super::keymap::Action) {
        use super::keymap::Action::*;
        match action {
            Finish => self.open_pane(ActionKind::Finish, false),
            Stop => self.open_pane(ActionKind::Stop, false),
            StopAll => self.open_pane(ActionKind::Stop, true),
            KillSwitch => self.open_kill_switch(),
            Brake => self.open_brake(),
            Publish => self.open_publish(),
            Unschedule => self.open_unschedule(),
            Approvals => self.open_approvals(),
            ArmDisable => self.open_arm(crate::store::VariantChoice::Disable),
            ArmWinner => self.open_arm(crate::store::VariantChoice::Winner),
            Note => self.open_team(super::team::TeamKind::Note),
            ClaimIt => self.open_team(super::team::TeamKind::Claim),
            _ => {}
        }
    }

    /// The channels screen's own keys: `-` `+` a rate, `h` a hold, `r`
    /// (resume elsewhere) a release; whether `action` was one.
    fn on_channels_key(&mut self, action: super::keymap::Action) -> bool {
        use super::keymap::Action::*;
        if !self.on_channels() {
            return false;
        }
        match action {
            RateDown => self.open_rate(false),
            RateUp => self.open_rate(true),
            HoldAction => self.open_hold(false),
            Resume => self.open_hold(true),
            _ => return false,
        }
        true
    }

    /// `*`: every version shown marked.
    fn mark_all_shown(&mut self) {
        let shown: Vec<(String, i64)> = self
            .visible()
            .iter()
            .map(|v| (v.journey.clone(), v.version))
            .collect();
        self.marks.extend(shown);
    }

    /// Esc: back to the main screen; there, clear the filter.
    fn back(&mut self) {
        if self.view != View::Main {
            self.view = View::Main;
        } else if !self.filter.value().is_empty() {
            self.filter.reset();
            self.selected = 0;
            self.remember_filter();
        }
    }

    /// The filter comes back next time for this store.
    fn remember_filter(&mut self) {
        let text = self.filter.value().trim().to_string();
        self.effects.push(Effect::RememberFilter(text));
    }

    fn open_detail(&mut self) {
        if let Some(v) = self.selected_version() {
            self.detail = Some(DetailData {
                journey: v.journey.clone(),
                ..Default::default()
            });
            self.detail_selected = 0;
            self.step_offset = 0;
            self.view = View::Detail;
            self.effects.push(Effect::Refresh);
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
                self.step_offset = 0;
            }
            View::Channels => {
                let n = self.channels.len() as i64;
                self.channel_selected =
                    (self.channel_selected as i64 + delta).clamp(0, (n - 1).max(0)) as usize;
            }
            View::Audit => {
                let n = self.visible_audit().len() as i64;
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
            let key = self.ctx.keys.key(super::keymap::Action::KillSwitch);
            self.notice = Some(crate::present::read_only(&format!("{key} does nothing")));
            return;
        }
        self.mode = Mode::Pane(Box::new(ConfirmPane::kill_switch()));
    }

    /// The store-wide brake, from any screen.
    fn open_brake(&mut self) {
        if self.ctx.read_only {
            let key = self.ctx.keys.key(super::keymap::Action::Brake);
            self.notice = Some(crate::present::read_only(&format!("{key} does nothing")));
            return;
        }
        let name = match (&self.ctx.store_name, self.ctx.whole_name.as_str()) {
            (Some(named), _) => named.clone(),
            (None, "") => "store".to_string(),
            (None, whole) => whole.to_string(),
        };
        self.mode = Mode::Pane(Box::new(ConfirmPane::brake(&name)));
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

    fn open_pane(&mut self, kind: ActionKind, all_versions: bool) {
        if matches!(self.view, View::Audit | View::Channels) {
            return;
        }
        if self.ctx.read_only {
            let k = |a| self.ctx.keys.key(a);
            use super::keymap::Action as A;
            let keys = format!(
                "{}, {}, {}, {} and {} do nothing",
                k(A::Finish),
                k(A::Stop),
                k(A::StopAll),
                k(A::Pause),
                k(A::Resume)
            );
            self.notice = Some(crate::present::read_only(&keys));
            return;
        }
        if !all_versions && self.view == View::Main && !self.marks.is_empty() {
            return self.open_set_pane(kind);
        }
        let Some((journey, version, status, paused)) = self.action_subject() else {
            self.notice = Some("nothing selected".into());
            return;
        };
        let hold_refusal = kind.hold_refusal(paused).map(|why| match kind {
            ActionKind::Pause(_) => {
                let resume = self.ctx.keys.key(super::keymap::Action::Resume);
                format!("{why} ({resume} resumes it)")
            }
            _ => why.to_string(),
        });
        if !all_versions
            && let Some(why) = status.refusal(kind).map(str::to_string).or(hold_refusal)
        {
            // Who and when, as the CLI says it: `(stopped by carol at ...)`.
            let story = self
                .versions
                .iter()
                .find(|v| v.journey == journey && v.version == version)
                .map(|v| format!(" ({} by {} at {})", v.status, v.status_by, v.status_at))
                .unwrap_or_default();
            self.notice = Some(
                crate::present::escaped(&format!(
                    "cannot {} {journey} v{version}: {why}{story}",
                    kind.verb()
                ))
                .into_owned(),
            );
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
        self.mode = Mode::Pane(Box::new(ConfirmPane::new(OperatorAction {
            kind,
            target,
            reason: None,
        })));
        self.effects.push(Effect::Refresh);
    }
}

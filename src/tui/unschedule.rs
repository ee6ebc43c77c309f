//! The take-back pane (`x` on a version with an action set for a time):
//! what is set, for when and by whom, and the same library call as
//! `journeyctl unschedule ID`.

use ratatui::crossterm::event::{KeyCode, KeyEvent};
use tokio::sync::mpsc;

use super::app::{App, Effect, Mode, Msg, View};
use crate::store::{Actor, ScheduleMark};

#[derive(Debug, Clone, PartialEq)]
pub enum UnscheduleState {
    Asking,
    Working,
    /// What it did, in a line.
    Done(String),
    Refused(String),
}

#[derive(Debug, Clone)]
pub struct UnschedulePane {
    pub journey: String,
    pub version: i64,
    pub mark: ScheduleMark,
    /// Whether Enter takes it back (else it keeps it).
    pub on_confirm: bool,
    pub state: UnscheduleState,
}

impl App {
    pub fn unschedule_pane(&self) -> Option<&UnschedulePane> {
        match &self.mode {
            Mode::Unschedule(p) => Some(p),
            _ => None,
        }
    }

    fn unschedule_pane_mut(&mut self) -> Option<&mut UnschedulePane> {
        match &mut self.mode {
            Mode::Unschedule(p) => Some(p),
            _ => None,
        }
    }

    /// `x`: the pane for the soonest action set for a time on the selected
    /// version (the main list's, or the detail's).
    pub(super) fn open_unschedule(&mut self) {
        let key = self.ctx.keys.key(super::keymap::Action::Unschedule);
        if self.ctx.read_only {
            self.notice = Some(crate::present::read_only(&format!("{key} does nothing")));
            return;
        }
        let v = match self.view {
            View::Detail => self
                .detail
                .as_ref()
                .and_then(|d| d.versions.get(self.detail_selected))
                .map(|d| &d.summary),
            _ => self.selected_version(),
        };
        let Some(v) = v else {
            self.notice = Some("nothing selected".into());
            return;
        };
        let Some(mark) = v.scheduled.first() else {
            self.notice = Some(format!(
                "{} v{} has no action set for a time ({key} takes one back)",
                v.journey, v.version
            ));
            return;
        };
        self.mode = Mode::Unschedule(Box::new(UnschedulePane {
            journey: v.journey.clone(),
            version: v.version,
            mark: mark.clone(),
            on_confirm: false,
            state: UnscheduleState::Asking,
        }));
    }

    pub(super) fn on_unschedule_key(&mut self, key: KeyEvent) {
        let key = self.in_pane(key);
        let Some(pane) = self.unschedule_pane_mut() else {
            return;
        };
        let close = match (&pane.state, key.code) {
            (UnscheduleState::Working, _) => false,
            (UnscheduleState::Done(_) | UnscheduleState::Refused(_), code) => {
                matches!(code, KeyCode::Enter | KeyCode::Esc)
            }
            (UnscheduleState::Asking, KeyCode::Esc) => true,
            (
                UnscheduleState::Asking,
                KeyCode::Tab | KeyCode::BackTab | KeyCode::Left | KeyCode::Right,
            ) => {
                pane.on_confirm = !pane.on_confirm;
                false
            }
            (UnscheduleState::Asking, KeyCode::Enter) if !pane.on_confirm => true,
            (UnscheduleState::Asking, KeyCode::Enter) => {
                pane.state = UnscheduleState::Working;
                let id = pane.mark.id;
                self.last_cli = Some(format!("journeyctl unschedule {id}"));
                self.effects.push(Effect::Unschedule { id });
                false
            }
            _ => false,
        };
        if close {
            self.mode = Mode::Browse;
            self.effects.push(Effect::Refresh);
        }
    }

    /// The outcome of a confirmed take-back, in its pane.
    pub(super) fn unschedule_done(&mut self, result: Result<String, crate::store::Error>) {
        if let Some(pane) = self.unschedule_pane_mut() {
            pane.state = match result {
                Ok(line) => UnscheduleState::Done(line),
                Err(why) => UnscheduleState::Refused(crate::present::errors::for_console(&why)),
            };
        }
        self.effects.push(Effect::Refresh);
    }
}

/// A confirmed take-back: the same library call as `journeyctl
/// unschedule`.
pub(super) fn spawn_unschedule(
    store: crate::store::Store,
    actor: &Actor,
    tx: &mpsc::Sender<Msg>,
    id: i64,
) {
    let (actor, tx) = (actor.clone(), tx.clone());
    tokio::spawn(async move {
        let now = crate::domain::time::now_millis();
        let result = store.unschedule(id, &actor, None, now).await.map(|s| {
            format!(
                "took back #{}: {} at {} will not happen",
                s.id,
                s.what,
                crate::domain::time::to_rfc3339(s.due_at)
            )
        });
        match &result {
            Ok(line) => tracing::info!("{line}"),
            Err(e) => tracing::warn!("unschedule {id} refused: {e}"),
        }
        let _ = tx.send(Msg::UnscheduleDone(result)).await;
    });
}

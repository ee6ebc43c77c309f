//! The requests pane (`A`, four eyes): the requests waiting for another
//! operator's approval, ↑↓ to choose, Enter to approve one, which the
//! same library call as `journeyctl approve ID` carries out as you.

use ratatui::crossterm::event::{KeyCode, KeyEvent};
use tokio::sync::mpsc;

use super::app::{App, Effect, Mode, Msg};
use crate::store::{Actor, Request};

#[derive(Debug, Clone, PartialEq)]
pub enum ApproveState {
    Loading,
    Choosing,
    Working,
    /// What it did, in a line.
    Done(String),
    Refused(String),
}

#[derive(Debug, Clone)]
pub struct ApprovePane {
    pub requests: Vec<Request>,
    pub selected: usize,
    pub state: ApproveState,
}

impl App {
    pub fn approve_pane(&self) -> Option<&ApprovePane> {
        match &self.mode {
            Mode::Approve(p) => Some(p),
            _ => None,
        }
    }

    fn approve_pane_mut(&mut self) -> Option<&mut ApprovePane> {
        match &mut self.mode {
            Mode::Approve(p) => Some(p),
            _ => None,
        }
    }

    /// `A`: the open requests, read from the store as the pane opens.
    pub(super) fn open_approvals(&mut self) {
        if self.ctx.read_only {
            let key = self.ctx.keys.key(super::keymap::Action::Approvals);
            self.notice = Some(crate::present::read_only(&format!("{key} does nothing")));
            return;
        }
        self.mode = Mode::Approve(Box::new(ApprovePane {
            requests: Vec::new(),
            selected: 0,
            state: ApproveState::Loading,
        }));
        self.effects.push(Effect::LoadApprovals);
    }

    /// The open requests, as read.
    pub(super) fn approvals_loaded(&mut self, result: Result<Vec<Request>, crate::store::Error>) {
        if let Some(pane) = self.approve_pane_mut() {
            match result {
                Ok(requests) => {
                    pane.requests = requests;
                    pane.selected = 0;
                    pane.state = ApproveState::Choosing;
                }
                Err(why) => {
                    pane.state = ApproveState::Refused(crate::present::errors::for_console(&why))
                }
            }
        }
    }

    pub(super) fn on_approve_key(&mut self, key: KeyEvent) {
        let key = self.in_pane(key);
        let Some(pane) = self.approve_pane_mut() else {
            return;
        };
        let close = match (&pane.state, key.code) {
            (ApproveState::Working, _) => false,
            (_, KeyCode::Esc) => true,
            (ApproveState::Done(_) | ApproveState::Refused(_), KeyCode::Enter) => true,
            (ApproveState::Choosing, KeyCode::Up) => {
                pane.selected = pane.selected.saturating_sub(1);
                false
            }
            (ApproveState::Choosing, KeyCode::Down) => {
                pane.selected = (pane.selected + 1).min(pane.requests.len().saturating_sub(1));
                false
            }
            (ApproveState::Choosing, KeyCode::Enter) if pane.requests.is_empty() => true,
            (ApproveState::Choosing, KeyCode::Enter) => {
                let id = pane.requests[pane.selected.min(pane.requests.len() - 1)].id;
                pane.state = ApproveState::Working;
                self.last_cli = Some(format!("journeyctl approve {id} --yes"));
                self.effects.push(Effect::Approve { id });
                false
            }
            _ => false,
        };
        if close {
            self.mode = Mode::Browse;
            self.effects.push(Effect::Refresh);
        }
    }

    /// The outcome of an approval, in its pane.
    pub(super) fn approve_done(&mut self, result: Result<String, crate::store::Error>) {
        if let Some(pane) = self.approve_pane_mut() {
            pane.state = match result {
                Ok(line) => ApproveState::Done(line),
                Err(why) => ApproveState::Refused(crate::present::errors::for_console(&why)),
            };
        }
        self.effects.push(Effect::Refresh);
    }
}

/// Reads the open requests for the pane.
pub(super) fn spawn_load(store: crate::store::Store, tx: &mpsc::Sender<Msg>) {
    let tx = tx.clone();
    tokio::spawn(async move {
        let now = crate::domain::time::now_millis();
        let _ = tx
            .send(Msg::ApprovalsLoaded(store.approvals(false, now).await))
            .await;
    });
}

/// An approval: the same library call as `journeyctl approve`.
pub(super) fn spawn_approve(
    store: crate::store::Store,
    actor: &Actor,
    tx: &mpsc::Sender<Msg>,
    id: i64,
) {
    let (actor, tx) = (actor.clone(), tx.clone());
    tokio::spawn(async move {
        let now = crate::domain::time::now_millis();
        let result = store.approve(id, &actor, now).await.map(|r| {
            format!(
                "approved #{}: {} (asked by {}), carried out by {}",
                r.id, r.what, r.asked_by, actor.name
            )
        });
        match &result {
            Ok(line) => tracing::info!("{line}"),
            Err(e) => tracing::warn!("approve {id} refused: {e}"),
        }
        let _ = tx.send(Msg::ApproveDone(result)).await;
    });
}

//! Operators together, from the console: `n` leaves a note on the
//! selected version (a text field), `m` claims it (how long, why) or, when
//! the claim is yours, gives it back; the same library calls as
//! `journeyctl note`, `claim` and `unclaim`.

use ratatui::crossterm::event::{Event, KeyCode, KeyEvent};
use tokio::sync::mpsc;
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

use super::app::{App, Effect, Mode, Msg, View};
use crate::store::Actor;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamKind {
    Note,
    Claim,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TeamState {
    Editing,
    Working,
    Done(String),
    Refused(String),
}

#[derive(Debug, Clone)]
pub struct TeamPane {
    pub journey: String,
    pub version: i64,
    pub kind: TeamKind,
    /// The note, or the claim's reason.
    pub text: Input,
    /// How long a claim lasts.
    pub for_: Input,
    /// Whether the duration field has the keyboard (a claim's first).
    pub on_for: bool,
    pub state: TeamState,
    pub hint: Option<String>,
}

impl TeamPane {
    fn on_key(&mut self, key: KeyEvent) -> Option<Option<Effect>> {
        match key.code {
            KeyCode::Esc => return Some(None),
            KeyCode::Tab | KeyCode::BackTab if self.kind == TeamKind::Claim => {
                self.on_for = !self.on_for
            }
            KeyCode::Enter => return self.confirm().map(Some),
            _ => {
                let field = if self.on_for {
                    &mut self.for_
                } else {
                    &mut self.text
                };
                let full = field.value().chars().count() >= crate::domain::text::MOST_REASON;
                if !(matches!(key.code, KeyCode::Char(_)) && full) {
                    field.handle_event(&Event::Key(key));
                }
                self.hint = None;
            }
        }
        None
    }

    fn confirm(&mut self) -> Option<Effect> {
        let text = self.text.value().trim().to_string();
        let effect = match self.kind {
            TeamKind::Note if text.is_empty() => {
                self.hint = Some("type the note first".into());
                return None;
            }
            TeamKind::Note => Effect::Note {
                journey: self.journey.clone(),
                version: self.version,
                text,
            },
            TeamKind::Claim => match crate::domain::time::parse_duration(self.for_.value()) {
                Ok(for_ms) => Effect::Claim {
                    journey: self.journey.clone(),
                    version: self.version,
                    for_ms,
                    reason: (!text.is_empty()).then_some(text),
                },
                Err(e) => {
                    self.hint = Some(e);
                    return None;
                }
            },
        };
        self.state = TeamState::Working;
        Some(effect)
    }
}

impl App {
    pub fn team_pane(&self) -> Option<&TeamPane> {
        match &self.mode {
            Mode::Team(p) => Some(p),
            _ => None,
        }
    }

    fn team_pane_mut(&mut self) -> Option<&mut TeamPane> {
        match &mut self.mode {
            Mode::Team(p) => Some(p),
            _ => None,
        }
    }

    /// `n` (a note) or `m` (a claim; your own claim is given back) on the
    /// selected version.
    pub(super) fn open_team(&mut self, kind: TeamKind) {
        if self.ctx.read_only {
            self.notice = Some(crate::present::read_only("notes and claims"));
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
        let me = self.ctx.operator.split('@').next().unwrap_or_default();
        let mine = v.claim.as_ref().is_some_and(|c| c.by == me);
        let (journey, version) = (v.journey.clone(), v.version);
        if kind == TeamKind::Claim && mine {
            self.notice = Some(format!("giving back your claim on {journey} v{version}…"));
            self.effects.push(Effect::Unclaim { journey, version });
            return;
        }
        self.mode = Mode::Team(Box::new(TeamPane {
            journey,
            version,
            kind,
            text: Input::default(),
            for_: Input::new("1h".into()),
            on_for: kind == TeamKind::Claim,
            state: TeamState::Editing,
            hint: None,
        }));
    }

    pub(super) fn on_team_key(&mut self, key: KeyEvent) {
        let Some(pane) = self.team_pane_mut() else {
            return;
        };
        let close = match &pane.state {
            TeamState::Working => false,
            TeamState::Done(_) | TeamState::Refused(_) => {
                matches!(key.code, KeyCode::Enter | KeyCode::Esc)
            }
            TeamState::Editing => match pane.on_key(key) {
                None => false,
                Some(None) => true,
                Some(Some(effect)) => {
                    self.effects.push(effect);
                    false
                }
            },
        };
        if close {
            self.mode = Mode::Browse;
            self.effects.push(Effect::Refresh);
        }
    }

    /// What a note, claim or unclaim did: in its pane, or (an unclaim,
    /// which has none) as the notice.
    pub(super) fn team_done(&mut self, result: Result<String, crate::store::Error>) {
        let said = result.map_err(|e| crate::present::errors::for_console(&e));
        match self.team_pane_mut() {
            Some(pane) => {
                pane.state = match said {
                    Ok(line) => TeamState::Done(line),
                    Err(why) => TeamState::Refused(why),
                }
            }
            None => self.notice = Some(said.unwrap_or_else(|why| format!("✗ {why}"))),
        }
        self.effects.push(Effect::Refresh);
    }
}

/// A confirmed note, claim or unclaim: the same library calls as the
/// commands.
pub(super) fn spawn_team(
    store: crate::store::Store,
    actor: &Actor,
    tx: &mpsc::Sender<Msg>,
    effect: Effect,
) {
    let (actor, tx) = (actor.clone(), tx.clone());
    tokio::spawn(async move {
        let now = crate::domain::time::now_millis();
        let result = match effect {
            Effect::Note {
                journey,
                version,
                text,
            } => store
                .note(&journey, Some(version), &text, &actor, now)
                .await
                .map(|n| format!("noted on {} v{}", n.journey, n.version)),
            Effect::Claim {
                journey,
                version,
                for_ms,
                reason,
            } => store
                .claim_version(
                    &journey,
                    Some(version),
                    (now.saturating_add(for_ms), reason.as_deref()),
                    &actor,
                    now,
                )
                .await
                .map(|n| {
                    format!(
                        "◆ you are on {} v{} for {}",
                        n.journey,
                        n.version,
                        crate::domain::time::duration_words(std::time::Duration::from_millis(
                            for_ms.max(0) as u64
                        ))
                    )
                }),
            Effect::Unclaim { journey, version } => store
                .unclaim_version(&journey, Some(version), &actor, now)
                .await
                .map(|n| format!("{} v{} is no longer claimed", n.journey, n.version)),
            _ => return,
        };
        let _ = tx.send(Msg::TeamDone(result)).await;
    });
}

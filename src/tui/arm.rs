//! A/B by hand from a journey's detail: `d` disables an arm of the
//! selected version's test, `w` picks one as the winner, each behind a
//! pane (the arm chosen with ← →, a reason), through the same library
//! call as `journeyctl variant`.

use ratatui::crossterm::event::{Event, KeyCode, KeyEvent};
use tokio::sync::mpsc;
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

use super::app::{App, Effect, Mode, Msg, View};
use crate::store::{Actor, VariantChoice};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArmFocus {
    Arm,
    Reason,
    Confirm,
    Cancel,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ArmState {
    Editing,
    Working,
    Done(String),
    Refused(String),
}

#[derive(Debug, Clone)]
pub struct ArmPane {
    pub journey: String,
    pub version: i64,
    pub test: String,
    /// The arms with their assigned counts; `arm` is the one chosen.
    pub arms: Vec<(String, i64)>,
    pub arm: usize,
    pub choice: VariantChoice,
    pub reason: Input,
    pub focus: ArmFocus,
    pub state: ArmState,
}

const ORDER: [ArmFocus; 4] = [
    ArmFocus::Arm,
    ArmFocus::Reason,
    ArmFocus::Confirm,
    ArmFocus::Cancel,
];

impl ArmPane {
    /// What a key does; `Some` when it confirms.
    fn on_key(&mut self, key: KeyEvent) -> Option<Option<Effect>> {
        let at = ORDER.iter().position(|f| *f == self.focus).unwrap_or(0);
        let n = self.arms.len().max(1);
        match key.code {
            KeyCode::Esc => return Some(None),
            KeyCode::Tab | KeyCode::Down => self.focus = ORDER[(at + 1) % ORDER.len()],
            KeyCode::BackTab | KeyCode::Up => {
                self.focus = ORDER[(at + ORDER.len() - 1) % ORDER.len()]
            }
            KeyCode::Left if self.focus == ArmFocus::Arm => self.arm = (self.arm + n - 1) % n,
            KeyCode::Right if self.focus == ArmFocus::Arm => self.arm = (self.arm + 1) % n,
            KeyCode::Enter if self.focus == ArmFocus::Cancel => return Some(None),
            KeyCode::Enter => {
                self.state = ArmState::Working;
                let reason = self.reason.value().trim();
                return Some(Some(Effect::ChooseVariant {
                    journey: self.journey.clone(),
                    version: self.version,
                    variant: self.arms.get(self.arm)?.0.clone(),
                    choice: self.choice,
                    reason: (!reason.is_empty()).then(|| reason.to_string()),
                }));
            }
            _ if self.focus == ArmFocus::Reason => {
                let full = self.reason.value().chars().count() >= crate::domain::text::MOST_REASON;
                if !(matches!(key.code, KeyCode::Char(_)) && full) {
                    self.reason.handle_event(&Event::Key(key));
                }
            }
            _ => {}
        }
        None
    }
}

impl App {
    pub fn arm_pane(&self) -> Option<&ArmPane> {
        match &self.mode {
            Mode::Arm(p) => Some(p),
            _ => None,
        }
    }

    fn arm_pane_mut(&mut self) -> Option<&mut ArmPane> {
        match &mut self.mode {
            Mode::Arm(p) => Some(p),
            _ => None,
        }
    }

    /// `d` (disable) or `w` (winner) in a journey's detail: the pane for
    /// the selected version's test.
    pub(super) fn open_arm(&mut self, choice: VariantChoice) {
        if self.ctx.read_only {
            self.notice = Some(crate::present::read_only("choosing an A/B arm by hand"));
            return;
        }
        let summary = self
            .detail
            .as_ref()
            .filter(|_| self.view == View::Detail)
            .and_then(|d| d.versions.get(self.detail_selected))
            .map(|d| &d.summary);
        let Some(v) = summary else {
            self.notice = Some("A/B arms are chosen in a journey's detail (Enter opens it)".into());
            return;
        };
        let Some(ab) = &v.ab else {
            self.notice = Some(format!("{} v{} has no A/B test", v.journey, v.version));
            return;
        };
        self.mode = Mode::Arm(Box::new(ArmPane {
            journey: v.journey.clone(),
            version: v.version,
            test: ab.test.clone(),
            arms: ab
                .variants
                .iter()
                .map(|a| (a.name.clone(), a.assigned))
                .collect(),
            arm: 0,
            choice,
            reason: Input::default(),
            focus: ArmFocus::Arm,
            state: ArmState::Editing,
        }));
    }

    pub(super) fn on_arm_key(&mut self, key: KeyEvent) {
        let key = self.in_pane(key);
        let Some(pane) = self.arm_pane_mut() else {
            return;
        };
        let close = match &pane.state {
            ArmState::Working => false,
            ArmState::Done(_) | ArmState::Refused(_) => {
                matches!(key.code, KeyCode::Enter | KeyCode::Esc)
            }
            ArmState::Editing => match pane.on_key(key) {
                None => false,
                Some(None) => true,
                Some(Some(effect)) => {
                    self.last_cli = Some(cli_line(&effect));
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

    pub(super) fn arm_done(&mut self, result: Result<String, crate::store::Error>) {
        if let Some(pane) = self.arm_pane_mut() {
            pane.state = match result {
                Ok(line) => ArmState::Done(line),
                Err(why) => ArmState::Refused(crate::present::errors::for_console(&why)),
            };
        }
        self.effects.push(Effect::Refresh);
    }
}

/// `journeyctl variant cart --version 2 --disable B --yes`.
fn cli_line(effect: &Effect) -> String {
    let Effect::ChooseVariant {
        journey,
        version,
        variant,
        choice,
        reason,
    } = effect
    else {
        return String::new();
    };
    let flag = match choice {
        VariantChoice::Disable => "--disable",
        VariantChoice::Winner => "--winner",
    };
    let mut words = vec![
        "journeyctl".to_string(),
        "variant".into(),
        journey.clone(),
        "--version".into(),
        version.to_string(),
        flag.into(),
        variant.clone(),
    ];
    if let Some(r) = reason {
        words.extend(["--reason".into(), r.clone()]);
    }
    words.push("--yes".into());
    crate::present::cli_words(&words)
}

/// A confirmed choice: the same library call as `journeyctl variant`.
pub(super) fn spawn_variant(
    store: crate::store::Store,
    actor: &Actor,
    tx: &mpsc::Sender<Msg>,
    effect: Effect,
) {
    let Effect::ChooseVariant {
        journey,
        version,
        variant,
        choice,
        reason,
    } = effect
    else {
        return;
    };
    let (actor, tx) = (actor.clone(), tx.clone());
    tokio::spawn(async move {
        let now = crate::domain::time::now_millis();
        let result = store
            .choose_variant(
                &journey,
                Some(version),
                &variant,
                choice,
                &actor,
                reason.as_deref(),
                now,
            )
            .await
            .map(|d| match d.choice {
                VariantChoice::Disable => format!(
                    "{} v{}: {} disabled; new entries go to the other arms",
                    d.journey, d.version, d.variant
                ),
                VariantChoice::Winner => format!(
                    "{} v{}: {} chosen; everyone new gets it (an operator's decision)",
                    d.journey, d.version, d.variant
                ),
            });
        match &result {
            Ok(line) => tracing::info!("{line}"),
            Err(e) => tracing::warn!("variant choice refused: {e}"),
        }
        let _ = tx.send(Msg::ArmDone(result)).await;
    });
}

//! The rate pane (`+`/`-` on the channels screen): the selected action's
//! channel limits set live, as `journeyctl rate` sets them. It opens with
//! the new figure (half or twice the rate followed now) in its field, to
//! take as it is or to type another; `file` goes back to the channels
//! file's limits. Enter commits through the same library call.

use ratatui::crossterm::event::{Event, KeyCode, KeyEvent};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

use crate::domain::rate::Rate;
use crate::store::{ActionHealth, LiveLimits, RateChanged};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateFocus {
    Rate,
    Concurrency,
    Reason,
    Confirm,
    Cancel,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RateState {
    Editing,
    /// Confirmed; the change is being written.
    Working,
    Done(RateChanged),
    /// Refused by the store or the console (with why).
    Refused(String),
}

#[derive(Debug, Clone)]
pub struct RatePane {
    pub action: String,
    /// What the workers follow now, and the file's (`None`: unknown).
    pub now: LiveLimits,
    pub file: Option<LiveLimits>,
    /// Who set the limits followed now, where an operator did.
    pub set_by: Option<String>,
    pub rate: Input,
    pub concurrency: Input,
    pub reason: Input,
    pub focus: RateFocus,
    pub state: RateState,
    /// Why Enter did not commit.
    pub hint: Option<String>,
}

/// What a key did to the pane.
#[derive(Debug, Clone, PartialEq)]
pub enum RateReply {
    Nothing,
    Close,
    /// Set (`Some`) or clear the action's live limits.
    Confirmed {
        action: String,
        limits: Option<LiveLimits>,
        reason: Option<String>,
    },
}

/// What the rate field takes to go back to the file's limits.
pub const BACK_TO_FILE: &str = "file";

impl RatePane {
    /// The pane for `h`'s action, its rate field holding half (`faster`:
    /// twice) the rate followed now, or empty where there is none.
    pub fn new(h: &ActionHealth, faster: bool) -> RatePane {
        let now = h.limits();
        let proposed = now
            .rate
            .map(|r| if faster { r.doubled() } else { r.halved() });
        let text = |v: Option<String>| Input::new(v.unwrap_or_default());
        RatePane {
            action: h.action.clone(),
            now,
            file: h.file_limits,
            set_by: h.live.as_ref().map(|l| l.set_by.clone()),
            rate: text(proposed.map(|r| r.to_string())),
            // Blank keeps following the file's; a concurrency set live
            // stays unless changed here.
            concurrency: text(
                h.live
                    .as_ref()
                    .and_then(|l| l.limits.concurrency)
                    .map(|c| c.to_string()),
            ),
            reason: Input::default(),
            focus: RateFocus::Rate,
            state: RateState::Editing,
            hint: None,
        }
    }

    /// The limits the fields say: `Ok(None)` back to the file's.
    pub fn limits(&self) -> Result<Option<LiveLimits>, String> {
        let rate = self.rate.value().trim();
        if rate.eq_ignore_ascii_case(BACK_TO_FILE) {
            return Ok(None);
        }
        let rate = match rate {
            "" => None,
            text => Some(Rate::parse(text)?),
        };
        let concurrency = match self.concurrency.value().trim() {
            "" => None,
            text => match text.replace(',', "").parse::<i64>() {
                Ok(n) if (1..=crate::store::MOST_CONCURRENCY).contains(&n) => Some(n),
                _ => return Err(format!("concurrency {text:?}: must be 1 to 10,000")),
            },
        };
        if rate.is_none() && concurrency.is_none() {
            return Err(format!(
                "type a rate (50/s), a concurrency, or {BACK_TO_FILE} for the channels file's"
            ));
        }
        Ok(Some(LiveLimits { rate, concurrency }))
    }

    /// A key; `blocked`: why the console cannot act now (read-only, stale).
    pub fn on_key(&mut self, key: KeyEvent, blocked: Option<&str>) -> RateReply {
        match self.state {
            RateState::Editing => {}
            RateState::Working => return RateReply::Nothing,
            RateState::Done(_) | RateState::Refused(_) => {
                return match key.code {
                    KeyCode::Enter | KeyCode::Esc => RateReply::Close,
                    _ => RateReply::Nothing,
                };
            }
        }
        match key.code {
            KeyCode::Esc => RateReply::Close,
            KeyCode::Tab | KeyCode::Down => {
                self.focus = self.next(true);
                RateReply::Nothing
            }
            KeyCode::BackTab | KeyCode::Up => {
                self.focus = self.next(false);
                RateReply::Nothing
            }
            KeyCode::Enter if self.focus == RateFocus::Cancel => RateReply::Close,
            KeyCode::Enter => self.confirm(blocked),
            _ => {
                let (field, most) = match self.focus {
                    RateFocus::Rate => (&mut self.rate, 24),
                    RateFocus::Concurrency => (&mut self.concurrency, 8),
                    RateFocus::Reason => (&mut self.reason, crate::domain::text::MOST_REASON),
                    RateFocus::Confirm | RateFocus::Cancel => return RateReply::Nothing,
                };
                if !(matches!(key.code, KeyCode::Char(_)) && field.value().chars().count() >= most)
                {
                    field.handle_event(&Event::Key(key));
                }
                self.hint = None;
                RateReply::Nothing
            }
        }
    }

    fn next(&self, forward: bool) -> RateFocus {
        use RateFocus::*;
        let order = [Rate, Concurrency, Reason, Confirm, Cancel];
        let i = order.iter().position(|f| *f == self.focus).unwrap_or(0);
        order[if forward { (i + 1) % 5 } else { (i + 4) % 5 }]
    }

    fn confirm(&mut self, blocked: Option<&str>) -> RateReply {
        if let Some(b) = blocked {
            self.hint = Some(b.to_string());
            return RateReply::Nothing;
        }
        match self.limits() {
            Err(why) => {
                self.hint = Some(why);
                RateReply::Nothing
            }
            Ok(limits) => {
                self.state = RateState::Working;
                let reason = self.reason.value().trim();
                RateReply::Confirmed {
                    action: self.action.clone(),
                    limits,
                    reason: (!reason.is_empty()).then(|| reason.to_string()),
                }
            }
        }
    }
}

impl super::app::App {
    pub fn rate_pane(&self) -> Option<&RatePane> {
        match &self.mode {
            super::app::Mode::Rate(p) => Some(p),
            _ => None,
        }
    }

    fn rate_pane_mut(&mut self) -> Option<&mut RatePane> {
        match &mut self.mode {
            super::app::Mode::Rate(p) => Some(p),
            _ => None,
        }
    }

    /// `-` / `+` on the channels screen: the rate pane for the selected
    /// action, halving (doubling) what it follows now.
    pub(super) fn open_rate(&mut self, faster: bool) {
        use super::keymap::Action;
        if self.ctx.read_only {
            let key = self.ctx.keys.key(if faster {
                Action::RateUp
            } else {
                Action::RateDown
            });
            self.notice = Some(crate::present::read_only(&format!("{key} does nothing")));
            return;
        }
        let Some(h) = self.channels.get(self.channel_selected) else {
            self.notice = Some("no action selected: no rate to change".into());
            return;
        };
        self.mode = super::app::Mode::Rate(Box::new(RatePane::new(h, faster)));
    }

    /// A key while the rate pane is open: the pane decides.
    pub(super) fn on_rate_key(&mut self, key: KeyEvent) {
        let blocked = self.blocked();
        let key = self.in_pane(key);
        let Some(pane) = self.rate_pane_mut() else {
            return;
        };
        match pane.on_key(key, blocked.as_deref()) {
            RateReply::Nothing => {}
            RateReply::Close => {
                self.mode = super::app::Mode::Browse;
                self.effects.push(super::app::Effect::Refresh);
            }
            RateReply::Confirmed {
                action,
                limits,
                reason,
            } => {
                self.last_cli = Some(crate::present::rate_line(
                    &action,
                    limits,
                    reason.as_deref(),
                ));
                self.effects.push(super::app::Effect::SetRate {
                    action,
                    limits,
                    reason,
                })
            }
        }
    }

    /// The outcome of a confirmed rate, in its pane.
    pub(super) fn rate_done(&mut self, result: Result<RateChanged, crate::store::Error>) {
        if let Some(pane) = self.rate_pane_mut() {
            pane.state = match result {
                Ok(changed) => RateState::Done(changed),
                Err(why) => RateState::Refused(crate::present::errors::for_console(&why)),
            };
        }
        self.effects.push(super::app::Effect::Refresh);
    }
}

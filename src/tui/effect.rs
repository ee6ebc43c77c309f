//! What the console's core asks its shell to do: fetch, act, copy, quit.
//! Each confirmed change is one of these, carried out through the same
//! library call as its command.

use crate::store::OperatorAction;

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Quit,
    /// Fetch now (the view changed).
    Refresh,
    /// The one way to a dangerous change: a confirmed action.
    Execute(OperatorAction),
    /// A confirmed publish of the journey's newest draft.
    Publish {
        journey: String,
        reason: Option<String>,
    },
    /// A confirmed live rate of an action's channel (`None`: back to the
    /// channels file's).
    SetRate {
        action: String,
        limits: Option<crate::store::LiveLimits>,
        reason: Option<String>,
    },
    /// A confirmed hold of one action (`for_ms`: until it runs out).
    HoldAction {
        action: String,
        for_ms: Option<i64>,
        /// What happens when `for_ms` runs out.
        on_expiry: crate::store::HoldExpiry,
        reason: Option<String>,
    },
    /// A confirmed release of a held action.
    ReleaseAction {
        action: String,
        overdue: crate::domain::Overdue,
        reason: Option<String>,
    },
    /// A confirmed take-back of an action set for a time.
    Unschedule {
        id: i64,
    },
    /// Read the requests waiting for approval (the `A` pane).
    LoadApprovals,
    /// Approve a request: it is carried out now, as this operator.
    Approve {
        id: i64,
    },
    /// A confirmed A/B choice by hand: an arm disabled, or the winner.
    ChooseVariant {
        journey: String,
        version: i64,
        variant: String,
        choice: crate::store::VariantChoice,
        reason: Option<String>,
    },
    /// A note on a version, a claim on it, a claim given back.
    Note {
        journey: String,
        version: i64,
        text: String,
    },
    Claim {
        journey: String,
        version: i64,
        for_ms: i64,
        reason: Option<String>,
    },
    Unclaim {
        journey: String,
        version: i64,
    },
    /// Stop waiting for the running action's turn (Esc in its pane).
    GiveUp,
    /// The filter as set now, to come back next time for this store.
    RememberFilter(String),
    /// Text for the operator's clipboard (OSC 52, through SSH and tmux).
    Copy(String),
}

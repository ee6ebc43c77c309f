//! What the console and `list`, `audit`, `profile`, `verdict` and `check`
//! read, one file per screen: the main list (`list`), the A/B figures
//! (`ab`), a journey's detail (`detail`), the audit log and a profile
//! (`audit`), delivery health per action (`channels`), and the recount
//! behind `check` (`check`). The main list reads
//! the version rows' counters and the variant rows: its cost does not grow
//! with the number of participants.

mod ab;
mod audit;
mod backlog;
mod chain;
mod channels;
mod check;
mod detail;
mod events;
pub(crate) mod forecast;
mod list;
mod team;
mod trend;

use serde::Serialize;

use crate::domain::{Millis, VersionStatus};

pub use ab::{AbSummary, ChosenArm, VariantSummary};
pub use audit::AuditFilter;
pub use backlog::Backlog;
pub use channels::ActionHealth;
pub use check::Tally;
pub use events::{TREND_MARKS, TrendEvent};
pub use team::{Claim, Note};
pub use trend::{PerMinute, Rates, Recent};

impl Counts {
    /// The counts of a row with columns named like the fields (a version
    /// row's counters, or a recount of its participant rows).
    pub(crate) fn from_row(r: &sqlx::any::AnyRow) -> crate::store::Result<Counts> {
        use sqlx::Row;
        Ok(Counts {
            entered: r.try_get("entered")?,
            active: r.try_get("active")?,
            completed: r.try_get("completed")?,
            exited: r.try_get("exited")?,
            stopped: r.try_get("stopped")?,
            converted: r.try_get("converted")?,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub entered: i64,
    pub active: i64,
    pub completed: i64,
    pub exited: i64,
    pub stopped: i64,
    pub converted: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Messages {
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
    pub cancelled: i64,
    /// Of the pending, those whose last attempt had no answer: they may
    /// have arrived.
    pub uncertain: i64,
    /// Of the cancelled, those cancelled after an attempt without an
    /// answer: they may have arrived.
    pub cancelled_uncertain: i64,
    /// Of the pending, those of a held action (`journeyctl hold`): no
    /// worker claims them until it is released.
    pub held: i64,
}

/// One row of the main list and of `list --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionSummary {
    pub journey: String,
    pub version: i64,
    pub status: VersionStatus,
    /// The hold, when paused.
    pub paused: Option<PausedSummary>,
    pub entry_open: bool,
    pub entry_end_at: Option<String>,
    pub counts: Counts,
    pub conversion_rate: Option<f64>,
    pub messages: Messages,
    pub ab: Option<AbSummary>,
    /// Why a stored row of this version cannot be read (its definition or
    /// A/B figures): the version is shown marked, the others as usual.
    pub unreadable: Option<String>,
    /// On a cluster, how many of the buckets' shares of its figures were
    /// set aside as out of bounds (never folded; `check` names them).
    #[serde(skip_serializing_if = "is_zero")]
    pub shares_aside: i64,
    /// On a cluster, while shares of this version wait to be folded: when
    /// the cluster's shares were last folded, as of which its figures are
    /// exact (a change of status reports exact figures all the same);
    /// null when its figures are exact now.
    pub as_of: Option<String>,
    #[serde(skip)]
    pub as_of_ms: Option<Millis>,
    pub goal: Option<String>,
    /// The goal's target rate (0.2 for "20%"), if the definition sets one.
    pub goal_target: Option<f64>,
    /// Whether the target is met (`None` without one).
    pub goal_met: Option<bool>,
    pub status_at: String,
    pub status_by: String,
    pub last_activity_at: Option<String>,
    #[serde(skip)]
    pub status_at_ms: Millis,
    #[serde(skip)]
    pub last_activity_ms: Option<Millis>,
    #[serde(skip)]
    pub entry_end_ms: Option<Millis>,
    #[serde(skip)]
    pub uses_actions: Vec<String>,
    /// Whether the latest delivery attempt of one of its actions failed.
    pub delivery_failing: bool,
    /// Per minute over the last 5 minutes and the last hour.
    pub rates: Rates,
    /// The last two hours minute by minute (none: nothing happened).
    #[serde(skip)]
    pub recent: Option<Recent>,
    /// Actions set for a time on this version (`--at`), soonest first.
    pub scheduled: Vec<ScheduleMark>,
    /// Who is on it now (`journeyctl claim`), if anyone.
    pub claim: Option<Claim>,
    /// Operators' notes, newest first (the newest 20).
    pub notes: Vec<Note>,
    #[serde(skip)]
    pub id: i64,
}

/// An action set for a time, as a version's row shows it: `⏰ stop 23:59`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ScheduleMark {
    pub id: i64,
    pub verb: String,
    pub what: String,
    pub at: String,
    pub by: String,
    /// When an engine of the store last went round (`None`: never): at
    /// the time nothing happens without one.
    pub engine_seen: Option<String>,
    #[serde(skip)]
    pub at_ms: Millis,
    #[serde(skip)]
    pub engine_seen_ms: Option<Millis>,
}

/// `list --json` `paused`: since and until (RFC 3339), the rule at
/// expiry, and who paused it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PausedSummary {
    pub since: String,
    pub until: String,
    pub on_expiry: String,
    pub by: String,
    /// Why, as the pause's audit row says (a guardrail's figures).
    pub reason: Option<String>,
    /// The store-wide brake that paused it (`resume --incident ID`).
    pub incident: Option<String>,
    #[serde(skip)]
    pub since_ms: Millis,
    #[serde(skip)]
    pub until_ms: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub at: String,
    pub actor: String,
    pub host: String,
    pub action: crate::domain::AuditAction,
    pub journey: String,
    pub version: Option<i64>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub reason: Option<String>,
    pub affected_active: i64,
    /// A stop's cancelled messages, and how many of those may have arrived.
    pub cancelled: Option<i64>,
    pub cancelled_uncertain: Option<i64>,
    /// Messages sent while a stop or pause waited for deliveries in
    /// flight (`None`: none was in flight).
    pub sent_waiting: Option<i64>,
    /// A resume's choice for the messages that fell due during the hold
    /// (`send`, `skip`, `spread 30m`), and how many there were.
    pub overdue: Option<String>,
    pub overdue_count: Option<i64>,
    /// The login the database saw (PostgreSQL writes it itself; `None`
    /// on SQLite, whose file permissions are the boundary).
    pub db_user: Option<String>,
    /// The store-wide brake the change was part of.
    pub incident: Option<String>,
    /// What the row acts on when it is not a journey's version
    /// (`action:email` for a rate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The scheduled action the row belongs to: set, taken back, skipped,
    /// or carried out at its time.
    pub schedule: Option<i64>,
    /// The approval request the action carried out (four eyes), and who
    /// asked for it; the row's actor approved it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asked_by: Option<String>,
    /// How the change was made: `scheduled` when the engine carried out
    /// an operator's action at its time (`--at`); `None` when it was made
    /// then and there.
    pub way: Option<String>,
    /// When the database recorded the row, by its own clock (PostgreSQL);
    /// `at` is the client's (the demo's and `tick --now` are simulated).
    pub recorded_at: Option<String>,
    #[serde(skip)]
    pub at_ms: Millis,
    #[serde(skip)]
    pub recorded_ms: Option<Millis>,
}

impl AuditEntry {
    /// What the row changed: `sale v2`, or its subject (`action:email`).
    pub fn about(&self) -> String {
        match &self.subject {
            Some(s) => s.clone(),
            None => format!("{} v{}", self.journey, self.version.unwrap_or(0)),
        }
    }

    /// Who made the change: the claimed actor, or `alice (as mallory)`
    /// where the database's login differs from it.
    pub fn who(&self) -> String {
        let who = match &self.db_user {
            Some(login) if *login != self.actor => format!("{login} (as {})", self.actor),
            _ => self.actor.clone(),
        };
        let who = match (&self.approval, &self.asked_by) {
            (Some(id), Some(asker)) => format!("{who} (approving #{id} asked by {asker})"),
            _ => who,
        };
        match (&self.way, self.schedule) {
            (Some(way), Some(id)) => format!("{who} ({way} #{id})"),
            _ => who,
        }
    }

    /// When the database recorded the row, where its clock says another
    /// minute than the client's `at`: a row claiming an earlier (or later)
    /// time shows both.
    pub fn recorded_apart(&self) -> Option<&str> {
        let recorded = self.recorded_ms?;
        ((recorded - self.at_ms).abs() > 60_000)
            .then_some(self.recorded_at.as_deref())
            .flatten()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileEntry {
    pub journey: String,
    pub version: i64,
    pub state: String,
    /// The index (from 0) of the next step to run, as stored.
    pub step: i64,
    /// While active: the next step to run numbered as the console numbers
    /// steps (from 1), and when it is due (until then, after a wait, the
    /// participant is inside that wait).
    pub next_step: Option<i64>,
    pub next_due: Option<String>,
    pub variant: Option<String>,
    pub converted: bool,
    pub converted_at: Option<String>,
    pub exit_reason: Option<String>,
    pub entered_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepCount {
    pub index: i64,
    /// `message`, `wait` or `split`.
    pub kind: &'static str,
    pub label: String,
    /// Active participants at this step: inside it for a wait, due to
    /// run it for a message or a split.
    pub waiting: i64,
    /// Of those, held here by a pause (due, but a message or split step
    /// does not run while the version is paused).
    pub held: i64,
}

/// The detail view of one version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionDetail {
    pub summary: VersionSummary,
    pub steps: Vec<StepCount>,
    pub exit_reasons: Vec<(String, i64)>,
    /// The last 48 hours hour by hour, oldest first (the last is the
    /// current hour).
    pub hours: Vec<crate::store::figures::minutes::MinuteCounts>,
    /// What will go out next, per action (`journeyctl forecast`).
    pub forecast: Vec<crate::domain::forecast::ActionForecast>,
    /// What operators did to it over the last 48 hours, oldest first.
    pub events: Vec<TrendEvent>,
    /// The minute the trends end at (epoch minutes).
    pub now_minute: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

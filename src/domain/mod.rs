//! The rules of journeys, with no I/O: statuses and transitions, definitions,
//! events, and the A/B statistics.

pub mod abtest;
mod action;
pub mod clock;
pub mod definition;
pub mod differences;
pub mod events;
pub mod forecast;
mod locate;
pub mod rate;
pub mod rng;
pub mod schedule;
pub mod srm;
pub mod status;
pub mod text;
pub mod time;

pub use action::{AuditAction, OperatorAction, Target, covers};
pub use definition::{Definition, EntryGuard, Split, Step, Variant};
pub use status::{ActionKind, Hold, NotConfirmed, OnExpiry, Overdue, Shown, VersionStatus};
pub use time::Millis;

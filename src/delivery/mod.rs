//! Delivery: messages leave the store (SPEC §2c). The channels file says
//! where each action goes; workers claim due messages, hand them to their
//! channel and record the outcome. A stop waits at the version's gate for
//! deliveries in flight (see `store::gate`), so none starts after it.

pub mod channels;
pub mod flow;
pub mod guard;
mod limited;
mod redact;
pub mod send;
pub mod worker;

pub use channels::{Channel, Channels, Kind};
pub use worker::{Options, Report, backoff_ms, deliver, deliver_with};

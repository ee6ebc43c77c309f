#![forbid(unsafe_code)]
//! journeyctl: the operations console, engine and scripting CLI for customer
//! journeys. The console and the CLI are faces over the same library calls.

pub mod alerts;
pub mod bench;
pub mod cli;
pub mod delivery;
pub mod demo;
pub mod domain;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod present;
pub mod store;
pub mod tui;

//! The demo's campaign, read from `catalogue.toml`: data, not code.

use std::collections::BTreeMap;

use crate::domain::time::{Millis, to_rfc3339};

/// One journey of the demo: its definition and how traffic treats it.
#[derive(Debug, Clone, serde::Deserialize)]
pub(super) struct JourneyTemplate {
    /// The journey definition (TOML).
    pub definition: String,
    /// Entries per simulated hour while live.
    pub entries_per_hour: f64,
    /// Probability that a participant converts, per variant name (or "*").
    pub conversion: BTreeMap<String, f64>,
    /// Probability that a participant unsubscribes.
    pub unsubscribe: f64,
    /// Within how many simulated hours of the first message people convert.
    pub window_hours: f64,
    /// A feed that breaks now and then (a deploy gone wrong): no entries
    /// for `minutes` simulated minutes every `every_hours` hours.
    #[serde(default)]
    pub halt: Option<Halt>,
    /// A variant that loses people before its split counts them.
    #[serde(default)]
    pub lose: Option<Lose>,
}

/// From `from_hours` (simulated) after the demo starts, `share` of the
/// entrants bound for `variant` send `event` (an exit event) within
/// `after_minutes` of entering: before the split step counts them, so its
/// counts drift from the weights (a sample ratio mismatch).
#[derive(Debug, Clone, serde::Deserialize)]
pub(super) struct Lose {
    pub variant: String,
    pub share: f64,
    pub from_hours: f64,
    pub event: String,
    pub after_minutes: f64,
}

#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub(super) struct Halt {
    pub every_hours: f64,
    pub minutes: f64,
}

impl Halt {
    /// Whether entries are halted at `at`: the first halt starts half an
    /// hour (simulated) after `sim_start`, and one every `every_hours`.
    pub fn covers(&self, sim_start: Millis, at: Millis) -> bool {
        let every = (self.every_hours * 3_600_000.0) as Millis;
        let into = (at - sim_start - 1_800_000).rem_euclid(every.max(1));
        into < (self.minutes * 60_000.0) as Millis
    }
}

#[derive(serde::Deserialize)]
struct Catalogue {
    journey: Vec<JourneyTemplate>,
}

/// The campaign, with holiday-promo's entry ending at `holiday_end` (on
/// the wall clock, as the store holds it).
pub(super) fn catalogue(holiday_end: Millis) -> anyhow::Result<Vec<JourneyTemplate>> {
    let holiday_end = to_rfc3339(holiday_end);
    let text = include_str!("catalogue.toml");
    let cat: Catalogue =
        toml::from_str(text).map_err(|e| anyhow::anyhow!("demo catalogue: {e}"))?;
    Ok(cat
        .journey
        .into_iter()
        .map(|mut j| {
            j.definition = j.definition.replace("{holiday_end}", &holiday_end);
            j
        })
        .collect())
}

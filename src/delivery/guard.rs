//! The failing-channel guardrail: `pause_when_failing = { share = "20%",
//! over = "5m", at_least = 50 }` on a channel pauses a version whose
//! attempts through it fail at that share or more over the window. Each
//! `deliver` process judges the attempts it made itself (per second, so a
//! long window costs little memory); the pause is the operators' pause,
//! audited with actor `guardrail`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;

use crate::store::{Attempt, Claimed};

/// The attempts through each guarded channel: its rule, how many were
/// sent and how many failed (a release is neither).
pub(super) fn tally<'a>(
    channels: &'a super::Channels,
    attempts: &[(Claimed, Attempt)],
) -> BTreeMap<&'a str, (FailGuard, u64, u64)> {
    let mut by_channel: BTreeMap<&str, (FailGuard, u64, u64)> = BTreeMap::new();
    for (c, a) in attempts {
        let Some(ch) = channels.route(&c.action) else {
            continue;
        };
        let Some(rule) = ch.guard else {
            continue;
        };
        let e = by_channel.entry(&ch.name).or_insert((rule, 0, 0));
        match a {
            Attempt::Sent => e.1 += 1,
            Attempt::Released => {}
            _ => e.2 += 1,
        }
    }
    by_channel
}

/// A channel's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailGuard {
    /// The failing share that trips it, in basis points (2000: 20%).
    pub share_bp: u32,
    pub over: Duration,
    /// Attempts in the window below which it never trips.
    pub at_least: u64,
}

/// The rule as a channels file writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFailGuard {
    share: String,
    over: String,
    at_least: Option<i64>,
}

impl RawFailGuard {
    /// The rule, or what is wrong with it (the key's own words).
    pub(super) fn check(&self) -> Result<FailGuard, String> {
        let bad = || {
            format!(
                "share {:?}: expected a percentage such as \"20%\"",
                self.share
            )
        };
        let pct: f64 = self
            .share
            .trim()
            .strip_suffix('%')
            .ok_or_else(bad)?
            .trim()
            .parse()
            .map_err(|_| bad())?;
        if !(pct > 0.0 && pct <= 100.0) {
            return Err(format!(
                "share {:?}: must be above 0% and at most 100%",
                self.share
            ));
        }
        let over =
            crate::domain::time::parse_duration(&self.over).map_err(|e| format!("over: {e}"))?;
        if !(1_000..=86_400_000).contains(&over) {
            return Err(format!("over {:?}: must be 1s to 1d", self.over));
        }
        let at_least = self.at_least.unwrap_or(20);
        if at_least < 1 {
            return Err("at_least must be 1 or more".into());
        }
        Ok(FailGuard {
            share_bp: (pct * 100.0).round() as u32,
            over: Duration::from_millis(over as u64),
            at_least: at_least as u64,
        })
    }
}

/// What tripped a rule: the figures its reason names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tripped {
    pub failed: u64,
    pub total: u64,
    pub rule: FailGuard,
}

impl Tripped {
    /// `31% failing over 5m (62 of 200 attempts through email; the rule
    /// pauses at 20%)`: the figures first, so a cut cell keeps them.
    pub fn reason(&self, channel: &str) -> String {
        format!(
            "{:.0}% failing over {} ({} of {} attempts through {channel}; the rule pauses at {}%)",
            self.failed as f64 * 100.0 / self.total as f64,
            crate::domain::time::duration_words(self.rule.over),
            crate::domain::text::thousands(self.failed as i64),
            crate::domain::text::thousands(self.total as i64),
            f64::from(self.rule.share_bp) / 100.0
        )
    }
}

/// One second's attempts: `(second, ok, failed)`.
type Second = (u64, u64, u64);

/// Attempts per second, per (version, channel), over each rule's window.
#[derive(Default)]
pub struct Windows {
    seconds: Mutex<HashMap<(i64, String), VecDeque<Second>>>,
}

impl Windows {
    /// Adds `ok` and `failed` attempts at second `now_s`; whether the rule
    /// trips now (the window starts again when it does).
    pub fn observe(
        &self,
        key: (i64, &str),
        ok: u64,
        failed: u64,
        now_s: u64,
        rule: FailGuard,
    ) -> Option<Tripped> {
        let mut all = self.seconds.lock().unwrap_or_else(|e| e.into_inner());
        let window = all.entry((key.0, key.1.to_string())).or_default();
        match window.back_mut() {
            Some((s, o, f)) if *s == now_s => {
                *o += ok;
                *f += failed;
            }
            _ => window.push_back((now_s, ok, failed)),
        }
        let since = now_s.saturating_sub(rule.over.as_secs().max(1) - 1);
        while window.front().is_some_and(|(s, _, _)| *s < since) {
            window.pop_front();
        }
        let (ok, failed) = window
            .iter()
            .fold((0, 0), |(o, f), (_, wo, wf)| (o + wo, f + wf));
        let total = ok + failed;
        if total >= rule.at_least && failed * 10_000 >= u64::from(rule.share_bp) * total {
            window.clear();
            return Some(Tripped {
                failed,
                total,
                rule,
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> FailGuard {
        FailGuard {
            share_bp: 2_000,
            over: Duration::from_secs(60),
            at_least: 10,
        }
    }

    #[test]
    fn trips_at_the_share_once_enough_attempts_were_made() {
        let w = Windows::default();
        assert_eq!(
            w.observe((1, "email"), 5, 4, 100, rule()),
            None,
            "9 attempts"
        );
        let t = w.observe((1, "email"), 0, 1, 100, rule()).unwrap();
        assert_eq!((t.failed, t.total), (5, 10));
        assert_eq!(
            t.reason("email"),
            "50% failing over 1m (5 of 10 attempts through email; the rule pauses at 20%)"
        );
        // Started again.
        assert_eq!(w.observe((1, "email"), 0, 1, 100, rule()), None);
    }

    #[test]
    fn trips_at_exactly_its_share_and_its_least_attempts() {
        let w = Windows::default();
        // 20% of 100 trips; 19% does not.
        assert_eq!(w.observe((1, "email"), 81, 19, 100, rule()), None);
        let t = w.observe((2, "email"), 80, 20, 100, rule()).unwrap();
        assert_eq!((t.failed, t.total), (20, 100));
        // Every one of 9 attempts failing does not trip (at_least 10);
        // 10 do.
        assert_eq!(w.observe((3, "email"), 0, 9, 100, rule()), None);
        assert!(w.observe((4, "email"), 0, 10, 100, rule()).is_some());
        // 2 of exactly 10: the share and the least at once.
        assert!(w.observe((5, "email"), 8, 2, 100, rule()).is_some());
    }

    #[test]
    fn old_seconds_leave_the_window_and_versions_are_apart() {
        let w = Windows::default();
        assert_eq!(w.observe((1, "email"), 0, 9, 100, rule()), None);
        assert_eq!(w.observe((2, "email"), 0, 9, 120, rule()), None);
        // 61 s later the 9 failures of version 1 are gone.
        assert_eq!(w.observe((1, "email"), 10, 1, 161, rule()), None);
        assert!(w.observe((1, "email"), 0, 2, 161, rule()).is_some());
    }

    #[test]
    fn a_bad_rule_says_which_part() {
        let raw = |share: &str, over: &str| RawFailGuard {
            share: share.into(),
            over: over.into(),
            at_least: None,
        };
        assert!(raw("20%", "5m").check().is_ok());
        assert_eq!(
            raw("20", "5m").check().unwrap_err(),
            "share \"20\": expected a percentage such as \"20%\""
        );
        assert_eq!(
            raw("20%", "2d").check().unwrap_err(),
            "over \"2d\": must be 1s to 1d"
        );
    }
}

//! A/B verdicts that stay valid however often they are looked at (SPEC §3).
//!
//! Each pair of variants gets the asymptotic confidence sequence of
//! Waudby-Smith et al. (2021, arXiv:2103.06476, eq. 9, 155, 161), equal to
//! the normal-mixture SPRT of Johari et al. (2017), with unpooled variances,
//! Bonferroni-corrected over the k(k-1)/2 pairs.

use serde::{Deserialize, Serialize};

pub const ALPHA: f64 = 0.05;

#[derive(Debug, Clone, PartialEq)]
pub struct Arm {
    pub name: String,
    pub converted: u64,
    pub participants: u64,
}

impl Arm {
    pub fn new(name: impl Into<String>, converted: u64, participants: u64) -> Arm {
        Arm {
            name: name.into(),
            converted,
            participants,
        }
    }

    pub fn rate(&self) -> Option<f64> {
        (self.participants > 0).then(|| self.converted as f64 / self.participants as f64)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    Collecting,
    NoWinnerYet,
    Winner,
}

impl VerdictKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Collecting => "collecting",
            VerdictKind::NoWinnerYet => "no_winner_yet",
            VerdictKind::Winner => "winner",
        }
    }
}

/// One pair's figures; the interval bounds the rate difference `b - a`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairResult {
    pub a: String,
    pub b: String,
    pub p_value: f64,
    pub cs_lower: Option<f64>,
    pub cs_upper: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub verdict: VerdictKind,
    pub winner: Option<String>,
    /// The always-valid p-value of the winner's (or the leader's) weakest pair.
    pub p_value: Option<f64>,
    pub pairs: Vec<PairResult>,
}

/// The confidence sequence and always-valid p-value for one pair at level
/// `alpha` (already corrected for the number of pairs).
pub fn pair(a: &Arm, b: &Arm, alpha: f64, expected_participants: u64) -> PairResult {
    let mut out = PairResult {
        a: a.name.clone(),
        b: b.name.clone(),
        p_value: 1.0,
        cs_lower: None,
        cs_upper: None,
    };
    let (Some(pa), Some(pb)) = (a.rate(), b.rate()) else {
        return out;
    };
    let (na, nb) = (a.participants as f64, b.participants as f64);
    let d = pb - pa;
    let s2 = pa * (1.0 - pa) / na + pb * (1.0 - pb) / nb;
    if s2 <= 0.0 || !s2.is_finite() {
        return out;
    }
    let n = na + nb;
    let l = -2.0 * alpha.ln();
    let rho2 = (l + (1.0 + l).ln()) / expected_participants.max(1) as f64;
    let g = n * rho2 + 1.0;
    let h = (s2 * n).sqrt() * (2.0 * g / (n * n * rho2) * (g.sqrt() / alpha).ln()).sqrt();
    let ln_e = n * n * rho2 * d * d / (2.0 * s2 * n * g) - g.ln() / 2.0;
    out.p_value = (-(ln_e.max(0.0))).exp().min(1.0);
    out.cs_lower = Some(d - h);
    out.cs_upper = Some(d + h);
    out
}

/// The level each pair is tested at: 5% Bonferroni-corrected over the
/// k(k-1)/2 pairs of `k` variants.
fn pair_alpha(k: usize) -> f64 {
    ALPHA / (k * k.saturating_sub(1) / 2).max(1) as f64
}

/// Every pair's figures at this look (in definition order).
pub fn look(arms: &[Arm], expected_participants: u64) -> Vec<PairResult> {
    let k = arms.len();
    let alpha = pair_alpha(k);
    let mut pairs = Vec::with_capacity(k * k.saturating_sub(1) / 2);
    for i in 0..k {
        for j in i + 1..k {
            pairs.push(pair(&arms[i], &arms[j], alpha, expected_participants));
        }
    }
    pairs
}

/// The verdict over every pair of `arms` at one look (for given counts).
pub fn verdict(arms: &[Arm], expected_participants: u64, min_per_variant: u64) -> Verdict {
    decide(arms, look(arms, expected_participants), min_per_variant)
}

/// Whether a look can be kept: every variant has `min_per_variant`
/// participants, and at least five conversions and five non-conversions
/// (the usual condition for the normal approximation of a rate). Before
/// that, a rate such as 0 of 400 has no variance: its interval would be
/// narrow for no reason, and a running intersection would keep it forever.
pub fn look_counts(arms: &[Arm], min_per_variant: u64) -> bool {
    arms.len() >= 2
        && arms.iter().all(|a| {
            a.participants >= min_per_variant
                && a.converted >= 5
                && a.participants.saturating_sub(a.converted) >= 5
        })
}

/// Folds one more look into what was kept from the earlier ones: per pair
/// the running intersection of the confidence sequence and the running
/// minimum of the always-valid p-value. Both stay valid, and unlike a fresh
/// computation they never widen again or contradict an earlier look.
pub fn fold_look(kept: &[PairResult], now: Vec<PairResult>) -> Vec<PairResult> {
    now.into_iter()
        .map(|mut p| {
            if let Some(k) = kept.iter().find(|k| k.a == p.a && k.b == p.b) {
                p.p_value = p.p_value.min(k.p_value);
                p.cs_lower = match (p.cs_lower, k.cs_lower) {
                    (Some(x), Some(y)) => Some(x.max(y)),
                    (x, y) => x.or(y),
                };
                p.cs_upper = match (p.cs_upper, k.cs_upper) {
                    (Some(x), Some(y)) => Some(x.min(y)),
                    (x, y) => x.or(y),
                };
            }
            p
        })
        .collect()
}

/// Whether the pair shows `b` ahead of `a` (`Some(true)`), `a` ahead of `b`
/// (`Some(false)`), or neither, at level `alpha`. A p-value under `alpha`
/// is the same event as an interval that leaves out zero; its side says
/// who is ahead.
fn ahead(p: &PairResult, alpha: f64) -> Option<bool> {
    if p.p_value >= alpha {
        return None;
    }
    match (p.cs_lower, p.cs_upper) {
        (Some(lo), _) if lo > 0.0 => Some(true),
        (_, Some(hi)) if hi < 0.0 => Some(false),
        _ => None,
    }
}

/// The verdict from pairs' figures (one look's, or the running ones).
pub fn decide(arms: &[Arm], pairs: Vec<PairResult>, min_per_variant: u64) -> Verdict {
    let k = arms.len();
    let alpha = pair_alpha(k);
    let collecting = k < 2 || arms.iter().any(|a| a.participants < min_per_variant);
    // The leader: highest observed rate, ties to the earlier variant.
    let leader = arms
        .iter()
        .enumerate()
        .filter_map(|(i, a)| a.rate().map(|r| (i, r)))
        .fold(None::<(usize, f64)>, |best, (i, r)| match best {
            Some((_, br)) if br >= r => best,
            _ => Some((i, r)),
        })
        .map(|(i, _)| i);
    let weakest = |idx: usize| -> Option<f64> {
        let name = &arms[idx].name;
        pairs
            .iter()
            .filter(|p| &p.a == name || &p.b == name)
            .map(|p| p.p_value)
            .fold(None, |acc: Option<f64>, p| {
                Some(acc.map_or(p, |a| a.max(p)))
            })
    };
    let beats_all = |idx: usize| -> bool {
        let me = &arms[idx].name;
        arms.iter()
            .enumerate()
            .filter(|(j, _)| *j != idx)
            .all(|(_, other)| {
                pairs.iter().any(|p| {
                    (&p.a == me && p.b == other.name && ahead(p, alpha) == Some(false))
                        || (&p.b == me && p.a == other.name && ahead(p, alpha) == Some(true))
                })
            })
    };
    let winner = if collecting {
        None
    } else {
        (0..k).find(|&i| beats_all(i))
    };
    Verdict {
        verdict: if collecting {
            VerdictKind::Collecting
        } else if winner.is_some() {
            VerdictKind::Winner
        } else {
            VerdictKind::NoWinnerYet
        },
        winner: winner.map(|i| arms[i].name.clone()),
        p_value: winner.or(leader).and_then(weakest),
        pairs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rng::SplitMix64;

    /// Agrees with a published figure to 1e-6 relative, or to every digit
    /// the figure was published with.
    fn close(x: f64, want: &str) {
        let w: f64 = want.parse().unwrap();
        let mantissa = want.split(['e', 'E']).next().unwrap_or(want);
        let exp: i32 = want
            .split(['e', 'E'])
            .nth(1)
            .map_or(0, |e| e.parse().unwrap());
        let decimals = mantissa.split('.').nth(1).map_or(0, str::len) as i32;
        let published = 0.5 * 10f64.powi(exp - decimals);
        let rel = ((x - w) / w).abs();
        assert!(
            rel < 1e-6 || (x - w).abs() <= published * (1.0 + 1e-9),
            "{x} vs {want} (rel {rel})"
        );
    }

    #[test]
    fn checked_figures_no_winner_yet() {
        let v = verdict(
            &[Arm::new("A", 50, 1000), Arm::new("B", 70, 1000)],
            5000,
            100,
        );
        assert_eq!(v.verdict, VerdictKind::NoWinnerYet);
        let p = &v.pairs[0];
        close(p.p_value, "0.529292");
        close(p.cs_lower.unwrap(), "-0.013147");
        close(p.cs_upper.unwrap(), "0.053147");
        assert_eq!(v.winner, None);
        close(v.p_value.unwrap(), "0.529292");
    }

    #[test]
    fn checked_figures_winner() {
        let v = verdict(
            &[Arm::new("A", 1000, 20000), Arm::new("B", 1200, 20000)],
            5000,
            100,
        );
        assert_eq!(v.verdict, VerdictKind::Winner);
        assert_eq!(v.winner.as_deref(), Some("B"));
        let p = &v.pairs[0];
        close(p.p_value, "6.16073e-4");
        close(p.cs_lower.unwrap(), "0.0026787");
        close(p.cs_upper.unwrap(), "0.0173213");
    }

    #[test]
    fn zero_variance_has_no_bounds() {
        let v = verdict(&[Arm::new("A", 0, 500), Arm::new("B", 0, 500)], 5000, 100);
        assert_eq!(v.pairs[0].p_value, 1.0);
        assert_eq!(v.pairs[0].cs_lower, None);
        assert_eq!(v.pairs[0].cs_upper, None);
        assert_eq!(v.verdict, VerdictKind::NoWinnerYet);
        let v = verdict(
            &[Arm::new("A", 500, 500), Arm::new("B", 500, 500)],
            5000,
            100,
        );
        assert_eq!(v.pairs[0].p_value, 1.0);
    }

    #[test]
    fn collecting_until_every_variant_has_its_minimum() {
        let v = verdict(&[Arm::new("A", 0, 99), Arm::new("B", 90, 5000)], 5000, 100);
        assert_eq!(v.verdict, VerdictKind::Collecting);
        assert_eq!(v.winner, None);
        let v = verdict(&[Arm::new("A", 0, 0), Arm::new("B", 0, 0)], 5000, 100);
        assert_eq!(v.verdict, VerdictKind::Collecting);
        assert_eq!(v.p_value, None);
    }

    #[test]
    fn three_variants_use_bonferroni_and_need_to_beat_both() {
        let arms = [
            Arm::new("A", 1000, 20000),
            Arm::new("B", 1200, 20000),
            Arm::new("C", 1190, 20000),
        ];
        let v = verdict(&arms, 5000, 100);
        assert_eq!(v.pairs.len(), 3);
        // Each pair at 0.05 / 3: the A-B pair is the same pair as above,
        // with a tighter level.
        let ab = pair(&arms[0], &arms[1], ALPHA / 3.0, 5000);
        assert_eq!(v.pairs[0], ab);
        assert!(ab.cs_lower.unwrap() < 0.0026787);
        // B beats A but not C: no winner.
        assert_eq!(v.verdict, VerdictKind::NoWinnerYet);
        let arms = [
            Arm::new("A", 1000, 20000),
            Arm::new("B", 1400, 20000),
            Arm::new("C", 1000, 20000),
        ];
        let v = verdict(&arms, 5000, 100);
        assert_eq!(v.winner.as_deref(), Some("B"));
        assert_eq!(v.pairs[1].a, "A");
        assert_eq!(v.pairs[1].b, "C");
        assert!(v.p_value.unwrap() < ALPHA / 3.0);
    }

    /// Runs one experiment, looking every 100 participants per arm, and
    /// returns the first winner declared.
    fn experiment(rng: &mut SplitMix64, rates: [f64; 2], max_per_arm: u64) -> Option<String> {
        let mut conv = [0u64; 2];
        let mut n = 0u64;
        while n < max_per_arm {
            for _ in 0..100 {
                for (c, r) in conv.iter_mut().zip(rates) {
                    if rng.next_f64() < r {
                        *c += 1;
                    }
                }
            }
            n += 100;
            let v = verdict(
                &[Arm::new("A", conv[0], n), Arm::new("B", conv[1], n)],
                5000,
                100,
            );
            if v.verdict == VerdictKind::Winner {
                return v.winner;
            }
        }
        None
    }

    #[test]
    fn aa_tests_watched_every_hundred_rarely_declare_a_winner() {
        let mut rng = SplitMix64::new(20_261_121);
        let runs = 1000;
        let false_winners = (0..runs)
            .filter(|_| experiment(&mut rng, [0.05, 0.05], 5000).is_some())
            .count();
        assert!(
            false_winners as f64 <= 0.05 * runs as f64,
            "{false_winners} false winners in {runs} A/A tests"
        );
    }

    #[test]
    fn a_real_difference_is_found_for_the_better_arm() {
        let mut rng = SplitMix64::new(7);
        let runs = 300;
        let right = (0..runs)
            .filter(|_| experiment(&mut rng, [0.05, 0.07], 5000).as_deref() == Some("B"))
            .count();
        assert!(
            right as f64 >= 0.8 * runs as f64,
            "5% vs 7% decided for B in only {right} of {runs} runs"
        );
    }

    #[test]
    fn running_figures_never_widen_between_looks() {
        let mut rng = SplitMix64::new(99);
        let mut conv = [0u64; 2];
        let mut kept: Vec<PairResult> = Vec::new();
        for look_no in 1..=60u64 {
            for _ in 0..50 {
                for (c, r) in conv.iter_mut().zip([0.05, 0.06]) {
                    if rng.next_f64() < r {
                        *c += 1;
                    }
                }
            }
            let n = look_no * 50;
            let arms = [Arm::new("A", conv[0], n), Arm::new("B", conv[1], n)];
            let next = fold_look(&kept, look(&arms, 5000));
            let now = &next[0];
            if let Some(before) = kept.first() {
                assert!(now.p_value <= before.p_value);
                if let (Some(b), Some(x)) = (before.cs_lower, now.cs_lower) {
                    assert!(x >= b, "lower bound fell at look {look_no}");
                }
                if let (Some(b), Some(x)) = (before.cs_upper, now.cs_upper) {
                    assert!(x <= b, "upper bound rose at look {look_no}");
                }
            }
            kept = next;
        }
    }

    #[test]
    fn a_running_figure_keeps_an_earlier_significant_look() {
        // Significant at the first look, not at the second on its own.
        let first = look(&[Arm::new("A", 50, 1000), Arm::new("B", 110, 1000)], 5000);
        let second = look(&[Arm::new("A", 100, 2000), Arm::new("B", 130, 2000)], 5000);
        assert!(first[0].p_value < ALPHA && second[0].p_value >= ALPHA);
        let arms = [Arm::new("A", 100, 2000), Arm::new("B", 130, 2000)];
        let running = fold_look(&first, second.clone());
        assert_eq!(running[0].p_value, first[0].p_value);
        assert_eq!(decide(&arms, running, 100).winner.as_deref(), Some("B"));
        assert_eq!(decide(&arms, second, 100).winner, None);
    }

    #[test]
    fn a_look_counts_once_rates_have_variance() {
        let ok = [Arm::new("A", 5, 100), Arm::new("B", 6, 100)];
        assert!(look_counts(&ok, 100));
        assert!(!look_counts(
            &[Arm::new("A", 0, 400), Arm::new("B", 9, 400)],
            100
        ));
        assert!(!look_counts(
            &[Arm::new("A", 398, 400), Arm::new("B", 9, 400)],
            100
        ));
        assert!(!look_counts(
            &[Arm::new("A", 9, 99), Arm::new("B", 9, 400)],
            100
        ));
        assert!(!look_counts(&ok[..1], 100));
    }
}

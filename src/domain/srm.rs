//! Sample ratio mismatch: whether a split's variants received people in
//! the proportions of their weights. The check is the one GrowthBook,
//! Optimizely and Statsig run (GrowthBook's `checkSrm(users, weights)`):
//! Pearson's chi-square statistic of the observed counts against the
//! counts the weights expect, and its survival function with one degree
//! of freedom fewer than the variants. Below [`SRM_ALPHA`] the split is
//! suspect and no winner is decided on it.

use serde::{Serialize, Serializer};

use super::Split;

/// The p-value under which a split is marked (GrowthBook's default).
pub const SRM_ALPHA: f64 = 0.001;

/// One check: the p-value, and per variant (in the split's order) its
/// name, observed count and the count its weight expects.
/// In JSON: `{"p_value": .., "observed": {"A": 5000, ..}, "expected":
/// {"A": 5200.0, ..}}`, variants in the split's order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SrmCheck {
    pub p_value: f64,
    #[serde(serialize_with = "as_map")]
    pub observed: Vec<(String, u64)>,
    #[serde(serialize_with = "as_map")]
    pub expected: Vec<(String, f64)>,
}

fn as_map<S: Serializer, V: Serialize>(pairs: &[(String, V)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(pairs.iter().map(|(k, v)| (k, v)))
}

impl SrmCheck {
    /// Whether the split is marked: its counts are too far from its weights
    /// for chance.
    pub fn marked(&self) -> bool {
        self.p_value < SRM_ALPHA
    }
}

/// The check of `counts` (name, people) against `weights` (same order).
/// Variants of weight 0 are left out, as GrowthBook does; with fewer than
/// two left, or nobody at all, the p-value is 1.
pub fn check_srm(counts: &[(String, u64)], weights: &[f64]) -> SrmCheck {
    let kept: Vec<(&(String, u64), f64)> = counts
        .iter()
        .zip(weights.iter().copied())
        .filter(|(_, w)| *w > 0.0 && w.is_finite())
        .collect();
    let total: f64 = kept.iter().map(|((_, n), _)| *n as f64).sum();
    let weight: f64 = kept.iter().map(|(_, w)| w).sum();
    let expected: Vec<(String, f64)> = kept
        .iter()
        .map(|((name, _), w)| (name.clone(), w / weight * total))
        .collect();
    let p_value = if kept.len() < 2 || total <= 0.0 {
        1.0
    } else {
        let x: f64 = kept
            .iter()
            .zip(&expected)
            .map(|(((_, o), _), (_, e))| (*o as f64 - e).powi(2) / e)
            .sum();
        chi_square_sf(x, (kept.len() - 1) as f64)
    };
    SrmCheck {
        p_value,
        observed: kept.iter().map(|(c, _)| (*c).clone()).collect(),
        expected,
    }
}

/// The check of a split's variants: `assigned` gives each variant's
/// people by name (a variant not named has none).
pub fn check_split(split: &Split, assigned: &[(String, u64)]) -> SrmCheck {
    let counts: Vec<(String, u64)> = split
        .variants
        .iter()
        .map(|v| {
            let n = assigned
                .iter()
                .find(|(name, _)| *name == v.name)
                .map_or(0, |(_, n)| *n);
            (v.name.clone(), n)
        })
        .collect();
    let weights: Vec<f64> = split.variants.iter().map(|v| f64::from(v.weight)).collect();
    check_srm(&counts, &weights)
}

/// P(X > x) for X chi-square with `df` degrees of freedom: the regularized
/// upper incomplete gamma function Q(df/2, x/2).
pub fn chi_square_sf(x: f64, df: f64) -> f64 {
    if x <= 0.0 {
        return 1.0;
    }
    upper_gamma_q(df / 2.0, x / 2.0)
}

/// Q(a, x) = Γ(a, x) / Γ(a): by its series where x < a + 1 (as 1 - P), by
/// its continued fraction (modified Lentz) beyond, each to double
/// precision (Numerical Recipes §6.2).
fn upper_gamma_q(a: f64, x: f64) -> f64 {
    const EPS: f64 = 1e-16;
    const TINY: f64 = 1e-300;
    let front = (-x + a * x.ln() - ln_gamma(a)).exp();
    if x < a + 1.0 {
        let (mut ap, mut del) = (a, 1.0 / a);
        let mut sum = del;
        for _ in 0..10_000 {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if del.abs() < sum.abs() * EPS {
                break;
            }
        }
        return (1.0 - sum * front).clamp(0.0, 1.0);
    }
    let mut b = x + 1.0 - a;
    let mut c = 1.0 / TINY;
    let mut d = 1.0 / b;
    let mut h = d;
    for i in 1..10_000 {
        let an = -(i as f64) * (i as f64 - a);
        b += 2.0;
        d = an * d + b;
        if d.abs() < TINY {
            d = TINY;
        }
        c = b + an / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < EPS {
            break;
        }
    }
    (front * h).clamp(0.0, 1.0)
}

/// ln Γ(a) for a > 0: Lanczos' approximation (g = 7, nine terms), good to
/// about 1e-15 relative.
fn ln_gamma(a: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if a < 0.5 {
        // Reflection: Γ(a) Γ(1 - a) = π / sin(πa).
        return (std::f64::consts::PI / (std::f64::consts::PI * a).sin()).ln() - ln_gamma(1.0 - a);
    }
    let a = a - 1.0;
    let t = a + G + 0.5;
    let sum = C[1..]
        .iter()
        .enumerate()
        .fold(C[0], |s, (i, c)| s + c / (a + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (a + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(counts: &[u64]) -> Vec<(String, u64)> {
        counts
            .iter()
            .enumerate()
            .map(|(i, n)| (((b'A' + i as u8) as char).to_string(), *n))
            .collect()
    }

    #[test]
    fn five_thousand_against_fifty_four_hundred() {
        let c = check_srm(&named(&[5000, 5400]), &[50.0, 50.0]);
        assert!((c.p_value - 8.769_9e-5).abs() < 1e-8, "{}", c.p_value);
        assert!(c.marked());
        assert_eq!(c.expected[0].1, 5200.0);
    }

    #[test]
    fn closed_forms() {
        // df = 2: Q = e^{-x/2}; df = 4: e^{-x/2} (1 + x/2).
        for x in [0.1, 1.0, 3.0, 10.0, 40.0, 90.0] {
            let two = (-x / 2.0f64).exp();
            assert!((chi_square_sf(x, 2.0) - two).abs() <= 1e-14 * two.max(1e-300) + 1e-16);
            let four = two * (1.0 + x / 2.0);
            assert!(
                ((chi_square_sf(x, 4.0) - four) / four).abs() < 1e-12,
                "x {x}"
            );
        }
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-14);
        assert!((ln_gamma(10.0) - 362_880f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn nothing_to_check() {
        assert_eq!(check_srm(&named(&[0, 0]), &[1.0, 1.0]).p_value, 1.0);
        assert_eq!(check_srm(&named(&[10, 3]), &[1.0, 0.0]).p_value, 1.0);
        // A variant nobody reached is the worst mismatch, not one to skip.
        assert!(check_srm(&named(&[2000, 0]), &[1.0, 1.0]).marked());
    }
}

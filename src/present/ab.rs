//! The A/B test in words: its verdict in a cell, what came after a
//! decision, and a sample ratio mismatch.

use crate::domain::abtest::VerdictKind;
use crate::domain::srm::SrmCheck;
use crate::store::AbSummary;

use super::thousands;

/// The A/B column: `-`, `collecting`, `no winner yet`, `winner B`; a
/// split marked for a sample ratio mismatch says `⚠ SRM` (with its stored
/// winner, if one was decided before).
pub fn ab_label(ab: Option<&AbSummary>) -> String {
    match ab {
        None => "-".to_string(),
        Some(a) if a.chosen_winner().is_some() => {
            format!(
                "{} by hand",
                a.chosen_winner().map_or("", |c| c.variant.as_str())
            )
        }
        Some(a) => match (&a.verdict, &a.winner, &a.srm) {
            (VerdictKind::Winner, Some(w), Some(_)) => format!("winner {w} ⚠ SRM"),
            (_, _, Some(_)) => "⚠ SRM".to_string(),
            (VerdictKind::Winner, Some(w), None) => format!("winner {w}"),
            (VerdictKind::Winner, None, None) => "winner".to_string(),
            (VerdictKind::NoWinnerYet, _, None) => "no winner yet".to_string(),
            (VerdictKind::Collecting, _, None) => "collecting".to_string(),
        },
    }
}

/// An operator's choices by hand, a line each: `verdict: A chosen by
/// alice (operator decision), not a statistical result`, `B disabled by
/// alice at ...: dead link`.
pub fn by_hand_lines(ab: &AbSummary) -> Vec<String> {
    ab.by_hand
        .iter()
        .map(|c| {
            let reason = c.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
            let line = match c.choice.as_str() {
                "winner" => format!(
                    "verdict: {} chosen by {} (operator decision), not a statistical result, at {}{reason}",
                    c.variant, c.by, c.at
                ),
                _ => format!(
                    "{} disabled by {} at {}{reason}: new entries go to the other arms",
                    c.variant, c.by, c.at
                ),
            };
            super::escaped(&line).into_owned()
        })
        .collect()
}

/// What each variant gained after the decision (conversions include
/// participants assigned before it).
pub fn since_decision(
    before: &[crate::store::VariantSummary],
    now: &[crate::store::VariantSummary],
) -> String {
    now.iter()
        .map(|v| {
            let (a0, c0) = before
                .iter()
                .find(|b| b.name == v.name)
                .map_or((0, 0), |b| (b.assigned, b.converted));
            let (a, c) = ((v.assigned - a0).max(0), (v.converted - c0).max(0));
            format!(
                "{} +{} assigned, +{} converted",
                v.name,
                thousands(a),
                thousands(c)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What an SRM mark means for the test: for a stored winner (`decided`),
/// or for the running test.
pub fn srm_meaning(decided: bool) -> &'static str {
    if decided {
        "the counts at the decision are far from the weights: treat this winner with doubt"
    } else {
        "the counts are far from the weights for chance: no winner is decided while they are"
    }
}

/// A sample ratio mismatch in one line: `⚠ SRM p = 8.77e-5 < 0.001: A
/// 5,000 (expected 5,200), B 5,400 (expected 5,200)`.
pub fn srm_line(c: &SrmCheck) -> String {
    let counts = c
        .observed
        .iter()
        .zip(&c.expected)
        .map(|((name, o), (_, e))| {
            format!(
                "{name} {} (expected {})",
                thousands(*o as i64),
                thousands(e.round() as i64)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "⚠ SRM p = {:.3e} < {}: {counts}",
        c.p_value,
        crate::domain::srm::SRM_ALPHA
    )
}

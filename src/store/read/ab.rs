//! A version's A/B test as every face shows it: the engine's running
//! figures while it is live, the decision's own figures once decided.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::Row;

use crate::domain::Definition;
use crate::domain::Millis;
use crate::domain::abtest::{Arm, PairResult, VerdictKind, decide};
use crate::domain::srm::{SrmCheck, check_split};
use crate::domain::time::to_rfc3339;
use crate::store::Result;

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct VariantSummary {
    pub name: String,
    pub assigned: i64,
    pub converted: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AbSummary {
    pub test: String,
    pub variants: Vec<VariantSummary>,
    pub verdict: VerdictKind,
    pub winner: Option<String>,
    pub p_value: Option<f64>,
    pub decided_at: Option<String>,
    /// Per pair (the interval bounds `b - a`): once decided, the decision's
    /// own figures; before, the engine's running ones (the intersection of
    /// every look's confidence sequence, the smallest p-value), which never
    /// widen again. Empty before the engine's first look.
    pub pairs: Vec<PairResult>,
    /// How many times the engine has looked at the test.
    pub looks: i64,
    /// The variants' counts when the winner was decided: what came after
    /// is observed since the decision, not tested.
    pub at_decision: Option<Vec<VariantSummary>>,
    /// Set while the split's counts are too far from its weights for
    /// chance (a sample ratio mismatch, p < 0.001): no winner is decided
    /// while it is. Once decided, the counts at the decision are checked
    /// (everyone after it gets the winner).
    pub srm: Option<SrmCheck>,
    /// An operator's choices by hand (`journeyctl variant`): arms
    /// disabled, or a winner chosen, which is not a statistical result.
    pub by_hand: Vec<ChosenArm>,
}

/// One arm an operator disabled or chose as the winner.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChosenArm {
    pub variant: String,
    /// `disabled` or `winner`.
    pub choice: String,
    pub by: String,
    pub at: String,
    pub reason: Option<String>,
    /// Every arm's count at the choice: the sample ratio check compares
    /// what came after with the weights from then on.
    #[serde(skip)]
    pub assigned_then: HashMap<String, i64>,
}

impl AbSummary {
    /// The winner an operator chose, if one did.
    pub fn chosen_winner(&self) -> Option<&ChosenArm> {
        self.by_hand.iter().find(|c| c.choice == "winner")
    }
}

/// The SRM mark once arms are disabled: what came after the latest
/// choice against the weights of the arms still taking people (none
/// once a winner is chosen: everyone gets it).
fn srm_after(
    split: &crate::domain::Split,
    variants: &[VariantSummary],
    by_hand: &[ChosenArm],
) -> Option<SrmCheck> {
    let latest = by_hand.last()?;
    if by_hand.iter().any(|c| c.choice == "winner") {
        return None;
    }
    let mut left = split.clone();
    left.variants
        .retain(|v| !by_hand.iter().any(|c| c.variant == v.name));
    let since: Vec<VariantSummary> = variants
        .iter()
        .filter(|v| left.variants.iter().any(|x| x.name == v.name))
        .map(|v| VariantSummary {
            assigned: v.assigned - latest.assigned_then.get(&v.name).copied().unwrap_or(0),
            ..v.clone()
        })
        .collect();
    srm_mark(&left, &since)
}

/// The SRM mark of `variants`' counts against `split`'s weights, if marked.
fn srm_mark(split: &crate::domain::Split, variants: &[VariantSummary]) -> Option<SrmCheck> {
    let counts: Vec<(String, u64)> = variants
        .iter()
        .map(|v| (v.name.clone(), v.assigned.max(0) as u64))
        .collect();
    Some(check_split(split, &counts)).filter(SrmCheck::marked)
}

/// A decision as stored: its figures at the moment it was made.
#[derive(serde::Deserialize)]
struct DecisionFigures {
    variants: Vec<VariantSummary>,
    pairs: Vec<PairResult>,
}

struct Decision {
    winner: String,
    at: Millis,
    p_value: f64,
    figures: DecisionFigures,
}

/// What the main list needs of every test, read once per refresh.
#[derive(Default)]
pub(super) struct Tests {
    variants: HashMap<i64, Vec<VariantSummary>>,
    decisions: HashMap<i64, Decision>,
    running: HashMap<i64, (i64, Vec<PairResult>)>,
    by_hand: HashMap<i64, Vec<ChosenArm>>,
    /// Versions whose stored A/B rows cannot be read, and why: each is
    /// marked, every other shown as usual.
    pub(super) unreadable: HashMap<i64, String>,
}

/// One line of why a stored text cannot be read.
fn why(what: &str, e: &serde_json::Error) -> String {
    format!("{what}: {}", e.to_string().replace(['\n', '\r'], " "))
}

impl Tests {
    pub(super) async fn read(conn: &mut sqlx::AnyConnection) -> Result<Tests> {
        let mut tests = Tests::default();
        let rows = sqlx::query(
            "SELECT version_id, test, name, assigned, converted FROM variants ORDER BY version_id, position",
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            tests
                .variants
                .entry(r.try_get("version_id")?)
                .or_default()
                .push(VariantSummary {
                    name: r.try_get("name")?,
                    assigned: r.try_get("assigned")?,
                    converted: r.try_get("converted")?,
                });
        }
        let rows = sqlx::query(
            "SELECT version_id, winner, decided_at, p_value, figures FROM ab_decisions",
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let id: i64 = r.try_get("version_id")?;
            let figures: DecisionFigures =
                match serde_json::from_str(&r.try_get::<String, _>("figures")?) {
                    Ok(f) => f,
                    Err(e) => {
                        tests.unreadable.insert(id, why("stored A/B decision", &e));
                        continue;
                    }
                };
            let decision = Decision {
                winner: r.try_get("winner")?,
                at: r.try_get("decided_at")?,
                p_value: r.try_get("p_value")?,
                figures,
            };
            tests.decisions.insert(id, decision);
        }
        tests.by_hand = by_hand(conn).await?;
        let rows = sqlx::query("SELECT version_id, looks, pairs FROM ab_running")
            .fetch_all(&mut *conn)
            .await?;
        for r in &rows {
            let id: i64 = r.try_get("version_id")?;
            match serde_json::from_str(&r.try_get::<String, _>("pairs")?) {
                Ok(kept) => {
                    tests.running.insert(id, (r.try_get("looks")?, kept));
                }
                Err(e) => {
                    tests.unreadable.insert(id, why("stored A/B figures", &e));
                }
            }
        }
        Ok(tests)
    }

    /// The test of version `id`, if its definition has one.
    pub(super) fn take(&mut self, id: i64, def: &Definition) -> Option<AbSummary> {
        let (_, split) = def.split()?;
        if self.unreadable.contains_key(&id) {
            return None;
        }
        let variants = self.variants.remove(&id).unwrap_or_default();
        let (looks, kept) = self.running.remove(&id).unwrap_or_default();
        let by_hand = self.by_hand.remove(&id).unwrap_or_default();
        if let Some(d) = self.decisions.remove(&id) {
            return Some(AbSummary {
                srm: srm_mark(split, &d.figures.variants),
                test: split.test.clone(),
                variants,
                verdict: VerdictKind::Winner,
                winner: Some(d.winner),
                p_value: Some(d.p_value),
                decided_at: Some(to_rfc3339(d.at)),
                pairs: d.figures.pairs,
                looks,
                at_decision: Some(d.figures.variants),
                by_hand,
            });
        }
        let arms: Vec<Arm> = variants
            .iter()
            .map(|v| Arm::new(&v.name, v.converted.max(0) as u64, v.assigned.max(0) as u64))
            .collect();
        // The engine's running figures: a winner among them is stored by the
        // engine, in the same transaction, so until then the verdict here is
        // never `winner` and every console agrees.
        let v = decide(&arms, kept, split.min_per_variant);
        Some(AbSummary {
            test: split.test.clone(),
            verdict: if v.verdict == VerdictKind::Winner {
                VerdictKind::NoWinnerYet
            } else {
                v.verdict
            },
            winner: None,
            p_value: if v.pairs.is_empty() { None } else { v.p_value },
            decided_at: None,
            pairs: v.pairs,
            looks,
            at_decision: None,
            srm: if by_hand.is_empty() {
                srm_mark(split, &variants)
            } else {
                srm_after(split, &variants, &by_hand)
            },
            variants,
            by_hand,
        })
    }
}

/// Every operator's choice by hand, per version, in the order made.
async fn by_hand(conn: &mut sqlx::AnyConnection) -> Result<HashMap<i64, Vec<ChosenArm>>> {
    let rows = sqlx::query(
        "SELECT version_id, variant, choice, set_by, set_at, reason, assigned_then FROM variant_choices \
         ORDER BY version_id, set_at",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out: HashMap<i64, Vec<ChosenArm>> = HashMap::new();
    for r in &rows {
        let then: String = r.try_get("assigned_then")?;
        out.entry(r.try_get("version_id")?)
            .or_default()
            .push(ChosenArm {
                variant: r.try_get("variant")?,
                choice: r.try_get("choice")?,
                by: r.try_get("set_by")?,
                at: to_rfc3339(r.try_get("set_at")?),
                reason: r.try_get("reason")?,
                assigned_then: serde_json::from_str(&then).unwrap_or_default(),
            });
    }
    Ok(out)
}

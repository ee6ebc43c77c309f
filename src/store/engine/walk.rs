//! How one participant moves in a tick: its steps run in order until one
//! is not yet due, the last is passed, or (while the version is paused) it
//! reaches a message or split. Pure: no SQL but the text of the due query.

use crate::domain::rng::assign_variant;
use crate::domain::{Millis, Step};

/// Runs one participant's steps in order until one is not yet due or the
/// last is passed: what it sends, where it ends up, and when it is next due.
/// While the version is paused (`held`), waits still run but a message or
/// split step is not: the participant holds before it.
pub(in crate::store) fn walk<'a>(
    p: &'a Due,
    steps: &[Step],
    (decided, disabled): (Option<&str>, &[String]),
    now: Millis,
    held: bool,
) -> Move<'a> {
    let mut step = p.step.max(0) as usize;
    let mut t = p.due_at;
    let mut variant = p.variant.clone();
    let mut sends: Vec<Send> = Vec::new();
    let mut assigned: Option<String> = None;
    let mut ran = 0u64;
    let mut completed = false;
    while t <= now {
        let Some(s) = steps.get(step) else {
            completed = true;
            break;
        };
        if held && !matches!(s, Step::Wait { .. }) {
            break;
        }
        ran += 1;
        match s {
            Step::Message { action } => sends.push(Send {
                action: action.clone(),
                at: t,
                variant: variant.clone(),
            }),
            Step::Wait { millis, .. } => t = t.saturating_add(*millis),
            Step::Split(split) => {
                // Once a winner is stored, everyone reaching the split gets it.
                let idx = decided
                    .and_then(|w| split.variants.iter().position(|x| x.name == w))
                    .unwrap_or_else(|| {
                        // An arm an operator disabled takes no one new.
                        let weights: Vec<u32> = split
                            .variants
                            .iter()
                            .map(|x| {
                                if disabled.contains(&x.name) {
                                    0
                                } else {
                                    x.weight
                                }
                            })
                            .collect();
                        assign_variant(&p.profile, &split.test, &weights)
                    });
                let chosen = &split.variants[idx];
                sends.push(Send {
                    action: chosen.action.clone(),
                    at: t,
                    variant: Some(chosen.name.clone()),
                });
                if variant.is_none() {
                    variant = Some(chosen.name.clone());
                    assigned = Some(chosen.name.clone());
                }
            }
        }
        step += 1;
    }
    Move {
        due: p,
        state: if completed { "completed" } else { "active" },
        step: step as i64,
        due_at: t,
        variant,
        ran,
        completed,
        assigned,
        sends,
    }
}

pub(in crate::store) struct Due {
    pub(in crate::store) id: i64,
    pub(in crate::store) profile: String,
    pub(in crate::store) step: i64,
    pub(in crate::store) due_at: Millis,
    pub(in crate::store) variant: Option<String>,
}

/// The due participants of one version, in batch order (`$1` the
/// version, `$2` the clock, `$3` the batch size). While it is paused only
/// those at a wait (or past the last step) can move, so those held before
/// a message are not read again and again.
pub(in crate::store) fn due_query(steps: &[Step], paused: bool, one_bucket: bool) -> String {
    let mut sql = String::from(
        "SELECT id, profile, step, due_at, variant FROM participants \
         WHERE version_id = $1 AND state = 'active' AND due_at <= $2",
    );
    if one_bucket {
        sql.push_str(" AND bucket = $4");
    }
    if paused {
        let mut movable: Vec<String> = steps
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s, Step::Wait { .. }))
            .map(|(i, _)| i.to_string())
            .collect();
        movable.push(steps.len().to_string());
        // Step indexes are numbers formatted here, never input.
        sql.push_str(&format!(
            " AND (step IN ({}) OR step > {})",
            movable.join(", "),
            steps.len()
        ));
    }
    sql.push_str(" ORDER BY due_at, id LIMIT $3");
    sql
}

/// Where one due participant goes in this tick.
pub(in crate::store) struct Move<'a> {
    pub(in crate::store) due: &'a Due,
    pub(in crate::store) state: &'static str,
    pub(in crate::store) step: i64,
    pub(in crate::store) due_at: Millis,
    pub(in crate::store) variant: Option<String>,
    pub(in crate::store) ran: u64,
    pub(in crate::store) completed: bool,
    pub(in crate::store) assigned: Option<String>,
    pub(in crate::store) sends: Vec<Send>,
}

/// One message a step sends: its action, when the step was due, and the
/// participant's A/B variant at that point.
pub(in crate::store) struct Send {
    pub(in crate::store) action: String,
    pub(in crate::store) at: Millis,
    pub(in crate::store) variant: Option<String>,
}

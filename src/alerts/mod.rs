//! Alerts for a team that does not watch a console all night: the ones
//! built in (a guardrail trip, an SRM alarm, a hold that runs out within
//! the hour, an action's messages failing above 20% over 10 minutes, no
//! engine for 5 minutes) and a team's own rules (`rules.rs`), read from the store's
//! figures; posted to a chat webhook when one starts to hold and once when
//! it stops (`push.rs`).

pub mod push;
pub mod rules;

use serde::Serialize;

use crate::domain::Millis;
use crate::domain::time::{age, left};
use crate::store::{Result, Store, VersionSummary};
use rules::{Condition, Rule};

/// An alert that holds now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Firing {
    /// What holds, once per episode: `guardrail:cart v2`.
    pub key: String,
    /// Its kind: `guardrail`, `srm`, `hold_expiring`, `failing`,
    /// `engine_quiet`, or `rule:NAME`.
    pub alert: String,
    pub journey: Option<String>,
    /// In words, for a chat message.
    pub text: String,
}

/// The built-in thresholds.
const FAILING_SHARE: f64 = 0.2;
const FAILING_WINDOW_MIN: usize = 10;
/// Fewer attempts than this in the window say nothing of a share.
const FAILING_AT_LEAST: i64 = 10;
const HOLD_WITHIN_MS: Millis = 3_600_000;
const ENGINE_QUIET_MS: Millis = 5 * 60_000;

/// Every alert that holds at `now`: the built-in ones, then the rules'.
pub async fn holding(store: &Store, rules: &[Rule], now: Millis) -> Result<Vec<Firing>> {
    let versions = store.list_at(false, now).await?;
    let mut out = Vec::new();
    for v in &versions {
        out.extend(built_in(v, now));
        for rule in rules {
            out.extend(rule_firing(rule, v, now));
        }
    }
    for h in store.action_holds().await? {
        if let Some(until) = h.until.filter(|u| u - now <= HOLD_WITHIN_MS) {
            out.push(Firing {
                key: format!("hold_expiring:action {}", h.action),
                alert: "hold_expiring".into(),
                journey: None,
                text: format!(
                    "⏸ the hold on {} runs out in {} (held by {})",
                    h.action,
                    left(now, until),
                    h.held_by
                ),
            });
        }
    }
    out.extend(failing_actions(store, now).await?);
    let running = versions.iter().any(|v| v.status.runs_steps());
    let quiet = match store.engine_last_seen().await? {
        Some(at) if now - at > ENGINE_QUIET_MS => Some(format!("for {}", age(now, at))),
        None if running => Some("ever".to_string()),
        _ => None,
    };
    if let Some(how_long) = quiet.filter(|_| running) {
        out.push(Firing {
            key: "engine_quiet".into(),
            alert: "engine_quiet".into(),
            journey: None,
            text: format!("⚠ no engine has run on this store {how_long}: nobody moves participants or carries out actions set for a time"),
        });
    }
    Ok(out)
}

/// Actions whose messages failed above the share over the last 10
/// minutes (delivered against given up, at least 10 of them).
async fn failing_actions(store: &Store, now: Millis) -> Result<Vec<Firing>> {
    let window = FAILING_WINDOW_MIN as i64 * 60_000;
    Ok(store
        .action_window(window, now)
        .await?
        .into_iter()
        .filter_map(|w| {
            let tried = w.sent + w.failed;
            let share = w.failed as f64 / tried.max(1) as f64;
            (tried >= FAILING_AT_LEAST && share > FAILING_SHARE).then(|| Firing {
                key: format!("failing:action {}", w.action),
                alert: "failing".into(),
                journey: None,
                text: format!(
                    "✉ {:.0}% of {}'s messages failed over the last {} ({} of {})",
                    share * 100.0,
                    w.action,
                    crate::domain::time::duration_words(std::time::Duration::from_millis(
                        w.span_ms.max(0) as u64
                    )),
                    w.failed,
                    tried
                ),
            })
        })
        .collect())
}

/// The built-in alerts of one version.
fn built_in(v: &VersionSummary, now: Millis) -> Vec<Firing> {
    let label = format!("{} v{}", v.journey, v.version);
    let firing = |alert: &str, text: String| Firing {
        key: format!("{alert}:{label}"),
        alert: alert.into(),
        journey: Some(v.journey.clone()),
        text,
    };
    let mut out = Vec::new();
    if let Some(p) = &v.paused {
        if p.by == "guardrail" {
            let why = p.reason.as_deref().unwrap_or("a rule tripped");
            out.push(firing(
                "guardrail",
                format!("⏸ the guardrail paused {label}: {why}"),
            ));
        }
        if p.until_ms - now <= HOLD_WITHIN_MS {
            out.push(firing(
                "hold_expiring",
                format!(
                    "⏸ the hold on {label} runs out in {} (then {})",
                    left(now, p.until_ms),
                    p.on_expiry
                ),
            ));
        }
    }
    if v.ab.as_ref().is_some_and(|a| a.srm.is_some()) {
        out.push(firing(
            "srm",
            format!("⚠ sample ratio mismatch in {label}'s A/B test: its verdict cannot be trusted"),
        ));
    }
    out
}

/// The share of failed attempts over the last `minutes`, if enough were
/// made to say.
fn failing_share(v: &VersionSummary, minutes: usize) -> Option<f64> {
    let last = v.recent.as_ref()?.last(minutes);
    let tried = last.sent + last.failed;
    (tried >= FAILING_AT_LEAST).then(|| last.failed as f64 / tried as f64)
}

/// What one rule says of one version.
fn rule_firing(rule: &Rule, v: &VersionSummary, now: Millis) -> Vec<Firing> {
    if !rule.covers(v) || !v.status.runs_steps() || v.paused.is_some() {
        return Vec::new();
    }
    let label = format!("{} v{}", v.journey, v.version);
    let recent = v.recent.clone().unwrap_or_default();
    let mut out = Vec::new();
    for c in &rule.conditions {
        let text = match *c {
            Condition::SentPerHourBelow(n) => {
                let sent = recent.last(60).sent;
                (sent < n).then(|| format!("{label} sent {sent} in the last hour, below {n}"))
            }
            Condition::SentPerHourAbove(n) => {
                let sent = recent.last(60).sent;
                (sent > n).then(|| format!("{label} sent {sent} in the last hour, above {n}"))
            }
            Condition::FailingShareAbove { share, minutes } => {
                failing_share(v, minutes).filter(|s| *s > share).map(|s| {
                    format!(
                        "{:.0}% of {label}'s messages failed over {minutes} minutes (above {:.0}%)",
                        s * 100.0,
                        share * 100.0
                    )
                })
            }
            Condition::EntriesStalledFor { minutes } => {
                let took = recent.last(minutes).entered;
                let open = v.entry_open && now - v.status_at_ms >= minutes as i64 * 60_000;
                (open && took == 0).then(|| format!("{label} took no entry in {minutes} minutes"))
            }
        };
        if let Some(text) = text {
            out.push(Firing {
                key: format!("rule:{}:{}:{label}", rule.name, c.name()),
                alert: format!("rule:{}", rule.name),
                journey: Some(v.journey.clone()),
                text: format!("{} ({})", text, rule.name),
            });
        }
    }
    out
}

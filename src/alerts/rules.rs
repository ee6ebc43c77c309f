//! A team's own alerts, in an `alerts.toml`:
//!
//! ```toml
//! [[rule]]
//! name = "cart volume"          # how its messages name it
//! journey = "cart-recovery"     # or action = "webhook:crm"; neither: all
//! sent_per_hour_below = 100
//! sent_per_hour_above = 10000
//! failing_share_above = "20%"
//! window = "10m"                # of the failing share (at most 1h)
//! entries_stalled_for = "30m"   # a live version that took none (at most 1h)
//! ```
//!
//! Each mistake is named by file, line and key.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use crate::store::VersionSummary;

/// One rule: what it watches and when it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub name: String,
    pub journey: Option<String>,
    pub action: Option<String>,
    pub conditions: Vec<Condition>,
}

/// When a rule holds for a running version.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Condition {
    SentPerHourBelow(i64),
    SentPerHourAbove(i64),
    FailingShareAbove { share: f64, minutes: usize },
    EntriesStalledFor { minutes: usize },
}

impl Condition {
    pub fn name(&self) -> &'static str {
        match self {
            Condition::SentPerHourBelow(_) => "sent_per_hour_below",
            Condition::SentPerHourAbove(_) => "sent_per_hour_above",
            Condition::FailingShareAbove { .. } => "failing_share_above",
            Condition::EntriesStalledFor { .. } => "entries_stalled_for",
        }
    }
}

impl Rule {
    /// Whether the rule watches this version (its journey, or a version
    /// sending through its action; every one without either).
    pub fn covers(&self, v: &VersionSummary) -> bool {
        let journey = self.journey.as_ref().is_none_or(|j| *j == v.journey);
        let action = self.action.as_ref().is_none_or(|a| {
            v.uses_actions
                .iter()
                .any(|u| u == a || u.starts_with(&format!("{a}:")))
        });
        journey && action
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    rule: Vec<RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Option<String>,
    journey: Option<String>,
    action: Option<String>,
    sent_per_hour_below: Option<i64>,
    sent_per_hour_above: Option<i64>,
    failing_share_above: Option<Spanned<toml::Value>>,
    window: Option<Spanned<String>>,
    entries_stalled_for: Option<Spanned<String>>,
}

/// The rules of a file's text; the first mistake as `FILE:LINE: key: why`.
pub fn parse(path: &Path, text: &str) -> Result<Vec<Rule>, String> {
    let shown = path.display();
    let at = |offset: usize| crate::domain::text::line_of(text, offset);
    let file: File = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |s| at(s.start));
        format!("{shown}:{line}: {}", e.message().trim())
    })?;
    file.rule
        .into_iter()
        .enumerate()
        .map(|(i, raw)| rule_of(path, text, i, raw))
        .collect()
}

/// One `[[rule]]` checked: its conditions, each mistake at its line.
fn rule_of(path: &Path, text: &str, i: usize, raw: RawRule) -> Result<Rule, String> {
    let shown = path.display();
    let at = |offset: usize| crate::domain::text::line_of(text, offset);
    let name = raw
        .name
        .clone()
        .unwrap_or_else(|| format!("rule {}", i + 1));
    let fail = |span: std::ops::Range<usize>, key: &str, why: String| {
        format!("{shown}:{}: {key}: {why}", at(span.start))
    };
    let minutes = |v: &Spanned<String>, key: &str| -> Result<usize, String> {
        let d =
            crate::domain::time::parse_duration(v.get_ref()).map_err(|e| fail(v.span(), key, e))?;
        let m = (d / 60_000) as usize;
        if !(1..=60).contains(&m) {
            return Err(fail(
                v.span(),
                key,
                format!("{:?} is not from 1m to 1h", v.get_ref()),
            ));
        }
        Ok(m)
    };
    let mut conditions = Vec::new();
    if let Some(n) = raw.sent_per_hour_below {
        conditions.push(Condition::SentPerHourBelow(n));
    }
    if let Some(n) = raw.sent_per_hour_above {
        conditions.push(Condition::SentPerHourAbove(n));
    }
    if let Some(v) = &raw.failing_share_above {
        let share = share_of(v.get_ref()).ok_or_else(|| {
            fail(
                v.span(),
                "failing_share_above",
                "a share is \"20%\" or 0.2".into(),
            )
        })?;
        let minutes = match &raw.window {
            Some(w) => minutes(w, "window")?,
            None => 10,
        };
        conditions.push(Condition::FailingShareAbove { share, minutes });
    } else if let Some(w) = &raw.window {
        let why = "is the window of failing_share_above, which this rule lacks".into();
        return Err(fail(w.span(), "window", why));
    }
    if let Some(v) = &raw.entries_stalled_for {
        let minutes = minutes(v, "entries_stalled_for")?;
        conditions.push(Condition::EntriesStalledFor { minutes });
    }
    if conditions.is_empty() {
        return Err(format!(
            "{shown}: [[rule]] {name:?}: no condition (sent_per_hour_below, sent_per_hour_above, failing_share_above, entries_stalled_for)"
        ));
    }
    if let Some(bad) = [&raw.name, &raw.journey, &raw.action]
        .into_iter()
        .flatten()
        .find_map(|t| crate::domain::text::control_char(t, false))
    {
        return Err(format!(
            "{shown}: [[rule]] {name:?}: a control character U+{:04X}",
            bad as u32
        ));
    }
    Ok(Rule {
        name,
        journey: raw.journey,
        action: raw.action,
        conditions,
    })
}

/// `"20%"` or `0.2`, within (0, 1).
fn share_of(v: &toml::Value) -> Option<f64> {
    let share = match v {
        toml::Value::String(s) => s.trim().strip_suffix('%')?.trim().parse::<f64>().ok()? / 100.0,
        toml::Value::Float(f) => *f,
        _ => return None,
    };
    (share > 0.0 && share < 1.0).then_some(share)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<Vec<Rule>, String> {
        parse(Path::new("alerts.toml"), text)
    }

    #[test]
    fn a_rule_reads_its_conditions() {
        let rules = parsed(
            "[[rule]]\nname = \"cart\"\njourney = \"cart\"\nsent_per_hour_below = 100\n\
             failing_share_above = \"25%\"\nwindow = \"15m\"\nentries_stalled_for = \"30m\"\n",
        )
        .unwrap();
        assert_eq!(rules[0].name, "cart");
        assert_eq!(
            rules[0].conditions,
            [
                Condition::SentPerHourBelow(100),
                Condition::FailingShareAbove {
                    share: 0.25,
                    minutes: 15
                },
                Condition::EntriesStalledFor { minutes: 30 },
            ]
        );
    }

    #[test]
    fn mistakes_are_named_by_file_line_and_key() {
        let e = parsed("[[rule]]\nname = \"x\"\nsent_per_hour_belo = 3\n").unwrap_err();
        assert!(
            e.starts_with("alerts.toml:3: unknown field `sent_per_hour_belo`"),
            "{e}"
        );
        let e = parsed("[[rule]]\nfailing_share_above = \"lots\"\n").unwrap_err();
        assert_eq!(
            e,
            "alerts.toml:2: failing_share_above: a share is \"20%\" or 0.2"
        );
        let e = parsed("[[rule]]\nentries_stalled_for = \"3h\"\n").unwrap_err();
        assert!(
            e.starts_with("alerts.toml:2: entries_stalled_for: \"3h\" is not from 1m to 1h"),
            "{e}"
        );
        let e = parsed("[[rule]]\nname = \"x\"\njourney = \"y\"\n").unwrap_err();
        assert!(e.contains("no condition"), "{e}");
        let e = parsed("[[rule]]\n\nwindow = \"5m\"\nsent_per_hour_below = 1\n").unwrap_err();
        assert!(e.starts_with("alerts.toml:3: window: "), "{e}");
    }
}

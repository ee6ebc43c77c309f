//! Journey definitions: the TOML an operator applies, checked and turned
//! into the steps the engine runs (SPEC §1, §5).

use serde::{Deserialize, Serialize};

use super::time::{Millis, parse_duration, parse_rfc3339};

pub const DEFAULT_EXPECTED_PARTICIPANTS: u64 = 5_000;
pub const DEFAULT_MIN_PER_VARIANT: u64 = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefinition {
    name: String,
    goal: Option<String>,
    goal_target: Option<String>,
    #[serde(default)]
    exit_events: Vec<String>,
    exit_segment: Option<String>,
    exclusion_segment: Option<String>,
    entry_end_at: Option<String>,
    pause_when_entries: Option<RawEntryGuard>,
    #[serde(default)]
    steps: Vec<RawStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntryGuard {
    per_minute: i64,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
enum RawStep {
    Message {
        action: String,
    },
    Wait {
        duration: String,
    },
    Split {
        test: String,
        expected_participants: Option<u64>,
        min_per_variant: Option<u64>,
        variants: Vec<Variant>,
    },
}

/// A checked journey definition: what one version runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Definition {
    pub name: String,
    pub goal: Option<String>,
    /// The goal's conversion rate that counts as met (0.2 for `"20%"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal_target: Option<f64>,
    pub exit_events: Vec<String>,
    pub exit_segment: Option<String>,
    pub exclusion_segment: Option<String>,
    pub entry_end_at: Option<Millis>,
    /// A guardrail: more entries than this in one minute pause the version
    /// (a wrong audience floods entries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_when_entries: Option<EntryGuard>,
    pub steps: Vec<Step>,
}

/// `pause_when_entries = { per_minute = 5000 }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryGuard {
    pub per_minute: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Step {
    Message { action: String },
    Wait { millis: Millis, text: String },
    Split(Split),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Split {
    pub test: String,
    pub expected_participants: u64,
    pub min_per_variant: u64,
    pub variants: Vec<Variant>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    pub name: String,
    pub weight: u32,
    pub action: String,
}

impl Step {
    /// A short label for screens: `email`, `wait 2d`, `split subject-line`.
    pub fn label(&self) -> String {
        match self {
            Step::Message { action } => format!("message {action}"),
            Step::Wait { text, .. } => format!("wait {text}"),
            Step::Split(s) => format!("split {}", s.test),
        }
    }

    /// The actions this step can send through.
    pub fn actions(&self) -> Vec<&str> {
        match self {
            Step::Message { action } => vec![action.as_str()],
            Step::Wait { .. } => vec![],
            Step::Split(s) => s.variants.iter().map(|v| v.action.as_str()).collect(),
        }
    }
}

impl Definition {
    /// Parses and checks a TOML definition. Errors name the place, as the
    /// TOML parser does, or the step at fault.
    pub fn from_toml(text: &str) -> Result<Definition, String> {
        let raw: RawDefinition = toml::from_str(text).map_err(|e| {
            super::locate::step_error::<RawStep, Variant>(text)
                .unwrap_or_else(|| one_line(&e.to_string()))
        })?;
        raw.check().map_err(|e| {
            // "steps[2]: ..." found after reading: with that step's line.
            let step = e
                .strip_prefix("steps[")
                .and_then(|r| r.split(']').next())
                .and_then(|n| n.parse().ok())
                .and_then(|n| super::locate::step_line(text, n));
            match step {
                Some(line) => format!("line {line}: {e}"),
                None => e,
            }
        })
    }

    /// The A/B test of this version, if it has one.
    pub fn split(&self) -> Option<(usize, &Split)> {
        self.steps.iter().enumerate().find_map(|(i, s)| match s {
            Step::Split(split) => Some((i, split)),
            _ => None,
        })
    }

    /// Whether a step sends through `action`, or through a sub-action of the
    /// channel `action` (`email` covers `email:subject-a`).
    pub fn uses_action(&self, action: &str) -> bool {
        self.steps.iter().flat_map(|s| s.actions()).any(|a| {
            a == action
                || a.strip_prefix(action)
                    .is_some_and(|rest| rest.starts_with(':'))
        })
    }
}

/// The TOML parser's message without its source excerpt:
/// "TOML parse error at line 2, column 1: unknown field `actoin`, ...".
fn one_line(s: &str) -> String {
    let is_excerpt = |l: &str| {
        let rest = l
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .trim_start();
        rest.starts_with('|')
    };
    let parts: Vec<&str> = s
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !is_excerpt(l))
        .collect();
    parts.join(": ")
}

/// The most steps a journey has: far more than any campaign needs, few
/// enough that a definition stays a page of the console.
pub const MOST_STEPS: usize = 200;

/// A text of the definition: not empty, and no NUL or other control
/// character (the error names the key).
fn non_empty(what: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        Err(format!("{what} must not be empty"))
    } else {
        super::text::refuse_control(what, value, false)
            .and_then(|()| super::text::refuse_long(what, value, super::text::MOST_NAME))
    }
}

/// `pause_when_entries = { per_minute = 5000 }`.
fn check_entry_guard(g: RawEntryGuard) -> Result<EntryGuard, String> {
    if g.per_minute < 1 {
        return Err("pause_when_entries.per_minute must be 1 or more".into());
    }
    Ok(EntryGuard {
        per_minute: g.per_minute,
    })
}

/// `goal_target = "20%"`: a share of participants, above 0 and at most
/// 100%, as a fraction.
fn parse_target(text: &str) -> Result<f64, String> {
    let bad = || format!("goal_target {text:?}: expected a percentage such as \"20%\"");
    let number = text.trim().strip_suffix('%').ok_or_else(bad)?;
    let pct: f64 = number.trim().parse().map_err(|_| bad())?;
    if !(pct > 0.0 && pct <= 100.0) {
        return Err(format!(
            "goal_target {text:?}: must be above 0% and at most 100%"
        ));
    }
    Ok(pct / 100.0)
}

impl Definition {
    /// What stands for a stored definition that cannot be read: no steps,
    /// no goal, no events (its version is marked unreadable and run by
    /// nothing).
    pub fn unreadable() -> Definition {
        Definition {
            name: String::new(),
            goal: None,
            goal_target: None,
            exit_events: Vec::new(),
            exit_segment: None,
            exclusion_segment: None,
            entry_end_at: None,
            pause_when_entries: None,
            steps: Vec::new(),
        }
    }

    /// Whether the goal target is met by `converted` of `entered`: once the
    /// rate reaches it with at least the split's `min_per_variant`
    /// participants (100 without a split). `None` without a target.
    pub fn goal_met(&self, entered: i64, converted: i64) -> Option<bool> {
        let target = self.goal_target?;
        let least = self
            .split()
            .map_or(DEFAULT_MIN_PER_VARIANT, |(_, s)| s.min_per_variant)
            .max(1) as i64;
        // The rate as one correctly rounded division: 20 of 100 is the
        // same double as the target's 20 / 100.
        Some(entered >= least && converted as f64 / entered as f64 >= target)
    }
}

impl RawDefinition {
    /// The names and the number of steps: not empty, no control or
    /// invisible character, not too long; at least one step, not too many.
    fn check_texts(&self) -> Result<(), String> {
        non_empty("name", &self.name)?;
        if let Some(goal) = &self.goal {
            non_empty("goal", goal)?;
        }
        for e in &self.exit_events {
            non_empty("exit_events entry", e)?;
        }
        for (key, value) in [
            ("exit_segment", &self.exit_segment),
            ("exclusion_segment", &self.exclusion_segment),
        ] {
            if let Some(v) = value {
                super::text::refuse_control(key, v, false)?;
                super::text::refuse_long(key, v, super::text::MOST_NAME)?;
            }
        }
        if self.steps.is_empty() {
            return Err("a journey needs at least one [[steps]] entry".into());
        }
        if self.steps.len() > MOST_STEPS {
            return Err(format!(
                "a journey has at most {MOST_STEPS} steps; this one has {}",
                self.steps.len()
            ));
        }
        Ok(())
    }

    fn check(self) -> Result<Definition, String> {
        self.check_texts()?;
        let goal_target = match (&self.goal_target, &self.goal) {
            (None, _) => None,
            (Some(_), None) => {
                return Err("goal_target needs a goal: the event whose rate it targets".into());
            }
            (Some(t), Some(_)) => Some(parse_target(t)?),
        };
        let pause_when_entries = self.pause_when_entries.map(check_entry_guard).transpose()?;
        let entry_end_at = match &self.entry_end_at {
            Some(s) => Some(parse_rfc3339(s).map_err(|e| format!("entry_end_at: {e}"))?),
            None => None,
        };
        let mut steps = Vec::with_capacity(self.steps.len());
        let mut splits = 0;
        for (i, raw) in self.steps.into_iter().enumerate() {
            let at = format!("steps[{}]", i + 1);
            steps.push(match raw {
                RawStep::Message { action } => {
                    non_empty(&format!("{at}: action"), &action)?;
                    Step::Message { action }
                }
                RawStep::Wait { duration } => {
                    let millis = parse_duration(&duration).map_err(|e| format!("{at}: {e}"))?;
                    Step::Wait {
                        millis,
                        text: duration.trim().to_string(),
                    }
                }
                RawStep::Split {
                    test,
                    expected_participants,
                    min_per_variant,
                    variants,
                } => {
                    splits += 1;
                    if splits > 1 {
                        return Err(format!(
                            "{at}: a version may hold one split (A/B test); this is the second"
                        ));
                    }
                    let expected = expected_participants.unwrap_or(DEFAULT_EXPECTED_PARTICIPANTS);
                    let min = min_per_variant.unwrap_or(DEFAULT_MIN_PER_VARIANT);
                    Step::Split(check_split(&at, test, expected, min, variants)?)
                }
            });
        }
        Ok(Definition {
            name: self.name.trim().to_string(),
            goal: self.goal,
            goal_target,
            exit_events: self.exit_events,
            exit_segment: self.exit_segment.filter(|s| !s.trim().is_empty()),
            exclusion_segment: self.exclusion_segment.filter(|s| !s.trim().is_empty()),
            entry_end_at,
            pause_when_entries,
            steps,
        })
    }
}

/// A split step's test, checked: a name, two or more variants with names,
/// actions and weights, and a positive expected size. `at` says which step.
fn check_split(
    at: &str,
    test: String,
    expected_participants: u64,
    min_per_variant: u64,
    variants: Vec<Variant>,
) -> Result<Split, String> {
    non_empty(&format!("{at}: test"), &test)?;
    if variants.len() < 2 {
        return Err(format!("{at}: a split needs at least two variants"));
    }
    for (j, v) in variants.iter().enumerate() {
        non_empty(&format!("{at}: variants[{}].name", j + 1), &v.name)?;
        non_empty(&format!("{at}: variants[{}].action", j + 1), &v.action)?;
        if v.weight == 0 {
            return Err(format!("{at}: variant {} has weight 0", v.name));
        }
        if variants[..j].iter().any(|w| w.name == v.name) {
            return Err(format!("{at}: variant name {} appears twice", v.name));
        }
    }
    if expected_participants == 0 {
        return Err(format!("{at}: expected_participants must be at least 1"));
    }
    Ok(Split {
        test,
        expected_participants,
        min_per_variant,
        variants,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const SAMPLE: &str = r#"
name = "spring-sale"
goal = "purchase"
exit_events = ["unsubscribe"]
exit_segment = "suppressed"
exclusion_segment = "staff"
entry_end_at = "2099-12-01T00:00:00Z"

[[steps]]
kind = "message"
action = "email"

[[steps]]
kind = "wait"
duration = "2d"

[[steps]]
kind = "split"
test = "subject-line"
expected_participants = 5000   # optional
min_per_variant = 100          # optional
variants = [
  { name = "A", weight = 50, action = "email:subject-a" },
  { name = "B", weight = 50, action = "email:subject-b" },
]
"#;

    #[test]
    fn parses_the_spec_sample() {
        let d = Definition::from_toml(SAMPLE).unwrap();
        assert_eq!(d.name, "spring-sale");
        assert_eq!(d.steps.len(), 3);
        assert_eq!(
            d.steps[1],
            Step::Wait {
                millis: 2 * 86_400_000,
                text: "2d".into()
            }
        );
        let (i, split) = d.split().unwrap();
        assert_eq!(i, 2);
        assert_eq!(split.variants.len(), 2);
        assert!(d.uses_action("email"));
        assert!(d.uses_action("email:subject-a"));
        assert!(!d.uses_action("email:subject"));
        assert!(!d.uses_action("sms"));
    }

    #[test]
    fn errors_say_where() {
        let e = Definition::from_toml(
            "name = \"x\"\n[[steps]]\nkind = \"wait\"\nduration = \"soon\"\n",
        )
        .unwrap_err();
        assert!(e.contains("steps[1]"), "{e}");
        let e =
            Definition::from_toml("name = \"x\"\n[[steps]]\nkind = \"teleport\"\n").unwrap_err();
        assert!(e.contains("line"), "{e}");
        assert!(!e.contains('\n'));
        let e = Definition::from_toml("name = \"x\"\n").unwrap_err();
        assert!(e.contains("at least one"), "{e}");
        let e = Definition::from_toml(
            "name = \"x\"\nbogus = 1\n[[steps]]\nkind=\"message\"\naction=\"sms\"\n",
        )
        .unwrap_err();
        assert!(e.contains("bogus"), "{e}");
        let e = Definition::from_toml(
            "name = \"x\"\n[[steps]]\nkind=\"split\"\ntest=\"t\"\nvariants=[{name=\"A\",weight=1,action=\"a\"}]\n",
        )
        .unwrap_err();
        assert!(e.contains("two variants"), "{e}");
    }
}

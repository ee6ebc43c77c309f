//! The main list's filter: words and fields, all of which a version must
//! match. A word matches the journey's name (any case); `status:WORD` its
//! state (`live`, `paused`, `failing`, `srm`, `draining`, `drained`,
//! `stopped`, `draft`); `action:A` a version that sends through `A` (or a
//! sub-action of that channel, as the kill switch reads it); `actor:NAME`
//! who last changed its status; `!` before any of them excludes what it
//! matches. On the audit screen the same filter picks rows: a word in
//! what the row is about, its action or reason; `action:` the row's
//! action (or the action it acts on); `actor:` who made it.

use crate::domain::Shown;
use crate::store::VersionSummary;

/// One term of a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Name(String),
    Status(String),
    Action(String),
    Actor(String),
}

/// A filter as typed: its terms, each kept or excluded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    terms: Vec<(bool, Term)>,
}

/// The states `status:` knows.
pub const STATUSES: &[&str] = &[
    "live", "paused", "failing", "srm", "draining", "drained", "stopped", "draft",
];

impl Filter {
    pub fn parse(text: &str) -> Filter {
        let terms = text
            .split_whitespace()
            .filter_map(|word| {
                let (exclude, word) = match word.strip_prefix('!') {
                    Some(rest) => (true, rest),
                    None => (false, word),
                };
                let term = if let Some(s) = word.strip_prefix("status:") {
                    Term::Status(s.to_lowercase())
                } else if let Some(a) = word.strip_prefix("action:") {
                    Term::Action(a.to_string())
                } else if let Some(a) = word.strip_prefix("actor:") {
                    Term::Actor(a.to_string())
                } else {
                    Term::Name(word.to_lowercase())
                };
                let empty = match &term {
                    Term::Name(s) | Term::Status(s) | Term::Action(s) | Term::Actor(s) => {
                        s.is_empty()
                    }
                };
                (!empty).then_some((exclude, term))
            })
            .collect();
        Filter { terms }
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Whether the version passes every term.
    pub fn matches(&self, v: &VersionSummary) -> bool {
        self.terms
            .iter()
            .all(|(exclude, term)| term_matches(term, v) != *exclude)
    }

    /// Whether an audit row passes every term (the audit screen).
    pub fn matches_audit(&self, e: &crate::store::AuditEntry) -> bool {
        self.terms.iter().all(|(exclude, term)| {
            let hit = match term {
                Term::Name(word) => [
                    Some(e.about()),
                    Some(e.action.to_string()),
                    e.reason.clone(),
                ]
                .into_iter()
                .flatten()
                .any(|t| t.to_lowercase().contains(word)),
                Term::Action(a) => {
                    e.action == a.as_str()
                        || e.subject.as_deref() == Some(format!("action:{a}").as_str())
                }
                Term::Actor(n) => e.actor == *n || e.db_user.as_deref() == Some(n.as_str()),
                Term::Status(s) => e.to.as_deref() == Some(s.as_str()),
            };
            hit != *exclude
        })
    }

    /// `status:` words it does not know, to say so.
    pub fn unknown(&self) -> Vec<String> {
        self.terms
            .iter()
            .filter_map(|(_, t)| match t {
                Term::Status(s) if !STATUSES.contains(&s.as_str()) => Some(format!("status:{s}")),
                _ => None,
            })
            .collect()
    }
}

fn term_matches(term: &Term, v: &VersionSummary) -> bool {
    match term {
        Term::Name(word) => v.journey.to_lowercase().contains(word),
        Term::Actor(n) => v.status_by == *n,
        Term::Action(a) => v.uses_actions.iter().any(|u| {
            u == a
                || u.strip_prefix(a.as_str())
                    .is_some_and(|rest| rest.starts_with(':'))
        }),
        Term::Status(s) => {
            let shown = crate::present::shown(v);
            match s.as_str() {
                "live" => shown == Shown::Live,
                "paused" => v.paused.is_some(),
                "failing" => v.delivery_failing,
                "srm" => v.ab.as_ref().is_some_and(|ab| ab.srm.is_some()),
                "draining" => matches!(shown, Shown::Draining(_)),
                "drained" => shown == Shown::Drained,
                "stopped" => shown == Shown::Stopped,
                "draft" => shown == Shown::Draft,
                _ => false,
            }
        }
    }
}

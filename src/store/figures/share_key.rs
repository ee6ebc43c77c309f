//! The figures a bucket's share of a version holds, as a type: the one
//! place where a figure becomes the text of `version_shares.key` and that
//! text becomes a figure again. A key is `NAME` or `NAME/ARG`; a name that
//! starts with `@` keeps the latest value (its time in `n`), every other
//! one adds up. The key `''` is a bucket's fence (`store/order/fences.rs`).

/// One figure of an action's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum ActionFigure {
    Pending,
    Sent,
    Failed,
    Retrying,
    /// When a message of the action was last sent (keeps the latest).
    SentAt,
    /// The action's last error (keeps the latest, its text in `note`).
    Error,
}

/// One figure of a version's share.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Figure {
    Active,
    Completed,
    MsgPending,
    MsgSent,
    MsgFailed,
    /// Participants assigned to a variant (its name).
    Assigned(String),
    /// A figure of one action's row (the action).
    Action(ActionFigure, String),
    /// Messages sent in a minute (its number since the epoch).
    MinuteSent(i64),
    /// Messages that failed in a minute.
    MinuteFailed(i64),
    /// The version's last activity (keeps the latest).
    Activity,
}

/// The names of the figures without an argument, with their figure.
const PLAIN: [(&str, Figure); 6] = [
    ("active", Figure::Active),
    ("completed", Figure::Completed),
    ("msg_pending", Figure::MsgPending),
    ("msg_sent", Figure::MsgSent),
    ("msg_failed", Figure::MsgFailed),
    ("@activity", Figure::Activity),
];

/// The names of an action's figures.
const ACTION: [(&str, ActionFigure); 6] = [
    ("pending", ActionFigure::Pending),
    ("sent", ActionFigure::Sent),
    ("failed", ActionFigure::Failed),
    ("retrying", ActionFigure::Retrying),
    ("@sent_at", ActionFigure::SentAt),
    ("@error", ActionFigure::Error),
];

impl Figure {
    /// The figure's key in `version_shares`.
    pub(crate) fn key(&self) -> String {
        let plain = |f: &Figure| {
            PLAIN
                .iter()
                .find(|(_, figure)| figure == f)
                .map(|(name, _)| (*name).to_string())
        };
        match self {
            Figure::Assigned(variant) => format!("assigned/{variant}"),
            Figure::Action(figure, action) => {
                let name = ACTION
                    .iter()
                    .find(|(_, f)| f == figure)
                    .map_or("", |(name, _)| name);
                format!("{name}/{action}")
            }
            Figure::MinuteSent(minute) => format!("minute_sent/{minute}"),
            Figure::MinuteFailed(minute) => format!("minute_failed/{minute}"),
            other => plain(other).unwrap_or_default(),
        }
    }

    /// The figure a key names; `None` for a key of no figure (the fence,
    /// or a row written by something else).
    pub(crate) fn parse(key: &str) -> Option<Figure> {
        let Some((name, arg)) = key.split_once('/') else {
            return PLAIN
                .iter()
                .find(|(n, _)| *n == key)
                .map(|(_, f)| f.clone());
        };
        match name {
            "assigned" => Some(Figure::Assigned(arg.to_string())),
            "minute_sent" => arg.parse().ok().map(Figure::MinuteSent),
            "minute_failed" => arg.parse().ok().map(Figure::MinuteFailed),
            _ => ACTION
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, f)| Figure::Action(*f, arg.to_string())),
        }
    }

    /// Whether the figure keeps its latest value rather than adding up.
    pub(crate) fn keeps_latest(&self) -> bool {
        self.key().starts_with('@')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_figure_reads_back_from_its_key() {
        let all = [
            Figure::Active,
            Figure::Completed,
            Figure::MsgPending,
            Figure::MsgSent,
            Figure::MsgFailed,
            Figure::Activity,
            Figure::Assigned("B/2".into()),
            Figure::MinuteSent(29_000_000),
            Figure::MinuteFailed(-1),
            Figure::Action(ActionFigure::Pending, "webhook:crm".into()),
            Figure::Action(ActionFigure::Sent, "email".into()),
            Figure::Action(ActionFigure::Failed, "email".into()),
            Figure::Action(ActionFigure::Retrying, "email".into()),
            Figure::Action(ActionFigure::SentAt, "email".into()),
            Figure::Action(ActionFigure::Error, "a/b".into()),
        ];
        for f in all {
            assert_eq!(Figure::parse(&f.key()), Some(f.clone()), "{}", f.key());
        }
        assert_eq!(Figure::Activity.key(), "@activity");
        assert_eq!(
            Figure::Action(ActionFigure::Error, "x".into()).key(),
            "@error/x"
        );
        assert!(Figure::Action(ActionFigure::SentAt, "x".into()).keeps_latest());
        assert!(!Figure::MsgSent.keeps_latest());
    }

    #[test]
    fn keys_of_no_figure_read_as_none() {
        for key in ["", "nonsense", "minute_sent/soon", "unknown/x", "@other"] {
            assert_eq!(Figure::parse(key), None, "{key:?}");
        }
    }
}

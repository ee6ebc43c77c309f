//! Shares that cannot be folded (on a cluster): a row of `version_shares`
//! no engine batch, claim or record could have written (an unknown key,
//! more than one bucket adds between two folds, a time far ahead), or one
//! whose figure would take the version's row out of its bounds (more
//! active or completed than ever entered, past the table's bound). Such a
//! row is set aside under its key marked `!`, where no fold, stop or
//! claim reads it, and `check` names it, so one bad row never blocks a
//! stop, a fold of another figure or version, or delivery.

use std::collections::BTreeMap;

use sqlx::{Any, Transaction};

use crate::domain::Millis;
use crate::store::Result;
use crate::store::figures::share_key::Figure;

/// The most one bucket adds to one figure between two folds (a second
/// apart): a million a second for eleven days.
pub(crate) const SHARE_MOST: i64 = 1_000_000_000_000;

/// The most any figure may hold, and the bound the table itself keeps on
/// every share (`migrations/citus/shares_bounded.sql`).
pub(crate) const FIGURE_MOST: i64 = 1_000_000_000_000_000;

/// How a set-aside row's key begins.
pub(crate) const ASIDE: &str = "!";

/// A time kept by a share may lie this far ahead of the folder's clock.
const AHEAD_MOST: Millis = 86_400_000;

/// One bucket's row of a version's share, as read when it is taken.
#[derive(Debug, Clone)]
pub(crate) struct ShareRow {
    pub bucket: i32,
    pub key: String,
    pub n: i64,
    pub note: Option<String>,
}

/// The version row's figures a fold adds to, as they stand.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Standing {
    pub entered: i64,
    pub active: i64,
    pub completed: i64,
    pub msg_pending: i64,
    pub msg_sent: i64,
    pub msg_failed: i64,
}

impl Standing {
    /// Why the figure, with `sum` added, leaves its bounds; `None` if it
    /// keeps them.
    fn refuses(&self, figure: &Figure, sum: i64) -> Option<String> {
        let within_entered = |now: i64, what: &str| {
            let after = now.checked_add(sum)?;
            (!(0..=self.entered).contains(&after))
                .then(|| format!("{what} would be {after} with {} entered", self.entered))
        };
        let within_most = |now: i64, what: &str| {
            let after = now.checked_add(sum).unwrap_or(i64::MAX);
            (after.abs() > FIGURE_MOST).then(|| format!("{what} would be {after}"))
        };
        match figure {
            Figure::Active => within_entered(self.active, "active")
                .or_else(|| self.active.checked_add(sum).is_none().then(overflow)),
            Figure::Completed => within_entered(self.completed, "completed")
                .or_else(|| self.completed.checked_add(sum).is_none().then(overflow)),
            Figure::MsgPending => within_most(self.msg_pending, "messages pending"),
            Figure::MsgSent => within_most(self.msg_sent, "messages sent"),
            Figure::MsgFailed => within_most(self.msg_failed, "messages failed"),
            _ => (sum.abs() > FIGURE_MOST).then(|| format!("the sum {sum} is out of bounds")),
        }
    }
}

fn overflow() -> String {
    "the figure would overflow".to_string()
}

/// Splits a version's taken rows into those that fold and those set
/// aside, each with why: first each row on its own, then each figure's
/// sum against the version's standing figures.
pub(crate) fn sort_out(
    rows: Vec<ShareRow>,
    standing: &Standing,
    now: Millis,
) -> (Vec<ShareRow>, Vec<(ShareRow, String)>) {
    let mut aside = Vec::new();
    let mut by_figure: BTreeMap<Figure, Vec<ShareRow>> = BTreeMap::new();
    for row in rows {
        match row_refusal(&row, now) {
            Err(why) => aside.push((row, why)),
            Ok(figure) => by_figure.entry(figure).or_default().push(row),
        }
    }
    let mut fold = Vec::new();
    for (figure, rows) in by_figure {
        let sum = if figure.keeps_latest() {
            0
        } else {
            rows.iter().fold(0i64, |s, r| s.saturating_add(r.n))
        };
        match standing.refuses(&figure, sum) {
            Some(why) => aside.extend(rows.into_iter().map(|r| (r, why.clone()))),
            None => fold.extend(rows),
        }
    }
    (fold, aside)
}

/// The row's figure, or why no batch, claim or record wrote it.
fn row_refusal(row: &ShareRow, now: Millis) -> std::result::Result<Figure, String> {
    let Some(figure) = Figure::parse(&row.key) else {
        return Err("no figure has this key".to_string());
    };
    if figure.keeps_latest() {
        if !(0..=now.saturating_add(AHEAD_MOST)).contains(&row.n) {
            return Err(format!("the time {} lies ahead", row.n));
        }
    } else if row.n.abs() > SHARE_MOST {
        return Err(format!(
            "{} is more than one bucket adds between two folds",
            row.n
        ));
    }
    Ok(figure)
}

/// Writes the set-aside rows back under their keys marked `!`, the reason
/// in `note` (the latest wins).
pub(crate) async fn set_aside(
    tx: &mut Transaction<'static, Any>,
    version_id: i64,
    aside: &[(ShareRow, String)],
) -> Result<()> {
    for (row, why) in aside {
        tracing::warn!(
            "version {version_id}: a share set aside (bucket {}, {:?} = {}): {why}",
            row.bucket,
            row.key,
            row.n
        );
        let key: String = format!("{ASIDE}{}", row.key).chars().take(300).collect();
        sqlx::query(
            "INSERT INTO version_shares (bucket, version_id, key, n, note) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (bucket, version_id, key) DO UPDATE SET n = excluded.n, note = excluded.note",
        )
        .bind(row.bucket)
        .bind(version_id)
        .bind(key)
        .bind(row.n)
        .bind(why.chars().take(1_000).collect::<String>())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The version row's standing figures.
pub(crate) async fn standing(
    tx: &mut Transaction<'static, Any>,
    ids: &[i64],
) -> Result<BTreeMap<i64, Standing>> {
    let rows: Vec<(i64, i64, i64, i64, i64, i64, i64)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, entered, active, completed, msg_pending, msg_sent, msg_failed \
             FROM versions WHERE id IN ({})",
            crate::store::dialect::id_list(ids)
        )))
        .fetch_all(&mut **tx)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, entered, active, completed, msg_pending, msg_sent, msg_failed)| {
                let s = Standing {
                    entered,
                    active,
                    completed,
                    msg_pending,
                    msg_sent,
                    msg_failed,
                };
                (id, s)
            },
        )
        .collect())
}

/// `check`'s findings: each set-aside share, by version.
pub(crate) async fn aside_findings(conn: &mut sqlx::AnyConnection) -> Result<Vec<String>> {
    let rows: Vec<(String, i64, i32, String, i64, Option<String>)> = sqlx::query_as(
        "SELECT j.name, v.number, s.bucket, s.key, s.n, s.note FROM version_shares s \
         JOIN versions v ON v.id = s.version_id JOIN journeys j ON j.id = v.journey_id \
         WHERE s.key LIKE '!%' ORDER BY j.name, v.number, s.bucket, s.key",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(journey, number, bucket, key, n, why)| {
            let key = key.get(ASIDE.len()..).unwrap_or_default().escape_debug();
            let why = why.as_deref().unwrap_or("out of bounds").escape_debug();
            format!(
                "{journey} v{number}: a share set aside, not folded: bucket {bucket}, {key} {n}: {why}"
            )
        })
        .collect())
}

/// How many of each version's shares are set aside (for the faces).
pub(crate) async fn aside_counts(conn: &mut sqlx::AnyConnection) -> Result<BTreeMap<i64, i64>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT version_id, COUNT(*) FROM version_shares WHERE key LIKE '!%' GROUP BY version_id",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, n: i64) -> ShareRow {
        ShareRow {
            bucket: 1,
            key: key.into(),
            n,
            note: None,
        }
    }

    #[test]
    fn rows_no_batch_wrote_are_set_aside_and_the_rest_fold() {
        let standing = Standing {
            entered: 100,
            active: 40,
            ..Standing::default()
        };
        let rows = vec![
            row("active", -3),
            row("completed", 3),
            row("msg_sent", i64::MAX),
            row("nonsense", 1),
            row("@activity", 10_000 + AHEAD_MOST * 2),
            row("@activity", 5_000),
            row("assigned/A", 2),
        ];
        let (fold, aside) = sort_out(rows, &standing, 10_000);
        let keys = |rs: Vec<&ShareRow>| rs.iter().map(|r| r.key.clone()).collect::<Vec<_>>();
        assert_eq!(
            keys(fold.iter().collect()),
            ["active", "completed", "assigned/A", "@activity"]
        );
        assert_eq!(
            keys(aside.iter().map(|(r, _)| r).collect()),
            ["msg_sent", "nonsense", "@activity"]
        );
    }

    #[test]
    fn a_sum_beyond_the_entered_is_set_aside_whole() {
        let standing = Standing {
            entered: 100,
            active: 90,
            ..Standing::default()
        };
        let rows = vec![row("active", 6), row("active", 6), row("completed", 5)];
        let (fold, aside) = sort_out(rows, &standing, 0);
        assert_eq!(fold.len(), 1, "completed folds");
        assert_eq!(aside.len(), 2, "both active rows: 102 with 100 entered");
        assert!(
            aside[0].1.contains("active would be 102 with 100 entered"),
            "{}",
            aside[0].1
        );
        let below = vec![row("active", -91)];
        assert_eq!(sort_out(below, &standing, 0).1.len(), 1, "below zero");
    }
}

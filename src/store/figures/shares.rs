//! On a cluster, each bucket's share of a version's figures
//! (`version_shares`, distributed by bucket beside the participants and
//! messages). An engine batch or a delivery claim and record writes one
//! bucket's rows, its shares and its fence, so its transaction writes on
//! one shard and commits on one node. Folding moves the shares into the
//! version's figures (rows on every node), once a second while engines and
//! workers run and whenever a tick or a delivery pass ends, and in
//! `check` before it recounts. Every change of status or hold takes the
//! active, pending and sent shares into the version row itself, so a stop
//! reports and moves them all.
//!
//! A share row's key names its figure ([`Figure`], `share_key.rs`). The
//! key `''` is the bucket's fence (`store/order/fences.rs`).

use std::collections::BTreeMap;

use sqlx::{Any, Transaction};

use crate::domain::Millis;
use crate::store::figures::counters::CounterDelta;
use crate::store::figures::share_key::{ActionFigure, Figure};
use crate::store::{Backend, Result, Store};

/// What one transaction adds to its bucket's share of a version.
#[derive(Debug, Default)]
pub(crate) struct Share {
    rows: BTreeMap<Figure, (i64, Option<String>)>,
}

impl Share {
    /// Adds `n` to an adding figure.
    pub(crate) fn add(&mut self, figure: Figure, n: i64) {
        if n != 0 {
            self.rows.entry(figure).or_insert((0, None)).0 += n;
        }
    }

    /// Keeps the latest of a figure that keeps the latest.
    pub(crate) fn latest(&mut self, figure: Figure, at: i64, note: Option<String>) {
        debug_assert!(figure.keeps_latest());
        let row = self.rows.entry(figure).or_insert((i64::MIN, None));
        if at >= row.0 {
            *row = (at, note);
        }
    }

    /// An engine batch's counter changes, and the messages it enqueued per
    /// action.
    pub(crate) fn of_batch(
        d: &CounterDelta,
        per_action: &BTreeMap<&str, i64>,
        at: Millis,
    ) -> Share {
        let mut s = Share::default();
        s.add(Figure::Active, d.active);
        s.add(Figure::Completed, d.completed);
        s.add(Figure::MsgPending, d.msg_pending);
        for (name, n) in &d.variant_assigned {
            s.add(Figure::Assigned(name.clone()), *n);
        }
        for (action, n) in per_action {
            s.add(
                Figure::Action(ActionFigure::Pending, (*action).to_string()),
                *n,
            );
        }
        s.latest(Figure::Activity, at, None);
        s
    }

    fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Adds a transaction's share to its bucket's rows, in one statement that
/// reaches one shard.
pub(crate) async fn add(
    tx: &mut Transaction<'static, Any>,
    version_id: i64,
    bucket: i32,
    share: &Share,
) -> Result<()> {
    if share.is_empty() {
        return Ok(());
    }
    let values: Vec<String> = (0..share.rows.len())
        .map(|i| format!("($1, $2, ${}, ${}, ${})", 3 * i + 3, 3 * i + 4, 3 * i + 5))
        .collect();
    // Only placeholders are formatted in.
    let sql = format!(
        "INSERT INTO version_shares (bucket, version_id, key, n, note) VALUES {} \
         ON CONFLICT (bucket, version_id, key) DO UPDATE SET \
         n = CASE WHEN left(excluded.key, 1) = '@' THEN GREATEST(version_shares.n, excluded.n) \
         ELSE version_shares.n + excluded.n END, \
         note = CASE WHEN excluded.n >= version_shares.n THEN excluded.note ELSE version_shares.note END",
        values.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(bucket)
        .bind(version_id);
    for (figure, (n, note)) in &share.rows {
        q = q.bind(figure.key()).bind(*n).bind(note.clone());
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

/// Takes the version's unfolded shares of active participants, pending
/// and sent messages into its row (under the fences, see [`fence_all`]),
/// so a change of status reports them (and what was sent while a stop
/// waited), and a stop moves them all.
pub(crate) async fn take_for_change(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    version_id: i64,
) -> Result<()> {
    if backend.buckets().is_none() {
        return Ok(());
    }
    let taken: Vec<(String, i64)> = sqlx::query_as(
        "DELETE FROM version_shares WHERE version_id = $1 \
         AND key IN ($2, $3, $4) RETURNING key, n",
    )
    .bind(version_id)
    .bind(Figure::Active.key())
    .bind(Figure::MsgPending.key())
    .bind(Figure::MsgSent.key())
    .fetch_all(&mut **tx)
    .await?;
    if taken.is_empty() {
        return Ok(());
    }
    let sum = |f: Figure| {
        taken
            .iter()
            .filter(|(key, _)| Figure::parse(key) == Some(f.clone()))
            .map(|(_, n)| n)
            .sum::<i64>()
    };
    sqlx::query(
        "UPDATE versions SET active = active + $2, msg_pending = msg_pending + $3, \
         msg_sent = msg_sent + $4 WHERE id = $1",
    )
    .bind(version_id)
    .bind(sum(Figure::Active))
    .bind(sum(Figure::MsgPending))
    .bind(sum(Figure::MsgSent))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One figure's unfolded shares of a version, summed (a read).
pub(crate) async fn unfolded(
    conn: &mut sqlx::AnyConnection,
    version_id: i64,
    figure: &Figure,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM version_shares \
         WHERE version_id = $1 AND key = $2",
    )
    .bind(version_id)
    .bind(figure.key())
    .fetch_one(conn)
    .await?)
}

impl Store {
    /// Messages each of these versions has sent so far (on a cluster, with
    /// the buckets' shares not folded yet).
    pub(crate) async fn sent_so_far(&self, ids: &[i64]) -> Result<Vec<(i64, i64)>> {
        let mut conn = self.pool.acquire().await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let mut sent: i64 = sqlx::query_scalar("SELECT msg_sent FROM versions WHERE id = $1")
                .bind(*id)
                .fetch_one(&mut *conn)
                .await?;
            if self.backend().buckets().is_some() {
                sent += unfolded(&mut conn, *id, &Figure::MsgSent).await?;
            }
            out.push((*id, sent));
        }
        Ok(out)
    }
}

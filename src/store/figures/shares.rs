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
    take_for_changes(tx, backend, &[version_id]).await
}

/// [`take_for_change`] for a set of versions, in two statements whatever
/// their number.
pub(crate) async fn take_for_changes(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    ids: &[i64],
) -> Result<()> {
    if backend.buckets().is_none() || ids.is_empty() {
        return Ok(());
    }
    let keys = [Figure::Active, Figure::MsgPending, Figure::MsgSent].map(|f| f.key());
    // Rows that cannot be taken in are set aside, so one bad row never
    // fails a stop (`aside.rs`).
    let by_version = crate::store::figures::fold::take_sorted(tx, ids, Some(&keys)).await?;
    let mut sums: BTreeMap<i64, [i64; 3]> = BTreeMap::new();
    for (id, rows) in by_version {
        for row in rows {
            let slot = match Figure::parse(&row.key) {
                Some(Figure::Active) => 0,
                Some(Figure::MsgPending) => 1,
                Some(Figure::MsgSent) => 2,
                _ => continue,
            };
            let sum = &mut sums.entry(id).or_default()[slot];
            *sum = sum.saturating_add(row.n);
        }
    }
    if sums.is_empty() {
        return Ok(());
    }
    // One update of every version row (a reference table on the cluster,
    // so one write of each node): each version's sums as a CASE of
    // numbers, which are all that is formatted in.
    let case = |slot: usize| {
        let arms: Vec<String> = sums
            .iter()
            .map(|(id, s)| format!("WHEN {id} THEN {}", s[slot]))
            .collect();
        format!("CASE id {} ELSE 0 END", arms.join(" "))
    };
    let ids: Vec<i64> = sums.keys().copied().collect();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE versions SET active = active + {}, msg_pending = msg_pending + {}, \
         msg_sent = msg_sent + {} WHERE id IN ({})",
        case(0),
        case(1),
        case(2),
        crate::store::dialect::id_list(&ids)
    )))
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
        let mut out: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, msg_sent FROM versions WHERE id IN ({})",
            crate::store::dialect::id_list(ids)
        )))
        .fetch_all(&mut *conn)
        .await?;
        if self.backend().buckets().is_some() {
            for (id, sent) in &mut out {
                *sent += unfolded(&mut conn, *id, &Figure::MsgSent).await?;
            }
        }
        Ok(out)
    }
}

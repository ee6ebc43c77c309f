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
//! A share row's key names its figure: `active`, `completed`,
//! `msg_pending`, `msg_sent`, `msg_failed`, `assigned/VARIANT`,
//! `pending/ACTION`, `sent/ACTION`, `failed/ACTION`, `retrying/ACTION`,
//! `minute_sent/MINUTE`, `minute_failed/MINUTE` add up; `@activity`,
//! `@sent_at/ACTION` and `@error/ACTION` (its text in `note`) keep the
//! latest. The key `''` is the bucket's fence: every batch, claim and
//! record of the bucket writes it first, and everything that changes a
//! version's status or hold writes all of the version's, so each waits
//! for the other as a version row's lock would, on one shard.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};

use sqlx::{Any, Transaction};

use super::counters::{CounterDelta, apply_deltas};
use super::verdicts::check_verdicts;
use super::{Backend, Result, Store};
use crate::domain::Millis;
use crate::domain::time::now_millis;

/// Shares are folded at most this often while batches run.
const FOLD_EVERY_MS: i64 = 1_000;

/// What one transaction adds to its bucket's share of a version.
#[derive(Debug, Default)]
pub(crate) struct Share {
    rows: BTreeMap<String, (i64, Option<String>)>,
}

impl Share {
    /// Adds `n` to an adding figure.
    pub(crate) fn add(&mut self, key: impl Into<String>, n: i64) {
        if n != 0 {
            self.rows.entry(key.into()).or_insert((0, None)).0 += n;
        }
    }

    /// Keeps the latest of a figure that keeps the latest (`@...`).
    pub(crate) fn latest(&mut self, key: impl Into<String>, at: i64, note: Option<String>) {
        let row = self.rows.entry(key.into()).or_insert((i64::MIN, None));
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
        s.add("active", d.active);
        s.add("completed", d.completed);
        s.add("msg_pending", d.msg_pending);
        for (name, n) in &d.variant_assigned {
            s.add(format!("assigned/{name}"), *n);
        }
        for (action, n) in per_action {
            s.add(format!("pending/{action}"), *n);
        }
        s.latest("@activity", at, None);
        s
    }

    fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Writes the fence of the version's bucket: a batch, claim or record
/// holds it to its commit, and a change of the version's status waits
/// for it (and it for the change).
pub(crate) async fn fence(
    tx: &mut Transaction<'static, Any>,
    version_id: i64,
    bucket: i32,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO version_shares (bucket, version_id, key, n) VALUES ($1, $2, '', 0) \
         ON CONFLICT (bucket, version_id, key) DO UPDATE SET n = 0",
    )
    .bind(bucket)
    .bind(version_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Writes the fences of every bucket of the version (in shard order), so
/// batches, claims and records of it in flight have committed and later
/// ones see what this transaction commits.
pub(crate) async fn fence_all(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    version_id: i64,
) -> Result<()> {
    let Some(buckets) = backend.buckets() else {
        return Ok(());
    };
    // Rows of `VALUES`: an `INSERT ... SELECT` from a series goes through
    // intermediate results on every node, ten times slower.
    let values: Vec<String> = (0..buckets).map(|b| format!("({b}, $1, '', 0)")).collect();
    // Only bucket numbers (0 to 63) and a placeholder are formatted in.
    let sql = format!(
        "INSERT INTO version_shares (bucket, version_id, key, n) VALUES {} \
         ON CONFLICT (bucket, version_id, key) DO UPDATE SET n = 0",
        values.join(", ")
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(version_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
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
    for (key, (n, note)) in &share.rows {
        q = q.bind(key.as_str()).bind(*n).bind(note.clone());
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
         AND key IN ('active', 'msg_pending', 'msg_sent') RETURNING key, n",
    )
    .bind(version_id)
    .fetch_all(&mut **tx)
    .await?;
    if taken.is_empty() {
        return Ok(());
    }
    let sum = |k: &str| {
        taken
            .iter()
            .filter(|(key, _)| key == k)
            .map(|(_, n)| n)
            .sum::<i64>()
    };
    sqlx::query(
        "UPDATE versions SET active = active + $2, msg_pending = msg_pending + $3, \
         msg_sent = msg_sent + $4 WHERE id = $1",
    )
    .bind(version_id)
    .bind(sum("active"))
    .bind(sum("msg_pending"))
    .bind(sum("msg_sent"))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One figure's unfolded shares of a version, summed (a read).
pub(crate) async fn unfolded(
    conn: &mut sqlx::AnyConnection,
    version_id: i64,
    key: &str,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM version_shares \
         WHERE version_id = $1 AND key = $2",
    )
    .bind(version_id)
    .bind(key)
    .fetch_one(conn)
    .await?)
}

/// The shares of one version summed over its buckets, by figure.
#[derive(Default)]
struct Folded {
    delta: CounterDelta,
    failed: i64,
    activity: Millis,
    actions: BTreeMap<String, ActionFold>,
}

#[derive(Default)]
struct ActionFold {
    pending: i64,
    sent: i64,
    failed: i64,
    retrying: i64,
    sent_at: Option<i64>,
    error: Option<(i64, Option<String>)>,
}

impl Folded {
    fn of(rows: Vec<(String, i64, Option<String>)>) -> Folded {
        let mut f = Folded::default();
        for (key, n, note) in rows {
            let (figure, name) = key.split_once('/').unwrap_or((key.as_str(), ""));
            if !f.add(figure, name, n) && !f.add_action(figure, name, n, note) {
                tracing::warn!("version_shares: unknown figure {key:?} skipped");
            }
        }
        f
    }

    /// Adds a figure of the version's row, its variants or its minutes;
    /// false if `figure` is none of those.
    fn add(&mut self, figure: &str, name: &str, n: i64) -> bool {
        let d = &mut self.delta;
        match figure {
            "active" => d.active += n,
            "completed" => d.completed += n,
            "msg_pending" => d.msg_pending += n,
            "msg_sent" => d.msg_sent += n,
            "msg_failed" => self.failed += n,
            "@activity" => self.activity = self.activity.max(n),
            "assigned" => *d.variant_assigned.entry(name.to_string()).or_default() += n,
            "minute_sent" | "minute_failed" => {
                let m = d
                    .minutes
                    .entry(name.parse().unwrap_or_default())
                    .or_default();
                if figure == "minute_sent" {
                    m.sent += n;
                } else {
                    m.failed += n;
                }
            }
            _ => return false,
        }
        true
    }

    /// Adds a figure of one action's row; false if `figure` is none.
    fn add_action(&mut self, figure: &str, action: &str, n: i64, note: Option<String>) -> bool {
        const FIGURES: [&str; 6] = [
            "pending", "sent", "failed", "retrying", "@sent_at", "@error",
        ];
        if !FIGURES.contains(&figure) {
            return false;
        }
        let a = self.actions.entry(action.to_string()).or_default();
        match figure {
            "pending" => a.pending += n,
            "sent" => a.sent += n,
            "failed" => a.failed += n,
            "retrying" => a.retrying += n,
            "@sent_at" => a.sent_at = Some(a.sent_at.unwrap_or(n).max(n)),
            "@error" => {
                if a.error.as_ref().is_none_or(|(at, _)| n >= *at) {
                    a.error = Some((n, note));
                }
            }
            _ => return false,
        }
        true
    }
}

/// When shares were last folded in this process.
static FOLDED_AT: AtomicI64 = AtomicI64::new(0);

impl Store {
    /// Folds the buckets' shares into the versions' figures if a second has
    /// passed since the last fold (on a cluster; elsewhere nothing).
    pub(crate) async fn fold_soon(&self) -> Result<()> {
        let last = FOLDED_AT.load(Ordering::Relaxed);
        let now = now_millis();
        if self.backend().buckets().is_none() || now - last < FOLD_EVERY_MS {
            return Ok(());
        }
        if FOLDED_AT
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return Ok(());
        }
        self.fold_shares().await
    }

    /// Folds every version's unfolded shares into its figures, one
    /// transaction per version (on a cluster; elsewhere nothing).
    pub async fn fold_shares(&self) -> Result<()> {
        if self.backend().buckets().is_none() {
            return Ok(());
        }
        FOLDED_AT.store(now_millis(), Ordering::Relaxed);
        let ids = with_shares(&mut *self.pool.acquire().await?).await?;
        for &id in &ids {
            super::with_retry(|| async {
                let mut tx = self.begin_background_write().await?;
                fold_version(&mut tx, self.backend(), id).await?;
                tx.commit().await?;
                Ok(())
            })
            .await?;
        }
        if !ids.is_empty() {
            self.announce_figures().await;
        }
        Ok(())
    }
}

/// The versions with shares not folded yet, in id order (a read over
/// every shard).
pub(crate) async fn with_shares(conn: &mut sqlx::AnyConnection) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT version_id FROM version_shares WHERE key <> '' ORDER BY version_id",
    )
    .fetch_all(conn)
    .await?)
}

/// Folds one version's shares in the caller's transaction (after its
/// fences, so no batch, claim or record of it is in flight). Into a
/// stopped version, active participants count as stopped and pending
/// messages as cancelled, as the stop counted those it found.
pub(crate) async fn fold_version(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    id: i64,
) -> Result<()> {
    fence_all(tx, backend, id).await?;
    let rows: Vec<(String, i64, Option<String>)> = sqlx::query_as(
        "DELETE FROM version_shares WHERE version_id = $1 AND key <> '' RETURNING key, n, note",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let mut f = Folded::of(rows);
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM versions WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    let stopped = status.as_deref() == Some("stopped");
    let (mut halted, mut cancelled) = (0, 0);
    if stopped {
        (halted, cancelled) = (f.delta.active, f.delta.msg_pending);
        (f.delta.active, f.delta.msg_pending) = (0, 0);
    }
    let assigned = !f.delta.variant_assigned.is_empty();
    let activity = f.activity;
    apply_deltas(tx, backend, &HashMap::from([(id, f.delta)]), activity).await?;
    if f.failed != 0 || halted != 0 || cancelled != 0 {
        sqlx::query(
            "UPDATE versions SET msg_failed = msg_failed + $2, stopped = stopped + $3, \
             msg_cancelled = msg_cancelled + $4 WHERE id = $1",
        )
        .bind(id)
        .bind(f.failed)
        .bind(halted)
        .bind(cancelled)
        .execute(&mut **tx)
        .await?;
    }
    for (action, a) in &f.actions {
        fold_action(tx, id, action, a, stopped).await?;
    }
    if assigned {
        check_verdicts(tx, &[id], activity).await?;
    }
    Ok(())
}

/// Adds one action's folded figures to its row. A stopped version's
/// pending messages were cancelled by the stop, and none retries.
async fn fold_action(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    action: &str,
    a: &ActionFold,
    stopped: bool,
) -> Result<()> {
    let (pending, cancelled, retrying) = if stopped {
        (0, a.pending, 0)
    } else {
        (a.pending, 0, a.retrying)
    };
    let (error_at, error) = a
        .error
        .clone()
        .map_or((None, None), |(at, e)| (Some(at), e));
    sqlx::query(
        "INSERT INTO outbox_actions (version_id, action, pending, sent, failed, retrying, cancelled, \
         last_error, last_error_at, last_sent_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (version_id, action) DO UPDATE SET pending = outbox_actions.pending + excluded.pending, \
         sent = outbox_actions.sent + excluded.sent, failed = outbox_actions.failed + excluded.failed, \
         retrying = outbox_actions.retrying + excluded.retrying, \
         cancelled = outbox_actions.cancelled + excluded.cancelled, \
         last_error = CASE WHEN excluded.last_error_at IS NULL THEN outbox_actions.last_error \
         ELSE excluded.last_error END, \
         last_error_at = COALESCE(excluded.last_error_at, outbox_actions.last_error_at), \
         last_sent_at = COALESCE(excluded.last_sent_at, outbox_actions.last_sent_at)",
    )
    .bind(id)
    .bind(action)
    .bind(pending)
    .bind(a.sent)
    .bind(a.failed)
    .bind(retrying)
    .bind(cancelled)
    .bind(error)
    .bind(error_at)
    .bind(a.sent_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

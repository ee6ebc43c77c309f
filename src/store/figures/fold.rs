//! Folding a cluster's shares into the version rows: every bucket's share
//! of a version summed by figure and added to the version's row, its
//! variants, actions and minutes, in one transaction under the version's
//! fences. Once a second while engines and workers run, whenever a tick or
//! a delivery pass ends, and in `check` before it recounts.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};

use sqlx::{Any, Transaction};

use crate::domain::Millis;
use crate::domain::time::now_millis;
use crate::store::figures::aside::{ShareRow, set_aside, sort_out, standing};
use crate::store::figures::counters::{CounterDelta, apply_deltas};
use crate::store::figures::share_key::{ActionFigure, Figure};
use crate::store::figures::verdicts::check_verdicts;
use crate::store::{Backend, Result, Store};

/// Shares are folded at most this often while batches run.
const FOLD_EVERY_MS: i64 = 1_000;

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
    /// The rows' figures summed (rows of known keys: see `aside.rs`).
    fn of(rows: Vec<ShareRow>) -> Folded {
        let mut f = Folded::default();
        for row in rows {
            if let Some(figure) = Figure::parse(&row.key) {
                f.add(figure, row.n, row.note);
            }
        }
        f
    }

    /// Adds one row's figure.
    fn add(&mut self, figure: Figure, n: i64, note: Option<String>) {
        let d = &mut self.delta;
        match figure {
            Figure::Active => d.active += n,
            Figure::Completed => d.completed += n,
            Figure::MsgPending => d.msg_pending += n,
            Figure::MsgSent => d.msg_sent += n,
            Figure::MsgFailed => self.failed += n,
            Figure::Activity => self.activity = self.activity.max(n),
            Figure::Assigned(variant) => *d.variant_assigned.entry(variant).or_default() += n,
            Figure::MinuteSent(minute) => d.minutes.entry(minute).or_default().sent += n,
            Figure::MinuteFailed(minute) => d.minutes.entry(minute).or_default().failed += n,
            Figure::Action(figure, action) => self.add_action(figure, action, n, note),
        }
    }

    /// Adds a figure of one action's row.
    fn add_action(&mut self, figure: ActionFigure, action: String, n: i64, note: Option<String>) {
        let a = self.actions.entry(action).or_default();
        match figure {
            ActionFigure::Pending => a.pending += n,
            ActionFigure::Sent => a.sent += n,
            ActionFigure::Failed => a.failed += n,
            ActionFigure::Retrying => a.retrying += n,
            ActionFigure::SentAt => a.sent_at = Some(a.sent_at.unwrap_or(n).max(n)),
            ActionFigure::Error => {
                if a.error.as_ref().is_none_or(|(at, _)| n >= *at) {
                    a.error = Some((n, note));
                }
            }
        }
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
        let started = now_millis();
        FOLDED_AT.store(started, Ordering::Relaxed);
        let ids = with_shares(&mut *self.pool.acquire().await?).await?;
        for &id in &ids {
            let folded = crate::store::with_retry(|| async {
                let mut tx = self.begin_background_write().await?;
                fold_version(&mut tx, self.backend(), id).await?;
                tx.commit().await?;
                Ok(())
            })
            .await;
            // One version's failure never holds the others' figures back.
            match folded {
                Err(crate::store::Error::Db(sqlx::Error::Database(e))) => {
                    tracing::warn!("version {id}: its shares stay unfolded: {e}");
                }
                other => other?,
            }
        }
        self.note_folded(started).await;
        if !ids.is_empty() {
            self.announce_figures().await;
        }
        Ok(())
    }

    /// Notes that every share written before `at` is folded: the faces
    /// say how old figures still waiting for a fold are. Best effort: a
    /// login that may fold but not note it (an operator's `check`) folds
    /// all the same.
    async fn note_folded(&self, at: Millis) {
        let noted = sqlx::query(
            "INSERT INTO figures_folded (one, at) VALUES (true, $1) \
             ON CONFLICT (one) DO UPDATE SET at = GREATEST(figures_folded.at, excluded.at)",
        )
        .bind(at)
        .execute(&self.pool)
        .await;
        if let Err(e) = noted {
            tracing::debug!("the fold's time was not noted: {e}");
        }
    }
}

/// On a cluster: when shares were last folded (`None`: never, or not
/// known), and the versions with shares not folded yet (whose figures are
/// as of then). A login granted before `figures_folded` came (whose grant
/// was not run again since) reads its figures all the same: the time is
/// then not known, and the faces say as of the version's own start.
pub(crate) async fn waiting_for_fold(
    conn: &mut sqlx::AnyConnection,
) -> Result<(Option<Millis>, Vec<i64>)> {
    let at: Option<i64> = match sqlx::query_scalar("SELECT at FROM figures_folded")
        .fetch_optional(&mut *conn)
        .await
    {
        Ok(at) => at,
        Err(e) => {
            tracing::debug!("when shares were last folded is not known: {e}");
            None
        }
    };
    Ok((at, with_shares(conn).await?))
}

/// The versions with shares not folded yet, in id order (a read over
/// every shard).
pub(crate) async fn with_shares(conn: &mut sqlx::AnyConnection) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT version_id FROM version_shares WHERE key <> '' AND key NOT LIKE '!%' \
         ORDER BY version_id",
    )
    .fetch_all(conn)
    .await?)
}

/// Folds one version's shares in the caller's transaction (after its
/// fences, so no batch, claim or record of it is in flight). Into a
/// stopped version, active participants count as stopped and pending
/// messages as cancelled, as the stop counted those it found. Rows that
/// cannot be folded are set aside (`aside.rs`).
pub(crate) async fn fold_version(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    id: i64,
) -> Result<()> {
    crate::store::order::fences::fence_all(tx, backend, id).await?;
    let Some(rows) = take_sorted(tx, &[id], None).await?.remove(&id) else {
        return Ok(());
    };
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

/// Takes the versions' unfolded share rows (of every figure, or of the
/// keys given), and sets aside those no batch, claim or record writes
/// (`aside.rs`); the rest by version, to fold or take in.
pub(crate) async fn take_sorted(
    tx: &mut Transaction<'static, Any>,
    ids: &[i64],
    keys: Option<&[String]>,
) -> Result<BTreeMap<i64, Vec<ShareRow>>> {
    let taken = take_shares(tx, ids, keys).await?;
    let mut by_version: BTreeMap<i64, Vec<ShareRow>> = BTreeMap::new();
    if taken.is_empty() {
        return Ok(by_version);
    }
    let standing = standing(tx, ids).await?;
    for (id, row) in taken {
        by_version.entry(id).or_default().push(row);
    }
    let now = now_millis();
    for (id, rows) in by_version.iter_mut() {
        let of = standing.get(id).copied().unwrap_or_default();
        let (kept, aside) = sort_out(std::mem::take(rows), &of, now);
        set_aside(tx, *id, &aside).await?;
        *rows = kept;
    }
    Ok(by_version)
}

/// Takes (deletes) the versions' unfolded share rows, of every figure or
/// of the keys given: never a fence nor a row set aside.
pub(crate) async fn take_shares(
    tx: &mut Transaction<'static, Any>,
    ids: &[i64],
    keys: Option<&[String]>,
) -> Result<Vec<(i64, ShareRow)>> {
    let list = crate::store::dialect::id_list(ids);
    let which = match keys {
        Some(keys) => {
            let quoted: Vec<String> = keys
                .iter()
                .map(|k| format!("'{}'", k.replace('\'', "''")))
                .collect();
            format!("key IN ({})", quoted.join(", "))
        }
        None => "key <> '' AND key NOT LIKE '!%'".to_string(),
    };
    let rows: Vec<(i64, i32, String, i64, Option<String>)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "DELETE FROM version_shares WHERE version_id IN ({list}) AND {which} \
         RETURNING version_id, bucket, key, n, note"
        )))
        .fetch_all(&mut **tx)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, bucket, key, n, note)| {
            (
                id,
                ShareRow {
                    bucket,
                    key,
                    n,
                    note,
                },
            )
        })
        .collect())
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

//! `journeyctl check`: every counter against a recount of the rows, read
//! in one snapshot.

use sqlx::Row;

use super::list::list_on;
use super::{Counts, Messages, VariantSummary};
use crate::store::{Result, Store};

impl Store {
    /// Counts recomputed from the rows, per `journey vN`, for checking the
    /// counters: (counts, messages, per-variant assigned/converted).
    pub async fn recount(&self) -> Result<Vec<Tally>> {
        let mut conn = self.pool.acquire().await?;
        recount_on(&mut conn).await
    }
}

/// Three grouped scans (participants, messages, variants), whatever the
/// number of versions: a recount is a read of every row once, never once
/// per version.
async fn recount_on(conn: &mut sqlx::AnyConnection) -> Result<Vec<Tally>> {
    use std::collections::HashMap;
    let versions = sqlx::query(
        "SELECT v.id, j.name AS journey, v.number FROM versions v JOIN journeys j ON j.id = v.journey_id ORDER BY v.id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut counts: HashMap<i64, Counts> = HashMap::new();
    for c in sqlx::query(
        "SELECT version_id, COUNT(*) AS entered, \
         CAST(COALESCE(SUM(CASE WHEN state = 'active' THEN 1 ELSE 0 END), 0) AS BIGINT) AS active, \
         CAST(COALESCE(SUM(CASE WHEN state = 'completed' THEN 1 ELSE 0 END), 0) AS BIGINT) AS completed, \
         CAST(COALESCE(SUM(CASE WHEN state = 'exited' THEN 1 ELSE 0 END), 0) AS BIGINT) AS exited, \
         CAST(COALESCE(SUM(CASE WHEN state = 'stopped' THEN 1 ELSE 0 END), 0) AS BIGINT) AS stopped, \
         CAST(COALESCE(SUM(CASE WHEN converted_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS converted \
         FROM participants_effective GROUP BY version_id",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        counts.insert(c.try_get("version_id")?, Counts::from_row(&c)?);
    }
    let mut messages: HashMap<i64, Messages> = HashMap::new();
    for m in sqlx::query(
        "SELECT version_id, CAST(COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0) AS BIGINT) AS pending, \
         CAST(COALESCE(SUM(CASE WHEN state = 'sent' THEN 1 ELSE 0 END), 0) AS BIGINT) AS sent, \
         CAST(COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0) AS BIGINT) AS failed, \
         CAST(COALESCE(SUM(CASE WHEN state = 'cancelled' THEN 1 ELSE 0 END), 0) AS BIGINT) AS cancelled \
         FROM outbox_effective GROUP BY version_id",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        let messages_of = Messages {
            pending: m.try_get("pending")?,
            sent: m.try_get("sent")?,
            failed: m.try_get("failed")?,
            cancelled: m.try_get("cancelled")?,
            // Read from the rows both ways: nothing to recount.
            ..Messages::default()
        };
        messages.insert(m.try_get("version_id")?, messages_of);
    }
    let mut variants: HashMap<i64, Vec<VariantSummary>> = HashMap::new();
    for r in sqlx::query(
        "SELECT version_id, variant, COUNT(*) AS assigned, CAST(COALESCE(SUM(variant_converted), 0) AS BIGINT) AS converted \
         FROM participants WHERE variant IS NOT NULL GROUP BY version_id, variant ORDER BY version_id, variant",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        variants
            .entry(r.try_get("version_id")?)
            .or_default()
            .push(VariantSummary {
                name: r.try_get("variant")?,
                assigned: r.try_get("assigned")?,
                converted: r.try_get("converted")?,
            });
    }
    versions
        .iter()
        .map(|v| {
            let id: i64 = v.try_get("id")?;
            let label = format!(
                "{} v{}",
                v.try_get::<String, _>("journey")?,
                v.try_get::<i64, _>("number")?
            );
            Ok((
                label,
                counts.remove(&id).unwrap_or_default(),
                messages.remove(&id).unwrap_or_default(),
                variants.remove(&id).unwrap_or_default(),
            ))
        })
        .collect()
}

impl Store {
    /// Differences between the counters and a recount of the rows; empty
    /// when they agree. Both are read in one snapshot, so writers running
    /// meanwhile cannot make them seem to differ.
    pub async fn verify_counters(&self) -> Result<Vec<String>> {
        let mut tx = if self.backend().is_cluster() {
            let mut tx = self.quiet_cluster().await?;
            fold_for_check(&mut tx, self.backend()).await?;
            tx
        } else {
            self.pool
                .begin_with(self.backend().begin_snapshot())
                .await?
        };
        let mut recount = recount_on(&mut tx).await?;
        recount.sort_by(|a, b| a.0.cmp(&b.0));
        let (stored, unreadable) = stored_counts_on(&mut tx).await?;
        let per_action = super::channels::action_differences_on(&mut tx).await?;
        let per_minute = super::trend::minute_differences_on(&mut tx).await?;
        let unexplained = super::chain::chain_differences_on(&mut tx).await?;
        let aside = if self.backend().is_cluster() {
            crate::store::figures::aside::aside_findings(&mut tx).await?
        } else {
            Vec::new()
        };
        tx.rollback().await?;
        let mut diffs = unreadable;
        for (r, s) in recount.iter().zip(stored.iter()) {
            diffs.extend(tally_differences(s, r));
        }
        diffs.extend(per_action);
        diffs.extend(per_minute);
        diffs.extend(unexplained);
        diffs.extend(aside);
        if recount.len() != stored.len() {
            diffs.push(format!(
                "{} versions counted, {} stored",
                recount.len(),
                stored.len()
            ));
        }
        Ok(diffs)
    }
}

impl Store {
    /// A cluster has no snapshot over all its nodes, so a recount there
    /// holds every version's turn lock (the coordinator's) for its reads:
    /// engine batches, ingests and delivery claims wait meanwhile, and
    /// each read sees what had committed when it ran.
    async fn quiet_cluster(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        #[derive(serde::Serialize)]
        struct Id {
            id: i64,
        }
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM versions ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        let mut tx = self.pool.begin().await?;
        if let Some(sql) = self.backend().exclude_engines_of(1) {
            let json = crate::store::dialect::batch_json(
                &ids.iter().map(|&id| Id { id }).collect::<Vec<_>>(),
            )?;
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(json)
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }
}

/// On a cluster, folds the buckets' shares of the figures into them
/// before the recount (its turn locks held, so nothing adds to them
/// meanwhile). A login that may not write them (a viewer) leaves them,
/// and a figure with unfolded shares shows as a difference.
async fn fold_for_check(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    backend: crate::store::Backend,
) -> Result<()> {
    let ids = crate::store::figures::fold::with_shares(tx).await?;
    sqlx::raw_sql("SAVEPOINT fold").execute(&mut **tx).await?;
    for id in ids {
        if let Err(e) = crate::store::figures::fold::fold_version(tx, backend, id).await {
            tracing::info!("check: the buckets' shares stay unfolded: {e}");
            sqlx::raw_sql("ROLLBACK TO SAVEPOINT fold")
                .execute(&mut **tx)
                .await?;
            break;
        }
    }
    Ok(())
}

/// Counts of one version: `journey vN`, participants, messages, variants.
pub type Tally = (String, Counts, Messages, Vec<VariantSummary>);

/// The counters as stored, in the shape of a recount; and each version a
/// stored row of which cannot be read.
async fn stored_counts_on(conn: &mut sqlx::AnyConnection) -> Result<(Vec<Tally>, Vec<String>)> {
    let list = list_on(conn, true).await?;
    let unreadable: Vec<String> = list
        .iter()
        .filter_map(|s| {
            s.unreadable
                .as_ref()
                .map(|why| format!("{} v{}: unreadable: {why}", s.journey, s.version))
        })
        .collect();
    let mut out: Vec<Tally> = list
        .into_iter()
        .map(|s| {
            let mut vs: Vec<VariantSummary> =
                s.ab.map(|a| {
                    a.variants
                        .into_iter()
                        .filter(|v| v.assigned > 0 || v.converted > 0)
                        .collect()
                })
                .unwrap_or_default();
            vs.sort_by(|a, b| a.name.cmp(&b.name));
            (
                format!("{} v{}", s.journey, s.version),
                s.counts,
                s.messages,
                vs,
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok((out, unreadable))
}

/// Each figure where the stored counters and the recount of the rows
/// differ: `cart v1: active: counter 41, rows 40`.
fn tally_differences(stored: &Tally, rows: &Tally) -> Vec<String> {
    let figures = |t: &Tally| -> Vec<(String, i64)> {
        let (c, m) = (&t.1, &t.2);
        let mut out: Vec<(String, i64)> = [
            ("entered", c.entered),
            ("active", c.active),
            ("completed", c.completed),
            ("exited", c.exited),
            ("stopped", c.stopped),
            ("converted", c.converted),
            ("messages pending", m.pending),
            ("messages sent", m.sent),
            ("messages failed", m.failed),
            ("messages cancelled", m.cancelled),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        for v in &t.3 {
            out.push((format!("variant {} assigned", v.name), v.assigned));
            out.push((format!("variant {} converted", v.name), v.converted));
        }
        out
    };
    let (s, r) = (figures(stored), figures(rows));
    // Each name once, in the figures' own order (counts, messages, variants).
    let mut names: Vec<&String> = Vec::new();
    for (k, _) in s.iter().chain(r.iter()) {
        if !names.contains(&k) {
            names.push(k);
        }
    }
    let value = |list: &[(String, i64)], k: &String| {
        list.iter().find(|(n, _)| n == k).map_or(0, |(_, v)| *v)
    };
    names
        .into_iter()
        .filter(|k| value(&s, k) != value(&r, k))
        .map(|k| {
            format!(
                "{}: {k}: counter {}, rows {}",
                rows.0,
                value(&s, k),
                value(&r, k)
            )
        })
        .collect()
}

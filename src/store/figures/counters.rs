//! Counter changes written in the transaction that writes the rows they
//! count: per version (the version row, its variants) and per minute. A
//! transaction touching many versions (an ingest of a feed interleaving
//! hundreds of journeys) moves them all in a few statements, the rows as
//! one JSON parameter, not a few statements per version.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use sqlx::{Any, Transaction};

use crate::domain::Millis;
use crate::store::dialect::batch_json;
use crate::store::figures::minutes::MinuteCounts;
use crate::store::{Backend, Result};

/// Counter changes of one version within one transaction.
#[derive(Debug, Default, Clone)]
pub(crate) struct CounterDelta {
    pub entered: i64,
    pub active: i64,
    pub completed: i64,
    pub exited: i64,
    pub converted: i64,
    pub msg_pending: i64,
    pub msg_sent: i64,
    pub variant_assigned: BTreeMap<String, i64>,
    pub variant_converted: BTreeMap<String, i64>,
    /// Entries, conversions and exits by the minute stamped on their rows.
    pub minutes: BTreeMap<i64, MinuteCounts>,
}

#[derive(Serialize)]
struct VersionRow {
    id: i64,
    entered: i64,
    active: i64,
    completed: i64,
    exited: i64,
    converted: i64,
    msg_pending: i64,
    msg_sent: i64,
}

#[derive(Serialize)]
struct MinuteRow {
    version_id: i64,
    minute: i64,
    #[serde(flatten)]
    counts: MinuteCounts,
}

/// One version's minutes as rows of the minutes upsert.
fn minute_rows(
    version_id: i64,
    minutes: &BTreeMap<i64, MinuteCounts>,
) -> impl Iterator<Item = MinuteRow> + '_ {
    minutes.iter().map(move |(&minute, &counts)| MinuteRow {
        version_id,
        minute,
        counts,
    })
}

/// Moves the counters in the same transaction as the rows they count:
/// every version row in one statement (in id order), then the variants of
/// each version that has any, then every minute in one statement.
pub(crate) async fn apply_deltas(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    deltas: &HashMap<i64, CounterDelta>,
    at: Millis,
) -> Result<()> {
    if deltas.is_empty() {
        return Ok(());
    }
    let mut ids: Vec<&i64> = deltas.keys().collect();
    ids.sort();
    let rows: Vec<VersionRow> = ids
        .iter()
        .map(|&&id| {
            let d = &deltas[&id];
            VersionRow {
                id,
                entered: d.entered,
                active: d.active,
                completed: d.completed,
                exited: d.exited,
                converted: d.converted,
                msg_pending: d.msg_pending,
                msg_sent: d.msg_sent,
            }
        })
        .collect();
    let cols = [
        ("id", "BIGINT"),
        ("entered", "BIGINT"),
        ("active", "BIGINT"),
        ("completed", "BIGINT"),
        ("exited", "BIGINT"),
        ("converted", "BIGINT"),
        ("msg_pending", "BIGINT"),
        ("msg_sent", "BIGINT"),
    ];
    // Only the backend's fixed row-source text is formatted in.
    let sql = format!(
        "UPDATE versions SET entered = versions.entered + v.entered, active = versions.active + v.active, \
         completed = versions.completed + v.completed, exited = versions.exited + v.exited, \
         converted = versions.converted + v.converted, msg_pending = versions.msg_pending + v.msg_pending, \
         msg_sent = versions.msg_sent + v.msg_sent, last_activity_at = CASE WHEN $1 > 0 AND (versions.last_activity_at IS NULL \
         OR versions.last_activity_at < $1) THEN $1 ELSE versions.last_activity_at END \
         FROM {} WHERE versions.id = v.id",
        backend.json_rows(2, &cols)
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(at)
        .bind(batch_json(&rows)?)
        .execute(&mut **tx)
        .await?;
    for &&id in &ids {
        add_variants(tx, id, &deltas[&id]).await?;
    }
    let minutes: Vec<MinuteRow> = ids
        .iter()
        .flat_map(|&&id| minute_rows(id, &deltas[&id].minutes))
        .collect();
    add_minute_rows(tx, backend, &minutes).await
}

/// The A/B counters of one version's variants.
async fn add_variants(tx: &mut Transaction<'static, Any>, id: i64, d: &CounterDelta) -> Result<()> {
    let names: std::collections::BTreeSet<&String> = d
        .variant_assigned
        .keys()
        .chain(d.variant_converted.keys())
        .collect();
    for name in names {
        sqlx::query(
            "UPDATE variants SET assigned = assigned + $3, converted = converted + $4 \
             WHERE version_id = $1 AND name = $2",
        )
        .bind(id)
        .bind(name)
        .bind(d.variant_assigned.get(name).copied().unwrap_or(0))
        .bind(d.variant_converted.get(name).copied().unwrap_or(0))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Adds to one version's minutes.
pub(crate) async fn add_minutes(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    version_id: i64,
    minutes: &BTreeMap<i64, MinuteCounts>,
) -> Result<()> {
    let rows: Vec<MinuteRow> = minute_rows(version_id, minutes).collect();
    add_minute_rows(tx, backend, &rows).await
}

/// Adds to the minutes given, in one upsert. (`WHERE true` tells SQLite
/// the ON CONFLICT is the insert's, not a join's.)
async fn add_minute_rows(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    rows: &[MinuteRow],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let cols = [
        ("version_id", "BIGINT"),
        ("minute", "BIGINT"),
        ("entered", "BIGINT"),
        ("converted", "BIGINT"),
        ("exited", "BIGINT"),
        ("sent", "BIGINT"),
        ("failed", "BIGINT"),
    ];
    // Only the backend's fixed row-source text is formatted in.
    let sql = format!(
        "INSERT INTO version_minutes (version_id, minute, entered, converted, exited, sent, failed) \
         SELECT v.version_id, v.minute, v.entered, v.converted, v.exited, v.sent, v.failed FROM {} \
         WHERE true ON CONFLICT (version_id, minute) DO UPDATE SET \
         entered = version_minutes.entered + excluded.entered, \
         converted = version_minutes.converted + excluded.converted, \
         exited = version_minutes.exited + excluded.exited, \
         sent = version_minutes.sent + excluded.sent, \
         failed = version_minutes.failed + excluded.failed",
        backend.json_rows(1, &cols)
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(batch_json(rows)?)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

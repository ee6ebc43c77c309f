//! Delivery health per action (`journeyctl channels`, the console's `c`):
//! the per-action counters, never the outbox rows.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::Row;

use crate::domain::Millis;
use crate::store::{Result, Store};

/// One action in use by a running version, summed over those versions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ActionHealth {
    pub action: String,
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
    /// Pending messages whose last attempt failed.
    pub retrying: i64,
    /// Pending messages whose last attempt had no answer (they may have
    /// arrived).
    pub uncertain: i64,
    /// Messages cancelled after an attempt without an answer (they may
    /// have arrived), stopped versions included.
    pub cancelled_uncertain: i64,
    pub last_error: Option<String>,
    #[serde(skip)]
    pub last_error_ms: Option<Millis>,
    #[serde(skip)]
    pub last_sent_ms: Option<Millis>,
    /// What the running workers route it to: `Some(None)` no channel,
    /// `None` no worker has said.
    #[serde(skip)]
    pub route: Option<Option<String>>,
    /// The channels file's limits for its channel, as the workers report
    /// them (`None`: no worker has said).
    #[serde(skip)]
    pub file_limits: Option<crate::store::LiveLimits>,
    /// The limits an operator set live for its channel (by this action
    /// or another action of the same channel, the newest).
    #[serde(skip)]
    pub live: Option<crate::store::LiveRate>,
    /// The hold that covers it (`journeyctl hold`): its pending messages
    /// are held.
    #[serde(skip)]
    pub hold: Option<crate::store::ActionHold>,
}

impl ActionHealth {
    /// Its pending messages no worker claims while it is held.
    pub fn held(&self) -> i64 {
        if self.hold.is_some() { self.pending } else { 0 }
    }
}

impl ActionHealth {
    /// The limits the workers follow: the live ones over the file's.
    pub fn limits(&self) -> crate::store::LiveLimits {
        let file = self.file_limits.unwrap_or_default();
        match &self.live {
            Some(l) => crate::store::LiveLimits {
                rate: l.limits.rate.or(file.rate),
                concurrency: l.limits.concurrency.or(file.concurrency),
            },
            None => file,
        }
    }
}

impl ActionHealth {
    /// Whether the latest attempt failed.
    pub fn failing(&self) -> bool {
        match (self.last_error_ms, self.last_sent_ms) {
            (Some(e), Some(s)) => e > s,
            (Some(_), None) => true,
            _ => false,
        }
    }
}

impl Store {
    /// Every action a live or finished version sends through, with its
    /// delivery counters and what the workers route it to.
    pub async fn channel_health(&self) -> Result<Vec<ActionHealth>> {
        let mut conn = self.pool.acquire().await?;
        let mut by_action: BTreeMap<String, ActionHealth> = BTreeMap::new();
        for v in super::list::list_on(&mut conn, false).await? {
            if v.status.runs_steps() {
                for a in v.uses_actions {
                    by_action.entry(a.clone()).or_insert_with(|| ActionHealth {
                        action: a,
                        ..ActionHealth::default()
                    });
                }
            }
        }
        let rows = sqlx::query(
            "SELECT a.action, a.pending, a.sent, a.failed, a.retrying, a.last_error, a.last_error_at, \
             a.last_sent_at FROM outbox_actions a JOIN versions v ON v.id = a.version_id \
             WHERE v.status IN ('live', 'finished') ORDER BY a.version_id",
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let action: String = r.try_get("action")?;
            let h = by_action
                .entry(action.clone())
                .or_insert_with(|| ActionHealth {
                    action,
                    ..ActionHealth::default()
                });
            h.pending += r.try_get::<i64, _>("pending")?;
            h.sent += r.try_get::<i64, _>("sent")?;
            h.failed += r.try_get::<i64, _>("failed")?;
            h.retrying += r.try_get::<i64, _>("retrying")?;
            let err_at: Option<Millis> = r.try_get("last_error_at")?;
            if err_at > h.last_error_ms {
                h.last_error_ms = err_at;
                h.last_error = r.try_get("last_error")?;
            }
            h.last_sent_ms = h.last_sent_ms.max(r.try_get("last_sent_at")?);
        }
        for (action, uncertain, cancelled) in uncertain_on(&mut conn).await? {
            let h = by_action
                .entry(action.clone())
                .or_insert_with(|| ActionHealth {
                    action,
                    ..ActionHealth::default()
                });
            h.uncertain += uncertain;
            h.cancelled_uncertain += cancelled;
        }
        let channel_of = routes_on(&mut conn, &mut by_action).await?;
        drop(conn);
        let holds = self.action_holds().await?;
        for h in by_action.values_mut() {
            h.hold = holds
                .iter()
                .find(|x| crate::domain::covers(&x.action, &h.action))
                .cloned();
        }
        // Newest first: the first live rate of an action's channel holds.
        let live = self.live_rates().await?;
        for h in by_action.values_mut() {
            let mine = channel_of.get(&h.action);
            h.live = live
                .iter()
                .find(|r| {
                    r.action == h.action || (mine.is_some() && channel_of.get(&r.action) == mine)
                })
                .cloned();
        }
        Ok(by_action.into_values().collect())
    }
}

/// What the workers route each action to, with the channels file's
/// limits, set on the actions of `by_action`; every routed action's
/// channel.
async fn routes_on(
    conn: &mut sqlx::AnyConnection,
    by_action: &mut BTreeMap<String, ActionHealth>,
) -> Result<BTreeMap<String, String>> {
    let routes =
        sqlx::query("SELECT action, channel, file_rate, file_concurrency FROM delivery_routes")
            .fetch_all(&mut *conn)
            .await?;
    let mut channel_of: BTreeMap<String, String> = BTreeMap::new();
    for r in &routes {
        let action: String = r.try_get("action")?;
        let channel: Option<String> = r.try_get("channel")?;
        if let Some(c) = &channel {
            channel_of.insert(action.clone(), c.clone());
        }
        if let Some(h) = by_action.get_mut(&action) {
            h.route = Some(channel);
            let rate: Option<String> = r.try_get("file_rate")?;
            h.file_limits = Some(crate::store::LiveLimits {
                rate: rate.and_then(|t| crate::domain::rate::Rate::parse(&t).ok()),
                concurrency: r.try_get("file_concurrency")?,
            });
        }
    }
    Ok(channel_of)
}

/// Per action: pending messages that may have arrived, and cancelled ones
/// that may have. Two reads of the outbox's partial indexes: rows marked
/// uncertain, and claims left unrecorded in stopped versions (a worker
/// that died holding them; the sweep marks them).
async fn uncertain_on(conn: &mut sqlx::AnyConnection) -> Result<Vec<(String, i64, i64)>> {
    let marked = sqlx::query(
        "SELECT o.action, \
         CAST(SUM(CASE WHEN o.state = 'pending' AND v.status <> 'stopped' THEN 1 ELSE 0 END) AS BIGINT) AS uncertain, \
         CAST(SUM(CASE WHEN o.state = 'cancelled' OR (o.state = 'pending' AND v.status = 'stopped') \
           THEN 1 ELSE 0 END) AS BIGINT) AS cancelled \
         FROM outbox o JOIN versions v ON v.id = o.version_id WHERE o.uncertain = 1 GROUP BY o.action",
    )
    .fetch_all(&mut *conn)
    .await?;
    let orphaned = sqlx::query(
        "SELECT o.action, CAST(0 AS BIGINT) AS uncertain, \
         CAST(SUM(CASE WHEN o.uncertain = 0 AND o.state = 'pending' THEN 1 ELSE 0 END) AS BIGINT) AS cancelled \
         FROM versions v JOIN outbox o ON o.version_id = v.id AND o.claimed_until IS NOT NULL \
         WHERE v.status = 'stopped' AND v.swept = 0 GROUP BY o.action",
    )
    .fetch_all(&mut *conn)
    .await?;
    marked
        .iter()
        .chain(&orphaned)
        .map(|r| {
            Ok((
                r.try_get("action")?,
                r.try_get::<i64, _>("uncertain")?,
                r.try_get::<i64, _>("cancelled")?,
            ))
        })
        .collect()
}

/// Differences between the per-action counters and a recount of the
/// outbox rows: `promo v1 email: sent: counter 4, rows 5`.
pub(super) async fn action_differences_on(conn: &mut sqlx::AnyConnection) -> Result<Vec<String>> {
    let figures = ["pending", "sent", "failed", "cancelled", "retrying"];
    let stored = sqlx::query(
        "SELECT j.name AS journey, v.number, a.action, a.pending, a.sent, a.failed, a.cancelled, a.retrying \
         FROM outbox_actions a JOIN versions v ON v.id = a.version_id JOIN journeys j ON j.id = v.journey_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let rows = sqlx::query(
        "SELECT j.name AS journey, v.number, o.action, \
         CAST(SUM(CASE WHEN o.state = 'pending' THEN 1 ELSE 0 END) AS BIGINT) AS pending, \
         CAST(SUM(CASE WHEN o.state = 'sent' THEN 1 ELSE 0 END) AS BIGINT) AS sent, \
         CAST(SUM(CASE WHEN o.state = 'failed' THEN 1 ELSE 0 END) AS BIGINT) AS failed, \
         CAST(SUM(CASE WHEN o.state = 'cancelled' THEN 1 ELSE 0 END) AS BIGINT) AS cancelled, \
         CAST(SUM(CASE WHEN o.state = 'pending' AND o.last_error IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) AS retrying \
         FROM outbox_effective o JOIN versions v ON v.id = o.version_id JOIN journeys j ON j.id = v.journey_id \
         GROUP BY j.name, v.number, o.action",
    )
    .fetch_all(&mut *conn)
    .await?;
    type Key = (String, i64, String);
    let table = |rows: &[sqlx::any::AnyRow]| -> Result<BTreeMap<Key, Vec<i64>>> {
        let mut out = BTreeMap::new();
        for r in rows {
            let key = (
                r.try_get("journey")?,
                r.try_get("number")?,
                r.try_get("action")?,
            );
            let values = figures
                .iter()
                .map(|f| r.try_get::<i64, _>(*f))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            out.insert(key, values);
        }
        Ok(out)
    };
    let (stored, rows) = (table(&stored)?, table(&rows)?);
    let mut keys: Vec<&Key> = stored.keys().chain(rows.keys()).collect();
    keys.sort();
    keys.dedup();
    let zero = vec![0; figures.len()];
    let mut diffs = Vec::new();
    for key in keys {
        let s = stored.get(key).unwrap_or(&zero);
        let r = rows.get(key).unwrap_or(&zero);
        for (i, f) in figures.iter().enumerate() {
            if s[i] != r[i] {
                diffs.push(format!(
                    "{} v{} {}: {f}: counter {}, rows {}",
                    key.0, key.1, key.2, s[i], r[i]
                ));
            }
        }
    }
    Ok(diffs)
}

//! One action held (`journeyctl hold --action webhook:crm`): its messages
//! stay pending and no worker claims one from the moment the hold
//! returns, while entries, waits and every other action go on. A claim
//! reads the holds under its version's lock, which the hold takes for
//! every running version with messages of the action (the same order as a
//! stop), and the hold then waits for the deliveries of the action already
//! in flight, as a stop does.

use std::collections::BTreeMap;
use std::time::Duration;

use sqlx::Row;

use super::rates::{Tx, insert_action_audit};
use crate::domain::{AuditAction, Millis, Overdue, covers};
use crate::store::order::waits::Turn;
use crate::store::{Actor, Error, Result, Store};

/// What happens to a hold's messages when it runs out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HoldExpiry {
    /// They go out again.
    #[default]
    Release,
    /// The pending ones are cancelled.
    Cancel,
}

impl HoldExpiry {
    /// Where its messages go at the end: the audit row's `to`.
    pub fn ended(self) -> &'static str {
        match self {
            HoldExpiry::Release => "sending",
            HoldExpiry::Cancel => "cancelled",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HoldExpiry::Release => "release",
            HoldExpiry::Cancel => "cancel",
        }
    }
}

/// One held action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionHold {
    pub action: String,
    pub held_at: Millis,
    pub held_by: String,
    /// When it runs out, and what happens then.
    pub until: Option<Millis>,
    pub on_expiry: HoldExpiry,
    pub reason: Option<String>,
}

/// What a hold (or a release) met: the running versions with messages of
/// the action, its pending messages, and the deliveries it waited for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HoldImpact {
    pub action: String,
    /// Pending messages per running version (journey, version, pending).
    pub versions: Vec<(String, i64, i64)>,
    pub waited: i64,
}

impl HoldImpact {
    pub fn pending(&self) -> i64 {
        self.versions.iter().map(|v| v.2).sum()
    }
}

impl Store {
    /// Every held action.
    pub async fn action_holds(&self) -> Result<Vec<ActionHold>> {
        let rows = sqlx::query(
            "SELECT action, held_at, held_by, until_ms, on_expiry, reason FROM action_holds ORDER BY action",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ActionHold {
                    action: r.try_get("action")?,
                    held_at: r.try_get("held_at")?,
                    held_by: r.try_get("held_by")?,
                    until: r.try_get("until_ms")?,
                    on_expiry: match r.try_get::<String, _>("on_expiry")?.as_str() {
                        "cancel" => HoldExpiry::Cancel,
                        _ => HoldExpiry::Release,
                    },
                    reason: r.try_get("reason")?,
                })
            })
            .collect()
    }

    /// The running versions with messages of `action` (or its `action:*`)
    /// and their pending ones: what a hold or release of it meets.
    pub async fn hold_impact(&self, action: &str) -> Result<HoldImpact> {
        let mut conn = self.pool.acquire().await?;
        let versions = running_with(&mut conn, action).await?;
        Ok(HoldImpact {
            action: action.to_string(),
            versions: versions.into_values().collect(),
            waited: 0,
        })
    }

    /// Holds `action` until `until` (or until released): from the moment
    /// this returns no message of it is claimed, and none is in flight.
    pub async fn hold_action(
        &self,
        action: &str,
        (until, on_expiry): (Option<Millis>, HoldExpiry),
        actor: &Actor,
        reason: Option<&str>,
        now: Millis,
    ) -> Result<HoldImpact> {
        super::rates::refuse_bad_text(action, reason)?;
        if let Some(h) = self
            .action_holds()
            .await?
            .into_iter()
            .find(|h| h.action == action)
        {
            return Err(Error::Invalid(format!(
                "{action} is already held (by {} since {})",
                h.held_by,
                crate::domain::time::short(h.held_at)
            )));
        }
        let in_use: Vec<String> = self
            .channel_health()
            .await?
            .into_iter()
            .map(|h| h.action)
            .collect();
        if !in_use.iter().any(|a| covers(action, a)) {
            return Err(Error::Invalid(format!(
                "no running journey sends through {action:?} (in use: {})",
                in_use.join(", ")
            )));
        }
        let _first = self.operator_first().await?;
        let mut tx = self.begin_write().await?;
        let versions = running_with(&mut tx, action).await?;
        let ids: Vec<i64> = versions.keys().copied().collect();
        if !ids.is_empty() {
            crate::store::order::lock_version_rows(&mut tx, self.backend(), &ids, Turn::Background)
                .await?;
        }
        sqlx::query(
            "INSERT INTO action_holds (action, held_at, held_by, until_ms, on_expiry, reason) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(action)
        .bind(now)
        .bind(&actor.name)
        .bind(until)
        .bind(on_expiry.as_str())
        .bind(reason.filter(|r| !r.trim().is_empty()))
        .execute(&mut *tx)
        .await?;
        let to = match until {
            Some(u) => format!(
                "held until {}, then {}",
                crate::domain::time::short(u),
                on_expiry.as_str()
            ),
            None => "held".to_string(),
        };
        insert_action_audit(
            &mut tx,
            AuditAction::Hold,
            action,
            actor,
            now,
            ("sending".into(), to),
            reason,
        )
        .await?;
        tx.commit().await?;
        self.announce_status().await;
        let waited = self.wait_action_in_flight(&ids, action).await?;
        Ok(HoldImpact {
            action: action.to_string(),
            versions: versions.into_values().collect(),
            waited,
        })
    }

    /// Ends the hold of `action`: its messages go out again, those that
    /// fell due while it was held as `overdue` says (sent now, skipped, or
    /// spread, by the next claim of each version); under four eyes, a request.
    pub async fn release_action(
        &self,
        action: &str,
        overdue: Overdue,
        actor: &Actor,
        reason: Option<&str>,
        now: Millis,
    ) -> Result<HoldImpact> {
        super::rates::refuse_bad_text(action, reason)?;
        let _first = self.operator_first().await?;
        let mut tx = self.begin_write().await?;
        if crate::store::lifecycle::approvals::asks_first(&mut tx, "release", actor).await? {
            drop(tx);
            let intent = crate::domain::schedule::Intent::Release {
                action: action.to_string(),
                overdue,
                reason: reason.map(str::to_string),
            };
            return self.requested(intent, actor, now).await;
        }
        if !end_hold(&mut tx, action).await? {
            return Err(Error::Invalid(format!("{action} is not held")));
        }
        let versions = running_with(&mut tx, action).await?;
        let ids: Vec<i64> = versions.keys().copied().collect();
        let before = crate::store::db_clock_ms(&mut tx, self.backend()).await?;
        choose_overdue(&mut tx, &ids, action, overdue, before).await?;
        let to = match overdue {
            Overdue::Send => "sending".to_string(),
            other => format!("sending (overdue: {})", other.words()),
        };
        let change = ("held".to_string(), to);
        insert_action_audit(
            &mut tx,
            AuditAction::Release,
            action,
            actor,
            now,
            change,
            reason,
        )
        .await?;
        tx.commit().await?;
        self.announce_status().await;
        Ok(HoldImpact {
            action: action.to_string(),
            versions: versions.into_values().collect(),
            waited: 0,
        })
    }

    /// Releases the holds that ran out by `now`, audited as
    /// `hold_expired` by the engine; how many.
    pub async fn expire_action_holds(&self, now: Millis) -> Result<usize> {
        let due: Vec<ActionHold> = self
            .action_holds()
            .await?
            .into_iter()
            .filter(|h| h.until.is_some_and(|u| u <= now))
            .collect();
        let engine = Actor::new("expiry", crate::store::this_host());
        for h in &due {
            let mut tx = self.begin_background_write().await?;
            if end_hold(&mut tx, &h.action).await? {
                if h.on_expiry == HoldExpiry::Cancel {
                    let ids: Vec<i64> = running_with(&mut tx, &h.action)
                        .await?
                        .into_keys()
                        .collect();
                    choose_overdue(&mut tx, &ids, &h.action, Overdue::Skip, i64::MAX / 4).await?;
                }
                insert_action_audit(
                    &mut tx,
                    AuditAction::HoldExpired,
                    &h.action,
                    &engine,
                    now,
                    ("held".into(), h.on_expiry.ended().into()),
                    Some("the hold ran out"),
                )
                .await?;
            }
            tx.commit().await?;
        }
        if !due.is_empty() {
            self.announce_status().await;
        }
        Ok(due.len())
    }

    /// Waits until no delivery of `action` in these versions is in flight;
    /// the most seen.
    async fn wait_action_in_flight(&self, ids: &[i64], action: &str) -> Result<i64> {
        let mut most = 0;
        if ids.is_empty() {
            return Ok(0);
        }
        loop {
            let sql = format!(
                "SELECT action, COUNT(*) AS n FROM outbox WHERE version_id IN ({}) \
                 AND claimed_until IS NOT NULL AND claimed_until > {} GROUP BY action",
                crate::store::dialect::id_list(ids),
                self.backend().db_now()
            );
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(&self.pool)
                .await?;
            let mut n = 0;
            for r in &rows {
                if covers(action, &r.try_get::<String, _>("action")?) {
                    n += r.try_get::<i64, _>("n")?;
                }
            }
            if n == 0 {
                return Ok(most);
            }
            most = most.max(n);
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Records, for each of these versions, what happens to the messages of
/// `action` due by `before` (skip or spread; send needs nothing): the next
/// claim of the version applies it under its lock.
async fn choose_overdue(
    tx: &mut Tx,
    ids: &[i64],
    action: &str,
    overdue: Overdue,
    before: Millis,
) -> Result<()> {
    let (mode, spread) = match overdue {
        Overdue::Send => return Ok(()),
        Overdue::Skip => ("skip", None),
        Overdue::Spread(ms) => ("spread", Some(ms)),
    };
    for id in ids {
        sqlx::query(
            "INSERT INTO action_overdue (version_id, action, mode, before_ms, spread_ms) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (version_id, action) DO UPDATE SET \
             mode = excluded.mode, before_ms = excluded.before_ms, spread_ms = excluded.spread_ms",
        )
        .bind(id)
        .bind(action)
        .bind(mode)
        .bind(before)
        .bind(spread)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Deletes the hold of `action`; whether there was one.
async fn end_hold(tx: &mut Tx, action: &str) -> Result<bool> {
    Ok(sqlx::query("DELETE FROM action_holds WHERE action = $1")
        .bind(action)
        .execute(&mut **tx)
        .await?
        .rows_affected()
        == 1)
}

/// The running versions with messages of `action` (or its `action:*`):
/// by id, (journey, version, pending).
async fn running_with(
    conn: &mut sqlx::AnyConnection,
    action: &str,
) -> Result<BTreeMap<i64, (String, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT v.id, j.name AS journey, v.number, a.action, a.pending FROM outbox_actions a \
         JOIN versions v ON v.id = a.version_id JOIN journeys j ON j.id = v.journey_id \
         WHERE v.status IN ('live', 'finished') ORDER BY v.id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out: BTreeMap<i64, (String, i64, i64)> = BTreeMap::new();
    for r in &rows {
        if covers(action, &r.try_get::<String, _>("action")?) {
            let e = out.entry(r.try_get("id")?).or_insert((
                r.try_get("journey")?,
                r.try_get("number")?,
                0,
            ));
            e.2 += r.try_get::<i64, _>("pending")?;
        }
    }
    Ok(out)
}

/// The actions of `actions` no hold covers, and whether any was held.
pub(super) async fn unheld(tx: &mut Tx, actions: &[String]) -> Result<(Vec<String>, bool)> {
    let holds: Vec<String> = sqlx::query_scalar("SELECT action FROM action_holds")
        .fetch_all(&mut **tx)
        .await?;
    let free: Vec<String> = actions
        .iter()
        .filter(|a| !holds.iter().any(|h| covers(h, a)))
        .cloned()
        .collect();
    let any = free.len() < actions.len();
    Ok((free, any))
}

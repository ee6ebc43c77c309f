//! A channel's rate and concurrency set live (`journeyctl rate`, the
//! console's `+`/`-`): kept in the store by the action an operator named,
//! audited with the old and new values, and read by every delivery worker
//! within a second, over the channel that action goes through.

use sqlx::Row;

use crate::domain::rate::Rate;
use crate::domain::{AuditAction, Millis};
use crate::store::{Actor, Error, Result, Store};

/// Limits set live for one action's channel; `None` keeps the channels
/// file's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LiveLimits {
    pub rate: Option<Rate>,
    pub concurrency: Option<i64>,
}

impl LiveLimits {
    /// `50/s, 4 at once`, `50/s`, `4 at once`.
    pub fn words(&self) -> String {
        let parts: Vec<String> = [
            self.rate.map(|r| r.to_string()),
            self.concurrency.map(|c| format!("{c} at once")),
        ]
        .into_iter()
        .flatten()
        .collect();
        parts.join(", ")
    }
}

/// One action's live limits, who set them and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveRate {
    pub action: String,
    pub limits: LiveLimits,
    pub set_by: String,
    pub set_at: Millis,
    pub reason: Option<String>,
}

/// What `rate` changed: the action's live limits before and after
/// (`None`: the channels file's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateChanged {
    pub action: String,
    pub before: Option<LiveLimits>,
    pub after: Option<LiveLimits>,
}

/// The most an action's concurrency may be set to, as in a channels file.
pub const MOST_CONCURRENCY: i64 = 10_000;

/// `50/s, 4 at once (live)` or `channels file`: a side of the audit row.
fn audit_words(limits: Option<LiveLimits>) -> String {
    match limits {
        Some(l) => l.words(),
        None => "file".into(),
    }
}

/// `Err` saying why when an action's name or a reason cannot be taken.
pub(super) fn refuse_bad_text(action: &str, reason: Option<&str>) -> Result<()> {
    use crate::domain::text::{MOST_NAME, refuse_bad_reason, refuse_control, refuse_long};
    refuse_control("--action", action, false).map_err(Error::Invalid)?;
    refuse_long("--action", action, MOST_NAME).map_err(Error::Invalid)?;
    if action.trim().is_empty() {
        return Err(Error::Invalid("--action is empty".into()));
    }
    if let Some(r) = reason {
        refuse_bad_reason(r).map_err(Error::Invalid)?;
    }
    Ok(())
}

fn refuse_bad(action: &str, limits: Option<LiveLimits>, reason: Option<&str>) -> Result<()> {
    refuse_bad_text(action, reason)?;
    if let Some(l) = limits {
        if l.rate.is_none() && l.concurrency.is_none() {
            return Err(Error::Invalid(
                "give a rate (50/s), --concurrency N, or --clear".into(),
            ));
        }
        if let Some(c) = l.concurrency
            && !(1..=MOST_CONCURRENCY).contains(&c)
        {
            return Err(Error::Invalid(format!(
                "--concurrency {c}: must be 1 to 10,000"
            )));
        }
    }
    Ok(())
}

impl Store {
    /// Every action's live limits, newest first.
    pub async fn live_rates(&self) -> Result<Vec<LiveRate>> {
        let rows = sqlx::query(
            "SELECT action, per_window, window_s, concurrency, set_by, set_at, reason \
             FROM channel_rates ORDER BY set_at DESC, action",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(live_rate_of).collect()
    }

    /// Sets (`Some`) or clears (`None`) the live limits of `action`'s
    /// channel, with an audit row naming the old and new values. Refused
    /// for an action no running version sends through and none is set
    /// for (a typo would otherwise limit nothing).
    pub async fn set_rate(
        &self,
        action: &str,
        limits: Option<LiveLimits>,
        actor: &Actor,
        reason: Option<&str>,
        now: Millis,
    ) -> Result<RateChanged> {
        refuse_bad(action, limits, reason)?;
        self.refuse_unknown_action(action, limits).await?;
        // An operator's action: first in line on SQLite, like a stop.
        let _first = self.operator_first().await?;
        let mut tx = self.begin_write().await?;
        // Read again under the write: the audit row's old value is the one
        // this change replaced.
        let before: Option<LiveLimits> = sqlx::query(
            "SELECT action, per_window, window_s, concurrency, set_by, set_at, reason \
             FROM channel_rates WHERE action = $1",
        )
        .bind(action)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| live_rate_of(&r).map(|r| r.limits))
        .transpose()?;
        let reason = reason.filter(|r| !r.trim().is_empty());
        write_rate(&mut tx, action, limits, actor, now, reason).await?;
        let change = (audit_words(before), audit_words(limits));
        insert_action_audit(
            &mut tx,
            AuditAction::Rate,
            action,
            actor,
            now,
            change,
            reason,
        )
        .await?;
        tx.commit().await?;
        self.announce_status().await;
        Ok(RateChanged {
            action: action.to_string(),
            before,
            after: limits,
        })
    }
}

impl Store {
    /// `Err` unless `action` has a live rate, or (to set one) some running
    /// version sends through it: a typo would otherwise limit nothing.
    pub(super) async fn refuse_unknown_action(
        &self,
        action: &str,
        limits: Option<LiveLimits>,
    ) -> Result<()> {
        let set = self
            .live_rates()
            .await?
            .into_iter()
            .any(|r| r.action == action);
        if !set && limits.is_none() {
            return Err(Error::Invalid(format!(
                "{action:?} has no live rate to clear"
            )));
        }
        if !set {
            let in_use: Vec<String> = self
                .channel_health()
                .await?
                .into_iter()
                .map(|h| h.action)
                .collect();
            if !in_use.iter().any(|a| a == action) {
                let named = match in_use.is_empty() {
                    true => "none".to_string(),
                    false => in_use.join(", "),
                };
                return Err(Error::Invalid(format!(
                    "no running journey sends through {action:?} (in use: {named})"
                )));
            }
        }
        Ok(())
    }

    /// What the running workers route each action to: `(action, channel,
    /// the channels file's limits for it)`, written by each worker as it
    /// starts and again every few seconds.
    pub async fn advertise_routes(
        &self,
        routes: &[(String, Option<String>, LiveLimits)],
        worker: &str,
        at: Millis,
    ) -> Result<()> {
        let mut tx = self.begin_background_write().await?;
        for (action, channel, file) in routes {
            sqlx::query(
                "INSERT INTO delivery_routes (action, channel, worker, seen_at, file_rate, file_concurrency) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (action) DO UPDATE SET channel = excluded.channel, worker = excluded.worker, \
                 seen_at = excluded.seen_at, file_rate = excluded.file_rate, \
                 file_concurrency = excluded.file_concurrency",
            )
            .bind(action.as_str())
            .bind(channel.clone())
            .bind(worker)
            .bind(at)
            .bind(file.rate.map(|r| r.to_string()))
            .bind(file.concurrency)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

pub(super) type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Sets (`Some`) or clears the row of `action`.
async fn write_rate(
    tx: &mut Tx,
    action: &str,
    limits: Option<LiveLimits>,
    actor: &Actor,
    now: Millis,
    reason: Option<&str>,
) -> Result<()> {
    match limits {
        Some(l) => {
            sqlx::query(
                    "INSERT INTO channel_rates (action, per_window, window_s, concurrency, set_by, set_at, reason) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (action) DO UPDATE SET \
                     per_window = excluded.per_window, window_s = excluded.window_s, \
                     concurrency = excluded.concurrency, set_by = excluded.set_by, \
                     set_at = excluded.set_at, reason = excluded.reason",
                )
                .bind(action)
                .bind(l.rate.map(|r| r.count))
                .bind(l.rate.map(Rate::window_secs))
                .bind(l.concurrency)
                .bind(&actor.name)
                .bind(now)
                .bind(reason)
                .execute(&mut **tx)
                .await?;
        }
        None => {
            sqlx::query("DELETE FROM channel_rates WHERE action = $1")
                .bind(action)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

/// The audit row of a change to an action (a rate, a hold): what it was
/// (`from`) and what it is (`to`), its subject `action:NAME`.
pub(super) async fn insert_action_audit(
    tx: &mut Tx,
    what: crate::domain::AuditAction,
    action: &str,
    actor: &Actor,
    now: Millis,
    (from, to): (String, String),
    reason: Option<&str>,
) -> Result<()> {
    crate::store::lifecycle::approvals::approval_done(tx, actor, now).await?;
    sqlx::query(
        "INSERT INTO audit (at, actor, host, action, journey, version, from_status, to_status, reason, subject, \
         schedule, approval, asked_by) VALUES ($1, $2, $3, $4, '', NULL, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(now)
    .bind(&actor.name)
    .bind(&actor.host)
    .bind(what.as_str())
    .bind(from)
    .bind(to)
    .bind(reason.filter(|r| !r.trim().is_empty()))
    .bind(format!("action:{action}"))
    .bind(actor.schedule)
    .bind(actor.approval.as_ref().map(|a| a.id))
    .bind(actor.approval.as_ref().map(|a| a.asked_by.as_str()))
    .execute(&mut **tx)
    .await?;
    crate::store::lifecycle::audit::scheduled_done(tx, actor, now).await
}

fn live_rate_of(r: &sqlx::any::AnyRow) -> Result<LiveRate> {
    let per_window: Option<i64> = r.try_get("per_window")?;
    let window_s: Option<i64> = r.try_get("window_s")?;
    let action: String = r.try_get("action")?;
    let rate = match (per_window, window_s) {
        (Some(n), Some(w)) => Some(Rate::from_parts(n, w).ok_or_else(|| Error::Corrupt {
            what: format!("the live rate of {action}: {n} per {w} s"),
        })?),
        _ => None,
    };
    Ok(LiveRate {
        limits: LiveLimits {
            rate,
            concurrency: r.try_get("concurrency")?,
        },
        action,
        set_by: r.try_get("set_by")?,
        set_at: r.try_get("set_at")?,
        reason: r.try_get("reason")?,
    })
}

//! The engine's side of actions at a time: each one due is taken by one
//! engine, carried out through the same call as its command (its audit
//! rows name the schedule, whose state turns `done` in the action's own
//! transaction), or recorded as skipped with the reason, never half done.

use sqlx::Row;

use crate::domain::Millis;
use crate::domain::schedule::Intent;
use crate::store::{Actor, Error, HoldExpiry, Result, Store};

/// A schedule that ran: what, as whom, and what came of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledRun {
    pub id: i64,
    pub what: String,
    pub by: String,
    /// `Ok` when it was carried out; `Err(why)` when skipped.
    pub outcome: std::result::Result<(), String>,
}

impl ScheduledRun {
    /// `scheduled stop sale v2 (#3, set by alice): done`.
    pub fn line(&self) -> String {
        let head = format!("scheduled {} (#{}, set by {})", self.what, self.id, self.by);
        match &self.outcome {
            Ok(()) => format!("{head}: done"),
            Err(why) => format!("{head}: skipped: {why}"),
        }
    }
}

/// A schedule an engine took and died holding is taken again after this
/// long: the action had not committed (its commit ends the schedule).
const ABANDONED_MS: Millis = 10 * 60_000;

impl Store {
    /// Carries out every scheduled action due by `now`; the ones this
    /// engine took. One the store could not be reached for goes back to
    /// pending and is tried at the next round.
    pub async fn run_scheduled(&self, now: Millis) -> Result<Vec<ScheduledRun>> {
        // Only an engine's login carries schedules out (and says so).
        self.refuse_unless_engine().await?;
        self.engine_was_here(now).await?;
        sqlx::query(
            "UPDATE scheduled_actions SET state = 'pending', claimed_at = NULL \
             WHERE state = 'running' AND claimed_at < $1",
        )
        .bind(now - ABANDONED_MS)
        .execute(&self.pool)
        .await?;
        let due: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM scheduled_actions WHERE state = 'pending' AND due_at <= $1 ORDER BY due_at, id",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let mut ran = Vec::new();
        for id in due {
            if let Some(run) = self.carry_out(id, now).await? {
                ran.push(run);
            }
        }
        Ok(ran)
    }

    /// When the next scheduled action falls due, if any is pending: the
    /// engine wakes for it rather than at its next round.
    pub async fn next_scheduled(&self) -> Result<Option<Millis>> {
        Ok(
            sqlx::query_scalar("SELECT MIN(due_at) FROM scheduled_actions WHERE state = 'pending'")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// When an engine of this store last went round (any host).
    pub async fn engine_last_seen(&self) -> Result<Option<Millis>> {
        Ok(sqlx::query_scalar("SELECT MAX(at) FROM engine_seen")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Notes that an engine went round, at most every ten seconds (a
    /// read otherwise: no write at every round).
    async fn engine_was_here(&self, now: Millis) -> Result<()> {
        let host = crate::store::this_host();
        let last: Option<Millis> = sqlx::query_scalar("SELECT at FROM engine_seen WHERE host = $1")
            .bind(&host)
            .fetch_optional(&self.pool)
            .await?;
        if last.is_some_and(|at| (now - at).abs() < 10_000) {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO engine_seen (host, at) VALUES ($1, $2) \
             ON CONFLICT (host) DO UPDATE SET at = excluded.at",
        )
        .bind(&host)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes schedule `id` (unless another engine did) and carries it out.
    async fn carry_out(&self, id: i64, now: Millis) -> Result<Option<ScheduledRun>> {
        let taken = sqlx::query(
            "UPDATE scheduled_actions SET state = 'running', claimed_at = $1 WHERE id = $2 AND state = 'pending'",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        if taken.rows_affected() == 0 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT intent, what, set_by, set_host, journey, version FROM scheduled_actions WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        let what: String = row.try_get("what")?;
        let actor = Actor {
            schedule: Some(id),
            ..Actor::new(
                row.try_get::<String, _>("set_by")?,
                row.try_get::<String, _>("set_host")?,
            )
        };
        let kept: String = row.try_get("intent")?;
        let result = match serde_json::from_str::<Intent>(&kept) {
            Ok(intent) => self.as_commanded(&intent, &actor, now).await,
            Err(e) => Err(Error::Corrupt {
                what: format!("scheduled action {id}: {e}"),
            }),
        };
        let outcome = match result {
            Ok(()) => Ok(()),
            Err(e) if comes_back(&e) => {
                sqlx::query("UPDATE scheduled_actions SET state = 'pending', claimed_at = NULL WHERE id = $1 AND state = 'running'")
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                tracing::warn!("scheduled action {id} ({what}) waits for the store: {e}");
                return Ok(None);
            }
            Err(e) => {
                let why = crate::store::error::first_line(&e.to_string());
                let journey: Option<String> = row.try_get("journey")?;
                let audited = super::Audited {
                    id,
                    journey: journey.as_deref(),
                    version: row.try_get("version")?,
                    subject: None,
                };
                self.skipped(&audited, &actor, now, &why).await?;
                Err(why)
            }
        };
        Ok(Some(ScheduledRun {
            id,
            what,
            by: actor.name,
            outcome,
        }))
    }

    /// The same call as the command's, as the operator who set it.
    pub(super) async fn as_commanded(
        &self,
        intent: &Intent,
        actor: &Actor,
        now: Millis,
    ) -> Result<()> {
        match intent {
            Intent::Act(action) => self.execute(action, actor, now).await.map(|_| ()),
            Intent::Publish { journey, reason } => self
                .publish_because(journey, actor, reason.as_deref(), now)
                .await
                .map(|_| ()),
            Intent::Hold {
                action,
                for_ms,
                on_expiry,
                reason,
            } => {
                let expiry = match on_expiry.as_str() {
                    "cancel" => HoldExpiry::Cancel,
                    _ => HoldExpiry::Release,
                };
                let until = for_ms.map(|f| now.saturating_add(f));
                self.hold_action(action, (until, expiry), actor, reason.as_deref(), now)
                    .await
                    .map(|_| ())
            }
            Intent::Release {
                action,
                overdue,
                reason,
            } => self
                .release_action(action, *overdue, actor, reason.as_deref(), now)
                .await
                .map(|_| ()),
        }
    }

    /// Records that schedule `row.id` could no longer apply, and why,
    /// audited (`schedule_skipped`) as the operator who set it.
    async fn skipped(
        &self,
        row: &super::Audited<'_>,
        actor: &Actor,
        now: Millis,
        why: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE scheduled_actions SET state = 'skipped', ended_at = $1, outcome = $2 \
             WHERE id = $3 AND state = 'running'",
        )
        .bind(now)
        .bind(why)
        .bind(row.id)
        .execute(&mut *tx)
        .await?;
        let skipped = crate::domain::AuditAction::ScheduleSkipped;
        super::audit_schedule(
            &mut tx,
            skipped,
            row,
            actor,
            now,
            (None, "skipped"),
            Some(why),
        )
        .await?;
        tx.commit().await?;
        self.announce_status().await;
        Ok(())
    }
}

/// Whether the action may yet run: the store was away or busy, not a
/// refusal of the rules.
fn comes_back(e: &Error) -> bool {
    e.is_transient()
        || matches!(
            e,
            Error::Unreachable { .. } | Error::LockWait { .. } | Error::GaveUp | Error::InFlight(_)
        )
        || matches!(e, Error::Db(db) if !matches!(db, sqlx::Error::Database(_)))
}

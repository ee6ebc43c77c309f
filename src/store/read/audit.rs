//! The audit log, and where a profile is.

use sqlx::Row;

use super::{AuditEntry, ProfileEntry};
use crate::domain::Millis;
use crate::domain::time::to_rfc3339;
use crate::store::{Result, Store};

impl Store {
    /// The audit log, newest first; `journey` narrows it to one journey.
    pub async fn audit(&self, journey: Option<&str>, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT at, actor, host, action, journey, version, from_status, to_status, reason, affected_active, \
             cancelled, cancelled_uncertain, sent_waiting, db_user, db_at \
             FROM audit WHERE ($1 IS NULL OR journey = $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(journey)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let at: Millis = r.try_get("at")?;
                let recorded: Option<Millis> = r.try_get("db_at")?;
                Ok(AuditEntry {
                    at: to_rfc3339(at),
                    actor: r.try_get("actor")?,
                    host: r.try_get("host")?,
                    action: r.try_get("action")?,
                    journey: r.try_get("journey")?,
                    version: r.try_get("version")?,
                    from: r.try_get("from_status")?,
                    to: r.try_get("to_status")?,
                    reason: r.try_get("reason")?,
                    affected_active: r.try_get("affected_active")?,
                    cancelled: r.try_get("cancelled")?,
                    cancelled_uncertain: r.try_get("cancelled_uncertain")?,
                    sent_waiting: r.try_get("sent_waiting")?,
                    db_user: r.try_get("db_user")?,
                    recorded_at: recorded.map(to_rfc3339),
                    at_ms: at,
                    recorded_ms: recorded,
                })
            })
            .collect()
    }

    /// Where a profile is: one entry per version it entered.
    pub async fn profile(&self, profile: &str) -> Result<Vec<ProfileEntry>> {
        let rows = sqlx::query(
            "SELECT j.name AS journey, v.number, p.state, p.step, p.variant, p.converted_at, p.exit_reason, p.entered_at \
             FROM participants_effective p JOIN versions v ON v.id = p.version_id JOIN journeys j ON j.id = v.journey_id \
             WHERE p.profile = $1 ORDER BY p.entered_at, p.id",
        )
        .bind(profile)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let converted: Option<Millis> = r.try_get("converted_at")?;
                Ok(ProfileEntry {
                    journey: r.try_get("journey")?,
                    version: r.try_get("number")?,
                    state: r.try_get("state")?,
                    step: r.try_get("step")?,
                    variant: r.try_get("variant")?,
                    converted: converted.is_some(),
                    converted_at: converted.map(to_rfc3339),
                    exit_reason: r.try_get("exit_reason")?,
                    entered_at: to_rfc3339(r.try_get("entered_at")?),
                })
            })
            .collect()
    }

    /// The A/B variant a profile got in its newest entry into a journey.
    pub async fn variant_of(&self, journey: &str, profile: &str) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT p.variant FROM participants p JOIN journeys j ON j.id = p.journey_id \
             WHERE p.profile = $1 AND j.name = $2 ORDER BY p.id DESC LIMIT 1",
        )
        .bind(profile)
        .bind(journey)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => r.try_get("variant")?,
            None => None,
        })
    }
}

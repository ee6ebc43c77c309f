//! The audit log, and where a profile is.

use sqlx::Row;

use super::{AuditEntry, ProfileEntry};
use crate::domain::Millis;
use crate::domain::time::to_rfc3339;
use crate::store::{Result, Store};

/// The columns an [`AuditEntry`] is read from.
macro_rules! audit_columns {
    () => {
        "at, actor, host, action, journey, version, from_status, to_status, reason, affected_active, \
         cancelled, cancelled_uncertain, sent_waiting, overdue, overdue_count, db_user, db_at, incident, subject, schedule, approval, asked_by"
    };
}

/// Which audit rows `audit` shows: each part given narrows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// From this time (inclusive).
    pub since: Option<Millis>,
    /// Up to this time (inclusive).
    pub until: Option<Millis>,
    /// The actor named, or the login the database recorded.
    pub actor: Option<String>,
    /// Any of these actions (`stop`, `pause`).
    pub actions: Vec<String>,
    pub journey: Option<String>,
    pub incident: Option<String>,
}

/// A value bound to a filter's placeholder.
enum Value {
    Int(i64),
    Text(String),
}

impl AuditFilter {
    /// The values of its placeholders, in the order they are numbered.
    fn values(&self) -> Vec<Value> {
        let mut out = Vec::new();
        out.extend(self.since.map(Value::Int));
        out.extend(self.until.map(Value::Int));
        out.extend(self.actor.clone().map(Value::Text));
        out.extend(self.actions.iter().cloned().map(Value::Text));
        out.extend(self.journey.clone().map(Value::Text));
        out.extend(self.incident.clone().map(Value::Text));
        out
    }
}

impl Store {
    /// The audit log, newest first; `journey` narrows it to one journey.
    pub async fn audit(&self, journey: Option<&str>, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            audit_columns!(),
            " FROM audit WHERE ($1 IS NULL OR journey = $1) ORDER BY id DESC LIMIT $2"
        ))
        .bind(journey)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry_of).collect()
    }

    /// The audit rows that match `f`, newest first, at most `limit` of
    /// them (`None`: all), and how many match in all.
    pub async fn audit_matching(
        &self,
        f: &AuditFilter,
        limit: Option<i64>,
    ) -> Result<(Vec<AuditEntry>, i64)> {
        // Only placeholders are formatted into the statement.
        let mut clauses: Vec<String> = Vec::new();
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if f.since.is_some() {
            clauses.push(format!("at >= {}", next()));
        }
        if f.until.is_some() {
            clauses.push(format!("at <= {}", next()));
        }
        if f.actor.is_some() {
            clauses.push(format!("(actor = {0} OR db_user = {0})", next()));
        }
        if !f.actions.is_empty() {
            let marks: Vec<String> = f.actions.iter().map(|_| next()).collect();
            clauses.push(format!("action IN ({})", marks.join(", ")));
        }
        if f.journey.is_some() {
            clauses.push(format!("journey = {}", next()));
        }
        if f.incident.is_some() {
            clauses.push(format!("incident = {}", next()));
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", clauses.join(" AND "))
        };
        let limit_mark = next();
        let rows_sql = format!(
            "SELECT {} FROM audit{filter} ORDER BY id DESC LIMIT {limit_mark}",
            audit_columns!()
        );
        let count_sql = format!("SELECT COUNT(*) FROM audit{filter}");
        let mut rows = sqlx::query(sqlx::AssertSqlSafe(rows_sql));
        let mut count = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql));
        for v in f.values() {
            (rows, count) = match v {
                Value::Int(x) => (rows.bind(x), count.bind(x)),
                Value::Text(t) => (rows.bind(t.clone()), count.bind(t)),
            };
        }
        let rows = rows
            .bind(limit.unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        let total: i64 = count.fetch_one(&self.pool).await?;
        Ok((rows.iter().map(entry_of).collect::<Result<_>>()?, total))
    }

    /// The audit rows after `after` (an id) and those of `missing` (ids
    /// below it not seen yet: rows whose transaction had not committed
    /// when later ones had), oldest first, with their ids (for `watch`).
    pub async fn audit_since(&self, after: i64, missing: &[i64]) -> Result<Vec<(i64, AuditEntry)>> {
        // The ids are numbers formatted here, never input.
        let also = if missing.is_empty() {
            String::new()
        } else {
            let ids: Vec<String> = missing.iter().map(i64::to_string).collect();
            format!(" OR id IN ({})", ids.join(", "))
        };
        let sql = format!(
            "SELECT id, {} FROM audit WHERE id > $1{also} ORDER BY id LIMIT 1000",
            audit_columns!()
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("id")?, entry_of(r)?)))
            .collect()
    }

    /// The newest audit row's id (0 when there is none).
    pub async fn audit_last_id(&self) -> Result<i64> {
        let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM audit")
            .fetch_one(&self.pool)
            .await?;
        Ok(id.unwrap_or(0))
    }

    /// The running versions whose delivery gate is closed now (a stop or
    /// pause waits for deliveries in flight): `(journey, version)`.
    pub async fn closed_gates(&self) -> Result<Vec<(String, i64)>> {
        let sql = format!(
            "SELECT j.name, v.number FROM versions v JOIN journeys j ON j.id = v.journey_id \
             WHERE v.gate_until IS NOT NULL AND v.gate_until > {} ORDER BY j.name, v.number",
            self.backend().db_now()
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?)
    }

    /// Where a profile is: one entry per version it entered.
    pub async fn profile(&self, profile: &str) -> Result<Vec<ProfileEntry>> {
        let rows = sqlx::query(
            "SELECT j.name AS journey, v.number, p.state, p.step, p.due_at, p.variant, p.converted_at, p.exit_reason, p.entered_at \
             FROM participants_effective p JOIN versions v ON v.id = p.version_id JOIN journeys j ON j.id = v.journey_id \
             WHERE p.profile = $1 ORDER BY p.entered_at, p.id",
        )
        .bind(profile)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let converted: Option<Millis> = r.try_get("converted_at")?;
                let state: String = r.try_get("state")?;
                let step: i64 = r.try_get("step")?;
                let active = state == "active";
                let due: Millis = r.try_get("due_at")?;
                Ok(ProfileEntry {
                    journey: r.try_get("journey")?,
                    version: r.try_get("number")?,
                    state,
                    step,
                    next_step: active.then_some(step + 1),
                    next_due: active.then(|| to_rfc3339(due)),
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

/// One audit row as read.
fn entry_of(r: &sqlx::any::AnyRow) -> Result<AuditEntry> {
    let at: Millis = r.try_get("at")?;
    let recorded: Option<Millis> = r.try_get("db_at")?;
    let schedule: Option<i64> = r.try_get("schedule")?;
    let action: String = r.try_get("action")?;
    Ok(AuditEntry {
        at: to_rfc3339(at),
        actor: r.try_get("actor")?,
        host: r.try_get("host")?,
        action: action.as_str().into(),
        journey: r.try_get("journey")?,
        version: r.try_get("version")?,
        from: r.try_get("from_status")?,
        to: r.try_get("to_status")?,
        reason: r.try_get("reason")?,
        affected_active: r.try_get("affected_active")?,
        cancelled: r.try_get("cancelled")?,
        cancelled_uncertain: r.try_get("cancelled_uncertain")?,
        sent_waiting: r.try_get("sent_waiting")?,
        overdue: r.try_get("overdue")?,
        overdue_count: r.try_get("overdue_count")?,
        db_user: r.try_get("db_user")?,
        incident: r.try_get("incident")?,
        subject: r.try_get("subject")?,
        schedule,
        approval: r.try_get("approval")?,
        asked_by: r.try_get("asked_by")?,
        way: schedule
            .filter(|_| {
                !matches!(
                    action.as_str(),
                    "schedule" | "unschedule" | "schedule_skipped"
                )
            })
            .map(|_| "scheduled".to_string()),
        recorded_at: recorded.map(to_rfc3339),
        at_ms: at,
        recorded_ms: recorded,
    })
}

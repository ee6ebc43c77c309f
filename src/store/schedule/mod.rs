//! Actions at a time: an operator's finish, stop, pause, resume, publish,
//! hold or release kept with its time (`--at`), listed, taken back, and
//! carried out by the engine (`run.rs`) through the same call as the
//! command, as the operator who set it.

mod approvals;
mod run;

pub use run::ScheduledRun;

use sqlx::Row;

use crate::domain::schedule::Intent;
use crate::domain::time::to_rfc3339;
use crate::domain::{AuditAction, Millis};
use crate::store::{Actor, Error, Result, Store};

/// Where a scheduled action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleState {
    /// Waiting for its time.
    Pending,
    /// An engine is carrying it out.
    Running,
    Done,
    /// It could no longer apply at its time (`outcome` says why).
    Skipped,
    /// Taken back (`unschedule`).
    Cancelled,
}

impl ScheduleState {
    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleState::Pending => "pending",
            ScheduleState::Running => "running",
            ScheduleState::Done => "done",
            ScheduleState::Skipped => "skipped",
            ScheduleState::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Result<ScheduleState> {
        [
            ScheduleState::Pending,
            ScheduleState::Running,
            ScheduleState::Done,
            ScheduleState::Skipped,
            ScheduleState::Cancelled,
        ]
        .into_iter()
        .find(|state| state.as_str() == s)
        .ok_or_else(|| Error::Corrupt {
            what: format!("a scheduled action's state {s:?}"),
        })
    }

    /// Whether it is still to happen.
    pub fn is_open(self) -> bool {
        matches!(self, ScheduleState::Pending | ScheduleState::Running)
    }
}

/// One scheduled action, as `scheduled` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheduled {
    pub id: i64,
    pub due_at: Millis,
    /// `stop`, `pause`, `hold`...
    pub verb: String,
    /// `stop sale v2`, `hold webhook:crm`.
    pub what: String,
    pub journey: Option<String>,
    pub version: Option<i64>,
    pub set_by: String,
    pub set_host: String,
    pub set_at: Millis,
    pub reason: Option<String>,
    pub state: ScheduleState,
    pub ended_at: Option<Millis>,
    pub ended_by: Option<String>,
    pub outcome: Option<String>,
}

const COLUMNS: &str = "id, due_at, verb, what, journey, version, set_by, set_host, set_at, reason, \
                       state, ended_at, ended_by, outcome";

impl Store {
    /// Keeps `intent` to be carried out at `due_at` by the engine, audited
    /// (`schedule`) as `actor`. A version left to be "the live one" is
    /// named now, so the schedule acts on the version the operator saw.
    pub async fn schedule(
        &self,
        intent: Intent,
        due_at: Millis,
        actor: &Actor,
        now: Millis,
    ) -> Result<Scheduled> {
        actor.refuse_control()?;
        if let Some(r) = intent.reason() {
            crate::domain::text::refuse_bad_reason(r).map_err(Error::Invalid)?;
        }
        if due_at <= now {
            return Err(Error::Invalid(format!(
                "{} is not ahead: act now without --at",
                to_rfc3339(due_at)
            )));
        }
        let intent = self.pinned(intent).await?;
        let kept = serde_json::to_string(&intent).map_err(|e| Error::Invalid(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO scheduled_actions (due_at, verb, what, journey, version, intent, set_by, set_host, \
             set_at, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(due_at)
        .bind(intent.verb())
        .bind(intent.describe())
        .bind(intent.journey())
        .bind(intent.version())
        .bind(&kept)
        .bind(&actor.name)
        .bind(&actor.host)
        .bind(now)
        .bind(intent.reason())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let to = format!("{} at {}", intent.describe(), to_rfc3339(due_at));
        let row = Audited {
            id,
            journey: intent.journey(),
            version: intent.version(),
            subject: subject_of(&intent),
        };
        audit_schedule(
            &mut tx,
            AuditAction::Schedule,
            &row,
            actor,
            now,
            (None, &to),
            intent.reason(),
        )
        .await?;
        tx.commit().await?;
        self.announce_status().await;
        self.scheduled_one(id).await
    }

    /// The scheduled actions still to happen, soonest first; with `all`,
    /// the ended ones too (the newest 500).
    pub async fn scheduled(&self, all: bool) -> Result<Vec<Scheduled>> {
        let sql = if all {
            format!("SELECT {COLUMNS} FROM scheduled_actions ORDER BY id DESC LIMIT 500")
        } else {
            format!(
                "SELECT {COLUMNS} FROM scheduled_actions WHERE state IN ('pending', 'running') \
                 ORDER BY due_at, id"
            )
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        let mut out: Vec<Scheduled> = rows.iter().map(scheduled_of).collect::<Result<_>>()?;
        if all {
            out.sort_by_key(|s| (!s.state.is_open(), s.due_at, s.id));
        }
        Ok(out)
    }

    async fn scheduled_one(&self, id: i64) -> Result<Scheduled> {
        let sql = format!("SELECT {COLUMNS} FROM scheduled_actions WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| Error::Invalid(format!("no scheduled action {id}")))?;
        scheduled_of(&row)
    }

    /// Takes back a scheduled action that has not run, audited
    /// (`unschedule`). Refused, saying why, once it has run or begun.
    pub async fn unschedule(
        &self,
        id: i64,
        actor: &Actor,
        reason: Option<&str>,
        now: Millis,
    ) -> Result<Scheduled> {
        actor.refuse_control()?;
        if let Some(r) = reason {
            crate::domain::text::refuse_bad_reason(r).map_err(Error::Invalid)?;
        }
        let before = self.scheduled_one(id).await?;
        let mut tx = self.begin_write().await?;
        let taken = sqlx::query(
            "UPDATE scheduled_actions SET state = 'cancelled', ended_at = $1, ended_by = $2 \
             WHERE id = $3 AND state = 'pending'",
        )
        .bind(now)
        .bind(&actor.name)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if taken.rows_affected() == 0 {
            drop(tx);
            let now_is = self.scheduled_one(id).await?;
            return Err(Error::Invalid(format!(
                "scheduled action {id} ({}) cannot be taken back: it is {}",
                now_is.what,
                ended_words(&now_is)
            )));
        }
        let row = Audited {
            id,
            journey: before.journey.as_deref(),
            version: before.version,
            subject: None,
        };
        let from = format!("{} at {}", before.what, to_rfc3339(before.due_at));
        audit_schedule(
            &mut tx,
            AuditAction::Unschedule,
            &row,
            actor,
            now,
            (Some(&from), "cancelled"),
            reason,
        )
        .await?;
        tx.commit().await?;
        self.announce_status().await;
        self.scheduled_one(id).await
    }
}

/// How a scheduled action ended, in words: `done at 23:59:00`, `skipped:
/// ...`, `taken back by bob`, `being carried out`.
pub fn ended_words(s: &Scheduled) -> String {
    let at = s.ended_at.map(to_rfc3339).unwrap_or_default();
    match s.state {
        ScheduleState::Pending => "still pending".into(),
        ScheduleState::Running => "being carried out".into(),
        ScheduleState::Done => format!("done at {at}"),
        ScheduleState::Skipped => format!(
            "skipped at {at}: {}",
            s.outcome.as_deref().unwrap_or("no reason recorded")
        ),
        ScheduleState::Cancelled => format!(
            "taken back by {} at {at}",
            s.ended_by.as_deref().unwrap_or("?")
        ),
    }
}

fn subject_of(intent: &Intent) -> Option<String> {
    match intent {
        Intent::Hold { action, .. } | Intent::Release { action, .. } => {
            Some(format!("action:{action}"))
        }
        _ => None,
    }
}

fn scheduled_of(r: &sqlx::any::AnyRow) -> Result<Scheduled> {
    Ok(Scheduled {
        id: r.try_get("id")?,
        due_at: r.try_get("due_at")?,
        verb: r.try_get("verb")?,
        what: r.try_get("what")?,
        journey: r.try_get("journey")?,
        version: r.try_get("version")?,
        set_by: r.try_get("set_by")?,
        set_host: r.try_get("set_host")?,
        set_at: r.try_get("set_at")?,
        reason: r.try_get("reason")?,
        state: ScheduleState::parse(&r.try_get::<String, _>("state")?)?,
        ended_at: r.try_get("ended_at")?,
        ended_by: r.try_get("ended_by")?,
        outcome: r.try_get("outcome")?,
    })
}

/// What a schedule's audit row names.
struct Audited<'a> {
    id: i64,
    journey: Option<&'a str>,
    version: Option<i64>,
    subject: Option<String>,
}

/// The audit row of a schedule set, taken back or skipped; it names the
/// schedule, which the store's rule on PostgreSQL looks for.
async fn audit_schedule(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    what: AuditAction,
    row: &Audited<'_>,
    actor: &Actor,
    now: Millis,
    (from, to): (Option<&str>, &str),
    reason: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit (at, actor, host, action, journey, version, from_status, to_status, reason, subject, \
         schedule) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(now)
    .bind(&actor.name)
    .bind(&actor.host)
    .bind(what.as_str())
    .bind(row.journey.unwrap_or(""))
    .bind(row.version)
    .bind(from)
    .bind(to)
    .bind(reason.filter(|r| !r.trim().is_empty()))
    .bind(row.subject.as_deref())
    .bind(row.id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

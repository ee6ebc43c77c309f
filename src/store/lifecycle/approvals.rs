//! Four eyes: a store policy (`journeyctl policy --require-approval
//! publish,resume,release`) turns those actions into requests, recorded
//! here when the action is asked for; another operator carries a request
//! out (`Store::approve`, in `schedule/`) through the same call as the
//! command, and its audit row names the request and who asked. On
//! PostgreSQL the database refuses the login that asked
//! (`migrations/postgres/0020`), and refuses those actions without an
//! approval in their transaction.

use sqlx::Row;

use crate::domain::schedule::Intent;
use crate::domain::time::to_rfc3339;
use crate::domain::{Millis, Target};
use crate::store::{Actor, Error, Result, Store};

/// The actions a policy may make ask first: stop, pause, finish, hold and
/// the store-wide brake never wait for anyone.
pub const APPROVABLE: [&str; 3] = ["publish", "resume", "release"];

/// How long a request stays open unless the policy says otherwise.
pub const DEFAULT_EXPIRY_MS: Millis = 3_600_000;

/// The store's four-eyes policy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Policy {
    /// The actions that need another operator's approval.
    pub require_approval: Vec<String>,
    #[serde(skip)]
    pub expiry_ms: Millis,
    /// How long a request stays open (`1h`).
    pub expires_after: String,
}

/// One request, as `approvals` lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Request {
    pub id: i64,
    /// `resume`, `publish` or `release`.
    pub action: String,
    /// `resume sale v2`.
    pub what: String,
    pub journey: Option<String>,
    pub version: Option<i64>,
    pub asked_by: String,
    pub asked_at: String,
    pub expires_at: String,
    pub reason: Option<String>,
    /// `open`, `approved` or `expired`.
    pub state: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
    /// On PostgreSQL, the logins the database recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asked_login: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_login: Option<String>,
    #[serde(skip)]
    pub expires_ms: Millis,
}

const COLUMNS: &str = "id, verb, what, journey, version, asked_by, asked_at, expires_at, reason, \
                       state, approved_by, approved_at, asked_login, approved_login";

impl Store {
    /// The store's policy (nothing needs approval until one is set).
    pub async fn policy(&self) -> Result<Policy> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT name, value FROM store_policy")
            .fetch_all(&self.pool)
            .await?;
        let value = |name: &str| rows.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        let require_approval = value("require_approval")
            .map(|v| verbs_of(&v).map(String::from).collect())
            .unwrap_or_default();
        let expiry_ms = value("approval_expiry_ms")
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_EXPIRY_MS);
        Ok(Policy {
            require_approval,
            expiry_ms,
            expires_after: crate::domain::time::duration_words(std::time::Duration::from_millis(
                expiry_ms.max(0) as u64,
            )),
        })
    }

    /// Sets what needs approval and how long a request stays open,
    /// audited (`policy`).
    pub async fn set_policy(
        &self,
        require: Option<&[String]>,
        expiry_ms: Option<Millis>,
        actor: &Actor,
        now: Millis,
    ) -> Result<Policy> {
        actor.refuse_control()?;
        if let Some(bad) = require
            .unwrap_or_default()
            .iter()
            .find(|a| !APPROVABLE.contains(&a.as_str()))
        {
            return Err(Error::Invalid(format!(
                "{bad:?} cannot need approval: only {} can (a stop, pause, finish, hold or brake never waits)",
                APPROVABLE.join(", ")
            )));
        }
        if expiry_ms.is_some_and(|e| !(60_000..=7 * 86_400_000).contains(&e)) {
            return Err(Error::Invalid("a request stays open from 1m to 7d".into()));
        }
        let before = self.policy().await?;
        let mut tx = self.begin_write().await?;
        let mut set = Vec::new();
        if let Some(r) = require {
            set.push(("require_approval", r.join(",")));
        }
        if let Some(e) = expiry_ms {
            set.push(("approval_expiry_ms", e.to_string()));
        }
        for (name, value) in &set {
            sqlx::query(
                "INSERT INTO store_policy (name, value, set_at, set_by) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value, set_at = excluded.set_at, \
                 set_by = excluded.set_by",
            )
            .bind(name)
            .bind(value)
            .bind(now)
            .bind(&actor.name)
            .execute(&mut *tx)
            .await?;
        }
        let words = |p: &[String], e: Option<Millis>| {
            let what = if p.is_empty() {
                "nothing".to_string()
            } else {
                p.join(",")
            };
            match e {
                Some(e) => format!("approval: {what}, expiring after {}s", e / 1000),
                None => format!("approval: {what}"),
            }
        };
        let from = words(
            &before.require_approval,
            expiry_ms.map(|_| before.expiry_ms),
        );
        let to = words(require.unwrap_or(&before.require_approval), expiry_ms);
        audit_row(
            &mut tx,
            actor,
            now,
            ("policy", None, None),
            (&from, &to),
            None,
        )
        .await?;
        tx.commit().await?;
        self.policy().await
    }

    /// Records the action as a request (its own transaction, once the
    /// action's has ended) and says so: `Err(Requested)`.
    pub(crate) async fn requested<T>(
        &self,
        intent: Intent,
        actor: &Actor,
        now: Millis,
    ) -> Result<T> {
        let policy = self.policy().await?;
        let request = self.request(intent, &policy, actor, now).await?;
        Err(Error::Requested(Box::new(request)))
    }

    /// Records a request, audited (`request`).
    async fn request(
        &self,
        intent: Intent,
        policy: &Policy,
        actor: &Actor,
        now: Millis,
    ) -> Result<Request> {
        actor.refuse_control()?;
        let intent = self.pinned(intent).await?;
        let kept = serde_json::to_string(&intent).map_err(|e| Error::Invalid(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO approval_requests (verb, what, journey, version, intent, asked_by, asked_host, \
             asked_at, expires_at, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(intent.verb())
        .bind(intent.describe())
        .bind(intent.journey())
        .bind(intent.version())
        .bind(&kept)
        .bind(&actor.name)
        .bind(&actor.host)
        .bind(now)
        .bind(now + policy.expiry_ms)
        .bind(intent.reason())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let to = format!("{} waits for approval (#{id})", intent.describe());
        let row = ("request", intent.journey(), intent.version());
        audit_row(&mut tx, actor, now, row, ("-", &to), intent.reason()).await?;
        tx.commit().await?;
        self.announce_status().await;
        self.request_one(id, now).await
    }

    /// The open requests, oldest first; with `all`, the approved and
    /// expired ones too (the newest 500).
    pub async fn approvals(&self, all: bool, now: Millis) -> Result<Vec<Request>> {
        let sql = if all {
            format!("SELECT {COLUMNS} FROM approval_requests ORDER BY id DESC LIMIT 500")
        } else {
            format!(
                "SELECT {COLUMNS} FROM approval_requests WHERE state = 'open' AND expires_at > $1 ORDER BY id"
            )
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if !all {
            q = q.bind(now);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(|r| request_of(r, now)).collect()
    }

    pub(in crate::store) async fn request_one(&self, id: i64, now: Millis) -> Result<Request> {
        let sql = format!("SELECT {COLUMNS} FROM approval_requests WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "no approval request {id} (journeyctl approvals lists them)"
                ))
            })?;
        request_of(&row, now)
    }
}

impl Store {
    /// The intent with "the live version" named by its number (when the
    /// journey has one now); refused when it names no journey or version
    /// of the store.
    pub(in crate::store) async fn pinned(&self, intent: Intent) -> Result<Intent> {
        match intent {
            Intent::Act(mut a) => {
                match self.preview(&a).await {
                    Ok(impact) => {
                        if let (Target::Version { version, .. }, [only]) =
                            (&mut a.target, impact.versions.as_slice())
                        {
                            *version = Some(only.version);
                        }
                    }
                    // Not allowed now is no reason to refuse a later time
                    // (a resume set before the pause); the run decides.
                    Err(Error::Refused(_)) => {}
                    Err(e) => return Err(e),
                }
                Ok(Intent::Act(a))
            }
            Intent::Publish { ref journey, .. } => match self.publish_preview(journey).await {
                // The draft may be applied before the time.
                Ok(_) | Err(Error::Refused(_) | Error::Invalid(_)) => Ok(intent),
                Err(e) => Err(e),
            },
            Intent::Hold { ref action, .. } | Intent::Release { ref action, .. } => {
                crate::domain::text::refuse_control("--action", action, false)
                    .map_err(Error::Invalid)?;
                Ok(intent)
            }
        }
    }
}

/// Whether the store's policy makes `verb` a request for `actor` (not
/// when it carries an approved one out): read in the action's own
/// transaction, so the action costs one statement more and no connection.
pub(crate) async fn asks_first(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    verb: &str,
    actor: &Actor,
) -> Result<bool> {
    if actor.approval.is_some() {
        return Ok(false);
    }
    let value: Option<String> =
        sqlx::query_scalar("SELECT value FROM store_policy WHERE name = 'require_approval'")
            .fetch_optional(&mut **tx)
            .await?;
    Ok(value.is_some_and(|v| verbs_of(&v).any(|a| a == verb)))
}

/// The verbs of the stored `require_approval` value (comma-separated).
fn verbs_of(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').filter(|s| !s.is_empty())
}

/// Approves the request `actor` carries out, in the action's own
/// transaction, before its audit row (which the store's rule on
/// PostgreSQL checks against it). Refused when approved meanwhile.
pub(crate) async fn approval_done(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    actor: &Actor,
    at: Millis,
) -> Result<()> {
    let Some(approval) = &actor.approval else {
        return Ok(());
    };
    let done = sqlx::query(
        "UPDATE approval_requests SET state = 'done', approved_by = $1, approved_at = $2 \
         WHERE id = $3 AND state = 'open' AND expires_at > $2",
    )
    .bind(&actor.name)
    .bind(at)
    .bind(approval.id)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() > 0 {
        return Ok(());
    }
    // An action of several audit rows (a publish finishes the live
    // version first) approved it at its first.
    let mine: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM approval_requests WHERE id = $1 AND state = 'done' \
         AND approved_by = $2 AND approved_at = $3",
    )
    .bind(approval.id)
    .bind(&actor.name)
    .bind(at)
    .fetch_one(&mut **tx)
    .await?;
    if mine == 0 {
        return Err(Error::Invalid(format!(
            "request {} was approved by someone else meanwhile, or has expired",
            approval.id
        )));
    }
    Ok(())
}

fn request_of(r: &sqlx::any::AnyRow, now: Millis) -> Result<Request> {
    let expires_ms: Millis = r.try_get("expires_at")?;
    let state: String = r.try_get("state")?;
    let state = match state.as_str() {
        "done" => "approved".to_string(),
        _ if expires_ms <= now => "expired".to_string(),
        other => other.to_string(),
    };
    Ok(Request {
        id: r.try_get("id")?,
        action: r.try_get("verb")?,
        what: r.try_get("what")?,
        journey: r.try_get("journey")?,
        version: r.try_get("version")?,
        asked_by: r.try_get("asked_by")?,
        asked_at: to_rfc3339(r.try_get("asked_at")?),
        expires_at: to_rfc3339(expires_ms),
        reason: r.try_get("reason")?,
        state,
        approved_by: r.try_get("approved_by")?,
        approved_at: r
            .try_get::<Option<Millis>, _>("approved_at")?
            .map(to_rfc3339),
        asked_login: r.try_get("asked_login")?,
        approved_login: r.try_get("approved_login")?,
        expires_ms,
    })
}

/// A policy change's or a request's audit row.
async fn audit_row(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    actor: &Actor,
    now: Millis,
    (action, journey, version): (&str, Option<&str>, Option<i64>),
    (from, to): (&str, &str),
    reason: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit (at, actor, host, action, journey, version, from_status, to_status, reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(now)
    .bind(&actor.name)
    .bind(&actor.host)
    .bind(action)
    .bind(journey.unwrap_or(""))
    .bind(version)
    .bind(from)
    .bind(to)
    .bind(reason.filter(|r| !r.trim().is_empty()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

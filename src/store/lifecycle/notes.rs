//! Operators who share a store: a note on a version, and a claim ("alice
//! is on it") until it runs out or is given back. Both are audit rows
//! (append-only, the login recorded on PostgreSQL): `note` with the text,
//! `claim` with its end and reason, `unclaim`.

use crate::domain::time::to_rfc3339;
use crate::domain::{Millis, VersionStatus};
use crate::store::{Actor, Error, Result, Store, VersionInfo};

/// A claim runs out after this long at most.
pub const MOST_CLAIM_MS: Millis = 7 * 24 * 3_600_000;

/// What a note, claim or unclaim was written on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Noted {
    pub journey: String,
    pub version: i64,
    /// Who held the claim before (a claim taken over, an unclaim).
    pub claimed_by: Option<String>,
}

impl Store {
    /// Adds a note to `journey`'s version `version` (default: the live
    /// one, else the newest that ran).
    pub async fn note(
        &self,
        journey: &str,
        version: Option<i64>,
        text: &str,
        actor: &Actor,
        now: Millis,
    ) -> Result<Noted> {
        if text.trim().is_empty() {
            return Err(Error::Invalid("the note is empty".into()));
        }
        crate::domain::text::refuse_control("the note", text, true).map_err(Error::Invalid)?;
        crate::domain::text::refuse_long("the note", text, crate::domain::text::MOST_REASON)
            .map_err(Error::Invalid)?;
        self.team_row(journey, version, actor, now, ("note", None, Some(text)))
            .await
    }

    /// Claims the version for `actor` until `until`, with a reason.
    pub async fn claim_version(
        &self,
        journey: &str,
        version: Option<i64>,
        (until, reason): (Millis, Option<&str>),
        actor: &Actor,
        now: Millis,
    ) -> Result<Noted> {
        if until <= now || until - now > MOST_CLAIM_MS {
            return Err(Error::Invalid(
                "a claim lasts more than nothing, 7 days at most".into(),
            ));
        }
        if let Some(r) = reason {
            crate::domain::text::refuse_bad_reason(r).map_err(Error::Invalid)?;
        }
        let until = to_rfc3339(until);
        self.team_row(
            journey,
            version,
            actor,
            now,
            ("claim", Some(&until), reason),
        )
        .await
    }

    /// Gives a claim back; refused when the version is not claimed.
    pub async fn unclaim_version(
        &self,
        journey: &str,
        version: Option<i64>,
        actor: &Actor,
        now: Millis,
    ) -> Result<Noted> {
        self.team_row(journey, version, actor, now, ("unclaim", None, None))
            .await
    }

    /// Writes one team row (`note`, `claim`, `unclaim`) on the version.
    async fn team_row(
        &self,
        journey: &str,
        version: Option<i64>,
        actor: &Actor,
        now: Millis,
        (action, to, text): (&str, Option<&str>, Option<&str>),
    ) -> Result<Noted> {
        actor.refuse_control()?;
        let mut tx = self.begin_write().await?;
        let versions = super::targets::journey_versions(&mut tx, journey).await?;
        let v = pick(&versions, version).ok_or_else(|| Error::NoSuchVersion {
            journey: journey.to_string(),
            number: version.unwrap_or(0),
            has: versions.iter().map(|v| v.number).collect(),
        })?;
        let claimed_by = claim_holder(&mut tx, journey, v.number, now).await?;
        if action == "unclaim" && claimed_by.is_none() {
            return Err(Error::Invalid(format!(
                "{journey} v{} is not claimed",
                v.number
            )));
        }
        sqlx::query(
            "INSERT INTO audit (at, actor, host, action, journey, version, from_status, to_status, reason) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8)",
        )
        .bind(now)
        .bind(&actor.name)
        .bind(&actor.host)
        .bind(action)
        .bind(journey)
        .bind(v.number)
        .bind(to)
        .bind(text.filter(|t| !t.trim().is_empty()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.announce_status().await;
        Ok(Noted {
            journey: journey.to_string(),
            version: v.number,
            claimed_by,
        })
    }
}

/// The version named, else the live one, else the newest that ran.
fn pick(versions: &[VersionInfo], version: Option<i64>) -> Option<&VersionInfo> {
    match version {
        Some(n) => versions.iter().find(|v| v.number == n),
        None => versions
            .iter()
            .find(|v| v.status == VersionStatus::Live)
            .or_else(|| {
                versions
                    .iter()
                    .rev()
                    .find(|v| v.status != VersionStatus::Draft)
            })
            .or(versions.last()),
    }
}

/// Who holds the version's claim now, if anyone: the latest claim or
/// unclaim row, a claim not yet run out.
async fn claim_holder(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    journey: &str,
    version: i64,
    now: Millis,
) -> Result<Option<String>> {
    let last: Option<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT action, actor, to_status FROM audit WHERE journey = $1 AND version = $2 \
         AND action IN ('claim', 'unclaim') ORDER BY id DESC LIMIT 1",
    )
    .bind(journey)
    .bind(version)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(match last {
        Some((action, by, Some(until))) if action == "claim" => {
            let until = crate::domain::time::parse_rfc3339(&until).unwrap_or(0);
            (until > now).then_some(by)
        }
        _ => None,
    })
}

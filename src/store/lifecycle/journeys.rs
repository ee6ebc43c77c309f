//! Journeys and their versions: apply a definition, publish a draft.

use sqlx::Row;

use crate::domain::{ActionKind, Definition, Millis, VersionStatus};
use crate::store::lifecycle::change::{Change, VersionImpact, Write};
use crate::store::lifecycle::transition::{Transition, transition};
use crate::store::{Actor, Error, Result, Store, VersionInfo};

/// What `apply` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub journey: String,
    pub version: i64,
    /// A new draft, or the newest draft rewritten.
    pub created: bool,
}

impl Store {
    /// Creates the journey or a new draft version of it. When the newest
    /// version is still a draft, that draft is rewritten instead: drafts are
    /// editable, published versions never are.
    pub async fn apply(&self, def: &Definition, actor: &Actor, now: Millis) -> Result<Applied> {
        let json = serde_json::to_string(def).map_err(|e| Error::Invalid(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        let journey_id: i64 = sqlx::query(
            "INSERT INTO journeys (name, goal, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET goal = excluded.goal RETURNING id",
        )
        .bind(&def.name)
        .bind(&def.goal)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let newest = sqlx::query(
            "SELECT id, number, status FROM versions WHERE journey_id = $1 ORDER BY number DESC LIMIT 1",
        )
        .bind(journey_id)
        .fetch_optional(&mut *tx)
        .await?;
        let applied = match newest {
            Some(row) if row.try_get::<String, _>("status")? == "draft" => {
                let id: i64 = row.try_get("id")?;
                sqlx::query(
                    "UPDATE versions SET definition = $2, goal = $3, entry_end_at = $4, \
                     status_at = $5, status_by = $6, status_host = $7 WHERE id = $1 AND status = 'draft'",
                )
                .bind(id)
                .bind(&json)
                .bind(&def.goal)
                .bind(def.entry_end_at)
                .bind(now)
                .bind(&actor.name)
                .bind(&actor.host)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM variants WHERE version_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                insert_variants(&mut tx, id, def).await?;
                Applied {
                    journey: def.name.clone(),
                    version: row.try_get("number")?,
                    created: false,
                }
            }
            newest => {
                let number = match newest {
                    Some(row) => row.try_get::<i64, _>("number")? + 1,
                    None => 1,
                };
                let id: i64 = sqlx::query(
                    "INSERT INTO versions (journey_id, number, status, status_at, status_by, status_host, \
                     goal, definition, entry_end_at, created_at) \
                     VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $3) RETURNING id",
                )
                .bind(journey_id)
                .bind(number)
                .bind(now)
                .bind(&actor.name)
                .bind(&actor.host)
                .bind(&def.goal)
                .bind(&json)
                .bind(def.entry_end_at)
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?;
                insert_variants(&mut tx, id, def).await?;
                Applied {
                    journey: def.name.clone(),
                    version: number,
                    created: true,
                }
            }
        };
        audit_apply(&mut tx, actor, &applied, now).await?;
        tx.commit().await?;
        self.announce_status().await;
        Ok(applied)
    }

    /// Publishes the newest draft; the version that was live is finished in
    /// the same transaction (its participants carry on).
    pub async fn publish(&self, journey: &str, actor: &Actor, now: Millis) -> Result<i64> {
        self.publish_because(journey, actor, None, now).await
    }

    /// [`Store::publish`] with the operator's reason on its audit rows.
    pub async fn publish_because(
        &self,
        journey: &str,
        actor: &Actor,
        reason: Option<&str>,
        now: Millis,
    ) -> Result<i64> {
        if let Some(r) = reason {
            crate::domain::text::refuse_bad_reason(r).map_err(Error::Invalid)?;
        }
        // An operator's action: first in line on SQLite, like a stop.
        let _first = self.operator_first().await?;
        let mut tx = self.begin_write().await?;
        // Four eyes: under the store's policy a publish is a request.
        if super::approvals::asks_first(&mut tx, "publish", actor).await? {
            drop(tx);
            let intent = crate::domain::schedule::Intent::Publish {
                journey: journey.to_string(),
                reason: reason.map(str::to_string),
            };
            return self.requested(intent, actor, now).await;
        }
        let (draft, live) = draft_and_live(&mut tx, journey).await?;
        if let Some(live) = live {
            // The live version is finished by the one transition function;
            // if someone ended it meanwhile, there is nothing left to finish
            // (and their change has its own audit row).
            let replaced = match reason {
                Some(r) => format!("replaced by v{}: {r}", draft.number),
                None => format!("replaced by v{}", draft.number),
            };
            let change = Change::new(actor, Some(&replaced), now);
            let finish = Transition::Act(ActionKind::Finish);
            let w = Write::new(&mut tx, self.backend(), change);
            match transition(w, live.id, finish).await {
                Ok(_) | Err(Error::Refused(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let change = Change::new(actor, reason, now);
        let w = Write::new(&mut tx, self.backend(), change);
        transition(w, draft.id, Transition::Publish).await?;
        tx.commit().await?;
        self.announce_status().await;
        Ok(draft.number)
    }

    /// What publishing the journey's newest draft would do: the live
    /// version it finishes (its active participants carry on to the end)
    /// and what the draft changes; or why it would be refused.
    pub async fn publish_preview(&self, journey: &str) -> Result<PublishImpact> {
        let mut conn = self.pool.acquire().await?;
        let (draft, live) = draft_and_live(&mut conn, journey).await?;
        let finishes = match &live {
            Some(v) => {
                let (active, pending): (i64, i64) =
                    sqlx::query_as("SELECT active, msg_pending FROM versions WHERE id = $1")
                        .bind(v.id)
                        .fetch_one(&mut *conn)
                        .await?;
                Some(VersionImpact::of(v, active, pending))
            }
            None => None,
        };
        let differences = match &live {
            Some(v) => crate::domain::differences::differences(&v.definition, &draft.definition),
            None => Vec::new(),
        };
        Ok(PublishImpact {
            journey: journey.to_string(),
            draft: draft.number,
            finishes,
            differences,
        })
    }
}

/// What a publish would do (see [`Store::publish_preview`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishImpact {
    pub journey: String,
    /// The draft that goes live.
    pub draft: i64,
    /// The live version it finishes, with its active participants and
    /// pending messages (they carry on).
    pub finishes: Option<VersionImpact>,
    /// The draft's differences in steps and actions from that version, a
    /// line each.
    pub differences: Vec<String>,
}

/// The journey's newest draft and its live version, or why there is
/// nothing to publish.
async fn draft_and_live(
    conn: &mut sqlx::AnyConnection,
    journey: &str,
) -> Result<(VersionInfo, Option<VersionInfo>)> {
    // Oldest first; never empty (an unknown journey is refused).
    let versions = crate::store::lifecycle::targets::journey_versions(conn, journey).await?;
    let Some(draft) = versions
        .iter()
        .rev()
        .find(|v| v.status == VersionStatus::Draft)
    else {
        let Some(newest) = versions.last() else {
            return Err(Error::UnknownJourney(journey.to_string()));
        };
        return Err(Error::Refused(crate::store::Refusal::NoDraft {
            journey: journey.to_string(),
            newest: newest.number,
            status: newest.status_story(),
        }));
    };
    let live = versions
        .iter()
        .rev()
        .find(|v| v.status == VersionStatus::Live)
        .cloned();
    Ok((draft.clone(), live))
}

/// Every write an operator makes leaves an audit row: a draft made (from
/// nothing) or rewritten (from draft).
async fn audit_apply(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    actor: &Actor,
    applied: &Applied,
    now: Millis,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit (at, actor, host, action, journey, version, from_status, to_status) \
         VALUES ($1, $2, $3, 'apply', $4, $5, $6, 'draft')",
    )
    .bind(now)
    .bind(&actor.name)
    .bind(&actor.host)
    .bind(&applied.journey)
    .bind(applied.version)
    .bind((!applied.created).then_some("draft"))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_variants(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    version_id: i64,
    def: &Definition,
) -> Result<()> {
    if let Some((_, split)) = def.split() {
        for (pos, v) in split.variants.iter().enumerate() {
            sqlx::query(
                "INSERT INTO variants (version_id, test, name, position) VALUES ($1, $2, $3, $4)",
            )
            .bind(version_id)
            .bind(&split.test)
            .bind(&v.name)
            .bind(pos as i64)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

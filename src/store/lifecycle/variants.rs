//! A/B by hand: an operator disables one arm of a version's test (new
//! entries go to the others by their weights) or picks its winner
//! (everyone new gets it), audited and kept apart from the engine's
//! statistical decisions, which stop for that test.

use sqlx::Row;

use crate::domain::{Millis, VersionStatus};
use crate::store::{Actor, Error, Result, Store, VersionInfo};

/// What an operator chooses for one arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariantChoice {
    /// No new participant goes to it.
    Disable,
    /// Every new participant goes to it.
    Winner,
}

impl VariantChoice {
    pub fn as_str(self) -> &'static str {
        match self {
            VariantChoice::Disable => "disabled",
            VariantChoice::Winner => "winner",
        }
    }
}

/// A choice made: on which version, and every arm's count at that moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantChosen {
    pub journey: String,
    pub version: i64,
    pub test: String,
    pub variant: String,
    pub choice: VariantChoice,
    pub assigned: Vec<(String, i64)>,
}

impl Store {
    /// Disables `variant` of the test of `journey`'s version `version`
    /// (default: the live one), or picks it as the winner, audited
    /// (`variant`). Refused on a version that takes no one through its
    /// split any more, for an arm it does not have, once a winner is
    /// decided (by the engine or by hand), and for the last arm left.
    #[allow(clippy::too_many_arguments)]
    pub async fn choose_variant(
        &self,
        journey: &str,
        version: Option<i64>,
        variant: &str,
        choice: VariantChoice,
        actor: &Actor,
        reason: Option<&str>,
        now: Millis,
    ) -> Result<VariantChosen> {
        actor.refuse_control()?;
        if let Some(r) = reason {
            crate::domain::text::refuse_bad_reason(r).map_err(Error::Invalid)?;
        }
        let _first = self.operator_first().await?;
        let mut tx = self.begin_write().await?;
        let v = chosen_version(&mut tx, self.backend(), journey, version).await?;
        let test = refuse_choice(&mut tx, &v, variant, choice).await?;
        let assigned =
            record_choice(&mut tx, &v, (&test, variant, choice), actor, reason, now).await?;
        tx.commit().await?;
        self.announce_status().await;
        Ok(VariantChosen {
            journey: journey.to_string(),
            version: v.number,
            test,
            variant: variant.to_string(),
            choice,
            assigned,
        })
    }
}

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// The version named (default: the live one), locked; refused unless
/// participants still run through it.
async fn chosen_version(
    tx: &mut Tx,
    backend: crate::store::Backend,
    journey: &str,
    version: Option<i64>,
) -> Result<VersionInfo> {
    let versions = super::targets::journey_versions(tx, journey).await?;
    let v = match version {
        Some(n) => versions.iter().find(|v| v.number == n),
        None => versions.iter().find(|v| v.status == VersionStatus::Live),
    }
    .ok_or_else(|| Error::NoSuchVersion {
        journey: journey.to_string(),
        number: version.unwrap_or(0),
        has: versions.iter().map(|v| v.number).collect(),
    })?;
    crate::store::order::lock_running_version(tx, backend, v.id)
        .await?
        .ok_or_else(|| {
            Error::Invalid(format!(
                "{journey} v{} is {}: nobody reaches its split any more",
                v.number, v.status
            ))
        })
}

/// The test's name, unless the choice cannot be made: no such arm, a
/// winner decided, the arm already disabled, or the last arm left.
async fn refuse_choice(
    tx: &mut Tx,
    v: &VersionInfo,
    variant: &str,
    choice: VariantChoice,
) -> Result<String> {
    let journey = &v.journey;
    let Some((_, split)) = v.definition.split() else {
        return Err(Error::Invalid(format!(
            "{journey} v{} has no A/B test",
            v.number
        )));
    };
    if !split.variants.iter().any(|x| x.name == variant) {
        let names: Vec<&str> = split.variants.iter().map(|x| x.name.as_str()).collect();
        return Err(Error::Invalid(format!(
            "{journey} v{}'s test {} has no arm {variant:?} (it has {})",
            v.number,
            split.test,
            names.join(", ")
        )));
    }
    refuse_when_decided(tx, v.id, &split.test).await?;
    let disabled: Vec<String> =
        sqlx::query_scalar("SELECT variant FROM variant_choices WHERE version_id = $1")
            .bind(v.id)
            .fetch_all(&mut **tx)
            .await?;
    if disabled.iter().any(|d| d == variant) {
        return Err(Error::Invalid(format!("{variant} is already disabled")));
    }
    let left = split
        .variants
        .iter()
        .filter(|x| !disabled.contains(&x.name) && x.name != variant && x.weight > 0)
        .count();
    if choice == VariantChoice::Disable && left == 0 {
        return Err(Error::Invalid(format!(
            "{variant} is the last arm left: pick a winner, or stop the journey"
        )));
    }
    Ok(split.test.clone())
}

/// Records the choice with every arm's count now, and its audit row;
/// the counts.
async fn record_choice(
    tx: &mut Tx,
    v: &VersionInfo,
    (test, variant, choice): (&str, &str, VariantChoice),
    actor: &Actor,
    reason: Option<&str>,
    now: Millis,
) -> Result<Vec<(String, i64)>> {
    let assigned: Vec<(String, i64)> = sqlx::query_as(
        "SELECT name, assigned FROM variants WHERE version_id = $1 ORDER BY position",
    )
    .bind(v.id)
    .fetch_all(&mut **tx)
    .await?;
    let then: serde_json::Map<String, serde_json::Value> = assigned
        .iter()
        .map(|(n, a)| (n.clone(), serde_json::Value::from(*a)))
        .collect();
    sqlx::query(
        "INSERT INTO variant_choices (version_id, test, variant, choice, set_by, set_at, reason, assigned_then) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(v.id)
    .bind(test)
    .bind(variant)
    .bind(choice.as_str())
    .bind(&actor.name)
    .bind(now)
    .bind(reason)
    .bind(serde_json::Value::Object(then).to_string())
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO audit (at, actor, host, action, journey, version, from_status, to_status, reason, subject) \
         VALUES ($1, $2, $3, 'variant', $4, $5, $6, $7, $8, $9)",
    )
    .bind(now)
    .bind(&actor.name)
    .bind(&actor.host)
    .bind(&v.journey)
    .bind(v.number)
    .bind(format!("test {test}"))
    .bind(format!("{variant} {}", choice.as_str()))
    .bind(reason.filter(|r| !r.trim().is_empty()))
    .bind(format!("variant:{test}/{variant}"))
    .execute(&mut **tx)
    .await?;
    Ok(assigned)
}

/// Refused once the test has a winner, the engine's or an operator's.
async fn refuse_when_decided(tx: &mut Tx, id: i64, test: &str) -> Result<()> {
    let decided: Option<String> =
        sqlx::query_scalar("SELECT winner FROM ab_decisions WHERE version_id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    if let Some(w) = decided {
        return Err(Error::Invalid(format!(
            "test {test} is decided: {w} won (a statistical result); everyone new already gets {w}"
        )));
    }
    let by_hand = sqlx::query(
        "SELECT variant, set_by FROM variant_choices WHERE version_id = $1 AND choice = 'winner'",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(r) = by_hand {
        let (w, by): (String, String) = (r.try_get("variant")?, r.try_get("set_by")?);
        return Err(Error::Invalid(format!(
            "test {test} is decided: {w} chosen by {by}; everyone new already gets {w}"
        )));
    }
    Ok(())
}

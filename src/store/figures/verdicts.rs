//! The engine's looks at A/B tests: each batch that changes a test's
//! counts folds one more look into the running figures, and stores the
//! first winner they give (SPEC §3 "What a live test shows"), unless the
//! split's counts are too far from its weights (a sample ratio mismatch).

use sqlx::{Any, Row, Transaction};

use crate::domain::Millis;
use crate::domain::abtest::{Arm, Verdict, VerdictKind, decide, fold_look, look, look_counts};
use crate::domain::srm::check_split;
use crate::store::Result;

/// The engine's look at each touched version's test, in the transaction
/// whose change produced the counts: once the counts allow a look
/// ([`look_counts`]), folds this look's figures into the running ones it
/// keeps, and stores the first `winner` verdict they give (with those
/// figures). Once a decision is stored, nothing here changes.
pub(crate) async fn check_verdicts(
    tx: &mut Transaction<'static, Any>,
    versions: &[i64],
    at: Millis,
) -> Result<()> {
    for &id in versions {
        let decided = sqlx::query("SELECT winner FROM ab_decisions WHERE version_id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        // An operator's choice by hand ends the engine's looks: its
        // figures are no longer those of the test as designed.
        let by_hand = sqlx::query("SELECT variant FROM variant_choices WHERE version_id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
        if decided.is_some() || by_hand.is_some() {
            continue;
        }
        let def: String = sqlx::query("SELECT definition FROM versions WHERE id = $1")
            .bind(id)
            .fetch_one(&mut **tx)
            .await?
            .try_get("definition")?;
        let def: crate::domain::Definition = serde_json::from_str(&def).map_err(|e| {
            crate::store::Error::Invalid(format!("stored definition is unreadable: {e}"))
        })?;
        let Some((_, split)) = def.split() else {
            continue;
        };
        let arms = arms_of(tx, id).await?;
        if !look_counts(&arms, split.min_per_variant) {
            continue;
        }
        let kept = sqlx::query("SELECT pairs FROM ab_running WHERE version_id = $1 AND test = $2")
            .bind(id)
            .bind(&split.test)
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| r.try_get::<String, _>("pairs"))
            .transpose()?
            .map(|text| stored_pairs(&text))
            .transpose()?
            .unwrap_or_default();
        let running = fold_look(&kept, look(&arms, split.expected_participants));
        let pairs_json = serde_json::to_string(&running).unwrap_or_default();
        sqlx::query(
            "INSERT INTO ab_running (version_id, test, looks, looked_at, pairs) VALUES ($1, $2, 1, $3, $4) \
             ON CONFLICT (version_id, test) DO UPDATE SET looks = ab_running.looks + 1, \
             looked_at = excluded.looked_at, pairs = excluded.pairs",
        )
        .bind(id)
        .bind(&split.test)
        .bind(at)
        .bind(&pairs_json)
        .execute(&mut **tx)
        .await?;
        let v = decide(&arms, running, split.min_per_variant);
        // A split whose counts are far from its weights (SRM) is suspect:
        // every verdict on it is, so none is stored while it is marked.
        let counts: Vec<(String, u64)> = arms
            .iter()
            .map(|a| (a.name.clone(), a.participants))
            .collect();
        if v.verdict == VerdictKind::Winner && !check_split(split, &counts).marked() {
            store_decision(tx, id, &split.test, &arms, &v, at).await?;
        }
    }
    Ok(())
}

/// The test's variants with their counts, in definition order.
async fn arms_of(tx: &mut Transaction<'static, Any>, id: i64) -> Result<Vec<Arm>> {
    let rows = sqlx::query(
        "SELECT name, assigned, converted FROM variants WHERE version_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Arm::new(
                r.try_get::<String, _>("name")?,
                r.try_get::<i64, _>("converted")?.max(0) as u64,
                r.try_get::<i64, _>("assigned")?.max(0) as u64,
            ))
        })
        .collect::<Result<Vec<_>>>()
}

/// Stores the first winner of a test with the figures it was decided on
/// (a later one for the same test changes nothing).
async fn store_decision(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    test: &str,
    arms: &[Arm],
    v: &Verdict,
    at: Millis,
) -> Result<()> {
    let Some(winner) = v.winner.clone() else {
        return Ok(());
    };
    let figures = serde_json::to_string(&serde_json::json!({
        "variants": arms.iter().map(|a| serde_json::json!({
            "name": a.name, "assigned": a.participants, "converted": a.converted
        })).collect::<Vec<_>>(),
        "pairs": v.pairs,
    }))
    .unwrap_or_default();
    sqlx::query(
        "INSERT INTO ab_decisions (version_id, test, winner, decided_at, p_value, figures) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (version_id, test) DO NOTHING",
    )
    .bind(id)
    .bind(test)
    .bind(&winner)
    .bind(at)
    .bind(v.p_value.unwrap_or(1.0))
    .bind(figures)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Pairs' figures as the engine stores them (JSON).
pub(crate) fn stored_pairs(text: &str) -> Result<Vec<crate::domain::abtest::PairResult>> {
    serde_json::from_str(text).map_err(|e| crate::store::Error::Corrupt {
        what: format!("stored A/B figures are unreadable: {e}"),
    })
}

/// How a version's split assigns people now: the winner (the engine's
/// decision, else an operator's by hand) and the arms an operator
/// disabled. The engine's walk and the send forecast both read it.
pub(crate) async fn split_rule(
    conn: &mut sqlx::AnyConnection,
    version_id: i64,
) -> Result<(Option<String>, Vec<String>)> {
    let decided: Option<String> =
        sqlx::query_scalar("SELECT winner FROM ab_decisions WHERE version_id = $1")
            .bind(version_id)
            .fetch_optional(&mut *conn)
            .await?;
    let chosen: Vec<(String, String)> =
        sqlx::query_as("SELECT variant, choice FROM variant_choices WHERE version_id = $1")
            .bind(version_id)
            .fetch_all(&mut *conn)
            .await?;
    let by_hand = chosen
        .iter()
        .find(|(_, c)| c == "winner")
        .map(|(v, _)| v.clone());
    let disabled = chosen
        .into_iter()
        .filter(|(_, c)| c == "disabled")
        .map(|(v, _)| v)
        .collect();
    Ok((decided.or(by_hand), disabled))
}

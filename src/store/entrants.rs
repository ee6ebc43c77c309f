//! The set-wise checks and the insert of one run of entries: who a
//! segment keeps out, who is active in another version, who got in.

use std::collections::HashMap;

use sqlx::{Any, Row, Transaction};

use super::ingest::placeholders;
use super::{Backend, Result, VersionInfo};
use crate::domain::Millis;

/// Which of `profiles` the version's exclusion or exit segment keeps out,
/// and why (`excluded` wins over `suppressed`).
pub(super) async fn refused_by_segments<'p>(
    tx: &mut Transaction<'static, Any>,
    def: &crate::domain::Definition,
    profiles: &[&'p str],
) -> Result<HashMap<&'p str, &'static str>> {
    let mut refused: HashMap<&str, &'static str> = HashMap::new();
    if def.exclusion_segment.is_none() && def.exit_segment.is_none() {
        return Ok(refused);
    }
    let sql = format!(
        "SELECT profile, segment FROM segment_members WHERE (segment = $1 OR segment = $2) AND profile IN ({})",
        placeholders(3, profiles.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&def.exclusion_segment)
        .bind(&def.exit_segment);
    for p in profiles {
        q = q.bind(*p);
    }
    for row in q.fetch_all(&mut **tx).await? {
        let p: String = row.try_get("profile")?;
        let seg: String = row.try_get("segment")?;
        let Some(key) = profiles.iter().find(|x| **x == p) else {
            continue;
        };
        if def.exclusion_segment.as_deref() == Some(seg.as_str()) {
            refused.insert(key, "excluded");
        } else {
            refused.entry(key).or_insert("suppressed");
        }
    }
    Ok(refused)
}

/// Which of `profiles` are active in another running version of the
/// journey (ask only when another version runs).
pub(super) async fn active_elsewhere<'p>(
    tx: &mut Transaction<'static, Any>,
    v: &VersionInfo,
    profiles: &[&'p str],
) -> Result<Vec<&'p str>> {
    let sql = format!(
        "SELECT DISTINCT p.profile FROM participants p JOIN versions v ON v.id = p.version_id \
         WHERE p.journey_id = $1 AND p.version_id <> $2 AND p.state = 'active' AND v.status <> 'stopped' \
         AND p.profile IN ({})",
        placeholders(3, profiles.len())
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(v.journey_id)
        .bind(v.id);
    for p in profiles {
        q = q.bind(*p);
    }
    let mut out = Vec::new();
    for row in q.fetch_all(&mut **tx).await? {
        let p: String = row.try_get("profile")?;
        if let Some(key) = profiles.iter().find(|x| **x == p) {
            out.push(*key);
        }
    }
    Ok(out)
}

/// Inserts the entrants (profile, entry time) in one statement (the rows
/// as one JSON parameter); the profiles really inserted (not there
/// already).
pub(super) async fn insert_entrants(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    v: &VersionInfo,
    entrants: &[(&str, Millis)],
) -> Result<std::collections::HashSet<String>> {
    #[derive(serde::Serialize)]
    struct Entrant<'a> {
        profile: &'a str,
        at: Millis,
    }
    let rows: Vec<Entrant> = entrants
        .iter()
        .map(|(profile, at)| Entrant { profile, at: *at })
        .collect();
    let json = super::moves::batch_json(&rows)?;
    let source = backend.json_rows(3, &[("profile", "TEXT"), ("at", "BIGINT")]);
    // Only the backend's fixed row-source text is formatted in. (`WHERE
    // true` tells SQLite the ON CONFLICT is the insert's, not a join's.)
    let sql = format!(
        "INSERT INTO participants (version_id, journey_id, profile, state, step, due_at, entered_at, updated_at) \
         SELECT $1, $2, v.profile, 'active', 0, v.at, v.at, v.at FROM {source} \
         WHERE true ON CONFLICT (version_id, profile) DO NOTHING RETURNING profile"
    );
    Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(v.id)
        .bind(v.journey_id)
        .bind(json)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.try_get("profile"))
        .collect::<std::result::Result<_, _>>()?)
}

//! Which versions an operator action is about: one version, every version
//! of a journey, every version that uses an action, every version of the
//! store, or those a store-wide brake paused, each checked against the
//! rules, or why the action is refused.

use crate::domain::{ActionKind, VersionStatus};
use crate::store::lifecycle::change::{hold_refusal, refusal};
use crate::store::{
    Error, OperatorAction, Refusal, Result, Target, VersionInfo, select_version_info, version_info,
};

/// The versions an action is about, each checked against the rules; or
/// why it is refused.
pub(crate) async fn resolve(
    conn: &mut sqlx::AnyConnection,
    action: &OperatorAction,
) -> Result<Vec<VersionInfo>> {
    let kind = action.kind;
    match &action.target {
        Target::Version { journey, version } => {
            Ok(vec![one_version(conn, kind, journey, *version).await?])
        }
        Target::AllVersions { journey } => all_versions(conn, kind, journey).await,
        Target::UsesAction { action: name } => using_action(conn, kind, name).await,
        Target::Store { .. } => in_store(conn, kind, None).await,
        Target::Incident { id } => in_store(conn, kind, Some(id)).await,
        Target::Journeys { journeys } => {
            let mut out: Vec<VersionInfo> = Vec::with_capacity(journeys.len());
            for (journey, version) in journeys {
                let v = one_version(conn, kind, journey, *version).await?;
                if !out.iter().any(|o| o.id == v.id) {
                    out.push(v);
                }
            }
            Ok(out)
        }
    }
}

/// `--all`: every version of the store the action applies to; with an
/// incident, those it paused (`--incident ID`).
async fn in_store(
    conn: &mut sqlx::AnyConnection,
    kind: ActionKind,
    incident: Option<&str>,
) -> Result<Vec<VersionInfo>> {
    let rows = sqlx::query(concat!(
        select_version_info!(),
        "WHERE v.status IN ('live', 'finished') AND ($1 IS NULL OR v.paused_incident = $1) \
         ORDER BY v.id"
    ))
    .bind(incident)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let v = version_info(row)?;
        if applies(kind, &v) {
            out.push(v);
        }
    }
    if out.is_empty() {
        return Err(Error::Refused(Refusal::NoneInStore {
            verb: kind.verb(),
            candidates: candidates(kind),
            incident: incident.map(str::to_string),
        }));
    }
    Ok(out)
}

/// `JOURNEY [--version N]`: that version, or the live one.
async fn one_version(
    conn: &mut sqlx::AnyConnection,
    kind: ActionKind,
    journey: &str,
    version: Option<i64>,
) -> Result<VersionInfo> {
    let all = journey_versions(conn, journey).await?;
    let chosen = match version {
        Some(n) => all
            .iter()
            .find(|v| v.number == n)
            .ok_or_else(|| Error::NoSuchVersion {
                journey: journey.to_string(),
                number: n,
                has: all.iter().map(|v| v.number).collect(),
            })?,
        // A resume by name finds the paused version, live or finished
        // (a date rule may have finished it while it was held).
        None if matches!(kind, ActionKind::Resume(_))
            && all
                .iter()
                .any(|v| v.paused.is_some() && v.status.runs_steps()) =>
        {
            all.iter()
                .rev()
                .find(|v| v.paused.is_some() && v.status.runs_steps())
                .ok_or(sqlx::Error::RowNotFound)?
        }
        None => match all.iter().find(|v| v.status == VersionStatus::Live) {
            Some(v) => v,
            None => {
                let story = all
                    .iter()
                    .map(|v| format!("v{} {}", v.number, v.status_story()))
                    .collect::<Vec<_>>()
                    .join("; ");
                return Err(Error::Refused(Refusal::NoLiveVersion {
                    verb: kind.verb(),
                    journey: journey.to_string(),
                    story,
                    may_name_one: kind != ActionKind::Finish,
                }));
            }
        },
    };
    if chosen.status.refusal(kind).is_some() || hold_refusal(chosen, kind).is_some() {
        return Err(refusal(chosen, kind));
    }
    Ok(chosen.clone())
}

/// `--all-versions`: every live or finished version of the journey.
async fn all_versions(
    conn: &mut sqlx::AnyConnection,
    kind: ActionKind,
    journey: &str,
) -> Result<Vec<VersionInfo>> {
    let all = journey_versions(conn, journey).await?;
    let open: Vec<VersionInfo> = all.iter().filter(|v| applies(kind, v)).cloned().collect();
    if open.is_empty() {
        let story = all
            .iter()
            .map(|v| format!("v{} {}", v.number, v.status_story()))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(Error::Refused(Refusal::NoneOpen {
            verb: kind.verb(),
            journey: journey.to_string(),
            candidates: candidates(kind),
            story,
        }));
    }
    Ok(open)
}

/// `--uses-action`: every live or finished version that sends through it.
async fn using_action(
    conn: &mut sqlx::AnyConnection,
    kind: ActionKind,
    name: &str,
) -> Result<Vec<VersionInfo>> {
    if name.trim().is_empty() {
        return Err(Error::Invalid("the action name is empty".into()));
    }
    let rows = sqlx::query(concat!(
        select_version_info!(),
        "WHERE v.status IN ('live', 'finished') ORDER BY v.id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for row in &rows {
        let v = version_info(row)?;
        if applies(kind, &v) && v.definition.uses_action(name) {
            out.push(v);
        }
    }
    if out.is_empty() {
        return Err(Error::Refused(Refusal::NoneUsesAction {
            verb: kind.verb(),
            candidates: candidates(kind),
            action: name.to_string(),
        }));
    }
    Ok(out)
}

/// The versions an action on several can act on, in words.
fn candidates(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Finish => "live",
        ActionKind::Stop => "live or finished",
        ActionKind::Pause(_) => "live or finished and not paused",
        ActionKind::Resume(_) => "paused",
    }
}

/// Whether `kind` can act on the version now (its status, and for a pause
/// or resume its hold).
fn applies(kind: ActionKind, v: &VersionInfo) -> bool {
    VersionStatus::sources(kind).contains(&v.status) && hold_refusal(v, kind).is_none()
}

pub(crate) async fn journey_versions(
    conn: &mut sqlx::AnyConnection,
    journey: &str,
) -> Result<Vec<VersionInfo>> {
    let rows = sqlx::query(concat!(
        select_version_info!(),
        "WHERE j.name = $1 ORDER BY v.number"
    ))
    .bind(journey)
    .fetch_all(&mut *conn)
    .await?;
    if rows.is_empty() {
        return Err(Error::UnknownJourney(journey.to_string()));
    }
    rows.iter().map(version_info).collect()
}

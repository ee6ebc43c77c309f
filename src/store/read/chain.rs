//! `check`'s reading of the audit trail: each version's status and hold
//! must be where a lawful chain of its audited changes ends (rows that
//! change nothing, with no `to`, are not part of it). A version
//! changed by hand (one UPDATE) or a forged row (`publish stopped -> live`)
//! is named.

use std::collections::BTreeMap;

use sqlx::Row;

use crate::store::Result;

/// Where a version stands as its audit rows tell it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Standing {
    status: Option<String>,
    paused: bool,
}

/// One audit row of a version.
#[derive(Clone)]
struct Step {
    id: i64,
    action: String,
    from: Option<String>,
    to: Option<String>,
}

impl Standing {
    /// The standing after `row`, or why the row is not a lawful change.
    /// A pause is an overlay: its row reads `STATUS -> paused`, a resume
    /// `paused -> STATUS`; a stop ends a hold.
    fn after(&self, row: &Step) -> std::result::Result<Standing, String> {
        let (from, to) = (row.from.as_deref(), row.to.as_deref());
        let status = self.status.as_deref();
        let lawful = match (from, to) {
            (Some("paused"), Some("stopped")) if self.paused => {
                return Ok(Standing {
                    status: Some("stopped".into()),
                    paused: false,
                });
            }
            (Some("paused"), Some(back)) if self.paused && Some(back) == status => {
                return Ok(Standing {
                    status: self.status.clone(),
                    paused: false,
                });
            }
            (Some(now), Some("paused"))
                if !self.paused && Some(now) == status && matches!(now, "live" | "finished") =>
            {
                return Ok(Standing {
                    status: self.status.clone(),
                    paused: true,
                });
            }
            _ if from != status => false,
            (None, Some("draft"))
            | (Some("draft"), Some("draft" | "live"))
            | (Some("live"), Some("finished" | "stopped"))
            | (Some("finished"), Some("stopped")) => true,
            _ => false,
        };
        if !lawful {
            return Err(format!(
                "audit row {} ({} {} -> {}) is not a lawful change from {}",
                row.id,
                row.action,
                from.unwrap_or("nothing"),
                to.unwrap_or("nothing"),
                self.words()
            ));
        }
        Ok(Standing {
            status: to.map(str::to_string),
            paused: self.paused && to != Some("stopped"),
        })
    }

    fn words(&self) -> String {
        let status = self.status.as_deref().unwrap_or("nothing");
        if self.paused {
            format!("{status} (paused)")
        } else {
            status.to_string()
        }
    }
}

/// Each version whose status and hold are not where its audit trail
/// ends, or whose trail holds a change the rules never make: one line
/// each, `spring-sale v1: ...` (part of `check`, in its snapshot).
pub(super) async fn chain_differences_on(conn: &mut sqlx::AnyConnection) -> Result<Vec<String>> {
    let versions = sqlx::query(
        "SELECT j.name AS journey, v.number, v.status, \
             CASE WHEN v.paused_at IS NULL THEN 0 ELSE 1 END AS paused \
             FROM versions v JOIN journeys j ON j.id = v.journey_id ORDER BY j.name, v.number",
    )
    .fetch_all(&mut *conn)
    .await?;
    let rows = sqlx::query(
        "SELECT id, journey, version, action, from_status, to_status FROM audit \
             WHERE version IS NOT NULL AND to_status IS NOT NULL \
             AND action NOT IN ('schedule', 'unschedule', 'schedule_skipped', 'variant', 'note', 'claim', 'unclaim', 'request', 'policy') ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut trails: BTreeMap<(String, i64), Vec<Step>> = BTreeMap::new();
    for r in &rows {
        trails
            .entry((r.try_get("journey")?, r.try_get("version")?))
            .or_default()
            .push(Step {
                id: r.try_get("id")?,
                action: r.try_get("action")?,
                from: r.try_get("from_status")?,
                to: r.try_get("to_status")?,
            });
    }
    let mut problems = Vec::new();
    for v in &versions {
        let (journey, number): (String, i64) = (v.try_get("journey")?, v.try_get("number")?);
        let actual = Standing {
            status: Some(v.try_get("status")?),
            paused: v.try_get::<i64, _>("paused")? == 1,
        };
        let trail = trails
            .remove(&(journey.clone(), number))
            .unwrap_or_default();
        if let Some(why) = chain_problem(&trail, &actual) {
            problems.push(format!("{journey} v{number}: {why}"));
        }
    }
    problems.extend(overdue_differences_on(conn).await?);
    Ok(problems)
}

/// A resume's choice for overdue messages waits in the version row until
/// the next delivery claim applies it: it must be what the resume's audit
/// row says, and reach no time ahead (a choice rewritten by hand, `skip`
/// until the year 3000, would cancel what the row says it sends).
async fn overdue_differences_on(conn: &mut sqlx::AnyConnection) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT j.name AS journey, v.number, v.overdue_mode, v.overdue_before, v.overdue_spread_ms, \
         (SELECT a.overdue FROM audit a WHERE a.journey = j.name AND a.version = v.number \
            AND a.action = 'resume' ORDER BY a.id DESC LIMIT 1) AS said \
         FROM versions v JOIN journeys j ON j.id = v.journey_id \
         WHERE v.overdue_mode IS NOT NULL ORDER BY j.name, v.number",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let label = format!(
            "{} v{}",
            r.try_get::<String, _>("journey")?,
            r.try_get::<i64, _>("number")?
        );
        let mode: String = r.try_get("overdue_mode")?;
        let kept = match mode.as_str() {
            "skip" => crate::domain::Overdue::Skip.words(),
            "spread" => {
                let ms: Option<i64> = r.try_get("overdue_spread_ms")?;
                crate::domain::Overdue::Spread(ms.unwrap_or(0)).words()
            }
            other => other.to_string(),
        };
        let said: Option<String> = r.try_get("said")?;
        let before: Option<i64> = r.try_get("overdue_before")?;
        // A resume marks the messages due before its own time: never a
        // time ahead (five minutes allow for clocks apart).
        let ahead = crate::domain::time::now_millis() + 5 * 60_000;
        if said.as_deref() != Some(kept.as_str()) {
            out.push(format!(
                "{label}: its overdue messages wait to be handled as {kept}, but its resume's audit row says {} (changed without an audited change)",
                said.as_deref().unwrap_or("nothing")
            ));
        } else if let Some(before) = before.filter(|b| *b > ahead) {
            out.push(format!(
                "{label}: its overdue choice ({kept}) reaches to {}, a time no resume has reached (changed without an audited change)",
                crate::domain::time::to_rfc3339(before)
            ));
        }
    }
    Ok(out)
}

/// Why a version's trail does not end where it stands, if it does not.
/// A trail that does not start with its creation (a store from before
/// creations were audited) starts where its first row says.
fn chain_problem(trail: &[Step], actual: &Standing) -> Option<String> {
    let Some(first) = trail.first() else {
        return (actual.status.as_deref() != Some("draft") || actual.paused)
            .then(|| format!("it is {}, and no audit row says how", actual.words()));
    };
    let mut at = Standing {
        status: match first.from.as_deref() {
            Some("paused") => None,
            other => other.map(str::to_string),
        },
        paused: first.from.as_deref() == Some("paused"),
    };
    if at.paused {
        // A trail that starts inside a hold: its status is the resume's.
        at.status = first.to.clone();
    }
    for row in trail {
        match at.after(row) {
            Ok(next) => at = next,
            Err(why) => return Some(why),
        }
    }
    (at != *actual).then(|| {
        format!(
            "it is {}, but its audit trail ends {} (changed without an audited change)",
            actual.words(),
            at.words()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(id: i64, action: &str, from: Option<&str>, to: &str) -> Step {
        Step {
            id,
            action: action.into(),
            from: from.map(str::to_string),
            to: Some(to.into()),
        }
    }

    fn stands(status: &str, paused: bool) -> Standing {
        Standing {
            status: Some(status.into()),
            paused,
        }
    }

    #[test]
    fn lawful_trails_pass_and_forged_ones_are_named() {
        let lawful = [
            step(1, "apply", None, "draft"),
            step(2, "publish", Some("draft"), "live"),
            step(3, "pause", Some("live"), "paused"),
            step(4, "resume", Some("paused"), "live"),
            step(5, "pause", Some("live"), "paused"),
            step(6, "stop", Some("live"), "stopped"),
        ];
        assert_eq!(chain_problem(&lawful, &stands("stopped", false)), None);
        assert_eq!(chain_problem(&lawful[..3], &stands("live", true)), None);
        // One UPDATE revived it: named.
        let why = chain_problem(&lawful, &stands("live", false)).unwrap();
        assert!(
            why.contains("it is live, but its audit trail ends stopped"),
            "{why}"
        );
        // A forged publish stopped -> live: named at its row.
        let mut forged = lawful.to_vec();
        forged.push(step(7, "publish", Some("stopped"), "live"));
        let why = chain_problem(&forged, &stands("live", false)).unwrap();
        assert!(
            why.contains("audit row 7 (publish stopped -> live)"),
            "{why}"
        );
    }
}

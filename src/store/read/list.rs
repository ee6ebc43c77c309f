//! The main list and `list --json`: the version rows' counters, never the
//! participants.

use std::collections::HashMap;

use sqlx::Row;

use super::ab::Tests;
use super::{Counts, Messages, PausedSummary, ScheduleMark, VersionSummary};
use crate::domain::time::to_rfc3339;
use crate::domain::{Millis, VersionStatus};
use crate::store::{Error, Result, Store};

impl Store {
    /// Every version (drafts included when `all`), live ones first, with
    /// their trends up to now.
    pub async fn list(&self, all: bool) -> Result<Vec<VersionSummary>> {
        self.list_at(all, crate::domain::time::now_millis()).await
    }

    /// The same with trends up to `now` (the demo's simulated clock).
    pub async fn list_at(&self, all: bool, now: Millis) -> Result<Vec<VersionSummary>> {
        let mut list = {
            let mut conn = self.pool.acquire().await?;
            let mut list = list_on(&mut conn, all).await?;
            super::team::team_of(&mut conn, &mut list, now).await?;
            if self.backend().is_cluster() {
                let aside = crate::store::figures::aside::aside_counts(&mut conn).await?;
                let (folded, waiting) =
                    crate::store::figures::fold::waiting_for_fold(&mut conn).await?;
                for v in &mut list {
                    v.shares_aside = aside.get(&v.id).copied().unwrap_or(0);
                    if waiting.binary_search(&v.id).is_ok() {
                        // Never folded yet: as of the version's own start.
                        v.as_of_ms = Some(folded.unwrap_or(v.status_at_ms));
                        v.as_of = v.as_of_ms.map(to_rfc3339);
                    }
                }
            }
            list
        };
        let mut recent = self.recent_minutes(now).await?;
        for v in &mut list {
            v.recent = recent.remove(&v.id);
            v.rates = v.recent.as_ref().map(|r| r.rates()).unwrap_or_default();
        }
        Ok(list)
    }
}

/// [`Store::list`] on one connection (or inside a transaction).
pub(super) async fn list_on(
    conn: &mut sqlx::AnyConnection,
    all: bool,
) -> Result<Vec<VersionSummary>> {
    let rows = sqlx::query(
        "SELECT v.id, j.name AS journey, v.number, v.status, v.status_at, v.status_by, v.goal, v.definition, \
         v.entry_end_at, v.entered, v.active, v.completed, v.exited, v.stopped, v.converted, \
         v.msg_pending, v.msg_sent, v.msg_failed, v.msg_cancelled, v.last_activity_at, \
         v.paused_at, v.paused_until, v.paused_on_expiry, v.paused_by, v.paused_incident, \
         CASE WHEN v.status IN ('live', 'finished') AND EXISTS (SELECT 1 FROM outbox_actions a \
           WHERE a.version_id = v.id AND a.last_error_at IS NOT NULL \
           AND (a.last_sent_at IS NULL OR a.last_error_at > a.last_sent_at)) THEN 1 ELSE 0 END AS failing, \
         CASE WHEN v.paused_at IS NOT NULL THEN (SELECT a.reason FROM audit a WHERE a.journey = j.name \
           AND a.version = v.number AND a.action = 'pause' ORDER BY a.id DESC LIMIT 1) END AS paused_reason \
         FROM versions v JOIN journeys j ON j.id = v.journey_id \
         ORDER BY CASE v.status WHEN 'live' THEN 0 WHEN 'finished' THEN 1 WHEN 'stopped' THEN 2 ELSE 3 END, \
         j.name, v.number DESC",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut tests = Tests::read(conn).await?;
    let doubt = Doubt::read(conn).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let status: VersionStatus = r
            .try_get::<String, _>("status")?
            .parse()
            .map_err(|what| Error::Corrupt { what })?;
        if all || status != VersionStatus::Draft {
            out.push(summary(r, status, &mut tests, &doubt)?);
        }
    }
    let held = held_of(conn).await?;
    for v in &mut out {
        v.messages.held = held.get(&v.id).copied().unwrap_or(0);
    }
    marks_of(conn, &mut out).await?;
    Ok(out)
}

/// The actions set for a time on each version: one naming its version on
/// that version, one naming the journey (every version, a publish) on
/// each of the journey's.
async fn marks_of(conn: &mut sqlx::AnyConnection, list: &mut [VersionSummary]) -> Result<()> {
    let rows = sqlx::query(
        "SELECT id, verb, what, due_at, set_by, journey, version FROM scheduled_actions \
         WHERE state IN ('pending', 'running') AND journey IS NOT NULL ORDER BY due_at, id",
    )
    .fetch_all(&mut *conn)
    .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let seen: Option<Millis> = sqlx::query_scalar("SELECT MAX(at) FROM engine_seen")
        .fetch_one(&mut *conn)
        .await?;
    for r in &rows {
        let (journey, version): (String, Option<i64>) =
            (r.try_get("journey")?, r.try_get("version")?);
        let at: Millis = r.try_get("due_at")?;
        let mark = ScheduleMark {
            id: r.try_get("id")?,
            verb: r.try_get("verb")?,
            what: r.try_get("what")?,
            at: to_rfc3339(at),
            by: r.try_get("set_by")?,
            engine_seen: seen.map(to_rfc3339),
            at_ms: at,
            engine_seen_ms: seen,
        };
        for v in list
            .iter_mut()
            .filter(|v| v.journey == journey && version.is_none_or(|n| n == v.version))
        {
            v.scheduled.push(mark.clone());
        }
    }
    Ok(())
}

/// Pending messages of held actions (`journeyctl hold`), per running
/// version.
async fn held_of(conn: &mut sqlx::AnyConnection) -> Result<HashMap<i64, i64>> {
    let holds: Vec<String> = sqlx::query_scalar("SELECT action FROM action_holds")
        .fetch_all(&mut *conn)
        .await?;
    let mut out = HashMap::new();
    if holds.is_empty() {
        return Ok(out);
    }
    let rows: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT a.version_id, a.action, a.pending FROM outbox_actions a \
         JOIN versions v ON v.id = a.version_id \
         WHERE v.status IN ('live', 'finished') AND a.pending > 0",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (id, action, pending) in rows {
        if holds.iter().any(|h| crate::domain::covers(h, &action)) {
            *out.entry(id).or_insert(0) += pending;
        }
    }
    Ok(out)
}

/// One version row as the list shows it.
fn summary(
    r: &sqlx::any::AnyRow,
    status: VersionStatus,
    tests: &mut Tests,
    doubt: &Doubt,
) -> Result<VersionSummary> {
    let id: i64 = r.try_get("id")?;
    let (def, unreadable) = crate::store::read_definition(&r.try_get::<String, _>("definition")?);
    let counts = Counts::from_row(r)?;
    let goal_met = def.goal_met(counts.entered, counts.converted);
    let entry_end: Option<Millis> = r.try_get("entry_end_at")?;
    let last: Option<Millis> = r.try_get("last_activity_at")?;
    let status_at: Millis = r.try_get("status_at")?;
    let mut actions: Vec<String> = def
        .steps
        .iter()
        .flat_map(|s| s.actions())
        .map(str::to_string)
        .collect();
    actions.dedup();
    let paused_reason: Option<String> = r.try_get("paused_reason")?;
    let paused = crate::store::paused_of(r)?.map(|p| PausedSummary {
        since: to_rfc3339(p.since),
        until: to_rfc3339(p.until),
        on_expiry: p.on_expiry.as_str().to_string(),
        by: p.by,
        reason: paused_reason,
        incident: p.incident,
        since_ms: p.since,
        until_ms: p.until,
    });
    Ok(VersionSummary {
        journey: r.try_get("journey")?,
        version: r.try_get("number")?,
        status,
        entry_open: status == VersionStatus::Live && paused.is_none(),
        paused,
        entry_end_at: entry_end.map(to_rfc3339),
        conversion_rate: (counts.entered > 0)
            .then(|| counts.converted as f64 / counts.entered as f64),
        counts,
        messages: messages_of(r, status, doubt.of(id))?,
        ab: tests.take(id, &def),
        unreadable: unreadable.or_else(|| tests.unreadable.remove(&id)),
        shares_aside: 0,
        as_of: None,
        as_of_ms: None,
        goal: r.try_get("goal")?,
        goal_target: def.goal_target,
        goal_met,
        status_at: to_rfc3339(status_at),
        status_by: r.try_get("status_by")?,
        last_activity_at: last.map(to_rfc3339),
        status_at_ms: status_at,
        last_activity_ms: last,
        entry_end_ms: entry_end,
        uses_actions: actions,
        delivery_failing: r.try_get::<i64, _>("failing")? == 1,
        rates: Default::default(),
        recent: None,
        scheduled: Vec::new(),
        claim: None,
        notes: Vec::new(),
        id,
    })
}

/// Messages that may have arrived, per version: `(marked pending, marked
/// cancelled, pending with a claim left unrecorded)`. Two grouped reads
/// through partial indexes, so their cost is the number of such messages,
/// never the outbox's size.
struct Doubt(HashMap<i64, Unsettled>);

/// A version's messages whose fate is in doubt.
#[derive(Debug, Clone, Copy, Default)]
struct Unsettled {
    /// Pending, with an attempt that got no answer.
    flagged: i64,
    /// Cancelled (swept) after such an attempt.
    swept: i64,
    /// Claimed in a stopped version not yet swept (a worker that died
    /// holding them).
    claimed: i64,
}

impl Doubt {
    async fn read(conn: &mut sqlx::AnyConnection) -> Result<Doubt> {
        let mut out: HashMap<i64, Unsettled> = HashMap::new();
        let marked = sqlx::query(
            "SELECT version_id, \
             CAST(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END) AS BIGINT) AS pending, \
             CAST(SUM(CASE WHEN state = 'cancelled' THEN 1 ELSE 0 END) AS BIGINT) AS cancelled \
             FROM outbox WHERE uncertain = 1 GROUP BY version_id",
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in &marked {
            let e = out.entry(r.try_get("version_id")?).or_default();
            (e.flagged, e.swept) = (r.try_get("pending")?, r.try_get("cancelled")?);
        }
        // Only stopped versions not yet swept have such claims to count
        // (the sweep marks them): few versions, each through its index.
        let claimed = sqlx::query(
            "SELECT v.id AS version_id, \
             CAST(SUM(CASE WHEN o.uncertain = 0 AND o.state = 'pending' THEN 1 ELSE 0 END) AS BIGINT) AS n \
             FROM versions v JOIN outbox o ON o.version_id = v.id AND o.claimed_until IS NOT NULL \
             WHERE v.status = 'stopped' AND v.swept = 0 GROUP BY v.id",
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in &claimed {
            out.entry(r.try_get("version_id")?).or_default().claimed = r.try_get("n")?;
        }
        Ok(Doubt(out))
    }

    fn of(&self, id: i64) -> Unsettled {
        self.0.get(&id).copied().unwrap_or_default()
    }
}

/// The version's messages. In a stopped version, pending rows not yet
/// swept are cancelled, and a claim left unrecorded there was a worker
/// that died holding it (a stop commits with none in flight).
fn messages_of(r: &sqlx::any::AnyRow, status: VersionStatus, doubt: Unsettled) -> Result<Messages> {
    let Unsettled {
        flagged,
        swept,
        claimed,
    } = doubt;
    let stopped = status == VersionStatus::Stopped;
    Ok(Messages {
        pending: r.try_get("msg_pending")?,
        sent: r.try_get("msg_sent")?,
        failed: r.try_get("msg_failed")?,
        cancelled: r.try_get("msg_cancelled")?,
        uncertain: if stopped { 0 } else { flagged },
        cancelled_uncertain: if stopped {
            swept + flagged + claimed
        } else {
            swept
        },
        held: 0,
    })
}

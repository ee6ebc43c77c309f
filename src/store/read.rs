//! What the console and `list`, `audit`, `profile` read. The main list reads
//! the version rows' counters and the variant rows: its cost does not grow
//! with the number of participants.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::Row;

use super::{Error, Result, Store, select_version_info, version_info};
use crate::domain::abtest::{Arm, PairResult, VerdictKind, decide};
use crate::domain::time::to_rfc3339;
use crate::domain::{Definition, Millis, VersionStatus};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub entered: i64,
    pub active: i64,
    pub completed: i64,
    pub exited: i64,
    pub stopped: i64,
    pub converted: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Messages {
    pub pending: i64,
    pub sent: i64,
    pub cancelled: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct VariantSummary {
    pub name: String,
    pub assigned: i64,
    pub converted: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AbSummary {
    pub test: String,
    pub variants: Vec<VariantSummary>,
    pub verdict: VerdictKind,
    pub winner: Option<String>,
    pub p_value: Option<f64>,
    pub decided_at: Option<String>,
    /// Per pair (the interval bounds `b - a`): once decided, the decision's
    /// own figures; before, the engine's running ones (the intersection of
    /// every look's confidence sequence, the smallest p-value), which never
    /// widen again. Empty before the engine's first look.
    pub pairs: Vec<PairResult>,
    /// How many times the engine has looked at the test.
    pub looks: i64,
    /// The variants' counts when the winner was decided: what came after
    /// is observed since the decision, not tested.
    pub at_decision: Option<Vec<VariantSummary>>,
}

/// A decision as stored: its figures at the moment it was made.
#[derive(serde::Deserialize)]
struct DecisionFigures {
    variants: Vec<VariantSummary>,
    pairs: Vec<PairResult>,
}

struct Decision {
    winner: String,
    at: Millis,
    p_value: f64,
    figures: DecisionFigures,
}

/// Pairs' figures as the engine stores them (JSON).
pub(crate) fn stored_pairs(text: &str) -> Result<Vec<PairResult>> {
    serde_json::from_str(text)
        .map_err(|e| Error::Invalid(format!("stored A/B figures are unreadable: {e}")))
}

/// One row of the main list and of `list --json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionSummary {
    pub journey: String,
    pub version: i64,
    pub status: VersionStatus,
    pub entry_open: bool,
    pub entry_end_at: Option<String>,
    pub counts: Counts,
    pub conversion_rate: Option<f64>,
    pub messages: Messages,
    pub ab: Option<AbSummary>,
    pub goal: Option<String>,
    pub status_at: String,
    pub status_by: String,
    pub last_activity_at: Option<String>,
    #[serde(skip)]
    pub status_at_ms: Millis,
    #[serde(skip)]
    pub last_activity_ms: Option<Millis>,
    #[serde(skip)]
    pub entry_end_ms: Option<Millis>,
    #[serde(skip)]
    pub uses_actions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub at: String,
    pub actor: String,
    pub host: String,
    pub action: String,
    pub journey: String,
    pub version: Option<i64>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub reason: Option<String>,
    pub affected_active: i64,
    #[serde(skip)]
    pub at_ms: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileEntry {
    pub journey: String,
    pub version: i64,
    pub state: String,
    pub step: i64,
    pub variant: Option<String>,
    pub converted: bool,
    pub converted_at: Option<String>,
    pub exit_reason: Option<String>,
    pub entered_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepCount {
    pub index: i64,
    pub label: String,
    /// Active participants whose next step is this one.
    pub waiting: i64,
}

/// The detail view of one version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionDetail {
    pub summary: VersionSummary,
    pub steps: Vec<StepCount>,
    pub exit_reasons: Vec<(String, i64)>,
}

impl Store {
    /// Every version (drafts included when `all`), live ones first.
    pub async fn list(&self, all: bool) -> Result<Vec<VersionSummary>> {
        let mut conn = self.pool.acquire().await?;
        list_on(&mut conn, all).await
    }
}

/// [`Store::list`] on one connection (or inside a transaction).
async fn list_on(conn: &mut sqlx::AnyConnection, all: bool) -> Result<Vec<VersionSummary>> {
    {
        let rows = sqlx::query(
            "SELECT v.id, j.name AS journey, v.number, v.status, v.status_at, v.status_by, v.goal, v.definition, \
             v.entry_end_at, v.entered, v.active, v.completed, v.exited, v.stopped, v.converted, \
             v.msg_pending, v.msg_sent, v.msg_cancelled, v.last_activity_at \
             FROM versions v JOIN journeys j ON j.id = v.journey_id \
             ORDER BY CASE v.status WHEN 'live' THEN 0 WHEN 'finished' THEN 1 WHEN 'stopped' THEN 2 ELSE 3 END, \
             j.name, v.number DESC",
        )
        .fetch_all(&mut *conn)
        .await?;
        let variant_rows = sqlx::query(
            "SELECT version_id, test, name, assigned, converted FROM variants ORDER BY version_id, position",
        )
        .fetch_all(&mut *conn)
        .await?;
        let decision_rows = sqlx::query(
            "SELECT version_id, winner, decided_at, p_value, figures FROM ab_decisions",
        )
        .fetch_all(&mut *conn)
        .await?;
        let running_rows = sqlx::query("SELECT version_id, looks, pairs FROM ab_running")
            .fetch_all(&mut *conn)
            .await?;
        let mut running: HashMap<i64, (i64, Vec<PairResult>)> = HashMap::new();
        for r in &running_rows {
            running.insert(
                r.try_get("version_id")?,
                (
                    r.try_get("looks")?,
                    stored_pairs(&r.try_get::<String, _>("pairs")?)?,
                ),
            );
        }
        let mut variants: HashMap<i64, Vec<VariantSummary>> = HashMap::new();
        for r in &variant_rows {
            variants
                .entry(r.try_get("version_id")?)
                .or_default()
                .push(VariantSummary {
                    name: r.try_get("name")?,
                    assigned: r.try_get("assigned")?,
                    converted: r.try_get("converted")?,
                });
        }
        let mut decisions: HashMap<i64, Decision> = HashMap::new();
        for r in &decision_rows {
            let figures: DecisionFigures =
                serde_json::from_str(&r.try_get::<String, _>("figures")?).map_err(|e| {
                    Error::Invalid(format!("stored A/B decision is unreadable: {e}"))
                })?;
            decisions.insert(
                r.try_get("version_id")?,
                Decision {
                    winner: r.try_get("winner")?,
                    at: r.try_get("decided_at")?,
                    p_value: r.try_get("p_value")?,
                    figures,
                },
            );
        }
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let status: VersionStatus = r
                .try_get::<String, _>("status")?
                .parse()
                .map_err(Error::Invalid)?;
            if !all && status == VersionStatus::Draft {
                continue;
            }
            let id: i64 = r.try_get("id")?;
            let def: Definition = serde_json::from_str(&r.try_get::<String, _>("definition")?)
                .map_err(|e| Error::Invalid(format!("stored definition is unreadable: {e}")))?;
            let counts = Counts {
                entered: r.try_get("entered")?,
                active: r.try_get("active")?,
                completed: r.try_get("completed")?,
                exited: r.try_get("exited")?,
                stopped: r.try_get("stopped")?,
                converted: r.try_get("converted")?,
            };
            let entry_end: Option<Millis> = r.try_get("entry_end_at")?;
            let last: Option<Millis> = r.try_get("last_activity_at")?;
            let status_at: Millis = r.try_get("status_at")?;
            let ab = def.split().map(|(_, split)| {
                let vs = variants.remove(&id).unwrap_or_default();
                let (looks, kept) = running.remove(&id).unwrap_or_default();
                match decisions.remove(&id) {
                    Some(d) => AbSummary {
                        test: split.test.clone(),
                        variants: vs,
                        verdict: VerdictKind::Winner,
                        winner: Some(d.winner),
                        p_value: Some(d.p_value),
                        decided_at: Some(to_rfc3339(d.at)),
                        pairs: d.figures.pairs,
                        looks,
                        at_decision: Some(d.figures.variants),
                    },
                    None => {
                        let arms: Vec<Arm> = vs
                            .iter()
                            .map(|v| {
                                Arm::new(
                                    &v.name,
                                    v.converted.max(0) as u64,
                                    v.assigned.max(0) as u64,
                                )
                            })
                            .collect();
                        // The engine's running figures: a winner among them
                        // is stored by the engine, in the same transaction,
                        // so until then the verdict here is never `winner`
                        // and every console agrees.
                        let v = decide(&arms, kept, split.min_per_variant);
                        AbSummary {
                            test: split.test.clone(),
                            variants: vs,
                            verdict: if v.verdict == VerdictKind::Winner {
                                VerdictKind::NoWinnerYet
                            } else {
                                v.verdict
                            },
                            winner: None,
                            p_value: if v.pairs.is_empty() { None } else { v.p_value },
                            decided_at: None,
                            pairs: v.pairs,
                            looks,
                            at_decision: None,
                        }
                    }
                }
            });
            let mut actions: Vec<String> = def
                .steps
                .iter()
                .flat_map(|s| s.actions())
                .map(str::to_string)
                .collect();
            actions.dedup();
            out.push(VersionSummary {
                journey: r.try_get("journey")?,
                version: r.try_get("number")?,
                status,
                entry_open: status == VersionStatus::Live,
                entry_end_at: entry_end.map(to_rfc3339),
                conversion_rate: (counts.entered > 0)
                    .then(|| counts.converted as f64 / counts.entered as f64),
                counts,
                messages: Messages {
                    pending: r.try_get("msg_pending")?,
                    sent: r.try_get("msg_sent")?,
                    cancelled: r.try_get("msg_cancelled")?,
                },
                ab,
                goal: r.try_get("goal")?,
                status_at: to_rfc3339(status_at),
                status_by: r.try_get("status_by")?,
                last_activity_at: last.map(to_rfc3339),
                status_at_ms: status_at,
                last_activity_ms: last,
                entry_end_ms: entry_end,
                uses_actions: actions,
            });
        }
        Ok(out)
    }
}

impl Store {
    /// The audit log, newest first; `journey` narrows it to one journey.
    pub async fn audit(&self, journey: Option<&str>, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT at, actor, host, action, journey, version, from_status, to_status, reason, affected_active \
             FROM audit WHERE ($1 IS NULL OR journey = $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(journey)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let at: Millis = r.try_get("at")?;
                Ok(AuditEntry {
                    at: to_rfc3339(at),
                    actor: r.try_get("actor")?,
                    host: r.try_get("host")?,
                    action: r.try_get("action")?,
                    journey: r.try_get("journey")?,
                    version: r.try_get("version")?,
                    from: r.try_get("from_status")?,
                    to: r.try_get("to_status")?,
                    reason: r.try_get("reason")?,
                    affected_active: r.try_get("affected_active")?,
                    at_ms: at,
                })
            })
            .collect()
    }

    /// Where a profile is: one entry per version it entered.
    pub async fn profile(&self, profile: &str) -> Result<Vec<ProfileEntry>> {
        let rows = sqlx::query(
            "SELECT j.name AS journey, v.number, p.state, p.step, p.variant, p.converted_at, p.exit_reason, p.entered_at \
             FROM participants_effective p JOIN versions v ON v.id = p.version_id JOIN journeys j ON j.id = v.journey_id \
             WHERE p.profile = $1 ORDER BY p.entered_at, p.id",
        )
        .bind(profile)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let converted: Option<Millis> = r.try_get("converted_at")?;
                Ok(ProfileEntry {
                    journey: r.try_get("journey")?,
                    version: r.try_get("number")?,
                    state: r.try_get("state")?,
                    step: r.try_get("step")?,
                    variant: r.try_get("variant")?,
                    converted: converted.is_some(),
                    converted_at: converted.map(to_rfc3339),
                    exit_reason: r.try_get("exit_reason")?,
                    entered_at: to_rfc3339(r.try_get("entered_at")?),
                })
            })
            .collect()
    }

    /// The A/B variant a profile got in its newest entry into a journey.
    pub async fn variant_of(&self, journey: &str, profile: &str) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT p.variant FROM participants p JOIN journeys j ON j.id = p.journey_id \
             WHERE p.profile = $1 AND j.name = $2 ORDER BY p.id DESC LIMIT 1",
        )
        .bind(profile)
        .bind(journey)
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => r.try_get("variant")?,
            None => None,
        })
    }

    /// Every version of a journey in detail (newest first).
    pub async fn detail(&self, journey: &str) -> Result<Vec<VersionDetail>> {
        let summaries: Vec<VersionSummary> = self
            .list(true)
            .await?
            .into_iter()
            .filter(|s| s.journey == journey)
            .collect();
        if summaries.is_empty() {
            return Err(Error::Invalid(format!("unknown journey {journey:?}")));
        }
        let rows = sqlx::query(concat!(select_version_info!(), "WHERE j.name = $1"))
            .bind(journey)
            .fetch_all(&self.pool)
            .await?;
        let infos = rows.iter().map(version_info).collect::<Result<Vec<_>>>()?;
        let mut out = Vec::new();
        for summary in summaries {
            let Some(info) = infos.iter().find(|i| i.number == summary.version) else {
                continue;
            };
            let waiting = if info.status == VersionStatus::Stopped {
                Vec::new()
            } else {
                sqlx::query(
                    "SELECT step, COUNT(*) AS n FROM participants WHERE version_id = $1 AND state = 'active' GROUP BY step",
                )
                .bind(info.id)
                .fetch_all(&self.pool)
                .await?
            };
            let mut by_step: HashMap<i64, i64> = HashMap::new();
            for r in &waiting {
                by_step.insert(r.try_get("step")?, r.try_get("n")?);
            }
            let steps = info
                .definition
                .steps
                .iter()
                .enumerate()
                .map(|(i, s)| StepCount {
                    index: i as i64 + 1,
                    label: s.label(),
                    waiting: by_step.get(&(i as i64)).copied().unwrap_or(0),
                })
                .collect();
            let reasons = sqlx::query(
                "SELECT exit_reason, COUNT(*) AS n FROM participants WHERE version_id = $1 AND state = 'exited' \
                 GROUP BY exit_reason ORDER BY n DESC",
            )
            .bind(info.id)
            .fetch_all(&self.pool)
            .await?;
            let exit_reasons = reasons
                .iter()
                .map(|r| {
                    Ok((
                        r.try_get::<Option<String>, _>("exit_reason")?
                            .unwrap_or_default(),
                        r.try_get("n")?,
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            out.push(VersionDetail {
                summary,
                steps,
                exit_reasons,
            });
        }
        out.sort_by_key(|d| std::cmp::Reverse(d.summary.version));
        Ok(out)
    }

    /// Counts recomputed from the rows, per `journey vN`, for checking the
    /// counters: (counts, messages, per-variant assigned/converted).
    pub async fn recount(&self) -> Result<Vec<Tally>> {
        let mut conn = self.pool.acquire().await?;
        recount_on(&mut conn).await
    }
}

async fn recount_on(conn: &mut sqlx::AnyConnection) -> Result<Vec<Tally>> {
    {
        let versions = sqlx::query(
            "SELECT v.id, j.name AS journey, v.number FROM versions v JOIN journeys j ON j.id = v.journey_id ORDER BY v.id",
        )
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::new();
        for v in &versions {
            let id: i64 = v.try_get("id")?;
            let label = format!(
                "{} v{}",
                v.try_get::<String, _>("journey")?,
                v.try_get::<i64, _>("number")?
            );
            let c = sqlx::query(
                "SELECT COUNT(*) AS entered, \
                 CAST(COALESCE(SUM(CASE WHEN state = 'active' THEN 1 ELSE 0 END), 0) AS BIGINT) AS active, \
                 CAST(COALESCE(SUM(CASE WHEN state = 'completed' THEN 1 ELSE 0 END), 0) AS BIGINT) AS completed, \
                 CAST(COALESCE(SUM(CASE WHEN state = 'exited' THEN 1 ELSE 0 END), 0) AS BIGINT) AS exited, \
                 CAST(COALESCE(SUM(CASE WHEN state = 'stopped' THEN 1 ELSE 0 END), 0) AS BIGINT) AS stopped, \
                 CAST(COALESCE(SUM(CASE WHEN converted_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS converted \
                 FROM participants_effective WHERE version_id = $1",
            )
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
            let counts = Counts {
                entered: c.try_get("entered")?,
                active: c.try_get("active")?,
                completed: c.try_get("completed")?,
                exited: c.try_get("exited")?,
                stopped: c.try_get("stopped")?,
                converted: c.try_get("converted")?,
            };
            let m = sqlx::query(
                "SELECT CAST(COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0) AS BIGINT) AS pending, \
                 CAST(COALESCE(SUM(CASE WHEN state = 'sent' THEN 1 ELSE 0 END), 0) AS BIGINT) AS sent, \
                 CAST(COALESCE(SUM(CASE WHEN state = 'cancelled' THEN 1 ELSE 0 END), 0) AS BIGINT) AS cancelled \
                 FROM outbox_effective WHERE version_id = $1",
            )
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
            let messages = Messages {
                pending: m.try_get("pending")?,
                sent: m.try_get("sent")?,
                cancelled: m.try_get("cancelled")?,
            };
            let vs = sqlx::query(
                "SELECT variant, COUNT(*) AS assigned, CAST(COALESCE(SUM(variant_converted), 0) AS BIGINT) AS converted \
                 FROM participants WHERE version_id = $1 AND variant IS NOT NULL GROUP BY variant ORDER BY variant",
            )
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| {
                Ok(VariantSummary {
                    name: r.try_get("variant")?,
                    assigned: r.try_get("assigned")?,
                    converted: r.try_get("converted")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
            out.push((label, counts, messages, vs));
        }
        Ok(out)
    }
}

impl Store {
    /// Differences between the counters and a recount of the rows; empty
    /// when they agree. Both are read in one snapshot, so writers running
    /// meanwhile cannot make them seem to differ.
    pub async fn verify_counters(&self) -> Result<Vec<String>> {
        let mut tx = match self.backend {
            super::Backend::Postgres => {
                self.pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?
            }
            // A SQLite read transaction sees one snapshot from its first read.
            super::Backend::Sqlite => self.pool.begin().await?,
        };
        let mut recount = recount_on(&mut tx).await?;
        recount.sort_by(|a, b| a.0.cmp(&b.0));
        let stored = stored_counts_on(&mut tx).await?;
        tx.rollback().await?;
        let mut diffs = Vec::new();
        for (r, s) in recount.iter().zip(stored.iter()) {
            diffs.extend(tally_differences(s, r));
        }
        if recount.len() != stored.len() {
            diffs.push(format!(
                "{} versions counted, {} stored",
                recount.len(),
                stored.len()
            ));
        }
        Ok(diffs)
    }
}

/// Counts of one version: `journey vN`, participants, messages, variants.
pub type Tally = (String, Counts, Messages, Vec<VariantSummary>);

/// The counters as stored, in the shape of a recount.
async fn stored_counts_on(conn: &mut sqlx::AnyConnection) -> Result<Vec<Tally>> {
    let mut out: Vec<Tally> = list_on(conn, true)
        .await?
        .into_iter()
        .map(|s| {
            let mut vs: Vec<VariantSummary> =
                s.ab.map(|a| {
                    a.variants
                        .into_iter()
                        .filter(|v| v.assigned > 0 || v.converted > 0)
                        .collect()
                })
                .unwrap_or_default();
            vs.sort_by(|a, b| a.name.cmp(&b.name));
            (
                format!("{} v{}", s.journey, s.version),
                s.counts,
                s.messages,
                vs,
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Each figure where the stored counters and the recount of the rows
/// differ: `cart v1: active: counter 41, rows 40`.
fn tally_differences(stored: &Tally, rows: &Tally) -> Vec<String> {
    let figures = |t: &Tally| -> Vec<(String, i64)> {
        let (c, m) = (&t.1, &t.2);
        let mut out: Vec<(String, i64)> = [
            ("entered", c.entered),
            ("active", c.active),
            ("completed", c.completed),
            ("exited", c.exited),
            ("stopped", c.stopped),
            ("converted", c.converted),
            ("messages pending", m.pending),
            ("messages sent", m.sent),
            ("messages cancelled", m.cancelled),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        for v in &t.3 {
            out.push((format!("variant {} assigned", v.name), v.assigned));
            out.push((format!("variant {} converted", v.name), v.converted));
        }
        out
    };
    let (s, r) = (figures(stored), figures(rows));
    let mut names: Vec<&String> = s.iter().chain(r.iter()).map(|(k, _)| k).collect();
    names.sort();
    names.dedup();
    // Keep the figures' own order (counts, messages, variants).
    let order = |k: &String| s.iter().chain(r.iter()).position(|(n, _)| n == k);
    names.sort_by_key(|k| order(k));
    let value = |list: &[(String, i64)], k: &String| {
        list.iter().find(|(n, _)| n == k).map_or(0, |(_, v)| *v)
    };
    names
        .into_iter()
        .filter(|k| value(&s, k) != value(&r, k))
        .map(|k| {
            format!(
                "{}: {k}: counter {}, rows {}",
                rows.0,
                value(&s, k),
                value(&r, k)
            )
        })
        .collect()
}

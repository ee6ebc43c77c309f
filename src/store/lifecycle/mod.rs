//! Operators' actions: finish, stop, pause and resume, on one version,
//! every version of a journey, or every version that uses an action. One
//! typed action, one executor, each version moved by the one transition
//! function, all in one transaction.

pub(in crate::store) mod alert_state;
pub(in crate::store) mod approvals;
pub(in crate::store) mod audit;
pub(in crate::store) mod change;
pub(in crate::store) mod journeys;
pub(in crate::store) mod notes;
pub(in crate::store) mod overdue;
pub(in crate::store) mod pause;
pub(in crate::store) mod targets;
pub(in crate::store) mod transition;
pub(in crate::store) mod variants;

use std::collections::HashMap;
use std::future::Future;

use crate::domain::schedule::Intent;
use crate::domain::{ActionKind, Millis};
use crate::store::lifecycle::change::{
    Change, Impact, Outcome, VersionImpact, Write, count_uncertain,
};
use crate::store::lifecycle::targets::resolve;
use crate::store::lifecycle::transition::act_on;
use crate::store::order::waits::{Progress, Turn, Waiting};
use crate::store::{Actor, Error, OperatorAction, Result, Store, Target};

impl Store {
    /// The versions the action would change and what it would do to them,
    /// or why it would be refused.
    pub async fn preview(&self, action: &OperatorAction) -> Result<Impact> {
        let mut conn = self.pool.acquire().await?;
        let versions = resolve(&mut conn, action).await?;
        let ids: Vec<i64> = versions.iter().map(|v| v.id).collect();
        let counts: HashMap<i64, (i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT id, active, msg_pending FROM versions WHERE id IN ({})",
            crate::store::dialect::id_list(&ids)
        )))
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|(id, active, pending)| (id, (active, pending)))
        .collect();
        let uncertain = match action.kind {
            ActionKind::Stop => count_uncertain(&mut conn, &ids).await?,
            _ => HashMap::new(),
        };
        let overdue = match action.kind {
            ActionKind::Resume(_) => {
                crate::store::lifecycle::pause::count_overdue(&mut conn, self.backend(), &ids)
                    .await?
            }
            _ => HashMap::new(),
        };
        let mut out = Vec::with_capacity(versions.len());
        for v in versions {
            let (active, pending) = counts.get(&v.id).copied().unwrap_or((0, 0));
            let (overdue, overdue_since) = overdue.get(&v.id).copied().unwrap_or((0, None));
            out.push(VersionImpact {
                uncertain: uncertain.get(&v.id).copied().unwrap_or(0),
                overdue,
                overdue_since,
                ..VersionImpact::of(&v, active, pending)
            });
        }
        Ok(Impact {
            versions: out,
            release: Vec::new(),
        })
    }

    /// Executes a confirmed action: every version changes, or none does.
    pub async fn execute(
        &self,
        action: &OperatorAction,
        actor: &Actor,
        now: Millis,
    ) -> Result<Outcome> {
        self.execute_watching(action, actor, now, &|_| {}).await
    }

    /// Executes a confirmed action. It never gives up because the store is
    /// busy: it waits its turn (telling `watch` after a second), and on
    /// SQLite goes before the next batch of any engine or worker. A stop
    /// that finds deliveries of its versions in flight closes their gates
    /// and waits for them (telling `watch` how many), so none is in flight
    /// when it commits.
    pub async fn execute_watching(
        &self,
        action: &OperatorAction,
        actor: &Actor,
        now: Millis,
        watch: &(dyn Fn(Waiting) + Sync),
    ) -> Result<Outcome> {
        self.execute_in_turn(action, actor, now, watch, Turn::Background)
            .await
    }

    /// [`Store::execute_watching`] until `give_up` completes: then the
    /// waiting statement is cancelled and the action's own answer awaited.
    /// `Error::GaveUp` when it did not run; its outcome when it had
    /// committed meanwhile.
    pub async fn execute_until(
        &self,
        action: &OperatorAction,
        actor: &Actor,
        now: Millis,
        watch: &(dyn Fn(Waiting) + Sync),
        give_up: impl Future<Output = ()>,
    ) -> Result<Outcome> {
        let progress = Progress::default();
        let run = self.execute_in_turn(action, actor, now, watch, Turn::Operator(&progress));
        tokio::pin!(run);
        tokio::select! {
            biased;
            r = &mut run => return r,
            () = give_up => {}
        }
        progress.give_up();
        let pid = progress.pid();
        if pid != 0 {
            let _ = sqlx::query("SELECT pg_cancel_backend($1)")
                .bind(pid)
                .execute(&self.pool)
                .await;
        }
        // A SQLite action waiting for the operators' lock file cannot be
        // interrupted there, and has written nothing: let it go.
        let answer = tokio::time::timeout(std::time::Duration::from_secs(10), run).await;
        match answer {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(_)) | Err(_) => Err(Error::GaveUp),
        }
    }

    /// [`Store::execute_watching`], taking the version locks in `turn`.
    async fn execute_in_turn(
        &self,
        action: &OperatorAction,
        actor: &Actor,
        now: Millis,
        watch: &(dyn Fn(Waiting) + Sync),
        turn: Turn<'_>,
    ) -> Result<Outcome> {
        actor.refuse_control()?;
        if let Some(r) = &action.reason {
            crate::domain::text::refuse_bad_reason(r).map_err(Error::Invalid)?;
        }
        let incident = incident_of(action, now);
        // Most stops find no delivery in flight and commit in their first
        // transaction, in their turn behind the version's lock. One that
        // finds some closes the gates, waits for them, and tries again.
        let mut gated: Vec<i64> = Vec::new();
        // What each gated version had sent when its gate closed: the
        // outcome says how many went out while the action waited.
        let mut sent_before: HashMap<i64, i64> = HashMap::new();
        loop {
            let started = std::time::Instant::now();
            let attempt = self.in_turn(watch, turn, || {
                self.execute_once(action, actor, incident.as_deref(), now, &sent_before, turn)
            });
            let result = attempt.await;
            let attempt_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
            match result {
                Err(Error::InFlight(_)) => {
                    let ids: Vec<i64> = {
                        let mut conn = self.pool.acquire().await?;
                        resolve(&mut conn, action)
                            .await?
                            .iter()
                            .map(|v| v.id)
                            .collect()
                    };
                    self.in_turn(watch, turn, || self.close_gates(&ids, turn, attempt_ms))
                        .await?;
                    for (id, sent) in self.sent_so_far(&ids).await? {
                        sent_before.entry(id).or_insert(sent);
                    }
                    gated = ids;
                    // Still first in line on SQLite while it waits: the
                    // workers' records of those deliveries then never
                    // compete with engine batches for the file.
                    let first = self.operator_first().await?;
                    let waited = self
                        .wait_in_flight(&gated, turn, &|n| watch(Waiting::Deliveries(n)))
                        .await;
                    drop(first);
                    if let Err(e) = waited {
                        let _ = self.open_gates(&gated).await;
                        return Err(e);
                    }
                }
                Err(e) => {
                    // Refused: deliveries of the versions go on.
                    if !gated.is_empty() {
                        let _ = self.open_gates(&gated).await;
                    }
                    return Err(e);
                }
                ok => return ok,
            }
        }
    }

    async fn execute_once(
        &self,
        action: &OperatorAction,
        actor: &Actor,
        incident: Option<&str>,
        now: Millis,
        sent_before: &HashMap<i64, i64>,
        turn: Turn<'_>,
    ) -> Result<Outcome> {
        let mut tx = self.begin_write().await?;
        // Four eyes: under the store's policy a resume is a request.
        if matches!(action.kind, ActionKind::Resume(_))
            && approvals::asks_first(&mut tx, "resume", actor).await?
        {
            drop(tx);
            return self
                .requested(Intent::Act(action.clone()), actor, now)
                .await;
        }
        if matches!(
            action.target,
            Target::Store { .. } | Target::Incident { .. }
        ) {
            crate::store::order::exclude_all_engines(&mut tx, self.backend(), turn).await?;
        }
        let versions = resolve(&mut tx, action).await?;
        let ids: Vec<i64> = versions.iter().map(|v| v.id).collect();
        let change = Change {
            sent_before: Some(sent_before),
            incident,
            ..Change::new(actor, action.reason.as_deref(), now)
        };
        let w = Write {
            turn,
            ..Write::new(&mut tx, self.backend(), change)
        };
        let done = act_on(w, &ids, action.kind).await?;
        tx.commit().await?;
        self.announce_status().await;
        Ok(Outcome {
            kind: action.kind,
            versions: done,
            at: now,
            incident: incident.map(str::to_string),
        })
    }
}

/// The incident an action is part of: a new one for a store-wide stop or
/// pause and for an action on several journeys, the one named by an
/// action on an incident's versions.
fn incident_of(action: &OperatorAction, now: Millis) -> Option<String> {
    match (&action.target, action.kind) {
        (Target::Store { .. }, ActionKind::Stop | ActionKind::Pause(_)) => Some(new_incident(now)),
        (Target::Incident { id }, _) => Some(id.clone()),
        // Several journeys at once: their rows share one id.
        (Target::Journeys { .. }, _) => Some(new_incident(now)),
        _ => None,
    }
}

/// A new incident id: when the brake was applied, to the second, and four
/// hex digits that tell apart two brakes of one second:
/// `20261207T051300Z-3fa2`.
fn new_incident(now: Millis) -> String {
    use std::hash::{BuildHasher, Hasher};
    let when = chrono::DateTime::from_timestamp_millis(now)
        .unwrap_or_default()
        .format("%Y%m%dT%H%M%SZ");
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_i64(now);
    format!("{when}-{:04x}", h.finish() & 0xffff)
}

impl Store {
    /// A guardrail's pause of one version: the operators' pause (its hold
    /// the default, 3 days then stop), audited with actor `guardrail` and
    /// the rule's figures as its reason. `false` when it was already paused
    /// or no longer runs.
    pub async fn pause_by_guardrail(
        &self,
        journey: &str,
        version: i64,
        reason: &str,
        now: Millis,
    ) -> Result<bool> {
        let action = OperatorAction {
            kind: ActionKind::Pause(crate::domain::Hold::default()),
            target: crate::domain::Target::Version {
                journey: journey.to_string(),
                version: Some(version),
            },
            reason: Some(reason.to_string()),
        };
        let actor = Actor::new("guardrail", crate::store::this_host());
        match self.execute(&action, &actor, now).await {
            Ok(_) => Ok(true),
            Err(Error::Refused(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

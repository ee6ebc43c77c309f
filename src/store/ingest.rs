//! Applying events: entries, named events (goals and exit events), segment
//! joins. Events go in short batches; each batch is one transaction that
//! first locks the versions it touches (a row lock on PostgreSQL; SQLite's
//! write transactions run one at a time), so a stop or finish either
//! happens before the batch or after it, never inside.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use super::counters::{CounterDelta, apply_deltas};
use super::{Backend, Result, Store, VersionInfo, lock_running_version, with_retry};
use crate::domain::events::{Event, TimedEvent};
use crate::domain::{Millis, VersionStatus};

/// A line that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    pub line: usize,
    pub error: String,
}

/// What an ingest did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngestReport {
    /// Lines read and applied: entries (let in or refused) and events
    /// (including those that changed nothing).
    pub accepted: u64,
    /// Events applied that changed nothing: a goal or exit event of no
    /// active participant, a segment the profile was already in.
    pub unchanged: u64,
    /// Entries the rules refused, by reason.
    pub refused: BTreeMap<String, u64>,
    /// Lines that were not valid events.
    pub invalid: u64,
    pub errors: Vec<LineError>,
    pub entered: u64,
    pub converted: u64,
    pub exited: u64,
    /// Versions a guardrail paused after these entries, with why.
    pub guardrail_paused: Vec<String>,
}

impl IngestReport {
    pub fn refused_total(&self) -> u64 {
        self.refused.values().sum()
    }

    pub fn merge(&mut self, other: IngestReport) {
        self.accepted += other.accepted;
        self.unchanged += other.unchanged;
        for (k, v) in other.refused {
            *self.refused.entry(k).or_default() += v;
        }
        self.invalid += other.invalid;
        self.errors.extend(other.errors);
        self.guardrail_paused.extend(other.guardrail_paused);
        self.entered += other.entered;
        self.converted += other.converted;
        self.exited += other.exited;
    }
}

/// Events per transaction: short enough that a stop never waits long.
pub const EVENTS_PER_TRANSACTION: usize = 5000;

use super::entrants::{
    Entrant, LiveLookup, active_elsewhere, insert_entrants, live_versions, lock_versions,
    refused_by_segments,
};
use super::minutes::minute_of;

impl Store {
    /// Applies events in order, in batches of [`EVENTS_PER_TRANSACTION`].
    pub async fn ingest(&self, events: &[TimedEvent]) -> Result<IngestReport> {
        let mut report = IngestReport::default();
        for chunk in events.chunks(EVENTS_PER_TRANSACTION) {
            let part = with_retry(|| self.ingest_batch(chunk)).await?;
            report.merge(part);
        }
        let entries = events
            .iter()
            .filter(|e| matches!(e.event, Event::Enter { .. }))
            .map(|e| e.at);
        if let (Some(from), Some(to), true) =
            (entries.clone().min(), entries.max(), report.entered > 0)
        {
            report.guardrail_paused = self.guard_entries((from, to), to).await?;
        }
        Ok(report)
    }

    async fn ingest_batch(&self, events: &[TimedEvent]) -> Result<IngestReport> {
        let mut tx = self.begin_background_write().await?;
        let mut batch = Batch {
            backend: self.backend(),
            ..Batch::default()
        };
        // Consecutive entries go in as one set: a few statements for a run
        // of hundreds, instead of a few per entry. Any other event ends the
        // run first, so events still apply in their order.
        let mut run: Vec<&TimedEvent> = Vec::new();
        for ev in events {
            if matches!(ev.event, Event::Enter { .. }) {
                run.push(ev);
                continue;
            }
            batch.enter_run(&mut tx, &run).await?;
            run.clear();
            batch.apply(&mut tx, ev).await?;
        }
        batch.enter_run(&mut tx, &run).await?;
        let last = events.iter().map(|e| e.at).max().unwrap_or(0);
        apply_deltas(&mut tx, self.backend(), &batch.deltas, last).await?;
        super::verdicts::check_verdicts(&mut tx, &batch.touched, last).await?;
        tx.commit().await?;
        self.announce_figures().await;
        Ok(batch.report)
    }
}

#[derive(Default)]
struct Batch {
    backend: Backend,
    /// Versions locked by this transaction, with what they are (`None`:
    /// stopped or not running, so nothing may change there).
    locked: HashMap<i64, Option<VersionInfo>>,
    /// Journey name -> its live version id, once looked up.
    live: HashMap<String, LiveLookup>,
    deltas: HashMap<i64, CounterDelta>,
    /// Versions whose A/B counters changed.
    touched: Vec<i64>,
    report: IngestReport,
}

impl Batch {
    async fn apply(&mut self, tx: &mut Transaction<'static, Any>, ev: &TimedEvent) -> Result<()> {
        if !matches!(ev.event, Event::Enter { .. }) {
            self.report.accepted += 1;
        }
        let moved = |r: &IngestReport| r.converted + r.exited;
        let before = moved(&self.report);
        let changed = match &ev.event {
            Event::Enter { .. } => {
                // Entered or refused: counted either way, never "unchanged".
                self.enter_run(tx, &[ev]).await?;
                true
            }
            Event::Named { profile, name } => {
                self.named_event(tx, profile, name, ev.at).await?;
                false
            }
            Event::Segment { profile, segment } => {
                let joined = sqlx::query(
                    "INSERT INTO segment_members (segment, profile, joined_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (segment, profile) DO NOTHING",
                )
                .bind(segment)
                .bind(profile)
                .bind(ev.at)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                self.segment(tx, profile, segment, ev.at).await?;
                joined > 0
            }
        };
        if !changed && moved(&self.report) == before {
            self.report.unchanged += 1;
        }
        Ok(())
    }

    /// Locks a version row for this transaction; `None` when the engine
    /// must leave it alone (stopped, or a draft).
    async fn lock(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        version_id: i64,
    ) -> Result<Option<VersionInfo>> {
        if let Some(v) = self.locked.get(&version_id) {
            return Ok(v.clone());
        }
        let info = lock_running_version(tx, self.backend, version_id).await?;
        self.locked.insert(version_id, info.clone());
        Ok(info)
    }

    /// Looks up the live versions of the journeys not looked up yet in
    /// this transaction and locks those not locked yet: a few statements
    /// for all of them.
    async fn look_up_and_lock(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        journeys: &[&str],
    ) -> Result<()> {
        let names: Vec<&str> = journeys
            .iter()
            .copied()
            .filter(|j| !self.live.contains_key(*j))
            .collect();
        if !names.is_empty() {
            self.live
                .extend(live_versions(tx, self.backend, &names).await?);
        }
        let ids: Vec<i64> = journeys
            .iter()
            .filter_map(|j| match self.live.get(*j) {
                Some(LiveLookup::Live(id)) if !self.locked.contains_key(id) => Some(*id),
                _ => None,
            })
            .collect();
        self.locked
            .extend(lock_versions(tx, self.backend, ids).await?);
        Ok(())
    }

    /// Enters a run of profiles, checking every rule of entry for each, in
    /// order: a few set statements per run, whatever the journeys in it.
    async fn enter_run(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        run: &[&TimedEvent],
    ) -> Result<()> {
        if run.is_empty() {
            return Ok(());
        }
        self.report.accepted += run.len() as u64;
        let mut outcome: Vec<Option<&'static str>> = vec![None; run.len()];
        let mut journeys: Vec<(&str, Vec<usize>)> = Vec::new();
        for (i, ev) in run.iter().enumerate() {
            if let Event::Enter { journey, .. } = &ev.event {
                match journeys.iter_mut().find(|(j, _)| *j == journey.as_str()) {
                    Some((_, idx)) => idx.push(i),
                    None => journeys.push((journey.as_str(), vec![i])),
                }
            }
        }
        let profile_of = |i: usize| entrant_profile(run[i]);
        let names: Vec<&str> = journeys.iter().map(|(j, _)| *j).collect();
        self.look_up_and_lock(tx, &names).await?;
        // (version, journey, index in the run) of everyone the rules let in.
        let mut admitted: Vec<(i64, i64, usize)> = Vec::new();
        for (journey, idx) in journeys {
            self.screen(tx, (run, journey, &idx), &mut outcome, &mut admitted)
                .await?;
        }
        // Each version's entrants side by side in the table (in feed order
        // within a version): the engine then moves them page by page.
        admitted.sort_by_key(|&(version_id, _, i)| (version_id, i));
        let rows: Vec<Entrant> = admitted
            .iter()
            .map(|&(version_id, journey_id, i)| Entrant {
                version_id,
                journey_id,
                profile: profile_of(i),
                at: run[i].at,
            })
            .collect();
        let inserted = insert_entrants(tx, self.backend, &rows).await?;
        for (version_id, _, i) in admitted {
            if !inserted.contains(&(version_id, profile_of(i).to_string())) {
                outcome[i] = Some("already_entered");
                continue;
            }
            let d = self.deltas.entry(version_id).or_default();
            d.entered += 1;
            d.active += 1;
            d.minutes.entry(minute_of(run[i].at)).or_default().entered += 1;
        }
        for o in outcome {
            match o {
                None => self.report.entered += 1,
                Some(reason) => *self.report.refused.entry(reason.to_string()).or_default() += 1,
            }
        }
        Ok(())
    }

    /// Applies the rules of entry to the entries `idx` of a run into one
    /// journey: each refused gets its reason in `outcome`, the others go
    /// to `admitted` as (version, journey, index in the run).
    async fn screen(
        &self,
        tx: &mut Transaction<'static, Any>,
        (run, journey, idx): (&[&TimedEvent], &str, &[usize]),
        outcome: &mut [Option<&'static str>],
        admitted: &mut Vec<(i64, i64, usize)>,
    ) -> Result<()> {
        let v = match self.live.get(journey) {
            Some(LiveLookup::Live(id)) => self.locked.get(id).cloned().flatten(),
            Some(LiveLookup::Refused(reason)) => {
                idx.iter().for_each(|&i| outcome[i] = Some(reason));
                return Ok(());
            }
            None => None,
        };
        let v = match v {
            Some(v) if v.status == VersionStatus::Live && v.paused.is_some() => {
                idx.iter().for_each(|&i| outcome[i] = Some("paused"));
                return Ok(());
            }
            // Its stored definition cannot be read: nobody enters what
            // nothing can run.
            Some(v) if v.unreadable.is_some() => {
                idx.iter()
                    .for_each(|&i| outcome[i] = Some("version_unreadable"));
                return Ok(());
            }
            Some(v) if v.status == VersionStatus::Live => v,
            _ => {
                idx.iter()
                    .for_each(|&i| outcome[i] = Some("no_live_version"));
                return Ok(());
            }
        };
        let def = &v.definition;
        let mut seen = std::collections::HashSet::new();
        let mut candidates = Vec::with_capacity(idx.len());
        for &i in idx {
            if def.entry_end_at.is_some_and(|end| run[i].at >= end) {
                outcome[i] = Some("entry_ended");
            } else if !seen.insert(entrant_profile(run[i])) {
                outcome[i] = Some("already_entered");
            } else {
                candidates.push(i);
            }
        }
        for chunk in candidates.chunks(self.backend.chunk_rows() * 2) {
            let profiles: Vec<&str> = chunk.iter().map(|&i| entrant_profile(run[i])).collect();
            let refused = refusals(tx, &v, &profiles).await?;
            for (&i, why) in chunk.iter().zip(refused) {
                match why {
                    Some(why) => outcome[i] = Some(why),
                    None => admitted.push((v.id, v.journey_id, i)),
                }
            }
        }
        Ok(())
    }

    /// The profile's participants that may still change, with their versions.
    async fn active_participants(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        profile: &str,
    ) -> Result<Vec<(i64, Option<String>, bool, VersionInfo)>> {
        let rows = sqlx::query(
            "SELECT id, version_id, variant, converted_at FROM participants WHERE profile = $1 AND state = 'active' ORDER BY id",
        )
        .bind(profile)
        .fetch_all(&mut **tx)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let version_id: i64 = row.try_get("version_id")?;
            if let Some(v) = self.lock(tx, version_id).await? {
                let converted: Option<i64> = row.try_get("converted_at")?;
                out.push((
                    row.try_get("id")?,
                    row.try_get("variant")?,
                    converted.is_some(),
                    v,
                ));
            }
        }
        Ok(out)
    }

    async fn named_event(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        profile: &str,
        name: &str,
        at: Millis,
    ) -> Result<()> {
        for (pid, variant, converted, v) in self.active_participants(tx, profile).await? {
            if !converted && v.definition.goal.as_deref() == Some(name) {
                let done = sqlx::query(
                    "UPDATE participants SET converted_at = $2, variant_converted = $3, updated_at = $2 \
                     WHERE id = $1 AND state = 'active' AND converted_at IS NULL",
                )
                .bind(pid)
                .bind(at)
                .bind(i64::from(variant.is_some()))
                .execute(&mut **tx)
                .await?;
                if done.rows_affected() == 1 {
                    self.report.converted += 1;
                    let d = self.deltas.entry(v.id).or_default();
                    d.converted += 1;
                    d.minutes.entry(minute_of(at)).or_default().converted += 1;
                    if let Some(name) = variant {
                        *d.variant_converted.entry(name).or_default() += 1;
                        if !self.touched.contains(&v.id) {
                            self.touched.push(v.id);
                        }
                    }
                }
            }
            if v.definition.exit_events.iter().any(|e| e == name) {
                self.exit(tx, pid, v.id, &format!("event:{name}"), at)
                    .await?;
            }
        }
        Ok(())
    }

    async fn segment(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        profile: &str,
        segment: &str,
        at: Millis,
    ) -> Result<()> {
        for (pid, _, _, v) in self.active_participants(tx, profile).await? {
            if v.definition.exit_segment.as_deref() == Some(segment) {
                self.exit(tx, pid, v.id, &format!("segment:{segment}"), at)
                    .await?;
            }
        }
        Ok(())
    }

    async fn exit(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        pid: i64,
        version_id: i64,
        reason: &str,
        at: Millis,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE participants SET state = 'exited', exit_reason = $2, updated_at = $3 WHERE id = $1 AND state = 'active'",
        )
        .bind(pid)
        .bind(reason)
        .bind(at)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 1 {
            self.report.exited += 1;
            let d = self.deltas.entry(version_id).or_default();
            d.active -= 1;
            d.exited += 1;
            d.minutes.entry(minute_of(at)).or_default().exited += 1;
        }
        Ok(())
    }
}

/// The profile of an entry event.
fn entrant_profile(ev: &TimedEvent) -> &str {
    match &ev.event {
        Event::Enter { profile, .. } => profile.as_str(),
        _ => "",
    }
}

/// Why the rules keep each of one chunk of distinct profiles out of the
/// live version `v` (segments, an entry in another running version), if
/// they do.
async fn refusals(
    tx: &mut Transaction<'static, Any>,
    v: &VersionInfo,
    profiles: &[&str],
) -> Result<Vec<Option<&'static str>>> {
    let mut refused = refused_by_segments(tx, &v.definition, profiles).await?;
    if v.others_running > 0 {
        for p in active_elsewhere(tx, v, profiles).await? {
            refused.entry(p).or_insert("active_in_other_version");
        }
    }
    Ok(profiles.iter().map(|p| refused.get(p).copied()).collect())
}

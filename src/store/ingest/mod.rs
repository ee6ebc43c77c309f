//! Applying events: entries, named events (goals and exit events), segment
//! joins. Events go in short batches; each batch is one transaction that
//! first locks the versions it touches (a row lock on PostgreSQL; SQLite's
//! write transactions run one at a time), so a stop or finish either
//! happens before the batch or after it, never inside.

pub(in crate::store) mod entrants;
pub(in crate::store) mod entry_guard;
mod runs;

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use crate::domain::Millis;
use crate::domain::events::{Event, TimedEvent};
use crate::store::figures::counters::{CounterDelta, apply_deltas};
use crate::store::{Backend, Result, Store, VersionInfo, with_retry};

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

use crate::store::figures::minutes::minute_of;
use crate::store::ingest::entrants::{LiveLookup, live_versions, lock_versions};

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
            report.guardrail_paused = self.guard_entries(from, to, to).await?;
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
        crate::store::figures::verdicts::check_verdicts(&mut tx, &batch.touched, last).await?;
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
        let info = crate::store::order::lock_running_version(tx, self.backend, version_id).await?;
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

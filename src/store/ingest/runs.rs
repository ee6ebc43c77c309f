//! A run of entries: every rule of entry checked set-wise for the whole
//! run (the entry window, segments, another running version, the entry
//! guardrail), then the admitted ones inserted, a few statements per run
//! whatever the journeys in it.

use sqlx::{Any, Transaction};

use super::Batch;
use crate::domain::VersionStatus;
use crate::domain::events::{Event, TimedEvent};
use crate::store::figures::minutes::minute_of;
use crate::store::ingest::entrants::{
    Entrant, LiveLookup, active_elsewhere, insert_entrants, refused_by_segments,
};
use crate::store::{Result, VersionInfo};

impl Batch {
    /// Enters a run of profiles, checking every rule of entry for each, in
    /// order: a few set statements per run, whatever the journeys in it.
    pub(super) async fn enter_run(
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
            self.screen(tx, run, journey, &idx, &mut outcome, &mut admitted)
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
            if !inserted.went_in(version_id, profile_of(i)) {
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
        run: &[&TimedEvent],
        journey: &str,
        idx: &[usize],
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

//! Live traffic: who is around, and what they will do when.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use super::HOUR;
use super::catalogue::JourneyTemplate;
use super::delivery::DemoChannels;
use crate::domain::Definition;
use crate::domain::clock::SimClock;
use crate::domain::events::{Event, TimedEvent};
use crate::domain::rng::{SplitMix64, assign_variant};
use crate::domain::time::Millis;
use crate::store::Store;

/// Live traffic state: who is around, to send their goal and exit events.
pub struct Simulator {
    pub store: Store,
    pub clock: SimClock,
    rng: SplitMix64,
    journeys: Vec<SimJourney>,
    next_profile: u64,
    last_sim: Millis,
    carry: Vec<f64>,
    /// What entrants will do later, soonest first.
    plans: BinaryHeap<Reverse<Plan>>,
    seq: u64,
    /// The receivers and channels the demo delivers to.
    pub channels: DemoChannels,
}

/// Something an entrant will do: when, a tie-breaker, the journey's
/// index, the profile, and what.
type Plan = (Millis, u64, usize, String, SimAct);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum SimAct {
    MaybeConvert,
    Unsubscribe,
    Suppress,
    /// Leaves before the split counts it (the journey's `lose`).
    Leave,
}

/// A journey of the demo as traffic sees it.
pub(super) struct SimJourney {
    pub def: Definition,
    pub traffic: JourneyTemplate,
}

impl SimJourney {
    /// How long after entering the first message goes out: nobody acts on
    /// a message before it arrives.
    pub(super) fn first_touch(&self) -> Millis {
        let mut t = 0;
        for step in &self.def.steps {
            match step {
                crate::domain::Step::Wait { millis, .. } => t += millis,
                _ => return t,
            }
        }
        t
    }

    /// The variant a profile gets when nothing has been decided yet.
    fn planned_variant(&self, profile: &str) -> Option<String> {
        self.def.split().map(|(_, s)| {
            let weights: Vec<u32> = s.variants.iter().map(|v| v.weight).collect();
            s.variants[assign_variant(profile, &s.test, &weights)]
                .name
                .clone()
        })
    }

    pub(super) fn conversion_for(&self, profile: &str) -> f64 {
        self.conversion_of(self.planned_variant(profile).as_deref())
    }

    fn conversion_of(&self, variant: Option<&str>) -> f64 {
        let c = &self.traffic.conversion;
        variant
            .and_then(|v| c.get(v))
            .or_else(|| c.get("*"))
            .copied()
            .unwrap_or(0.0)
    }
}

/// What one simulation step did.
#[derive(Debug, Default, Clone)]
pub struct StepReport {
    pub entered: u64,
    pub events: u64,
    pub steps: u64,
    pub sent: u64,
    pub sim_now: Millis,
}

impl Simulator {
    pub(super) fn new(
        store: Store,
        clock: SimClock,
        rng: SplitMix64,
        journeys: Vec<SimJourney>,
        next_profile: u64,
        channels: DemoChannels,
    ) -> Simulator {
        Simulator {
            store,
            last_sim: clock.sim_start,
            clock,
            rng,
            carry: vec![0.0; journeys.len()],
            plans: BinaryHeap::new(),
            seq: 0,
            journeys,
            next_profile,
            channels,
        }
    }

    /// Advances the simulation to the clock's now: new entries, goal and
    /// exit events, segment joins, one engine tick, one delivery round.
    pub async fn step(&mut self) -> anyhow::Result<StepReport> {
        let now = self.clock.now().max(self.last_sim + 1);
        self.step_to(now).await
    }

    /// Advances to a given simulated time (tests drive it directly).
    pub async fn step_to(&mut self, now: Millis) -> anyhow::Result<StepReport> {
        // Planned in simulated time; told to the store on the wall clock.
        let wall = self.clock.to_wall(now);
        let mut entries = self.entrants(now);
        entries.sort_by_key(|e| e.at);
        let on_wall = |events: &[TimedEvent]| super::seed::events_on_wall(events, &self.clock);
        let mut report = self.store.ingest(&on_wall(&entries)).await?;
        // The demo is its store's engine: actions set for a time (`--at`
        // on the demo's store) run here, and the store knows one runs.
        self.store.run_scheduled(wall).await?;
        let tick = self.store.tick(wall).await?;
        let later = self.due_acts(now).await?;
        let on_wall = |events: &[TimedEvent]| super::seed::events_on_wall(events, &self.clock);
        report.merge(self.store.ingest(&on_wall(&later)).await?);
        let sent = self.channels.deliver(&self.store, 200, wall).await?;
        let events = (entries.len() + later.len()) as u64;
        self.last_sim = now;
        Ok(StepReport {
            entered: report.entered,
            events,
            steps: tick.steps,
            sent: sent.sent,
            sim_now: now,
        })
    }

    /// New entrants since the last step, each with what they will do and
    /// when planned.
    fn entrants(&mut self, now: Millis) -> Vec<TimedEvent> {
        let span = (now - self.last_sim).max(0);
        let dt_hours = span as f64 / HOUR as f64;
        let mut entries = Vec::new();
        for (idx, j) in self.journeys.iter().enumerate() {
            if j.traffic
                .halt
                .is_some_and(|h| h.covers(self.clock.sim_start, now))
            {
                self.carry[idx] = 0.0;
                continue;
            }
            let expected = j.traffic.entries_per_hour * dt_hours + self.carry[idx];
            let n = expected.floor() as u64;
            self.carry[idx] = expected - n as f64;
            for _ in 0..n {
                let profile = format!("u-{:07}", self.next_profile);
                self.next_profile += 1;
                let at = self.last_sim + (self.rng.next_f64() * span as f64) as Millis;
                entries.push(TimedEvent {
                    event: Event::Enter {
                        journey: j.def.name.clone(),
                        profile: profile.clone(),
                    },
                    at,
                });
                // What this person will do, and when: act on the first
                // message within the journey's window, or not at all.
                let touch = at + j.first_touch() + 60_000;
                let window = (j.traffic.window_hours * HOUR as f64) as Millis;
                let mut plan = |rng: &mut SplitMix64, kind: SimAct| {
                    let when = touch + (rng.next_f64() * window as f64) as Millis;
                    self.seq += 1;
                    self.plans
                        .push(Reverse((when, self.seq, idx, profile.clone(), kind)));
                };
                plan(&mut self.rng, SimAct::MaybeConvert);
                if self.rng.next_f64() < j.traffic.unsubscribe {
                    plan(&mut self.rng, SimAct::Unsubscribe);
                }
                if j.def.exit_segment.is_some() && self.rng.next_f64() < 0.01 {
                    plan(&mut self.rng, SimAct::Suppress);
                }
                if let Some(lose) = &j.traffic.lose
                    && now >= self.clock.sim_start + (lose.from_hours * HOUR as f64) as Millis
                    && j.planned_variant(&profile).as_deref() == Some(lose.variant.as_str())
                    && self.rng.next_f64() < lose.share
                {
                    let when = at + (self.rng.next_f64() * lose.after_minutes * 60_000.0) as Millis;
                    self.seq += 1;
                    self.plans.push(Reverse((
                        when,
                        self.seq,
                        idx,
                        profile.clone(),
                        SimAct::Leave,
                    )));
                }
            }
        }
        entries
    }

    /// The planned acts that fall due by `now`, as events.
    async fn due_acts(&mut self, now: Millis) -> anyhow::Result<Vec<TimedEvent>> {
        let mut later = Vec::new();
        while self
            .plans
            .peek()
            .is_some_and(|Reverse((when, ..))| *when <= now)
        {
            let Some(Reverse((when, _, idx, profile, kind))) = self.plans.pop() else {
                break;
            };
            let j = &self.journeys[idx];
            let event = match kind {
                SimAct::MaybeConvert => {
                    let Some(goal) = &j.def.goal else { continue };
                    // The variant it really got: the winner, once one is stored.
                    let p = if j.def.split().is_some() {
                        let actual = self.store.variant_of(&j.def.name, &profile).await?;
                        j.conversion_of(actual.as_deref())
                    } else {
                        j.conversion_for(&profile)
                    };
                    if self.rng.next_f64() >= p {
                        continue;
                    }
                    Event::Named {
                        profile,
                        name: goal.clone(),
                    }
                }
                SimAct::Unsubscribe => Event::Named {
                    profile,
                    name: "unsubscribe".into(),
                },
                SimAct::Leave => Event::Named {
                    profile,
                    name: j
                        .traffic
                        .lose
                        .as_ref()
                        .map_or_else(|| "unsubscribe".into(), |l| l.event.clone()),
                },
                SimAct::Suppress => Event::Segment {
                    profile,
                    segment: "suppressed".into(),
                },
            };
            later.push(TimedEvent { event, at: when });
        }
        Ok(later)
    }

    /// Keeps stepping every half second until the task is dropped.
    pub async fn run_forever(mut self) {
        let mut interval = tokio::time::interval(Duration::from_millis(500));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if let Err(e) = self.step().await {
                tracing::warn!("demo traffic: {e}");
            }
        }
    }
}

//! Seeding the demo: its journeys, three days of history replayed through
//! the engine, and the operators' changes along the way.

use std::io::Write;

use super::catalogue::catalogue;
use super::delivery::DemoChannels;
use super::simulator::{SimJourney, Simulator};
use super::{DAY, HOUR};
use crate::domain::clock::SimClock;
use crate::domain::events::{Event, TimedEvent};
use crate::domain::rng::SplitMix64;
use crate::domain::time::{Millis, now_millis};
use crate::domain::{ActionKind, Definition};
use crate::store::{Actor, OperatorAction, Store, Target};

/// A progress line on standard error while seeding.
fn progress(what: &str, done: u64, total: u64) {
    if total == 0 {
        return;
    }
    let pct = done * 100 / total;
    let width = 30;
    let filled = (pct as usize * width / 100).min(width);
    eprint!(
        "\r{what:<10} [{}{}] {pct:>3}% ({done}/{total})",
        "#".repeat(filled),
        "-".repeat(width - filled)
    );
    let _ = std::io::stderr().flush();
    if done >= total {
        eprintln!();
    }
}

/// Creates the demo's journeys and their history, then the simulator.
pub async fn seed(
    store: Store,
    profiles: u64,
    speed: f64,
    seed: u64,
    show_progress: bool,
) -> anyhow::Result<Simulator> {
    let sim_start = now_millis();
    // The history is simulated up to now; what the store is told is on
    // the wall clock (the history's three simulated days end now).
    let clock = SimClock::new(sim_start, speed);
    let t0 = sim_start - 3 * DAY;
    let demo = Actor::new("demo", crate::store::this_host());
    let mut rng = SplitMix64::new(seed);
    let mut journeys = Vec::new();
    // holiday-promo's entry ends four wall minutes from now.
    for traffic in catalogue(clock.to_wall(sim_start) + 240_000)? {
        let def = Definition::from_toml(&traffic.definition)
            .map_err(|e| anyhow::anyhow!("demo definition: {e}"))?;
        store
            .apply(&on_wall(&def, &clock), &demo, clock.to_wall(t0))
            .await?;
        store.publish(&def.name, &demo, clock.to_wall(t0)).await?;
        journeys.push(SimJourney { def, traffic });
    }
    let (events, next_profile) = history(&journeys, &mut rng, profiles, sim_start);
    let channels = DemoChannels::start().await?;
    let mut replay = Replay {
        store: &store,
        channels: &channels,
        journeys: &journeys,
        clock,
        sim_start,
        next_tick: t0 + HOUR,
        done: Vec::new(),
    };
    replay.run(&events, show_progress).await?;
    // Live traffic goes on from the history's end, from the wall clock's
    // now (seeding took a while: nothing happened meanwhile).
    Ok(Simulator::new(
        store,
        SimClock::new(sim_start, speed),
        rng,
        journeys,
        next_profile,
        channels,
    ))
}

/// Three days of entries, with goal events, unsubscribes and suppressions,
/// in the order they happened; and the next free profile number. The last
/// hour runs at each journey's live rate, so the trends do not show a
/// surge when the console opens.
fn history(
    journeys: &[SimJourney],
    rng: &mut SplitMix64,
    profiles: u64,
    sim_start: Millis,
) -> (Vec<TimedEvent>, u64) {
    let weights: Vec<f64> = journeys
        .iter()
        .map(|j| j.traffic.entries_per_hour.max(120.0))
        .collect();
    let total_w: f64 = weights.iter().sum();
    let mut events: Vec<TimedEvent> = Vec::with_capacity(profiles as usize * 2);
    for i in 0..profiles {
        let mut pick = rng.next_f64() * total_w;
        let mut idx = 0;
        for (k, w) in weights.iter().enumerate() {
            if pick < *w {
                idx = k;
                break;
            }
            pick -= w;
        }
        let j = &journeys[idx];
        // Keep cart-recovery's test young, so the winner comes while you watch.
        let span = if j.def.name == "cart-recovery" {
            2 * HOUR
        } else {
            3 * DAY - HOUR
        };
        let at = sim_start - 1 - (rng.next_f64() * span as f64) as Millis;
        if j.def.name == "cart-recovery" && rng.next_f64() > 0.06 {
            continue;
        }
        entry_events(j, &format!("u-{i:07}"), at, sim_start, rng, &mut events);
    }
    let mut next = profiles;
    // cart-recovery keeps its young test (its story is a winner found
    // while you watch; a full hour of entries at its live rate skews the
    // split it has not yet assigned).
    for j in journeys.iter().filter(|j| j.def.name != "cart-recovery") {
        let have = events
            .iter()
            .filter(|e| e.at >= sim_start - HOUR)
            .filter(|e| matches!(&e.event, Event::Enter { journey, .. } if *journey == j.def.name))
            .count() as f64;
        let missing = (j.traffic.entries_per_hour - have).max(0.0) as u64;
        for _ in 0..missing {
            let at = sim_start - 1 - (rng.next_f64() * HOUR as f64) as Millis;
            entry_events(j, &format!("u-{next:07}"), at, sim_start, rng, &mut events);
            next += 1;
        }
    }
    events.sort_by_key(|e| e.at);
    (events, next)
}

/// One profile's entry at `at` and what follows it before `sim_start`:
/// its goal, an unsubscribe, a suppression, as the journey's traffic says.
fn entry_events(
    j: &SimJourney,
    profile: &str,
    at: Millis,
    sim_start: Millis,
    rng: &mut SplitMix64,
    events: &mut Vec<TimedEvent>,
) {
    if j.traffic.halt.is_some_and(|h| h.covers(sim_start, at)) {
        return;
    }
    events.push(TimedEvent {
        event: Event::Enter {
            journey: j.def.name.clone(),
            profile: profile.to_string(),
        },
        at,
    });
    let before_now = |t: Millis| t.min(sim_start - 1);
    if let Some(goal) = &j.def.goal
        && rng.next_f64() < j.conversion_for(profile)
    {
        let later = at
            + j.first_touch()
            + 60_000
            + (rng.next_f64() * j.traffic.window_hours * HOUR as f64) as Millis;
        events.push(named(profile, goal, before_now(later)));
    }
    if rng.next_f64() < j.traffic.unsubscribe {
        events.push(named(profile, "unsubscribe", before_now(at + 2 * HOUR)));
    }
    if j.def.exit_segment.is_some() && rng.next_f64() < 0.02 {
        events.push(TimedEvent {
            event: Event::Segment {
                profile: profile.to_string(),
                segment: "suppressed".into(),
            },
            at: before_now(at + 3 * HOUR),
        });
    }
}

fn named(profile: &str, name: &str, at: Millis) -> TimedEvent {
    TimedEvent {
        event: Event::Named {
            profile: profile.into(),
            name: name.into(),
        },
        at,
    }
}

/// The operators' changes during the history, each once, at its hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scripted {
    FinishSummerSale,
    StopBlackFriday,
    PublishLoyaltyV2,
}

impl Scripted {
    const ALL: [Scripted; 3] = [
        Scripted::FinishSummerSale,
        Scripted::StopBlackFriday,
        Scripted::PublishLoyaltyV2,
    ];

    /// When it happens, from the start of the history and its end.
    fn at(self, t0: Millis, sim_start: Millis) -> Millis {
        match self {
            Scripted::FinishSummerSale => t0 + 20 * HOUR,
            Scripted::StopBlackFriday => sim_start - 30 * HOUR,
            Scripted::PublishLoyaltyV2 => sim_start - 20 * HOUR,
        }
    }
}

/// A demo definition as the store gets it: its waits as they pass on
/// the wall clock (`speed` times shorter than the campaign's).
pub(super) fn on_wall(def: &Definition, clock: &SimClock) -> Definition {
    let mut def = def.clone();
    for step in &mut def.steps {
        if let crate::domain::Step::Wait { millis, text } = step {
            *millis = clock.span_to_wall(*millis);
            *text = crate::domain::time::duration_words(std::time::Duration::from_millis(
                *millis as u64,
            ));
        }
    }
    def
}

/// Events as the store gets them: at the wall-clock moments they happen.
pub(super) fn events_on_wall(events: &[TimedEvent], clock: &SimClock) -> Vec<TimedEvent> {
    events
        .iter()
        .map(|e| TimedEvent {
            event: e.event.clone(),
            at: clock.to_wall(e.at),
        })
        .collect()
}

/// The history fed to the store as it unfolded: events in chunks, the
/// engine ticking every simulated hour, the scripted changes on time;
/// each told to the store on the wall clock.
struct Replay<'a> {
    store: &'a Store,
    channels: &'a DemoChannels,
    journeys: &'a [SimJourney],
    clock: SimClock,
    sim_start: Millis,
    next_tick: Millis,
    done: Vec<Scripted>,
}

impl Replay<'_> {
    async fn run(&mut self, events: &[TimedEvent], show_progress: bool) -> anyhow::Result<()> {
        let total = events.len() as u64;
        let mut fed = 0u64;
        for chunk in events.chunks(20_000) {
            // Ticks up to each event's time keep waits honest.
            let mut start = 0;
            for (k, e) in chunk.iter().enumerate() {
                if e.at >= self.next_tick {
                    self.ingest(&chunk[start..k]).await?;
                    start = k;
                    self.tick_until(e.at).await?;
                }
            }
            self.ingest(&chunk[start..]).await?;
            fed += chunk.len() as u64;
            if show_progress {
                progress("seeding", fed, total);
            }
        }
        self.tick_until(self.sim_start).await?;
        let end = self.clock.to_wall(self.sim_start);
        self.store.tick(end).await?;
        // The history's messages leave through the real workers too.
        self.channels.deliver(self.store, 500, end).await?;
        Ok(())
    }

    async fn ingest(&self, events: &[TimedEvent]) -> anyhow::Result<()> {
        if !events.is_empty() {
            self.store
                .ingest(&events_on_wall(events, &self.clock))
                .await?;
        }
        Ok(())
    }

    /// Ticks every simulated hour up to `until`, with the scripted changes
    /// that fall due (all of them by the end of the history).
    async fn tick_until(&mut self, until: Millis) -> anyhow::Result<()> {
        let t0 = self.sim_start - 3 * DAY;
        while self.next_tick <= until {
            let at = self.clock.to_wall(self.next_tick);
            self.store.tick(at).await?;
            for change in Scripted::ALL {
                if !self.done.contains(&change) && self.next_tick >= change.at(t0, self.sim_start) {
                    self.done.push(change);
                    self.apply(change, at).await?;
                }
            }
            self.next_tick += HOUR;
        }
        Ok(())
    }

    async fn apply(&self, change: Scripted, at: Millis) -> anyhow::Result<()> {
        let dana = Actor::new("dana", "ops-2");
        let sam = Actor::new("sam", "ops-1");
        match change {
            Scripted::FinishSummerSale => {
                end(
                    self.store,
                    ActionKind::Finish,
                    "summer-sale",
                    "season over",
                    &dana,
                    at,
                )
                .await
            }
            Scripted::StopBlackFriday => {
                let why = "wrong audience segment";
                end(
                    self.store,
                    ActionKind::Stop,
                    "black-friday-teaser",
                    why,
                    &sam,
                    at,
                )
                .await
            }
            Scripted::PublishLoyaltyV2 => {
                publish_loyalty_v2(self.store, self.journeys, &self.clock, &dana, at).await
            }
        }
    }
}

/// The journey edited live: v2 adds an sms; publishing it finishes v1,
/// whose participants drain.
async fn publish_loyalty_v2(
    store: &Store,
    journeys: &[SimJourney],
    clock: &SimClock,
    actor: &Actor,
    at: Millis,
) -> anyhow::Result<()> {
    let Some(j) = journeys.iter().find(|j| j.def.name == "loyalty-upgrade") else {
        return Ok(());
    };
    let mut def = j.def.clone();
    def.steps.insert(
        1,
        crate::domain::Step::Message {
            action: "sms".into(),
        },
    );
    store.apply(&on_wall(&def, clock), actor, at).await?;
    store.publish(&def.name, actor, at).await?;
    Ok(())
}

async fn end(
    store: &Store,
    kind: ActionKind,
    journey: &str,
    reason: &str,
    actor: &Actor,
    at: Millis,
) -> anyhow::Result<()> {
    let action = OperatorAction {
        kind,
        target: Target::Version {
            journey: journey.into(),
            version: None,
        },
        reason: Some(reason.into()),
    };
    store.execute(&action, actor, at).await?;
    Ok(())
}

//! `journeyctl demo`: a store of its own, filled with a campaign an operator
//! would believe, and a simulator that keeps traffic flowing (entries, goal
//! and exit events, segment joins, the engine, a delivery worker) with
//! simulated time running faster than the wall clock.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::cli::Global;
use crate::domain::Definition;
use crate::domain::EndKind;
use crate::domain::events::{Event, TimedEvent};
use crate::domain::rng::{SplitMix64, assign_variant};
use crate::domain::time::{Millis, now_millis};
use crate::store::{Actor, Location, OperatorAction, Store, Target};

#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// How much faster simulated time runs than the wall clock.
    #[arg(long, default_value_t = 60.0)]
    pub speed: f64,
    /// Participants seeded before the console opens.
    #[arg(long, default_value_t = 20_000)]
    pub profiles: u64,
    /// Seed and simulate without the console (until Ctrl-C or --duration).
    #[arg(long)]
    pub no_console: bool,
    /// With --no-console: stop after this many seconds.
    #[arg(long)]
    pub duration: Option<u64>,
    /// Seed of the simulation's random choices.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
}

const HOUR: Millis = 3_600_000;
const DAY: Millis = 24 * HOUR;

/// One journey of the demo: its definition and how traffic treats it.
struct Profile {
    toml: String,
    /// Entries per simulated hour while live.
    entries_per_hour: f64,
    /// Probability that a participant converts, per variant name (or "*").
    conversion: &'static [(&'static str, f64)],
    /// Probability that a participant unsubscribes.
    unsubscribe: f64,
    /// Within how many simulated hours of entering people convert.
    window_hours: f64,
}

fn catalogue(sim_start: Millis, speed: f64) -> Vec<Profile> {
    let holiday_end =
        crate::domain::time::to_rfc3339(sim_start + (speed * 240.0 * 1000.0) as Millis);
    let j = |toml: String,
             entries_per_hour: f64,
             conversion: &'static [(&'static str, f64)],
             unsubscribe: f64| Profile {
        window_hours: if toml.contains("cart-recovery") {
            3.0
        } else {
            24.0
        },
        toml,
        entries_per_hour,
        conversion,
        unsubscribe,
    };
    vec![
        j(
            r#"name = "welcome-series"
goal = "first_purchase"
exit_events = ["unsubscribe"]
exclusion_segment = "staff"
[[steps]]
kind = "message"
action = "email:welcome"
[[steps]]
kind = "wait"
duration = "1d"
[[steps]]
kind = "message"
action = "email:getting-started"
[[steps]]
kind = "wait"
duration = "3d"
[[steps]]
kind = "message"
action = "sms"
"#
            .into(),
            900.0,
            &[("*", 0.18)],
            0.02,
        ),
        j(
            r#"name = "cart-recovery"
goal = "purchase"
exit_events = ["purchase", "unsubscribe"]
[[steps]]
kind = "wait"
duration = "1h"
[[steps]]
kind = "split"
test = "subject-line"
expected_participants = 4000
min_per_variant = 100
variants = [
  { name = "A", weight = 50, action = "email:cart-reminder" },
  { name = "B", weight = 50, action = "email:cart-10-off" },
]
[[steps]]
kind = "wait"
duration = "1d"
[[steps]]
kind = "message"
action = "push"
"#
            .into(),
            1500.0,
            &[("A", 0.06), ("B", 0.13)],
            0.01,
        ),
        j(
            r#"name = "win-back"
goal = "purchase"
exit_events = ["purchase"]
exit_segment = "suppressed"
[[steps]]
kind = "message"
action = "email:we-miss-you"
[[steps]]
kind = "wait"
duration = "7d"
[[steps]]
kind = "message"
action = "email:winback-offer"
"#
            .into(),
            400.0,
            &[("*", 0.05)],
            0.01,
        ),
        j(
            format!(
                r#"name = "holiday-promo"
goal = "purchase"
exit_events = ["unsubscribe"]
entry_end_at = "{holiday_end}"
[[steps]]
kind = "message"
action = "email:holiday"
[[steps]]
kind = "wait"
duration = "12h"
[[steps]]
kind = "message"
action = "sms"
"#
            ),
            1200.0,
            &[("*", 0.09)],
            0.02,
        ),
        j(
            r#"name = "loyalty-upgrade"
goal = "upgrade"
exit_events = ["unsubscribe"]
[[steps]]
kind = "message"
action = "email:tier-news"
[[steps]]
kind = "wait"
duration = "2d"
[[steps]]
kind = "message"
action = "push"
"#
            .into(),
            300.0,
            &[("*", 0.07)],
            0.01,
        ),
        j(
            r#"name = "black-friday-teaser"
goal = "purchase"
[[steps]]
kind = "message"
action = "email:bf-teaser"
[[steps]]
kind = "wait"
duration = "1d"
[[steps]]
kind = "message"
action = "sms"
"#
            .into(),
            0.0,
            &[("*", 0.04)],
            0.0,
        ),
        j(
            r#"name = "summer-sale"
goal = "purchase"
[[steps]]
kind = "message"
action = "email:summer"
[[steps]]
kind = "wait"
duration = "2h"
[[steps]]
kind = "message"
action = "push"
"#
            .into(),
            0.0,
            &[("*", 0.08)],
            0.0,
        ),
        j(
            r#"name = "lead-sync-crm"
goal = "demo_booked"
[[steps]]
kind = "message"
action = "webhook:crm"
[[steps]]
kind = "wait"
duration = "2h"
[[steps]]
kind = "message"
action = "email:sales-intro"
"#
            .into(),
            250.0,
            &[("*", 0.12)],
            0.0,
        ),
        j(
            r#"name = "vip-concierge"
goal = "purchase"
exit_segment = "suppressed"
[[steps]]
kind = "message"
action = "webhook:crm"
[[steps]]
kind = "wait"
duration = "6h"
[[steps]]
kind = "message"
action = "sms"
"#
            .into(),
            60.0,
            &[("*", 0.2)],
            0.0,
        ),
        j(
            r#"name = "browse-abandonment"
goal = "purchase"
exit_events = ["purchase", "unsubscribe"]
[[steps]]
kind = "wait"
duration = "30m"
[[steps]]
kind = "message"
action = "push"
[[steps]]
kind = "wait"
duration = "6h"
[[steps]]
kind = "message"
action = "email:still-interested"
"#
            .into(),
            1100.0,
            &[("*", 0.04)],
            0.02,
        ),
        j(
            r#"name = "birthday-rewards"
goal = "redeem"
[[steps]]
kind = "message"
action = "email:birthday"
[[steps]]
kind = "wait"
duration = "3d"
[[steps]]
kind = "message"
action = "sms"
"#
            .into(),
            150.0,
            &[("*", 0.3)],
            0.0,
        ),
        j(
            r#"name = "app-onboarding"
goal = "activated"
exit_events = ["uninstall"]
[[steps]]
kind = "message"
action = "push"
[[steps]]
kind = "wait"
duration = "1d"
[[steps]]
kind = "message"
action = "push"
[[steps]]
kind = "wait"
duration = "2d"
[[steps]]
kind = "message"
action = "email:tips"
"#
            .into(),
            700.0,
            &[("*", 0.22)],
            0.03,
        ),
    ]
}

/// Simulated time: starts at the wall clock and runs `speed` times faster.
#[derive(Debug, Clone, Copy)]
pub struct SimClock {
    wall_start: Millis,
    pub sim_start: Millis,
    pub speed: f64,
}

impl SimClock {
    pub fn new(sim_start: Millis, speed: f64) -> SimClock {
        SimClock {
            wall_start: now_millis(),
            sim_start,
            speed,
        }
    }

    pub fn now(&self) -> Millis {
        self.at_wall(now_millis())
    }

    /// The simulated time at a wall-clock time.
    pub fn at_wall(&self, wall: Millis) -> Millis {
        self.sim_start + ((wall - self.wall_start).max(0) as f64 * self.speed) as Millis
    }
}

/// The demo's own store: a fresh SQLite file beside the default store, or
/// the schema `journeyctl_demo` of the PostgreSQL database given with
/// `--database-url` (never the operator's tables).
pub async fn demo_store(explicit_url: Option<&str>) -> anyhow::Result<Store> {
    match explicit_url {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let admin = Store::open(&Location::parse(url)?, &Default::default()).await?;
            sqlx::raw_sql(
                "DROP SCHEMA IF EXISTS journeyctl_demo CASCADE; CREATE SCHEMA journeyctl_demo",
            )
            .execute(admin.pool())
            .await?;
            admin.close().await;
            let sep = if url.contains('?') { '&' } else { '?' };
            let demo_url = format!("{url}{sep}options=-c%20search_path%3Djourneyctl_demo");
            Ok(Store::connect(&Location::parse(&demo_url)?).await?)
        }
        Some(url) => {
            let loc = Location::parse(url)?;
            if let Location::Sqlite(path) = &loc {
                remove_sqlite(path);
            }
            Ok(Store::connect(&loc).await?)
        }
        None => {
            let path = demo_sqlite_path();
            remove_sqlite(&path);
            Ok(Store::connect(&Location::Sqlite(path)).await?)
        }
    }
}

pub fn demo_sqlite_path() -> PathBuf {
    crate::store::default_sqlite_path().with_file_name("demo.db")
}

fn remove_sqlite(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

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
}

/// Something an entrant will do: when, a tie-breaker, the journey's
/// index, the profile, and what.
type Plan = (Millis, u64, usize, String, SimAct);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum SimAct {
    MaybeConvert,
    Unsubscribe,
    Suppress,
}

struct SimJourney {
    def: Definition,
    entries_per_hour: f64,
    conversion: &'static [(&'static str, f64)],
    unsubscribe: f64,
    window_hours: f64,
}

impl SimJourney {
    /// How long after entering the first message goes out: nobody acts on
    /// a message before it arrives.
    fn first_touch(&self) -> Millis {
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

    fn conversion_for(&self, profile: &str) -> f64 {
        self.conversion_of(self.planned_variant(profile).as_deref())
    }

    fn conversion_of(&self, variant: Option<&str>) -> f64 {
        let name = variant.unwrap_or("*");
        self.conversion
            .iter()
            .find(|(n, _)| *n == name)
            .or_else(|| self.conversion.iter().find(|(n, _)| *n == "*"))
            .map_or(0.0, |(_, p)| *p)
    }
}

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
    let t0 = sim_start - 3 * DAY;
    let demo = Actor::new("demo", crate::store::this_host());
    let dana = Actor::new("dana", "ops-2");
    let sam = Actor::new("sam", "ops-1");
    let mut rng = SplitMix64::new(seed);
    let cat = catalogue(sim_start, speed);
    let mut journeys = Vec::new();
    for p in cat {
        let def =
            Definition::from_toml(&p.toml).map_err(|e| anyhow::anyhow!("demo definition: {e}"))?;
        store.apply(&def, &demo, t0).await?;
        store.publish(&def.name, &demo, t0).await?;
        journeys.push(SimJourney {
            def,
            entries_per_hour: p.entries_per_hour,
            conversion: p.conversion,
            unsubscribe: p.unsubscribe,
            window_hours: p.window_hours,
        });
    }
    // History: entries spread over the last three days, with goal events,
    // unsubscribes and suppressions, in event order.
    let weights: Vec<f64> = journeys
        .iter()
        .map(|j| j.entries_per_hour.max(120.0))
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
        let profile = format!("u-{i:07}");
        events.push(TimedEvent {
            event: Event::Enter {
                journey: j.def.name.clone(),
                profile: profile.clone(),
            },
            at,
        });
        if let Some(goal) = &j.def.goal
            && rng.next_f64() < j.conversion_for(&profile)
        {
            let later = at
                + j.first_touch()
                + 60_000
                + (rng.next_f64() * j.window_hours * HOUR as f64) as Millis;
            events.push(TimedEvent {
                event: Event::Goal {
                    profile: profile.clone(),
                    name: goal.clone(),
                },
                at: later.min(sim_start - 1),
            });
        }
        if rng.next_f64() < j.unsubscribe {
            events.push(TimedEvent {
                event: Event::Goal {
                    profile: profile.clone(),
                    name: "unsubscribe".into(),
                },
                at: (at + 2 * HOUR).min(sim_start - 1),
            });
        }
        if j.def.exit_segment.is_some() && rng.next_f64() < 0.02 {
            events.push(TimedEvent {
                event: Event::Segment {
                    profile: profile.clone(),
                    segment: "suppressed".into(),
                },
                at: (at + 3 * HOUR).min(sim_start - 1),
            });
        }
    }
    events.sort_by_key(|e| e.at);
    // The engine runs as history unfolds: every simulated hour.
    let total = events.len() as u64;
    let mut done = 0u64;
    let mut next_tick = t0 + HOUR;
    let mut loyalty_v2 = false;
    let mut bf_stopped = false;
    let mut summer_finished = false;
    for chunk in events.chunks(20_000) {
        let last = chunk.last().map_or(t0, |e| e.at);
        // Ticks up to this chunk's times keep waits honest.
        let mut start = 0;
        for (k, e) in chunk.iter().enumerate() {
            if e.at >= next_tick {
                store.ingest(&chunk[start..k]).await?;
                start = k;
                while next_tick <= e.at {
                    store.tick(next_tick).await?;
                    if !summer_finished && next_tick >= t0 + 20 * HOUR {
                        summer_finished = true;
                        end(
                            &store,
                            EndKind::Finish,
                            "summer-sale",
                            "season over",
                            &dana,
                            next_tick,
                        )
                        .await?;
                    }
                    if !bf_stopped && next_tick >= sim_start - 30 * HOUR {
                        bf_stopped = true;
                        end(
                            &store,
                            EndKind::Stop,
                            "black-friday-teaser",
                            "wrong audience segment",
                            &sam,
                            next_tick,
                        )
                        .await?;
                    }
                    if !loyalty_v2 && next_tick >= sim_start - 20 * HOUR {
                        loyalty_v2 = true;
                        publish_loyalty_v2(&store, &journeys, &dana, next_tick).await?;
                    }
                    next_tick += HOUR;
                }
            }
        }
        store.ingest(&chunk[start..]).await?;
        let _ = last;
        done += chunk.len() as u64;
        if show_progress {
            progress("seeding", done, total);
        }
    }
    while next_tick <= sim_start {
        store.tick(next_tick).await?;
        next_tick += HOUR;
    }
    if !summer_finished {
        end(
            &store,
            EndKind::Finish,
            "summer-sale",
            "season over",
            &dana,
            sim_start - 2 * DAY,
        )
        .await?;
    }
    if !bf_stopped {
        end(
            &store,
            EndKind::Stop,
            "black-friday-teaser",
            "wrong audience segment",
            &sam,
            sim_start - DAY,
        )
        .await?;
    }
    if !loyalty_v2 {
        publish_loyalty_v2(&store, &journeys, &dana, sim_start - 1).await?;
    }
    store.tick(sim_start).await?;
    store.deliver(i64::MAX / 4, sim_start).await?;
    Ok(Simulator {
        store,
        clock: SimClock::new(sim_start, speed),
        rng,
        carry: vec![0.0; journeys.len()],
        plans: BinaryHeap::new(),
        seq: 0,
        journeys,
        next_profile: profiles,
        last_sim: sim_start,
    })
}

/// The journey edited live: v2 adds an sms; publishing it finishes v1,
/// whose participants drain.
async fn publish_loyalty_v2(
    store: &Store,
    journeys: &[SimJourney],
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
    store.apply(&def, actor, at).await?;
    store.publish(&def.name, actor, at).await?;
    Ok(())
}

async fn end(
    store: &Store,
    kind: EndKind,
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
    /// Advances the simulation to the clock's now: new entries, goal and
    /// exit events, segment joins, one engine tick, one delivery round.
    pub async fn step(&mut self) -> anyhow::Result<StepReport> {
        let now = self.clock.now().max(self.last_sim + 1);
        self.step_to(now).await
    }

    /// Advances to a given simulated time (tests drive it directly).
    pub async fn step_to(&mut self, now: Millis) -> anyhow::Result<StepReport> {
        let span = (now - self.last_sim).max(0);
        let dt_hours = span as f64 / HOUR as f64;
        let mut entries = Vec::new();
        for (idx, j) in self.journeys.iter().enumerate() {
            let expected = j.entries_per_hour * dt_hours + self.carry[idx];
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
                let window = (j.window_hours * HOUR as f64) as Millis;
                let mut plan = |rng: &mut SplitMix64, kind: SimAct| {
                    let when = touch + (rng.next_f64() * window as f64) as Millis;
                    self.seq += 1;
                    self.plans
                        .push(Reverse((when, self.seq, idx, profile.clone(), kind)));
                };
                plan(&mut self.rng, SimAct::MaybeConvert);
                if self.rng.next_f64() < j.unsubscribe {
                    plan(&mut self.rng, SimAct::Unsubscribe);
                }
                if j.def.exit_segment.is_some() && self.rng.next_f64() < 0.01 {
                    plan(&mut self.rng, SimAct::Suppress);
                }
            }
        }
        entries.sort_by_key(|e| e.at);
        let mut report = self.store.ingest(&entries).await?;
        let tick = self.store.tick(now).await?;
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
                    Event::Goal {
                        profile,
                        name: goal.clone(),
                    }
                }
                SimAct::Unsubscribe => Event::Goal {
                    profile,
                    name: "unsubscribe".into(),
                },
                SimAct::Suppress => Event::Segment {
                    profile,
                    segment: "suppressed".into(),
                },
            };
            later.push(TimedEvent { event, at: when });
        }
        report.merge(self.store.ingest(&later).await?);
        let sent = self.store.deliver(5_000, now).await?;
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

pub async fn run(args: DemoArgs, g: &Global, actor: Actor) -> anyhow::Result<()> {
    if args.speed <= 0.0 || !args.speed.is_finite() {
        anyhow::bail!("--speed must be a positive number");
    }
    // DATABASE_URL names the operator's store: the demo never uses it.
    let explicit = g
        .database_url
        .as_deref()
        .filter(|u| std::env::var("DATABASE_URL").ok().as_deref() != Some(*u));
    let store = demo_store(explicit).await?;
    let where_ = store.location().display();
    eprintln!(
        "journeyctl demo: seeding {} profiles into {where_} …",
        args.profiles
    );
    let sim = seed(store.clone(), args.profiles, args.speed, args.seed, true).await?;
    if args.no_console {
        eprintln!("simulating at {}x; Ctrl-C stops", args.speed);
        let started = Instant::now();
        let mut sim = sim;
        let mut last_report = Instant::now();
        let mut interval = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                _ = interval.tick() => {}
                _ = tokio::signal::ctrl_c() => break,
            }
            let r = sim.step().await?;
            if last_report.elapsed() >= Duration::from_secs(5) {
                last_report = Instant::now();
                eprintln!(
                    "sim {}: +{} entered, {} events, {} steps, {} sent",
                    crate::domain::time::short(r.sim_now),
                    r.entered,
                    r.events,
                    r.steps,
                    r.sent
                );
            }
            if args
                .duration
                .is_some_and(|d| started.elapsed() >= Duration::from_secs(d))
            {
                break;
            }
        }
        return Ok(());
    }
    let clock = sim.clock;
    let traffic = tokio::spawn(sim.run_forever());
    let banner = format!(
        "DEMO store ({where_}), simulated traffic at {}×",
        args.speed
    );
    let console = crate::tui::Console {
        read_only: g.read_only,
        refresh: g.refresh,
        banner: Some(banner),
        sim_clock: Some(clock),
    };
    let result = crate::tui::run_console(store, actor, console).await;
    traffic.abort();
    result
}

/// `journeyctl screenshots`: renders the real console over a freshly
/// simulated demo store and writes the pictures as SVG.
pub async fn screenshots(out: &std::path::Path) -> anyhow::Result<()> {
    use crate::tui::app::{App, Context, Msg};
    use crate::tui::theme::Theme;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    std::fs::create_dir_all(out)?;
    let dir = std::env::temp_dir().join(format!("journeyctl-screenshots-{}", std::process::id()));
    let path = dir.join("demo.db");
    remove_sqlite(&path);
    let store = Store::connect(&Location::Sqlite(path.clone())).await?;
    let mut sim = seed(store.clone(), 20_000, 60.0, 2026, false).await?;
    // Four simulated hours: the cart-recovery test reaches its verdict.
    let start = sim.clock.sim_start;
    for k in 1..=24 {
        sim.step_to(start + k * 10 * 60_000).await?;
    }
    let now = start + 4 * HOUR;
    let ctx = Context {
        store: "sqlite ~/.local/share/journeyctl/journeyctl.db".into(),
        operator: "alice@ops-1".into(),
        read_only: false,
        banner: None,
        refresh: std::time::Duration::from_secs(2),
        sim_clock: None,
    };
    let theme = Theme { color: true };
    let mut app = App::new(ctx, now);
    let key = |c: KeyCode| Msg::Key(KeyEvent::new(c, KeyModifiers::NONE));
    load(&store, &mut app, now).await?;
    let write = |name: &str, app: &App| -> anyhow::Result<()> {
        let buf = crate::tui::render(app, &theme, 120, 35);
        std::fs::write(
            out.join(format!("{name}.svg")),
            crate::tui::svg::buffer_svg(&buf),
        )?;
        std::fs::write(
            out.join(format!("{name}.txt")),
            crate::tui::buffer_text(&buf),
        )?;
        Ok(())
    };
    write("main", &app)?;
    // The cart-recovery journey's detail.
    while app
        .selected_version()
        .is_some_and(|v| v.journey != "cart-recovery")
    {
        app.update(key(KeyCode::Down));
    }
    app.update(key(KeyCode::Enter));
    app.take_effects();
    load(&store, &mut app, now).await?;
    write("detail", &app)?;
    // The stop pane, name half typed.
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Char('s')));
    app.update(key(KeyCode::Tab));
    for c in "cart-rec".chars() {
        app.update(key(KeyCode::Char(c)));
    }
    app.take_effects();
    load(&store, &mut app, now).await?;
    write("stop-pane", &app)?;
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// One refresh into an off-screen console, as the data task would do it.
async fn load(store: &Store, app: &mut crate::tui::app::App, now: Millis) -> anyhow::Result<()> {
    let mut snap = crate::tui::fetch::fetch(store, &app.want())
        .await
        .map_err(anyhow::Error::msg)?;
    snap.fetched_at = now - 1_000;
    app.update(crate::tui::app::Msg::Data(Box::new(snap)));
    app.take_effects();
    Ok(())
}

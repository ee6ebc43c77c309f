//! Each command of the CLI: its arguments (a struct in `args.rs`) and
//! its own `run`, which opens the store when it needs one.

use super::args::{self, CliCommand};
use super::{
    Global, config, deliver, docs, end, engine, ingest, schedule, table, trend, verdict, watch,
};
use crate::domain::{Definition, Millis};
use crate::store::{Actor, Grant, Store};

/// What every command runs with: the global options, who acts, and when
/// it started.
pub(super) struct Cx {
    pub global: Global,
    pub actor: Actor,
    pub now: Millis,
    /// The store's name: the config file's, else the file's or database's.
    pub store_name: String,
}

impl Cx {
    /// The store, its schema brought up to date unless read-only. `loads`:
    /// the command loads a store, so a missing SQLite file may be made.
    pub(super) async fn store(&self, loads: bool) -> anyhow::Result<Store> {
        super::open_store(&self.global, loads).await
    }
}

impl CliCommand {
    pub(super) async fn run(self, cx: &Cx) -> anyhow::Result<()> {
        match self {
            CliCommand::Migrate(c) => c.run(cx).await,
            CliCommand::Apply(c) => c.run(cx).await,
            CliCommand::Publish(c) => c.run(cx).await,
            CliCommand::Ingest(c) => c.run(cx).await,
            CliCommand::Tick(c) => c.run(cx).await,
            CliCommand::Run(c) => c.run(cx).await,
            CliCommand::List(c) => c.run(cx).await,
            CliCommand::Audit(c) => c.run(cx).await,
            CliCommand::Watch(c) => c.run(cx).await,
            CliCommand::Profile(c) => c.run(cx).await,
            CliCommand::Finish(c) => {
                let when = c.when.clone();
                act(cx, c.asked()?, when).await
            }
            CliCommand::Stop(c) => {
                let when = c.target.when.clone();
                act(cx, c.asked(&cx.store_name)?, when).await
            }
            CliCommand::Pause(c) => {
                let when = c.target.when.clone();
                act(cx, c.asked(&cx.store_name)?, when).await
            }
            CliCommand::Resume(c) => {
                let when = c.target.when.clone();
                act(cx, c.asked(&cx.store_name)?, when).await
            }
            CliCommand::Verdict(c) => c.run(cx).await,
            CliCommand::Deliver(c) => c.run(cx).await,
            CliCommand::Trend(c) => c.run(cx).await,
            CliCommand::Channels(c) => c.run(cx).await,
            CliCommand::Rate(c) => c.run(cx).await,
            CliCommand::Hold(c) => c.run(cx).await,
            CliCommand::Release(c) => c.run(cx).await,
            CliCommand::Scheduled(c) => c.run(cx).await,
            CliCommand::Unschedule(c) => c.run(cx).await,
            CliCommand::Forecast(c) => c.run(cx).await,
            CliCommand::Variant(c) => c.run(cx).await,
            CliCommand::Note(c) => c.run(cx).await,
            CliCommand::Claim(c) => c.run(cx).await,
            CliCommand::Unclaim(c) => c.run(cx).await,
            CliCommand::Policy(c) => c.run(cx).await,
            CliCommand::Alerts(c) => c.run(cx).await,
            CliCommand::Approvals(c) => c.run(cx).await,
            CliCommand::Approve(c) => c.run(cx).await,
            CliCommand::Check(_) => check(&cx.store(false).await?).await,
            CliCommand::Stores(_) => config::stores(),
            CliCommand::Grant(c) => c.run(cx).await,
            CliCommand::Completions(c) => docs::completions(c.shell),
            CliCommand::Man(_) => docs::man_page(),
        }
    }
}

/// An operator's finish, stop, pause or resume, now or at its time.
async fn act(cx: &Cx, asked: end::Asked, when: schedule::At) -> anyhow::Result<()> {
    if let Some(at) = &when.at {
        let typed = asked.action.typed_name();
        let intent = crate::domain::schedule::Intent::Act(asked.action);
        return schedule::schedule_command(cx, intent, at, (asked.yes, typed)).await;
    }
    let store = cx.store(false).await?;
    let impact = store.preview(&asked.action).await;
    if let Ok(impact) = &impact {
        let versions: Vec<(String, i64)> = impact
            .versions
            .iter()
            .map(|v| (v.journey.clone(), v.version))
            .collect();
        super::team::say_claims(&store, &versions, &cx.actor.name, cx.now).await?;
    }
    end::end_command(&store, asked, &cx.actor, cx.global.lock_timeout).await
}

impl args::Migrate {
    async fn run(self, cx: &Cx) -> anyhow::Result<()> {
        let created = super::store_is_missing(&cx.global).await?;
        let store = cx.store(true).await?;
        if !created {
            println!("schema is up to date ({})", store.location().display());
            return Ok(());
        }
        println!("created a journeyctl store: {}", store.location().display());
        if let Some((shards, nodes)) = store.cluster_layout().await? {
            println!(
                "laid out over the Citus cluster: participants and messages in {shards} shards on {nodes} nodes"
            );
        }
        Ok(())
    }
}

impl args::Apply {
    async fn run(self, cx: &Cx) -> anyhow::Result<()> {
        // Read the definition before touching the store, so a bad file
        // never waits on a database.
        let def = read_definition(&self.file)?;
        let store = cx.store(true).await?;
        apply(&store, &def, &cx.actor, cx.now).await?;
        if self.publish {
            let asked = end::PublishAsked {
                journey: &def.name,
                reason: None,
                yes: self.yes,
                always: false,
            };
            end::publish_command(&store, asked, &cx.actor, cx.now).await?;
        }
        Ok(())
    }
}

impl args::Publish {
    async fn run(self, cx: &Cx) -> anyhow::Result<()> {
        if let Some(at) = &self.when.at {
            let intent = crate::domain::schedule::Intent::Publish {
                journey: self.journey.clone(),
                reason: self.reason.clone(),
            };
            return schedule::schedule_command(cx, intent, at, (self.yes, None)).await;
        }
        let store = cx.store(false).await?;
        let asked = end::PublishAsked {
            journey: &self.journey,
            reason: self.reason.as_deref(),
            yes: self.yes,
            always: true,
        };
        end::publish_command(&store, asked, &cx.actor, cx.now).await
    }
}

impl args::Ingest {
    async fn run(self, cx: &Cx) -> anyhow::Result<()> {
        let store = cx.store(true).await?;
        ingest::ingest(&store, self.file, self.json, cx.now).await
    }
}

impl args::Tick {
    async fn run(self, cx: &Cx) -> anyhow::Result<()> {
        let store = cx.store(false).await?;
        engine::tick(&store, self.now, self.json, cx.now).await
    }
}

impl args::Run {
    async fn run(self, cx: &Cx) -> anyhow::Result<()> {
        let store = cx.store(false).await?;
        if let Some(to) = &self.alerts.to {
            // Beside the engine, on its own handle and its own clock.
            let rules = super::alerts::read_rules(self.alerts.rules.as_ref())?;
            let url = super::alerts::webhook_url(to)?;
            let every = std::time::Duration::from_secs(30)
                .min(self.interval.max(std::time::Duration::from_secs(1)) * 30);
            // The first round once the engine has gone round.
            let first = (self.interval * 2).max(std::time::Duration::from_secs(2));
            let posting = super::alerts::keep_posting(store.clone(), rules, url, (first, every));
            tokio::spawn(posting);
        } else if self.alerts.rules.is_some() {
            anyhow::bail!("--alert-rules goes with --alerts URL");
        }
        engine::run(&store, self.interval, self.metrics).await
    }
}

impl args::List {
    async fn run(self, cx: &Cx) -> anyhow::Result<()> {
        let store = cx.store(false).await?;
        let list = store.list(self.all).await?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&list)?);
        } else {
            print!("{}", table::list_table(&list, cx.now));
        }
        Ok(())
    }
}

impl args::Audit {
    async fn run(self, cx: &Cx) -> anyhow::Result<()> {
        let filter = self.filter(cx.now)?;
        let store = cx.store(false).await?;
        let limit = match (self.limit, self.json) {
            (Some(n), _) => Some(n),
            (None, true) => None,
            (None, false) => Some(1000),
        };
        let (entries, total) = store.audit_matching(&filter, limit).await?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&entries)?);
        } else {
            print!("{}", table::audit_table(&entries));
            if (entries.len() as i64) < total {
                println!(
                    "showing {} of {} (--limit, --since)",
                    crate::present::thousands(entries.len() as i64),
                    crate::present::thousands(total)
                );
            }
        }
        Ok(())
    }

    /// The rows asked for: `--since` a duration ago or a time, `--until`,
    /// `--actor`, `--action a,b`, `--journey`, `--incident`.
    fn filter(&self, now: crate::domain::Millis) -> anyhow::Result<crate::store::AuditFilter> {
        use crate::domain::time::{parse_duration, parse_rfc3339};
        let since = match &self.since {
            None => None,
            Some(t) => Some(
                parse_rfc3339(t)
                    .or_else(|_| parse_duration(t).map(|d| now - d))
                    .map_err(|_| {
                        anyhow::anyhow!("--since {t:?}: give a duration (2h) or an RFC 3339 time")
                    })?,
            ),
        };
        let until = match &self.until {
            None => None,
            Some(t) => Some(parse_rfc3339(t).map_err(|e| anyhow::anyhow!("--until: {e}"))?),
        };
        Ok(crate::store::AuditFilter {
            since,
            until,
            actor: self.actor.clone(),
            actions: self
                .action
                .iter()
                .flat_map(|a| a.split(','))
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty())
                .collect(),
            journey: self.journey.clone(),
            incident: self.incident.clone(),
        })
    }
}

impl args::Watch {
    async fn run(self, cx: &Cx) -> anyhow::Result<()> {
        let store = cx.store(false).await?;
        watch::watch(&store, self.journey.as_deref(), self.json).await
    }
}

impl args::Profile {
    async fn run(self, cx: &Cx) -> anyhow::Result<()> {
        let store = cx.store(false).await?;
        profile_of(&store, &self.profile, self.json).await
    }
}

impl args::Verdict {
    async fn run(self, cx: &Cx) -> anyhow::Result<()> {
        let Some(journey) = self.journey else {
            // Given counts: no store.
            if !self.srm.is_empty() {
                return verdict::srm_command(&self.srm, self.json);
            }
            return verdict::verdict_command(
                &self.arms,
                self.expected,
                self.min_per_variant,
                self.json,
            );
        };
        let store = cx.store(false).await?;
        verdict::live_verdict(&store, &journey, self.version, self.json).await
    }
}

impl args::Deliver {
    async fn run(self, cx: &Cx) -> anyhow::Result<()> {
        let channels = deliver::read_channels(&self.channels)?;
        let store = cx.store(false).await?;
        deliver::deliver_command(&store, &channels, self).await
    }
}

impl args::Trend {
    async fn run(self, cx: &Cx) -> anyhow::Result<()> {
        let store = cx.store(false).await?;
        let (journey, version, since) = (&self.journey, self.version, self.since);
        trend::trend(&store, journey, version, since, self.json, cx.now).await
    }
}

impl args::Channels {
    async fn run(self, cx: &Cx) -> anyhow::Result<()> {
        let channels = match &self.channels {
            Some(file) => Some(
                crate::delivery::Channels::load_routing(file).map_err(|e| anyhow::anyhow!(e))?,
            ),
            None => None,
        };
        let store = cx.store(false).await?;
        deliver::channels(&store, channels.as_ref(), self.json).await
    }
}

fn read_definition(file: &std::path::Path) -> anyhow::Result<Definition> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    Definition::from_toml(&text).map_err(|e| anyhow::anyhow!("{}", at_line(file, &e)))
}

async fn apply(store: &Store, def: &Definition, actor: &Actor, now: i64) -> anyhow::Result<()> {
    if let Some(end) = def.entry_end_at.filter(|end| *end <= now) {
        eprintln!(
            "journeyctl apply: warning: entry_end_at {} has passed: this journey takes no entry (each is refused entry_ended)",
            crate::domain::time::to_rfc3339(end)
        );
    }
    let applied = store.apply(def, actor, now).await?;
    println!(
        "{} {} v{} (draft)",
        if applied.created {
            "created"
        } else {
            "updated"
        },
        applied.journey,
        applied.version
    );
    Ok(())
}

impl args::Grant {
    async fn run(self, cx: &Cx) -> anyhow::Result<()> {
        let store = cx.store(false).await?;
        grant(&store, self).await
    }
}

async fn grant(store: &Store, g: args::Grant) -> anyhow::Result<()> {
    let (role, level) = match (g.viewer, g.operator, g.engine) {
        (Some(role), None, None) => (role, Grant::Viewer),
        (None, Some(role), None) => (role, Grant::Operator),
        (None, None, Some(role)) => (role, Grant::Engine),
        _ => anyhow::bail!("say one of --viewer ROLE, --operator ROLE or --engine ROLE"),
    };
    let done = store.grant(&role, level).await?;
    println!(
        "{} is now {} {} of schema {} ({} tables)",
        done.role,
        if matches!(level, Grant::Viewer) {
            "a"
        } else {
            "an"
        },
        level.as_str(),
        done.schema,
        done.tables
    );
    Ok(())
}

async fn profile_of(store: &Store, profile: &str, json: bool) -> anyhow::Result<()> {
    let entries = store.profile(profile).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
    } else if entries.is_empty() {
        println!("{profile} has not entered any journey");
    } else {
        for e in entries {
            // Steps numbered from 1, as the console numbers them.
            let place = match (e.next_step, &e.next_due) {
                (Some(n), Some(due)) => format!(", next step {n} due {due}"),
                _ => String::new(),
            };
            let line = format!(
                "{} v{}: {}{place}{}{}{}",
                e.journey,
                e.version,
                e.state,
                e.variant
                    .map(|v| format!(", variant {v}"))
                    .unwrap_or_default(),
                if e.converted { ", converted" } else { "" },
                e.exit_reason
                    .map(|r| format!(", exit {r}"))
                    .unwrap_or_default()
            );
            println!("{}", crate::present::escaped(&line));
        }
    }
    Ok(())
}

async fn check(store: &Store) -> anyhow::Result<()> {
    let diffs = store.verify_counters().await?;
    if diffs.is_empty() {
        println!(
            "every counter equals a recount of the rows, and every version stands where its audit trail ends"
        );
        return Ok(());
    }
    for d in &diffs {
        println!("{}", crate::present::escaped(d));
    }
    anyhow::bail!(
        "{} figure(s) differ from a recount of the rows or from the audit trail",
        diffs.len()
    )
}

/// `FILE:LINE: what` from a definition's `line N: what` or the parser's
/// `TOML parse error at line N, column C: what`; else `FILE: what`.
fn at_line(file: &std::path::Path, e: &str) -> String {
    let numbered = |rest: &str| -> Option<(usize, String)> {
        let (n, what) = rest.split_once([':', ','])?;
        let what = what.split_once(": ").map_or(what, |(col, w)| {
            if col.trim_start().starts_with("column") {
                w
            } else {
                what
            }
        });
        Some((n.trim().parse().ok()?, what.trim().to_string()))
    };
    let found = e
        .strip_prefix("line ")
        .or_else(|| e.strip_prefix("TOML parse error at line "))
        .and_then(numbered);
    match found {
        Some((line, what)) => format!("{}:{line}: {what}", file.display()),
        None => format!("{}: {e}", file.display()),
    }
}

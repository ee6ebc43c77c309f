//! `journeyctl alerts`: the alerts that hold now (`--check`, exit 1 while
//! any does), or posted to a chat webhook as they begin and end (`--to
//! URL`, every `--every`; `--once` for one round); `run --alerts URL`
//! does the same beside the engine.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::alerts::rules::Rule;
use crate::alerts::{Firing, holding, push};
use crate::domain::time::now_millis;
use crate::store::Store;

/// `alerts [--rules FILE] [--check] [--json] [--to URL] [--every 30s] [--once]`.
#[derive(Debug, Clone, Args)]
pub struct AlertsArgs {
    /// A team's own rules (alerts.toml), beside the built-in alerts.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Print the alerts that hold now; exit 1 if any does (cron,
    /// monitoring).
    #[arg(long)]
    pub check: bool,
    #[arg(long)]
    pub json: bool,
    /// Post each alert to this webhook as it begins and once as it ends
    /// (`${VAR}` takes it from the environment, so a token stays out of
    /// the command line).
    #[arg(long, value_name = "URL")]
    pub to: Option<String>,
    /// How often to look (with --to).
    #[arg(long, default_value = "30s", value_parser = super::values::parse_duration_arg)]
    pub every: Duration,
    /// One round, then exit (with --to).
    #[arg(long)]
    pub once: bool,
}

/// The alerts' options of `run`.
#[derive(Debug, Clone, Args)]
pub struct RunAlerts {
    /// Post alerts to this webhook beside the engine (as `alerts --to`).
    #[arg(long = "alerts", value_name = "URL")]
    pub to: Option<String>,
    /// A team's own rules for --alerts.
    #[arg(long = "alert-rules", value_name = "FILE")]
    pub rules: Option<PathBuf>,
}

/// Reads the rules file; its mistakes as `FILE:LINE: key: why`.
pub fn read_rules(path: Option<&PathBuf>) -> anyhow::Result<Vec<Rule>> {
    let Some(path) = path else {
        return Ok(Vec::new());
    };
    let text = super::config::read_own_file(path)
        .map_err(anyhow::Error::msg)?
        .ok_or_else(|| anyhow::anyhow!("{}: no such file", path.display()))?;
    crate::alerts::rules::parse(path, &text).map_err(anyhow::Error::msg)
}

/// `${VAR}` from the environment, else the URL as given; only http(s).
pub fn webhook_url(to: &str) -> anyhow::Result<String> {
    let url = match to.strip_prefix("${").and_then(|v| v.strip_suffix('}')) {
        Some(var) => std::env::var(var).map_err(|_| {
            anyhow::anyhow!("--to ${{{var}}}: the environment variable {var} is not set")
        })?,
        None => to.to_string(),
    };
    let parsed = reqwest::Url::parse(&url).map_err(|e| anyhow::anyhow!("--to: not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        anyhow::bail!("--to: an http or https URL");
    }
    Ok(url)
}

/// Where posts go, without what may be a secret (path, query).
fn shown_host(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(|h| format!("{}://{h}", u.scheme())))
        .unwrap_or_else(|| "the webhook".into())
}

impl AlertsArgs {
    pub(super) async fn run(self, cx: &super::commands::Cx) -> anyhow::Result<()> {
        let rules = read_rules(self.rules.as_ref())?;
        let store = cx.store(false).await?;
        let Some(to) = &self.to else {
            return check(&store, &rules, self.json, cx.now).await;
        };
        let url = webhook_url(to)?;
        if self.once {
            let told = one_round(&store, &rules, &url).await?;
            say(&told);
            return Ok(());
        }
        eprintln!(
            "journeyctl alerts: posting to {} every {} (Ctrl-C to stop)",
            shown_host(&url),
            crate::domain::time::duration_words(self.every)
        );
        keep_posting(store, rules, url, (Duration::ZERO, self.every)).await;
        Ok(())
    }
}

/// `--check`: the alerts that hold, and exit 1 when any does.
async fn check(store: &Store, rules: &[Rule], json: bool, now: i64) -> anyhow::Result<()> {
    let now_holding: Vec<Firing> = holding(store, rules, now).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&now_holding)?);
    } else if now_holding.is_empty() {
        println!("no alert holds");
    } else {
        for f in &now_holding {
            println!("{}", crate::present::escaped(&f.text));
        }
    }
    if now_holding.is_empty() {
        Ok(())
    } else {
        Err(AlertsHold(now_holding.len()).into())
    }
}

/// `alerts --check` found some: exit status 1.
#[derive(Debug)]
pub struct AlertsHold(pub usize);

impl std::fmt::Display for AlertsHold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} alert(s) hold", self.0)
    }
}

impl std::error::Error for AlertsHold {}

async fn one_round(store: &Store, rules: &[Rule], url: &str) -> anyhow::Result<push::Told> {
    let now = now_millis();
    let now_holding = holding(store, rules, now).await?;
    let http = crate::delivery::send::http_client();
    Ok(push::round(store, &http, url, &now_holding, now).await?)
}

fn say(told: &push::Told) {
    for k in &told.firing {
        println!("firing: {k}");
    }
    for k in &told.resolved {
        println!("resolved: {k}");
    }
    for f in &told.failed {
        eprintln!("journeyctl alerts: not posted (tried again next round): {f}");
    }
}

/// Posts every `every` until the process ends, the first round at
/// `first` from now (beside the engine, once it has gone round: else it
/// would tell of no engine); a store or webhook away is said once in a
/// while and tried again.
pub async fn keep_posting(
    store: Store,
    rules: Vec<Rule>,
    url: String,
    (first, every): (Duration, Duration),
) {
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + first, every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut errors = crate::logging::RepeatLimiter::new(Duration::from_secs(300));
    loop {
        ticker.tick().await;
        match one_round(&store, &rules, &url).await {
            Ok(told) => {
                for k in told.firing.iter().chain(&told.resolved) {
                    tracing::info!("alert told: {k}");
                }
                for f in &told.failed {
                    let what = format!("alert not posted (tried again): {f}");
                    if let Some(line) = errors.failure(&what, std::time::Instant::now()) {
                        eprintln!("journeyctl: {line}");
                    }
                }
            }
            Err(e) => {
                let what = format!("alerts: {}", crate::cli::error_line(&e));
                if let Some(line) = errors.failure(&what, std::time::Instant::now()) {
                    eprintln!("journeyctl: {line}");
                }
            }
        }
    }
}

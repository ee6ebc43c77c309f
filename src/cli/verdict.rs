//! `journeyctl verdict`: a live test as the engine keeps it, or one look
//! for given counts.

use clap::Args;

use crate::domain::VersionStatus;
use crate::domain::abtest::{Arm, PairResult, VerdictKind, verdict};
use crate::domain::definition::{DEFAULT_EXPECTED_PARTICIPANTS, DEFAULT_MIN_PER_VARIANT};
use crate::domain::srm::{SRM_ALPHA, check_srm};
use crate::present::{srm_line, thousands};
use crate::store::{Error, Store, VersionSummary};

// `verdict`
#[derive(Debug, Clone, Args)]
pub struct Verdict {
    /// The journey whose test to show (its live version by default).
    #[arg(required_unless_present_any = ["arms", "srm"], conflicts_with_all = ["arms", "srm"])]
    pub journey: Option<String>,
    /// The version whose test to show.
    #[arg(long, requires = "journey")]
    pub version: Option<i64>,
    /// One variant's conversions and participants, for the verdict of
    /// given counts: give one per variant.
    #[arg(long = "arm", value_name = "NAME=X/N", conflicts_with = "srm")]
    pub arms: Vec<String>,
    /// One variant's people and weight, for a sample ratio mismatch
    /// check (chi-square, marked below p = 0.001): give one per variant.
    #[arg(long = "srm", value_name = "NAME=PEOPLE/WEIGHT")]
    pub srm: Vec<String>,
    /// With --arm: the participants the test expects in all (the
    /// always-valid test's tuning).
    #[arg(long, default_value_t = DEFAULT_EXPECTED_PARTICIPANTS)]
    pub expected: u64,
    /// With --arm: no verdict until every variant has this many
    /// participants.
    #[arg(long, default_value_t = DEFAULT_MIN_PER_VARIANT)]
    pub min_per_variant: u64,
    #[arg(long)]
    pub json: bool,
}

fn parse_arm(s: &str) -> anyhow::Result<Arm> {
    let (name, counts) = s.split_once('=').ok_or_else(|| {
        anyhow::anyhow!("--arm {s:?}: expected NAME=CONVERSIONS/PARTICIPANTS, e.g. A=50/1000")
    })?;
    let (x, n) = counts.split_once('/').ok_or_else(|| {
        anyhow::anyhow!("--arm {s:?}: expected NAME=CONVERSIONS/PARTICIPANTS, e.g. A=50/1000")
    })?;
    let x: u64 = x
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("--arm {s:?}: {x:?} is not a whole number"))?;
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("--arm {s:?}: {n:?} is not a whole number"))?;
    if name.trim().is_empty() {
        anyhow::bail!("--arm {s:?}: the variant needs a name");
    }
    if x > n {
        anyhow::bail!("--arm {s:?}: {x} conversions is more than {n} participants");
    }
    Ok(Arm::new(name.trim(), x, n))
}

/// The verdict of a live test as the engine keeps it: the running figures,
/// or once decided the decision's own.
pub(super) async fn live_verdict(
    store: &Store,
    journey: &str,
    version: Option<i64>,
    json: bool,
) -> anyhow::Result<()> {
    let list = store.list(true).await?;
    let mine: Vec<&VersionSummary> = list.iter().filter(|v| v.journey == journey).collect();
    if mine.is_empty() {
        return Err(Error::Invalid(format!("no journey named {journey}")).into());
    }
    let chosen = match version {
        Some(n) => mine.iter().find(|v| v.version == n).copied(),
        None => mine
            .iter()
            .find(|v| v.status == VersionStatus::Live)
            .or(mine.first())
            .copied(),
    }
    .ok_or_else(|| Error::Invalid(format!("{journey} has no version {}", version.unwrap_or(0))))?;
    let ab = chosen
        .ab
        .as_ref()
        .ok_or_else(|| Error::Invalid(format!("{journey} v{} has no A/B test", chosen.version)))?;
    if json {
        println!("{}", serde_json::to_string_pretty(ab)?);
        return Ok(());
    }
    println!("{journey} v{} test {}", chosen.version, ab.test);
    // Once decided, the counts beside the interval and p-value are the
    // decision's; what came after is said apart, observed, not tested.
    let counted = ab.at_decision.as_deref().unwrap_or(&ab.variants);
    let arms: Vec<Arm> = counted
        .iter()
        .map(|v| Arm::new(&v.name, v.converted.max(0) as u64, v.assigned.max(0) as u64))
        .collect();
    let basis = match &ab.decided_at {
        Some(t) => format!(" (at the decision, {t})"),
        None => format!(" (running over {} looks)", ab.looks),
    };
    if let Some(t) = &ab.decided_at {
        println!("counts at the decision, {t}:");
    }
    // A winner chosen by hand is the verdict, said by its own line.
    let verdict = ab
        .chosen_winner()
        .is_none()
        .then_some((ab.verdict, ab.winner.as_deref()));
    print_verdict(&arms, &ab.pairs, &basis, verdict);
    for line in crate::present::by_hand_lines(ab) {
        println!("{line}");
    }
    if let Some(before) = &ab.at_decision {
        println!(
            "since the decision (observed, not a test): {}",
            crate::present::since_decision(before, &ab.variants)
        );
    }
    if let Some(c) = &ab.srm {
        println!("{}", srm_line(c));
        println!("{}", crate::present::srm_meaning(ab.at_decision.is_some()));
    }
    Ok(())
}

/// One `--srm NAME=PEOPLE/WEIGHT`.
fn parse_srm(s: &str) -> anyhow::Result<(String, u64, f64)> {
    let bad = || anyhow::anyhow!("--srm {s:?}: expected NAME=PEOPLE/WEIGHT, e.g. A=5000/50");
    let (name, counts) = s.split_once('=').ok_or_else(bad)?;
    let (n, w) = counts.split_once('/').ok_or_else(bad)?;
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("--srm {s:?}: {n:?} is not a whole number of people"))?;
    let w: f64 = w
        .trim()
        .parse()
        .ok()
        .filter(|w: &f64| w.is_finite() && *w > 0.0)
        .ok_or_else(|| anyhow::anyhow!("--srm {s:?}: the weight {w:?} is not a positive number"))?;
    if name.trim().is_empty() {
        anyhow::bail!("--srm {s:?}: the variant needs a name");
    }
    Ok((name.trim().to_string(), n, w))
}

/// `verdict --srm A=5000/50 --srm B=5400/50`: one sample ratio check.
pub(super) fn srm_command(given: &[String], json: bool) -> anyhow::Result<()> {
    let given = given
        .iter()
        .map(|s| parse_srm(s))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if given.len() < 2 {
        anyhow::bail!("a sample ratio check needs at least two --srm values, one per variant");
    }
    for (i, (name, ..)) in given.iter().enumerate() {
        if given[..i].iter().any(|(other, ..)| other == name) {
            anyhow::bail!("variant {name} is given twice");
        }
    }
    let counts: Vec<(String, u64)> = given.iter().map(|(n, c, _)| (n.clone(), *c)).collect();
    let weights: Vec<f64> = given.iter().map(|(.., w)| *w).collect();
    let c = check_srm(&counts, &weights);
    if json {
        let mut out = serde_json::to_value(&c)?;
        out["srm"] = c.marked().into();
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    if c.marked() {
        println!("{}", srm_line(&c));
    } else {
        println!(
            "no SRM: p = {:.4} (marked below {SRM_ALPHA}); expected {}",
            c.p_value,
            c.expected
                .iter()
                .map(|(n, e)| format!("{n} {}", thousands(e.round() as i64)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

/// The text form of a verdict: each variant's counts and rate, each pair's
/// figures (with what they are based on), the verdict.
fn print_verdict(
    arms: &[Arm],
    pairs: &[PairResult],
    basis: &str,
    verdict: Option<(VerdictKind, Option<&str>)>,
) {
    for a in arms {
        println!(
            "{:<8} {:>8}/{:<8} {}",
            a.name,
            a.converted,
            a.participants,
            a.rate()
                .map_or("-".to_string(), |r| format!("{:.2}%", r * 100.0))
        );
    }
    print_pairs(pairs, basis);
    if let Some((verdict, winner)) = verdict {
        println!(
            "verdict: {}{}",
            verdict.as_str(),
            winner.map(|w| format!(" ({w})")).unwrap_or_default()
        );
    }
}

fn print_pairs(pairs: &[PairResult], basis: &str) {
    for p in pairs {
        // In percentage points, as the console shows rates (`--json`
        // keeps the fractions).
        let ci = match (p.cs_lower, p.cs_upper) {
            (Some(l), Some(u)) => format!("[{:+.2}, {:+.2}] points", l * 100.0, u * 100.0),
            _ => "[unbounded]".to_string(),
        };
        println!(
            "{} vs {}: p = {:.6}, {} - {} in {ci}{basis}",
            p.a, p.b, p.p_value, p.b, p.a
        );
    }
}

pub(super) fn verdict_command(
    arms: &[String],
    expected: u64,
    min: u64,
    json: bool,
) -> anyhow::Result<()> {
    let arms = arms
        .iter()
        .map(|a| parse_arm(a))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if arms.len() < 2 {
        anyhow::bail!("a verdict needs a JOURNEY, or at least two --arm values");
    }
    for (i, a) in arms.iter().enumerate() {
        if arms[..i].iter().any(|b| b.name == a.name) {
            anyhow::bail!("variant {} is given twice", a.name);
        }
    }
    if expected == 0 {
        anyhow::bail!("--expected must be at least 1");
    }
    let v = verdict(&arms, expected, min);
    if json {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    print_verdict(&arms, &v.pairs, "", Some((v.verdict, v.winner.as_deref())));
    Ok(())
}

//! `journeyctl ingest`: NDJSON events from a file or standard input, in
//! chunks; a bad line is reported with its number and skipped.

use std::io::BufRead;
use std::path::PathBuf;

use crate::domain::events::parse_line;
use crate::store::{IngestReport, LineError, Store};

/// Lines read before they are handed to [`Store::ingest`].
const LINES_PER_CALL: usize = 10_000;

pub(super) async fn ingest(
    store: &Store,
    file: Option<PathBuf>,
    json: bool,
    now: i64,
) -> anyhow::Result<()> {
    let start = std::time::Instant::now();
    let report = read_and_apply(store, file, now).await?;
    let secs = start.elapsed().as_secs_f64();
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let refused: Vec<String> = report
        .refused
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    println!(
        "accepted {}, refused {}{}, invalid {} (entered {}, converted {}, exited {}){}",
        report.accepted,
        report.refused_total(),
        if refused.is_empty() {
            String::new()
        } else {
            format!(" ({})", refused.join(", "))
        },
        report.invalid,
        report.entered,
        report.converted,
        report.exited,
        crate::present::rate(
            report.accepted + report.refused_total() + report.invalid,
            "events",
            secs
        )
    );
    Ok(())
}

async fn read_and_apply(
    store: &Store,
    file: Option<PathBuf>,
    now: i64,
) -> anyhow::Result<IngestReport> {
    let (progress, by_line);
    let reader: Box<dyn BufRead> = match &file {
        Some(p) if p.as_os_str() != "-" => {
            let f = std::fs::File::open(p)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))?;
            progress = super::progress::bytes(f.metadata().map_or(0, |m| m.len()));
            by_line = false;
            Box::new(std::io::BufReader::new(progress.wrap_read(f)))
        }
        _ => {
            progress = super::progress::count("lines read");
            by_line = true;
            Box::new(std::io::BufReader::new(std::io::stdin()))
        }
    };
    let mut report = IngestReport::default();
    let mut batch = Vec::with_capacity(LINES_PER_CALL);
    for (i, line) in reader.split(b'\n').enumerate() {
        let n = i + 1;
        let bytes = line.map_err(|e| anyhow::anyhow!("cannot read line {n}: {e}"))?;
        if by_line {
            progress.inc(1);
        }
        let text = String::from_utf8_lossy(&bytes);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        match parse_line(text, now) {
            Ok(ev) => batch.push(ev),
            Err(error) => {
                progress.suspend(|| eprintln!("line {n}: {error} (skipped)"));
                report.invalid += 1;
                report.errors.push(LineError { line: n, error });
            }
        }
        if batch.len() >= LINES_PER_CALL {
            report.merge(store.ingest(&batch).await?);
            batch.clear();
        }
    }
    report.merge(store.ingest(&batch).await?);
    progress.finish_and_clear();
    Ok(report)
}

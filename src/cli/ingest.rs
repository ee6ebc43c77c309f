//! `journeyctl ingest`: NDJSON events from a file or standard input, in
//! chunks; a bad line is reported with its number and skipped.

use std::io::BufRead;
use std::path::PathBuf;

use crate::domain::events::{TimedEvent, parse_line};
use crate::store::{IngestReport, LineError, Store};

/// `ingest` skipped this many invalid lines; every good one went in.
#[derive(Debug)]
pub struct SomeInvalid(pub u64);

impl std::fmt::Display for SomeInvalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} invalid line(s) skipped (each named above); every other line went in",
            self.0
        )
    }
}

impl std::error::Error for SomeInvalid {}

/// Lines read before they are handed to [`Store::ingest`].
const LINES_PER_CALL: usize = 10_000;

/// The longest event line read: a longer one is skipped and named, and
/// never held in memory whole.
pub const MAX_LINE: usize = 64 * 1024;

/// One line of the feed, read with at most [`MAX_LINE`] bytes kept: the
/// line, `TooLong` (the rest of it was read past), or the end.
enum Line {
    Text(Vec<u8>),
    TooLong,
    End,
}

fn next_line(reader: &mut dyn BufRead) -> std::io::Result<Line> {
    let mut kept = Vec::new();
    let mut too_long = false;
    let mut any = false;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(match (any, too_long) {
                (false, _) => Line::End,
                (true, true) => Line::TooLong,
                (true, false) => Line::Text(kept),
            });
        }
        any = true;
        let (part, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (&chunk[..i], Some(i + 1)),
            None => (chunk, None),
        };
        if !too_long {
            if kept.len() + part.len() > MAX_LINE {
                too_long = true;
                kept = Vec::new();
            } else {
                kept.extend_from_slice(part);
            }
        }
        let used = done.unwrap_or(chunk.len());
        reader.consume(used);
        if done.is_some() {
            return Ok(if too_long {
                Line::TooLong
            } else {
                Line::Text(kept)
            });
        }
    }
}

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
        return some_invalid(&report);
    }
    println!("{}", summary(&report, secs));
    if report.accepted > 0 && report.refused_total() == report.accepted {
        eprintln!(
            "journeyctl ingest: every event given was refused: nothing went in (the reasons are above)"
        );
    }
    for paused in &report.guardrail_paused {
        eprintln!(
            "journeyctl ingest: guardrail paused {}",
            crate::present::escaped(paused)
        );
    }
    some_invalid(&report)
}

/// What the lines did: `read 5 line(s): 3 entered, 1 converted, 1 exited,
/// 0 refused, 0 changed nothing, 0 invalid in 0.01 s (...)`.
fn summary(report: &IngestReport, secs: f64) -> String {
    let thousands = |n: u64| crate::domain::text::thousands(n as i64);
    let refused: Vec<String> = report
        .refused
        .iter()
        .map(|(k, v)| format!("{k} {}", thousands(*v)))
        .collect();
    let lines = report.accepted + report.invalid;
    format!(
        "read {} line(s): {} entered, {} converted, {} exited, {} refused{}, {} changed nothing, {} invalid{}",
        thousands(lines),
        thousands(report.entered),
        thousands(report.converted),
        thousands(report.exited),
        thousands(report.refused_total()),
        if refused.is_empty() {
            String::new()
        } else {
            format!(" ({})", refused.join(", "))
        },
        thousands(report.unchanged),
        thousands(report.invalid),
        crate::present::rate(lines, "lines", secs)
    )
}

/// Exit 4 when lines were skipped as invalid (the rest went in).
fn some_invalid(report: &IngestReport) -> anyhow::Result<()> {
    if report.invalid > 0 {
        return Err(SomeInvalid(report.invalid).into());
    }
    Ok(())
}

/// What the reading thread hands over: a batch of events, or the end
/// (with the invalid lines it skipped), or why it could not go on.
enum Read {
    Batch(Vec<TimedEvent>),
    Done(IngestReport),
    Failed(anyhow::Error),
}

/// Reads the feed on a thread of its own while the store takes the batch
/// before: reading and parsing one batch overlaps the database's work on
/// the last, and the feed is never read further than two batches ahead.
async fn read_and_apply(
    store: &Store,
    file: Option<PathBuf>,
    now: i64,
) -> anyhow::Result<IngestReport> {
    let (progress, by_line);
    let reader: Box<dyn BufRead + Send> = match &file {
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
    let (send, mut read) = tokio::sync::mpsc::channel(2);
    let bar = progress.clone();
    // A plain thread: one blocked on a quiet standard input never holds
    // the process up once the store has failed.
    std::thread::spawn(move || {
        let last = match read_batches(reader, by_line, &bar, now, &send) {
            Ok(report) => Read::Done(report),
            Err(e) => Read::Failed(e),
        };
        let _ = send.blocking_send(last);
    });
    let mut report = IngestReport::default();
    loop {
        match read.recv().await {
            Some(Read::Batch(batch)) => report.merge(store.ingest(&batch).await?),
            Some(Read::Done(invalid)) => report.merge(invalid),
            Some(Read::Failed(e)) => return Err(e),
            None => break,
        }
    }
    progress.finish_and_clear();
    Ok(report)
}

/// Reads and parses the feed, handing it over [`LINES_PER_CALL`] events
/// at a time; the invalid lines, each named on standard error.
fn read_batches(
    mut reader: Box<dyn BufRead + Send>,
    by_line: bool,
    progress: &indicatif::ProgressBar,
    now: i64,
    send: &tokio::sync::mpsc::Sender<Read>,
) -> anyhow::Result<IngestReport> {
    let mut report = IngestReport::default();
    let mut batch = Vec::with_capacity(LINES_PER_CALL);
    let mut n = 0;
    loop {
        n += 1;
        let line =
            next_line(&mut *reader).map_err(|e| anyhow::anyhow!("cannot read line {n}: {e}"))?;
        if by_line {
            progress.inc(1);
        }
        let parsed = match line {
            Line::End => break,
            Line::TooLong => Err(format!("longer than {} KiB", MAX_LINE / 1024)),
            Line::Text(bytes) => match std::str::from_utf8(&bytes) {
                Err(e) => Err(format!("not valid UTF-8 (at byte {})", e.valid_up_to() + 1)),
                Ok(text) if text.trim().is_empty() => continue,
                Ok(text) => parse_line(text.trim(), now),
            },
        };
        match parsed {
            Ok(ev) => batch.push(ev),
            Err(error) => {
                progress.suspend(|| eprintln!("line {n}: {error} (skipped)"));
                report.invalid += 1;
                report.errors.push(LineError { line: n, error });
            }
        }
        if batch.len() >= LINES_PER_CALL {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(LINES_PER_CALL));
            if send.blocking_send(Read::Batch(full)).is_err() {
                // The store gave up: its error is what is said.
                return Ok(report);
            }
        }
    }
    if !batch.is_empty() {
        let _ = send.blocking_send(Read::Batch(batch));
    }
    Ok(report)
}

//! Handing messages to a channel: one attempt, and what it came to.

use std::io::Write;
use std::time::Duration;

use serde::Serialize;
use tokio::io::AsyncWriteExt;

use super::channels::{Channel, Kind};
use crate::domain::time::to_rfc3339;
use crate::store::Claimed;

/// The most of a webhook's answer or a command's standard error read:
/// what a receiver or a program sends beyond it is never held.
pub const MOST_READ: usize = 64 * 1024;

/// What a channel receives for one message (the webhook's JSON body, a
/// line of NDJSON for command and log channels).
#[derive(Debug, Clone, Serialize)]
pub struct Body<'a> {
    pub id: i64,
    pub journey: &'a str,
    pub version: i64,
    pub profile: &'a str,
    pub action: &'a str,
    pub variant: Option<&'a str>,
    pub created_at: String,
}

impl<'a> Body<'a> {
    pub fn new(journey: &'a str, version: i64, m: &'a Claimed) -> Body<'a> {
        Body {
            id: m.id,
            journey,
            version,
            profile: &m.profile,
            action: &m.action,
            variant: m.variant.as_deref(),
            created_at: to_rfc3339(m.created_at),
        }
    }

    /// The same for every attempt of one message, so a receiver can drop
    /// a repeat.
    pub fn idempotency_key(&self) -> String {
        format!("journeyctl-{}", self.id)
    }
}

/// One attempt's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tried {
    Sent,
    /// Worth another attempt: 408, 429, 5xx, a time-out, no connection.
    Retry(String),
    /// Not worth another attempt: any other 4xx.
    Fatal(String),
    /// No definite answer: a time-out, or a connection cut after the
    /// request may have been written. Worth another attempt, and the
    /// message may have arrived.
    NoAnswer(String),
    /// 429 or 503 with a `Retry-After`: not before that long from now.
    RetryAfter(String, Duration),
    /// Not attempted: its send slot had passed when its turn came (a
    /// worker that fell behind, a busy machine). It goes back to the
    /// queue rather than out at once beside the next slot's send.
    Late,
}

/// When each message of a rate-limited batch may go: the first at
/// `start`, then one every `interval`.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pub start: tokio::time::Instant,
    pub interval: Duration,
}

/// How far after its slot a send may still start: one interval, and at
/// least 20 ms of timer and scheduling slack. A send later than that
/// would meet the next slot's and break the rate.
const MIN_SLACK: Duration = Duration::from_millis(20);

impl Pace {
    /// Slots `interval_us` apart, the first `wait_us` from now (below
    /// zero: gone by that long).
    pub fn from_wait(wait_us: i64, interval_us: i64) -> Pace {
        let now = tokio::time::Instant::now();
        let start = if wait_us >= 0 {
            now + Duration::from_micros(wait_us as u64)
        } else {
            now - Duration::from_micros(wait_us.unsigned_abs())
        };
        Pace {
            start,
            interval: Duration::from_micros(interval_us as u64),
        }
    }

    fn slot(&self, i: usize) -> tokio::time::Instant {
        self.start + self.interval * i as u32
    }

    /// Whether the `i`th slot is gone by `now`.
    fn missed(&self, i: usize, now: tokio::time::Instant) -> bool {
        now > self.slot(i) + self.interval.max(MIN_SLACK)
    }
}

/// An HTTP client shared by every webhook: connections are reused.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        // A redirect would carry the channel's headers (an API key) and
        // the message to wherever the receiver points: never followed.
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
        .build()
        .expect("an HTTP client with default TLS settings")
}

/// Hands a batch of messages of one channel over; one result per message.
pub async fn send_batch(
    http: &reqwest::Client,
    channel: &Channel,
    bodies: &[Body<'_>],
    pace: Option<Pace>,
) -> Vec<Tried> {
    if let (Some(p), false) = (pace, matches!(channel.kind, Kind::Webhook { .. })) {
        // A batch handed over at once goes at its first slot; the slots
        // reserved for the rest keep the rate.
        tokio::time::sleep_until(p.start).await;
    }
    let tried = match &channel.kind {
        Kind::Webhook { url, headers } => {
            let posts = bodies.iter().enumerate().map(|(i, b)| async move {
                if let Some(p) = pace {
                    tokio::time::sleep_until(p.slot(i)).await;
                    if p.missed(i, tokio::time::Instant::now()) {
                        return Tried::Late;
                    }
                }
                post(http, url, headers, channel.timeout, b).await
            });
            futures_util::future::join_all(posts).await
        }
        Kind::Command { argv, env } => {
            let r = run_command(argv, env, channel.timeout, bodies).await;
            vec![r; bodies.len()]
        }
        Kind::Log { path } => {
            let r = append_log(path, bodies);
            vec![r; bodies.len()]
        }
    };
    // What is stored (and shown to every viewer) of an error: no value
    // from the environment, at most 200 bytes.
    tried
        .into_iter()
        .map(|t| match t {
            Tried::Retry(e) => Tried::Retry(channel.redacted(&e)),
            Tried::Fatal(e) => Tried::Fatal(channel.redacted(&e)),
            Tried::NoAnswer(e) => Tried::NoAnswer(channel.redacted(&e)),
            Tried::RetryAfter(e, d) => Tried::RetryAfter(channel.redacted(&e), d),
            sent => sent,
        })
        .collect()
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    headers: &[(String, String)],
    timeout: Duration,
    body: &Body<'_>,
) -> Tried {
    let json = match serde_json::to_vec(body) {
        Ok(j) => j,
        Err(e) => return Tried::Fatal(format!("cannot encode the message: {e}")),
    };
    let mut req = http
        .post(url)
        .timeout(timeout)
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", body.idempotency_key())
        .body(json);
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    match req.send().await {
        Ok(resp) => {
            let status = resp.status();
            let moved_to = status
                .is_redirection()
                .then(|| redirect_target(url, resp.headers()));
            let after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| super::flow::retry_after(v, std::time::SystemTime::now()));
            // Read the body (at most `MOST_READ`) so the connection can go
            // back to the pool; a body that goes on is dropped with it.
            let mut resp = resp;
            let mut read = 0usize;
            while let Ok(Some(chunk)) = resp.chunk().await {
                read += chunk.len();
                if read > MOST_READ {
                    break;
                }
            }
            let words = format!("HTTP {status}");
            if let Some(to) = moved_to {
                Tried::Fatal(format!(
                    "{words}: redirect to {to} not followed (a webhook follows no redirect)"
                ))
            } else if status.is_success() {
                Tried::Sent
            } else if let (429 | 503, Some(after)) = (status.as_u16(), after) {
                let words = format!(
                    "{words} (Retry-After {})",
                    crate::domain::time::duration_words(after)
                );
                Tried::RetryAfter(words, after)
            } else if status.as_u16() == 408 || status.as_u16() == 429 || status.is_server_error() {
                Tried::Retry(words)
            } else {
                Tried::Fatal(words)
            }
        }
        Err(e) if e.is_timeout() => Tried::NoAnswer(format!(
            "timed out after {}",
            crate::domain::time::duration_words(timeout)
        )),
        // Never connected: the receiver cannot have it.
        Err(e) if e.is_connect() => Tried::Retry(error_words(&e)),
        // Cut after the request may have been written.
        Err(e) => Tried::NoAnswer(error_words(&e)),
    }
}

/// Where a redirect points: its host and port (the path and query, which
/// may hold a token, are left out); `no Location` when it names none.
fn redirect_target(url: &str, headers: &reqwest::header::HeaderMap) -> String {
    let Some(location) = headers
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
    else {
        return "no Location".into();
    };
    let target = reqwest::Url::parse(url).and_then(|base| base.join(location));
    match target {
        Ok(t) => match (t.host_str(), t.port_or_known_default()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => "an unreadable Location".into(),
        },
        Err(_) => "an unreadable Location".into(),
    }
}

/// The innermost cause: "connection refused" rather than "error sending
/// request for url".
pub(crate) fn error_words(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    if let Some(io) = cause.downcast_ref::<std::io::Error>() {
        return match io.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
            std::io::ErrorKind::ConnectionReset => "connection reset".into(),
            _ => io.to_string(),
        };
    }
    cause.to_string()
}

async fn run_command(
    argv: &[String],
    env: &[(String, super::channels::Secret)],
    timeout: Duration,
    bodies: &[Body<'_>],
) -> Tried {
    let Some(input) = ndjson(bodies) else {
        return Tried::Fatal("cannot encode a message".into());
    };
    let mut command = tokio::process::Command::new(&argv[0]);
    // An empty environment but what a program needs to run and what the
    // channel lists: never the worker's PGPASSWORD, DATABASE_URL or cloud
    // keys.
    command.env_clear();
    for var in ["PATH", "HOME", "LANG"] {
        if let Some(v) = std::env::var_os(var) {
            command.env(var, v);
        }
    }
    for (name, super::channels::Secret(value)) in env {
        command.env(name, value);
    }
    let child = command
        .args(&argv[1..])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return Tried::Retry(format!("cannot run {}: {e}", argv[0])),
    };
    // Feed stdin while the program runs and writes stderr, so neither pipe
    // can fill and hold the other; a program that exits without reading
    // closes its end, and its exit status says why.
    let stdin = child.stdin.take();
    let feed = async move {
        match stdin {
            Some(mut stdin) => stdin.write_all(&input).await,
            None => Ok(()),
        }
    };
    // Its standard error is read up to `MOST_READ` (the first line is
    // what is kept); the rest is read and let go, so it can neither fill
    // the pipe nor the memory.
    let drain = first_of(child.stderr.take());
    let run = async {
        let (fed, kept, status) = tokio::join!(feed, drain, child.wait());
        (
            fed,
            status.map(|status| std::process::Output {
                status,
                stdout: Vec::new(),
                stderr: kept,
            }),
        )
    };
    match tokio::time::timeout(timeout, run).await {
        Err(_) => Tried::NoAnswer(format!(
            "{} timed out after {}",
            argv[0],
            crate::domain::time::duration_words(timeout)
        )),
        Ok((_, Err(e))) => Tried::Retry(format!("{}: {e}", argv[0])),
        Ok((Err(e), Ok(out))) if out.status.success() => Tried::Retry(format!(
            "{} exited 0 without reading its messages: {e}",
            argv[0]
        )),
        Ok((_, Ok(out))) if out.status.success() => Tried::Sent,
        Ok((_, Ok(out))) => {
            let err = String::from_utf8_lossy(&out.stderr);
            let first = err.lines().next().unwrap_or("").trim();
            Tried::Retry(format!("{} exited with {}: {first}", argv[0], out.status))
        }
    }
}

/// The messages as NDJSON, a line each.
fn ndjson(bodies: &[Body<'_>]) -> Option<Vec<u8>> {
    let mut text = Vec::new();
    for b in bodies {
        serde_json::to_writer(&mut text, b).ok()?;
        text.push(b'\n');
    }
    Some(text)
}

/// The first `MOST_READ` bytes of a program's output, read to its end
/// (the rest let go as it comes).
async fn first_of(out: Option<tokio::process::ChildStderr>) -> Vec<u8> {
    let mut kept = Vec::new();
    if let Some(mut out) = out {
        let mut buf = [0u8; 8192];
        while let Ok(n) = tokio::io::AsyncReadExt::read(&mut out, &mut buf).await {
            if n == 0 {
                break;
            }
            if kept.len() < MOST_READ {
                kept.extend_from_slice(&buf[..n.min(MOST_READ - kept.len())]);
            }
        }
    }
    kept
}

fn append_log(path: &std::path::Path, bodies: &[Body<'_>]) -> Tried {
    let Some(text) = ndjson(bodies) else {
        return Tried::Fatal("cannot encode a message".into());
    };
    // The folder is made on the first batch, as a user would expect of
    // `path = "/var/log/journeyctl/push.ndjson"`.
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
    let written = folder
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| {
            use std::os::unix::fs::OpenOptionsExt;
            // It holds profile ids: readable by its owner only, as made;
            // and never through a symbolic link (someone else's link
            // would take them where they point).
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(path)
        })
        .and_then(|mut f| f.write_all(&text));
    match written {
        Ok(()) => Tried::Sent,
        Err(e) => Tried::Retry(format!("cannot append to {}: {e}", path.display())),
    }
}

//! A webhook receiver on 127.0.0.1: the demo's stand-in for an email
//! provider and a CRM, the benchmark's target, and the tests' witness. It
//! records every request (its `Idempotency-Key`, body and arrival time)
//! and answers as told.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};

/// How the receiver answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// This status for every request.
    Status(u16),
    /// `status` for the first `times` requests of each key, then 200.
    FailFirst { times: usize, status: u16 },
    /// Never answers (the client's time-out ends it).
    Hang,
    /// `status`, after `delay` (a receiver that is slow but answers).
    After {
        delay: std::time::Duration,
        status: u16,
    },
    /// 429 with `Retry-After: secs` for the first request of each key,
    /// then 200 (a receiver that rate-limits its callers).
    Throttle { retry_after_secs: u64 },
    /// 307 Temporary Redirect to this URL (a receiver that sends the
    /// message elsewhere).
    Redirect(String),
}

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub key: String,
    pub body: serde_json::Value,
    pub status: Option<u16>,
    /// When its answer was handed back (`None` while it has none).
    pub answered: Option<Instant>,
}

#[derive(Default)]
struct State {
    answer: Option<Answer>,
    seen: HashMap<String, usize>,
    received: Vec<Received>,
    /// Keep the bodies (tests) or only count them (long demo runs).
    keep: bool,
    count: u64,
}

/// A running receiver; it stops when dropped.
pub struct Receiver {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    /// Starts a receiver on a free loopback port that keeps every request.
    pub async fn start(answer: Answer) -> std::io::Result<Receiver> {
        Receiver::start_with(answer, true).await
    }

    /// The same; `keep` false only counts requests (the demo runs for hours).
    pub async fn start_with(answer: Answer, keep: bool) -> std::io::Result<Receiver> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State {
            answer: Some(answer),
            keep,
            ..State::default()
        }));
        let shared = state.clone();
        let task = crate::http::serve(listener, move |req| respond(shared.clone(), req));
        Ok(Receiver { addr, state, task })
    }

    /// `http://127.0.0.1:PORT/PATH`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    pub fn set_answer(&self, answer: Answer) {
        self.state.lock().unwrap().answer = Some(answer);
    }

    /// Every request so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// How many requests arrived.
    pub fn count(&self) -> u64 {
        self.state.lock().unwrap().count
    }
}

async fn respond(
    state: Arc<Mutex<State>>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let at = Instant::now();
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let Some(body) = crate::http::read_capped(req.into_body()).await else {
        let mut resp = Response::new(Full::new(Bytes::from_static(b"body too large\n")));
        *resp.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
        return Ok(resp);
    };
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let (status, delay, index, location) = {
        let mut s = state.lock().unwrap();
        let n = s.seen.entry(key.clone()).or_default();
        *n += 1;
        let nth = *n;
        let answer = s.answer.clone().unwrap_or(Answer::Status(200));
        let (status, delay) = match &answer {
            Answer::Status(code) => (Some(*code), None),
            Answer::FailFirst { times, status } if nth <= *times => (Some(*status), None),
            Answer::FailFirst { .. } => (Some(200), None),
            Answer::Hang => (None, None),
            Answer::After { delay, status } => (Some(*status), Some(*delay)),
            Answer::Redirect(_) => (Some(307), None),
            Answer::Throttle { .. } if nth == 1 => (Some(429), None),
            Answer::Throttle { .. } => (Some(200), None),
        };
        let location = match answer {
            Answer::Redirect(to) => Some((hyper::header::LOCATION, to)),
            Answer::Throttle { retry_after_secs } if nth == 1 => {
                Some((hyper::header::RETRY_AFTER, retry_after_secs.to_string()))
            }
            _ => None,
        };
        s.count += 1;
        let index = s.keep.then(|| {
            s.received.push(Received {
                at,
                key,
                body,
                status,
                answered: None,
            });
            s.received.len() - 1
        });
        (status, delay, index, location)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    match status {
        Some(code) => {
            if let Some(i) = index {
                state.lock().unwrap().received[i].answered = Some(Instant::now());
            }
            let code = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut resp = Response::new(Full::new(Bytes::from_static(b"{}")));
            *resp.status_mut() = code;
            if let Some((name, value)) = location
                && let Ok(value) = hyper::header::HeaderValue::from_str(&value)
            {
                resp.headers_mut().insert(name, value);
            }
            Ok(resp)
        }
        None => std::future::pending().await,
    }
}

//! A small HTTP/1 server on a bound listener, for the demo's webhook
//! receiver and the `--metrics` endpoint: every connection is served by
//! `handle` until the returned task is aborted or the process ends.
//!
//! Hardened for a shared host: a client has [`HEADER_TIMEOUT`] to send its
//! request's head and a connection lives at most [`CONNECTION_LIFETIME`];
//! at most a few hundred are served at once (a quarter of the process's
//! file descriptors, so the store keeps the rest), and when they are all
//! taken the oldest that never sent a request makes room; an accept error
//! (out of file descriptors) waits before the next accept instead of
//! spinning. Request bodies are the handler's to cap ([`read_capped`]).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};

/// How long a client has to send a request's head.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one connection is served, however busy.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);
/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 512;
/// The largest request body a handler reads.
pub const MAX_BODY: usize = 1 << 20;

/// Connections served at once: [`MAX_CONNECTIONS`], or a quarter of the
/// process's file descriptors when that is fewer (the store needs the
/// rest), and at least 4.
fn connection_cap() -> usize {
    let nofile = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|soft| soft.parse::<usize>().ok())
        })
        .unwrap_or(1024);
    (nofile / 4).clamp(4, MAX_CONNECTIONS)
}

/// A connection being served: whether it has sent a request yet, and how
/// to end it.
struct Served {
    asked: Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::AbortHandle,
}

pub fn serve<H, F, E>(listener: tokio::net::TcpListener, handle: H) -> tokio::task::JoinHandle<()>
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Response<Full<Bytes>>, E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let slots = Arc::new(tokio::sync::Semaphore::new(connection_cap()));
    tokio::spawn(async move {
        let mut served: std::collections::VecDeque<Served> = std::collections::VecDeque::new();
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors or the like: let connections
                    // close before trying again.
                    tracing::warn!("http: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            served.retain(|s| !s.task.is_finished());
            let slot = match Arc::clone(&slots).try_acquire_owned() {
                Ok(slot) => slot,
                Err(_) => {
                    // Full: the oldest connection that never asked anything
                    // makes room, so a real client is served however many
                    // idle ones there are.
                    let idle = served
                        .iter()
                        .position(|s| !s.asked.load(std::sync::atomic::Ordering::Relaxed));
                    let Some(old) = idle.and_then(|i| served.remove(i)) else {
                        continue;
                    };
                    old.task.abort();
                    match tokio::time::timeout(
                        Duration::from_millis(100),
                        Arc::clone(&slots).acquire_owned(),
                    )
                    .await
                    {
                        Ok(Ok(slot)) => slot,
                        _ => continue,
                    }
                }
            };
            let _ = stream.set_nodelay(true);
            let asked = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let (handle, flag) = (handle.clone(), Arc::clone(&asked));
            let service = service_fn(move |req| {
                flag.store(true, std::sync::atomic::Ordering::Relaxed);
                handle(req)
            });
            let task = tokio::spawn(async move {
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEADER_TIMEOUT)
                    .serve_connection(TokioIo::new(stream), service);
                let _ = tokio::time::timeout(CONNECTION_LIFETIME, conn).await;
                drop(slot);
            });
            served.push_back(Served {
                asked,
                task: task.abort_handle(),
            });
        }
    })
}

/// A request's body, read up to [`MAX_BODY`] bytes; `None` when it is
/// longer (the caller answers 413) or breaks off.
pub async fn read_capped(body: Incoming) -> Option<Bytes> {
    Limited::new(body, MAX_BODY)
        .collect()
        .await
        .ok()
        .map(|b| b.to_bytes())
}

//! `--metrics ADDR` for `run` and `deliver`: Prometheus text on
//! `GET /metrics`. Counters are this process's own work since it started;
//! the two ages are read from the store at each scrape, so every process
//! reports the same backlog whoever does the work.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Response, StatusCode};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::domain::time::now_millis;
use crate::store::{Attempt, Store, TickReport};

type Labels = Vec<(&'static str, String)>;
type Seconds = Gauge<f64, AtomicU64>;

/// The series one process serves.
pub struct Metrics {
    registry: Registry,
    steps: Counter,
    enqueued: Counter,
    completed: Counter,
    tick_failures: Counter,
    version_failures: Counter,
    tick_seconds: Histogram,
    deliveries: Family<Labels, Counter>,
    failures: Family<Labels, Counter>,
    oldest_participant: Seconds,
    oldest_message: Seconds,
    version_status: Family<Labels, Gauge>,
    version_held: Family<Labels, Gauge>,
    action_held: Family<Labels, Gauge>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut m = Metrics {
            registry: Registry::with_prefix("journeyctl"),
            steps: Counter::default(),
            enqueued: Counter::default(),
            completed: Counter::default(),
            tick_failures: Counter::default(),
            version_failures: Counter::default(),
            // 1 ms to about 33 s.
            tick_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
            deliveries: Family::default(),
            failures: Family::default(),
            oldest_participant: Seconds::default(),
            oldest_message: Seconds::default(),
            version_status: Family::default(),
            version_held: Family::default(),
            action_held: Family::default(),
        };
        let r = &mut m.registry;
        r.register("steps", "Steps run by this engine", m.steps.clone());
        r.register(
            "messages_enqueued",
            "Messages this engine put in the outbox",
            m.enqueued.clone(),
        );
        r.register(
            "participants_completed",
            "Participants this engine saw through their last step",
            m.completed.clone(),
        );
        r.register(
            "tick_failures",
            "Ticks that failed (the store was away or refused)",
            m.tick_failures.clone(),
        );
        r.register(
            "version_failures",
            "Versions a tick skipped because they could not run (each reported; the others ran)",
            m.version_failures.clone(),
        );
        r.register(
            "tick_duration_seconds",
            "How long a tick took",
            m.tick_seconds.clone(),
        );
        r.register(
            "deliveries",
            "Messages this process's workers handed over, per action",
            m.deliveries.clone(),
        );
        r.register(
            "delivery_failures",
            "Failed delivery attempts per action; outcome retry, failed (given up), retry_unanswered or failed_unanswered (no answer: it may have arrived)",
            m.failures.clone(),
        );
        r.register(
            "oldest_due_participant_age_seconds",
            "How long the first due participant of a running version has been waiting (0: none due)",
            m.oldest_participant.clone(),
        );
        r.register(
            "oldest_pending_message_age_seconds",
            "How long the first due message of a running version has been waiting (0: none due)",
            m.oldest_message.clone(),
        );
        m.register_states();
        m
    }
}

impl Metrics {
    pub fn tick(&self, r: &TickReport, seconds: f64) {
        self.steps.inc_by(r.steps);
        self.enqueued.inc_by(r.messages);
        self.completed.inc_by(r.completed);
        self.version_failures.inc_by(r.failed.len() as u64);
        self.tick_seconds.observe(seconds);
    }

    pub fn tick_failed(&self, seconds: f64) {
        self.tick_failures.inc();
        self.tick_seconds.observe(seconds);
    }

    /// One delivery attempt of a message of `action`.
    pub fn attempted(&self, action: &str, attempt: &Attempt) {
        let mut labels = vec![("action", action.to_string())];
        let outcome = match attempt {
            Attempt::Sent => {
                self.deliveries.get_or_create(&labels).inc();
                return;
            }
            Attempt::Retry { .. } => "retry",
            Attempt::Failed { .. } => "failed",
            Attempt::Unanswered {
                after_ms: Some(_), ..
            } => "retry_unanswered",
            Attempt::Unanswered { after_ms: None, .. } => "failed_unanswered",
            Attempt::Released => return,
        };
        labels.push(("outcome", outcome.to_string()));
        self.failures.get_or_create(&labels).inc();
    }

    /// The series in Prometheus text, with the ages read from `store` now.
    pub async fn render(&self, store: &Store) -> anyhow::Result<String> {
        let now = now_millis();
        let backlog = store.backlog(now).await?;
        let age = |since: Option<i64>| since.map_or(0.0, |t| (now - t).max(0) as f64 / 1000.0);
        self.oldest_participant
            .set(age(backlog.oldest_due_participant));
        self.oldest_message.set(age(backlog.oldest_due_message));
        self.states(store).await?;
        let mut out = String::new();
        encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

impl Metrics {
    /// The series read from the store at each scrape: statuses and holds.
    fn register_states(&mut self) {
        let r = &mut self.registry;
        r.register(
            "version_status",
            "1 for each published version in its status now (live, paused, finished, stopped), read from the store at each scrape",
            self.version_status.clone(),
        );
        r.register(
            "version_held_messages",
            "Pending messages of each running version held by an action's hold",
            self.version_held.clone(),
        );
        r.register(
            "action_held",
            "1 for each action held now (its messages wait), read from the store at each scrape",
            self.action_held.clone(),
        );
    }

    /// The versions' statuses and the holds as they stand, so a dashboard
    /// can draw an operator's pause or hold beside the rates. Series of
    /// what is gone (a version since stopped, a hold released) go.
    async fn states(&self, store: &Store) -> anyhow::Result<()> {
        let versions = store.list(false).await?;
        let holds = store.action_holds().await?;
        self.version_status.clear();
        self.version_held.clear();
        self.action_held.clear();
        for v in &versions {
            let status = if v.paused.is_some() {
                "paused"
            } else {
                v.status.as_str()
            };
            let labels = |extra: Option<&str>| -> Labels {
                let mut l = vec![
                    ("journey", v.journey.clone()),
                    ("version", v.version.to_string()),
                ];
                if let Some(s) = extra {
                    l.push(("status", s.to_string()));
                }
                l
            };
            self.version_status
                .get_or_create(&labels(Some(status)))
                .set(1);
            if v.status.runs_steps() {
                self.version_held
                    .get_or_create(&labels(None))
                    .set(v.messages.held);
            }
        }
        for h in &holds {
            self.action_held
                .get_or_create(&vec![("action", h.action.clone())])
                .set(1);
        }
        Ok(())
    }
}

/// Binds `addr` (so a taken port is a clear error before any work starts;
/// port 0 takes a free one) and serves `/metrics` until the process ends.
/// Returns the address bound.
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    store: Store,
) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("--metrics {addr}: {e}"))?;
    let bound = listener.local_addr()?;
    crate::http::serve(listener, move |req| {
        let (metrics, store) = (metrics.clone(), store.clone());
        async move { Ok::<_, std::convert::Infallible>(answer(&req, &metrics, &store).await) }
    });
    Ok(bound)
}

async fn answer<B>(
    req: &hyper::Request<B>,
    metrics: &Metrics,
    store: &Store,
) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, body: String| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        r
    };
    if req.uri().path() != "/metrics" {
        return reply(StatusCode::NOT_FOUND, "try /metrics\n".into());
    }
    if req.method() != hyper::Method::GET && req.method() != hyper::Method::HEAD {
        let mut r = reply(StatusCode::METHOD_NOT_ALLOWED, "GET /metrics only\n".into());
        r.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("GET, HEAD"),
        );
        return r;
    }
    match metrics.render(store).await {
        Ok(text) => {
            let mut r = reply(StatusCode::OK, text);
            r.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static(
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
            );
            r
        }
        Err(e) => reply(StatusCode::SERVICE_UNAVAILABLE, format!("store: {e}\n")),
    }
}

//! `run` and `deliver` as services: the Prometheus endpoint answers with
//! the named series after some work, and SIGTERM ends both with exit 0.

mod common;

use std::io::BufRead;
use std::time::Duration;

use common::*;
use journeyctl::demo::receiver::{Answer, Receiver};

/// The half-open test times an answer within a second on 2 cores; the
/// engines and workers the endpoint tests start would share those cores
/// with it, so these tests take turns.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Starts `journeyctl ARGS --metrics 127.0.0.1:0` and returns the child
/// with the address it says it serves on (its first line on stderr).
async fn start_with_metrics(url: &str, args: &[&str]) -> (Proc, String) {
    start_under(&[], url, args).await
}

/// The same, the binary started by `wrapper` (e.g. `prlimit ...`).
async fn start_under(wrapper: &[&str], url: &str, args: &[&str]) -> (Proc, String) {
    let mut child = journeyctl(url)
        .user("ops")
        .args(args)
        .args(["--metrics", "127.0.0.1:0"])
        .under(wrapper)
        .spawn();
    let stderr = child.child().stderr.take().unwrap();
    let addr = tokio::task::spawn_blocking(move || {
        let mut lines = std::io::BufReader::new(stderr).lines();
        let addr = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| {
                l.strip_prefix("journeyctl: metrics on http://")
                    .map(|a| a.trim_end_matches("/metrics").to_string())
            })
            .expect("the process names its metrics address");
        // Keep draining so the child never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        addr
    })
    .await
    .unwrap();
    (child, addr)
}

async fn scrape(addr: &str) -> String {
    let r = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let kind = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    r.text().await.unwrap()
}

/// The value of one series (exact name with labels), if present.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Scrapes until `series` is above zero (or panics after 30 s).
async fn scrape_until(addr: &str, series: &str) -> String {
    for _ in 0..300 {
        let text = scrape(addr).await;
        if value(&text, series).is_some_and(|v| v > 0.0) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{series} never rose:\n{}", scrape(addr).await);
}

async fn sigterm(child: Proc) {
    child.sigterm();
    let out = child.finish_async(Duration::from_secs(30)).await;
    assert_eq!(out.status.code(), Some(0), "exits 0 on SIGTERM");
}

both_backends!(
    metrics_endpoint_serves_the_named_series_after_some_work,
    |ts| {
        let _turn = ONE_AT_A_TIME.lock().await;
        let d = def(
            "name = \"svc\"\n[[steps]]\nkind = \"message\"\naction = \"email\"\n\
         [[steps]]\nkind = \"wait\"\nduration = \"1h\"\n",
        );
        publish(&ts.store, &d, at(0)).await;
        let events: Vec<_> = (0..200)
            .map(|i| enter("svc", &format!("p-{i}"), at(0)))
            .collect();
        ts.store.ingest(&events).await.unwrap();

        // The engine ticks every 100 ms over 200 people who entered long ago.
        let (engine, addr) = start_with_metrics(&ts.url, &["run", "--interval", "100ms"]).await;
        let text = scrape_until(&addr, "journeyctl_steps_total").await;
        for series in [
            "# TYPE journeyctl_steps counter",
            "# TYPE journeyctl_messages_enqueued counter",
            "# TYPE journeyctl_tick_duration_seconds histogram",
            "journeyctl_tick_duration_seconds_bucket{le=\"0.001\"}",
            "journeyctl_tick_failures_total 0",
            "# TYPE journeyctl_oldest_due_participant_age_seconds gauge",
            "# TYPE journeyctl_oldest_pending_message_age_seconds gauge",
            "# EOF",
        ] {
            assert!(text.contains(series), "{series} missing:\n{text}");
        }
        let text = scrape_until(&addr, "journeyctl_messages_enqueued_total").await;
        assert!(value(&text, "journeyctl_tick_duration_seconds_count").unwrap() >= 1.0);
        // Nobody delivers yet: the messages wait, and the engine has run
        // everyone's message and their wait (which ran out long ago).
        let text = scrape_until(&addr, "journeyctl_oldest_pending_message_age_seconds").await;
        assert_eq!(value(&text, "journeyctl_steps_total"), Some(400.0));
        assert_eq!(
            value(&text, "journeyctl_messages_enqueued_total"),
            Some(200.0),
            "one message each, once"
        );
        assert_eq!(
            value(&text, "journeyctl_participants_completed_total"),
            Some(200.0),
            "their hour's wait ran out long ago: everyone completed, once"
        );
        assert_eq!(
            value(&text, "journeyctl_oldest_due_participant_age_seconds"),
            Some(0.0)
        );
        // An operator's pause and an action's hold, as gauges a dashboard
        // draws over the rates; gone again once resumed and released.
        let status = |s: &str| {
            format!("journeyctl_version_status{{journey=\"svc\",version=\"1\",status=\"{s}\"}}")
        };
        let held = "journeyctl_action_held{action=\"email\"}";
        let held_messages = "journeyctl_version_held_messages{journey=\"svc\",version=\"1\"}";
        assert_eq!(value(&scrape(&addr).await, &status("live")), Some(1.0));
        for args in [
            &["hold", "--action", "email", "--yes"][..],
            &["pause", "svc", "--hold", "1h", "--yes"][..],
        ] {
            let o = common::delivery::run(&ts.url, args).await;
            assert!(o.status.success(), "{}", common::text(&o).1);
        }
        let text = scrape(&addr).await;
        assert_eq!(value(&text, &status("paused")), Some(1.0), "{text}");
        assert_eq!(value(&text, &status("live")), None, "{text}");
        assert_eq!(value(&text, held), Some(1.0), "{text}");
        assert_eq!(value(&text, held_messages), Some(200.0), "{text}");
        for args in [
            &["resume", "svc", "--yes"][..],
            &["release", "--action", "email", "--yes"][..],
        ] {
            let o = common::delivery::run(&ts.url, args).await;
            assert!(o.status.success(), "{}", common::text(&o).1);
        }
        let text = scrape(&addr).await;
        assert_eq!(value(&text, &status("live")), Some(1.0), "{text}");
        assert_eq!(value(&text, held), None, "{text}");
        sigterm(engine).await;

        // A delivery worker whose channel fails each message once.
        let rx = Receiver::start(Answer::FailFirst {
            times: 1,
            status: 503,
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = channels_file(dir.path(), &rx.url("send"), "");
        let (worker, addr) =
            start_with_metrics(&ts.url, &["deliver", "--channels", &file, "--workers", "1"]).await;
        let failed = "journeyctl_delivery_failures_total{action=\"email\",outcome=\"retry\"}";
        scrape_until(&addr, failed).await;
        let sent = "journeyctl_deliveries_total{action=\"email\"}";
        let mut text = scrape_until(&addr, sent).await;
        let start = std::time::Instant::now();
        while value(&text, sent) < Some(200.0) {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "deliveries stalled:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
            text = scrape(&addr).await;
        }
        // Every message once, each after exactly one failed attempt.
        assert_eq!(value(&text, sent), Some(200.0), "{text}");
        assert_eq!(value(&text, failed), Some(200.0), "{text}");
        // A scrape reads the backlog before it writes the counters, so the
        // one that first showed 200 may have read it before the last
        // record committed: the next one reads it after.
        let text = scrape(&addr).await;
        assert_eq!(
            value(&text, "journeyctl_oldest_pending_message_age_seconds"),
            Some(0.0),
            "{text}"
        );
        sigterm(worker).await;
        assert_eq!(summary(&ts.store, "svc", 1).await.messages.sent, 200);
    }
);

#[test]
fn metrics_on_a_taken_port_is_one_clear_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("m.db").display().to_string();
    let migrate = journeyctl(&url).args(["migrate"]).output();
    assert!(migrate.status.success());
    let out = journeyctl(&url).args(["run", "--metrics", &addr]).output();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&format!("--metrics {addr}: ")), "{err}");
}

/// 200 connections that never send a request, to a `run` limited to 64
/// file descriptors: `/metrics` still answers within a second and `run`
/// keeps ticking (its store keeps its descriptors); a POST is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_stay_up_under_half_open_connections() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let ts = common::sqlite("half_open").await;
    let (child, addr) = start_under(
        &["prlimit", "--nofile=64:64"],
        &ts.url,
        &["run", "--interval", "200ms"],
    )
    .await;
    let ticks = |text: &str| value(text, "journeyctl_tick_duration_seconds_count").unwrap_or(0.0);
    let before = ticks(&scrape_until(&addr, "journeyctl_tick_duration_seconds_count").await);
    let idle: Vec<std::net::TcpStream> = (0..200)
        .map(|_| std::net::TcpStream::connect(&addr).unwrap())
        .collect();
    let started = std::time::Instant::now();
    let text = tokio::time::timeout(Duration::from_secs(1), scrape(&addr))
        .await
        .expect("/metrics answered within a second");
    assert!(started.elapsed() < Duration::from_secs(1));
    tokio::time::sleep(Duration::from_millis(600)).await;
    let after = ticks(&scrape(&addr).await);
    assert!(
        after > ticks(&text).min(before),
        "run stopped ticking: {before} -> {after}"
    );
    let post = reqwest::Client::new()
        .post(format!("http://{addr}/metrics"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 405);
    drop(idle);
    sigterm(child).await;
    ts.close().await;
}

/// A 100 MB POST to the demo's receiver is refused (413) after at most
/// 1 MB is read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_post_to_the_receiver_is_refused() {
    use std::io::{Read, Write};
    let rx = journeyctl::demo::receiver::Receiver::start(
        journeyctl::demo::receiver::Answer::Status(200),
    )
    .await
    .unwrap();
    let addr = rx
        .url("")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let status = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            s,
            "POST /send HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n",
            100 << 20
        )
        .unwrap();
        let chunk = vec![b'a'; 64 * 1024];
        // The server stops reading past its cap: writing may then fail.
        for _ in 0..32 {
            if s.write_all(&chunk).is_err() {
                break;
            }
        }
        let mut head = [0u8; 12];
        s.read_exact(&mut head).unwrap();
        String::from_utf8_lossy(&head).into_owned()
    })
    .await
    .unwrap();
    assert_eq!(status, "HTTP/1.1 413");
    assert_eq!(rx.count(), 0);
}

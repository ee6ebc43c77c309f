//! Attempts without a definite answer (SPEC §2c, uncertain): a receiver
//! that reads the request and cuts the connection, and a command channel
//! that outlives its time-out. Each message may have arrived: a stop
//! counts it so, never as plain cancelled.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::delivery::*;
use common::*;

/// A receiver on 127.0.0.1 that reads each request whole, then closes
/// the connection without a word; how many it read.
fn cutting_receiver() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    let read = Arc::new(AtomicUsize::new(0));
    let counter = read.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            // The headers, then the body its Content-Length names.
            while let Ok(n) = conn.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&seen).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .and_then(|v| v.trim().parse::<usize>().ok())
                        })
                        .unwrap_or(0);
                    if seen.len() >= end + 4 + len {
                        counter.fetch_add(1, Ordering::SeqCst);
                        break;
                    }
                }
            }
            drop(conn);
        }
    });
    (url, read)
}

/// Stops `journey` v1 and says how many of its pending messages the stop
/// counted as may-have-arrived.
async fn stopped_uncertain(ts: &TestStore, journey: &str) -> (i64, i64) {
    let out = ts
        .store
        .execute(&stop_of(journey, 1), &alice(), at(3))
        .await
        .unwrap();
    (out.versions[0].pending, out.versions[0].uncertain)
}

both_backends!(a_connection_cut_after_the_request_may_have_arrived, |ts| {
    let dir = tempfile::tempdir().unwrap();
    emails(ts, "cut", 1).await;
    let (url, read) = cutting_receiver();
    let file = channels_file(dir.path(), &url, "");
    let o = run(&ts.url, &["deliver", "--channels", &file, "--once"]).await;
    assert!(o.status.success(), "{}", text(&o).1);
    assert_eq!(
        read.load(Ordering::SeqCst),
        1,
        "the receiver read the request"
    );
    assert_eq!(
        text(&o).0.trim(),
        "delivered: 0 sent, 1 to retry, 0 failed \
         (1 of them without an answer: they may have arrived)",
        "{}",
        text(&o).1
    );
    assert_eq!(
        stopped_uncertain(ts, "cut").await,
        (1, 1),
        "a request read by the receiver may have arrived"
    );
});

both_backends!(a_command_past_its_time_out_may_have_arrived, |ts| {
    let dir = tempfile::tempdir().unwrap();
    emails(ts, "slowcmd", 1).await;
    let file = dir.path().join("channels.toml");
    std::fs::write(
        &file,
        "[channels.email]\nkind = \"command\"\ntimeout = \"300ms\"\n\
         command = [\"sh\", \"-c\", \"cat >/dev/null; exec sleep 5\"]\n",
    )
    .unwrap();
    let o = run(
        &ts.url,
        &["deliver", "--channels", file.to_str().unwrap(), "--once"],
    )
    .await;
    assert!(o.status.success(), "{}", text(&o).1);
    assert_eq!(
        stopped_uncertain(ts, "slowcmd").await,
        (1, 1),
        "a command that read its message and did not finish may have sent it"
    );
});

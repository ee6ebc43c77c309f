//! Engines and delivery workers side by side, as on two hosts: separate
//! processes over the same store divide the work, every step and every
//! delivery happens once, a stop between their batches ends everything,
//! and the counters equal a recount while they run.

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use journeyctl::demo::receiver::{Answer, Receiver};
use journeyctl::domain::EndKind;
use journeyctl::domain::time::to_rfc3339;
use journeyctl::store::{OperatorAction, Store, Target};

const PEOPLE: usize = 3_000;
const HOUR: i64 = 3_600_000;

fn spawn(url: &str, args: &[&str]) -> Child {
    Command::new(bin())
        .env("DATABASE_URL", url)
        .env("USER", "engine")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child) {
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Five steps: three messages between two hourly waits.
async fn long_journey(store: &Store, name: &str) {
    let d = def(&format!(
        "name = \"{name}\"\ngoal = \"purchase\"\n\
         [[steps]]\nkind = \"message\"\naction = \"email\"\n\
         [[steps]]\nkind = \"wait\"\nduration = \"1h\"\n\
         [[steps]]\nkind = \"message\"\naction = \"email\"\n\
         [[steps]]\nkind = \"wait\"\nduration = \"1h\"\n\
         [[steps]]\nkind = \"message\"\naction = \"sms\"\n"
    ));
    publish(store, &d, at(0)).await;
    let events: Vec<_> = (0..PEOPLE)
        .map(|i| enter(name, &format!("p-{i}"), at(0)))
        .collect();
    store.ingest(&events).await.unwrap();
}

/// Two `tick` processes at once for each hour.
fn two_engines(url: &str, hours: i64) {
    for h in 0..hours {
        let now = to_rfc3339(at(1) + h * HOUR);
        let a = spawn(url, &["tick", "--now", &now]);
        let b = spawn(url, &["tick", "--now", &now]);
        finish(a);
        finish(b);
    }
}

/// Recounts the store again and again until told to stop; the number of
/// recounts, each of which must find every counter equal to its rows.
fn keep_checking(store: &Store, done: Arc<AtomicBool>) -> tokio::task::JoinHandle<u32> {
    let store = store.clone();
    tokio::spawn(async move {
        let mut checks = 0;
        while !done.load(Ordering::Relaxed) {
            let diffs = store.verify_counters().await.expect("recount");
            assert!(diffs.is_empty(), "while engines run: {diffs:?}");
            checks += 1;
        }
        checks
    })
}

async fn outbox_count(store: &Store, journey: &str) -> usize {
    outbox_states(store, journey, 1).await.len()
}

both_backends!(two_engines_run_every_step_exactly_once, |ts| {
    long_journey(&ts.store, "long").await;
    let done = Arc::new(AtomicBool::new(false));
    let checker = keep_checking(&ts.store, done.clone());
    let url = ts.url.clone();
    tokio::task::spawn_blocking(move || two_engines(&url, 3))
        .await
        .unwrap();
    done.store(true, Ordering::Relaxed);
    assert!(checker.await.unwrap() > 0);
    let v = summary(&ts.store, "long", 1).await;
    assert_eq!(v.counts.completed, PEOPLE as i64);
    assert_eq!(v.counts.active, 0);
    // Three messages each, each once: no participant's step ran twice.
    let rows = sqlx::query_as::<_, (i64, i64)>(
        "SELECT participant_id, created_at FROM outbox ORDER BY participant_id, created_at",
    )
    .fetch_all(ts.store.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), 3 * PEOPLE);
    let mut per: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (p, t) in rows {
        per.entry(p).or_default().push(t);
    }
    assert_eq!(per.len(), PEOPLE);
    for times in per.values() {
        assert_eq!(times, &vec![at(0), at(60), at(120)]);
    }
});

both_backends!(a_stop_between_two_engines_batches_ends_everything, |ts| {
    long_journey(&ts.store, "halt").await;
    let url = ts.url.clone();
    let engines = tokio::task::spawn_blocking(move || two_engines(&url, 3));
    // Stop once the engines are under way.
    while outbox_count(&ts.store, "halt").await == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let stop = OperatorAction {
        kind: EndKind::Stop,
        target: Target::Version {
            journey: "halt".into(),
            version: Some(1),
        },
        reason: None,
    };
    ts.store.execute(&stop, &alice(), at(1)).await.unwrap();
    let at_stop = outbox_count(&ts.store, "halt").await;
    engines.await.unwrap();
    assert_eq!(
        outbox_count(&ts.store, "halt").await,
        at_stop,
        "nothing enqueued after the stop committed"
    );
    let states = outbox_states(&ts.store, "halt", 1).await;
    assert!(states.iter().all(|s| s == "cancelled"), "{states:?}");
    let v = summary(&ts.store, "halt", 1).await;
    assert_eq!(v.counts.active, 0);
    assert_eq!(v.counts.stopped + v.counts.completed, PEOPLE as i64);
});

both_backends!(two_delivery_workers_deliver_each_message_once, |ts| {
    publish(&ts.store, &simple("mail"), at(0)).await;
    let events: Vec<_> = (0..600)
        .map(|i| enter("mail", &format!("p-{i}"), at(0)))
        .collect();
    ts.store.ingest(&events).await.unwrap();
    ts.store.tick(at(1)).await.unwrap();
    let rx = Receiver::start(Answer::Status(200)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = channels_file(dir.path(), &rx.url("send"), "");
    let url = ts.url.clone();
    tokio::task::spawn_blocking(move || {
        let args = [
            "deliver",
            "--channels",
            &file,
            "--once",
            "--workers",
            "1",
            "--batch",
            "50",
        ];
        let a = spawn(&url, &args);
        let b = spawn(&url, &args);
        finish(a);
        finish(b);
    })
    .await
    .unwrap();
    let received = rx.received();
    let keys: std::collections::BTreeSet<&str> = received.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(received.len(), 600, "one request per message");
    assert_eq!(keys.len(), 600);
    let v = summary(&ts.store, "mail", 1).await;
    assert_eq!(v.messages.sent, 600);
});

both_backends!(sigterm_lets_run_finish_its_batch_and_exit_0, |ts| {
    long_journey(&ts.store, "svc").await;
    let mut child = spawn(&ts.url, &["run", "--interval", "100ms"]);
    while outbox_count(&ts.store, "svc").await == 0 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0), "run exits 0 on SIGTERM");
    // Counters equal a recount (checked by both_backends! after this).
    let v = summary(&ts.store, "svc", 1).await;
    assert!(v.counts.completed > 0);
});

// A stop that comes while two engines (each with its lanes) stream
// batches over one big version waits for the batches in flight only, not
// for the tick to run out of work: on PostgreSQL engine batches share the
// version's lock and a stop queues for it exclusively, so batches that
// come after the stop wait behind it (a row lock alone would let the
// overlapping batches starve it). SQLite's engines take turns by tick,
// and nothing is enqueued after its stop either.
both_backends!(a_stop_is_served_while_two_engines_stream_batches, |ts| {
    const MANY: usize = 24_000;
    publish(&ts.store, &simple("flood"), at(0)).await;
    let events: Vec<_> = (0..MANY)
        .map(|i| enter("flood", &format!("p-{i}"), at(0)))
        .collect();
    ts.store.ingest(&events).await.unwrap();
    let location = journeyctl::store::Location::parse(&ts.url).unwrap();
    let mut engines = Vec::new();
    for _ in 0..2 {
        let engine = Store::connect(&location).await.unwrap();
        engines.push(tokio::spawn(async move {
            let report = engine.tick(at(1)).await.unwrap();
            engine.close().await;
            report
        }));
    }
    while outbox_count(&ts.store, "flood").await == 0 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let stop = OperatorAction {
        kind: EndKind::Stop,
        target: Target::Version {
            journey: "flood".into(),
            version: Some(1),
        },
        reason: None,
    };
    ts.store.execute(&stop, &alice(), at(1)).await.unwrap();
    let at_stop = outbox_count(&ts.store, "flood").await;
    let mut enqueued = 0;
    for e in engines {
        enqueued += e.await.unwrap().messages;
    }
    assert_eq!(
        enqueued as usize, at_stop,
        "nothing enqueued after the stop"
    );
    assert_eq!(outbox_count(&ts.store, "flood").await, at_stop);
    // SQLite has no lock queue: its stop competes for the file with the
    // engine's next batch, and may come only after the tick.
    assert!(
        ts.backend == "sqlite" || at_stop < MANY,
        "the stop waited for the whole tick ({at_stop} of {MANY} messages enqueued before it)"
    );
    let v = summary(&ts.store, "flood", 1).await;
    assert_eq!(v.counts.active, 0);
    assert_eq!(
        v.counts.stopped as usize, MANY,
        "everyone was waiting or due"
    );
});

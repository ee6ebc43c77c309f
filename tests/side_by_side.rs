//! Engines and delivery workers side by side, as on two hosts: separate
//! processes over the same store divide the work, every step and every
//! delivery happens once, a stop between their batches ends everything,
//! and the counters equal a recount while they run.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use journeyctl::demo::receiver::{Answer, Receiver};
use journeyctl::domain::ActionKind;
use journeyctl::domain::time::to_rfc3339;
use journeyctl::store::{OperatorAction, Store, Target};

const PEOPLE: usize = 3_000;
const HOUR: i64 = 3_600_000;

fn spawn(url: &str, args: &[&str]) -> Proc {
    journeyctl(url).user("engine").args(args).spawn()
}

fn finish(child: Proc) {
    let out = child.finish(Duration::from_secs(120));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Five steps: three messages between two hourly waits; `PEOPLE` enter.
async fn long_journey(store: &Store, name: &str) {
    long_journey_of(store, name, PEOPLE).await;
}

/// The same journey with `people` entering.
async fn long_journey_of(store: &Store, name: &str, people: usize) {
    let d = def(&format!(
        "name = \"{name}\"\ngoal = \"purchase\"\n\
         [[steps]]\nkind = \"message\"\naction = \"email\"\n\
         [[steps]]\nkind = \"wait\"\nduration = \"1h\"\n\
         [[steps]]\nkind = \"message\"\naction = \"email\"\n\
         [[steps]]\nkind = \"wait\"\nduration = \"1h\"\n\
         [[steps]]\nkind = \"message\"\naction = \"sms\"\n"
    ));
    publish(store, &d, at(0)).await;
    let events: Vec<_> = (0..people)
        .map(|i| enter(name, &format!("p-{i}"), at(0)))
        .collect();
    for chunk in events.chunks(10_000) {
        store.ingest(chunk).await.unwrap();
    }
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

/// Waits until the engines have enqueued the journey's first messages (or
/// fails after 30 s, rather than hang).
async fn first_messages(store: &Store, journey: &str) {
    let start = std::time::Instant::now();
    while outbox_count(store, journey).await == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no engine enqueued a message of {journey} in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Engines side by side over `hours` hours, each with its own connections
/// (as on two hosts), started at the same instant; the steps each ran,
/// per hour.
async fn engines_side_by_side(url: &str, hours: i64) -> Vec<[u64; 2]> {
    let location = journeyctl::store::Location::parse(url).unwrap();
    let a = Store::connect(&location).await.unwrap();
    let b = Store::connect(&location).await.unwrap();
    let mut per_hour = Vec::new();
    for h in 0..hours {
        let now = at(1) + h * HOUR;
        let (ra, rb) = tokio::join!(
            tokio::spawn({
                let a = a.clone();
                async move { a.tick(now).await.unwrap().steps }
            }),
            tokio::spawn({
                let b = b.clone();
                async move { b.tick(now).await.unwrap().steps }
            }),
        );
        per_hour.push([ra.unwrap(), rb.unwrap()]);
    }
    a.close().await;
    b.close().await;
    per_hour
}

both_backends!(two_engines_run_every_step_exactly_once, |ts| {
    const CROWD: usize = 4 * PEOPLE;
    long_journey_of(&ts.store, "long", CROWD).await;
    let done = Arc::new(AtomicBool::new(false));
    let checker = keep_checking(&ts.store, done.clone());
    let per_hour = engines_side_by_side(&ts.url, 3).await;
    done.store(true, Ordering::Relaxed);
    assert!(checker.await.unwrap() > 0);
    if ts.backend != "sqlite" {
        // Both engines worked, at the same time, on the same version: in
        // one hour's tick, both moved people (ticks that took turns would
        // leave one of them with nothing in every hour).
        assert!(
            per_hour.iter().any(|h| h[0] > 0 && h[1] > 0),
            "the engines took turns: {per_hour:?}"
        );
    } else {
        // SQLite's engines take turns a tick at a time: each hour one
        // engine ran every due step and the other, after it, found none.
        for h in &per_hour {
            assert!(
                h.contains(&0),
                "both engines moved people in one hour: {per_hour:?}"
            );
        }
    }
    let v = summary(&ts.store, "long", 1).await;
    assert_eq!(v.counts.completed, CROWD as i64);
    assert_eq!(v.counts.active, 0);
    // Three messages each, each once: no participant's step ran twice.
    let rows = sqlx::query_as::<_, (i64, i64)>(
        "SELECT participant_id, created_at FROM outbox ORDER BY participant_id, created_at",
    )
    .fetch_all(ts.store.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), 3 * CROWD);
    let mut per: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (p, t) in rows {
        per.entry(p).or_default().push(t);
    }
    assert_eq!(per.len(), CROWD);
    for times in per.values() {
        assert_eq!(times, &vec![at(0), at(60), at(120)]);
    }
});

/// The outbox rows of a journey by their stored state (not the effective
/// view, which shows a stopped version's pending rows as cancelled).
async fn stored_outbox_states(store: &Store, journey: &str) -> BTreeMap<String, i64> {
    sqlx::query_as::<_, (String, i64)>(
        "SELECT o.state, COUNT(*) FROM outbox o JOIN versions v ON v.id = o.version_id \
         JOIN journeys j ON j.id = v.journey_id WHERE j.name = $1 GROUP BY o.state",
    )
    .bind(journey)
    .fetch_all(store.pool())
    .await
    .unwrap()
    .into_iter()
    .collect()
}

// Two engine processes tick a journey of many batches; the stop lands
// while they are moving its first hour (asserted), so batches come after
// it: each must see the stop and enqueue nothing.
both_backends!(a_stop_between_two_engines_batches_ends_everything, |ts| {
    const CROWD: usize = 8 * PEOPLE;
    long_journey_of(&ts.store, "halt", CROWD).await;
    let url = ts.url.clone();
    let engines = tokio::task::spawn_blocking(move || two_engines(&url, 3));
    // Stop once the engines are under way.
    first_messages(&ts.store, "halt").await;
    let stop = OperatorAction {
        kind: ActionKind::Stop,
        target: Target::Version {
            journey: "halt".into(),
            version: Some(1),
        },
        reason: None,
    };
    ts.store.execute(&stop, &alice(), at(1)).await.unwrap();
    let at_stop = outbox_count(&ts.store, "halt").await;
    engines.await.unwrap();
    assert!(
        at_stop < CROWD,
        "the stop landed after the first hour's batches ({at_stop} of {CROWD} enqueued): \
         it proves nothing about batches after it"
    );
    assert_eq!(
        outbox_count(&ts.store, "halt").await,
        at_stop,
        "nothing enqueued after the stop committed"
    );
    // The engines swept the stored rows too: none is left pending.
    let stored = stored_outbox_states(&ts.store, "halt").await;
    assert_eq!(
        stored.keys().collect::<Vec<_>>(),
        vec!["cancelled"],
        "{stored:?}"
    );
    let v = summary(&ts.store, "halt", 1).await;
    assert_eq!(v.counts.active, 0);
    assert_eq!(v.counts.stopped + v.counts.completed, CROWD as i64);
});

both_backends!(two_delivery_workers_deliver_each_message_once, |ts| {
    const MESSAGES: usize = 2_000;
    publish(&ts.store, &simple("mail"), at(0)).await;
    let events: Vec<_> = (0..MESSAGES)
        .map(|i| enter("mail", &format!("p-{i}"), at(0)))
        .collect();
    ts.store.ingest(&events).await.unwrap();
    ts.store.tick(at(1)).await.unwrap();
    let rx = Receiver::start(Answer::Status(200)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = channels_file(dir.path(), &rx.url("send"), "");
    let channels = journeyctl::delivery::Channels::load(std::path::Path::new(&file)).unwrap();
    let options = journeyctl::delivery::Options {
        workers: 1,
        once: true,
        batch: 50,
        ..Default::default()
    };
    // Two workers, each with its own connections, started at one instant.
    let location = journeyctl::store::Location::parse(&ts.url).unwrap();
    let (_quit, shutdown) = tokio::sync::watch::channel(false);
    let mut workers = Vec::new();
    for _ in 0..2 {
        let store = Store::connect(&location).await.unwrap();
        let (channels, options, shutdown) = (channels.clone(), options.clone(), shutdown.clone());
        workers.push(tokio::spawn(async move {
            let r = journeyctl::delivery::deliver(&store, &channels, &options, shutdown).await;
            store.close().await;
            r.unwrap()
        }));
    }
    let mut each = Vec::new();
    for w in workers {
        each.push(w.await.unwrap().sent);
    }
    assert!(
        each.iter().all(|&n| n > 0),
        "one worker did all the work: {each:?}"
    );
    assert_eq!(each.iter().sum::<u64>(), MESSAGES as u64);
    let received = rx.received();
    let keys: std::collections::BTreeSet<&str> = received.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(received.len(), MESSAGES, "one request per message");
    assert_eq!(keys.len(), MESSAGES);
    let v = summary(&ts.store, "mail", 1).await;
    assert_eq!(v.messages.sent, MESSAGES as i64);
});

// SIGTERM reaches `run` while its batch waits behind a lock the test
// holds: it finishes that batch (commits it) once the lock is gone, then
// exits 0.
both_backends!(sigterm_lets_run_finish_its_batch_and_exit_0, |ts| {
    long_journey(&ts.store, "svc").await;
    let blocker = Blocker::hold(&ts.store, "svc", 1).await;
    let mut run = vec![spawn(&ts.url, &["run", "--interval", "100ms"])];
    if ts.backend != "sqlite" {
        // The batch's counter update waits on the version row (on a
        // cluster, on its bucket's fence).
        blocker.wait_for(&ts.store, 1, &mut run).await;
    } else {
        // SQLite's waiter sleeps in its busy handler, invisible from here;
        // its tick holds the engines' lock file beside the store while it
        // waits, which /proc/locks shows.
        let journeyctl::store::Location::Sqlite(path) = ts.store.location() else {
            unreachable!("a SQLite store")
        };
        let mut engine_lock = path.as_os_str().to_owned();
        engine_lock.push("-engine");
        let pid = run[0].id();
        let start = std::time::Instant::now();
        while !in_line_at(std::path::Path::new(&engine_lock)).contains(&pid) {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "run never began its tick (no lock on {engine_lock:?})"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    assert_eq!(
        outbox_count(&ts.store, "svc").await,
        0,
        "nothing committed yet"
    );
    let mut child = run.pop().unwrap();
    child.sigterm();
    // For 300 ms after the signal, it must still run (its batch waits).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        child.child().try_wait().unwrap().is_none(),
        "run exited with a batch still waiting"
    );
    blocker.release().await;
    let status = child.finish_async(Duration::from_secs(60)).await.status;
    assert_eq!(status.code(), Some(0), "run exits 0 on SIGTERM");
    // The waiting batch committed: the first messages are there, and the
    // counters equal a recount (checked by both_backends! after this).
    assert!(
        outbox_count(&ts.store, "svc").await > 0,
        "the batch was lost"
    );
});

// A stop that comes while two engines (each with its lanes) stream
// batches over one big version waits for the batches in flight only, not
// for the tick to run out of work: on PostgreSQL engine batches share the
// version's lock and a stop queues for it exclusively, so batches that
// come after the stop wait behind it (a row lock alone would let the
// overlapping batches starve it). On SQLite an operator's action holds a
// lock file that every batch waits behind before it begins.
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
    first_messages(&ts.store, "flood").await;
    let stop = OperatorAction {
        kind: ActionKind::Stop,
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
    // On SQLite the stop goes before the engines' next batch.
    assert!(
        at_stop < MANY,
        "the stop waited for the whole tick ({at_stop} of {MANY} messages enqueued before it)"
    );
    let v = summary(&ts.store, "flood", 1).await;
    assert_eq!(v.counts.active, 0);
    assert_eq!(
        v.counts.stopped as usize, MANY,
        "everyone was waiting or due"
    );
});

//! What an action on many versions costs in statements sent to the
//! database: the store-wide brake, its resume by incident and a stop of
//! every version take as many for 36 versions as for 4, so a brake of a
//! busy store commits as fast as one of a quiet store. Counted from the
//! statements sqlx reports (`sqlx::query` events), so this binary has one
//! test, which takes the backends in turn.

mod common;

use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use journeyctl::domain::{ActionKind, Hold, Overdue};
use journeyctl::store::{OperatorAction, Outcome, Store, Target};

/// Statements the store has sent since this binary started.
static STATEMENTS: AtomicUsize = AtomicUsize::new(0);

/// Counts every statement sqlx reports, whatever the thread (SQLite runs
/// its statements on a worker thread of its own).
struct Counter;

impl tracing::Subscriber for Counter {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        metadata.target() == "sqlx::query"
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        let mut sql = Summary(String::new());
        event.record(&mut sql);
        // A new connection's settings (`dialect::session_setup`) come with
        // the pool's growth, not with the action.
        let setup = ["PRAGMA", "SET journeyctl", "SET citus"]
            .iter()
            .any(|p| sql.0.trim_start().starts_with(p));
        if !setup {
            STATEMENTS.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// The statement's summary (the event's message).
struct Summary(String);

impl tracing::field::Visit for Summary {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.to_string();
        }
    }
}

fn count_statements() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        tracing::subscriber::set_global_default(Counter).expect("one subscriber");
    });
}

/// The action's outcome and the statements it took.
async fn counted(store: &Store, action: OperatorAction, operator: bool) -> (Outcome, usize) {
    let before = STATEMENTS.load(Ordering::SeqCst);
    let outcome = if operator {
        // Waiting its turn as an operator's action does (it may give up).
        store
            .execute_until(&action, &alice(), at(5), &|_| {}, std::future::pending())
            .await
    } else {
        store.execute(&action, &alice(), at(5)).await
    }
    .unwrap_or_else(|e| panic!("{action:?}: {e}"));
    (outcome, STATEMENTS.load(Ordering::SeqCst) - before)
}

/// Brake the store, resume it by its incident, stop it all: what each
/// took in statements, once every version was checked changed.
async fn brake_resume_stop(store: &Store, versions: usize) -> [usize; 3] {
    let brake = OperatorAction {
        kind: ActionKind::Pause(Hold::default()),
        target: Target::Store {
            name: "test".into(),
        },
        reason: Some("wrong price".into()),
    };
    let (paused, pause_cost) = counted(store, brake, true).await;
    assert_eq!(paused.versions.len(), versions);
    let resume = OperatorAction {
        kind: ActionKind::Resume(Overdue::Skip),
        target: Target::Incident {
            id: paused.incident.clone().expect("an incident"),
        },
        reason: None,
    };
    let (resumed, resume_cost) = counted(store, resume, false).await;
    assert_eq!(resumed.versions.len(), versions);
    let stop = OperatorAction {
        kind: ActionKind::Stop,
        target: Target::Store {
            name: "test".into(),
        },
        reason: Some("incident".into()),
    };
    let (stopped, stop_cost) = counted(store, stop, true).await;
    assert_eq!(stopped.versions.len(), versions);
    for s in store.list(true).await.unwrap() {
        assert_eq!(s.status.as_str(), "stopped", "{} v{}", s.journey, s.version);
    }
    [pause_cost, resume_cost, stop_cost]
}

/// 4 versions braked, resumed and stopped, then 36 more: the same
/// statements each time.
async fn many_cost_what_few_do(ts: &TestStore) {
    for k in 0..4 {
        publish(&ts.store, &simple(&format!("few-{k}")), at(0)).await;
        ts.store
            .ingest(&[enter(&format!("few-{k}"), "p1", at(1))])
            .await
            .unwrap();
    }
    let few = brake_resume_stop(&ts.store, 4).await;
    for k in 0..36 {
        publish(&ts.store, &simple(&format!("many-{k:02}")), at(0)).await;
        ts.store
            .ingest(&[enter(&format!("many-{k:02}"), "p1", at(1))])
            .await
            .unwrap();
    }
    let many = brake_resume_stop(&ts.store, 36).await;
    assert!(few.iter().all(|&n| n > 0), "no statement counted: {few:?}");
    assert_eq!(
        many, few,
        "{}: statements of [brake, resume, stop], 36 versions against 4",
        ts.backend
    );
}

/// Every backend in turn, in one test: the count is the whole process's,
/// so nothing else of this binary may run meanwhile (PostgreSQL and the
/// cluster are skipped, loudly, where the environment names none).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_on_many_versions_costs_as_many_statements_as_on_a_few() {
    count_statements();
    let name = "round_trips";
    let sqlite = common::sqlite(name).await;
    let mut stores = vec![sqlite];
    if let Some(ts) = common::postgres(name).await {
        stores.push(ts);
    }
    if let Some(ts) = common::citus(name).await {
        stores.push(ts);
    }
    for ts in stores {
        many_cost_what_few_do(&ts).await;
        common::assert_counters_exact(&ts.store).await;
        ts.close().await;
    }
}

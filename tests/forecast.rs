//! What will go out next (`journeyctl forecast`): per action, messages
//! pending now (counted in every window) and what participants will send
//! in 15 minutes, an hour and a day, from their steps and due times; for
//! a paused version, what a resume releases at once.

mod common;

use common::delivery::run;
use common::*;
use journeyctl::domain::{ActionKind, Hold, OperatorAction, Target};

fn json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)))
}

async fn sale(ts: &TestStore) {
    let d = def("name = \"sale\"\n\
         [[steps]]\nkind = \"message\"\naction = \"email\"\n\
         [[steps]]\nkind = \"wait\"\nduration = \"30m\"\n\
         [[steps]]\nkind = \"message\"\naction = \"sms\"\n\
         [[steps]]\nkind = \"wait\"\nduration = \"1d\"\n");
    publish(&ts.store, &d, at(0)).await;
    let entries: Vec<_> = (0..10)
        .map(|i| enter("sale", &format!("p{i}"), at(0)))
        .collect();
    ts.store.ingest(&entries).await.unwrap();
    ts.store.tick(at(0)).await.unwrap();
}

both_backends!(each_action_counts_what_falls_in_each_window, |ts| {
    sale(ts).await;
    let f = ts.store.forecast("sale", None, at(0)).await.unwrap();
    assert_eq!(f.version, 1);
    assert!(!f.paused);
    let of = |a: &str| f.actions.iter().find(|x| x.action == a).unwrap().clone();
    // The emails are pending: in every window.
    let email = of("email");
    assert_eq!(
        (email.pending, email.next_15m, email.next_1h, email.next_24h),
        (10, 10, 10, 10)
    );
    // The SMS follow the 30 minute wait.
    let sms = of("sms");
    assert_eq!((sms.next_15m, sms.next_1h, sms.next_24h), (0, 10, 10));
    // Through the CLI, as JSON.
    let o = run(&ts.url, &["forecast", "sale", "--json"]).await;
    assert!(o.status.success(), "{}", text(&o).1);
    let j = json(&o);
    let sms = j["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "sms")
        .unwrap()
        .clone();
    // The CLI's clock is the wall's: the test's SMS are long due.
    assert_eq!(sms["next_15m"], 10);
    assert_eq!(sms["next_1h"], 10);
    assert_eq!(sms["next_24h"], 10);
    let table = text(&run(&ts.url, &["forecast", "sale"]).await).0;
    assert!(table.contains("NEXT 15M"), "{table}");
});

both_backends!(a_paused_version_says_what_a_resume_releases_at_once, |ts| {
    sale(ts).await;
    let pause = OperatorAction {
        kind: ActionKind::Pause(Hold::default()),
        target: Target::Version {
            journey: "sale".into(),
            version: None,
        },
        reason: None,
    };
    ts.store.execute(&pause, &alice(), at(1)).await.unwrap();
    // 40 minutes on, the SMS fell due during the pause: held.
    ts.store.tick(at(40)).await.unwrap();
    let f = ts.store.forecast("sale", Some(1), at(40)).await.unwrap();
    assert!(f.paused);
    let sms = f.actions.iter().find(|x| x.action == "sms").unwrap();
    assert_eq!(sms.at_once, 10);
    let email = f.actions.iter().find(|x| x.action == "email").unwrap();
    assert_eq!(email.at_once, 10);
    // What the console's resume pane shows: summed per action over the
    // versions resumed, with the channel's rate (none known here).
    let release = ts
        .store
        .release_forecast(&[("sale".into(), 1)], at(40))
        .await
        .unwrap();
    let sms = release.iter().find(|r| r.forecast.action == "sms").unwrap();
    assert_eq!((sms.forecast.at_once, sms.rate), (10, None));
    let o = run(&ts.url, &["forecast", "nope"]).await;
    assert!(!o.status.success());
    let o = run(&ts.url, &["forecast", "sale", "--version", "9"]).await;
    assert!(!o.status.success());
});

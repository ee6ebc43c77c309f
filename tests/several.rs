//! `pause`, `stop`, `finish` and `resume` on several journeys at once:
//! each one's live version (a resume: its paused one), in one
//! transaction, their audit rows sharing one incident id. Through the
//! real binary.

mod common;

use common::delivery::*;
use common::*;
use journeyctl::domain::ActionKind;
use journeyctl::store::{OperatorAction, Target};

/// (journey, incident) of every audit row of `action`, oldest first.
async fn rows_of(url: &str, action: &str) -> Vec<(String, String)> {
    let o = run(url, &["audit", "--json"]).await;
    assert!(o.status.success(), "{:?}", text(&o));
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut out: Vec<(String, String)> = rows
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == action)
        .map(|r| {
            (
                r["journey"].as_str().unwrap().to_string(),
                r["incident"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    out.reverse();
    out
}

both_backends!(several_journeys_pause_and_resume_together, |ts| {
    for name in ["bf-email", "bf-sms", "bf-push", "onboarding"] {
        emails(ts, name, 3).await;
    }
    let o = run(
        &ts.url,
        &[
            "pause",
            "bf-email",
            "bf-sms",
            "bf-push",
            "--reason",
            "black friday",
            "--yes",
        ],
    )
    .await;
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out} {err}");
    assert!(out.contains("resume --incident"), "{out}");
    let paused = rows_of(&ts.url, "pause").await;
    assert_eq!(paused.len(), 3, "{paused:?}");
    let incident = paused[0].1.clone();
    assert!(!incident.is_empty(), "{paused:?}");
    assert!(paused.iter().all(|(_, i)| *i == incident), "{paused:?}");
    for name in ["bf-email", "bf-sms", "bf-push"] {
        assert!(summary(&ts.store, name, 1).await.paused.is_some(), "{name}");
    }
    assert!(summary(&ts.store, "onboarding", 1).await.paused.is_none());
    // Resumed by name, together: one more shared id.
    let o = run(
        &ts.url,
        &["resume", "bf-email", "bf-sms", "--overdue", "send", "--yes"],
    )
    .await;
    assert!(o.status.success(), "{:?}", text(&o));
    let resumed = rows_of(&ts.url, "resume").await;
    assert_eq!(resumed.len(), 2, "{resumed:?}");
    assert_eq!(resumed[0].1, resumed[1].1);
    assert!(summary(&ts.store, "bf-push", 1).await.paused.is_some());
    // The rest by the pause's incident: exactly bf-push.
    let o = run(
        &ts.url,
        &[
            "resume",
            "--incident",
            &incident,
            "--overdue",
            "send",
            "--yes",
        ],
    )
    .await;
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(summary(&ts.store, "bf-push", 1).await.paused.is_none());
});

both_backends!(
    several_journeys_stop_in_one_transaction_or_not_at_all,
    |ts| {
        for name in ["a", "b", "c"] {
            emails(ts, name, 2).await;
        }
        let o = run(&ts.url, &["stop", "b", "--yes"]).await;
        assert!(o.status.success(), "{:?}", text(&o));
        // b is stopped already: the stop of a and b is refused whole.
        let o = run(&ts.url, &["stop", "a", "b", "--yes"]).await;
        let (out, err) = text(&o);
        assert!(!o.status.success(), "{out} {err}");
        assert!(
            err.contains("cannot stop b"),
            "names the journey refused: {err}"
        );
        assert_eq!(summary(&ts.store, "a", 1).await.status.as_str(), "live");
        // a and c: both stopped, one incident.
        let o = run(
            &ts.url,
            &["stop", "a", "c", "--reason", "wrong list", "--yes"],
        )
        .await;
        let (out, err) = text(&o);
        assert!(o.status.success(), "{out} {err}");
        for name in ["a", "c"] {
            assert_eq!(summary(&ts.store, name, 1).await.status.as_str(), "stopped");
        }
        let stops = rows_of(&ts.url, "stop").await;
        assert_eq!(stops.len(), 3, "{stops:?}");
        assert_eq!(stops[1].1, stops[2].1, "{stops:?}");
        assert!(!stops[1].1.is_empty());
        assert!(
            stops[0].1.is_empty(),
            "b's own stop has no incident: {stops:?}"
        );
        // One journey's versions only with --version.
        let o = run(&ts.url, &["finish", "a", "c", "--version", "1", "--yes"]).await;
        let (_, err) = text(&o);
        assert!(!o.status.success());
        assert!(
            err.contains("--version and --all-versions name one journey"),
            "{err}"
        );
    }
);

#[test]
fn a_stop_of_several_asks_for_the_word_and_the_count() {
    let stop = OperatorAction {
        kind: ActionKind::Stop,
        target: Target::Journeys {
            journeys: vec![
                ("a".into(), None),
                ("b".into(), Some(2)),
                ("c".into(), None),
            ],
        },
        reason: None,
    };
    assert_eq!(stop.typed_name().as_deref(), Some("stop 3"));
    assert_eq!(stop.describe(), "stop 3 journeys: a, b v2, c");
    let pause = OperatorAction {
        kind: ActionKind::Pause(journeyctl::domain::Hold::default()),
        ..stop
    };
    assert_eq!(pause.typed_name(), None);
}

//! The command line the console shows with each outcome and copies with
//! `Y`: run by the real binary it does what the console's action did.

mod common;

use common::delivery::*;
use common::*;
use journeyctl::domain::{ActionKind, Hold, OnExpiry, Overdue};
use journeyctl::present::{cli_line, publish_line};
use journeyctl::store::{OperatorAction, Target};

/// The words of a line as a POSIX shell splits it (plain words and
/// single-quoted ones, which is all `cli_line` writes).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '\\' => {
                in_word = true;
                word.extend(chars.next());
            }
            ' ' if in_word => {
                words.push(std::mem::take(&mut word));
                in_word = false;
            }
            ' ' => {}
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[test]
fn each_action_reads_as_its_command() {
    let pause = OperatorAction {
        kind: ActionKind::Pause(Hold::new(4 * 3_600_000, OnExpiry::Resume).unwrap()),
        target: Target::Version {
            journey: "cart".into(),
            version: Some(2),
        },
        reason: Some("it's the CRM".into()),
    };
    assert_eq!(
        cli_line(&pause),
        r"journeyctl pause cart --version 2 --hold 4h --on-expiry resume --reason 'it'\''s the CRM' --yes"
    );
    let brake = OperatorAction {
        kind: ActionKind::Stop,
        target: Target::Store {
            name: "prod".into(),
        },
        reason: None,
    };
    assert_eq!(cli_line(&brake), "journeyctl stop --all --yes");
    let resume = OperatorAction {
        kind: ActionKind::Resume(Overdue::Spread(1_800_000)),
        target: Target::Incident {
            id: "20261207T051300Z-3fa2".into(),
        },
        reason: None,
    };
    assert_eq!(
        cli_line(&resume),
        "journeyctl resume --incident 20261207T051300Z-3fa2 --overdue spread=30m --yes"
    );
    let kill = OperatorAction {
        kind: ActionKind::Stop,
        target: Target::UsesAction {
            action: "webhook:crm".into(),
        },
        reason: Some("crm down; $(rm -rf)".into()),
    };
    assert_eq!(
        shell_words(&cli_line(&kill)),
        vec![
            "journeyctl",
            "stop",
            "--uses-action",
            "webhook:crm",
            "--reason",
            "crm down; $(rm -rf)",
            "--yes"
        ]
    );
    let marked = OperatorAction {
        kind: ActionKind::Finish,
        target: Target::Journeys {
            journeys: vec![("a".into(), Some(1)), ("b c".into(), Some(3))],
        },
        reason: None,
    };
    assert_eq!(
        cli_line(&marked),
        "journeyctl finish a --version 1 --yes && journeyctl finish 'b c' --version 3 --yes"
    );
    assert_eq!(
        publish_line("cart", Some("new copy")),
        "journeyctl publish cart --reason 'new copy' --yes"
    );
}

both_backends!(the_command_line_does_what_the_action_did, |ts| {
    emails(ts, "cart", 3).await;
    let pause = OperatorAction {
        kind: ActionKind::Pause(Hold::new(2 * 86_400_000, OnExpiry::Stop).unwrap()),
        target: Target::Version {
            journey: "cart".into(),
            version: Some(1),
        },
        reason: Some("it's \"odd\" copy".into()),
    };
    let words = shell_words(&cli_line(&pause));
    assert_eq!(words[0], "journeyctl");
    let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    let o = run(&ts.url, &args).await;
    assert!(o.status.success(), "{args:?}: {:?}", text(&o));
    let o = run(&ts.url, &["audit", "--json"]).await;
    let audit: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(audit[0]["action"], "pause");
    assert_eq!(audit[0]["reason"], "it's \"odd\" copy");
    let paused = summary(&ts.store, "cart", 1).await.paused.unwrap();
    assert_eq!(paused.until_ms - paused.since_ms, 2 * 86_400_000);
});

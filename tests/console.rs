//! The console without a terminal: state/update tests for navigation,
//! filter, sort and every confirmation flow, and snapshots of each screen.

use journeyctl::domain::abtest::{PairResult, VerdictKind};
use journeyctl::domain::time::parse_rfc3339;
use journeyctl::domain::{ActionKind, Hold, OnExpiry, VersionStatus};
use journeyctl::store::minutes::MinuteCounts;
use journeyctl::store::{
    AbSummary, ActionHealth, AuditEntry, Counts, Impact, Messages, OperatorAction, Outcome,
    PausedSummary, Recent, StepCount, Target, VariantSummary, VersionDetail, VersionImpact,
    VersionSummary,
};
use journeyctl::tui::app::{App, Context, DetailData, Effect, Msg, Snapshot, View};
use journeyctl::tui::confirm::{Focus, PaneState};
use journeyctl::tui::theme::Theme;
use journeyctl::tui::{buffer_text, render};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::TestRunner;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Color;

fn now() -> i64 {
    parse_rfc3339("2026-11-21T12:00:00Z").unwrap()
}

fn version(
    journey: &str,
    n: i64,
    status: VersionStatus,
    entered: i64,
    active: i64,
) -> VersionSummary {
    let completed = (entered - active) / 2;
    let exited = if status == VersionStatus::Stopped {
        0
    } else {
        entered - active - completed
    };
    let stopped = if status == VersionStatus::Stopped {
        entered - completed
    } else {
        0
    };
    let active = if status == VersionStatus::Stopped {
        0
    } else {
        active
    };
    let converted = entered / 10;
    VersionSummary {
        journey: journey.into(),
        version: n,
        status,
        entry_open: status == VersionStatus::Live,
        entry_end_at: None,
        counts: Counts {
            entered,
            active,
            completed,
            exited,
            stopped,
            converted,
        },
        conversion_rate: (entered > 0).then(|| converted as f64 / entered as f64),
        messages: Messages {
            pending: active,
            sent: entered,
            failed: 0,
            cancelled: 0,
            uncertain: 0,
            cancelled_uncertain: 0,
            held: 0,
        },
        ab: None,
        unreadable: None,
        shares_aside: 0,
        as_of: None,
        as_of_ms: None,
        goal: Some("purchase".into()),
        goal_target: None,
        goal_met: None,
        status_at: "2026-11-21T09:00:00Z".into(),
        status_by: "alice".into(),
        last_activity_at: None,
        status_at_ms: now() - 3 * 3_600_000,
        last_activity_ms: Some(now() - 4_000),
        entry_end_ms: None,
        uses_actions: vec!["email".into()],
        delivery_failing: false,
        paused: None,
        recent: None,
        rates: Default::default(),
        scheduled: vec![],
        claim: None,
        notes: vec![],
        id: n,
    }
    .with_trend(status)
}

/// A version's last hour as fixtures have it: a steady flow shaped by its
/// size while entry is open, quiet otherwise.
trait WithTrend {
    fn with_trend(self, status: VersionStatus) -> Self;
}

impl WithTrend for VersionSummary {
    fn with_trend(mut self, status: VersionStatus) -> VersionSummary {
        if status == VersionStatus::Live {
            let base = self.counts.entered / 1_000;
            set_trend(
                &mut self,
                (0..60)
                    .map(|m| MinuteCounts {
                        entered: base / 3 + ((m * 7 + base) % 11) * (base / 12 + 1),
                        converted: (m % 4 == 0) as i64,
                        sent: base / 2 + m % 5,
                        ..Default::default()
                    })
                    .collect(),
            );
        }
        self
    }
}

fn set_trend(v: &mut VersionSummary, hour: Vec<MinuteCounts>) {
    let recent = Recent {
        hour,
        previous_hour: MinuteCounts {
            entered: 600,
            sent: 300,
            failed: 3,
            ..Default::default()
        },
    };
    v.rates = recent.rates();
    v.recent = Some(recent);
}

fn fixture() -> Vec<VersionSummary> {
    let mut cart = version("cart-recovery", 2, VersionStatus::Live, 48_210, 9_876);
    cart.ab = Some(AbSummary {
        test: "subject-line".into(),
        variants: vec![
            VariantSummary {
                name: "A".into(),
                assigned: 20_000,
                converted: 1_000,
            },
            VariantSummary {
                name: "B".into(),
                assigned: 20_000,
                converted: 1_200,
            },
        ],
        verdict: VerdictKind::Winner,
        winner: Some("B".into()),
        p_value: Some(6.16073e-4),
        decided_at: Some("2026-11-21T11:40:00Z".into()),
        pairs: vec![PairResult {
            a: "A".into(),
            b: "B".into(),
            p_value: 6.16073e-4,
            cs_lower: Some(0.0026787),
            cs_upper: Some(0.0173213),
        }],
        looks: 212,
        at_decision: Some(vec![
            VariantSummary {
                name: "A".into(),
                assigned: 15_000,
                converted: 700,
            },
            VariantSummary {
                name: "B".into(),
                assigned: 15_000,
                converted: 930,
            },
        ]),
        srm: None,
        by_hand: vec![],
    });
    let mut winback = version("win-back", 1, VersionStatus::Live, 8_000, 2_500);
    winback.uses_actions = vec!["email:we-miss-you".into(), "webhook:crm".into()];
    winback.delivery_failing = true;
    // The CRM webhook started failing five minutes ago.
    let mut hour: Vec<MinuteCounts> = winback.recent.clone().unwrap().hour;
    for m in &mut hour[55..] {
        m.failed = 12;
    }
    set_trend(&mut winback, hour);
    let mut holiday = version("holiday-promo", 1, VersionStatus::Live, 12_000, 3_000);
    holiday.entry_end_ms = Some(now() + 15 * 60_000);
    holiday.entry_end_at = Some("2026-11-21T12:15:00Z".into());
    // Its feed broke six minutes ago.
    let mut hour: Vec<MinuteCounts> = holiday.recent.clone().unwrap().hour;
    for m in &mut hour[54..] {
        m.entered = 0;
    }
    set_trend(&mut holiday, hour);
    vec![
        cart,
        version("cart-recovery", 1, VersionStatus::Finished, 30_000, 1_234),
        holiday,
        version("welcome-series", 3, VersionStatus::Live, 120_500, 40_100),
        winback,
        version("black-friday-teaser", 1, VersionStatus::Stopped, 5_000, 0),
        version("summer-sale", 1, VersionStatus::Finished, 9_000, 0),
        version("loyalty-tiers", 2, VersionStatus::Draft, 0, 0),
    ]
}

fn ctx(read_only: bool) -> Context {
    Context {
        store: "sqlite /home/ops/.local/share/journeyctl/journeyctl.db".into(),
        operator: "alice@ops-1".into(),
        read_only,
        banner: None,
        refresh: std::time::Duration::from_secs(2),
        sim_clock: None,
        ..Default::default()
    }
}

fn loaded(read_only: bool) -> App {
    let mut app = App::new(ctx(read_only), now());
    app.update(Msg::Data(Box::new(Snapshot {
        versions: fixture(),
        fetched_at: now() - 1_000,
        ..Default::default()
    })));
    app.take_effects();
    app
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn press(app: &mut App, codes: &[KeyCode]) -> Vec<Effect> {
    let mut effects = Vec::new();
    for c in codes {
        app.update(key(*c));
        effects.extend(app.take_effects());
    }
    effects
}

fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    let codes: Vec<KeyCode> = text.chars().map(KeyCode::Char).collect();
    press(app, &codes)
}

fn executes(effects: &[Effect]) -> Vec<OperatorAction> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Execute(a) => Some(a.clone()),
            _ => None,
        })
        .collect()
}

/// The pane's hint, or "" when it has none.
fn hint(app: &App) -> String {
    app.pane().and_then(|p| p.hint.clone()).unwrap_or_default()
}

fn selected(app: &App) -> (String, i64) {
    let v = app.selected_version().unwrap();
    (v.journey.clone(), v.version)
}

#[test]
fn live_first_then_draining_and_t_shows_everything() {
    let mut app = loaded(false);
    let shown: Vec<(String, i64)> = app
        .visible()
        .iter()
        .map(|v| (v.journey.clone(), v.version))
        .collect();
    assert_eq!(
        shown,
        vec![
            ("cart-recovery".into(), 2),
            ("holiday-promo".into(), 1),
            ("welcome-series".into(), 3),
            ("win-back".into(), 1),
            ("cart-recovery".into(), 1),
        ]
    );
    press(&mut app, &[KeyCode::Char('t')]);
    assert_eq!(app.visible().len(), 8);
    assert_eq!(app.visible().last().unwrap().status, VersionStatus::Draft);
}

#[test]
fn arrows_and_vim_keys_move_within_bounds() {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Down, KeyCode::Char('j')]);
    assert_eq!(selected(&app), ("welcome-series".into(), 3));
    press(&mut app, &[KeyCode::Char('k')]);
    assert_eq!(selected(&app), ("holiday-promo".into(), 1));
    press(&mut app, &[KeyCode::Char('G')]);
    assert_eq!(selected(&app), ("cart-recovery".into(), 1));
    press(&mut app, &[KeyCode::Down, KeyCode::Down]);
    assert_eq!(selected(&app), ("cart-recovery".into(), 1));
    press(&mut app, &[KeyCode::Char('g'), KeyCode::Up]);
    assert_eq!(selected(&app), ("cart-recovery".into(), 2));
}

#[test]
fn the_selection_follows_its_version_across_refreshes() {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Down, KeyCode::Down]);
    assert_eq!(selected(&app), ("welcome-series".into(), 3));
    let mut versions = fixture();
    versions.retain(|v| v.journey != "holiday-promo");
    app.update(Msg::Data(Box::new(Snapshot {
        versions,
        fetched_at: now(),
        ..Default::default()
    })));
    assert_eq!(selected(&app), ("welcome-series".into(), 3));
}

#[test]
fn slash_filters_by_name_and_esc_clears() {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('/')]);
    type_text(&mut app, "CART");
    assert!(app.filtering());
    assert_eq!(app.visible().len(), 2);
    press(&mut app, &[KeyCode::Enter]);
    assert!(!app.filtering());
    assert_eq!(app.visible().len(), 2);
    // Keys act again once the filter is kept.
    press(&mut app, &[KeyCode::Char('j')]);
    assert_eq!(selected(&app), ("cart-recovery".into(), 1));
    press(&mut app, &[KeyCode::Esc]);
    assert_eq!(app.visible().len(), 5);
    press(&mut app, &[KeyCode::Char('/')]);
    type_text(&mut app, "zzz");
    assert!(app.visible().is_empty());
    press(&mut app, &[KeyCode::Esc]);
    assert_eq!(app.visible().len(), 5);
}

#[test]
fn o_cycles_the_sort_and_capital_o_reverses_it() {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('o')]);
    let names: Vec<String> = app.visible().iter().map(|v| v.journey.clone()).collect();
    assert_eq!(names[0], "cart-recovery");
    assert_eq!(names[4], "win-back");
    press(&mut app, &[KeyCode::Char('o')]); // entered, largest first
    assert_eq!(app.visible()[0].journey, "welcome-series");
    press(&mut app, &[KeyCode::Char('O')]);
    assert_eq!(app.visible()[0].journey, "win-back");
}

#[test]
fn enter_opens_details_and_esc_goes_back() {
    let mut app = loaded(false);
    let effects = press(&mut app, &[KeyCode::Enter]);
    assert_eq!(app.view, View::Detail);
    assert!(effects.contains(&Effect::Refresh));
    assert_eq!(app.want().detail.as_deref(), Some("cart-recovery"));
    press(&mut app, &[KeyCode::Esc]);
    assert_eq!(app.view, View::Main);
    press(&mut app, &[KeyCode::Char('a')]);
    assert_eq!(app.view, View::Audit);
    assert!(app.want().audit);
    press(&mut app, &[KeyCode::Esc, KeyCode::Char('?')]);
    assert!(matches!(app.mode, journeyctl::tui::app::Mode::Help));
    press(&mut app, &[KeyCode::Char('x')]);
    assert!(!matches!(app.mode, journeyctl::tui::app::Mode::Help));
    assert_eq!(executes(&press(&mut app, &[KeyCode::Char('q')])).len(), 0);
}

#[test]
fn q_quits() {
    let mut app = loaded(false);
    assert!(press(&mut app, &[KeyCode::Char('q')]).contains(&Effect::Quit));
}

#[test]
fn stop_pane_starts_in_the_name_field_and_needs_the_exact_name_then_enter() {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('s')]);
    let pane = app.pane().expect("stop pane open");
    assert_eq!(pane.focus, Focus::Name);
    assert_eq!(
        pane.action.target,
        Target::Version {
            journey: "cart-recovery".into(),
            version: Some(2)
        }
    );
    assert_eq!(app.want().impact, Some(pane.action.clone()));
    // Enter on an empty name stops nothing and says what is expected.
    let effects = press(&mut app, &[KeyCode::Enter]);
    assert!(executes(&effects).is_empty());
    assert!(app.pane().is_some());
    assert!(
        hint(&app).contains("type cart-recovery exactly"),
        "{}",
        hint(&app)
    );
    // Wrong name: nothing runs, a hint says why.
    let mut effects = type_text(&mut app, "cart-recover");
    effects.extend(press(&mut app, &[KeyCode::Enter]));
    assert!(executes(&effects).is_empty());
    assert!(hint(&app).contains("exactly"));
    // The Stop button does not accept a wrong name either.
    press(&mut app, &[KeyCode::Tab, KeyCode::Tab]);
    assert_eq!(app.pane().unwrap().focus, Focus::Confirm);
    assert!(executes(&press(&mut app, &[KeyCode::Enter])).is_empty());
    // 'y' is never a button shortcut here: it lands in the name.
    press(&mut app, &[KeyCode::Tab, KeyCode::Tab]);
    assert_eq!(app.pane().unwrap().focus, Focus::Confirm);
    let effects = press(&mut app, &[KeyCode::Char('y')]);
    assert!(executes(&effects).is_empty());
    let pane = app.pane().unwrap();
    assert_eq!(pane.focus, Focus::Name);
    assert_eq!(pane.name.value(), "cart-recovery");
    // Tab through to Cancel: Enter there closes, nothing runs.
    press(&mut app, &[KeyCode::BackTab]);
    assert_eq!(app.pane().unwrap().focus, Focus::Cancel);
    assert!(executes(&press(&mut app, &[KeyCode::Enter])).is_empty());
    assert!(app.pane().is_none());
    // `s`, the name, a reason, Enter: the whole stop.
    press(&mut app, &[KeyCode::Char('s')]);
    type_text(&mut app, "cart-recovery");
    press(&mut app, &[KeyCode::Tab]);
    type_text(&mut app, "wrong audience");
    let effects = press(&mut app, &[KeyCode::Enter]);
    let run = executes(&effects);
    assert_eq!(run.len(), 1);
    assert_eq!(run[0].kind, ActionKind::Stop);
    assert_eq!(run[0].reason.as_deref(), Some("wrong audience"));
    assert!(matches!(
        app.pane().unwrap().state,
        PaneState::Working { .. }
    ));
    // Keys while working do nothing, even Enter again.
    assert!(executes(&press(&mut app, &[KeyCode::Enter])).is_empty());
    let outcome = Outcome {
        kind: ActionKind::Stop,
        versions: vec![VersionImpact {
            journey: "cart-recovery".into(),
            version: 2,
            status: VersionStatus::Live,
            active: 9_876,
            pending: 12,
            uncertain: 0,
            sent_waiting: None,
            overdue: 0,
            overdue_since: None,
        }],
        at: now(),
        incident: None,
    };
    app.update(Msg::ActionDone(Ok(outcome.clone())));
    assert_eq!(app.pane().unwrap().state, PaneState::Done(outcome));
    press(&mut app, &[KeyCode::Enter]);
    assert!(app.pane().is_none());
}

/// Every printable key lands in the name: letters that are shortcuts
/// elsewhere (n, h, l, y, q, s, f, K), '-' and digits alike.
#[test]
fn no_keystroke_is_lost_in_a_typed_pane() {
    let mut versions = fixture();
    versions.push(version("win-back-yhlnq-2", 1, VersionStatus::Live, 10, 5));
    let mut app = loaded(false);
    app.update(Msg::Data(Box::new(Snapshot {
        versions,
        fetched_at: now(),
        ..Default::default()
    })));
    press(&mut app, &[KeyCode::Char('/')]);
    type_text(&mut app, "yhlnq");
    press(&mut app, &[KeyCode::Enter]);
    assert_eq!(selected(&app).0, "win-back-yhlnq-2");
    press(&mut app, &[KeyCode::Char('s')]);
    let typed = "win-back-yhlnq-2";
    assert!(executes(&type_text(&mut app, typed)).is_empty());
    let pane = app.pane().expect("the pane stays open while typing");
    assert_eq!(pane.name.value(), typed);
    let run = executes(&press(&mut app, &[KeyCode::Enter]));
    assert_eq!(run.len(), 1);
    assert_eq!(
        run[0].target,
        Target::Version {
            journey: typed.into(),
            version: Some(1)
        }
    );
    // The kill switch's field likewise.
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('K')]);
    type_text(&mut app, "sms:yes-no-help-1");
    assert_eq!(app.pane().unwrap().typed_action(), "sms:yes-no-help-1");
}

#[test]
fn esc_cancels_any_pane_and_nothing_runs() {
    let mut app = loaded(false);
    for k in ['s', 'S', 'f'] {
        press(&mut app, &[KeyCode::Char(k)]);
        assert!(app.pane().is_some());
        let effects = press(&mut app, &[KeyCode::Esc]);
        assert!(app.pane().is_none());
        assert!(executes(&effects).is_empty());
    }
    // Even with the name typed.
    press(&mut app, &[KeyCode::Char('S')]);
    let mut effects = type_text(&mut app, "cart-recovery");
    effects.extend(press(&mut app, &[KeyCode::Esc]));
    assert!(executes(&effects).is_empty());
}

#[test]
fn stop_every_version_targets_the_journey() {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('S')]);
    assert_eq!(
        app.pane().unwrap().action.target,
        Target::AllVersions {
            journey: "cart-recovery".into()
        }
    );
    type_text(&mut app, "cart-recovery");
    let run = executes(&press(&mut app, &[KeyCode::Enter]));
    assert_eq!(run.len(), 1);
    assert_eq!(
        run[0].target,
        Target::AllVersions {
            journey: "cart-recovery".into()
        }
    );
    // Its outcome at 80x24 keeps its last line: wrapped lines are counted
    // as a paragraph wraps them, at word boundaries.
    let impact = |version: i64, status, active| VersionImpact {
        journey: "cart-recovery".into(),
        version,
        status,
        active,
        pending: 412,
        uncertain: 3,
        sent_waiting: None,
        overdue: 0,
        overdue_since: None,
    };
    app.update(Msg::ActionDone(Ok(Outcome {
        kind: ActionKind::Stop,
        versions: vec![
            impact(2, VersionStatus::Live, 9_876),
            impact(1, VersionStatus::Finished, 1_234),
        ],
        at: now(),
        incident: None,
    })));
    let text = snap(&app, 80, 24);
    assert!(text.contains("Recorded in the audit log."), "{text}");
    assert!(
        text.lines().next().unwrap().contains("journeyctl.db"),
        "{text}"
    );
    insta::assert_snapshot!("at_80x24_stop_all_outcome", text);
}

#[test]
fn finish_pane_confirms_with_y_or_enter_on_the_button() {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('f')]);
    assert_eq!(app.pane().unwrap().focus, Focus::Cancel);
    assert!(
        executes(&press(&mut app, &[KeyCode::Enter])).is_empty(),
        "Enter on Cancel cancels"
    );
    press(&mut app, &[KeyCode::Char('f')]);
    let run = executes(&press(&mut app, &[KeyCode::Char('y')]));
    assert_eq!(run.len(), 1);
    assert_eq!(run[0].kind, ActionKind::Finish);
    app.update(Msg::ActionDone(Err(stopped_by_bob(
        "finish",
        "2026-11-21T11:59:00Z",
    ))));
    assert!(matches!(&app.pane().unwrap().state, PaneState::Refused(m) if m.contains("by bob")));
    press(&mut app, &[KeyCode::Esc]);
    // Reason field, then Enter moves to the button; Enter there finishes.
    press(&mut app, &[KeyCode::Char('f'), KeyCode::Tab]);
    assert_eq!(app.pane().unwrap().focus, Focus::Reason);
    type_text(&mut app, "yes we are done");
    assert!(executes(&press(&mut app, &[KeyCode::Enter])).is_empty());
    assert_eq!(app.pane().unwrap().focus, Focus::Confirm);
    let run = executes(&press(&mut app, &[KeyCode::Enter]));
    assert_eq!(run[0].reason.as_deref(), Some("yes we are done"));
}

#[test]
fn read_only_action_keys_only_explain() {
    let mut app = loaded(true);
    for k in ['f', 's', 'S'] {
        let effects = press(&mut app, &[KeyCode::Char(k)]);
        assert!(app.pane().is_none());
        assert!(executes(&effects).is_empty());
        assert!(app.notice.as_deref().unwrap().contains("read-only"));
    }
}

#[test]
fn a_transition_the_rules_refuse_is_explained_without_a_pane() {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('t'), KeyCode::Char('G')]);
    assert_eq!(app.selected_version().unwrap().status, VersionStatus::Draft);
    press(&mut app, &[KeyCode::Char('s')]);
    assert!(app.pane().is_none());
    assert!(app.notice.as_deref().unwrap().contains("draft"));
    press(&mut app, &[KeyCode::Char('k')]);
    assert_eq!(
        app.selected_version().unwrap().status,
        VersionStatus::Stopped
    );
    press(&mut app, &[KeyCode::Char('f')]);
    let notice = app.notice.clone().unwrap();
    assert!(notice.contains("already stopped"), "{notice}");
    // Who and when, as the README promises.
    assert!(
        notice.ends_with("(stopped by alice at 2026-11-21T09:00:00Z)"),
        "{notice}"
    );
    // At 80 columns the refusal wraps rather than losing its end.
    for (w, h) in [(80, 24), (120, 35), (200, 50)] {
        let text = snap(&app, w, h);
        let footer: String = text
            .lines()
            .skip_while(|l| !l.starts_with('└'))
            .skip(1)
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            footer.ends_with("(stopped by alice at 2026-11-21T09:00:00Z)"),
            "{text}"
        );
        insta::assert_snapshot!(format!("at_{w}x{h}_refusal"), text);
    }
}

#[test]
fn while_the_store_is_unreachable_actions_are_refused_and_never_run_later() {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('s')]);
    type_text(&mut app, "cart-recovery");
    app.update(Msg::DataError(refused_connection(), now() + 5_000));
    assert!(app.blocked().unwrap().contains("unreachable"));
    let effects = press(&mut app, &[KeyCode::Enter]);
    assert!(executes(&effects).is_empty());
    assert!(
        matches!(&app.pane().unwrap().state, PaneState::Refused(m) if m.contains("unreachable"))
    );
    // The store comes back: the refused action does not run by itself.
    app.update(Msg::Data(Box::new(Snapshot {
        versions: fixture(),
        fetched_at: now() + 9_000,
        ..Default::default()
    })));
    assert!(executes(&app.take_effects()).is_empty());
    assert!(app.stale.is_none());
    press(&mut app, &[KeyCode::Enter]);
    assert!(app.pane().is_none());
}

/// Operator keys: the keys that move, filter, open and answer panes,
/// the journey's name as one burst (a paste, or a fast typist) so that
/// confirmations happen too.
fn operator_keys() -> impl Strategy<Value = Vec<KeyCode>> {
    let one = prop_oneof![
        select("cart-ecovyqsSfjkt/ ".chars().collect::<Vec<_>>()).prop_map(KeyCode::Char),
        select(vec![
            KeyCode::Enter,
            KeyCode::Tab,
            KeyCode::BackTab,
            KeyCode::Esc,
            KeyCode::Backspace,
            KeyCode::Left,
            KeyCode::Right,
            KeyCode::Down,
            KeyCode::Up,
        ]),
    ];
    let burst = prop_oneof![
        19 => one.prop_map(|k| vec![k]),
        1 => Just("cart-recovery".chars().map(KeyCode::Char).collect()),
    ];
    prop::collection::vec(burst, 0..60).prop_map(|b| b.concat())
}

/// Random keys never stop anything unless the journey's name was typed
/// exactly and then Enter pressed in a field or on the Stop button.
#[test]
fn random_key_sequences_never_stop_without_the_exact_name_and_enter() {
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 3_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let stops = std::cell::Cell::new(0);
    let result = runner.run(&operator_keys(), |keys| {
        let mut app = loaded(false);
        for k in keys {
            let before = app.pane().cloned();
            app.update(key(k));
            for action in executes(&app.take_effects()) {
                if action.kind == ActionKind::Stop {
                    stops.set(stops.get() + 1);
                    let pane = before.as_ref();
                    prop_assert!(pane.is_some(), "a stop only comes from a pane");
                    let pane = pane.unwrap();
                    prop_assert_eq!(k, KeyCode::Enter, "a stop needs Enter");
                    prop_assert_eq!(
                        Some(pane.name.value()),
                        pane.expected_name(),
                        "a stop needs the exact name"
                    );
                    prop_assert!(matches!(
                        pane.focus,
                        Focus::Name | Focus::Reason | Focus::Confirm
                    ));
                }
            }
            if !matches!(
                app.pane().map(|p| &p.state),
                None | Some(PaneState::Editing)
            ) {
                app.update(key(KeyCode::Esc));
                app.take_effects();
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(
        stops.get() > 0,
        "the sequences never reached a confirmed stop: the property was not exercised"
    );
}

// ---- snapshots -------------------------------------------------------

/// A named store's colour frames the screen (and badges the header), so
/// production never looks like staging; without colour the frame is plain.
#[test]
fn the_frame_takes_the_named_stores_colour() {
    let mut app = loaded(false);
    app.ctx.store_name = Some("prod".into());
    app.ctx.store_colour = Some("red".into());
    let buf = render(&app, &Theme { color: true }, 120, 35);
    // Row 0 is the header; the body's frame starts on row 1.
    for (x, y) in [(0, 1), (60, 1), (0, 20), (119, 20), (60, 33)] {
        assert_eq!(buf[(x, y)].fg, Color::Red, "frame cell ({x}, {y})");
    }
    let badge = (0..120).find(|&x| buf[(x, 0)].symbol() == "[").unwrap();
    assert_eq!(buf[(badge, 0)].bg, Color::Red);
    let plain = render(&app, &Theme { color: false }, 120, 35);
    assert_eq!(plain[(0, 1)].fg, Color::Reset);
    app.ctx.store_colour = None;
    let unnamed = render(&app, &Theme { color: true }, 120, 35);
    assert_eq!(unnamed[(0, 1)].fg, Color::Reset);
}

#[test]
fn cluster_figures_waiting_for_a_fold_say_as_of_when_in_the_header() {
    let mut app = loaded(false);
    app.live = Some(true);
    let header = |app: &App| snap(app, 120, 35).lines().next().unwrap_or("").to_string();
    assert!(!header(&app).contains("as of"), "{}", header(&app));
    // Folded a second ago at most: nothing to say.
    app.versions[0].as_of_ms = Some(app.now - 1_000);
    assert!(!header(&app).contains("as of"), "{}", header(&app));
    // Older: the oldest fold the versions shown wait on, to the second.
    let at = app.now - 7_000;
    app.versions[0].as_of_ms = Some(at);
    app.versions[1].as_of_ms = Some(app.now - 3_000);
    let clock = journeyctl::domain::time::to_datetime(at)
        .format("%H:%M:%S")
        .to_string();
    let line = header(&app);
    assert!(
        line.contains(&format!("cluster figures as of {clock}")),
        "{line}"
    );
    // A narrow screen keeps the time.
    let narrow = snap(&app, 60, 20);
    assert!(
        narrow
            .lines()
            .next()
            .unwrap_or("")
            .contains(&format!("as of {clock}")),
        "{narrow}"
    );
}

fn snap(app: &App, w: u16, h: u16) -> String {
    buffer_text(&render(app, &Theme { color: false }, w, h))
}

fn trend_event(action: &str, by: &str, at: &str) -> journeyctl::store::TrendEvent {
    journeyctl::store::TrendEvent {
        at: at.into(),
        action: action.into(),
        by: by.into(),
        subject: None,
        reason: None,
        at_ms: parse_rfc3339(at).unwrap(),
    }
}

fn detail_fixture() -> DetailData {
    let versions = fixture();
    let v2 = versions[0].clone();
    let v1 = versions[1].clone();
    DetailData {
        journey: "cart-recovery".into(),
        versions: vec![
            VersionDetail {
                summary: v2,
                steps: vec![
                    StepCount {
                        index: 1,
                        kind: "wait",
                        label: "wait 1h".into(),
                        waiting: 2_100,
                        held: 0,
                    },
                    StepCount {
                        index: 2,
                        kind: "split",
                        label: "split subject-line".into(),
                        waiting: 0,
                        held: 0,
                    },
                    StepCount {
                        index: 3,
                        kind: "wait",
                        label: "wait 2d".into(),
                        waiting: 7_776,
                        held: 0,
                    },
                    StepCount {
                        index: 4,
                        kind: "message",
                        label: "message sms".into(),
                        waiting: 0,
                        held: 0,
                    },
                ],
                exit_reasons: vec![
                    ("event:purchase".into(), 30_100),
                    ("segment:suppressed".into(), 210),
                ],
                hours: (0..48)
                    .map(|h| MinuteCounts {
                        entered: 400 + (h * 37) % 300,
                        converted: 40 + h % 9,
                        exited: h % 3,
                        sent: 800 + (h * 53) % 200,
                        failed: if h > 44 { 30 } else { h % 2 },
                    })
                    .collect(),
                forecast: vec![journeyctl::domain::forecast::ActionForecast {
                    action: "email:we-miss-you".into(),
                    pending: 12,
                    at_once: 40,
                    next_15m: 310,
                    next_1h: 1_250,
                    next_24h: 9_800,
                }],
                events: vec![
                    trend_event("rate", "bob", "2026-11-21T02:10:00Z"),
                    trend_event("publish", "alice", "2026-11-21T11:15:00Z"),
                    trend_event("pause", "alice", "2026-11-21T11:40:00Z"),
                    trend_event("note", "carol", "2026-11-21T11:42:00Z"),
                ],
                now_minute: now() / 60_000,
            },
            VersionDetail {
                summary: v1,
                steps: vec![StepCount {
                    index: 1,
                    kind: "message",
                    label: "message email".into(),
                    waiting: 1_234,
                    held: 0,
                }],
                exit_reasons: vec![],
                hours: vec![MinuteCounts::default(); 48],
                forecast: vec![],
                events: vec![],
                now_minute: now() / 60_000,
            },
        ],
        audit: vec![
            AuditEntry {
                db_user: Some("alice".into()),
                at: "2026-11-21T11:40:00Z".into(),
                actor: "mallory".into(),
                host: "ops-2".into(),
                action: "stop".into(),
                journey: "welcome".into(),
                version: Some(1),
                from: Some("live".into()),
                to: Some("stopped".into()),
                reason: Some("wrong coupon".into()),
                affected_active: 312,
                cancelled: Some(40),
                cancelled_uncertain: Some(0),
                sent_waiting: None,
                overdue: None,
                overdue_count: None,
                incident: None,
                subject: None,
                schedule: None,
                approval: None,
                asked_by: None,
                way: None,
                at_ms: now() - 1_200_000,
                recorded_at: None,
                recorded_ms: None,
            },
            AuditEntry {
                db_user: Some("alice".into()),
                at: "2026-11-21T11:00:00Z".into(),
                actor: "alice".into(),
                host: "ops-1".into(),
                action: "publish".into(),
                journey: "cart-recovery".into(),
                version: Some(2),
                from: Some("draft".into()),
                to: Some("live".into()),
                reason: None,
                affected_active: 0,
                cancelled: None,
                cancelled_uncertain: None,
                sent_waiting: None,
                overdue: None,
                overdue_count: None,
                incident: None,
                subject: None,
                schedule: None,
                approval: None,
                asked_by: None,
                way: None,
                at_ms: now() - 3_600_000,
                recorded_at: None,
                recorded_ms: None,
            },
        ],
    }
}

#[test]
fn snapshot_main_screen_120x35() {
    insta::assert_snapshot!("main_120x35", snap(&loaded(false), 120, 35));
}

#[test]
fn snapshot_main_screen_80x24_drops_columns() {
    let text = snap(&loaded(false), 80, 24);
    assert!(text.lines().all(|l| l.chars().count() <= 80));
    insta::assert_snapshot!("main_80x24", text);
}

#[test]
fn snapshot_main_all_versions_read_only() {
    let mut app = loaded(true);
    press(&mut app, &[KeyCode::Char('t'), KeyCode::Char('s')]);
    insta::assert_snapshot!("main_all_read_only", snap(&app, 120, 20));
}

/// The detail view of cart-recovery with its data loaded.
fn detail_app() -> App {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Enter]);
    app.update(Msg::Data(Box::new(Snapshot {
        versions: fixture(),
        detail: Some(detail_fixture()),
        fetched_at: now(),
        ..Default::default()
    })));
    app
}

#[test]
fn snapshot_detail() {
    insta::assert_snapshot!("detail", snap(&detail_app(), 120, 35));
}

/// A test marked for a sample ratio mismatch, and goal targets met and not.
#[test]
fn snapshot_srm_and_goal_targets() {
    let mut versions = fixture();
    let ab = versions[0].ab.as_mut().unwrap();
    ab.verdict = VerdictKind::NoWinnerYet;
    ab.winner = None;
    ab.decided_at = None;
    ab.at_decision = None;
    ab.variants[0].assigned = 5_000;
    ab.variants[1].assigned = 5_400;
    ab.srm = Some(journeyctl::domain::srm::check_srm(
        &[("A".into(), 5_000), ("B".into(), 5_400)],
        &[50.0, 50.0],
    ));
    versions[0].goal_target = Some(0.3);
    versions[0].goal_met = Some(false);
    versions[3].goal_target = Some(0.08);
    versions[3].goal_met = Some(true);
    let mut app = loaded(false);
    app.update(Msg::Data(Box::new(Snapshot {
        versions: versions.clone(),
        fetched_at: now(),
        ..Default::default()
    })));
    let main = snap(&app, 160, 14);
    assert!(main.contains("⚠ SRM"), "{main}");
    assert!(main.contains("10.0% ✓ 8%"), "{main}");
    insta::assert_snapshot!("main_srm_goal_target", main);
    let mut detail = detail_fixture();
    detail.versions[0].summary = versions[0].clone();
    press(&mut app, &[KeyCode::Enter]);
    app.update(Msg::Data(Box::new(Snapshot {
        versions,
        detail: Some(detail),
        fetched_at: now(),
        ..Default::default()
    })));
    let text = snap(&app, 120, 35);
    assert!(text.contains("target 30% not met yet"), "{text}");
    assert!(
        text.contains("⚠ SRM p = 8.770e-5 < 0.001: A 5,000 (expected 5,200)"),
        "{text}"
    );
    insta::assert_snapshot!("detail_srm", text);
}

#[test]
fn snapshot_audit_and_help() {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('a')]);
    app.update(Msg::Data(Box::new(Snapshot {
        versions: fixture(),
        audit: Some(detail_fixture().audit),
        fetched_at: now(),
        ..Default::default()
    })));
    insta::assert_snapshot!("audit", snap(&app, 120, 12));
    press(&mut app, &[KeyCode::Char('?')]);
    insta::assert_snapshot!("help", snap(&app, 120, 24));
}

fn with_impact(app: &mut App) {
    let action = app.pane().unwrap().action.clone();
    let impact = Impact {
        release: vec![],
        versions: vec![VersionImpact {
            journey: "cart-recovery".into(),
            version: 2,
            status: VersionStatus::Live,
            active: 9_876,
            pending: 412,
            uncertain: 0,
            sent_waiting: None,
            overdue: 0,
            overdue_since: None,
        }],
    };
    app.update(Msg::Data(Box::new(Snapshot {
        versions: fixture(),
        impact: Some((action, Ok(impact))),
        fetched_at: now(),
        ..Default::default()
    })));
}

#[test]
fn snapshot_stop_pane_typing_and_outcome() {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('s')]);
    with_impact(&mut app);
    insta::assert_snapshot!("stop_pane", snap(&app, 120, 35));
    type_text(&mut app, "cart-rec");
    press(&mut app, &[KeyCode::Enter]);
    insta::assert_snapshot!("stop_pane_wrong_name", snap(&app, 120, 35));
    type_text(&mut app, "overy");
    press(&mut app, &[KeyCode::Enter]);
    app.update(Msg::ActionDone(Err(stopped_by_bob(
        "stop",
        "2026-11-21T11:59:58Z",
    ))));
    insta::assert_snapshot!("stop_pane_refused", snap(&app, 120, 35));
}

#[test]
fn a_refusal_met_in_a_race_is_said_once() {
    // The impact read meets the version stopped by someone else; the stop
    // confirmed anyway is refused by the store with the same words.
    let why = "cannot stop cart-recovery v2: it is already stopped (stopped by bob on ops-2 at 2026-11-21T11:59:58Z)";
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('s')]);
    let action = app.pane().unwrap().action.clone();
    app.update(Msg::Data(Box::new(Snapshot {
        versions: fixture(),
        impact: Some((action, Err(why.to_string()))),
        fetched_at: now(),
        ..Default::default()
    })));
    assert_eq!(snap(&app, 160, 35).matches("already stopped").count(), 1);
    type_text(&mut app, "cart-recovery");
    press(&mut app, &[KeyCode::Enter]);
    app.update(Msg::ActionDone(Err(stopped_by_bob(
        "stop",
        "2026-11-21T11:59:58Z",
    ))));
    let text = snap(&app, 160, 35);
    assert_eq!(text.matches("already stopped").count(), 1, "{text}");
    assert!(
        text.contains("✗ refused: cannot stop cart-recovery v2"),
        "{text}"
    );
}

#[test]
fn snapshot_finish_pane_80x24() {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('f')]);
    with_impact(&mut app);
    insta::assert_snapshot!("finish_pane_80x24", snap(&app, 80, 24));
}

#[test]
fn snapshot_stale_store() {
    let mut app = loaded(false);
    app.update(Msg::DataError(refused_connection(), now() + 12_000));
    app.update(Msg::Clock(now() + 12_000));
    let text = snap(&app, 120, 8);
    assert!(text.contains("STALE"), "{text}");
    insta::assert_snapshot!("stale", text);
}

#[test]
fn impact_updates_are_ignored_once_confirmed() {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('f')]);
    with_impact(&mut app);
    let shown = app.pane().unwrap().impact.clone();
    assert!(matches!(&shown, Some(Ok(i)) if i.active() == 9_876));
    press(&mut app, &[KeyCode::Char('y')]);
    assert!(matches!(
        app.pane().unwrap().state,
        PaneState::Working { .. }
    ));
    assert_eq!(
        app.want().impact,
        None,
        "no impact is fetched after confirming"
    );
    // An impact that arrives late (fetched before the confirmation) does
    // not change what the operator confirmed.
    let action = app.pane().unwrap().action.clone();
    let late = Impact {
        release: vec![],
        versions: vec![VersionImpact {
            journey: "cart-recovery".into(),
            version: 2,
            status: VersionStatus::Live,
            active: 1,
            pending: 0,
            uncertain: 0,
            sent_waiting: None,
            overdue: 0,
            overdue_since: None,
        }],
    };
    app.update(Msg::Data(Box::new(Snapshot {
        versions: fixture(),
        impact: Some((action, Ok(late))),
        fetched_at: now() + 1_000,
        ..Default::default()
    })));
    let pane = app.pane().unwrap();
    assert_eq!(pane.impact, shown, "the late impact was taken");
    assert!(matches!(pane.state, PaneState::Working { .. }));
}

#[test]
fn snapshot_detail_80x24_drops_columns() {
    let text = snap(&detail_app(), 80, 24);
    assert!(!text.contains("ENTERE "), "headers are never cut: {text}");
    insta::assert_snapshot!("detail_80x24", text);
}

#[test]
fn kill_switch_commits_only_once_the_typed_actions_impact_is_shown() {
    let mut versions = fixture();
    versions[4].uses_actions = vec!["webhook:crm".into()];
    let mut app = App::new(ctx(false), now());
    app.update(Msg::Data(Box::new(Snapshot {
        versions: versions.clone(),
        fetched_at: now(),
        ..Default::default()
    })));
    press(&mut app, &[KeyCode::Char('K')]);
    let pane = app.pane().expect("kill switch pane");
    assert_eq!(pane.focus, Focus::Name);
    assert_eq!(
        app.actions_in_use(),
        vec!["email".to_string(), "webhook:crm".to_string()]
    );
    assert_eq!(
        app.want().impact,
        None,
        "nothing to look up before an action is typed"
    );
    // Enter with nothing typed, then before the impact arrives: nothing runs.
    assert!(executes(&press(&mut app, &[KeyCode::Enter])).is_empty());
    type_text(&mut app, "webhook:crm");
    let want = app
        .want()
        .impact
        .expect("the typed action's impact is fetched");
    assert_eq!(
        want.target,
        Target::UsesAction {
            action: "webhook:crm".into()
        }
    );
    assert!(executes(&press(&mut app, &[KeyCode::Enter])).is_empty());
    assert!(hint(&app).contains("working out"));
    // An impact for another action does not count.
    let other = OperatorAction {
        kind: ActionKind::Stop,
        target: Target::UsesAction {
            action: "webhook:cr".into(),
        },
        reason: None,
    };
    let impact = Impact {
        release: vec![],
        versions: vec![VersionImpact {
            journey: "win-back".into(),
            version: 1,
            status: VersionStatus::Live,
            active: 2_500,
            pending: 3,
            uncertain: 0,
            sent_waiting: None,
            overdue: 0,
            overdue_since: None,
        }],
    };
    app.update(Msg::Data(Box::new(Snapshot {
        versions: versions.clone(),
        impact: Some((other, Ok(impact.clone()))),
        fetched_at: now(),
        ..Default::default()
    })));
    assert!(executes(&press(&mut app, &[KeyCode::Enter])).is_empty());
    // The impact of exactly this action is shown: Enter stops them all.
    app.update(Msg::Data(Box::new(Snapshot {
        versions: versions.clone(),
        impact: Some((want.clone(), Ok(impact.clone()))),
        fetched_at: now(),
        ..Default::default()
    })));
    insta::assert_snapshot!("kill_switch_pane", snap(&app, 120, 35));
    // Typing changes the action: the shown impact no longer applies.
    type_text(&mut app, "x");
    assert!(executes(&press(&mut app, &[KeyCode::Enter])).is_empty());
    press(&mut app, &[KeyCode::Backspace]);
    app.update(Msg::Data(Box::new(Snapshot {
        versions,
        impact: Some((want, Ok(impact))),
        fetched_at: now(),
        ..Default::default()
    })));
    let run = executes(&press(&mut app, &[KeyCode::Enter]));
    assert_eq!(run.len(), 1);
    assert_eq!(
        run[0].target,
        Target::UsesAction {
            action: "webhook:crm".into()
        }
    );
    assert_eq!(run[0].kind, ActionKind::Stop);
    // Read-only: K only explains.
    let mut ro = loaded(true);
    press(&mut ro, &[KeyCode::Char('K')]);
    assert!(ro.pane().is_none());
    assert!(ro.notice.as_deref().unwrap().contains("read-only"));
}

/// NO_COLOR: no colour, bold or reverse anywhere; with colour, the
/// selected row is reversed and statuses are coloured (and still carry
/// their words and symbols in both).
#[test]
fn no_color_means_no_styles_at_all() {
    use ratatui::style::{Color, Modifier};
    let mut app = loaded(false);
    // A named store's badge too ([prod] was sent bold).
    app.ctx.store_name = Some("prod".into());
    app.ctx.store_colour = Some("red".into());
    press(&mut app, &[KeyCode::Char('s')]);
    with_impact(&mut app);
    let plain = render(&app, &Theme { color: false }, 120, 35);
    assert!(buffer_text(&plain).contains("[prod]"));
    for y in 0..35 {
        for x in 0..120 {
            let c = &plain[(x, y)];
            assert_eq!(
                (c.fg, c.bg, c.modifier),
                (Color::Reset, Color::Reset, Modifier::empty()),
                "styled cell at {x},{y}"
            );
        }
    }
    let coloured = render(&loaded(false), &Theme { color: true }, 120, 35);
    assert!(
        coloured[(5, 3)].modifier.contains(Modifier::REVERSED),
        "the selected row is reversed"
    );
    let text = buffer_text(&coloured);
    assert!(
        text.contains("▶ cart-recovery") && text.contains("● live") && text.contains("◐ draining")
    );
}

#[test]
fn an_empty_store_says_how_to_start() {
    let mut app = App::new(ctx(false), now());
    app.update(Msg::Data(Box::new(Snapshot {
        fetched_at: now(),
        ..Default::default()
    })));
    assert!(snap(&app, 120, 10).contains("no journeys yet: apply a definition"));
    let mut app = App::new(ctx(false), now());
    let mut only_stopped = fixture();
    only_stopped.retain(|v| v.status == VersionStatus::Stopped);
    app.update(Msg::Data(Box::new(Snapshot {
        versions: only_stopped,
        fetched_at: now(),
        ..Default::default()
    })));
    assert!(snap(&app, 120, 10).contains("no live or draining version (t shows every version)"));
}

#[test]
fn actions_in_use_fold_by_channel() {
    let mut versions = fixture();
    versions[0].uses_actions = vec!["email:a".into(), "email:b".into(), "sms".into()];
    versions[2].uses_actions = vec!["email:c".into(), "webhook:crm".into()];
    versions[5].uses_actions = vec!["fax".into()]; // stopped: not in use
    let mut app = App::new(ctx(false), now());
    app.update(Msg::Data(Box::new(Snapshot {
        versions,
        fetched_at: now(),
        ..Default::default()
    })));
    assert_eq!(
        app.actions_in_use(),
        vec!["email:* (5)", "sms", "webhook:crm"],
        "email, email:a, email:b, email:c and win-back's email:we-miss-you"
    );
}

fn health() -> Vec<ActionHealth> {
    let h = |action: &str, route: Option<&str>, pending, sent, failed, retrying| ActionHealth {
        action: action.into(),
        pending,
        sent,
        failed,
        retrying,
        route: Some(route.map(str::to_string)),
        last_sent_ms: Some(now() - 5_000),
        ..ActionHealth::default()
    };
    let mut crm = h("webhook:crm", Some("webhook:crm"), 310, 2_450, 96, 214);
    crm.last_error = Some("HTTP 503 Service Unavailable".into());
    crm.last_error_ms = Some(now() - 3_000);
    crm.uncertain = 7;
    crm.last_sent_ms = Some(now() - 190_000);
    // Slowed live by an operator: 20/s over the file's 200/s.
    let file = |rate: &str, concurrency| journeyctl::store::LiveLimits {
        rate: Some(journeyctl::domain::rate::Rate::parse(rate).unwrap()),
        concurrency,
    };
    crm.file_limits = Some(file("200/s", Some(8)));
    crm.live = Some(journeyctl::store::LiveRate {
        action: "webhook:crm".into(),
        limits: journeyctl::store::LiveLimits {
            rate: Some(journeyctl::domain::rate::Rate::parse("20/s").unwrap()),
            concurrency: None,
        },
        set_by: "alice".into(),
        set_at: parse_rfc3339("2026-11-21T11:52:00Z").unwrap(),
        reason: Some("crm slow".into()),
    });
    let mut email = h("email:welcome", Some("email"), 3, 120_400, 2, 0);
    email.file_limits = Some(file("200/s", None));
    let mut miss = h("email:we-miss-you", Some("email"), 12, 40_210, 0, 0);
    miss.file_limits = email.file_limits;
    vec![miss, email, h("sms", None, 57, 0, 0, 0), crm]
}

#[test]
fn snapshot_channels_screen_and_the_kill_switch_line() {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('c')]);
    assert!(app.want().channels, "the channels screen fetches health");
    app.update(Msg::Data(Box::new(Snapshot {
        versions: fixture(),
        channels: Some(health()),
        fetched_at: now(),
        ..Default::default()
    })));
    insta::assert_snapshot!("channels", snap(&app, 120, 12));
    press(&mut app, &[KeyCode::Char('K')]);
    assert!(app.want().channels, "the kill switch keeps health fresh");
    type_text(&mut app, "webhook:crm");
    let text = snap(&app, 120, 35);
    assert!(
        text.contains(
            "webhook:crm via webhook:crm: 310 pending, 2,450 sent, 96 failed, 214 retrying;"
        ),
        "{text}"
    );
    assert!(
        text.contains("last error 3s ago: HTTP 503 Service Unavailable"),
        "{text}"
    );
    insta::assert_snapshot!("kill_switch_channel_line", text);
}

#[test]
fn a_confirmed_stop_says_it_waits_for_deliveries_in_flight() {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('s')]);
    with_impact(&mut app);
    type_text(&mut app, "cart-recovery");
    let effects = press(&mut app, &[KeyCode::Enter]);
    assert_eq!(executes(&effects).len(), 1);
    app.update(Msg::ActionWaiting(journeyctl::store::Waiting::Deliveries(
        3,
    )));
    let text = snap(&app, 120, 35);
    assert!(
        text.contains("waiting for 3 delivery(ies) in flight to finish"),
        "{text}"
    );
}

#[test]
fn failing_deliveries_are_marked_on_the_main_list() {
    let text = snap(&loaded(false), 120, 35);
    let row = text.lines().find(|l| l.contains("win-back")).unwrap();
    assert!(row.contains("● live ✉ failing"), "{row}");
    let row = text.lines().find(|l| l.contains("welcome-series")).unwrap();
    assert!(!row.contains("failing"), "{row}");
}

#[test]
fn pause_pane_starts_on_cancel_and_confirms_the_hold_typed() {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('p')]);
    let pane = app.pane().unwrap();
    assert_eq!(pane.focus, Focus::Cancel, "a y/n pane starts on Cancel");
    assert_eq!(pane.hold_field().unwrap().value(), "3d");
    with_impact(&mut app);
    insta::assert_snapshot!("pause_pane", snap(&app, 120, 35));
    // Enter on Cancel closes; nothing runs.
    let effects = press(&mut app, &[KeyCode::Enter]);
    assert!(executes(&effects).is_empty() && app.pane().is_none());
    // Tab to the hold, make it 2h, the rule resume, then y on the button.
    press(&mut app, &[KeyCode::Char('p'), KeyCode::Tab]);
    press(&mut app, &[KeyCode::Backspace, KeyCode::Backspace]);
    type_text(&mut app, "2h");
    press(
        &mut app,
        &[KeyCode::Tab, KeyCode::Right, KeyCode::Tab, KeyCode::Tab],
    );
    let effects = press(&mut app, &[KeyCode::Char('y')]);
    let run = executes(&effects);
    assert_eq!(run.len(), 1);
    assert_eq!(
        run[0].kind,
        ActionKind::Pause(Hold::new(2 * 3_600_000, OnExpiry::Resume).unwrap())
    );
}

#[test]
fn a_hold_over_thirty_days_is_not_confirmed() {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('p'), KeyCode::Tab]);
    press(&mut app, &[KeyCode::Backspace, KeyCode::Backspace]);
    type_text(&mut app, "31d");
    press(&mut app, &[KeyCode::Tab, KeyCode::Tab, KeyCode::Tab]);
    let effects = press(&mut app, &[KeyCode::Char('y')]);
    assert!(executes(&effects).is_empty());
    assert!(hint(&app).contains("at most 30 days"), "{}", hint(&app));
}

#[test]
fn resume_is_for_paused_versions_and_pause_for_the_others() {
    let mut versions = fixture();
    versions[0].paused = Some(PausedSummary {
        since: "2026-11-21T10:00:00Z".into(),
        until: "2026-11-24T10:00:00Z".into(),
        on_expiry: "stop".into(),
        by: "alice".into(),
        reason: None,
        incident: None,
        since_ms: now() - 2 * 3_600_000,
        until_ms: now() + 70 * 3_600_000,
    });
    let mut app = App::new(ctx(false), now());
    app.update(Msg::Data(Box::new(Snapshot {
        versions,
        fetched_at: now(),
        ..Default::default()
    })));
    let text = snap(&app, 120, 12);
    let row = text.lines().find(|l| l.contains("cart-recovery")).unwrap();
    assert!(row.contains("⏸ paused 2h, stop in 2d"), "{row}");
    press(&mut app, &[KeyCode::Char('p')]);
    assert!(app.pane().is_none());
    assert!(app.notice.as_deref().unwrap().contains("already paused"));
    press(&mut app, &[KeyCode::Char('r')]);
    let pane = app.pane().unwrap();
    assert_eq!(
        (pane.action.kind, pane.focus),
        (
            ActionKind::Resume(journeyctl::domain::Overdue::Send),
            Focus::Cancel
        )
    );
    // The overdue messages' field: spread them over 30 minutes instead.
    press(&mut app, &[KeyCode::Tab]);
    assert_eq!(app.pane().unwrap().focus, Focus::Hold);
    press(&mut app, &[KeyCode::Backspace; 4]);
    type_text(&mut app, "spread=soon");
    press(&mut app, &[KeyCode::Tab, KeyCode::Tab]);
    let effects = press(&mut app, &[KeyCode::Enter]);
    assert!(executes(&effects).is_empty());
    assert!(
        hint(&app).starts_with("overdue messages: spread: "),
        "{}",
        hint(&app)
    );
    press(&mut app, &[KeyCode::Backspace; 4]);
    type_text(&mut app, "30m");
    press(&mut app, &[KeyCode::Tab, KeyCode::Tab]);
    let effects = press(&mut app, &[KeyCode::Enter]);
    assert_eq!(
        executes(&effects)[0].kind,
        ActionKind::Resume(journeyctl::domain::Overdue::Spread(1_800_000))
    );
    // Another version is not paused: r explains, p opens.
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('r')]);
    assert!(app.notice.as_deref().unwrap().contains("it is not paused"));
}

#[test]
fn the_kill_switch_can_pause_instead_of_stop_and_still_wants_the_action_typed() {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('K')]);
    type_text(&mut app, "webhook:crm");
    press(&mut app, &[KeyCode::Tab, KeyCode::Right]);
    let pane = app.pane().unwrap();
    assert!(pane.action.kind.is_pause());
    // A printable key on the choice goes to the action field.
    press(&mut app, &[KeyCode::Char('x')]);
    assert_eq!(app.pane().unwrap().typed_action(), "webhook:crmx");
    press(&mut app, &[KeyCode::Backspace]);
    let action = app.pane().unwrap().action.clone();
    app.update(Msg::Data(Box::new(Snapshot {
        versions: fixture(),
        impact: Some((
            action,
            Ok(Impact {
                release: vec![],
                versions: vec![VersionImpact {
                    journey: "win-back".into(),
                    version: 1,
                    status: VersionStatus::Live,
                    active: 2_500,
                    pending: 31,
                    uncertain: 0,
                    sent_waiting: None,
                    overdue: 0,
                    overdue_since: None,
                }],
            }),
        )),
        channels: Some(health()),
        fetched_at: now(),
        ..Default::default()
    })));
    insta::assert_snapshot!("kill_switch_pause", snap(&app, 120, 35));
    let effects = press(&mut app, &[KeyCode::Enter]);
    let run = executes(&effects);
    assert_eq!(run.len(), 1);
    assert_eq!(run[0].kind, ActionKind::Pause(Hold::default()));
    assert_eq!(
        run[0].target,
        Target::UsesAction {
            action: "webhook:crm".into()
        }
    );
}

/// The fixture with the long statuses met in use: a paused version whose
/// delivery fails, and a long journey name.
fn long_fixture() -> Vec<VersionSummary> {
    let mut versions = fixture();
    let mut paused = version(
        "browse-abandonment-reminder",
        4,
        VersionStatus::Live,
        64_000,
        12_345,
    );
    paused.paused = Some(journeyctl::store::PausedSummary {
        since: "2026-11-21T11:59:54Z".into(),
        until: "2026-11-23T12:00:00Z".into(),
        on_expiry: "stop".into(),
        by: "dana".into(),
        reason: Some("crm maintenance".into()),
        incident: None,
        since_ms: now() - 6_000,
        until_ms: now() + 2 * 86_400_000,
    });
    paused.delivery_failing = true;
    // A second test, running, whose counts are far from its weights.
    let welcome = versions
        .iter_mut()
        .find(|v| v.journey == "welcome-series")
        .unwrap();
    let mut ab = fixture()[0].ab.clone().unwrap();
    ab.verdict = VerdictKind::NoWinnerYet;
    ab.winner = None;
    ab.decided_at = None;
    ab.at_decision = None;
    ab.srm = Some(journeyctl::domain::srm::check_srm(
        &[("A".into(), 5_000), ("B".into(), 5_400)],
        &[50.0, 50.0],
    ));
    welcome.ab = Some(ab);
    versions.insert(1, paused);
    versions
}

/// Each screen and pane as the console draws it at `w` x `h`.
fn every_screen(w: u16, h: u16) -> Vec<(&'static str, String)> {
    let data = |app: &mut App, extra: Snapshot| {
        app.update(Msg::Data(Box::new(Snapshot {
            versions: long_fixture(),
            fetched_at: now(),
            ..extra
        })))
    };
    let mut out = Vec::new();
    let mut app = loaded(false);
    data(&mut app, Snapshot::default());
    out.push(("main", snap(&app, w, h)));
    let mut detail = loaded(false);
    data(&mut detail, Snapshot::default());
    press(&mut detail, &[KeyCode::Enter]);
    data(
        &mut detail,
        Snapshot {
            detail: Some(detail_fixture()),
            ..Default::default()
        },
    );
    out.push(("detail", snap(&detail, w, h)));
    let mut audit = loaded(false);
    press(&mut audit, &[KeyCode::Char('a')]);
    data(
        &mut audit,
        Snapshot {
            audit: Some(detail_fixture().audit),
            ..Default::default()
        },
    );
    out.push(("audit", snap(&audit, w, h)));
    let mut channels = loaded(false);
    press(&mut channels, &[KeyCode::Char('c')]);
    data(
        &mut channels,
        Snapshot {
            channels: Some(health()),
            ..Default::default()
        },
    );
    out.push(("channels", snap(&channels, w, h)));
    press(&mut app, &[KeyCode::Char('?')]);
    out.push(("help", snap(&app, w, h)));
    for (name, key) in [
        ("stop_pane", 's'),
        ("finish_pane", 'f'),
        ("pause_pane", 'p'),
    ] {
        let mut pane = loaded(false);
        press(&mut pane, &[KeyCode::Char(key)]);
        with_impact(&mut pane);
        out.push((name, snap(&pane, w, h)));
    }
    let mut kill = loaded(false);
    press(&mut kill, &[KeyCode::Char('K')]);
    data(
        &mut kill,
        Snapshot {
            channels: Some(health()),
            ..Default::default()
        },
    );
    type_text(&mut kill, "webhook:crm");
    out.push(("kill_switch_pane", snap(&kill, w, h)));
    out
}

/// Every screen and pane at four sizes, laid out by priority: the header
/// keeps the store and the operator; identifying columns stay whole.
#[test]
fn every_screen_at_80_100_120_and_200_columns() {
    for (w, h) in [(80, 24), (100, 30), (120, 35), (200, 50)] {
        for (name, text) in every_screen(w, h) {
            let header = text.lines().next().unwrap();
            assert!(
                header.contains("operator alice@ops-1"),
                "{name} {w}: {header}"
            );
            assert!(header.contains("journeyctl.db"), "{name} {w}: {header}");
            let whole: &[&str] = match name {
                // The verdicts the tour asks to watch, at every size.
                "main" => &[
                    "browse-abandonment-reminder",
                    "holiday-promo",
                    "welcome-series",
                    "winner B",
                    "⚠ SRM",
                ],
                "audit" => &[
                    "2026-11-21 11:40",
                    "alice (as mallory)",
                    "stop",
                    "welcome v1",
                ],
                "channels" => &["email:we-miss-you", "email:welcome", "webhook:crm"],
                "help" => &["hold it, reversibly", "(asks first)"],
                "detail" => &["split subject-line", "segment:suppre"],
                _ => &[],
            };
            for part in whole {
                assert!(text.contains(part), "{name} {w}x{h} cuts {part:?}:\n{text}");
            }
            insta::assert_snapshot!(format!("at_{w}x{h}_{name}"), text);
        }
    }
    // A wide screen gives the trend its room: a cell a minute or two,
    // rather than a wide blank JOURNEY.
    let wide = &every_screen(200, 50)[0].1;
    let spark = |line: &str| line.chars().filter(|c| "▁▂▃▄▅▆▇█·".contains(*c)).count();
    let row = wide.lines().find(|l| l.contains("welcome-series")).unwrap();
    assert!(spark(row) >= 30, "{wide}");
    let longest = wide
        .lines()
        .find(|l| l.contains("browse-abandonment-reminder"))
        .unwrap();
    assert!(
        !longest.contains(&format!("browse-abandonment-reminder{}", " ".repeat(10))),
        "{wide}"
    );
    let detail = &every_screen(80, 24)[1].1;
    assert!(
        detail.contains("↑ 0 ↓ 1 more step(s): PgUp PgDn"),
        "{detail}"
    );
    // PgDn brings the hidden step into view; PgUp goes back.
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Enter]);
    app.update(Msg::Data(Box::new(Snapshot {
        versions: fixture(),
        detail: Some(detail_fixture()),
        fetched_at: now(),
        ..Default::default()
    })));
    assert!(!snap(&app, 80, 24).contains("message sms"));
    press(&mut app, &[KeyCode::PageDown]);
    let text = snap(&app, 80, 24);
    assert!(text.contains("message sms"), "{text}");
    assert!(text.contains("↑ 1 ↓ 0 more step(s)"), "{text}");
    press(&mut app, &[KeyCode::PageUp]);
    assert!(snap(&app, 80, 24).contains("1 wait 1h"));
}

/// What a fetch returns while PostgreSQL refuses connections.
fn refused_connection() -> journeyctl::store::Error {
    journeyctl::store::Error::Db(sqlx::Error::Io(std::io::Error::from(
        std::io::ErrorKind::ConnectionRefused,
    )))
}

/// The store's refusal of an action on cart-recovery v2, which bob
/// stopped at `at`.
fn stopped_by_bob(verb: &'static str, at: &str) -> journeyctl::store::Error {
    journeyctl::store::Error::Refused(journeyctl::store::Refusal::Status {
        verb,
        version: "cart-recovery v2".into(),
        why: "it is already stopped".into(),
        status: "stopped".into(),
        by: format!("by bob on ops-2 at {at}"),
    })
}

#[test]
fn the_pause_pane_names_the_resume_key_as_mapped() {
    let mut app = loaded(false);
    app.ctx.keys =
        journeyctl::tui::keymap::KeyMap::with_remaps(&[("resume".into(), vec!["e".into()])])
            .unwrap();
    press(&mut app, &[KeyCode::Char('p')]);
    let text = snap(&app, 120, 35);
    assert!(text.contains("Reversible: e resumes."), "{text}");
    assert!(!text.contains("Reversible: r resumes."), "{text}");
}

/// A journey named in wide characters (two columns each): the name field
/// keeps its end inside the pane, and the cursor stands right after what
/// was typed, counted in display columns.
#[test]
fn a_wide_journey_name_keeps_the_field_and_the_cursor_in_place() {
    let mut app = App::new(ctx(false), now());
    app.update(Msg::Data(Box::new(Snapshot {
        versions: vec![version("春のセール", 1, VersionStatus::Live, 1_000, 400)],
        fetched_at: now(),
        ..Default::default()
    })));
    app.take_effects();
    press(&mut app, &[KeyCode::Char('s')]);
    type_text(&mut app, "春のセ");
    let (buf, cursor) = journeyctl::tui::render_with_cursor(&app, &Theme { color: false }, 80, 24);
    let cursor = cursor.expect("a cursor in the name field");
    let row: Vec<&str> = (0..80).map(|x| buf[(x, cursor.y)].symbol()).collect();
    // The row as text: a wide character's second cell is not a space.
    let mut line = String::new();
    let mut x = 0;
    while x < row.len() {
        line.push_str(row[x]);
        x += unicode_width::UnicodeWidthStr::width(row[x]).max(1);
    }
    assert!(line.contains("Type 春のセール to confirm:"), "{line}");
    let open = row
        .iter()
        .position(|s| *s == "▸")
        .expect("the field's start");
    assert_eq!(
        cursor.x as usize,
        open + 1 + 6,
        "right after 春のセ (6 columns): {line}"
    );
    let close = row.iter().position(|s| *s == "◂").expect("the field's end");
    let border = row
        .iter()
        .rposition(|s| *s == "│")
        .expect("the pane's border");
    assert!(close < border, "the field runs past the pane: {line}");
}

/// A loaded console on a store whose own name is `journeyctl`.
fn brake_app() -> App {
    let mut app = App::new(
        Context {
            whole_name: "journeyctl".into(),
            ..ctx(false)
        },
        now(),
    );
    app.update(Msg::Data(Box::new(Snapshot {
        versions: fixture(),
        fetched_at: now(),
        ..Default::default()
    })));
    app
}

/// `!`, from any screen: the store-wide brake's pane, confirmed only by
/// the store's name typed exactly; a pause by default (a stop on `→`),
/// of every version of the store. Read-only: it only explains.
#[test]
fn the_brake_wants_the_stores_name_and_reaches_every_version() {
    let mut app = brake_app();
    press(&mut app, &[KeyCode::Char('a')]);
    press(&mut app, &[KeyCode::Char('!')]);
    let pane = app
        .pane()
        .expect("the brake's pane, from the audit log too");
    assert_eq!(pane.focus, Focus::Name);
    let want = app.want().impact.expect("its impact is fetched at once");
    assert_eq!(
        want.target,
        Target::Store {
            name: "journeyctl".into()
        }
    );
    assert!(
        want.kind.is_pause(),
        "a pause unless the operator says stop"
    );
    // Letters that are shortcuts elsewhere go into the name; a wrong name
    // commits nothing and says what is wanted.
    type_text(&mut app, "journeyct");
    assert!(executes(&press(&mut app, &[KeyCode::Enter])).is_empty());
    assert!(hint(&app).contains("the store's name"), "{}", hint(&app));
    type_text(&mut app, "l");
    insta::assert_snapshot!("brake_pane", snap(&app, 120, 35));
    let run = executes(&press(&mut app, &[KeyCode::Enter]));
    assert_eq!(run.len(), 1);
    assert!(run[0].kind.is_pause());
    assert_eq!(run[0].target, want.target);
    // A stop instead: Tab to the choice, → .
    let mut app = brake_app();
    press(&mut app, &[KeyCode::Char('!')]);
    type_text(&mut app, "journeyctl");
    press(&mut app, &[KeyCode::Tab, KeyCode::Right]);
    let run = executes(&press(&mut app, &[KeyCode::Enter]));
    assert_eq!(run.len(), 1);
    assert_eq!(run[0].kind, ActionKind::Stop);
    // Read-only: ! only explains.
    let mut ro = loaded(true);
    press(&mut ro, &[KeyCode::Char('!')]);
    assert!(ro.pane().is_none());
    assert!(ro.notice.as_deref().unwrap().contains("read-only"));
}

/// `?` says what the symbols and columns mean where the screen has room.
#[test]
fn the_help_has_a_legend_of_symbols_and_columns() {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('?')]);
    let text = snap(&app, 120, 35);
    for said in [
        "◐ draining N",
        "⚠ SRM",
        "★ winner",
        "UNCERTAIN",
        "ENTRY END",
    ] {
        assert!(text.contains(said), "{said} missing:\n{text}");
    }
}

/// On PostgreSQL the header shows the host and database whole (the
/// schema too where the URL names one) and the login the database sees,
/// `viewer` when it can only look, at every width.
#[test]
fn the_header_names_the_server_the_database_and_the_login() {
    for w in [80, 120, 200] {
        let mut app = App::new(
            Context {
                store: "postgres alice@db-7.ops.internal:5432/journeys schema nc_cfg".into(),
                login: Some("alice (viewer)".into()),
                read_only: true,
                ..ctx(true)
            },
            now(),
        );
        app.update(Msg::Data(Box::new(Snapshot {
            versions: fixture(),
            fetched_at: now(),
            ..Default::default()
        })));
        let text = snap(&app, w, 24);
        let header = text.lines().next().unwrap();
        let whole = if w >= 120 {
            "db-7.ops.internal:5432/journeys schema nc_cfg"
        } else {
            "db-7.ops.internal:5432/journeys/nc_cfg"
        };
        for part in [whole, "alice (viewer)", "READ-ONLY"] {
            assert!(header.contains(part), "{w}: {header}");
        }
        if w >= 200 {
            assert!(header.contains("alice@ops-1"), "{w}: {header}");
        }
    }
    // A long SQLite path loses whole folders from its start, never the
    // file's name or part of a folder's.
    let app = App::new(
        Context {
            store: "sqlite /srv/journeyctl/very/long/path/to/the/stores/of/the/team/prod.db".into(),
            ..ctx(false)
        },
        now(),
    );
    let header = snap(&app, 80, 24).lines().next().unwrap().to_string();
    assert!(header.contains("sqlite …/"), "{header}");
    assert!(header.contains("/prod.db"), "{header}");
    assert!(
        !header.contains("…ath") && !header.contains("…eam"),
        "{header}"
    );
}

/// A long paste into the filter or a pane's field stops at what a name or
/// a reason can be, so the list is not filtered anew for each of 100,000
/// keys.
#[test]
fn a_long_paste_stops_at_the_fields_limit() {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('/')]);
    type_text(&mut app, &"c".repeat(5_000));
    assert_eq!(app.filter.value().chars().count(), 200);
    press(&mut app, &[KeyCode::Esc]);
    press(&mut app, &[KeyCode::Char('s'), KeyCode::Tab]);
    type_text(&mut app, &"r".repeat(5_000));
    assert_eq!(app.pane().unwrap().reason.value().chars().count(), 1_000);
}

/// What publishing cart-recovery's draft v3 does, as the store says it.
fn publish_impact() -> journeyctl::store::PublishImpact {
    journeyctl::store::PublishImpact {
        journey: "cart-recovery".into(),
        draft: 3,
        finishes: Some(VersionImpact {
            journey: "cart-recovery".into(),
            version: 2,
            status: VersionStatus::Live,
            active: 12_400,
            pending: 310,
            uncertain: 0,
            sent_waiting: None,
            overdue: 0,
            overdue_since: None,
        }),
        differences: vec![
            "step 2: wait 1h -> wait 2h".into(),
            "action added: webhook:crm".into(),
        ],
    }
}

fn publishes(effects: &[Effect]) -> Vec<(String, Option<String>)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Publish { journey, reason } => Some((journey.clone(), reason.clone())),
            _ => None,
        })
        .collect()
}

/// The detail view of cart-recovery with its publish pane open and what
/// the publish does fetched.
fn publish_app() -> App {
    let mut app = detail_app();
    press(&mut app, &[KeyCode::Char('P')]);
    app.update(Msg::Data(Box::new(Snapshot {
        versions: fixture(),
        detail: Some(detail_fixture()),
        publish: Some(("cart-recovery".into(), Ok(publish_impact()))),
        fetched_at: now(),
        ..Default::default()
    })));
    app.take_effects();
    app
}

#[test]
fn publish_opens_from_the_detail_and_needs_the_exact_name() {
    use journeyctl::tui::publish::{PublishFocus, PublishState};
    // Not from the main list: it says where.
    let mut app = loaded(false);
    assert!(publishes(&press(&mut app, &[KeyCode::Char('P')])).is_empty());
    assert!(app.publish_pane().is_none());
    let notice = app.notice.clone().unwrap_or_default();
    assert!(
        notice.contains("publishes from a journey's detail"),
        "{notice}"
    );
    // Read-only: explained, no pane.
    let mut app = loaded(true);
    press(&mut app, &[KeyCode::Enter, KeyCode::Char('P')]);
    assert!(app.publish_pane().is_none());
    assert!(app.notice.clone().unwrap_or_default().contains("read-only"));

    let mut app = detail_app();
    press(&mut app, &[KeyCode::Char('P')]);
    let pane = app.publish_pane().expect("publish pane open");
    assert_eq!(pane.focus, PublishFocus::Name);
    assert_eq!(app.want().publish.as_deref(), Some("cart-recovery"));
    // The name typed before the impact is known: not yet.
    type_text(&mut app, "cart-recovery");
    assert!(publishes(&press(&mut app, &[KeyCode::Enter])).is_empty());
    let mut app = publish_app();
    // A wrong name, then Enter on the button: nothing, and why.
    type_text(&mut app, "cart");
    press(&mut app, &[KeyCode::Tab, KeyCode::Tab]);
    assert_eq!(app.publish_pane().unwrap().focus, PublishFocus::Confirm);
    assert!(publishes(&press(&mut app, &[KeyCode::Enter])).is_empty());
    let hint = app.publish_pane().unwrap().hint.clone().unwrap_or_default();
    assert!(hint.contains("type cart-recovery exactly"), "{hint}");
    // Printable keys on a button do nothing ('y' is no shortcut here).
    assert!(publishes(&press(&mut app, &[KeyCode::Char('y')])).is_empty());
    // Esc: closed, nothing published.
    assert!(publishes(&press(&mut app, &[KeyCode::Esc])).is_empty());
    assert!(app.publish_pane().is_none());
    // The name, a reason, Enter: published through the one library call.
    let mut app = publish_app();
    type_text(&mut app, "cart-recovery");
    press(&mut app, &[KeyCode::Tab]);
    type_text(&mut app, "new copy");
    let effects = press(&mut app, &[KeyCode::Enter]);
    assert_eq!(
        publishes(&effects),
        vec![("cart-recovery".to_string(), Some("new copy".to_string()))]
    );
    assert_eq!(app.publish_pane().unwrap().state, PublishState::Working);
    assert!(publishes(&press(&mut app, &[KeyCode::Enter])).is_empty());
    app.update(Msg::PublishDone(Ok(3)));
    assert_eq!(app.publish_pane().unwrap().state, PublishState::Done(3));
    press(&mut app, &[KeyCode::Enter]);
    assert!(app.publish_pane().is_none());
}

#[test]
fn snapshot_publish_pane() {
    let mut app = publish_app();
    type_text(&mut app, "cart-rec");
    insta::assert_snapshot!("publish_pane_120x35", snap(&app, 120, 35));
    insta::assert_snapshot!("publish_pane_80x24", snap(&app, 80, 24));
    // The cursor sits in the name field, below the lines that wrapped.
    for (w, h) in [(80, 24), (120, 35)] {
        let (buf, cursor) =
            journeyctl::tui::render_with_cursor(&app, &Theme { color: false }, w, h);
        let cursor = cursor.expect("a cursor in the name field");
        let row: String = (0..w).map(|x| buf[(x, cursor.y)].symbol()).collect();
        assert!(
            row.contains("Type cart-recovery to confirm: ▸cart-rec"),
            "{w}x{h}: {row}"
        );
        let open = row.chars().position(|c| c == '▸').unwrap();
        assert_eq!(
            cursor.x as usize,
            open + 1 + "cart-rec".len(),
            "{w}x{h}: {row}"
        );
    }
}

#[test]
fn marks_then_one_pane_acts_on_every_marked_version() {
    let mut app = loaded(false);
    // Space marks the selected version and moves on.
    let first = selected(&app);
    press(&mut app, &[KeyCode::Char(' ')]);
    let second = selected(&app);
    press(&mut app, &[KeyCode::Char(' ')]);
    assert_eq!(app.marks.len(), 2);
    // Space on a marked one unmarks it.
    press(&mut app, &[KeyCode::Up, KeyCode::Char(' ')]);
    assert_eq!(app.marks.len(), 1);
    press(&mut app, &[KeyCode::Up, KeyCode::Char(' ')]);
    assert_eq!(app.marks.len(), 2);
    let mut want: Vec<(String, Option<i64>)> =
        vec![(first.0, Some(first.1)), (second.0, Some(second.1))];
    want.sort();
    // p: one pane for the set.
    press(&mut app, &[KeyCode::Char('p')]);
    let pane = app.pane().expect("a pane for the marked set");
    assert_eq!(
        pane.action.target,
        Target::Journeys {
            journeys: want.clone()
        }
    );
    press(&mut app, &[KeyCode::Esc]);
    // s: the word and the count typed, then Enter.
    press(&mut app, &[KeyCode::Char('s')]);
    assert_eq!(app.pane().unwrap().expected_name(), Some("stop 2"));
    type_text(&mut app, "stop 1");
    assert!(executes(&press(&mut app, &[KeyCode::Enter])).is_empty());
    press(&mut app, &[KeyCode::Backspace]);
    type_text(&mut app, "2");
    let run = executes(&press(&mut app, &[KeyCode::Enter]));
    assert_eq!(run.len(), 1);
    assert_eq!(run[0].kind, ActionKind::Stop);
    assert_eq!(run[0].target, Target::Journeys { journeys: want });
    app.update(Msg::ActionDone(Ok(Outcome {
        kind: ActionKind::Stop,
        versions: Vec::new(),
        at: now(),
        incident: Some("20261121T120000Z-0001".into()),
    })));
    assert!(app.marks.is_empty(), "done: the marks are cleared");
    press(&mut app, &[KeyCode::Enter]);
    // `*` marks every version shown (after a filter, those it shows); u clears.
    press(&mut app, &[KeyCode::Char('/')]);
    type_text(&mut app, "cart");
    press(&mut app, &[KeyCode::Enter, KeyCode::Char('*')]);
    let shown = app.visible().len();
    assert!(shown >= 1);
    assert_eq!(app.marks.len(), shown);
    assert!(app.marks.iter().all(|(j, _)| j.contains("cart")));
    press(&mut app, &[KeyCode::Char('u')]);
    assert!(app.marks.is_empty());
}

#[test]
fn snapshot_marked_versions_and_their_pane() {
    let mut app = loaded(false);
    press(
        &mut app,
        &[KeyCode::Char(' '), KeyCode::Down, KeyCode::Char(' ')],
    );
    insta::assert_snapshot!("main_marked", snap(&app, 120, 20));
    press(&mut app, &[KeyCode::Char('p')]);
    let action = app.pane().unwrap().action.clone();
    let versions: Vec<VersionImpact> = app
        .marks
        .iter()
        .map(|(j, n)| VersionImpact {
            journey: j.clone(),
            version: *n,
            status: VersionStatus::Live,
            active: 1_000,
            pending: 20,
            uncertain: 0,
            sent_waiting: None,
            overdue: 0,
            overdue_since: None,
        })
        .collect();
    app.update(Msg::Data(Box::new(Snapshot {
        versions: fixture(),
        impact: Some((
            action,
            Ok(Impact {
                versions,
                release: vec![],
            }),
        )),
        fetched_at: now(),
        ..Default::default()
    })));
    insta::assert_snapshot!("pause_pane_marked", snap(&app, 120, 35));
}

/// The names the main list shows, in order.
fn shown_names(app: &App) -> Vec<String> {
    app.visible()
        .iter()
        .map(|v| format!("{} v{}", v.journey, v.version))
        .collect()
}

#[test]
fn the_filter_takes_words_and_fields_and_says_how_many_it_hides() {
    let mut versions = fixture();
    versions[0].paused = Some(PausedSummary {
        since: "2026-11-21T11:00:00Z".into(),
        until: "2026-11-24T11:00:00Z".into(),
        on_expiry: "stop".into(),
        by: "alice".into(),
        reason: None,
        incident: None,
        since_ms: now() - 60_000,
        until_ms: now() + 3 * 86_400_000,
    });
    let mut app = App::new(ctx(false), now());
    app.update(Msg::Data(Box::new(Snapshot {
        versions,
        fetched_at: now(),
        ..Default::default()
    })));
    let filter = |app: &mut App, text: &str| {
        press(app, &[KeyCode::Esc, KeyCode::Esc, KeyCode::Char('/')]);
        type_text(app, text);
        press(app, &[KeyCode::Enter]);
        shown_names(app)
    };
    assert_eq!(filter(&mut app, "status:paused"), vec!["cart-recovery v2"]);
    assert_eq!(filter(&mut app, "status:failing"), vec!["win-back v1"]);
    assert_eq!(
        filter(&mut app, "status:draining"),
        vec!["cart-recovery v1"]
    );
    assert_eq!(filter(&mut app, "action:webhook"), vec!["win-back v1"]);
    assert_eq!(filter(&mut app, "action:webhook:crm"), vec!["win-back v1"]);
    assert!(filter(&mut app, "action:webhook:cr").is_empty());
    // Several at once: all must hold; `!` excludes.
    assert_eq!(
        filter(&mut app, "cart !status:paused"),
        vec!["cart-recovery v1"]
    );
    let all = app.in_scope().count();
    let not_cart = filter(&mut app, "!cart");
    assert_eq!(not_cart.len(), all - 2);
    assert!(not_cart.iter().all(|n| !n.contains("cart")), "{not_cart:?}");
    // The title says what is filtered and how many rows it hides.
    let text = snap(&app, 120, 20);
    assert!(
        text.contains("filter /!cart · 2 hidden (Esc clears)"),
        "{text}"
    );
    // A state it does not know is named, with those it does.
    filter(&mut app, "status:broken");
    let text = snap(&app, 200, 20);
    assert!(
        text.contains("status:broken unknown: status is one of live, paused"),
        "{text}"
    );
    // It stays while moving between screens; Esc on the list clears it.
    filter(&mut app, "status:failing");
    press(&mut app, &[KeyCode::Char('a'), KeyCode::Esc]);
    assert_eq!(shown_names(&app), vec!["win-back v1"]);
    press(&mut app, &[KeyCode::Esc]);
    assert_eq!(app.visible().len(), all);
}

fn copies(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Copy(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn y_copies_the_name_and_capital_y_the_last_actions_command() {
    let mut app = loaded(false);
    let (journey, _) = selected(&app);
    assert_eq!(
        copies(&press(&mut app, &[KeyCode::Char('y')])),
        vec![journey.clone()]
    );
    let notice = app.notice.clone().unwrap_or_default();
    assert!(
        notice.contains("copied to your clipboard (OSC 52)"),
        "{notice}"
    );
    // Nothing done yet: Y says so.
    assert!(copies(&press(&mut app, &[KeyCode::Char('Y')])).is_empty());
    assert!(
        app.notice
            .clone()
            .unwrap_or_default()
            .contains("no action yet")
    );
    // A stop confirmed: its command is shown with the outcome, and Y copies it.
    press(&mut app, &[KeyCode::Char('s')]);
    type_text(&mut app, &journey);
    press(&mut app, &[KeyCode::Tab]);
    type_text(&mut app, "wrong list");
    press(&mut app, &[KeyCode::Enter]);
    let line = "journeyctl stop cart-recovery --version 2 --reason 'wrong list' --yes";
    assert_eq!(app.last_cli.as_deref(), Some(line));
    app.update(Msg::ActionDone(Ok(Outcome {
        kind: ActionKind::Stop,
        versions: Vec::new(),
        at: now(),
        incident: None,
    })));
    let text = snap(&app, 120, 35);
    assert!(
        text.contains("As a command (Y copies it): journeyctl stop cart-recovery"),
        "{text}"
    );
    press(&mut app, &[KeyCode::Enter]);
    assert_eq!(
        copies(&press(&mut app, &[KeyCode::Char('Y')])),
        vec![line.to_string()]
    );
    // In a journey's detail, y copies that journey's name.
    let mut app = detail_app();
    assert_eq!(
        copies(&press(&mut app, &[KeyCode::Char('y')])),
        vec!["cart-recovery".to_string()]
    );
}

/// The help holds every key on the smallest terminal the console takes.
#[test]
fn the_help_fits_every_key_at_80x24() {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('?')]);
    let text = snap(&app, 80, 24);
    for want in [
        "Space * u",
        "y Y",
        "? q",
        " P ",
        " K ",
        "in a pane: commit",
        "Any key closes this help.",
    ] {
        assert!(text.contains(want), "{want:?} missing:\n{text}");
    }
}

/// The channels screen with its health fetched.
fn channels_app(read_only: bool) -> App {
    let mut app = loaded(read_only);
    press(&mut app, &[KeyCode::Char('c')]);
    app.update(Msg::Data(Box::new(Snapshot {
        versions: fixture(),
        channels: Some(health()),
        fetched_at: now(),
        ..Default::default()
    })));
    app.take_effects();
    app
}

fn rates(
    effects: &[Effect],
) -> Vec<(
    String,
    Option<journeyctl::store::LiveLimits>,
    Option<String>,
)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::SetRate {
                action,
                limits,
                reason,
            } => Some((action.clone(), *limits, reason.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn minus_halves_the_selected_actions_rate_behind_a_pane() {
    use journeyctl::domain::rate::Rate;
    use journeyctl::store::{LiveLimits, RateChanged};
    // Read-only: explained, no pane.
    let mut app = channels_app(true);
    press(&mut app, &[KeyCode::Char('-')]);
    assert!(app.rate_pane().is_none());
    assert!(app.notice.clone().unwrap_or_default().contains("read-only"));

    // webhook:crm, the fourth row, followed at 20/s (set live) and 8 at once.
    let mut app = channels_app(false);
    press(&mut app, &[KeyCode::Down, KeyCode::Down, KeyCode::Down]);
    press(&mut app, &[KeyCode::Char('-')]);
    let pane = app.rate_pane().expect("rate pane open");
    assert_eq!(pane.action, "webhook:crm");
    assert_eq!(pane.rate.value(), "10/s");
    assert_eq!(pane.concurrency.value(), "", "blank: the file's");
    let text = snap(&app, 100, 30);
    assert!(
        text.contains("Now: 20/s, 8 at once (set live by alice)"),
        "{text}"
    );
    assert!(text.contains("Channels file: 200/s, 8 at once"), "{text}");
    insta::assert_snapshot!("rate_pane", text);
    // Enter sets the figure shown.
    let effects = press(&mut app, &[KeyCode::Enter]);
    let ten = LiveLimits {
        rate: Some(Rate::parse("10/s").unwrap()),
        concurrency: None,
    };
    assert_eq!(
        rates(&effects),
        vec![("webhook:crm".into(), Some(ten), None)]
    );
    app.update(Msg::RateDone(Ok(RateChanged {
        action: "webhook:crm".into(),
        before: Some(LiveLimits {
            rate: Some(Rate::parse("20/s").unwrap()),
            concurrency: None,
        }),
        after: Some(ten),
    })));
    let text = snap(&app, 100, 30);
    assert!(
        text.contains("✓ webhook:crm: 10/s (was 20/s); every running deliver follows"),
        "{text}"
    );
    assert_eq!(
        app.last_cli.as_deref(),
        Some("journeyctl rate --action webhook:crm 10/s")
    );
    press(&mut app, &[KeyCode::Enter]);
    assert!(app.rate_pane().is_none());
}

#[test]
fn plus_doubles_and_a_typed_figure_or_file_goes_in_its_place() {
    use journeyctl::domain::rate::Rate;
    use journeyctl::store::LiveLimits;
    // email:we-miss-you, the first row: 200/s from the file.
    let mut app = channels_app(false);
    press(&mut app, &[KeyCode::Char('+')]);
    assert_eq!(app.rate_pane().unwrap().rate.value(), "400/s");
    assert_eq!(app.rate_pane().unwrap().concurrency.value(), "");
    // Typed over: a bad figure is named and nothing is set.
    press(&mut app, &[KeyCode::Char('h')]);
    assert!(rates(&press(&mut app, &[KeyCode::Enter])).is_empty());
    let hint = app.rate_pane().unwrap().hint.clone().unwrap_or_default();
    assert!(hint.contains("is not a rate"), "{hint}");
    for _ in 0..6 {
        press(&mut app, &[KeyCode::Backspace]);
    }
    type_text(&mut app, "3000/min");
    press(&mut app, &[KeyCode::Tab, KeyCode::Tab]);
    type_text(&mut app, "receiver slow");
    let effects = press(&mut app, &[KeyCode::Enter]);
    let limits = LiveLimits {
        rate: Some(Rate::parse("3000/min").unwrap()),
        concurrency: None,
    };
    assert_eq!(
        rates(&effects),
        vec![(
            "email:we-miss-you".into(),
            Some(limits),
            Some("receiver slow".into())
        )]
    );
    // `file` goes back to the channels file's limits.
    let mut app = channels_app(false);
    press(&mut app, &[KeyCode::Char('-')]);
    for _ in 0..6 {
        press(&mut app, &[KeyCode::Backspace]);
    }
    type_text(&mut app, "file");
    let effects = press(&mut app, &[KeyCode::Enter]);
    assert_eq!(
        rates(&effects),
        vec![("email:we-miss-you".into(), None, None)]
    );
    // Esc cancels without a change.
    let mut app = channels_app(false);
    press(&mut app, &[KeyCode::Char('-')]);
    assert!(rates(&press(&mut app, &[KeyCode::Esc])).is_empty());
    assert!(app.rate_pane().is_none());
}

fn holds(effects: &[Effect]) -> Vec<Effect> {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::HoldAction { .. } | Effect::ReleaseAction { .. }))
        .cloned()
        .collect()
}

#[test]
fn h_holds_the_selected_action_and_r_releases_it_behind_a_pane() {
    use journeyctl::store::{ActionHold, HoldImpact};
    // Read-only: explained, no pane.
    let mut app = channels_app(true);
    press(&mut app, &[KeyCode::Char('h')]);
    assert!(app.hold_pane().is_none());
    assert!(app.notice.clone().unwrap_or_default().contains("read-only"));
    // r on an action that is not held says so.
    let mut app = channels_app(false);
    press(&mut app, &[KeyCode::Down, KeyCode::Down, KeyCode::Down]);
    press(&mut app, &[KeyCode::Char('r')]);
    assert!(app.hold_pane().is_none());
    let notice = app.notice.clone().unwrap_or_default();
    assert!(notice.contains("webhook:crm is not held"), "{notice}");
    // h: the pane, its impact fetched while open.
    press(&mut app, &[KeyCode::Char('h')]);
    assert_eq!(app.want().hold.as_deref(), Some("webhook:crm"));
    app.update(Msg::Data(Box::new(Snapshot {
        versions: fixture(),
        channels: Some(health()),
        hold: Some((
            "webhook:crm".into(),
            Ok(HoldImpact {
                action: "webhook:crm".into(),
                versions: vec![("lead-sync".into(), 1, 300), ("win-back".into(), 2, 10)],
                waited: 0,
            }),
        )),
        fetched_at: now(),
        ..Default::default()
    })));
    let text = snap(&app, 100, 30);
    assert!(
        text.contains("310 pending in 2 running version(s) (lead-sync v1: 300, win-back v2: 10)"),
        "{text}"
    );
    insta::assert_snapshot!("hold_pane", text);
    // A bad duration is named; 4h is taken.
    type_text(&mut app, "4 hours");
    assert!(holds(&press(&mut app, &[KeyCode::Enter])).is_empty());
    for _ in 0..7 {
        press(&mut app, &[KeyCode::Backspace]);
    }
    type_text(&mut app, "4h");
    let effects = press(&mut app, &[KeyCode::Enter]);
    assert_eq!(
        holds(&effects),
        vec![Effect::HoldAction {
            action: "webhook:crm".into(),
            for_ms: Some(4 * 3_600_000),
            on_expiry: journeyctl::store::HoldExpiry::Release,
            reason: None
        }]
    );
    assert_eq!(
        app.last_cli.as_deref(),
        Some("journeyctl hold --action webhook:crm --for 4h --yes")
    );
    app.update(Msg::HoldDone(Ok(
        "held webhook:crm: no message of it is claimed from now".into(),
    )));
    let text = snap(&app, 100, 30);
    assert!(
        text.contains("✓ held webhook:crm: no message of it is claimed"),
        "{text}"
    );
    press(&mut app, &[KeyCode::Enter]);
    assert!(app.hold_pane().is_none());

    // Held now: h says so, r releases it.
    let mut held = health();
    held[3].hold = Some(ActionHold {
        action: "webhook:crm".into(),
        held_at: now() - 60_000,
        held_by: "alice".into(),
        until: None,
        on_expiry: Default::default(),
        reason: None,
    });
    app.update(Msg::Data(Box::new(Snapshot {
        versions: fixture(),
        channels: Some(held),
        fetched_at: now(),
        ..Default::default()
    })));
    let text = snap(&app, 120, 12);
    assert!(text.contains("⏸ held · 20/s, 8 at once (live)"), "{text}");
    press(&mut app, &[KeyCode::Char('h')]);
    assert!(app.hold_pane().is_none());
    assert!(
        app.notice
            .clone()
            .unwrap_or_default()
            .contains("already held (by alice)")
    );
    press(&mut app, &[KeyCode::Char('r')]);
    for _ in 0..4 {
        press(&mut app, &[KeyCode::Backspace]);
    }
    type_text(&mut app, "spread=30m");
    let effects = press(&mut app, &[KeyCode::Enter]);
    assert_eq!(
        holds(&effects),
        vec![Effect::ReleaseAction {
            action: "webhook:crm".into(),
            overdue: journeyctl::domain::Overdue::Spread(30 * 60_000),
            reason: None
        }]
    );
    assert_eq!(
        app.last_cli.as_deref(),
        Some("journeyctl release --action webhook:crm --overdue spread=30m --yes")
    );
}

/// A version with a stop set for 23:59 shows `⏰ stop 23:59` on its row
/// (and that no engine runs, when none has lately); `x` opens the
/// take-back pane, whose confirm is the same call as `unschedule ID`.
#[test]
fn x_takes_back_an_action_set_for_a_time() {
    use journeyctl::store::ScheduleMark;
    let mut versions = fixture();
    let at = parse_rfc3339("2026-11-21T23:59:00Z").unwrap();
    let mark = |seen: Option<i64>| ScheduleMark {
        id: 7,
        verb: "stop".into(),
        what: "stop cart-recovery v2".into(),
        at: "2026-11-21T23:59:00Z".into(),
        by: "bob".into(),
        engine_seen: None,
        at_ms: at,
        engine_seen_ms: seen,
    };
    versions[0].scheduled = vec![mark(Some(now() - 1_000))];
    let mut app = App::new(ctx(false), now());
    app.update(Msg::Data(Box::new(Snapshot {
        versions: versions.clone(),
        fetched_at: now(),
        ..Default::default()
    })));
    app.take_effects();
    let text = snap(&app, 160, 20).replace("⏰ ", "⏰");
    assert!(text.contains("⏰ stop 23:59"), "{text}");
    assert!(!text.contains("no engine"), "{text}");
    // Nothing set on the second row: x says so.
    press(&mut app, &[KeyCode::Down, KeyCode::Char('x')]);
    assert!(app.unschedule_pane().is_none());
    let notice = app.notice.clone().unwrap_or_default();
    assert!(notice.contains("no action set for a time"), "{notice}");
    // x on the first: the pane; Enter on Cancel keeps it.
    press(&mut app, &[KeyCode::Up, KeyCode::Char('x')]);
    let text = snap(&app, 100, 30).replace("⏰ ", "⏰");
    assert!(
        text.contains("⏰ stop cart-recovery v2 at 2026-11-21T23:59:00Z"),
        "{text}"
    );
    assert!(text.contains("set by bob (#7)"), "{text}");
    press(&mut app, &[KeyCode::Enter]);
    assert!(app.unschedule_pane().is_none());
    // Tab to Take back, Enter: the take-back of #7.
    press(&mut app, &[KeyCode::Char('x'), KeyCode::Tab]);
    let effects = press(&mut app, &[KeyCode::Enter]);
    assert!(
        effects.contains(&Effect::Unschedule { id: 7 }),
        "{effects:?}"
    );
    assert_eq!(app.last_cli.as_deref(), Some("journeyctl unschedule 7"));
    app.update(Msg::UnscheduleDone(Ok("took back #7".into())));
    assert!(snap(&app, 100, 30).contains("✓ took back #7"));
    // No engine for ten minutes: the row says nothing will happen.
    versions[0].scheduled = vec![mark(Some(now() - 600_000))];
    let mut app = App::new(ctx(false), now());
    app.update(Msg::Data(Box::new(Snapshot {
        versions,
        fetched_at: now(),
        ..Default::default()
    })));
    let text = snap(&app, 200, 20).replace("⏰ ", "⏰");
    assert!(
        text.contains("⏰ stop 23:59 — no engine has run for 10m"),
        "{text}"
    );
}

/// The detail screen counts the pending messages of a held action apart
/// (`⏸300`) and shows an action set for a time on its version's row.
#[test]
fn the_detail_shows_held_messages_and_the_schedule() {
    let mut d = detail_fixture();
    d.versions[0].summary.messages.held = 300;
    d.versions[0].summary.scheduled = vec![journeyctl::store::ScheduleMark {
        id: 3,
        verb: "finish".into(),
        what: "finish cart-recovery v2".into(),
        at: String::new(),
        by: "bob".into(),
        engine_seen: None,
        at_ms: now() + 3_600_000,
        engine_seen_ms: Some(now()),
    }];
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Enter]);
    app.update(Msg::Data(Box::new(Snapshot {
        versions: fixture(),
        detail: Some(d),
        fetched_at: now(),
        ..Default::default()
    })));
    let text = snap(&app, 200, 35).replace("⏰ ", "⏰");
    assert!(text.contains("⏸300"), "{text}");
    assert!(text.contains("⏰ finish"), "{text}");
}

/// The hold pane takes what happens at the end of its duration: its
/// pending messages go out (release) or are cancelled; cancel needs a
/// duration.
#[test]
fn the_hold_pane_chooses_what_happens_when_it_runs_out() {
    let mut app = channels_app(false);
    press(&mut app, &[KeyCode::Down, KeyCode::Down, KeyCode::Down]);
    press(&mut app, &[KeyCode::Char('h'), KeyCode::Tab]);
    for _ in 0..7 {
        press(&mut app, &[KeyCode::Backspace]);
    }
    type_text(&mut app, "cancel");
    // No duration: refused with a hint.
    assert!(holds(&press(&mut app, &[KeyCode::Enter])).is_empty());
    let hint = app.hold_pane().unwrap().hint.clone().unwrap_or_default();
    assert!(hint.contains("needs a duration"), "{hint}");
    press(&mut app, &[KeyCode::BackTab]);
    type_text(&mut app, "4h");
    let text = snap(&app, 100, 30);
    assert!(
        text.contains("Then (release or cancel its pending): [cancel"),
        "{text}"
    );
    let effects = press(&mut app, &[KeyCode::Enter]);
    assert_eq!(
        holds(&effects),
        vec![Effect::HoldAction {
            action: "webhook:crm".into(),
            for_ms: Some(4 * 3_600_000),
            on_expiry: journeyctl::store::HoldExpiry::Cancel,
            reason: None
        }]
    );
    assert_eq!(
        app.last_cli.as_deref(),
        Some("journeyctl hold --action webhook:crm --for 4h --on-expiry cancel --yes")
    );
}

/// The resume pane says what the resume releases per action and how long
/// that takes at the channel's rate, for the overdue choice typed.
#[test]
fn the_resume_pane_says_what_goes_out_and_how_long_it_takes() {
    use journeyctl::domain::forecast::{ActionForecast, Release};
    let mut versions = fixture();
    versions[0].paused = Some(PausedSummary {
        since: "2026-11-21T10:00:00Z".into(),
        until: "2026-11-24T10:00:00Z".into(),
        on_expiry: "stop".into(),
        by: "alice".into(),
        reason: None,
        incident: None,
        since_ms: now() - 2 * 3_600_000,
        until_ms: now() + 70 * 3_600_000,
    });
    let mut app = App::new(ctx(false), now());
    app.update(Msg::Data(Box::new(Snapshot {
        versions: versions.clone(),
        fetched_at: now(),
        ..Default::default()
    })));
    press(&mut app, &[KeyCode::Char('r')]);
    let want = app.want().impact.expect("the resume's impact is fetched");
    let release = vec![Release {
        forecast: ActionForecast {
            action: "email:we-miss-you".into(),
            pending: 4_000,
            at_once: 4_200,
            next_15m: 5_000,
            next_1h: 9_000,
            next_24h: 20_000,
        },
        rate: Some(journeyctl::domain::rate::Rate::parse("50/s").unwrap()),
    }];
    app.update(Msg::Data(Box::new(Snapshot {
        versions,
        impact: Some((
            want,
            Ok(Impact {
                versions: vec![],
                release,
            }),
        )),
        fetched_at: now(),
        ..Default::default()
    })));
    let text = snap(&app, 120, 35);
    assert!(
        text.contains("email:we-miss-you: 4,200 at once, at 50/s: 1m24s; 9,000 within the hour"),
        "{text}"
    );
    press(&mut app, &[KeyCode::Tab]);
    press(&mut app, &[KeyCode::Backspace; 4]);
    type_text(&mut app, "spread=30m");
    let text = snap(&app, 120, 35);
    assert!(text.contains("4,200 spread over 30m (2.3/s)"), "{text}");
}

/// In a journey's detail, `d` disables an A/B arm and `w` picks one as
/// the winner, each behind a pane (← → choose the arm); elsewhere they
/// say where they work.
#[test]
fn d_and_w_choose_an_ab_arm_by_hand_in_the_detail() {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('d')]);
    assert!(app.arm_pane().is_none());
    assert!(
        app.notice
            .clone()
            .unwrap_or_default()
            .contains("journey's detail")
    );
    let mut app = detail_app();
    press(
        &mut app,
        &[KeyCode::Char('d'), KeyCode::Right, KeyCode::Tab],
    );
    type_text(&mut app, "dead link");
    let text = snap(&app, 120, 35);
    assert!(
        text.contains("A/B by hand: cart-recovery v2 test subject-line"),
        "{text}"
    );
    assert!(text.contains("▸ B (20,000) ◂"), "{text}");
    let effects = press(&mut app, &[KeyCode::Tab, KeyCode::Enter]);
    assert!(
        effects.contains(&Effect::ChooseVariant {
            journey: "cart-recovery".into(),
            version: 2,
            variant: "B".into(),
            choice: journeyctl::store::VariantChoice::Disable,
            reason: Some("dead link".into()),
        }),
        "{effects:?}"
    );
    assert_eq!(
        app.last_cli.as_deref(),
        Some("journeyctl variant cart-recovery --version 2 --disable B --reason 'dead link' --yes")
    );
    app.update(Msg::ArmDone(Ok("cart-recovery v2: B disabled".into())));
    assert!(snap(&app, 120, 35).contains("✓ cart-recovery v2: B disabled"));
    // w: the winner, Esc leaves it.
    press(&mut app, &[KeyCode::Enter, KeyCode::Char('w')]);
    assert!(snap(&app, 120, 35).contains("not a statistical result"));
    press(&mut app, &[KeyCode::Esc]);
    assert!(app.arm_pane().is_none());
}

/// `/` on the audit screen filters its rows: `actor:`, `action:`, words,
/// `!` to exclude; the title says how many of how many.
#[test]
fn the_audit_screen_filters_by_actor_action_and_words() {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('a')]);
    app.update(Msg::Data(Box::new(Snapshot {
        versions: fixture(),
        audit: Some(detail_fixture().audit),
        fetched_at: now(),
        ..Default::default()
    })));
    press(&mut app, &[KeyCode::Char('/')]);
    type_text(&mut app, "actor:mallory");
    press(&mut app, &[KeyCode::Enter]);
    let text = snap(&app, 120, 12);
    assert!(text.contains("1 of 2 entries (/ actor:mallory)"), "{text}");
    assert!(text.contains("wrong coupon"), "{text}");
    assert!(!text.contains("publish"), "{text}");
    for (filter, shown) in [
        ("action:publish", 1),
        ("!action:publish", 1),
        ("coupon", 1),
        ("action:stop actor:bob", 0),
    ] {
        press(&mut app, &[KeyCode::Char('/')]);
        press(&mut app, &[KeyCode::Backspace; 40]);
        type_text(&mut app, filter);
        press(&mut app, &[KeyCode::Enter]);
        assert_eq!(app.visible_audit().len(), shown, "{filter}");
    }
}

/// `n` leaves a note on the selected version, `m` claims it (and gives
/// back your own claim); the row shows `◆ bob ✎ 1`, and a pane on a
/// version someone else claims says so first.
#[test]
fn n_notes_m_claims_and_a_pane_says_whose_it_is() {
    use journeyctl::store::{Claim, Note};
    let mut versions = fixture();
    versions[0].claim = Some(Claim {
        by: "bob".into(),
        until: String::new(),
        reason: Some("CRM ticket 123".into()),
        until_ms: now() + 80 * 60_000,
    });
    versions[0].notes = vec![Note {
        at: String::new(),
        by: "bob".into(),
        text: "do not resume before 14:00".into(),
        at_ms: now() - 60_000,
    }];
    let mut app = App::new(ctx(false), now());
    app.update(Msg::Data(Box::new(Snapshot {
        versions: versions.clone(),
        fetched_at: now(),
        ..Default::default()
    })));
    app.take_effects();
    let text = snap(&app, 200, 12);
    assert!(text.contains("◆ bob ✎ 1"), "{text}");
    // A pane on bob's version says so first.
    press(&mut app, &[KeyCode::Char('f')]);
    let want = app.want().impact.unwrap();
    app.update(Msg::Data(Box::new(Snapshot {
        versions: versions.clone(),
        impact: Some((
            want,
            Ok(Impact {
                versions: vec![VersionImpact {
                    journey: "cart-recovery".into(),
                    version: 2,
                    status: VersionStatus::Live,
                    active: 10,
                    pending: 0,
                    uncertain: 0,
                    sent_waiting: None,
                    overdue: 0,
                    overdue_since: None,
                }],
                release: vec![],
            }),
        )),
        fetched_at: now(),
        ..Default::default()
    })));
    let text = snap(&app, 120, 35);
    assert!(
        text.contains("◆ cart-recovery v2 is claimed by bob for 1h: \"CRM ticket 123\""),
        "{text}"
    );
    press(&mut app, &[KeyCode::Esc]);
    // n: a note.
    press(&mut app, &[KeyCode::Char('n')]);
    type_text(&mut app, "CRM back at 15:00");
    let effects = press(&mut app, &[KeyCode::Enter]);
    assert!(effects.contains(&Effect::Note {
        journey: "cart-recovery".into(),
        version: 2,
        text: "CRM back at 15:00".into(),
    }));
    app.update(Msg::TeamDone(Ok("noted on cart-recovery v2".into())));
    press(&mut app, &[KeyCode::Enter]);
    // m: a claim for 2h, why.
    press(&mut app, &[KeyCode::Char('m')]);
    press(&mut app, &[KeyCode::Backspace; 4]);
    type_text(&mut app, "2h");
    press(&mut app, &[KeyCode::Tab]);
    type_text(&mut app, "taking over");
    let effects = press(&mut app, &[KeyCode::Enter]);
    assert!(
        effects.contains(&Effect::Claim {
            journey: "cart-recovery".into(),
            version: 2,
            for_ms: 7_200_000,
            reason: Some("taking over".into()),
        }),
        "{effects:?}"
    );
    // alice's own claim: m gives it back, no pane.
    versions[0].claim.as_mut().unwrap().by = "alice".into();
    let mut app = App::new(ctx(false), now());
    app.update(Msg::Data(Box::new(Snapshot {
        versions,
        fetched_at: now(),
        ..Default::default()
    })));
    let effects = press(&mut app, &[KeyCode::Char('m')]);
    assert!(effects.contains(&Effect::Unclaim {
        journey: "cart-recovery".into(),
        version: 2,
    }));
    assert!(app.team_pane().is_none());
}

/// The detail screen marks what operators did under its sparklines: each
/// cell shows the letter of its minutes' acts (the hour at 2 minutes a
/// cell at 120 columns: the publish at 11:15, the pause at 11:40 and the
/// note at 11:42 in cells of their own), and the key of the letters shown
/// sits on the panel's lower edge.
#[test]
fn detail_marks_what_operators_did_on_the_trends() {
    let text = snap(&detail_app(), 120, 35);
    let row = text
        .lines()
        .find(|l| l.starts_with("│operators"))
        .unwrap_or_else(|| panic!("no marker row:\n{text}"));
    let hour: String = row.chars().skip(11).take(30).collect();
    assert_eq!(hour.find('P'), Some(7), "{row}");
    assert_eq!(hour.find("pn"), Some(19), "{row}");
    assert!(
        text.contains("└ P publish · p pause · t rate · n note · + several "),
        "{text}"
    );
    // Without acts in the 48 hours, no marker row and no key.
    let mut app = detail_app();
    if let Some(d) = app.detail.as_mut() {
        d.versions[0].events.clear();
    }
    let text = snap(&app, 120, 35);
    assert!(!text.contains("operators"), "{text}");
    assert!(!text.contains("P publish · "), "{text}");
}

/// `A` (four eyes): the pane reads the requests waiting for approval,
/// ↑↓ chooses one, Enter approves it through the same call as `journeyctl
/// approve ID`, and the pane says what was carried out; read-only, `A`
/// only explains.
#[test]
fn a_lists_the_requests_and_enter_approves_one() {
    let request = |id: i64, what: &str| journeyctl::store::Request {
        id,
        action: "resume".into(),
        what: what.into(),
        journey: Some("cart-recovery".into()),
        version: Some(2),
        asked_by: "alice".into(),
        asked_at: "2026-11-21T11:50:00Z".into(),
        expires_at: "2026-11-21T12:50:00Z".into(),
        reason: Some("CRM back".into()),
        state: "open".into(),
        approved_by: None,
        approved_at: None,
        asked_login: None,
        approved_login: None,
        expires_ms: now() + 50 * 60_000,
    };
    let mut app = loaded(false);
    let effects = press(&mut app, &[KeyCode::Char('A')]);
    assert!(effects.contains(&Effect::LoadApprovals), "{effects:?}");
    app.update(Msg::ApprovalsLoaded(Ok(vec![
        request(4, "resume cart-recovery v2"),
        request(5, "publish welcome"),
    ])));
    let text = snap(&app, 100, 30);
    assert!(text.contains("requests waiting for approval"), "{text}");
    assert!(
        text.contains("▶ #4 resume cart-recovery v2 · asked by alice · expires in 50m"),
        "{text}"
    );
    assert!(text.contains("\"CRM back\""), "{text}");
    let effects = press(&mut app, &[KeyCode::Down, KeyCode::Enter]);
    assert!(effects.contains(&Effect::Approve { id: 5 }), "{effects:?}");
    assert_eq!(app.last_cli.as_deref(), Some("journeyctl approve 5 --yes"));
    app.update(Msg::ApproveDone(Ok(
        "approved #5: publish welcome (asked by alice), carried out by bob".into(),
    )));
    assert!(snap(&app, 100, 30).contains("✓ approved #5: publish welcome"));
    press(&mut app, &[KeyCode::Enter]);
    assert!(app.approve_pane().is_none());
    // Nothing waits: it says so.
    press(&mut app, &[KeyCode::Char('A')]);
    app.update(Msg::ApprovalsLoaded(Ok(vec![])));
    assert!(snap(&app, 100, 30).contains("no request waits for approval"));
    // A pane whose action became a request says so, not "refused".
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('f')]);
    press(&mut app, &[KeyCode::Char('y')]);
    app.update(Msg::ActionDone(Err(journeyctl::store::Error::Requested(
        Box::new(request(6, "resume cart-recovery v2")),
    ))));
    let text = snap(&app, 120, 35);
    assert!(
        text.contains("⧗ resume cart-recovery v2 needs another operator's approval"),
        "{text}"
    );
    assert!(!text.contains("✗ refused"), "{text}");
    // Read-only: A does nothing and says why.
    let mut app = loaded(true);
    let effects = press(&mut app, &[KeyCode::Char('A')]);
    assert!(!effects.contains(&Effect::LoadApprovals));
    assert!(app.approve_pane().is_none());
}

/// On a screen too short for every key, the help scrolls: its title says
/// how much is below, ↓ and PgDn bring the last rows into view, and any
/// other key closes it.
#[test]
fn the_help_scrolls_on_a_short_screen() {
    let mut app = loaded(false);
    press(&mut app, &[KeyCode::Char('?')]);
    let text = snap(&app, 80, 16);
    assert!(text.contains("more below · ↓"), "{text}");
    assert!(!text.contains("any other key closes this help"), "{text}");
    press(
        &mut app,
        &[KeyCode::PageDown, KeyCode::PageDown, KeyCode::Down],
    );
    let text = snap(&app, 80, 16);
    assert!(text.contains("Keys (↑ above)"), "{text}");
    assert!(text.contains("any other key closes this help"), "{text}");
    assert!(
        matches!(app.mode, journeyctl::tui::app::Mode::Help),
        "the moving keys keep it open"
    );
    press(&mut app, &[KeyCode::Char('x')]);
    assert!(!matches!(app.mode, journeyctl::tui::app::Mode::Help));
    // Tall enough: no scrolling, as before.
    press(&mut app, &[KeyCode::Char('?')]);
    assert!(snap(&app, 120, 35).contains("Any key closes this help."));
}

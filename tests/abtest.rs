//! A live split reaches a stored decision, later entrants get the winner,
//! and later conversions never flip it: on SQLite and PostgreSQL.

mod common;

use common::*;
use journeyctl::domain::abtest::VerdictKind;

/// A journey whose first step is a two-variant test on `purchase`.
fn split(journey: &str, test: &str, min_per_variant: u64) -> journeyctl::domain::Definition {
    def(&format!(
        r#"
name = "{journey}"
goal = "purchase"

[[steps]]
kind = "split"
test = "{test}"
expected_participants = 2000
min_per_variant = {min_per_variant}
variants = [
  {{ name = "A", weight = 50, action = "email:{test}-a" }},
  {{ name = "B", weight = 50, action = "email:{test}-b" }},
]

[[steps]]
kind = "wait"
duration = "3d"
"#
    ))
}

both_backends!(
    a_live_split_reaches_a_stored_decision_that_never_flips,
    |ts| {
        let s = &ts.store;
        publish(s, &split("cart-recovery", "subject-line", 100), at(0)).await;
        let entries: Vec<_> = (0..3000)
            .map(|i| enter("cart-recovery", &format!("p-{i}"), at(0)))
            .collect();
        s.ingest(&entries).await.unwrap();
        s.tick(at(1)).await.unwrap();
        let v = summary(s, "cart-recovery", 1).await;
        let ab = v.ab.clone().unwrap();
        assert_eq!(ab.verdict, VerdictKind::NoWinnerYet);
        let assigned: i64 = ab.variants.iter().map(|x| x.assigned).sum();
        assert_eq!(assigned, 3000);
        // B converts at 20%, A at 5%.
        let mut goals = Vec::new();
        for p in s_profiles(3000) {
            let entry = &s.profile(&p).await.unwrap()[0];
            let variant = entry.variant.clone().unwrap();
            let n: u64 = p[2..].parse().unwrap();
            let converts = if variant == "B" {
                n.is_multiple_of(5)
            } else {
                n.is_multiple_of(20)
            };
            if converts {
                goals.push(goal(&p, "purchase", at(2)));
            }
        }
        s.ingest(&goals).await.unwrap();
        let v = summary(s, "cart-recovery", 1).await;
        let ab = v.ab.clone().unwrap();
        assert_eq!(ab.verdict, VerdictKind::Winner, "{ab:?}");
        assert_eq!(ab.winner.as_deref(), Some("B"));
        let decided_at = ab.decided_at.clone().unwrap();
        assert_eq!(decided_at, "2026-11-21T10:02:00Z");
        assert!(ab.p_value.unwrap() < 0.05);
        // What is shown is the decision's own stored figures.
        let (stored_p, figures): (f64, String) =
            sqlx::query_as("SELECT p_value, figures FROM ab_decisions")
                .fetch_one(s.pool())
                .await
                .unwrap();
        let figures: serde_json::Value = serde_json::from_str(&figures).unwrap();
        assert_eq!(ab.p_value, Some(stored_p));
        assert_eq!(
            serde_json::to_value(&ab.pairs).unwrap(),
            figures["pairs"],
            "the pairs shown are the decision's"
        );
        assert_eq!(
            serde_json::to_value(ab.at_decision.as_ref().unwrap()).unwrap(),
            figures["variants"]
        );
        let decided_pairs = ab.pairs.clone();
        // `verdict JOURNEY` shows the same as `list`.
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_journeyctl"))
            .env("DATABASE_URL", &ts.url)
            .args(["verdict", "cart-recovery", "--json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(shown, serde_json::to_value(&ab).unwrap());
        // Later entrants all get the winner.
        let later: Vec<_> = (0..200)
            .map(|i| enter("cart-recovery", &format!("late-{i}"), at(3)))
            .collect();
        s.ingest(&later).await.unwrap();
        s.tick(at(4)).await.unwrap();
        for i in 0..200 {
            let e = &s.profile(&format!("late-{i}")).await.unwrap()[0];
            assert_eq!(e.variant.as_deref(), Some("B"), "late-{i}");
        }
        // A flood of A conversions does not flip the stored verdict.
        let mut flood = Vec::new();
        for p in s_profiles(3000) {
            let entry = &s.profile(&p).await.unwrap()[0];
            if entry.variant.as_deref() == Some("A") && !entry.converted {
                flood.push(goal(&p, "purchase", at(5)));
            }
        }
        s.ingest(&flood).await.unwrap();
        let ab = summary(s, "cart-recovery", 1).await.ab.unwrap();
        assert_eq!(ab.verdict, VerdictKind::Winner);
        assert_eq!(ab.winner.as_deref(), Some("B"));
        assert_eq!(ab.decided_at.as_deref(), Some(decided_at.as_str()));
        assert_eq!(ab.pairs, decided_pairs, "a decision's figures never change");
        let a = ab.variants.iter().find(|x| x.name == "A").unwrap();
        let b = ab.variants.iter().find(|x| x.name == "B").unwrap();
        assert!(a.converted as f64 / a.assigned as f64 > b.converted as f64 / b.assigned as f64);
        // `verdict` in words puts the decision's counts beside its
        // interval and p-value; today's are said apart, as observed.
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_journeyctl"))
            .env("DATABASE_URL", &ts.url)
            .args(["verdict", "cart-recovery"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}");
        let before = ab.at_decision.as_ref().unwrap();
        let a0 = before.iter().find(|x| x.name == "A").unwrap();
        let row = text.lines().find(|l| l.starts_with("A ")).unwrap();
        assert!(
            row.contains(&format!("{}/{}", a0.converted, a0.assigned)),
            "{text}"
        );
        assert!(!row.contains(&format!("{}/", a.converted)), "{text}");
        assert!(
            text.contains("counts at the decision, 2026-11-21T10:02:00Z"),
            "{text}"
        );
        assert!(
            text.contains("since the decision (observed, not a test): "),
            "{text}"
        );
    }
);

fn s_profiles(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("p-{i}")).collect()
}

both_backends!(
    the_running_figures_of_a_live_test_never_widen_between_looks,
    |ts| {
        let s = &ts.store;
        publish(s, &split("aa-test", "same-thing", 50), at(0)).await;
        let mut kept: Option<journeyctl::domain::abtest::PairResult> = None;
        let mut looks = 0;
        let mut widened_fresh = false;
        for round in 0..12i64 {
            let entries: Vec<_> = (0..150)
                .map(|i| enter("aa-test", &format!("r{round}-{i}"), at(round * 10)))
                .collect();
            s.ingest(&entries).await.unwrap();
            s.tick(at(round * 10 + 1)).await.unwrap();
            // Every 12th participant converts, whichever the variant: now
            // and then a round makes one variant look better by chance.
            let goals: Vec<_> = (0..150)
                .filter(|i| (i * 7 + round * 3) % 12 == 0 || (round % 3 == 0 && i % 9 == 0))
                .map(|i| goal(&format!("r{round}-{i}"), "purchase", at(round * 10 + 2)))
                .collect();
            s.ingest(&goals).await.unwrap();
            let ab = summary(s, "aa-test", 1).await.ab.unwrap();
            assert!(ab.looks > looks, "the engine looked again");
            looks = ab.looks;
            assert_ne!(ab.verdict, VerdictKind::Winner);
            let now = ab.pairs[0].clone();
            // A fresh computation on today's counts may widen again.
            let arms: Vec<_> = ab
                .variants
                .iter()
                .map(|v| {
                    journeyctl::domain::abtest::Arm::new(
                        &v.name,
                        v.converted as u64,
                        v.assigned as u64,
                    )
                })
                .collect();
            let fresh = journeyctl::domain::abtest::verdict(&arms, 2000, 50).pairs[0].clone();
            if let Some(before) = &kept {
                assert!(now.p_value <= before.p_value, "round {round}: p rose");
                assert!(now.cs_lower >= before.cs_lower, "round {round}: lower fell");
                assert!(now.cs_upper <= before.cs_upper, "round {round}: upper rose");
                widened_fresh |= fresh.p_value > before.p_value
                    || fresh.cs_lower < before.cs_lower
                    || fresh.cs_upper > before.cs_upper;
            }
            assert!(now.p_value <= fresh.p_value);
            kept = Some(now);
        }
        assert!(
            widened_fresh,
            "no fresh look ever widened: the scenario does not exercise the running figures"
        );
    }
);

/// `a` people bound for variant A and `b` for B of `test` (50/50): the
/// engine's own assignment picks them, so the counts are what it records.
fn bound(journey: &str, test: &str, a: usize, b: usize) -> Vec<String> {
    let (mut to_a, mut to_b) = (Vec::new(), Vec::new());
    for i in 0.. {
        let p = format!("{journey}-{i}");
        match journeyctl::domain::rng::assign_variant(&p, test, &[50, 50]) {
            0 if to_a.len() < a => to_a.push(p),
            1 if to_b.len() < b => to_b.push(p),
            _ => {}
        }
        if to_a.len() == a && to_b.len() == b {
            break;
        }
    }
    to_a.into_iter().chain(to_b).collect()
}

both_backends!(
    a_split_far_from_its_weights_is_marked_and_never_decides,
    |ts| {
        let s = &ts.store;
        // The same clear difference (B converts at 20%, A at 5%) on two
        // journeys: one split 2,200/2,200, one 2,000/2,400 under 50/50
        // weights (chi-square 36.4, p = 1.6e-9).
        for (journey, a, b) in [("even", 2200, 2200), ("skewed", 2000, 2400)] {
            publish(s, &split(journey, "subject", 100), at(0)).await;
            let people = bound(journey, "subject", a, b);
            let entries: Vec<_> = people.iter().map(|p| enter(journey, p, at(0))).collect();
            s.ingest(&entries).await.unwrap();
            s.tick(at(1)).await.unwrap();
            let goals: Vec<_> = people
                .iter()
                .enumerate()
                .filter(|(i, _)| if *i < a { i % 20 == 0 } else { i % 5 == 0 })
                .map(|(_, p)| goal(p, "purchase", at(2)))
                .collect();
            s.ingest(&goals).await.unwrap();
        }
        let even = summary(s, "even", 1).await.ab.unwrap();
        assert_eq!(even.verdict, VerdictKind::Winner, "{even:?}");
        assert_eq!(even.srm, None);
        let skewed = summary(s, "skewed", 1).await;
        let ab = skewed.ab.clone().unwrap();
        assert_ne!(ab.verdict, VerdictKind::Winner, "{ab:?}");
        assert_eq!(ab.winner, None);
        let srm = ab.srm.clone().expect("the skewed split is marked");
        assert!(srm.p_value < 1e-8 && srm.p_value > 1e-10, "{}", srm.p_value);
        let decided: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ab_decisions")
            .fetch_one(s.pool())
            .await
            .unwrap();
        assert_eq!(decided, 1, "only the even split's winner is stored");
        // As `list --json` shows it.
        let json = serde_json::to_value(&skewed).unwrap();
        assert_eq!(json["ab"]["srm"]["observed"]["A"], 2000);
        assert_eq!(json["ab"]["srm"]["observed"]["B"], 2400);
        assert_eq!(json["ab"]["srm"]["expected"]["B"], 2200.0);
        assert_eq!(journeyctl::present::ab_label(skewed.ab.as_ref()), "⚠ SRM");
    }
);

both_backends!(a_goal_target_is_met_once_enough_people_reach_it, |ts| {
    let s = &ts.store;
    let d = def(r#"
name = "welcome"
goal = "purchase"
goal_target = "20%"
[[steps]]
kind = "wait"
duration = "3d"
"#);
    publish(s, &d, at(0)).await;
    let entries: Vec<_> = (0..60)
        .map(|i| enter("welcome", &format!("w-{i}"), at(0)))
        .collect();
    s.ingest(&entries).await.unwrap();
    let goals: Vec<_> = (0..30)
        .map(|i| goal(&format!("w-{i}"), "purchase", at(1)))
        .collect();
    s.ingest(&goals).await.unwrap();
    let v = summary(s, "welcome", 1).await;
    assert_eq!(v.goal_target, Some(0.2));
    assert_eq!(v.goal_met, Some(false), "50% of 60 people: fewer than 100");
    let more: Vec<_> = (60..140)
        .map(|i| enter("welcome", &format!("w-{i}"), at(2)))
        .collect();
    s.ingest(&more).await.unwrap();
    let v = summary(s, "welcome", 1).await;
    assert_eq!(v.goal_met, Some(true), "30 of 140 = 21.4%");
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["goal_target"], 0.2);
    assert_eq!(json["goal_met"], true);
    let more: Vec<_> = (140..200)
        .map(|i| enter("welcome", &format!("w-{i}"), at(3)))
        .collect();
    s.ingest(&more).await.unwrap();
    let v = summary(s, "welcome", 1).await;
    assert_eq!(v.goal_met, Some(false), "30 of 200 = 15%");
});

#[test]
fn a_goal_target_is_a_percentage_of_a_goal() {
    let base = "name = \"x\"\n[[steps]]\nkind = \"wait\"\nduration = \"1d\"\n";
    for (extra, err) in [
        ("goal_target = \"20%\"\n", "goal_target needs a goal"),
        ("goal = \"buy\"\ngoal_target = \"120%\"\n", "at most 100%"),
        ("goal = \"buy\"\ngoal_target = \"0%\"\n", "above 0%"),
        (
            "goal = \"buy\"\ngoal_target = \"0.2\"\n",
            "a percentage such as",
        ),
    ] {
        let e = journeyctl::domain::Definition::from_toml(&format!("{extra}{base}")).unwrap_err();
        assert!(e.contains(err), "{extra}: {e}");
    }
}

// The goal target is met at exactly its rate, once exactly enough people
// (100 without a split) entered; one fewer of either is not.
#[test]
fn a_goal_target_is_met_at_its_boundary() {
    let d = def("name = \"g\"\ngoal = \"purchase\"\ngoal_target = \"20%\"\n\
         [[steps]]\nkind = \"wait\"\nduration = \"1d\"\n");
    assert_eq!(d.goal_met(100, 20), Some(true), "20 of 100 is 20%");
    assert_eq!(d.goal_met(100, 19), Some(false), "19 of 100");
    assert_eq!(d.goal_met(99, 99), Some(false), "99 people: fewer than 100");
    assert_eq!(d.goal_met(1000, 200), Some(true));
    assert_eq!(d.goal_met(1000, 199), Some(false));
}

// A split's `min_per_variant`: a verdict with exactly that many people in
// each variant is decided; with one fewer it is still collecting.
#[test]
fn min_per_variant_holds_at_its_boundary() {
    use journeyctl::domain::abtest::{Arm, look_counts, verdict};
    let arms = [Arm::new("A", 10, 100), Arm::new("B", 60, 100)];
    let at = verdict(&arms, 0, 100);
    assert_ne!(at.verdict, VerdictKind::Collecting, "{at:?}");
    assert_eq!(at.winner.as_deref(), Some("B"));
    assert!(look_counts(&arms, 100));
    let short = verdict(&arms, 0, 101);
    assert_eq!(short.verdict, VerdictKind::Collecting, "{short:?}");
    assert!(!look_counts(&arms, 101));
}

//! A live split reaches a stored decision, later entrants get the winner,
//! and later conversions never flip it: on SQLite and PostgreSQL.

mod common;

use common::*;
use journeyctl::domain::abtest::VerdictKind;

const SPLIT: &str = r#"
name = "cart-recovery"
goal = "purchase"

[[steps]]
kind = "split"
test = "subject-line"
expected_participants = 2000
min_per_variant = 100
variants = [
  { name = "A", weight = 50, action = "email:subject-a" },
  { name = "B", weight = 50, action = "email:subject-b" },
]

[[steps]]
kind = "wait"
duration = "3d"
"#;

both_backends!(
    a_live_split_reaches_a_stored_decision_that_never_flips,
    |ts| {
        let s = &ts.store;
        publish(s, &def(SPLIT), at(0)).await;
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
        let a = ab.variants.iter().find(|x| x.name == "A").unwrap();
        let b = ab.variants.iter().find(|x| x.name == "B").unwrap();
        assert!(a.converted as f64 / a.assigned as f64 > b.converted as f64 / b.assigned as f64);
    }
);

fn s_profiles(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("p-{i}")).collect()
}

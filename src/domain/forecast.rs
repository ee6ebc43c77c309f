//! What will go out next (a send forecast): from where each active
//! participant stands and when it is due, the messages each action will
//! send in the next 15 minutes, hour and day. Messages pending now count
//! in all three.

use super::Step;
use super::time::Millis;

/// The windows of a forecast: 15 minutes, an hour, a day.
pub const WINDOWS: [Millis; 3] = [900_000, 3_600_000, 86_400_000];

/// A message a participant standing before a step will send, how long
/// after it is due, and its share (a split's arm: its weight's share).
#[derive(Debug, Clone, PartialEq)]
pub struct Emission {
    pub action: String,
    pub after_ms: Millis,
    pub share: f64,
}

/// The messages sent by a participant standing before step `from`
/// (0-based), within `horizon` of its due time: steps run in order, waits
/// add their time, a split sends each arm's action by its weight (only the
/// winner's once one is decided; none to an arm an operator disabled).
pub fn emissions(
    steps: &[Step],
    from: usize,
    horizon: Millis,
    (decided, disabled): (Option<&str>, &[String]),
) -> Vec<Emission> {
    let mut out = Vec::new();
    let mut after = 0;
    for step in steps.iter().skip(from) {
        if after > horizon {
            break;
        }
        match step {
            Step::Message { action } => out.push(Emission {
                action: action.clone(),
                after_ms: after,
                share: 1.0,
            }),
            Step::Wait { millis, .. } => after = after.saturating_add(*millis),
            Step::Split(split) => {
                let winner = decided.filter(|w| split.variants.iter().any(|v| v.name == *w));
                let weight = |v: &super::Variant| {
                    if disabled.contains(&v.name) {
                        0.0
                    } else {
                        f64::from(v.weight)
                    }
                };
                let total: f64 = split.variants.iter().map(weight).sum();
                for v in &split.variants {
                    let share = match winner {
                        Some(w) if v.name == w => 1.0,
                        Some(_) => 0.0,
                        None if total > 0.0 => weight(v) / total,
                        None => 0.0,
                    };
                    if share > 0.0 {
                        out.push(Emission {
                            action: v.action.clone(),
                            after_ms: after,
                            share,
                        });
                    }
                }
            }
        }
    }
    out
}

/// One action's forecast.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ActionForecast {
    pub action: String,
    /// Pending now (counted in every window).
    pub pending: i64,
    /// What goes out as soon as it may: pending now, and what participants
    /// already due send at once (for a paused version: what a resume
    /// releases at once).
    pub at_once: i64,
    pub next_15m: i64,
    pub next_1h: i64,
    pub next_24h: i64,
}

/// What a resume of paused versions releases of one action, summed over
/// them, and the rate its channel goes at (`None`: no limit known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub forecast: ActionForecast,
    pub rate: Option<super::rate::Rate>,
}

impl Release {
    /// How long the messages released at once take to go out at the
    /// channel's rate.
    pub fn drain_ms(&self) -> Option<Millis> {
        let rate = self.rate?;
        let window = i64::try_from(rate.window.as_millis()).ok()?;
        (rate.count > 0).then(|| self.forecast.at_once.saturating_mul(window) / rate.count)
    }
}

/// Active participants standing before step `step`, `count` of them due
/// `due_in` from now (0 or less: due already).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub step: usize,
    pub due_in: Millis,
    pub count: i64,
}

/// Every action's forecast, by action name.
pub fn tally(
    steps: &[Step],
    decided: (Option<&str>, &[String]),
    standing: &[Standing],
    pending: &[(String, i64)],
) -> Vec<ActionForecast> {
    use std::collections::BTreeMap;
    // at once, 15m, 1h, 24h, in shares of a participant.
    let mut sums: BTreeMap<String, [f64; 4]> = BTreeMap::new();
    let horizon = WINDOWS[2];
    for s in standing {
        let due = s.due_in.max(0);
        for e in emissions(steps, s.step, horizon, decided) {
            let at = due.saturating_add(e.after_ms);
            let n = e.share * s.count as f64;
            let row = sums.entry(e.action).or_default();
            if at == 0 {
                row[0] += n;
            }
            for (k, window) in WINDOWS.iter().enumerate() {
                if at <= *window {
                    row[k + 1] += n;
                }
            }
        }
    }
    for (action, _) in pending {
        sums.entry(action.clone()).or_default();
    }
    sums.into_iter()
        .map(|(action, [now, m15, h1, d1])| {
            let p = pending
                .iter()
                .filter(|(a, _)| *a == action)
                .map(|(_, n)| *n)
                .sum::<i64>();
            let r = |x: f64| x.round() as i64 + p;
            ActionForecast {
                pending: p,
                at_once: r(now),
                next_15m: r(m15),
                next_1h: r(h1),
                next_24h: r(d1),
                action,
            }
        })
        .filter(|f| f.next_24h > 0 || f.pending > 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Definition;

    fn steps() -> Vec<Step> {
        Definition::from_toml(
            "name = \"sale\"\n\
             [[steps]]\nkind = \"message\"\naction = \"email\"\n\
             [[steps]]\nkind = \"wait\"\nduration = \"30m\"\n\
             [[steps]]\nkind = \"split\"\ntest = \"t\"\nvariants = [\n\
             { name = \"A\", weight = 75, action = \"sms:a\" },\n\
             { name = \"B\", weight = 25, action = \"sms:b\" },\n]\n\
             [[steps]]\nkind = \"wait\"\nduration = \"1d\"\n\
             [[steps]]\nkind = \"message\"\naction = \"email\"\n",
        )
        .unwrap()
        .steps
    }

    #[test]
    fn each_window_counts_what_falls_in_it_and_pending_in_all() {
        let standing = [
            // 100 due now at the first step: email now, a split in 30m.
            Standing {
                step: 0,
                due_in: -5_000,
                count: 100,
            },
            // 40 waiting, due in 20m, then the split.
            Standing {
                step: 2,
                due_in: 1_200_000,
                count: 40,
            },
        ];
        let f = tally(&steps(), (None, &[]), &standing, &[("email".into(), 7)]);
        let of = |a: &str| f.iter().find(|x| x.action == a).unwrap().clone();
        assert_eq!(
            of("email"),
            ActionForecast {
                action: "email".into(),
                pending: 7,
                at_once: 107,
                next_15m: 107,
                next_1h: 107,
                next_24h: 107,
            }
        );
        // sms:a: 75% of 40 in 20m, and of 100 in 30m.
        let a = of("sms:a");
        assert_eq!(
            (a.at_once, a.next_15m, a.next_1h, a.next_24h),
            (0, 0, 105, 105)
        );
        let b = of("sms:b");
        assert_eq!((b.next_15m, b.next_1h), (0, 35));
        // Once A is decided, everyone reaching the split gets A.
        let f = tally(&steps(), (Some("A"), &[]), &standing, &[]);
        assert!(f.iter().all(|x| x.action != "sms:b"));
        assert_eq!(f.iter().find(|x| x.action == "sms:a").unwrap().next_1h, 140);
        // B disabled by hand: its share goes to A.
        let f = tally(&steps(), (None, &["B".to_string()]), &standing, &[]);
        assert!(f.iter().all(|x| x.action != "sms:b"));
        assert_eq!(f.iter().find(|x| x.action == "sms:a").unwrap().next_1h, 140);
    }

    #[test]
    fn a_long_wait_puts_the_next_message_beyond_the_day() {
        let e = emissions(&steps(), 3, WINDOWS[2], (None, &[]));
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].after_ms, 86_400_000);
        let f = tally(
            &steps(),
            (None, &[]),
            &[Standing {
                step: 3,
                due_in: 1,
                count: 9,
            }],
            &[],
        );
        assert!(f.is_empty(), "{f:?}");
    }
}

//! The time to draw the main screen with 1,000 versions, off screen.

use std::time::Instant;

use super::T0;
use crate::domain::VersionStatus;
use crate::domain::time::parse_rfc3339;

/// Time to draw the main screen with 1,000 versions, off screen.
pub(super) fn draw_time_ms() -> f64 {
    use crate::tui::app::{App, Context, Msg, Snapshot};
    let now = parse_rfc3339(T0).unwrap_or(0);
    let versions = (0..1000).map(|i| version(i, now)).collect();
    let ctx = Context {
        store: "bench".into(),
        operator: "bench".into(),
        read_only: true,
        banner: None,
        refresh: std::time::Duration::from_secs(2),
        sim_clock: None,
        ..Default::default()
    };
    let mut app = App::new(ctx, now);
    app.update(Msg::Data(Box::new(Snapshot {
        versions,
        fetched_at: now,
        ..Default::default()
    })));
    let theme = crate::tui::theme::Theme { color: true };
    let backend = ratatui::backend::TestBackend::new(120, 35);
    let Ok(mut terminal) = ratatui::Terminal::new(backend);
    let runs = 300;
    let start = Instant::now();
    for k in 0..runs {
        app.selected = k % 1000;
        let _ = terminal.draw(|f| crate::tui::view::draw(f, &app, &theme));
    }
    start.elapsed().as_secs_f64() * 1000.0 / runs as f64
}

/// The bench's version `i`: live, every figure set, a trend of its own.
fn version(i: i64, now: i64) -> crate::store::VersionSummary {
    use crate::store::{Counts, Messages, VersionSummary};
    VersionSummary {
        journey: format!("journey-{i:04}"),
        version: 1,
        status: VersionStatus::Live,
        entry_open: true,
        entry_end_at: None,
        counts: Counts {
            entered: 1000 + i,
            active: 500,
            completed: 400,
            exited: 100 + i % 7,
            stopped: 0,
            converted: 50,
        },
        conversion_rate: Some(0.05),
        messages: Messages::default(),
        ab: None,
        unreadable: None,
        shares_aside: 0,
        as_of: None,
        as_of_ms: None,
        goal: Some("purchase".into()),
        goal_target: Some(0.04),
        goal_met: Some(true),
        status_at: T0.into(),
        status_by: "bench".into(),
        last_activity_at: None,
        status_at_ms: now,
        last_activity_ms: Some(now),
        entry_end_ms: None,
        uses_actions: vec![],
        delivery_failing: false,
        paused: None,
        // Every row draws its trend: a minute series of its own.
        recent: Some(crate::store::Recent {
            hour: (0..60)
                .map(|m| crate::store::minutes::MinuteCounts {
                    entered: (i * 7 + m * 3) % 23,
                    failed: m % 5,
                    ..Default::default()
                })
                .collect(),
            previous_hour: Default::default(),
        }),
        rates: Default::default(),
        scheduled: vec![],
        claim: None,
        notes: vec![],
        id: i,
    }
}

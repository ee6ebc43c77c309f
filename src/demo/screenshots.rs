//! `journeyctl screenshots`: the real console drawn over a freshly
//! simulated demo store, written as SVG and text.

use super::{HOUR, seed};
use crate::domain::time::Millis;
use crate::store::{Store, scratch};

/// `journeyctl screenshots`: renders the real console over a freshly
/// simulated demo store and writes the pictures as SVG.
pub async fn screenshots(out: &std::path::Path) -> anyhow::Result<()> {
    use crate::tui::app::App;
    use crate::tui::theme::Theme;

    std::fs::create_dir_all(out)?;
    let dir = std::env::temp_dir().join(format!("journeyctl-screenshots-{}", std::process::id()));
    let path = dir.join("demo.db");
    let store = scratch::fresh_sqlite(&path).await?;
    let mut sim = seed(store.clone(), 20_000, 60.0, 2026, false).await?;
    // Four simulated hours: the cart-recovery test reaches its verdict.
    let start = sim.clock.sim_start;
    for k in 1..=24 {
        if k == 19 {
            // The CRM starts failing: its messages retry, then fail.
            sim.channels.fail_crm_after(std::time::Duration::ZERO);
        }
        if k > 19 {
            tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        }
        sim.step_to(start + k * 10 * 60_000).await?;
    }
    let now = sim.clock.to_wall(start + 4 * HOUR);
    team_at_work(&store, now).await?;
    // The demo's own console, as `journeyctl demo` opens it, for an
    // operator alice on ops-1, its data just in and live.
    let shown = crate::store::Location::Sqlite(std::path::PathBuf::from(
        "~/.local/share/journeyctl/demo.db",
    ));
    let console = super::demo_console(
        &shown.display(),
        60.0,
        crate::tui::keymap::KeyMap::default(),
        false,
        std::time::Duration::from_secs(2),
    );
    let ctx = crate::tui::context(
        &shown,
        &crate::store::Actor::new("alice", "ops-1"),
        console,
        None,
    );
    let theme = Theme { color: true };
    let mut app = App::new(ctx, now);
    app.update(crate::tui::app::Msg::Live(true));
    load(&store, &mut app, now).await?;
    let write = |name: &str, app: &App| -> anyhow::Result<()> {
        let buf = crate::tui::render(app, &theme, 120, 35);
        std::fs::write(
            out.join(format!("{name}.svg")),
            crate::tui::svg::buffer_svg(&buf),
        )?;
        std::fs::write(
            out.join(format!("{name}.txt")),
            crate::tui::buffer_text(&buf),
        )?;
        Ok(())
    };
    write("main", &app)?;
    panes(&store, &mut app, now, &write).await?;
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The detail view, the stop pane, the channels screen and the kill
/// switch, each written by `write`.
async fn panes(
    store: &Store,
    app: &mut crate::tui::app::App,
    now: Millis,
    write: &dyn Fn(&str, &crate::tui::app::App) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    use crate::tui::app::Msg;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let key = |c: KeyCode| Msg::Key(KeyEvent::new(c, KeyModifiers::NONE));
    // The cart-recovery journey's detail.
    while app
        .selected_version()
        .is_some_and(|v| v.journey != "cart-recovery")
    {
        app.update(key(KeyCode::Down));
    }
    app.update(key(KeyCode::Enter));
    app.take_effects();
    load(store, app, now).await?;
    write("detail", app)?;
    // The stop pane, name half typed.
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Char('s')));
    for c in "cart-rec".chars() {
        app.update(key(KeyCode::Char(c)));
    }
    app.take_effects();
    load(store, app, now).await?;
    write("stop-pane", app)?;
    // The channels screen and the kill switch on the failing CRM: delivery
    // errors are on the wall clock.
    app.update(key(KeyCode::Esc));
    app.take_effects();
    let wall = crate::domain::time::now_millis();
    app.update(Msg::Clock(wall));
    app.update(key(KeyCode::Char('c')));
    app.take_effects();
    load(store, app, wall).await?;
    write("channels", app)?;
    app.update(key(KeyCode::Char('K')));
    for c in "webhook:crm".chars() {
        app.update(key(KeyCode::Char(c)));
    }
    app.take_effects();
    load(store, app, wall).await?;
    write("kill-switch", app)?;
    Ok(())
}

/// Two operators on the cart-recovery journey: bob's note, then alice's
/// claim (shown on its row, in its detail and on its trends).
async fn team_at_work(store: &Store, now: Millis) -> anyhow::Result<()> {
    use crate::store::Actor;
    let minutes = |m: i64| now - m * 60_000;
    store
        .note(
            "cart-recovery",
            None,
            "B's push link checked: fine. CRM ticket 123 open",
            &Actor::new("bob", "ops-2"),
            minutes(12),
        )
        .await?;
    store
        .claim_version(
            "cart-recovery",
            None,
            (now + 2 * HOUR, Some("CRM ticket 123")),
            &Actor::new("alice", "ops-1"),
            minutes(8),
        )
        .await?;
    Ok(())
}

/// One refresh into an off-screen console, as the data task would do it.
async fn load(store: &Store, app: &mut crate::tui::app::App, now: Millis) -> anyhow::Result<()> {
    let mut snap = crate::tui::fetch::fetch(store, &app.want(), now)
        .await
        .map_err(anyhow::Error::msg)?;
    snap.fetched_at = now;
    app.update(crate::tui::app::Msg::Data(Box::new(snap)));
    app.take_effects();
    Ok(())
}

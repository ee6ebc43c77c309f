//! The console: state and update (`app`), the confirmation pane
//! (`confirm`), drawing (`view`), and the runtime that owns the terminal,
//! the data task and the one executor of confirmed actions.

pub mod app;
pub mod approve;
pub mod arm;
pub mod columns;
pub mod confirm;
pub mod effect;
pub mod fetch;
pub mod filter;
pub mod help;
pub mod hold;
pub mod keymap;
mod keys;
pub mod publish;
pub mod rate;
pub mod sort;
pub mod state;
pub mod svg;
pub mod team;
pub mod terminal;
pub mod theme;
pub mod unschedule;
pub mod view;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use ratatui::crossterm::event::{Event, EventStream, KeyEventKind};
use ratatui::crossterm::{execute, queue};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{Notify, mpsc, watch};

use app::{App, Context, Effect, Msg};
use theme::Theme;

use crate::domain::time::{Millis, now_millis};
use crate::store::{Actor, Store};

/// Why the console loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Quit,
    Signal(&'static str),
    TerminalGone,
}

/// How the console is opened.
#[derive(Debug, Clone)]
pub struct Console {
    /// The config file's name for the store and its colour, if named.
    pub store_name: Option<String>,
    pub store_colour: Option<String>,
    pub read_only: bool,
    pub refresh: Duration,
    /// Poll every refresh, never watch for changes.
    pub poll: bool,
    pub banner: Option<String>,
    pub sim_clock: Option<crate::domain::clock::SimClock>,
    /// The key table.
    pub keys: keymap::KeyMap,
}

/// What the console shows of where it is and who is at it: the same
/// for the console and for the pictures in `screenshots/`.
pub fn context(
    location: &crate::store::Location,
    actor: &Actor,
    console: Console,
    login: Option<String>,
) -> Context {
    Context {
        login,
        store: location.display(),
        whole_name: location.name(),
        store_name: console.store_name,
        store_colour: console.store_colour,
        operator: format!("{}@{}", actor.name, actor.host),
        read_only: console.read_only,
        banner: console.banner,
        refresh: console.refresh,
        sim_clock: console.sim_clock,
        keys: console.keys,
    }
}

/// The database login for the header, and whether it can only look (a
/// store away at start: the URL's login, its grant unknown until then).
async fn login_shown(store: &Store) -> Option<String> {
    let login = store.location().login()?;
    let may = tokio::time::timeout(Duration::from_millis(500), store.may_operate()).await;
    Some(match may {
        Ok(Ok(false)) => format!("{login} (viewer)"),
        _ => login,
    })
}

pub async fn run_console(store: Store, actor: Actor, console: Console) -> anyhow::Result<()> {
    let login = login_shown(&store).await;
    let poll = console.poll;
    let ctx = context(store.location(), &actor, console, login);
    // Taken before the terminal: a hang-up while the console starts is a
    // clean exit too, never the default action's silent end.
    let signals = Signals {
        hup: signal(SignalKind::hangup())?,
        term: signal(SignalKind::terminate())?,
        int: signal(SignalKind::interrupt())?,
    };
    let mut guard = terminal::TerminalGuard::enter()?;
    let exit = event_loop(guard.term(), store, actor, ctx, poll, signals).await;
    drop(guard);
    match exit {
        Ok(Exit::Signal(name)) => {
            tracing::info!("console closed by {name}");
            Ok(())
        }
        Ok(_) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Fault injection for the test suite: a key that panics, to prove the
/// terminal is restored and the message readable. Only in builds with
/// debug assertions (the tests'), never in a release (`cargo install`).
fn fault_panic_key() -> Option<char> {
    #[cfg(debug_assertions)]
    return std::env::var("JOURNEYCTL_FAULT_PANIC_KEY")
        .ok()
        .and_then(|k| k.chars().next());
    #[cfg(not(debug_assertions))]
    None
}

/// The console with the filter last used on its store.
fn with_remembered_filter(mut app: App) -> App {
    if let Some(text) = state::filter_for(&state::path(), &app.ctx.store) {
        app.filter = tui_input::Input::new(text);
    }
    app
}

/// The signals that end the console.
struct Signals {
    hup: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

async fn event_loop(
    term: &mut terminal::Term,
    store: Store,
    actor: Actor,
    ctx: Context,
    poll: bool,
    mut signals: Signals,
) -> anyhow::Result<Exit> {
    let theme = Theme::from_env();
    let panic_key = fault_panic_key();
    let mut app = with_remembered_filter(App::new(ctx, now_millis()));
    let (tx, mut rx) = mpsc::channel::<Msg>(32);
    let (want_tx, want_rx) = watch::channel(app.want());
    let kick = Arc::new(Notify::new());
    let pace = fetch::Pace {
        refresh: app.ctx.refresh,
        clock: app.ctx.sim_clock,
    };
    let wake = fetch::Wake {
        kick: kick.clone(),
        pulse: Arc::default(),
    };
    let current: fetch::Current = Arc::new(std::sync::Mutex::new(store));
    let (watcher, fetcher) = spawn_data(&current, pace, poll, want_rx, wake, &tx).await;
    let mut events = EventStream::new();
    let mut give_up = std::sync::Arc::new(Notify::new());
    // Wakes when a drawn age or countdown will read differently, not every
    // second: an idle live console sleeps.
    let clock = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(clock);
    let sim = app.ctx.sim_clock.is_some();
    let exit = loop {
        if app.dirty {
            let change_at = draw(term, &app, &theme)?;
            app.dirty = false;
            clock.as_mut().reset(clock_deadline(change_at, sim));
        }
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => {
                    if panic_key.is_some() && key.code == ratatui::crossterm::event::KeyCode::Char(panic_key.unwrap_or(' ')) {
                        panic!("fault injected by the test suite's panic key");
                    }
                    app.update(Msg::Key(key))
                }
                Some(Ok(Event::Resize(_, _))) => {
                    term.autoresize()?;
                    app.update(Msg::Resize);
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break Exit::TerminalGone,
            },
            Some(msg) = rx.recv() => app.update(msg),
            _ = &mut clock => {
                clock.as_mut().reset(clock_deadline(Millis::MAX, sim));
                app.update(Msg::Clock(now_millis()))
            }
            _ = signals.hup.recv() => break Exit::Signal("SIGHUP"),
            _ = signals.term.recv() => break Exit::Signal("SIGTERM"),
            _ = signals.int.recv() => break Exit::Signal("SIGINT"),
        }
        let quit = run_effects(&mut app, &current, &actor, &tx, &kick, &mut give_up);
        want_tx.send_if_modified(|w| {
            let next = app.want();
            if *w != next {
                *w = next;
                true
            } else {
                false
            }
        });
        if quit {
            break Exit::Quit;
        }
    };
    fetcher.abort();
    watcher.abort();
    Ok(exit)
}

/// The tasks that bring the data: the watch for changes (unless told to
/// poll) and the fetcher.
async fn spawn_data(
    current: &fetch::Current,
    pace: fetch::Pace,
    poll: bool,
    want: watch::Receiver<app::Want>,
    wake: fetch::Wake,
    tx: &mpsc::Sender<Msg>,
) -> (tokio::task::JoinHandle<()>, tokio::task::JoinHandle<()>) {
    let store = fetch::store_of(current);
    // The watch follows the file's folder by name: a file replaced there
    // is still seen.
    let watcher = if poll {
        let _ = tx.send(Msg::Live(false)).await;
        tokio::spawn(async {})
    } else {
        fetch::spawn_watch(store, wake.pulse.clone(), tx.clone())
    };
    let fetcher = fetch::spawn(current.clone(), pace, want, wake, tx.clone());
    (watcher, fetcher)
}

/// A confirmed publish: the same library call as `journeyctl publish`.
fn spawn_publish(
    store: crate::store::Store,
    actor: &Actor,
    tx: &mpsc::Sender<Msg>,
    journey: String,
    reason: Option<String>,
) {
    let (actor, tx) = (actor.clone(), tx.clone());
    tracing::info!("publishing the newest draft of {journey}");
    tokio::spawn(async move {
        let result = store
            .publish_because(&journey, &actor, reason.as_deref(), now_millis())
            .await;
        match &result {
            Ok(n) => tracing::info!("published {journey} v{n}"),
            Err(e) => tracing::warn!("publish refused: {e}"),
        }
        let _ = tx.send(Msg::PublishDone(result)).await;
    });
}

/// A confirmed live rate: the same library call as `journeyctl rate`.
fn spawn_rate(
    store: crate::store::Store,
    actor: &Actor,
    tx: &mpsc::Sender<Msg>,
    action: String,
    limits: Option<crate::store::LiveLimits>,
    reason: Option<String>,
) {
    let (actor, tx) = (actor.clone(), tx.clone());
    tokio::spawn(async move {
        let result = store
            .set_rate(&action, limits, &actor, reason.as_deref(), now_millis())
            .await;
        if let Err(e) = &result {
            tracing::warn!("rate of {action} refused: {e}");
        }
        let _ = tx.send(Msg::RateDone(result)).await;
    });
}

/// A confirmed hold or release: the same library calls as `journeyctl
/// hold` and `release`.
fn spawn_hold(store: crate::store::Store, actor: &Actor, tx: &mpsc::Sender<Msg>, effect: Effect) {
    let (actor, tx) = (actor.clone(), tx.clone());
    tokio::spawn(async move {
        let now = now_millis();
        let result = match effect {
            Effect::HoldAction {
                action,
                for_ms,
                on_expiry,
                reason,
            } => {
                let until = for_ms.map(|ms| now + ms);
                store
                    .hold_action(&action, (until, on_expiry), &actor, reason.as_deref(), now)
                    .await
                    .map(|i| crate::present::channels::hold_done(&i, false, until))
            }
            Effect::ReleaseAction {
                action,
                overdue,
                reason,
            } => store
                .release_action(&action, overdue, &actor, reason.as_deref(), now)
                .await
                .map(|i| crate::present::channels::hold_done(&i, true, None)),
            _ => return,
        };
        if let Err(e) = &result {
            tracing::warn!("hold or release refused: {e}");
        }
        let _ = tx.send(Msg::HoldDone(result)).await;
    });
}

/// Carries out what the last message asked for; whether to quit. A
/// confirmed action runs here and nowhere else, through the same library
/// call as the CLI's.
fn run_effects(
    app: &mut App,
    current: &fetch::Current,
    actor: &Actor,
    tx: &mpsc::Sender<Msg>,
    kick: &Notify,
    give_up: &mut std::sync::Arc<Notify>,
) -> bool {
    let mut quit = false;
    for effect in app.take_effects() {
        match effect {
            Effect::Quit => quit = true,
            Effect::Copy(text) => {
                use ratatui::crossterm::clipboard::CopyToClipboard;
                let _ = ratatui::crossterm::execute!(
                    std::io::stdout(),
                    CopyToClipboard::to_clipboard_from(text)
                );
            }
            Effect::RememberFilter(text) => {
                if let Err(e) = state::remember_filter(&state::path(), &app.ctx.store, &text) {
                    tracing::warn!("the filter is not remembered: {e}");
                }
            }
            Effect::Refresh => kick.notify_one(),
            Effect::GiveUp => give_up.notify_one(),
            Effect::Publish { journey, reason } => {
                spawn_publish(fetch::store_of(current), actor, tx, journey, reason)
            }
            Effect::SetRate {
                action,
                limits,
                reason,
            } => spawn_rate(fetch::store_of(current), actor, tx, action, limits, reason),
            Effect::Note { .. } | Effect::Claim { .. } | Effect::Unclaim { .. } => {
                team::spawn_team(fetch::store_of(current), actor, tx, effect)
            }
            Effect::ChooseVariant { .. } => {
                arm::spawn_variant(fetch::store_of(current), actor, tx, effect)
            }
            Effect::Unschedule { id } => {
                unschedule::spawn_unschedule(fetch::store_of(current), actor, tx, id)
            }
            Effect::LoadApprovals => approve::spawn_load(fetch::store_of(current), tx),
            Effect::Approve { id } => {
                approve::spawn_approve(fetch::store_of(current), actor, tx, id)
            }
            Effect::HoldAction { .. } | Effect::ReleaseAction { .. } => {
                spawn_hold(fetch::store_of(current), actor, tx, effect)
            }
            Effect::Execute(action) => {
                // Each action has its own: an Esc meant for an earlier one
                // never gives up this one.
                *give_up = std::sync::Arc::new(Notify::new());
                let give_up = std::sync::Arc::clone(give_up);
                // The store as it is now (a replaced file is reopened).
                spawn_execute(fetch::store_of(current), actor, tx, action, give_up);
            }
        }
    }
    quit
}

/// A confirmed action: the one executor, the same library call as the
/// CLI. A stop waits for deliveries in flight: the pane says so.
fn spawn_execute(
    store: crate::store::Store,
    actor: &Actor,
    tx: &mpsc::Sender<Msg>,
    action: crate::domain::OperatorAction,
    give_up: std::sync::Arc<Notify>,
) {
    let (actor, tx) = (actor.clone(), tx.clone());
    tracing::info!("executing confirmed action: {}", action.describe());
    tokio::spawn(async move {
        let waiting = tx.clone();
        let watch = move |w| {
            let _ = waiting.try_send(Msg::ActionWaiting(w));
        };
        let result = store
            .execute_until(&action, &actor, now_millis(), &watch, give_up.notified())
            .await;
        match &result {
            Ok(o) => tracing::info!("{}", crate::present::outcome_summary(o)),
            Err(e) => tracing::warn!("refused: {e}"),
        }
        let _ = tx.send(Msg::ActionDone(result)).await;
    });
}

/// One frame, wrapped in a synchronized update so the terminal shows it
/// whole; the buffered writer sends it in one write. Returns when one of
/// its ages or countdowns will read differently.
fn draw(term: &mut terminal::Term, app: &App, theme: &Theme) -> anyhow::Result<Millis> {
    use ratatui::crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
    queue!(term.backend_mut(), BeginSynchronizedUpdate)?;
    crate::domain::time::watch_labels();
    term.draw(|f| view::draw(f, app, theme))?;
    execute!(term.backend_mut(), EndSynchronizedUpdate)?;
    Ok(crate::domain::time::labels_change_at())
}

/// When the clock next redraws: just after the first drawn label changes,
/// within the hour; every second on a simulated clock, whose labels run
/// at its own speed.
fn clock_deadline(change_at: Millis, sim: bool) -> tokio::time::Instant {
    const MOST_MS: Millis = 3_600_000;
    let wait = if sim {
        1000
    } else {
        change_at
            .saturating_sub(now_millis())
            .saturating_add(5)
            .clamp(20, MOST_MS)
    };
    tokio::time::Instant::now() + Duration::from_millis(wait as u64)
}

/// Renders the console state into an off-screen buffer: for tests and for
/// the screenshots in `screenshots/`.
pub fn render(app: &App, theme: &Theme, width: u16, height: u16) -> ratatui::buffer::Buffer {
    let backend = ratatui::backend::TestBackend::new(width, height);
    let mut terminal = match ratatui::Terminal::new(backend) {
        Ok(t) => t,
        Err(never) => match never {},
    };
    let _ = terminal.draw(|f| view::draw(f, app, theme));
    terminal.backend().buffer().clone()
}

/// The same, with where the frame put the cursor (a text field's), if
/// it put one.
pub fn render_with_cursor(
    app: &App,
    theme: &Theme,
    width: u16,
    height: u16,
) -> (ratatui::buffer::Buffer, Option<ratatui::layout::Position>) {
    let backend = ratatui::backend::TestBackend::new(width, height);
    let mut terminal = match ratatui::Terminal::new(backend) {
        Ok(t) => t,
        Err(never) => match never {},
    };
    let _ = terminal.draw(|f| view::draw(f, app, theme));
    let backend = terminal.backend();
    let cursor = backend.cursor_visible().then(|| backend.cursor_position());
    (backend.buffer().clone(), cursor)
}

/// The buffer as plain text, one line a row, trailing spaces trimmed.
pub fn buffer_text(buf: &ratatui::buffer::Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

//! The binary: parses the command line and hands each command to its home,
//! the CLI for store commands and the tools (demo, bench) for theirs.

use clap::Parser;

use journeyctl::bench::BenchConfig;
use journeyctl::cli::{self, BenchArgs, Cli, Command, DemoArgs, Global};
use journeyctl::demo::DemoConfig;
use journeyctl::store::Actor;

fn main() {
    let args = Cli::parse();
    journeyctl::logging::init();
    // A command that only reads and prints ends quietly when what reads
    // its output goes away (`journeyctl audit | head`), as `cat` does,
    // instead of failing on the write. Commands that write to the store,
    // send or run programs keep Rust's default (a closed pipe is an error
    // they handle).
    if let Some(Command::Cli(c)) = &args.command
        && c.writes().is_none()
    {
        // SAFETY: SIG_DFL is a valid disposition, and nothing in these
        // commands relies on SIGPIPE being ignored.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    let code = match args.command {
        Some(Command::Demo(demo)) => {
            let actor = Actor::from_environment(args.global.actor.clone());
            let global = args.global;
            cli::block_on(async move {
                // The demo makes a store of its own: a named store, or
                // leave to write to one, would be silently ignored.
                if global.store.is_some() || global.write {
                    anyhow::bail!(
                        "the demo makes a store of its own: --store and --write do not apply (--database-url PATH says where)"
                    );
                }
                let keys = cli::config::console_keys()?;
                journeyctl::demo::run(demo_config(demo, &global, keys), actor).await
            })
        }
        Some(Command::Bench(bench)) => cli::block_on(journeyctl::bench::run(bench_config(bench))),
        Some(Command::Screenshots { out }) => cli::block_on(journeyctl::demo::screenshots(&out)),
        Some(Command::Cli(command)) => cli::run(args.global, Some(command)),
        None => cli::run(args.global, None),
    };
    std::process::exit(code);
}

fn demo_config(a: DemoArgs, g: &Global, keys: journeyctl::tui::keymap::KeyMap) -> DemoConfig {
    // DATABASE_URL and the named stores are the operator's: the demo never
    // uses them, only a --database-url given explicitly.
    let explicit = g.database_url.clone();
    DemoConfig {
        speed: a.speed,
        profiles: a.profiles,
        no_console: a.no_console,
        duration: a.duration,
        seed: a.seed,
        database_url: explicit,
        read_only: g.read_only,
        refresh: g.refresh,
        crm_fails_after: a.crm_fails_after,
        keys,
    }
}

fn bench_config(a: BenchArgs) -> BenchConfig {
    BenchConfig {
        participants: a.participants,
        journeys: a.journeys,
        postgres: a
            .postgres
            .or_else(|| std::env::var("JOURNEYCTL_TEST_POSTGRES_URL").ok()),
        citus: a
            .citus
            .or_else(|| std::env::var("JOURNEYCTL_TEST_CITUS_URL").ok()),
        citus_only: a.citus_only,
        no_tick: a.no_tick,
        no_console: a.no_console,
        idle_seconds: a.idle_seconds,
        stops_only: a.stops_only,
        brakes_only: a.brakes_only,
        live_only: a.live_only,
        levers_only: a.levers_only,
        feed_only: a.feed_only,
        feed_events: a.feed_events,
    }
}

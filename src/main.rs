use clap::Parser;

fn main() {
    let cli = journeyctl::cli::Cli::parse();
    journeyctl::logging::init();
    std::process::exit(journeyctl::cli::run(cli));
}

//! Coverage-guided fuzzing of the config file (keys, stores): `cargo fuzz
//! run config`. None may panic; a refusal is one line that names the file
//! and the line (`config.toml:3: stores.prod.url: ...`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let file = std::path::Path::new("config.toml");
    if let Err(e) = journeyctl::cli::config::Config::parse(file, &text) {
        assert!(!e.contains('\n'), "{e:?}");
        let rest = e
            .strip_prefix("config.toml:")
            .unwrap_or_else(|| panic!("{e:?}"));
        let line = rest.split(':').next().unwrap_or_default();
        assert!(line.trim().parse::<usize>().is_ok(), "{e:?}");
    }
});

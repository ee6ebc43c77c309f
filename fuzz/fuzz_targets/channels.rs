//! Coverage-guided fuzzing of the channels file: `cargo fuzz run
//! channels`. None may panic; a refusal is one line that names the file
//! and the line (`channels.toml:4: channels.email.rate: ...`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let file = std::path::Path::new("channels.toml");
    let env = |name: &str| (name == "API_TOKEN").then(|| "secret".to_string());
    if let Err(e) = journeyctl::delivery::Channels::parse(file, &text, &env) {
        assert!(!e.contains('\n'), "{e:?}");
        let rest = e
            .strip_prefix("channels.toml:")
            .unwrap_or_else(|| panic!("{e:?}"));
        let line = rest.split(':').next().unwrap_or_default();
        assert!(
            line.trim().parse::<usize>().is_ok() || rest.starts_with(" no channels"),
            "{e:?}"
        );
    }
});

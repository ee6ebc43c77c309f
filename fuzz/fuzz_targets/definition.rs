//! Coverage-guided fuzzing of journey definitions (TOML):
//! `cargo fuzz run definition`. None may panic; a refusal is one line.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = journeyctl::domain::Definition::from_toml(&text) {
        assert!(!e.trim().is_empty() && !e.contains('\n'), "{e:?}");
    }
});

//! Coverage-guided fuzzing of the event parser: `cargo fuzz run events`.
//! Any line may come from a feed; none may panic, and a refusal is one
//! line (the ingest report prints it after `line N: `).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = journeyctl::domain::events::parse_line(text.trim(), 0) {
        assert!(!e.is_empty() && !e.contains('\n'), "{e:?}");
    }
});

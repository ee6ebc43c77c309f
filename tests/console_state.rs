//! What the console remembers between sessions: the filter of each store,
//! in a file beside the log that is the user's only, and a file that is
//! not ours is left alone.

use std::os::unix::fs::PermissionsExt;

use journeyctl::tui::state::{filter_for, filters, remember_filter};

#[test]
fn each_stores_filter_comes_back_from_a_file_only_the_user_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state").join("console-state.json");
    assert_eq!(filter_for(&path, "prod-eu"), None);
    remember_filter(&path, "prod-eu", "status:paused !onboarding").unwrap();
    remember_filter(&path, "prod-us", "action:webhook:crm").unwrap();
    assert_eq!(
        filter_for(&path, "prod-eu").as_deref(),
        Some("status:paused !onboarding")
    );
    assert_eq!(
        filter_for(&path, "prod-us").as_deref(),
        Some("action:webhook:crm")
    );
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
    // Cleared: gone from the file, the other store's kept.
    remember_filter(&path, "prod-eu", "").unwrap();
    assert_eq!(filter_for(&path, "prod-eu"), None);
    assert_eq!(filters(&path).unwrap().len(), 1);
}

#[test]
fn a_state_file_that_is_not_ours_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    // A link to somebody else's file: not read, not written through.
    let target = dir.path().join("elsewhere.json");
    std::fs::write(&target, r#"{"filters":[["prod","cart"]]}"#).unwrap();
    let link = dir.path().join("console-state.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    assert_eq!(filter_for(&link, "prod"), None);
    assert!(remember_filter(&link, "prod", "status:srm").is_err());
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        r#"{"filters":[["prod","cart"]]}"#
    );
    // Too large to be ours: not read, not replaced.
    let big = dir.path().join("big.json");
    std::fs::write(&big, vec![b' '; 300 * 1024]).unwrap();
    assert_eq!(filter_for(&big, "prod"), None);
    assert!(remember_filter(&big, "prod", "x").is_err());
    assert_eq!(std::fs::metadata(&big).unwrap().len(), 300 * 1024);
    // A filter with escapes in it is not taken back into the field.
    let odd = dir.path().join("odd.json");
    std::fs::write(&odd, "{\"filters\":[[\"prod\",\"cart\\u001b[2J\"]]}").unwrap();
    assert_eq!(filter_for(&odd, "prod"), None);
}

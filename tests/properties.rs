//! Property tests (proptest) over what operators and feeds hand us: event
//! lines, journey definitions and the config file. Inputs are valid
//! documents edited at random (flips, cuts, inserts, duplicated runs) and
//! arbitrary strings; a failure shrinks to the smallest input that shows it.
//! The console's key sequences are in tests/console.rs; the event parser's
//! coverage-guided target is fuzz/fuzz_targets/events.rs.

mod common;

use std::path::Path;

use proptest::prelude::*;
use proptest::sample::{Index, select};

use journeyctl::cli::config::Config;
use journeyctl::domain::Definition;
use journeyctl::domain::events::parse_line;

/// One edit of a valid document.
#[derive(Debug, Clone)]
enum Edit {
    Set(Index, u8),
    Cut(Index),
    Insert(Index, u8),
    Duplicate(Index, usize),
    Remove(Index),
}

/// Bytes that matter to JSON and TOML, and some that never should appear.
const SYNTAX: &[u8] = b"{}[]\":,=\\\n\x00\xff9-eE.ta #'";

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
        any::<Index>().prop_map(Edit::Cut),
        (any::<Index>(), select(SYNTAX)).prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<Index>(), 1..16usize).prop_map(|(i, n)| Edit::Duplicate(i, n)),
        any::<Index>().prop_map(Edit::Remove),
    ]
}

fn apply(base: &str, edits: &[Edit]) -> String {
    let mut bytes = base.as_bytes().to_vec();
    for e in edits {
        if bytes.is_empty() {
            break;
        }
        let at = |i: &Index| i.index(bytes.len());
        match e {
            Edit::Set(i, b) => {
                let i = at(i);
                bytes[i] = *b;
            }
            Edit::Cut(i) => bytes.truncate(at(i)),
            Edit::Insert(i, b) => bytes.insert(at(i), *b),
            Edit::Duplicate(i, n) => {
                let i = at(i);
                let j = (i + n).min(bytes.len());
                let run = bytes[i..j].to_vec();
                bytes.splice(i..i, run);
            }
            Edit::Remove(i) => {
                bytes.remove(at(i));
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A valid document with one to four edits.
fn edited(seeds: Vec<String>) -> impl Strategy<Value = String> {
    (select(seeds), prop::collection::vec(edit(), 1..5)).prop_map(|(s, e)| apply(&s, &e))
}

const EVENT_SEEDS: [&str; 3] = [
    r#"{"type":"enter","journey":"spring-sale","profile":"p-1","at":"2026-11-21T10:00:00Z"}"#,
    r#"{"type":"event","profile":"p-1","name":"purchase"}"#,
    r#"{"type":"segment","profile":"p-1","segment":"suppressed","at":"2026-11-21T10:00:00+01:00"}"#,
];

fn event_lines() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => edited(EVENT_SEEDS.iter().map(|s| s.to_string()).collect()),
        1 => any::<String>(),
        1 => "[ -~]{0,120}",
    ]
}

/// A one-line error that says where: the column for JSON that does not
/// parse, else the field (every field error quotes the field's name).
fn event_error_says_where(e: &str) -> bool {
    let column = e.starts_with("not a JSON object: ") && e.contains("(column ");
    let field = [
        "\"type\"",
        "\"journey\"",
        "\"profile\"",
        "\"name\"",
        "\"segment\"",
        "\"at\"",
    ]
    .iter()
    .any(|f| e.contains(f))
        || e.starts_with("unknown type ");
    column || field
}

fn check_event_line(input: &str) -> Result<(), TestCaseError> {
    if let Err(e) = parse_line(input, 0) {
        prop_assert!(!e.is_empty() && !e.contains('\n'), "{input:?} -> {e:?}");
        prop_assert!(event_error_says_where(&e), "{input:?} -> {e:?}: where?");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4_000))]

    /// A panic fails the case; an error is one line that says where.
    #[test]
    fn event_lines_never_panic_and_say_why_and_where(input in event_lines()) {
        check_event_line(&input)?;
    }
}

/// Inputs that once looked risky: huge numbers, deep nesting, odd times.
#[test]
fn risky_event_lines_say_why_and_where() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    for input in [
        r#"{"type":"enter","journey":"j","profile":"p","at":"9999-99-99T99:99:99Z"}"#,
        r#"{"type":"enter","journey":"j","profile":"p","at":"+275760-09-13T00:00:00Z"}"#,
        r#"{"type":"enter","journey":1e999,"profile":"p"}"#,
        &deep,
        "\u{feff}{\"type\":\"event\"}",
        r#"{"type":"enter","journey":"j","profile":"p","type":"event"}"#,
    ] {
        check_event_line(input).unwrap();
    }
}

fn spring_sale() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/spring-sale.toml"
    ))
    .unwrap()
}

/// A definition's error names where: line and column for TOML that does
/// not parse or a field of the wrong type, else the key it is about.
fn definition_error_says_where(e: &str) -> bool {
    let line_and_column = e.contains("line ") && e.contains("column ");
    let key = [
        "name ",
        "goal ",
        "entry_end_at: ",
        "steps[",
        "[[steps]]",
        "exit_events",
        "exit_segment",
        "exclusion_segment",
    ]
    .iter()
    .any(|k| e.starts_with(k) || e.contains(k));
    line_and_column || key
}

fn check_definition(input: &str) -> Result<(), TestCaseError> {
    if let Err(e) = Definition::from_toml(input) {
        prop_assert!(!e.is_empty() && !e.contains('\n'), "{input:?} -> {e:?}");
        prop_assert!(
            definition_error_says_where(&e),
            "{input:?} -> {e:?}: where?"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_500))]

    #[test]
    fn definitions_never_panic_and_errors_say_where(input in edited(vec![spring_sale()])) {
        check_definition(&input)?;
    }
}

#[test]
fn risky_definitions_say_where() {
    for input in [
        "name = \"x\"\n[[steps]]\nkind = \"wait\"\nduration = \"99999999999999999999d\"\n",
        "name = \"x\"\n[[steps]]\nkind = \"split\"\ntest = \"t\"\nexpected_participants = 0\nvariants = [{name=\"A\",weight=1,action=\"a\"},{name=\"B\",weight=1,action=\"b\"}]\n",
        "name = \"x\"\n[[steps]]\nkind = \"split\"\ntest = \"t\"\nvariants = [{name=\"A\",weight=4294967295,action=\"a\"},{name=\"B\",weight=4294967295,action=\"b\"}]\n",
        "name = \"\u{0}\"\n[[steps]]\nkind = \"message\"\naction = \"a\"\n",
    ] {
        check_definition(input).unwrap();
    }
}

const CONFIG: &str = "default_store = \"staging\"\n\n\
    [stores.staging]\nurl = \"/var/lib/journeyctl/staging.db\"\ncolour = \"green\"\n\n\
    [stores.prod]\nurl = \"postgres://ops@db.internal:5432/journeys\"\ncolour = \"red\"\nread_only = true\n";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// A config file never panics the parser; its error is one line that
    /// starts with the file and a line of that file.
    #[test]
    fn config_files_never_panic_and_errors_name_file_and_line(
        input in prop_oneof![4 => edited(vec![CONFIG.to_string()]), 1 => any::<String>()]
    ) {
        let file = Path::new("/etc/journeyctl/config.toml");
        if let Err(e) = Config::parse(file, &input) {
            prop_assert!(!e.contains('\n'), "{input:?} -> {e:?}");
            let rest = e.strip_prefix("/etc/journeyctl/config.toml:");
            let line: Option<usize> = rest.and_then(|r| r.split(':').next()?.parse().ok());
            prop_assert!(
                line.is_some_and(|n| n >= 1 && n <= input.lines().count().max(1)),
                "{input:?} -> {e:?}: which line?"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4))]

    /// Through the CLI, every bad line of an edited feed is reported with
    /// its own line number, and only those.
    #[test]
    fn feeds_report_each_bad_line_by_its_number(
        lines in prop::collection::vec(
            prop_oneof![
                1 => select(EVENT_SEEDS[..2].to_vec()).prop_map(str::to_string),
                1 => edited(EVENT_SEEDS[..2].iter().map(|s| s.to_string()).collect()),
            ],
            300..400,
        )
    ) {
        let lines: Vec<String> = lines.iter().map(|l| l.replace(['\n', '\r'], " ")).collect();
        let expected: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty() && parse_line(l.trim(), 0).is_err())
            .map(|(i, _)| i + 1)
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let feed = dir.path().join("feed.ndjson");
        std::fs::write(&feed, lines.join("\n")).unwrap();
        let url = dir.path().join("f.db").display().to_string();
        let o = common::journeyctl(&url)
            .args(["ingest", feed.to_str().unwrap()])
            .output();
        // 0 when every line was good, 4 when some were skipped (said last).
        let code = if expected.is_empty() { 0 } else { 4 };
        prop_assert_eq!(o.status.code(), Some(code), "{}", String::from_utf8_lossy(&o.stderr));
        let err = String::from_utf8_lossy(&o.stderr);
        let reported: Vec<usize> = err
            .lines()
            .filter(|l| !l.starts_with("journeyctl: warning: "))
            .map(|l| {
                l.strip_prefix("line ")
                    .and_then(|r| r.split(':').next())
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("a report that names no line: {l:?}"))
            })
            .collect();
        prop_assert_eq!(reported, expected);
    }
}

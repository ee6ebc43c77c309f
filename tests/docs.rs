//! The docs a newcomer walks: a README short enough to read, every link
//! in it and in `docs/` and `ARCHITECTURE.md` leading somewhere, and every
//! command and option of `--help` (read off the clap definitions) named
//! in the docs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md, ARCHITECTURE.md and every page under docs/.
fn pages() -> Vec<PathBuf> {
    let mut out = vec![root().join("README.md"), root().join("ARCHITECTURE.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    out.extend(docs);
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text outside fenced code blocks.
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The targets of the page's Markdown links `[text](target)`, outside
/// code blocks and inline code.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in prose(text).lines() {
        // Inline code may hold brackets and parentheses of its own.
        let mut plain = String::new();
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 0 {
                plain.push_str(part);
            }
        }
        let mut rest = plain.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            match after.find(')') {
                Some(end) => {
                    out.push(after[..end].to_string());
                    rest = &after[end..];
                }
                None => break,
            }
        }
    }
    out
}

/// A heading's anchor as GitHub makes it: lower case, punctuation
/// dropped, spaces turned into hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(text: &str) -> BTreeSet<String> {
    prose(text)
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| anchor(l.trim_start_matches('#')))
        .collect()
}

#[test]
fn the_readme_is_at_most_300_lines() {
    let n = read(&root().join("README.md")).lines().count();
    assert!(
        n <= 300,
        "README.md has {n} lines; the rest belongs in docs/"
    );
}

#[test]
fn every_link_in_the_docs_resolves() {
    let mut broken = Vec::new();
    let mut seen = 0;
    for page in pages() {
        let text = read(&page);
        for target in links(&text) {
            if target.starts_with("http://") || target.starts_with("https://") {
                continue;
            }
            seen += 1;
            let (file, fragment) = match target.split_once('#') {
                Some((f, a)) => (f, Some(a)),
                None => (target.as_str(), None),
            };
            let dest = if file.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(file)
            };
            if !dest.exists() {
                broken.push(format!("{}: {target}: no such file", page.display()));
                continue;
            }
            if let Some(a) = fragment
                && !anchors(&read(&dest)).contains(a)
            {
                broken.push(format!("{}: {target}: no such heading", page.display()));
            }
        }
    }
    assert!(seen > 20, "only {seen} links read: the reader is broken");
    assert!(
        broken.is_empty(),
        "links that lead nowhere:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_link_reader_finds_links_and_anchors() {
    let text = "See [the tour](docs/console.md#a-tour-of-the-demo) and `[x](y)`.\n\
                ```\n[not](a-link.md)\n```\n## Team setup on PostgreSQL\n";
    assert_eq!(links(text), vec!["docs/console.md#a-tour-of-the-demo"]);
    assert!(anchors(text).contains("team-setup-on-postgresql"));
    assert_eq!(
        anchor("Configuration: named stores"),
        "configuration-named-stores"
    );
}

/// Every command's name and every long option of it, from the clap
/// definitions, as `("journeyctl stop", "--lock-timeout")`; the global
/// options under `"journeyctl"`.
fn options() -> Vec<(String, Option<String>)> {
    fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<(String, Option<String>)>) {
        out.push((path.to_string(), None));
        for arg in cmd.get_arguments() {
            if arg.is_hide_set() || arg.get_id() == "help" || arg.get_id() == "version" {
                continue;
            }
            if let Some(long) = arg.get_long() {
                out.push((path.to_string(), Some(format!("--{long}"))));
            }
        }
        for sub in cmd.get_subcommands() {
            if sub.is_hide_set() || sub.get_name() == "help" {
                continue;
            }
            walk(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }
    let cmd = <journeyctl::cli::Cli as clap::CommandFactory>::command();
    let mut out = Vec::new();
    walk(&cmd, "journeyctl", &mut out);
    out
}

/// The docs cut into the units an option is read in: a table row, or a
/// paragraph (a code block counts as one).
fn units(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        if !fenced && line.trim_start().starts_with('|') {
            out.push(std::mem::take(&mut current));
            out.push(line.to_string());
        } else if !fenced && line.trim().is_empty() {
            out.push(std::mem::take(&mut current));
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    out.push(current);
    out.retain(|u| !u.trim().is_empty());
    out
}

/// Whether `needle` stands in `text` as a whole word (`--limit` is not in
/// `--limits`).
fn has_word(text: &str, needle: &str) -> bool {
    text.match_indices(needle).any(|(i, _)| {
        let next = text[i + needle.len()..].chars().next();
        !next.is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_')
    })
}

#[test]
fn every_command_and_option_of_help_is_in_the_docs() {
    let units: Vec<String> = pages().iter().flat_map(|p| units(&read(p))).collect();
    let options = options();
    assert!(
        options
            .iter()
            .any(|(c, o)| c == "journeyctl audit" && o.as_deref() == Some("--limit")),
        "the clap definitions were not read"
    );
    let mut missing = Vec::new();
    for (command, option) in &options {
        let found = match option {
            None => units.iter().any(|u| has_word(u, command)),
            // A global option: anywhere.
            Some(o) if command == "journeyctl" => units.iter().any(|u| has_word(u, o)),
            // A command's option: in a row or paragraph that names the command.
            Some(o) => units.iter().any(|u| has_word(u, command) && has_word(u, o)),
        };
        if !found {
            missing.push(match option {
                None => format!("`{command}`"),
                Some(o) => format!("`{command} ... {o}`"),
            });
        }
    }
    assert!(
        missing.is_empty(),
        "in --help but in no table row or paragraph of README.md, ARCHITECTURE.md or docs/ that names its command:\n{}",
        missing.join("\n")
    );
}

//! The house's rules, read off the source: dependencies point one way
//! (domain <- store <- delivery, present <- faces (tui, cli) <- tools
//! (demo, bench) <- main), SQL lives in `store/`, and files stay a size that fits in a
//! head.

use std::path::{Path, PathBuf};

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every (file, line) under `layer` that names one of `banned`.
fn offences(layer: &str, banned: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for file in sources(&src().join(layer)) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for b in banned {
                if code.contains(b) {
                    out.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    out
}

#[test]
fn each_layer_imports_only_the_layers_below_it() {
    let rules: &[(&str, &[&str])] = &[
        (
            "domain",
            &[
                "sqlx",
                "tokio",
                "ratatui",
                "crossterm",
                "crate::store",
                "crate::present",
                "crate::tui",
                "crate::cli",
                "crate::demo",
                "crate::bench",
            ],
        ),
        (
            "store",
            &[
                "ratatui",
                "crate::present",
                "crate::tui",
                "crate::cli",
                "crate::demo",
                "crate::bench",
            ],
        ),
        (
            "delivery",
            &[
                "ratatui",
                "crate::present",
                "crate::tui",
                "crate::cli",
                "crate::demo",
                "crate::bench",
            ],
        ),
        (
            "present.rs",
            &[
                "ratatui",
                "crate::tui",
                "crate::cli",
                "crate::demo",
                "crate::bench",
            ],
        ),
        (
            "http.rs",
            &[
                "ratatui",
                "crate::store",
                "crate::tui",
                "crate::cli",
                "crate::demo",
                "crate::bench",
            ],
        ),
        (
            "metrics.rs",
            &[
                "ratatui",
                "crate::tui",
                "crate::cli",
                "crate::demo",
                "crate::bench",
            ],
        ),
        ("tui", &["crate::cli", "crate::demo", "crate::bench"]),
        (
            "cli",
            &[
                "crate::tui::app",
                "crate::tui::view",
                "crate::demo",
                "crate::bench",
            ],
        ),
    ];
    let mut all = Vec::new();
    for (layer, banned) in rules {
        let path = src().join(layer);
        if path.is_file() {
            let text = std::fs::read_to_string(&path).unwrap();
            for b in *banned {
                if text
                    .lines()
                    .any(|l| l.split("//").next().unwrap_or("").contains(b))
                {
                    all.push(format!("{layer} names {b}"));
                }
            }
        } else {
            all.extend(offences(layer, banned));
        }
    }
    assert!(all.is_empty(), "imports that point up:\n{}", all.join("\n"));
}

#[test]
fn only_the_store_runs_sql() {
    let mut all = Vec::new();
    for file in sources(&src()) {
        if file.starts_with(src().join("store")) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.contains("sqlx::query") || line.contains("sqlx::raw_sql") {
                all.push(format!("{}:{}", file.display(), n + 1));
            }
        }
    }
    assert!(all.is_empty(), "SQL outside store/:\n{}", all.join("\n"));
}

#[test]
fn no_source_file_is_over_500_lines() {
    let mut all = Vec::new();
    for file in sources(&src()) {
        let n = std::fs::read_to_string(&file).unwrap().lines().count();
        if n > 500 {
            all.push(format!("{} has {n} lines", file.display()));
        }
    }
    assert!(all.is_empty(), "{}", all.join("\n"));
}

#[test]
fn no_function_is_over_80_lines() {
    let mut all = Vec::new();
    for file in sources(&src()) {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            let trimmed = line.trim_start();
            let is_fn = [
                "fn ",
                "pub fn ",
                "async fn ",
                "pub async fn ",
                "pub(crate) fn ",
                "pub(super) fn ",
                "pub(crate) async fn ",
                "pub(super) async fn ",
            ]
            .iter()
            .any(|p| trimmed.starts_with(p));
            if is_fn {
                let indent = line.len() - trimmed.len();
                let end = format!("{}}}", " ".repeat(indent));
                let close = (i + 1..lines.len()).find(|&j| lines[j] == end);
                if let Some(j) = close {
                    if j - i + 1 > 80 {
                        all.push(format!("{}:{}: {} lines", file.display(), i + 1, j - i + 1));
                    }
                    i = j;
                }
            }
            i += 1;
        }
    }
    assert!(
        all.is_empty(),
        "functions over 80 lines:\n{}",
        all.join("\n")
    );
}

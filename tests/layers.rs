//! The house's rules, read off the source: dependencies point one way
//! (domain <- store <- delivery, present <- faces (tui, cli) <- tools
//! (demo, bench) <- main), SQL lives in `store/`, and files stay a size that fits in a
//! head. Imports are read with `syn`: a grouped, renamed or `super::` path
//! counts as much as a plain one.

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

/// Every path a source file names, as written from the crate's root:
/// its `use` trees (groups, renames and globs unfolded) and the paths in
/// its code, with `self::` and `super::` resolved against the file's
/// module. Paths inside a macro's tokens are read as tokens.
struct Named {
    /// The module the visitor is in, from the crate root.
    module: Vec<String>,
    paths: Vec<String>,
}

impl Named {
    /// A path as written, resolved from the crate root where it starts
    /// with `self` or `super`.
    fn resolve(&self, segments: &[String]) -> String {
        let mut at = self.module.clone();
        let mut rest = segments;
        match rest.first().map(String::as_str) {
            Some("self") => rest = &rest[1..],
            Some("super") => {
                while rest.first().map(String::as_str) == Some("super") {
                    at.pop();
                    rest = &rest[1..];
                }
            }
            _ => return segments.join("::"),
        }
        let mut all = vec!["crate".to_string()];
        all.extend(at);
        all.extend(rest.iter().cloned());
        all.join("::")
    }

    fn tree(&mut self, tree: &syn::UseTree, prefix: &mut Vec<String>) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.tree(&p.tree, prefix);
                prefix.pop();
            }
            syn::UseTree::Name(n) => self.named(prefix, &n.ident),
            syn::UseTree::Rename(r) => self.named(prefix, &r.ident),
            syn::UseTree::Glob(_) => {
                let path = self.resolve(prefix);
                self.paths.push(path);
            }
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.tree(t, prefix);
                }
            }
        }
    }

    fn named(&mut self, prefix: &[String], ident: &syn::Ident) {
        let mut all = prefix.to_vec();
        if ident != "self" {
            all.push(ident.to_string());
        }
        let path = self.resolve(&all);
        self.paths.push(path);
    }
}

impl<'ast> syn::visit::Visit<'ast> for Named {
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let mut prefix = Vec::new();
        if u.leading_colon.is_some() {
            prefix.push(String::new());
        }
        self.tree(&u.tree, &mut prefix);
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        self.module.push(m.ident.to_string());
        syn::visit::visit_item_mod(self, m);
        self.module.pop();
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        let path = self.resolve(&segments);
        self.paths.push(path);
        syn::visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        let tokens = m.tokens.to_string().replace(' ', "");
        let mut rest = tokens.as_str();
        while let Some(at) = rest.find("crate::") {
            let path: String = rest[at..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            self.paths.push(path.trim_end_matches(':').to_string());
            rest = &rest[at + 7..];
        }
        syn::visit::visit_macro(self, m);
    }
}

/// The module of a source file: `src/store/read/list.rs` is
/// `store::read::list`, `src/store/mod.rs` is `store`.
fn module_of(file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src()).unwrap();
    let mut parts: Vec<String> = rel
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// Every path `file` names (see `Named`).
fn named_paths(file: &Path, text: &str) -> Vec<String> {
    let ast = syn::parse_file(text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let mut named = Named {
        module: module_of(file),
        paths: Vec::new(),
    };
    syn::visit::Visit::visit_file(&mut named, &ast);
    named.paths
}

/// Whether `path` reaches into `banned`: a crate (`ratatui`) or a module
/// of this one (`crate::tui::app`), itself or anything below it.
fn reaches(path: &str, banned: &str) -> bool {
    path == banned
        || path.starts_with(&format!("{banned}::"))
        || (!banned.starts_with("crate::") && path.starts_with(&format!("::{banned}")))
}

/// Every (file, path) under `layer` that names one of `banned`.
fn offences(layer: &str, banned: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let root = src().join(layer);
    let files = if root.is_file() {
        vec![root]
    } else {
        sources(&root)
    };
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for path in named_paths(&file, &text) {
            for b in banned {
                if reaches(&path, b) && seen.insert(path.clone()) {
                    out.push(format!("{} names {path}", file.display()));
                }
            }
        }
    }
    out
}

#[test]
fn the_layer_check_reads_groups_renames_globs_and_super() {
    let file = src().join("store").join("read").join("list.rs");
    let text = "use crate::{present, store::Error as E};\n\
                use super::super::super::tui::*;\n\
                fn f() { let _ = ratatui::layout::Rect::default(); format!(\"{}\", crate::cli::x()); }\n";
    let paths = named_paths(&file, text);
    for want in [
        "crate::present",
        "crate::store::Error",
        "crate::tui",
        "ratatui::layout::Rect::default",
        "crate::cli::x",
    ] {
        assert!(paths.iter().any(|p| p == want), "{want} not in {paths:?}");
    }
    assert!(reaches("crate::present", "crate::present"));
    assert!(!reaches("crate::presenter", "crate::present"));
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
            "present",
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
        // The tools take config structs of their own: main.rs fills them in.
        ("demo", &["crate::cli"]),
        ("bench", &["crate::cli"]),
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
        all.extend(offences(layer, banned));
    }
    assert!(all.is_empty(), "imports that point up:\n{}", all.join("\n"));
}

/// The store's rooms, each under the ones it uses: `order/` (who waits
/// for whom) at the bottom with `open/` and `live/`, then `figures/`, then
/// `read/` and `lifecycle/`, then the writers `engine/`, `delivery/` and
/// `ingest/`, and on top `schedule/` (actions at a time, carried out
/// through the others' calls). Only `store/mod.rs`, the public face, names
/// them all.
#[test]
fn the_store_rooms_import_only_the_rooms_below_them() {
    let writers = [
        "crate::store::engine",
        "crate::store::delivery",
        "crate::store::ingest",
        "crate::store::schedule",
    ];
    // What the bottom rooms (order, open, live) may not reach.
    let above_the_ground = [
        "crate::store::figures",
        "crate::store::read",
        "crate::store::lifecycle",
        writers[0],
        writers[1],
        writers[2],
        writers[3],
    ];
    let rules: &[(&str, &[&str])] = &[
        ("store/order", &above_the_ground),
        ("store/open", &above_the_ground),
        ("store/live", &above_the_ground),
        ("store/figures", &above_the_ground[1..]),
        (
            "store/read",
            &[
                "crate::store::lifecycle",
                writers[0],
                writers[1],
                writers[2],
                writers[3],
            ],
        ),
        (
            "store/lifecycle",
            &[
                "crate::store::read",
                writers[0],
                writers[1],
                writers[2],
                writers[3],
            ],
        ),
        (
            "store/engine",
            &["crate::store::read", writers[1], writers[2], writers[3]],
        ),
        (
            "store/delivery",
            &["crate::store::read", writers[0], writers[2], writers[3]],
        ),
        (
            "store/ingest",
            &["crate::store::read", writers[0], writers[1], writers[3]],
        ),
        // Actions at a time carry out the operators' commands (lifecycle,
        // delivery's holds) and are carried out by no other room.
        (
            "store/schedule",
            &["crate::store::read", writers[0], writers[2]],
        ),
    ];
    let mut all = Vec::new();
    for (room, banned) in rules {
        all.extend(offences(room, banned));
    }
    assert!(
        all.is_empty(),
        "store rooms that reach up or across:\n{}",
        all.join("\n")
    );
}

/// Every lock the store takes is taken in `store/order/`: its lock
/// statements, its lock files, its waits.
#[test]
fn only_the_order_module_takes_a_lock() {
    let tokens = [
        "FOR UPDATE",
        "FOR SHARE",
        "pg_advisory",
        "pg_try_advisory",
        "LOCK TABLE",
        "BEGIN IMMEDIATE",
        "lock_timeout",
        "try_lock",
        "lock_shared",
        "lock_exclusive",
    ];
    let order = src().join("store").join("order");
    let mut all = Vec::new();
    for file in sources(&src().join("store")) {
        if file.starts_with(&order) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            if let Some(t) = tokens.iter().find(|t| line.contains(*t)) {
                all.push(format!("{}:{}: {t}", file.display(), n + 1));
            }
        }
    }
    assert!(
        all.is_empty(),
        "locks taken outside store/order/:\n{}",
        all.join("\n")
    );
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
fn no_store_file_is_over_400_lines() {
    let mut all = Vec::new();
    for file in sources(&src().join("store")) {
        let n = std::fs::read_to_string(&file).unwrap().lines().count();
        if n > 400 {
            all.push(format!("{} has {n} lines", file.display()));
        }
    }
    assert!(all.is_empty(), "{}", all.join("\n"));
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
                "pub(in crate::store) fn ",
                "pub(in crate::store) async fn ",
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

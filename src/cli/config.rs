//! Named stores, like k9s contexts: `$XDG_CONFIG_HOME/journeyctl/config.toml`
//! names stores (a URL, a colour, read-only or not) and a default one. A
//! mistake in it is an error naming the file, the line and the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::Global;
use crate::store::{Error, Location};

/// The colours a store may have in the console's header.
pub const COLOURS: &[&str] = &[
    "red", "green", "yellow", "blue", "magenta", "cyan", "white", "gray",
];

/// One named store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedStore {
    pub name: String,
    pub url: String,
    pub colour: Option<String>,
    pub read_only: bool,
    /// A file holding the PostgreSQL password (first line), readable by
    /// its owner only: the password is then in no URL, file or argument
    /// others can read.
    pub password_file: Option<PathBuf>,
    /// Where `password_file` is set, `FILE:LINE: stores.NAME.password_file`:
    /// the start of every error about it.
    pub password_file_at: String,
}

/// The config file, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub file: PathBuf,
    pub default_store: Option<String>,
    pub stores: Vec<NamedStore>,
    /// The console's key table, `[keys]` applied.
    pub keys: crate::tui::keymap::KeyMap,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    default_store: Option<Spanned<String>>,
    #[serde(default)]
    stores: BTreeMap<String, Spanned<RawStore>>,
    /// The console's keys: `stop = "z"`, `down = ["Down", "J"]`.
    #[serde(default)]
    keys: BTreeMap<String, Spanned<KeySpec>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum KeySpec {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    url: Spanned<String>,
    colour: Option<Spanned<String>>,
    #[serde(default)]
    read_only: bool,
    password_file: Option<Spanned<String>>,
}

/// Where the config file is: `$XDG_CONFIG_HOME/journeyctl/config.toml`
/// (`~/.config/...` when it is unset).
pub fn config_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("journeyctl").join("config.toml"))
}

/// The config file's path as text, for messages.
pub fn config_path_text() -> String {
    config_path().map_or("$XDG_CONFIG_HOME/journeyctl/config.toml".into(), |p| {
        p.display().to_string()
    })
}

/// The dotted key written on the line of `offset` (`stores.prod.read_only`
/// for `read_only = "yes"` under `[stores.prod]`): the parser's messages
/// say what is wrong, not where by name.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[start..].lines().next().unwrap_or("");
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches('"');
    if key.is_empty() || key.starts_with('#') || key.starts_with('[') {
        return None;
    }
    let table = text[..start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
    Some(match table {
        Some(t) if !t.is_empty() => format!("{t}.{key}"),
        _ => key.to_string(),
    })
}

/// Whether `text` holds a URL with a password (`scheme://user:pw@...`).
fn has_password(text: &str) -> bool {
    text.split("://")
        .nth(1)
        .and_then(|rest| rest.split_once('@'))
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

/// One warning line when the config file holds a password (a URL with
/// `user:password@`) and others than its owner may read it, as ssh warns
/// about a key.
fn warn_if_readable_secret(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    let holds_password = text.lines().any(has_password);
    let open_to_others = std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0);
    if holds_password && open_to_others {
        eprintln!(
            "journeyctl: warning: {} holds a password and others can read it: chmod 600 {}",
            path.display(),
            path.display()
        );
    }
}

/// The most of a config or password file read: far more than either
/// holds.
const MOST_FILE: u64 = 1024 * 1024;

/// A small file of the user's: a regular file (never a FIFO or a device,
/// which would hang or never end), no larger than `MOST_FILE`, and not
/// writable by others (anyone could then point the console at their own
/// store). `Ok(None)` when there is none.
pub(crate) fn read_own_file(path: &Path) -> Result<Option<String>, String> {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    if meta.permissions().mode() & 0o002 != 0 {
        return Err(format!(
            "{} can be written by anyone: chmod o-w {}",
            path.display(),
            path.display()
        ));
    }
    if meta.len() > MOST_FILE {
        return Err(format!(
            "{} is {} bytes; at most {MOST_FILE}",
            path.display(),
            meta.len()
        ));
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MOST_FILE).read_to_string(&mut text))
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(Some(text))
}

impl Config {
    /// The config file, or `None` when there is none.
    pub fn load() -> Result<Option<Config>, String> {
        let Some(path) = config_path() else {
            return Ok(None);
        };
        match read_own_file(&path)? {
            Some(text) => {
                warn_if_readable_secret(&path, &text);
                Config::parse(&path, &text).map(Some)
            }
            None => Ok(None),
        }
    }

    pub fn parse(file: &Path, text: &str) -> Result<Config, String> {
        let err = |offset: usize, key: &str, what: &str| {
            format!(
                "{}:{}: {key}: {what}",
                file.display(),
                crate::domain::text::line_of(text, offset)
            )
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let at = e.span().map_or(0, |s| s.start);
            let key = key_at(text, at)
                .map(|k| format!(" {k}:"))
                .unwrap_or_default();
            format!(
                "{}:{}:{key} {}",
                file.display(),
                crate::domain::text::line_of(text, at),
                e.message().trim_end()
            )
        })?;
        let mut stores = Vec::new();
        for (name, entry) in raw.stores {
            stores.push(named_store(name, entry.into_inner(), &err)?);
        }
        let keys = key_table(&raw.keys, file, text)?;
        if let Some(default) = &raw.default_store
            && !stores.iter().any(|s| s.name == *default.get_ref())
        {
            return Err(err(
                default.span().start,
                "default_store",
                &format!("no store {:?} in this file", default.get_ref()),
            ));
        }
        Ok(Config {
            keys,
            file: file.to_path_buf(),
            default_store: raw.default_store.map(Spanned::into_inner),
            stores,
        })
    }

    /// The store called `name`, or why there is none.
    pub fn store(&self, name: &str) -> Result<&NamedStore, String> {
        self.stores.iter().find(|s| s.name == name).ok_or_else(|| {
            let names: Vec<&str> = self.stores.iter().map(|s| s.name.as_str()).collect();
            format!(
                "no store {name:?} in {} (stores: {})",
                self.file.display(),
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )
        })
    }
}

/// The named store a session uses, as the console shows it.
#[derive(Debug, Clone, Default)]
pub struct Named {
    pub name: String,
    pub colour: Option<String>,
}

/// Picks the store: `--database-url`, `--store`, `DATABASE_URL`, the config
/// file's `default_store`, the embedded default, in that order. A named
/// store's URL is written into `global.database_url`, and a store marked
/// `read_only` makes the session read-only unless `--write` is given.
pub fn choose_store(global: &mut Global) -> anyhow::Result<Option<Named>> {
    if global
        .database_url
        .as_deref()
        .is_some_and(|u| !u.trim().is_empty())
    {
        return Ok(None);
    }
    let config = if global.store.is_some() {
        Some(Config::load().map_err(Error::Invalid)?.ok_or_else(|| {
            Error::Invalid(format!(
                "--store needs a config file: there is none at {}",
                config_path_text()
            ))
        })?)
    } else if let Some(url) = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        global.database_url = Some(url);
        return Ok(None);
    } else {
        Config::load().map_err(Error::Invalid)?
    };
    let Some(config) = config else {
        return Ok(None);
    };
    let name = match (&global.store, &config.default_store) {
        (Some(name), _) | (None, Some(name)) => name.clone(),
        (None, None) => return Ok(None),
    };
    let store = config.store(&name).map_err(Error::Invalid)?;
    global.database_url = Some(match &store.password_file {
        Some(file) => {
            with_password(&store.url, file, &store.password_file_at).map_err(Error::Invalid)?
        }
        None => store.url.clone(),
    });
    if store.read_only && !global.write {
        global.read_only = true;
    }
    Ok(Some(Named {
        name: store.name.clone(),
        colour: store.colour.clone(),
    }))
}

/// One `[stores.NAME]` entry, checked; errors are `FILE:LINE: KEY: why`.
fn named_store(
    name: String,
    entry: RawStore,
    err: &dyn Fn(usize, &str, &str) -> String,
) -> Result<NamedStore, String> {
    let key = format!("stores.{name}");
    let url = entry.url.get_ref().trim().to_string();
    if let Err(e) = Location::parse(&url) {
        return Err(err(
            entry.url.span().start,
            &format!("{key}.url"),
            &e.to_string(),
        ));
    }
    if let Some(colour) = &entry.colour
        && !COLOURS.contains(&colour.get_ref().as_str())
    {
        return Err(err(
            colour.span().start,
            &format!("{key}.colour"),
            &format!(
                "{:?} is not one of {}",
                colour.get_ref(),
                COLOURS.join(", ")
            ),
        ));
    }
    if entry.password_file.is_some() && !url.starts_with("postgres") {
        return Err(err(
            entry.url.span().start,
            &format!("{key}.password_file"),
            "is for a PostgreSQL store",
        ));
    }
    Ok(NamedStore {
        name,
        url,
        colour: entry.colour.map(Spanned::into_inner),
        read_only: entry.read_only,
        password_file_at: entry.password_file.as_ref().map_or_else(String::new, |p| {
            err(p.span().start, &format!("{key}.password_file"), "")
                .trim_end_matches(": ")
                .to_string()
        }),
        password_file: entry.password_file.map(|p| PathBuf::from(p.into_inner())),
    })
}

/// `url` with the password read from `file` (its first line); the file
/// must be readable by its owner only, as `~/.pgpass` must.
fn with_password(url: &str, file: &Path, key: &str) -> Result<String, String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(file)
        .map_err(|e| format!("{key}: cannot read {}: {e}", file.display()))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(format!(
            "{key}: {} is readable by others: chmod 600 {}",
            file.display(),
            file.display()
        ));
    }
    let text = read_own_file(file)
        .map_err(|e| format!("{key}: {e}"))?
        .ok_or_else(|| format!("{key}: cannot read {}: no such file", file.display()))?;
    let password = text.lines().next().unwrap_or("").trim_end();
    let mut parsed =
        reqwest::Url::parse(url).map_err(|e| format!("{key}: the store's url: {e}"))?;
    if parsed.username().is_empty() {
        return Err(format!(
            "{key}: the store's url names no user for this password"
        ));
    }
    parsed
        .set_password(Some(password))
        .map_err(|()| format!("{key}: the store's url cannot take a password"))?;
    Ok(parsed.to_string())
}

/// `[keys]` applied to the default key table; a refused remap as
/// `FILE:LINE: keys.ACTION: why`.
fn key_table(
    keys: &BTreeMap<String, Spanned<KeySpec>>,
    file: &Path,
    text: &str,
) -> Result<crate::tui::keymap::KeyMap, String> {
    let remaps: Vec<(String, Vec<String>)> = keys
        .iter()
        .map(|(action, spec)| {
            let keys = match spec.get_ref() {
                KeySpec::One(k) => vec![k.clone()],
                KeySpec::Many(ks) => ks.clone(),
            };
            (action.clone(), keys)
        })
        .collect();
    crate::tui::keymap::KeyMap::with_remaps(&remaps).map_err(|(i, why)| {
        let at = keys.values().nth(i).map_or(0, |s| s.span().start);
        format!(
            "{}:{}: {why}",
            file.display(),
            crate::domain::text::line_of(text, at)
        )
    })
}

/// The console's key table: the defaults, with the config file's `[keys]`
/// where there is one.
pub fn console_keys() -> anyhow::Result<crate::tui::keymap::KeyMap> {
    Ok(Config::load()
        .map_err(Error::Invalid)?
        .map(|c| c.keys)
        .unwrap_or_default())
}

/// `journeyctl stores`: the config file's stores, never a password.
pub(super) fn stores() -> anyhow::Result<()> {
    let Some(config) = Config::load().map_err(Error::Invalid)? else {
        println!(
            "no config file at {} (see docs/operations.md, \"Configuration: named stores\")",
            config_path_text()
        );
        return Ok(());
    };
    println!("{}", config.file.display());
    let mut grid = super::table::Grid::new(&["", "", "", ""]);
    for s in &config.stores {
        let default = config.default_store.as_deref() == Some(s.name.as_str());
        // The file is the user's, but its text is shown as any text is:
        // never an escape sequence for the terminal.
        grid.row(vec![
            format!(
                "{} {}",
                if default { "*" } else { " " },
                crate::present::escaped(&s.name)
            ),
            crate::present::escaped(&Location::parse(&s.url)?.display()).into_owned(),
            s.colour.clone().unwrap_or("-".into()),
            if s.read_only {
                "read-only"
            } else {
                "read-write"
            }
            .to_string(),
        ]);
    }
    print!("{}", grid.render());
    Ok(())
}

/// One warning line when a URL with a password was given on the command
/// line: every user of the host can read it in the process list.
pub(super) fn warn_password_in_arguments() {
    if std::env::args().skip(1).any(|a| has_password(&a)) {
        eprintln!(
            "journeyctl: warning: a password on the command line is visible to every user of this host (ps); use PGPASSWORD, ~/.pgpass or a named store instead"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(Path::new("config.toml"), text)
    }

    #[test]
    fn mistakes_name_the_line_and_key() {
        let e = parse("[stores.prod]\nurl = \"postgres://db/j\"\ncolour = \"pink\"\n").unwrap_err();
        assert!(
            e.starts_with("config.toml:3: stores.prod.colour: \"pink\""),
            "{e}"
        );
        let e = parse("default_store = \"nope\"\n[stores.a]\nurl = \"sqlite:a.db\"\n").unwrap_err();
        assert!(
            e.starts_with("config.toml:1: default_store: no store"),
            "{e}"
        );
        let e = parse("[stores.a]\nurl = \"sqlite:a.db\"\ncolor = \"red\"\n").unwrap_err();
        assert!(
            e.starts_with("config.toml:3: stores.a.color: unknown field `color`"),
            "{e}"
        );
        let e = parse("[stores.a]\nurl = \"mysql://x\"\n").unwrap_err();
        assert!(e.starts_with("config.toml:2: stores.a.url: "), "{e}");
        let e = parse("[stores.a\n").unwrap_err();
        assert!(e.starts_with("config.toml:1: "), "{e}");
    }
}

//! The channels file (SPEC §2c): which channel each action goes out
//! through. A mistake in it is an error naming the file, the line and the
//! key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::domain::time::parse_duration;

/// How one channel hands messages on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// HTTP POST of a JSON body per message.
    Webhook {
        url: String,
        headers: Vec<(String, String)>,
    },
    /// A program that reads NDJSON on standard input: exit 0, all sent.
    /// It starts with an empty environment but `PATH`, `HOME`, `LANG` and
    /// the variables the channel lists (`env = [...]`, read here).
    Command {
        argv: Vec<String>,
        env: Vec<(String, Secret)>,
    },
    /// NDJSON appended to a file.
    Log { path: PathBuf },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub name: String,
    pub kind: Kind,
    pub timeout: Duration,
    pub max_attempts: i64,
    /// Rate and concurrency over every worker of the store.
    pub flow: super::flow::Flow,
    /// The failing-channel guardrail.
    pub guard: Option<super::guard::FailGuard>,
    /// The values the channel took from the environment (its `${VAR}`s
    /// and its command's `env`), by name: never stored or shown.
    pub secrets: Secrets,
}

/// How a channels file reads the environment.
type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The values a channel took from the environment, by name.
pub type Secrets = Vec<(String, Secret)>;

/// A value from the environment: its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// The most of a child's output or an error kept as a message's last
/// error.
pub const MAX_STORED_ERROR: usize = 200;

impl Channel {
    /// `text` as it may be stored: each secret's value replaced by its
    /// `${NAME}`, at most [`MAX_STORED_ERROR`] bytes.
    pub fn redacted(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (name, Secret(value)) in &self.secrets {
            if value.len() >= 3 {
                out = out.replace(value.as_str(), &format!("${{{name}}}"));
                out = super::redact::redact_fragments(&out, value, &format!("${{{name}}}…"));
            }
        }
        if out.len() > MAX_STORED_ERROR {
            let mut cut = MAX_STORED_ERROR;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            out.push('…');
        }
        out
    }
}

impl Channel {
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Webhook { .. } => "webhook",
            Kind::Command { .. } => "command",
            Kind::Log { .. } => "log",
        }
    }
}

/// Every channel of a channels file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Channels {
    pub channels: Vec<Channel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    channels: BTreeMap<String, Spanned<RawChannel>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChannel {
    kind: Spanned<String>,
    url: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    max_attempts: Option<Spanned<i64>>,
    rate: Option<Spanned<String>>,
    concurrency: Option<Spanned<i64>>,
    pause_when_failing: Option<Spanned<super::guard::RawFailGuard>>,
    #[serde(default)]
    headers: BTreeMap<String, Spanned<String>>,
    command: Option<Spanned<Vec<String>>>,
    /// A command channel's environment variables, by name.
    #[serde(default)]
    env: Vec<String>,
    path: Option<Spanned<String>>,
}

/// Where a mistake is: `FILE:LINE: KEY: what is wrong`.
struct At<'a> {
    file: &'a Path,
    text: &'a str,
}

impl At<'_> {
    fn line(&self, offset: usize) -> usize {
        self.text.as_bytes()[..offset.min(self.text.len())]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn err<T>(&self, span: std::ops::Range<usize>, key: &str, what: String) -> Result<T, String> {
        Err(format!(
            "{}:{}: {key}: {what}",
            self.file.display(),
            self.line(span.start)
        ))
    }
}

impl Channels {
    /// Reads and checks a channels file; `env` resolves `${VAR}`.
    pub fn load(path: &Path) -> Result<Channels, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the channels file {}: {e}", path.display()))?;
        Channels::parse(path, &text, &|name| std::env::var(name).ok())
    }

    /// Reads and checks a channels file for its routing alone (which
    /// channel each action goes out through): a secret's variable that is
    /// not set stands in as `unset`, so a viewer needs no token to look.
    pub fn load_routing(path: &Path) -> Result<Channels, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the channels file {}: {e}", path.display()))?;
        Channels::parse(path, &text, &|name| {
            Some(std::env::var(name).unwrap_or_else(|_| "unset".into()))
        })
    }

    pub fn parse(
        file: &Path,
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Channels, String> {
        let at = At { file, text };
        let raw: RawFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| at.line(s.start)).unwrap_or(1);
            format!("{}:{line}: {}", file.display(), e.message())
        })?;
        let mut channels = Vec::new();
        for (name, raw) in raw.channels {
            let span = raw.span();
            channels.push(channel(&at, &name, span, raw.into_inner(), env)?);
        }
        if channels.is_empty() {
            return Err(format!(
                "{}: no channels: add a [channels.NAME] table (see `journeyctl deliver --help`)",
                file.display()
            ));
        }
        Ok(Channels { channels })
    }

    /// The channel of an action: the one whose name equals it or equals a
    /// part of it before a `:`; the longest name wins.
    pub fn route(&self, action: &str) -> Option<&Channel> {
        self.channels
            .iter()
            .filter(|c| {
                action == c.name
                    || action
                        .strip_prefix(c.name.as_str())
                        .is_some_and(|rest| rest.starts_with(':'))
            })
            .max_by_key(|c| c.name.len())
    }
}

/// A command channel's `env`: each listed variable with its value.
fn listed_env(names: &[String], env: Env<'_>) -> Result<Secrets, String> {
    names
        .iter()
        .map(|var| match env(var) {
            Some(v) => Ok((var.clone(), Secret(v))),
            None => Err(format!("the environment variable {var} is not set")),
        })
        .collect()
}

fn channel(
    at: &At,
    name: &str,
    span: std::ops::Range<usize>,
    raw: RawChannel,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Channel, String> {
    let key = |k: &str| format!("channels.{name}.{k}");
    let timeout = match &raw.timeout {
        None => Duration::from_secs(10),
        Some(t) => match parse_duration(t.get_ref()) {
            Ok(ms) if ms > 0 => Duration::from_millis(ms as u64),
            Ok(_) => return at.err(t.span(), &key("timeout"), "must be more than 0".into()),
            Err(e) => return at.err(t.span(), &key("timeout"), e),
        },
    };
    let max_attempts = match &raw.max_attempts {
        None => 5,
        Some(n) if *n.get_ref() >= 1 => *n.get_ref(),
        Some(n) => return at.err(n.span(), &key("max_attempts"), "must be 1 or more".into()),
    };
    let (flow, guard) = flow(at, name, &raw)?;
    let mut secrets = Vec::new();
    let kind = match raw.kind.get_ref().as_str() {
        "webhook" => webhook(at, name, &span, &raw, env, &mut secrets)?,
        "command" => match &raw.command {
            Some(c) if !c.get_ref().is_empty() => {
                let passed =
                    listed_env(&raw.env, env).or_else(|e| at.err(c.span(), &key("env"), e))?;
                secrets.extend(passed.iter().cloned());
                Kind::Command {
                    argv: c.get_ref().clone(),
                    env: passed,
                }
            }
            Some(c) => return at.err(c.span(), &key("command"), "is empty".into()),
            None => {
                return at.err(
                    span,
                    &key("command"),
                    "missing (a command channel needs command = [\"program\", \"arg\"])".into(),
                );
            }
        },
        "log" => match &raw.path {
            Some(p) if !p.get_ref().trim().is_empty() => Kind::Log {
                path: PathBuf::from(p.get_ref()),
            },
            Some(p) => return at.err(p.span(), &key("path"), "is empty".into()),
            None => {
                return at.err(
                    span,
                    &key("path"),
                    "missing (a log channel needs path = \"FILE\")".into(),
                );
            }
        },
        other => {
            return at.err(
                raw.kind.span(),
                &key("kind"),
                format!("unknown kind {other:?} (webhook, command or log)"),
            );
        }
    };
    Ok(Channel {
        name: name.to_string(),
        kind,
        timeout,
        max_attempts,
        flow,
        guard,
        secrets,
    })
}

/// `rate = "200/s"`, `concurrency = 8` and `pause_when_failing`.
fn flow(
    at: &At,
    name: &str,
    raw: &RawChannel,
) -> Result<(super::flow::Flow, Option<super::guard::FailGuard>), String> {
    let key = |k: &str| format!("channels.{name}.{k}");
    let rate = match &raw.rate {
        None => None,
        Some(r) => match super::flow::Rate::parse(r.get_ref()) {
            Ok(rate) => Some(rate),
            Err(e) => return at.err(r.span(), &key("rate"), e),
        },
    };
    let concurrency = match &raw.concurrency {
        None => None,
        Some(n) if (1..=10_000).contains(n.get_ref()) => Some(*n.get_ref()),
        Some(n) => return at.err(n.span(), &key("concurrency"), "must be 1 to 10,000".into()),
    };
    let guard = match &raw.pause_when_failing {
        None => None,
        Some(g) => Some(
            g.get_ref()
                .check()
                .or_else(|e| at.err(g.span(), &key("pause_when_failing"), e))?,
        ),
    };
    Ok((super::flow::Flow { rate, concurrency }, guard))
}

fn webhook(
    at: &At,
    name: &str,
    span: &std::ops::Range<usize>,
    raw: &RawChannel,
    env: Env<'_>,
    secrets: &mut Secrets,
) -> Result<Kind, String> {
    let key = |k: &str| format!("channels.{name}.{k}");
    let Some(url) = &raw.url else {
        return at.err(
            span.clone(),
            &key("url"),
            "missing (a webhook channel needs url = \"http://...\")".into(),
        );
    };
    match reqwest::Url::parse(url.get_ref()) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
        Ok(u) => {
            return at.err(
                url.span(),
                &key("url"),
                format!("scheme {:?} is not http or https", u.scheme()),
            );
        }
        Err(e) => {
            return at.err(
                url.span(),
                &key("url"),
                format!("{:?} is not a URL ({e})", without_userinfo(url.get_ref())),
            );
        }
    }
    let mut headers = Vec::new();
    for (h, value) in &raw.headers {
        let k = key(&format!("headers.{h}"));
        let v = expand(value.get_ref(), env, secrets).or_else(|e| at.err(value.span(), &k, e))?;
        if reqwest::header::HeaderName::from_bytes(h.as_bytes()).is_err() {
            return at.err(value.span(), &k, format!("{h:?} is not a header name"));
        }
        if reqwest::header::HeaderValue::from_str(&v).is_err() {
            return at.err(
                value.span(),
                &k,
                "the value is not a valid header value".into(),
            );
        }
        headers.push((h.clone(), v));
    }
    Ok(Kind::Webhook {
        url: url.get_ref().clone(),
        headers,
    })
}

/// A URL as it may be shown: `user:password@` left out.
fn without_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((_, host)) => format!("{scheme}://…@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// `${VAR}` from the environment (each value noted in `secrets`); a
/// variable that is not set is an error.
fn expand(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
    secrets: &mut Secrets,
) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err("\"${\" without a closing \"}\"".into());
        };
        let var = &after[..end];
        match env(var) {
            Some(v) => {
                out.push_str(&v);
                secrets.push((var.to_string(), Secret(v)));
            }
            None => return Err(format!("the environment variable {var} is not set")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Channels, String> {
        Channels::parse(Path::new("ch.toml"), text, &|v| {
            (v == "TOKEN").then(|| "s3cret".to_string())
        })
    }

    #[test]
    fn longest_name_wins_and_unknown_actions_have_none() {
        let c = parse(
            "[channels.email]\nkind = \"log\"\npath = \"/tmp/e\"\n\
             [channels.\"email:vip\"]\nkind = \"log\"\npath = \"/tmp/v\"\n\
             [channels.webhook]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/x\"\n\
             headers = { Authorization = \"Bearer ${TOKEN}\" }\n",
        )
        .unwrap();
        assert_eq!(c.route("email").unwrap().name, "email");
        assert_eq!(c.route("email:subject-a").unwrap().name, "email");
        assert_eq!(c.route("email:vip").unwrap().name, "email:vip");
        assert_eq!(c.route("email:vip:x").unwrap().name, "email:vip");
        assert_eq!(c.route("webhook:crm").unwrap().name, "webhook");
        assert!(c.route("emailer").is_none());
        assert!(c.route("sms").is_none());
        let Kind::Webhook { headers, .. } = &c.route("webhook").unwrap().kind else {
            panic!()
        };
        assert_eq!(headers[0].1, "Bearer s3cret");
    }

    #[test]
    fn mistakes_name_file_line_and_key() {
        let e = parse("[channels.email]\nkind = \"log\"\npath = \"/tmp/e\"\ntimout = \"5s\"\n")
            .unwrap_err();
        assert!(e.starts_with("ch.toml:4: "), "{e}");
        assert!(e.contains("timout"), "{e}");
        let e = parse("[channels.a]\nkind = \"webhook\"\nurl = \"http://x/\"\ntimeout = \"5x\"\n")
            .unwrap_err();
        assert!(e.starts_with("ch.toml:4: channels.a.timeout: "), "{e}");
        let e = parse("\n[channels.a]\nkind = \"webhook\"\nurl = \"http://x/\"\nheaders = { X = \"${NOPE}\" }\n")
            .unwrap_err();
        assert_eq!(
            e,
            "ch.toml:5: channels.a.headers.X: the environment variable NOPE is not set"
        );
        let e = parse("[channels.a]\nkind = \"smoke\"\n").unwrap_err();
        assert!(
            e.starts_with("ch.toml:2: channels.a.kind: unknown kind"),
            "{e}"
        );
        let e = parse("[channels.a]\nkind = \"webhook\"\nurl = \"ftp://x/\"\n").unwrap_err();
        assert!(e.starts_with("ch.toml:3: channels.a.url: "), "{e}");
        let e = parse("[channels.a\n").unwrap_err();
        assert!(e.starts_with("ch.toml:1: "), "{e}");
    }

    #[test]
    fn a_bad_url_is_named_without_its_password() {
        let e = parse("\n[channels.a]\nkind = \"webhook\"\nurl = \"http://ops:hunter2@[::1\"\n")
            .unwrap_err();
        assert!(e.contains("is not a URL"), "{e}");
        assert!(!e.contains("hunter2") && e.contains("http://…@[::1"), "{e}");
    }
}

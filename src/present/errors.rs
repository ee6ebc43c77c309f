//! Every error in words, in one place. The store and the CLI return facts
//! (`store::Error`, `domain::NotConfirmed`); the CLI prints `Display`, the
//! console's header and panes take the short forms below. A new error
//! gets its variant where it happens and its sentence here.

use std::fmt::{self, Display, Formatter};

use crate::domain::NotConfirmed;
use crate::store::{Error, Outage, ReadOnly, Refusal, Unopened};

impl Display for NotConfirmed {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.needs_yes {
            Some(action) => write!(
                f,
                "not confirmed: {action} needs --yes when there is no terminal to ask on"
            ),
            None => f.write_str("not confirmed: nothing was changed"),
        }
    }
}

impl Display for Error {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Error::Refused(r) => write!(f, "{}", refusal(r, Face::Cli)),
            Error::Invalid(why) => f.write_str(why),
            Error::UnknownJourney(name) => write!(f, "unknown journey {name:?}"),
            Error::NoSuchVersion {
                journey,
                number,
                has,
            } => {
                let has: Vec<String> = has.iter().map(|n| format!("v{n}")).collect();
                write!(
                    f,
                    "{journey} has no version {number} (it has {})",
                    has.join(", ")
                )
            }
            Error::ReadOnly(r) => f.write_str(&read_only_words(r)),
            // Opening names the store; a file gone or a watch lost says it.
            Error::Unreachable {
                location: Some(location),
                cause,
            } => write!(f, "cannot open the store ({location}): {}", outage(cause)),
            Error::Unreachable { cause, .. } => f.write_str(&outage(cause)),
            Error::Unopened { location, why } => {
                write!(f, "cannot open the store ({location}): {}", unopened(why))
            }
            Error::LockWait {
                lock: Some(path),
                cause,
            } => write!(f, "cannot take the lock {}: {cause}", path.display()),
            Error::LockWait { lock: None, cause } => write!(f, "a lock wait failed: {cause}"),
            Error::Corrupt { what } => f.write_str(what),
            Error::Migration(why) => write!(f, "cannot migrate the schema: {why}"),
            Error::GaveUp => {
                f.write_str("gave up waiting: the action did not run, nothing was changed")
            }
            Error::InFlight(n) => write!(f, "{n} deliveries are still in flight"),
            Error::Requested(r) => f.write_str(&crate::present::requested_words(r)),
            Error::Db(e) => f.write_str(&database(e)),
        }
    }
}

/// Who reads the words: a command line (which names its flags) or the
/// console (which has keys, not flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    Cli,
    Console,
}

/// An error as the console says it: without the CLI's flags.
pub fn for_console(e: &Error) -> String {
    match e {
        Error::Refused(r) => refusal(r, Face::Console),
        other => other.to_string(),
    }
}

/// Why the store cannot give the console its data, in the header's few
/// words: "connection refused by 127.0.0.1:5432".
pub fn outage_short(e: &Error) -> String {
    match e {
        Error::Unreachable {
            cause: Outage::Refused { server },
            ..
        } => format!("connection refused by {server}"),
        Error::Unreachable { cause, .. } => outage(cause),
        Error::Db(sqlx::Error::Io(io)) => io_words(io),
        other => for_console(other),
    }
}

/// A refusal of the rules.
pub fn refusal(r: &Refusal, face: Face) -> String {
    match r {
        Refusal::Status {
            verb,
            version,
            why,
            status,
            by,
        } => format!("cannot {verb} {version}: {why} ({status} {by})"),
        Refusal::NoLiveVersion {
            verb,
            journey,
            story,
            may_name_one,
        } => {
            let hint = match (may_name_one, face) {
                (true, Face::Cli) => "; name one with --version N, or use --all-versions",
                (true, Face::Console) => "; choose a version in the detail view",
                (false, _) => "",
            };
            format!("cannot {verb} {journey}: it has no live version ({story}){hint}")
        }
        Refusal::NoneOpen {
            verb,
            journey,
            candidates,
            story,
        } => format!("cannot {verb} {journey}: no version is {candidates} ({story})"),
        Refusal::NoneUsesAction {
            verb,
            candidates,
            action,
        } => format!("cannot {verb}: no version that is {candidates} uses the action {action:?}"),
        Refusal::NoneInStore {
            verb,
            candidates,
            incident: None,
        } => format!("cannot {verb}: no version of the store is {candidates}"),
        Refusal::NoneInStore {
            verb,
            candidates,
            incident: Some(id),
        } => format!(
            "cannot {verb}: no version paused by incident {id} is {candidates} (see journeyctl audit)"
        ),
        Refusal::NoDraft {
            journey,
            newest,
            status,
        } => format!(
            "{journey} has no draft to publish: its newest version v{newest} is {status}; apply a definition to make a new draft"
        ),
        Refusal::PublishedMeanwhile { version } => {
            format!("{version} was published by someone else at the same moment")
        }
        Refusal::ChangedMeanwhile { verb, version } => {
            format!("cannot {verb} {version}: it changed meanwhile")
        }
    }
}

/// Why an action is refused in a read-only session.
pub fn read_only(what: &str) -> String {
    format!(
        "read-only: {what} (--read-only, or the store's read_only in config.toml, which --write lifts)"
    )
}

fn read_only_words(r: &ReadOnly) -> String {
    match r {
        ReadOnly::Session { what } => read_only(what),
        ReadOnly::OldSchema { login } => format!(
            "the store's schema is older than this journeyctl and login {login} may not change it: run `journeyctl migrate` as the role that owns the schema"
        ),
        ReadOnly::NotEngine { login } => format!(
            "login {login} may not run the engine (tick, run); nothing was changed: the schema's owner allows it with `journeyctl grant --engine {login}`"
        ),
        ReadOnly::OwnerOnly { what, detail } => format!(
            "{what} must be run by the role that owns the store's schema (the one that ran `journeyctl migrate`): {detail}"
        ),
    }
}

fn outage(cause: &Outage) -> String {
    match cause {
        Outage::FileGone(path) => format!("no store at {}: the file is gone", path.display()),
        Outage::FileReplaced(path) => format!(
            "the store's file {} was replaced by another: reopening it",
            path.display()
        ),
        Outage::Refused { server } => {
            format!("connection refused by {server} (is PostgreSQL running there?)")
        }
        Outage::UnknownHost { server } => format!("unknown host: {server} does not resolve"),
        Outage::NoAnswer { within: Some(d) } => format!(
            "timed out: no answer within {}",
            crate::domain::time::duration_words(*d)
        ),
        Outage::NoAnswer { within: None } => {
            "timed out: the database did not answer in time".into()
        }
        Outage::Closed => "the connection was closed by the server".into(),
        Outage::SessionRefused(m) => format!("the server refused the session: {m}"),
        Outage::Tls(m) => format!("TLS failed: {m}"),
        Outage::ListenerLost => "the connection that listens for changes was lost".into(),
        Outage::FileEvents(why) => format!("cannot watch the store's file for changes: {why}"),
        Outage::Other(why) => why.clone(),
    }
}

/// An I/O failure of a session already open, in a few words.
fn io_words(io: &std::io::Error) -> String {
    match Outage::of_io(io, None) {
        Outage::Refused { .. } => "connection refused".into(),
        Outage::UnknownHost { .. } => "unknown host".into(),
        Outage::NoAnswer { .. } => "timed out".into(),
        other => outage(&other),
    }
}

fn unopened(why: &Unopened) -> String {
    match why {
        Unopened::Authentication(m) => format!("authentication failed: {m}"),
        Unopened::NoDatabase(m) => format!("no such database: {m}"),
    }
}

/// A database error in one line.
fn database(e: &sqlx::Error) -> String {
    let text = match e {
        // The store's four-eyes rule: no grant allows it.
        sqlx::Error::Database(d) if d.message().starts_with("four eyes:") => {
            format!("the store refused it: {}", d.message())
        }
        sqlx::Error::Database(d) if d.code().as_deref() == Some("42501") => {
            return format!(
                "the database refused this change for this role ({}); an administrator allows it with `journeyctl grant --operator ROLE` (a person's actions) or `journeyctl grant --engine ROLE` (run, tick, deliver, ingest)",
                d.message()
            );
        }
        sqlx::Error::Database(d) => format!("database error: {}", d.message()),
        sqlx::Error::PoolTimedOut => "the database did not answer in time".to_string(),
        sqlx::Error::Io(io) => format!("cannot reach the database: {}", io_words(io)),
        other => format!("database error: {other}"),
    };
    text.lines().next().unwrap_or_default().to_string()
}

//! What can go wrong in the store, as facts. The words are written at the
//! edges, from one module (`present::errors`): no code reads an error's
//! text, and the CLI and the console may say one fact in their own way.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug)]
pub enum Error {
    /// A change the rules do not allow, or one another operator won.
    Refused(Refusal),
    /// Bad input, in the words of the check that found it: a bad URL, a
    /// control character in a name, a role that does not exist.
    Invalid(String),
    /// No journey of that name.
    UnknownJourney(String),
    /// The journey has no version of that number.
    NoSuchVersion {
        journey: String,
        number: i64,
        has: Vec<i64>,
    },
    /// The store is read-only for this session or this login.
    ReadOnly(ReadOnly),
    /// The database did not answer, or stopped answering.
    Unreachable {
        /// The store, where it was being opened.
        location: Option<String>,
        cause: Outage,
    },
    /// The server answered and would not open a session for this login
    /// (credentials, database, TLS): bad input, not an outage.
    Unopened {
        location: String,
        why: Unopened,
    },
    /// Waiting for a turn (a lock file, a lock task) failed.
    LockWait {
        lock: Option<PathBuf>,
        cause: String,
    },
    /// A stored row cannot be read: a definition, a status, figures.
    Corrupt {
        what: String,
    },
    /// The schema could not be brought up to date.
    Migration(String),
    /// The operator gave up waiting (`--lock-timeout`, Esc): the action
    /// did not run.
    GaveUp,
    /// A stop found deliveries of a version still in flight; it waits and
    /// tries again.
    InFlight(i64),
    /// The store's policy makes this action ask another operator first:
    /// the request was recorded (four eyes). Not a failure.
    Requested(Box<crate::store::Request>),
    Db(sqlx::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Error {
        Error::Db(e)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Db(e) => Some(e),
            _ => None,
        }
    }
}

/// Why the rules refuse an operator's change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The version's status or hold does not allow it. `why` is the
    /// lifecycle table's reason.
    Status {
        verb: &'static str,
        version: String,
        why: String,
        status: String,
        by: String,
    },
    /// No version was named and the journey has no live one.
    NoLiveVersion {
        verb: &'static str,
        journey: String,
        story: String,
        /// Whether naming a version (or all of them) could do it.
        may_name_one: bool,
    },
    /// No version of the journey is one the action applies to.
    NoneOpen {
        verb: &'static str,
        journey: String,
        candidates: &'static str,
        story: String,
    },
    /// No version the action applies to sends through `action`.
    NoneUsesAction {
        verb: &'static str,
        candidates: &'static str,
        action: String,
    },
    /// No version of the store (or of an incident's) is one the action
    /// applies to.
    NoneInStore {
        verb: &'static str,
        candidates: &'static str,
        /// The incident whose versions were looked for, if any.
        incident: Option<String>,
    },
    /// Publish found no draft.
    NoDraft {
        journey: String,
        newest: i64,
        status: String,
    },
    /// Another operator published the same draft first.
    PublishedMeanwhile { version: String },
    /// The version changed between reading it and changing it.
    ChangedMeanwhile { verb: &'static str, version: String },
}

/// Why the store is read-only here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadOnly {
    /// This session is read-only (`--read-only`, a store marked so).
    Session { what: String },
    /// The schema is older than this journeyctl and the login may not
    /// change it.
    OldSchema { login: String },
    /// Only the schema's owner may do `what`.
    OwnerOnly { what: String, detail: String },
    /// The login may not run the engine (tick, run): refused before
    /// anything is written.
    NotEngine { login: String },
}

/// Why the database is out of reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outage {
    /// The SQLite file is gone.
    FileGone(PathBuf),
    /// Another file took the SQLite file's place (a restore, a demo run
    /// again): what was opened is no longer the store.
    FileReplaced(PathBuf),
    /// The server refused the connection.
    Refused { server: String },
    /// The host name does not resolve.
    UnknownHost { server: String },
    /// No answer within that long (`None`: the pool's own limit).
    NoAnswer { within: Option<Duration> },
    /// The server closed the connection.
    Closed,
    /// The server answered and opens no session now (starting up,
    /// shutting down, not accepting connections).
    SessionRefused(String),
    /// The TLS handshake failed.
    Tls(String),
    /// The connection that listens for changes was lost.
    ListenerLost,
    /// The kernel's file events failed.
    FileEvents(String),
    /// Any other failure, in the first line of the system's words.
    Other(String),
}

/// Why the server would not open a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unopened {
    Authentication(String),
    NoDatabase(String),
}

impl Outage {
    /// An I/O failure talking to the database.
    pub fn of_io(io: &std::io::Error, server: Option<&str>) -> Outage {
        use std::io::ErrorKind::*;
        let server = || server.unwrap_or("the server").to_string();
        match io.kind() {
            ConnectionRefused => Outage::Refused { server: server() },
            TimedOut => Outage::NoAnswer { within: None },
            ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => Outage::Closed,
            _ if is_unknown_host(io) => Outage::UnknownHost { server: server() },
            _ => Outage::Other(first_line(&io.to_string())),
        }
    }
}

fn is_unknown_host(io: &std::io::Error) -> bool {
    let text = io.to_string();
    text.contains("lookup address") || text.contains("Name or service not known")
}

pub(crate) fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}

impl Error {
    /// Whether retrying the same transaction may succeed (PostgreSQL
    /// deadlock or serialisation failure, SQLite busy).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Db(sqlx::Error::Database(d)) => matches!(
                d.code().as_deref(),
                Some("40P01") | Some("40001") | Some("5") | Some("517") | Some("261")
            ),
            Error::Db(sqlx::Error::PoolTimedOut) => true,
            _ => false,
        }
    }

    /// Whether another writer held the store (SQLite busy, a PostgreSQL
    /// deadlock or serialisation failure): an operator's action then waits
    /// its turn. An unreachable database is not busy.
    pub fn is_busy(&self) -> bool {
        !matches!(self, Error::Db(sqlx::Error::PoolTimedOut)) && self.is_transient()
    }

    /// Whether the rules refused it (exit status 3 on the CLI).
    pub fn is_refusal(&self) -> bool {
        matches!(self, Error::Refused(_) | Error::ReadOnly(_))
    }
}

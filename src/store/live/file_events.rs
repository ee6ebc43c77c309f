//! Writes to a SQLite store's file or its log, as the kernel reports them
//! (Linux inotify on the folder): a watcher sleeps until one comes instead
//! of looking on a timer. Where inotify cannot be had (another system, no
//! watches left), [`FileEvents::new`] says so and the caller looks every
//! 100 ms.

use std::ffi::OsString;
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::fs::inotify;
use tokio::io::unix::AsyncFd;

/// The writes to one store's files.
pub struct FileEvents {
    fd: AsyncFd<OwnedFd>,
    /// The store's file name; its log is this name with `-wal`.
    name: OsString,
}

impl FileEvents {
    /// Watches the folder of `store` for writes to it and its log.
    pub fn new(store: &Path) -> std::io::Result<FileEvents> {
        let name = store
            .file_name()
            .ok_or_else(|| std::io::Error::other("the store path names no file"))?
            .to_owned();
        let folder = match store.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let fd = inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK)?;
        let what = inotify::WatchFlags::MODIFY
            | inotify::WatchFlags::CLOSE_WRITE
            | inotify::WatchFlags::CREATE
            | inotify::WatchFlags::MOVED_TO
            | inotify::WatchFlags::DELETE;
        inotify::add_watch(&fd, folder, what)?;
        // `register`'s contract (the descriptor stays open and the same
        // while registered) holds: the `OwnedFd` moves in and is closed
        // only when the `AsyncFd` drops. `new` is its safe spelling.
        #[allow(deprecated)]
        let fd = AsyncFd::new(fd)?;
        Ok(FileEvents { fd, name })
    }

    /// Waits for a write to the store or its log (events about other files
    /// in the folder are read and passed over).
    pub async fn written(&self) -> std::io::Result<()> {
        loop {
            let mut ready = self.fd.readable().await?;
            let ours = self.drain()?;
            // `drain` read until the kernel had nothing more.
            ready.clear_ready();
            if ours {
                return Ok(());
            }
        }
    }

    /// Reads every queued event without waiting: whether one was about the
    /// store (a full queue counts as one: events were lost).
    pub fn drain(&self) -> std::io::Result<bool> {
        let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
        let mut reader = inotify::Reader::new(self.fd.get_ref(), &mut buf);
        let mut ours = false;
        loop {
            match reader.next() {
                Ok(event) => {
                    ours |= event.events().contains(inotify::ReadFlags::QUEUE_OVERFLOW)
                        || event
                            .file_name()
                            .is_some_and(|n| self.is_ours(n.to_bytes()));
                }
                Err(rustix::io::Errno::AGAIN) => return Ok(ours),
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn is_ours(&self, file: &[u8]) -> bool {
        let name = self.name.as_bytes();
        file.strip_prefix(name)
            .is_some_and(|rest| rest.is_empty() || rest == b"-wal")
    }
}

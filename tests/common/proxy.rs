//! A TCP proxy on 127.0.0.1 in front of a database server, for outage
//! tests: it forwards, goes quiet (holds every byte and every connection
//! open, as a cut network or a frozen host does), or cuts (closes every
//! connection and each new one at once, as a server that went away).

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Forward,
    Quiet,
    Cut,
}

pub struct Proxy {
    pub addr: SocketAddr,
    mode: watch::Sender<Mode>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// A proxy to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (mode, watching) = watch::channel(Mode::Forward);
        let upstream = upstream.to_string();
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let mode = watching.clone();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    if *mode.borrow() == Mode::Cut {
                        return;
                    }
                    let Ok(server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    tokio::join!(pipe(cr, sw, mode.clone()), pipe(sr, cw, mode));
                });
            }
        });
        Proxy { addr, mode, task }
    }

    pub fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }

    /// `url` (a `postgres://` URL) through this proxy.
    pub fn url_for(&self, url: &str, upstream: &str) -> String {
        url.replacen(upstream, &self.addr.to_string(), 1)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Copies `from` to `to` while the mode forwards; holds while it is quiet;
/// ends (closing both) when it cuts.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut mode: watch::Receiver<Mode>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        // Held while quiet: nothing is read, so nothing is passed on.
        while *mode.borrow() == Mode::Quiet {
            if mode.changed().await.is_err() {
                return;
            }
        }
        if *mode.borrow() == Mode::Cut {
            return;
        }
        tokio::select! {
            n = from.read(&mut buf) => match n {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    // A chunk read just as the link went quiet waits too.
                    while *mode.borrow() == Mode::Quiet {
                        if mode.changed().await.is_err() {
                            return;
                        }
                    }
                    if *mode.borrow() == Mode::Cut || to.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            },
            changed = mode.changed() => if changed.is_err() { return },
        }
    }
}

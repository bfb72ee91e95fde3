//! The connections: a write deadline on each, and room kept for new ones.
//!
//! A client that sends requests and never reads the answers (pipelining
//! `GET /metrics` with a small receive buffer, say) leaves the server's
//! writes pending. Two bounds keep that from denying service:
//!
//! - **Send timeout.** A write that makes no progress for `send_timeout_ms`
//!   fails, which ends the connection (as nginx's `send_timeout`). So a
//!   connection that does not read its answers is closed within that time.
//! - **Room for new connections.** When `max_connections` are open and
//!   another arrives, the connection whose writes have been stalled longest
//!   (for at least [`EVICT_AFTER`]) is closed to make room, instead of the
//!   newcomer waiting behind it. Connections that read what they are sent
//!   are never closed this way; if none is stalled, the newcomer waits for
//!   a free slot as before.
//! - **A bounded send buffer.** The listening socket's send buffer is set
//!   to `send_buffer_bytes` (accepted connections inherit it; the kernel
//!   doubles the figure for its bookkeeping), instead of letting the kernel
//!   grow it to megabytes per connection: a connection that does not read
//!   stalls after that much, and the kernel memory it holds is bounded.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Sleep;

/// How long a connection's writes must have been stalled before it may be
/// closed to make room for a new connection.
pub const EVICT_AFTER: Duration = Duration::from_secs(1);

/// A listening socket on `addr` whose connections get a send buffer of
/// `send_buffer` bytes.
pub fn listen(addr: std::net::SocketAddr, send_buffer: u32) -> io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    if send_buffer > 0 {
        socket.set_send_buffer_size(send_buffer)?;
    }
    socket.bind(addr)?;
    socket.listen(1024)
}

/// What the accept loop knows of one open connection.
#[derive(Debug)]
pub struct Info {
    /// Milliseconds since the registry's start at which a pending write
    /// began waiting; 0 while writes make progress.
    stalled_since: AtomicU64,
    /// Told to close the connection.
    pub close: Notify,
}

/// The open connections.
#[derive(Debug)]
pub struct Registry {
    start: Instant,
    next: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Info>>>,
}

impl Default for Registry {
    fn default() -> Registry {
        Registry {
            start: Instant::now(),
            next: AtomicU64::new(1),
            open: Mutex::new(HashMap::new()),
        }
    }
}

/// A connection's entry in the registry, removed when dropped.
#[derive(Debug)]
pub struct Entry {
    registry: Arc<Registry>,
    id: u64,
    /// The connection's state.
    pub info: Arc<Info>,
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.id);
    }
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Info>>> {
        self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn now_ms(&self) -> u64 {
        // Never 0, which means "not stalled".
        u64::try_from(self.start.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    /// Registers a new connection.
    pub fn add(self: &Arc<Self>) -> Entry {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let info = Arc::new(Info {
            stalled_since: AtomicU64::new(0),
            close: Notify::new(),
        });
        self.lock().insert(id, info.clone());
        Entry {
            registry: self.clone(),
            id,
            info,
        }
    }

    /// Closes the connection whose writes have been stalled longest, if one
    /// has been for at least [`EVICT_AFTER`]; whether one was.
    pub fn evict_stalled(&self) -> bool {
        let now = self.now_ms();
        let limit = u64::try_from(EVICT_AFTER.as_millis()).unwrap_or(u64::MAX);
        let victim = self
            .lock()
            .values()
            .filter_map(|info| {
                let since = info.stalled_since.load(Ordering::Relaxed);
                (since != 0 && now.saturating_sub(since) >= limit).then(|| (since, info.clone()))
            })
            .min_by_key(|(since, _)| *since);

        match victim {
            Some((_, info)) => {
                info.stalled_since.store(0, Ordering::Relaxed);
                info.close.notify_one();
                true
            }
            None => false,
        }
    }

    /// How many connections are open.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A stream whose writes fail after `timeout` without progress, and which
/// reports when its writes stall.
pub struct Watched<S> {
    inner: S,
    timeout: Duration,
    deadline: Option<Pin<Box<Sleep>>>,
    registry: Arc<Registry>,
    info: Arc<Info>,
}

impl<S> Watched<S> {
    /// `inner`, watched for `entry`'s connection.
    pub fn new(inner: S, timeout: Duration, entry: &Entry) -> Watched<S> {
        Watched {
            inner,
            timeout,
            deadline: None,
            registry: entry.registry.clone(),
            info: entry.info.clone(),
        }
    }

    /// What a write's outcome means for the deadline.
    fn watch<T>(&mut self, cx: &mut Context<'_>, outcome: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match outcome {
            Poll::Pending => {
                if self.deadline.is_none() {
                    self.deadline = Some(Box::pin(tokio::time::sleep(self.timeout)));
                    self.info.stalled_since.store(self.registry.now_ms(), Ordering::Relaxed);
                }
                match self.deadline.as_mut().map(|d| d.as_mut().poll(cx)) {
                    Some(Poll::Ready(())) => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("no write progress for {} ms", self.timeout.as_millis()),
                    ))),
                    _ => Poll::Pending,
                }
            }
            ready => {
                if self.deadline.take().is_some() {
                    self.info.stalled_since.store(0, Ordering::Relaxed);
                }
                ready
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let outcome = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, outcome)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let outcome = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, outcome)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let outcome = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, outcome)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let outcome = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(cx, outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_a_connection_stalled_long_enough_is_evicted_the_longest_first() {
        let registry = Arc::new(Registry::default());
        let (a, b, c) = (registry.add(), registry.add(), registry.add());
        assert_eq!(registry.len(), 3);
        assert!(!registry.evict_stalled(), "nothing is stalled");
        a.info.stalled_since.store(1, Ordering::Relaxed);
        b.info.stalled_since.store(2, Ordering::Relaxed);
        tokio::time::sleep(EVICT_AFTER + Duration::from_millis(10)).await;
        // Stalled just now: not yet a candidate.
        c.info.stalled_since.store(registry.now_ms(), Ordering::Relaxed);
        assert!(registry.evict_stalled());
        // The longest stalled is told to close, and only it.
        tokio::time::timeout(Duration::from_secs(1), a.info.close.notified())
            .await
            .unwrap();
        assert_eq!(a.info.stalled_since.load(Ordering::Relaxed), 0);
        assert_ne!(b.info.stalled_since.load(Ordering::Relaxed), 0);
        drop(a);
        assert_eq!(registry.len(), 2);
    }
}

//! What the service records of each request: its id (sent back as
//! `Dnd-Request-Id`, taken from an incoming `X-Request-Id` when it is a
//! plain token), a tracing span that puts the id in every log line written
//! while the request is handled, and the end of its answer, when the
//! request's latency is observed and its log line written: for a streamed
//! decide answer, after its last byte.

use std::hash::{BuildHasher, Hasher};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use hyper::header::HeaderMap;

use crate::service::OutBody;

/// The answer's header that carries the request's id.
pub const REQUEST_ID: &str = "Dnd-Request-Id";
/// The request's header whose id is taken, when it is a plain token.
pub const INCOMING_ID: &str = "X-Request-Id";
/// The longest incoming id taken.
pub const MAX_ID_BYTES: usize = 128;

/// The request's id: its `X-Request-Id` when that is 1 to 128 visible ASCII
/// characters (so it can be logged and echoed safely), else a new one, 16
/// hex digits unique in this process and unlikely to repeat across
/// processes.
pub fn request_id(headers: &HeaderMap) -> String {
    if let Some(id) = headers.get(INCOMING_ID).and_then(|v| v.to_str().ok()) {
        if !id.is_empty() && id.len() <= MAX_ID_BYTES && id.bytes().all(|b| b.is_ascii_graphic()) {
            return id.to_owned();
        }
    }
    static NEXT: AtomicU64 = AtomicU64::new(0);
    // A per-process random key (std's hasher seed) over a counter.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(NEXT.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}

/// An answer's body that calls `done` once, when the body ends or is
/// dropped (finished, failed or abandoned by the client).
pub struct Observed {
    body: OutBody,
    done: Option<Box<dyn FnOnce() + Send>>,
}

impl std::fmt::Debug for Observed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observed")
            .field("body", &self.body)
            .finish_non_exhaustive()
    }
}

impl Observed {
    /// `body`, calling `done` at its end.
    pub fn new(body: OutBody, done: impl FnOnce() + Send + 'static) -> Observed {
        Observed {
            body,
            done: Some(Box::new(done)),
        }
    }

    fn finish(&mut self) {
        if let Some(done) = self.done.take() {
            done();
        }
    }
}

impl Body for Observed {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        if matches!(polled, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            self.finish();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for Observed {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    #[test]
    fn an_incoming_token_is_kept_and_anything_else_replaced() {
        let mut h = HeaderMap::new();
        h.insert(INCOMING_ID, HeaderValue::from_static("abc-123"));
        assert_eq!(request_id(&h), "abc-123");
        for bad in ["has space", ""] {
            h.insert(INCOMING_ID, HeaderValue::from_str(bad).unwrap());
            let id = request_id(&h);
            assert_eq!(id.len(), 16, "{bad:?} -> {id}");
        }
        h.insert(INCOMING_ID, HeaderValue::from_str(&"x".repeat(129)).unwrap());
        assert_eq!(request_id(&h).len(), 16);
        let (a, b) = (request_id(&HeaderMap::new()), request_id(&HeaderMap::new()));
        assert_ne!(a, b);
    }

    #[test]
    fn done_is_called_once_at_the_end_or_on_drop() {
        let calls = std::sync::Arc::new(AtomicU64::new(0));
        let c = calls.clone();
        let body = Observed::new(OutBody::Full(Some(Bytes::from_static(b"x"))), move || {
            c.fetch_add(1, Ordering::Relaxed);
        });
        drop(body);
        assert_eq!(calls.load(Ordering::Relaxed), 1);
    }
}

//! One request: the route, the signature, the body within its limits, the
//! core's answer, and the platform's HTTP status for it.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use dnd_engine::{api_v4, Request, Response};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{HeaderMap, HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, StatusCode};
use tokio::sync::{mpsc, Semaphore};

use crate::apps::Apps;
use crate::auth::{Auth, Headers, TimeUnit};
use crate::backend::{Answered, Backend, Generation};
use crate::config::Config;
use crate::decide::scan::Scanner;
use crate::decide::{self, Job, OutPiece, Progress};
use crate::metrics::Metrics;
use crate::observe::{self, Observed};
use tracing::Instrument;

pub use crate::routes::DECIDE_PATH;

mod decide_route;
mod released_route;
use decide_route::decide_request;
use released_route::released_request;

/// The content type of `/metrics`.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What every request shares.
#[derive(Debug)]
pub struct State<B> {
    /// The settings of each app: this process's stores, or a cluster's.
    pub apps: Apps<B>,
    /// The signature checker.
    pub auth: Auth,
    /// The counters.
    pub metrics: Metrics,
    /// The limits.
    pub config: Config,
    /// The threads deciding pushes: a step of a decide holds one.
    pub decide_pool: Arc<Semaphore>,
}

/// An answer's body: whole, or streamed from the decide thread.
#[derive(Debug)]
pub enum OutBody {
    /// The whole body.
    Full(Option<Bytes>),
    /// Pieces; an empty piece marks the end, and a channel closed before it
    /// (the decide thread failed or panicked) is an error, so a cut answer
    /// never looks complete.
    Stream(mpsc::Receiver<OutPiece>),
}

impl Body for OutBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.get_mut() {
            OutBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            OutBody::Stream(rx) => match rx.poll_recv(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Some(Ok(b))) if b.is_empty() => {
                    rx.close();
                    Poll::Ready(None)
                }
                Poll::Ready(Some(Ok(b))) => Poll::Ready(Some(Ok(Frame::data(b)))),
                Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
                Poll::Ready(None) if rx.is_closed() && rx.is_empty() => {
                    Poll::Ready(Some(Err(std::io::Error::other("the answer was cut off"))))
                }
                Poll::Ready(None) => Poll::Ready(None),
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, OutBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            OutBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            OutBody::Full(None) => SizeHint::with_exact(0),
            OutBody::Stream(_) => SizeHint::default(),
        }
    }
}

/// An HTTP answer.
pub type Answer = hyper::Response<OutBody>;

/// The platform's HTTP status for a response code.
pub fn status_for(code: u16) -> StatusCode {
    match code {
        0 | 200 => StatusCode::OK,
        404 => StatusCode::NOT_FOUND,
        1001 | 1004 => StatusCode::UNAUTHORIZED,
        1002 | 1005 => StatusCode::BAD_REQUEST,
        1008 => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn answer(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Answer {
    let mut r = hyper::Response::new(OutBody::Full(Some(body.into())));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn json(status: StatusCode, body: String) -> Answer {
    answer(status, "application/json", body)
}

/// The answer for a platform response in its generation's shape.
fn platform(response: &Response, v4: bool) -> (Answer, u16) {
    let code = response.code();
    let body = if v4 {
        api_v4::to_json(response)
    } else {
        response.to_json()
    };
    (json(status_for(code), body), code)
}

fn error(code: u16, message: impl Into<String>) -> Response {
    Response::Error {
        code,
        message: message.into(),
    }
}

/// The answer when handling a request panicked.
pub fn internal_error() -> Answer {
    let (mut a, _) = platform(&error(1000, "internal error"), false);
    *a.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    a
}

/// Runs a handler in its own task, so that a panic in it fails that request
/// only: it answers `fallback()` (a 500, code 1000) and the server goes on.
pub async fn guarded<F, T>(handler: F, fallback: impl FnOnce() -> T) -> T
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    tokio::spawn(handler).await.unwrap_or_else(|_| fallback())
}

/// A bounded label for the metrics: the known paths by name, others as one.
fn label(path: &str) -> &'static str {
    crate::routes::find(path).map_or("other", |r| r.path)
}

/// Handles one request, in its own task (a panic answers 500) and within a
/// span that carries its id; the answer carries the id as `Dnd-Request-Id`.
/// When the answer's last byte is sent (or the client leaves), its latency
/// is observed and its log line written.
pub async fn handle<B: Backend>(state: Arc<State<B>>, request: hyper::Request<Incoming>) -> hyper::Response<Observed> {
    let started = Instant::now();
    let id = observe::request_id(request.headers());
    let span = tracing::info_span!("request", request_id = %id);
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let routed = {
        let state = state.clone();
        async move { route(&state, request).await }.instrument(span.clone())
    };
    let (mut answer, code, app) = guarded(routed, || (internal_error(), 1000, None)).await;
    let status = answer.status().as_u16();
    let label = label(&path);
    let app = app.unwrap_or_default();
    state.metrics.request(&app, label, status, code);
    if let Ok(value) = HeaderValue::from_str(&id) {
        answer.headers_mut().insert(observe::REQUEST_ID, value);
    }
    answer.map(move |body| {
        Observed::new(body, move || {
            let took = started.elapsed();
            state.metrics.latency(label, took);
            span.in_scope(|| {
                tracing::info!(
                    method = %method,
                    path = %path,
                    status,
                    code,
                    app_key = app.as_str(),
                    micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
                    "request"
                );
            });
        })
    })
}

async fn route<B: Backend>(state: &Arc<State<B>>, request: hyper::Request<Incoming>) -> (Answer, u16, Option<String>) {
    let path = request.uri().path();
    match (request.method(), path) {
        (&Method::GET, "/health") => return (json(StatusCode::OK, r#"{"status":"ok"}"#.into()), 200, None),
        (&Method::GET, "/ready") => {
            return if state.apps.ready() {
                (json(StatusCode::OK, r#"{"status":"ready"}"#.into()), 200, None)
            } else {
                let body = r#"{"status":"the store cannot take changes"}"#.into();
                (json(StatusCode::SERVICE_UNAVAILABLE, body), 503, None)
            }
        }
        (&Method::GET, "/metrics") => {
            for (key, backend) in state.apps.iter() {
                state.metrics.store(key, &backend.store_gauges());
            }
            state.metrics.nonces(state.auth.nonces_held(), state.config.max_nonces);
            let text = state.metrics.render();
            return (answer(StatusCode::OK, OPENMETRICS, text), 200, None);
        }
        (method, _) => match crate::routes::find(path) {
            Some(known) if known.method != method.as_str() => {
                let (mut a, code) = platform(
                    &error(1002, format!("method {method}: {path} takes {}", known.method)),
                    false,
                );
                *a.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
                a.headers_mut()
                    .insert(hyper::header::ALLOW, HeaderValue::from_static(known.method));
                return (a, code, None);
            }
            // A POST to a path the core may know: the core answers it.
            None if method == Method::POST => {}
            Some(_) => {}
            None => {
                let (a, code) = platform(&error(404, format!("{method} {path}: no such path")), false);
                return (a, code, None);
            }
        },
    }
    let v4 = api_v4::is_v4(path);
    let unit = if v4 { TimeUnit::Millis } else { TimeUnit::Seconds };
    let app = match check(&state.auth, request.headers(), unit) {
        Ok(app) => app,
        Err(refusal) => {
            let (a, code) = platform(&refusal, v4);
            return (a, code, configured_key(state, request.headers()));
        }
    };
    if state.apps.get(&app).is_none() {
        let (a, code) = platform(&error(1001, "header App-Key: no settings for this app key"), v4);
        return (a, code, Some(app));
    }
    let path = path.to_owned();
    if path == dnd_engine::released::PATH {
        let (a, code) = released_request(state, &app, request).await;
        return (a, code, Some(app));
    }
    if path == DECIDE_PATH {
        let explain = request.uri().query().is_some_and(|q| {
            q.split('&')
                .any(|p| p == "explain" || p == "explain=true" || p == "explain=1")
        });
        let after = match after(request.headers()) {
            Ok(after) => after,
            Err(refusal) => {
                let (a, code) = platform(&refusal, false);
                return (a, code, Some(app));
            }
        };
        let (a, code) = decide_request(state, &app, request, explain, after).await;
        return (a, code, Some(app));
    }
    let after = match after(request.headers()) {
        Ok(after) => after,
        Err(refusal) => {
            let (a, code) = platform(&refusal, v4);
            return (a, code, Some(app));
        }
    };
    let source = match request.headers().get(IDEMPOTENCY_KEY).map(|v| v.as_bytes().to_owned()) {
        Some(key) => (IDEMPOTENCY_KEY, key),
        None => (
            "nonce",
            request
                .headers()
                .get("Nonce")
                .map(|v| v.as_bytes().to_owned())
                .unwrap_or_default(),
        ),
    };
    let body = match read_body(state, request).await {
        Ok(body) => body,
        Err((response, status)) => {
            let (mut a, code) = platform(&response, v4);
            if let Some(status) = status {
                *a.status_mut() = status;
            }
            return (a, code, Some(app));
        }
    };
    let parsed = if v4 {
        api_v4::parse(&path, &body)
    } else {
        Request::parse(&path, &body)
    };
    let generation = Generation::of(&path);
    let Some(backend) = state.apps.get(&app) else {
        return (internal_error(), 1000, Some(app));
    };
    let answered = match parsed {
        Err(e) => generation.render(&Response::from_error(&e)),
        Ok(request) if request.is_change() => {
            let write = write_id(&app, source, &path, &body);
            backend.change(request, generation, write).await
        }
        Ok(request) => backend.query(request, generation, after).await,
    };
    let code = answered.code;
    (answered_http(answered), code, Some(app))
}

/// The header a client names a write with, so that a retry of it (with a
/// fresh `Nonce`) is applied once by a backend that deduplicates.
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// The header a read names the log position it must reflect with: the
/// `Dnd-Seq` of the client's last write (a cluster's read your writes).
pub const AFTER: &str = "Dnd-After";

/// The `Dnd-After` header: 0 without one.
fn after(headers: &HeaderMap) -> Result<u64, Response> {
    match headers.get(AFTER) {
        None => Ok(0),
        Some(v) => v.to_str().ok().and_then(|v| v.trim().parse().ok()).ok_or_else(|| {
            error(
                1002,
                format!("header {AFTER}: not a log position (a whole number, the Dnd-Seq of a write)"),
            )
        }),
    }
}

/// A write's id for deduplication: the hex SHA-1 of the app key, where the
/// client's key for the write comes from (`Idempotency-Key`, else the
/// request's `Nonce`), that key, the path and the body. The same request
/// retried under the same key has the same id; a different request under a
/// reused key does not.
pub fn write_id(app: &str, source: (&str, Vec<u8>), path: &str, body: &[u8]) -> String {
    use sha1::Digest;
    let mut h = sha1::Sha1::new();
    for part in [app.as_bytes(), source.0.as_bytes(), &source.1, path.as_bytes(), body] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    hex::encode(h.finalize())
}

/// The HTTP answer for a settings answer: its status by code, and, for a
/// change appended to a replicated log, `Dnd-Seq` and `Dnd-Duplicate`.
fn answered_http(a: Answered) -> Answer {
    let mut r = json(status_for(a.code), a.json);
    if let Some(seq) = a.seq {
        let h = r.headers_mut();
        h.insert("Dnd-Seq", HeaderValue::from(seq));
        h.insert(
            "Dnd-Duplicate",
            HeaderValue::from_static(if a.duplicate { "true" } else { "false" }),
        );
    }
    r
}

/// The request's `App-Key` when it is one the configuration names (so a
/// refused request from a known app is logged under its key; an unknown
/// key is never written to the logs or the metrics' labels).
fn configured_key<B>(state: &State<B>, headers: &HeaderMap) -> Option<String> {
    let key = headers.get("App-Key")?.to_str().ok()?;
    state.config.apps.iter().any(|a| a.key == key).then(|| key.to_owned())
}

fn check(auth: &Auth, headers: &HeaderMap, unit: TimeUnit) -> Result<String, Response> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let h = Headers {
        app_key: get("App-Key"),
        nonce: get("Nonce"),
        timestamp: get("Timestamp"),
        signature: get("Signature"),
    };
    auth.check(h, unit)
        .map(str::to_owned)
        .map_err(|r| error(r.code, r.message))
}

/// The whole body of a settings request, within its size and time limits.
async fn read_body<B>(
    state: &State<B>,
    request: hyper::Request<Incoming>,
) -> Result<Vec<u8>, (Response, Option<StatusCode>)> {
    let max = state.config.max_body_bytes;
    let too_large = || (error(1005, format!("the request body exceeds {max} bytes")), None);
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let mut body = request.into_body();
    let mut bytes = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(state.config.body_timeout_ms);
    loop {
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => {
                let message = format!(
                    "the request body did not arrive within {} ms",
                    state.config.body_timeout_ms
                );
                return Err((error(1002, message), Some(StatusCode::REQUEST_TIMEOUT)));
            }
            Ok(None) => return Ok(bytes),
            Ok(Some(Err(e))) => return Err((error(1002, format!("reading the request body: {e}")), None)),
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    if bytes.len() + data.len() > max {
                        return Err(too_large());
                    }
                    bytes.extend_from_slice(&data);
                }
            }
        }
    }
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_in_a_handler_is_a_500_for_that_request_only() {
        let panics = guarded(async { panic!("a bug") }, internal_error).await;
        assert_eq!(panics.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = match panics.into_body() {
            OutBody::Full(Some(b)) => b,
            other => panic!("{other:?}"),
        };
        assert_eq!(&body[..], br#"{"code":1000,"errorMessage":"internal error"}"#);
        let fine = guarded(async { json(StatusCode::OK, "{}".into()) }, internal_error).await;
        assert_eq!(fine.status(), StatusCode::OK);
    }

    #[test]
    fn the_platform_statuses() {
        let pairs = [
            (0, 200),
            (200, 200),
            (404, 404),
            (1001, 401),
            (1004, 401),
            (1002, 400),
            (1005, 400),
            (1008, 429),
            (1000, 500),
            (500, 500),
        ];
        for (code, status) in pairs {
            assert_eq!(status_for(code).as_u16(), status, "{code}");
        }
    }
}

//! The decide endpoint's route: the push read and scanned as it arrives,
//! then decided on the pool in steps, each step streamed out once the
//! client has taken the one before.

use std::sync::Arc;

use bytes::Bytes;
use dnd_engine::Response;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::StatusCode;
use tokio::sync::mpsc;

use super::*;

/// A refusal of a decide whose body may not have been read: the connection
/// closes after it, so nothing of the body is read as a next request.
fn refused(response: &Response, status: Option<StatusCode>) -> (Answer, u16) {
    let (mut a, code) = platform(response, false);
    if let Some(status) = status {
        *a.status_mut() = status;
    }
    a.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    (a, code)
}

/// Reads a decide body as it arrives, scanning it ([`Scanner`]): within
/// `max_decide_body_bytes`, no pause over `body_timeout_ms`, and, after the
/// first `body_timeout_ms`, at least `min_body_bytes_per_sec` on average.
async fn read_push<B>(
    state: &State<B>,
    mut body: Incoming,
) -> Result<(String, Scanner), (Response, Option<StatusCode>)> {
    let max = state.config.max_decide_body_bytes as u64;
    let idle = Duration::from_millis(state.config.body_timeout_ms);
    let rate = state.config.min_body_bytes_per_sec;
    let started = tokio::time::Instant::now();
    let mut total = 0u64;
    let mut scanner = Scanner::new(state.config.max_recipients);
    loop {
        let mut deadline = tokio::time::Instant::now() + idle;
        if rate > 0 {
            let earned = Duration::from_secs_f64(total as f64 / f64::from(rate));
            deadline = deadline.min(started + idle + earned);
        }
        match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => {
                let message = format!(
                    "the request body is too slow: a pause over {} ms, or under {rate} bytes a second after the first {} ms",
                    idle.as_millis(),
                    idle.as_millis()
                );
                return Err((error(1002, message), Some(StatusCode::REQUEST_TIMEOUT)));
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err((error(1002, format!("reading the request body: {e}")), None)),
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    total += data.len() as u64;
                    if total > max {
                        return Err((error(1005, format!("the request body exceeds {max} bytes")), None));
                    }
                    scanner.feed(&data).map_err(|r| (r, None))?;
                }
            }
        }
    }
    let fields = scanner.finish().map_err(|r| (r, None))?;
    Ok((fields, scanner))
}

/// Runs `work` on the decide pool: waits for a free thread, without
/// holding one meanwhile. `None` if it panicked.
async fn on_pool<B: Backend, T: Send + 'static>(
    state: &Arc<State<B>>,
    work: impl FnOnce(&State<B>) -> T + Send + 'static,
) -> Option<T> {
    let permit = state.decide_pool.clone().acquire_owned().await.ok()?;
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work(&state)
    })
    .await
    .ok()
}

/// The first step of a decide: a plain push's first chunk of answer, or a
/// held push's whole answer with the hold to make durable.
enum First {
    Plain(Box<(Job, Progress, Vec<u8>, bool)>),
    Held(Box<decide::HeldAnswer>),
}

/// A decide request: the body read and scanned as it arrives, then decided
/// on the pool in steps, each step's decisions streamed out once the client
/// has taken the step before.
pub(super) async fn decide_request<B: Backend>(
    state: &Arc<State<B>>,
    app: &str,
    request: hyper::Request<Incoming>,
    explain: bool,
    after: u64,
) -> (Answer, u16) {
    let max = state.config.max_decide_body_bytes;
    if declared_length(request.headers()).is_some_and(|n| n > max as u64) {
        return refused(&error(1005, format!("the request body exceeds {max} bytes")), None);
    }
    let (fields, scanner) = match read_push(state, request.into_body()).await {
        Ok(read) => read,
        Err((response, status)) => return refused(&response, status),
    };
    let app = app.to_owned();
    let key = app.clone();
    let first = on_pool(state, move |st| {
        let job = Job::new(&fields, scanner, explain, after)?;
        if job.holds() {
            let backend = st
                .apps
                .get(&key)
                .ok_or_else(|| error(1000, "no settings for this app key"))?;
            let counts = st.metrics.decisions_of(&key);
            if let Some(held) = decide::decide_held(&job, backend, &counts) {
                return Ok(First::Held(Box::new(held?)));
            }
        }
        let mut progress = Progress::default();
        // The route checked that the app has settings.
        let backend = st
            .apps
            .get(&key)
            .ok_or_else(|| error(1000, "no settings for this app key"))?;
        let counts = st.metrics.decisions_of(&key);
        let (bytes, done) = decide::decide_some(&job, backend, &counts, &mut progress, decide::FIRST_FLUSH)?;
        Ok::<_, Response>(First::Plain(Box::new((job, progress, bytes, done))))
    })
    .await;
    let (job, progress, bytes, done) = match first {
        None => return (internal_error(), 1000),
        Some(Err(response)) => return platform(&response, false),
        Some(Ok(First::Plain(first))) => *first,
        Some(Ok(First::Held(held))) => {
            let (bytes, record) = *held;
            // Held items are durable before the answer says so.
            if let Some(record) = record {
                let Some(backend) = state.apps.get(&app) else {
                    return (internal_error(), 1000);
                };
                if let Err(response) = backend.hold(record).await {
                    return platform(&response, false);
                }
            }
            return (answer(StatusCode::OK, "application/json", bytes), 200);
        }
    };
    if done {
        return (answer(StatusCode::OK, "application/json", bytes), 200);
    }
    let (out, rx) = mpsc::channel::<OutPiece>(2);
    let _ = out.try_send(Ok(Bytes::from(bytes)));
    tokio::spawn(stream_rest(state.clone(), app, job, progress, out));
    let mut a = hyper::Response::new(OutBody::Stream(rx));
    a.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    (a, 200)
}

/// The steps after the first, each once the client has room for it; ends
/// when the client goes away (the answer's receiver is dropped).
async fn stream_rest<B: Backend>(
    state: Arc<State<B>>,
    app: String,
    job: Job,
    progress: Progress,
    out: mpsc::Sender<OutPiece>,
) {
    let mut step = Some((job, progress));
    while let Some((job, mut progress)) = step.take() {
        let Ok(slot) = out.reserve().await else { return };
        let app = app.clone();
        let outcome = on_pool(&state, move |st| {
            let made = match st.apps.get(&app) {
                Some(backend) => {
                    let counts = st.metrics.decisions_of(&app);
                    decide::decide_some(&job, backend, &counts, &mut progress, decide::NEXT_FLUSH)
                }
                None => Err(error(1000, "no settings for this app key")),
            };
            (job, progress, made)
        })
        .await;
        match outcome {
            Some((job, progress, Ok((bytes, done)))) => {
                slot.send(Ok(Bytes::from(bytes)));
                if done {
                    // The end marker: the answer is complete.
                    let _ = out.send(Ok(Bytes::new())).await;
                    return;
                }
                step = Some((job, progress));
            }
            Some((_, _, Err(response))) => {
                slot.send(Err(std::io::Error::other(format!(
                    "decide failed after the answer began: {response:?}"
                ))));
            }
            None => slot.send(Err(std::io::Error::other("decide failed after the answer began"))),
        }
    }
}

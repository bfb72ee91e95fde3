//! What the HTTP layer asks of the settings, wherever they live: in this
//! process over the embedded log ([`Local`]), or sharded behind a replicated
//! log (the `dnd-cluster` member implements [`Backend`] over NATS JetStream).
//!
//! The HTTP side (routing, signatures, limits, statuses, the streamed decide
//! endpoint) is the same for both; only these calls differ.

use std::future::Future;
use std::sync::{Arc, Mutex};

use dnd_engine::push::{write_members, AnswerForm, DecisionLine};
use dnd_engine::released::ReleasedRequest;
use dnd_engine::{api_v4, Held, Layer, Message, PreparedMessage, Request, Response};
use serde_json::{Map, Value};

use crate::decide::decision_line;
use crate::hold::{run_clock, HoldRecord, Holding};
use crate::metrics::StoreGauges;
use crate::writer::{Writer, WriterThread};
use crate::{read, Shared};

/// Which generation of the platform's API a request came in, and so the
/// shape of its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum Generation {
    /// The form API: `{"code":200,...}`.
    Form,
    /// The v4 JSON API: `{"code":0,...}`.
    V4,
}

impl Generation {
    /// The generation of `path`.
    #[must_use]
    pub fn of(path: &str) -> Generation {
        if api_v4::is_v4(path) {
            Generation::V4
        } else {
            Generation::Form
        }
    }

    /// `response` as this generation answers it.
    #[must_use]
    pub fn render(self, response: &Response) -> Answered {
        let json = match self {
            Generation::Form => response.to_json(),
            Generation::V4 => api_v4::to_json(response),
        };
        Answered {
            code: response.code(),
            json,
            seq: None,
            duplicate: false,
        }
    }
}

/// A settings request's answer, in its generation's JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Answered {
    /// The platform's code (it picks the HTTP status).
    pub code: u16,
    /// The body.
    pub json: String,
    /// For a change appended to a replicated log: its position, sent back as
    /// the `Dnd-Seq` header (a later read may pass it as `Dnd-After`).
    pub seq: Option<u64>,
    /// For such a change: whether it was a retry of a write already
    /// appended (sent back as `Dnd-Duplicate: true`); it was applied once.
    pub duplicate: bool,
}

impl Answered {
    /// A failure the client may retry: code 1000.
    #[must_use]
    pub fn internal(generation: Generation, message: &str) -> Answered {
        generation.render(&Response::Error {
            code: 1000,
            message: message.to_owned(),
        })
    }
}

/// One chunk of a push to decide: the push's fields other than
/// `recipients` (already checked by the core, and built into `message`),
/// and the recipients of the chunk, in order.
#[derive(Debug)]
#[non_exhaustive]
pub struct Chunk<'a> {
    /// The push object's fields, without `recipients`.
    pub fields: &'a Map<String, Value>,
    /// The message they describe.
    pub message: &'a Message<'a>,
    /// The recipients of this chunk.
    pub recipients: &'a [String],
    /// Whether each decision carries its explanation.
    pub explain: bool,
    /// The log position the decisions must reflect (0: none asked for).
    pub after: u64,
}

/// A push to every member of its conversation.
#[derive(Debug)]
#[non_exhaustive]
pub struct MembersAsk<'a> {
    /// The push object's fields (without `recipients`).
    pub fields: &'a Map<String, Value>,
    /// The message they describe.
    pub message: &'a Message<'a>,
    /// The answer's form.
    pub form: AnswerForm,
    /// Whether each decision line carries its explanation (lines only).
    pub explain: bool,
    /// The log position the decisions must reflect (0: none asked for).
    pub after: u64,
    /// The most members the lines form may answer for (the limit on a
    /// push's recipients).
    pub max_lines: usize,
}

/// Where a chunk's decision lines go: one JSON object per recipient, in
/// recipient order, comma-separated, counted by layer for the metrics.
#[derive(Debug)]
pub struct Lines<'a> {
    out: &'a mut Vec<u8>,
    count: &'a mut usize,
    by_layer: [u64; Layer::ALL.len()],
}

impl<'a> Lines<'a> {
    /// Lines appended to `out`, `count` of them written before.
    pub fn new(out: &'a mut Vec<u8>, count: &'a mut usize) -> Lines<'a> {
        Lines {
            out,
            count,
            by_layer: [0; Layer::ALL.len()],
        }
    }

    /// Writes the next line: `write` appends its JSON object to the buffer
    /// it is given and returns the layer that decided.
    pub fn line(&mut self, write: impl FnOnce(&mut Vec<u8>) -> Layer) {
        if *self.count > 0 {
            self.out.push(b',');
        }
        *self.count += 1;
        let layer = write(self.out);
        if let Some(i) = Layer::ALL.iter().position(|&l| l == layer) {
            self.by_layer[i] += 1;
        }
    }

    /// Decisions written in this chunk, by layer ([`Layer::ALL`]'s order).
    #[must_use]
    pub fn by_layer(&self) -> &[u64; Layer::ALL.len()] {
        &self.by_layer
    }
}

/// Decides chunks of a push. Called on a blocking thread (it may block on
/// the network); one push's chunks are decided one after another.
pub trait Decider: Send + Sync {
    /// Writes one decision line per recipient of `chunk`, in order, or
    /// refuses the whole chunk (nothing written).
    fn decide(&self, chunk: &Chunk<'_>, lines: &mut Lines<'_>) -> Result<(), Response>;

    /// Decides `ask.message` for every member of its conversation (a push
    /// without recipients) and writes the whole answer, in `ask.form`, to
    /// `out`: how many members were decided. A refusal writes nothing.
    fn decide_members(&self, ask: &MembersAsk<'_>, out: &mut Vec<u8>) -> Result<u64, Response>;

    /// The ids of the members of `message`'s conversation, in member
    /// order: whom a push without recipients that asks to hold is held
    /// for, as if they were listed. `None` when this backend does not list
    /// them for a hold (a cluster): such a push is refused naming
    /// `push.hold`, nothing decided or held.
    fn member_ids(&self, message: &Message<'_>) -> Option<Vec<String>> {
        let _ = message;
        None
    }

    /// Recipients per chunk.
    fn chunk_size(&self) -> usize {
        crate::decide::CHUNK
    }

    /// For a push that asks to hold, `chunk` holding all its recipients:
    /// writes one decision line per recipient, in order, each held
    /// recipient's with `"held": true`, and returns the hold to make
    /// durable ([`Backend::hold`]) before the answer (none when nobody is
    /// held). `None` when this backend does not hold: the push is decided
    /// as a plain one, nothing written.
    fn decide_hold(&self, chunk: &Chunk<'_>, lines: &mut Lines<'_>) -> Option<Result<Option<HoldRecord>, Response>> {
        let _ = (chunk, lines);
        None
    }
}

/// The settings behind the HTTP layer.
pub trait Backend: Decider + 'static {
    /// Makes the accepted change `request` durable, applies it (now or, in a
    /// cluster, in log order), and answers. `write` names the write for
    /// deduplication: a retry of the same write is applied once where the
    /// log supports it (see `docs/scaling.md`).
    fn change(&self, request: Request, generation: Generation, write: String) -> impl Future<Output = Answered> + Send;

    /// Answers the get `request`, reflecting at least log position `after`
    /// where the backend has positions.
    fn query(&self, request: Request, generation: Generation, after: u64) -> impl Future<Output = Answered> + Send;

    /// Whether changes can be made durable now (`/ready`).
    fn ready(&self) -> bool;

    /// The store's figures for the metrics, those this backend has (none
    /// by default).
    fn store_gauges(&self) -> StoreGauges {
        StoreGauges::default()
    }

    /// Stops after the changes already accepted, making them durable.
    fn stop(&self) -> impl Future<Output = ()> + Send;

    /// Makes a hold ([`Decider::decide_hold`]'s) durable and applies it;
    /// answers once it survives a crash. A backend that does not hold
    /// refuses it (1000).
    fn hold(&self, record: HoldRecord) -> impl Future<Output = Result<(), Response>> + Send {
        let _ = record;
        async {
            Err(Response::Error {
                code: 1000,
                message: "this service does not hold pushes".into(),
            })
        }
    }

    /// Answers `POST /push/released.json`: the page of released digests
    /// after the request's cursor, waiting up to its `wait` for one.
    /// `None` when this backend keeps no released digests (404).
    fn released(&self, request: ReleasedRequest) -> impl Future<Output = Option<Result<String, Response>>> + Send {
        let _ = request;
        async { None }
    }
}

/// One process: the settings in memory, the embedded file log behind the
/// one writer thread, and the held items with the clock that releases them.
#[derive(Debug)]
pub struct Local {
    settings: Arc<Shared>,
    writer: Writer,
    thread: Mutex<Option<WriterThread>>,
    clock: Mutex<Option<tokio::task::JoinHandle<()>>>,
    webhook: Mutex<Option<tokio::task::JoinHandle<()>>>,
    dir: Option<std::path::PathBuf>,
}

/// How long the clock lets a burst of settings changes settle before it
/// re-evaluates the held items.
pub const SETTLE: std::time::Duration = std::time::Duration::from_millis(500);

impl Local {
    /// The settings and their writer (with the held items it changes); the
    /// clock that releases them runs when a tokio runtime is current.
    #[must_use]
    pub fn new(settings: Arc<Shared>, writer: Writer, thread: WriterThread) -> Local {
        let clock = tokio::runtime::Handle::try_current()
            .ok()
            .map(|rt| rt.spawn(run_clock(writer.holding().clone(), writer.clone(), SETTLE)));
        Local {
            settings,
            writer,
            thread: Mutex::new(Some(thread)),
            clock: Mutex::new(clock),
            webhook: Mutex::new(None),
            dir: None,
        }
    }

    /// Delivers the released digests to `hook` too (needs a current tokio
    /// runtime), until the backend stops.
    pub fn start_webhook(&self, hook: crate::hold::webhook::Webhook) {
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let task = rt.spawn(crate::hold::webhook::run_webhook(self.holding().clone(), hook));
            *self.webhook.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(task);
        }
    }

    /// The held items and released digests.
    #[must_use]
    pub fn holding(&self) -> &Arc<Holding> {
        self.writer.holding()
    }

    /// This store as kept in `dir` (a `FileLog`'s directory), so that the
    /// metrics report its log's size and its snapshot's age.
    #[must_use]
    pub fn in_dir(mut self, dir: std::path::PathBuf) -> Local {
        self.dir = Some(dir);
        self
    }
}

impl Decider for Local {
    fn decide(&self, chunk: &Chunk<'_>, lines: &mut Lines<'_>) -> Result<(), Response> {
        let settings = read(&self.settings);
        // Nothing held: one atomic load, and the plain prepare.
        let repeaters = self.holding().repeaters(&settings, chunk.message);
        let prepared: PreparedMessage<'_> = repeaters.prepare(&settings, chunk.message);
        for id in chunk.recipients {
            lines.line(|out| decision_line(&prepared, id, chunk.explain, out));
        }
        Ok(())
    }

    fn decide_hold(&self, chunk: &Chunk<'_>, lines: &mut Lines<'_>) -> Option<Result<Option<HoldRecord>, Response>> {
        let settings = read(&self.settings);
        let holding = self.holding();
        let repeaters = holding.repeaters(&settings, chunk.message);
        let prepared: PreparedMessage<'_> = repeaters.prepare(&settings, chunk.message);
        // The deferred recipients, held apart first; the writer folds
        // those beyond the detail limit when it applies the hold.
        let mut scratch = Held::with_detail_limit(u32::MAX);
        let decisions = chunk.recipients.iter().map(|id| (id.as_str(), prepared.decide_id(id)));
        let holdings = match scratch.hold(&prepared, decisions) {
            Ok(holdings) => holdings,
            Err(e) => return Some(Err(Response::from_error(&e))),
        };
        for (id, holding) in chunk.recipients.iter().zip(&holdings) {
            lines.line(|out| {
                let line = DecisionLine::of(&prepared, id, chunk.explain).with_held(holding.is_held());
                let _ = line.write_to(out);
                line.decision().by()
            });
        }
        let limit = holding.held().detail_limit();
        let message = scratch.saved_messages().next();
        Some(Ok(message.map(|message| HoldRecord { limit, message })))
    }

    fn decide_members(&self, ask: &MembersAsk<'_>, out: &mut Vec<u8>) -> Result<u64, Response> {
        Local::members_answer(&read(&self.settings), ask, out)
    }

    fn member_ids(&self, message: &Message<'_>) -> Option<Vec<String>> {
        let settings = read(&self.settings);
        let ids = settings.prepare(message).member_ids();
        Some(ids.into_iter().map(|id| id.as_str().to_owned()).collect())
    }
}

impl Local {
    /// The members' answer, from the settings in memory.
    pub fn members_answer(
        settings: &dnd_engine::Settings,
        ask: &MembersAsk<'_>,
        out: &mut Vec<u8>,
    ) -> Result<u64, Response> {
        let prepared = settings.prepare(ask.message);
        write_members(&prepared, ask.form, ask.explain, ask.max_lines, out).map_err(|e| Response::from_error(&e))
    }
}

impl Backend for Local {
    async fn change(&self, request: Request, generation: Generation, _write: String) -> Answered {
        generation.render(&self.writer.change(request).await)
    }

    async fn query(&self, request: Request, generation: Generation, _after: u64) -> Answered {
        let response = read(&self.settings).query(&request).unwrap_or_else(|| Response::Error {
            code: 1000,
            message: "not a query".into(),
        });
        generation.render(&response)
    }

    fn ready(&self) -> bool {
        self.writer.healthy()
    }

    fn store_gauges(&self) -> StoreGauges {
        let holding = self.holding();
        let stats = &holding.webhook;
        let load = |n: &std::sync::atomic::AtomicU64| n.load(std::sync::atomic::Ordering::Relaxed);
        let mut gauges = StoreGauges {
            users: Some(read(&self.settings).user_count() as u64),
            hold: vec![
                ("held_items", holding.held().len() as u64),
                ("released_cursor", holding.released().last_cursor()),
                ("webhook_delivered", load(&stats.delivered)),
                ("webhook_retries", load(&stats.retries)),
                ("webhook_dead_letters", load(&stats.dead_letters)),
            ],
            ..StoreGauges::default()
        };
        if let Some(dir) = &self.dir {
            let file = |name: &str| std::fs::metadata(dir.join(name)).ok();
            gauges.log_bytes = file(crate::store::LOG_FILE).map(|m| m.len());
            gauges.snapshot_age_secs = file(crate::store::SNAPSHOT_FILE)
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.elapsed().ok())
                .map(|age| age.as_secs_f64());
        }
        gauges
    }

    async fn hold(&self, record: HoldRecord) -> Result<(), Response> {
        self.writer.hold(record).await
    }

    async fn released(&self, request: ReleasedRequest) -> Option<Result<String, Response>> {
        let holding = self.holding().clone();
        let mut changed = holding.subscribe();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(u64::from(request.wait_secs));
        loop {
            let page = match holding.page(request.after, request.limit as usize) {
                Ok(page) => page,
                Err(message) => return Some(Err(Response::Error { code: 1002, message })),
            };
            if page.count > 0 || tokio::time::Instant::now() >= deadline || holding.is_stopped() {
                return Some(Ok(page.json));
            }
            tokio::select! {
                c = changed.changed() => if c.is_err() { return Some(Ok(page.json)) },
                _ = tokio::time::sleep_until(deadline) => {}
            }
        }
    }

    async fn stop(&self) {
        self.holding().stop();
        let clock = self
            .clock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(clock) = clock {
            let _ = clock.await;
        }
        let webhook = self
            .webhook
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(webhook) = webhook {
            // A delivery in flight is repeated after the restart, never lost.
            webhook.abort();
            let _ = webhook.await;
        }
        self.writer.stop().await;
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

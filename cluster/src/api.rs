//! The API node: the settings service's HTTP front (`dnd_server`, unchanged)
//! over the log and the shards, as a [`dnd_server::Backend`].
//!
//! - A change was validated by the core before it gets here (a refused one
//!   is answered 1002 by the HTTP layer and never appended). It is appended
//!   under its write id (derived by the HTTP layer from `Idempotency-Key`
//!   or the `Nonce`: `docs/scaling.md`) and answered only after the stream
//!   acknowledged it, with the stream sequence as `Dnd-Seq`. A retry of the
//!   same write is answered with the original sequence and stored once.
//! - A get goes to the shard of its user (shard 0 for the admins'
//!   defaults) with `after`: the larger of the client's `Dnd-After` and the
//!   last sequence this node acknowledged, so a client reads its own writes
//!   through the same node ([`crate::worker`] for the rule).
//! - A decide: the HTTP layer streams the push in and the decisions out; each
//!   chunk of recipients is split by shard, every shard concerned is asked at
//!   once, and their decision lines are merged back in recipient order. A
//!   push of any size holds one chunk's decisions at a time.

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::client::RequestErrorKind;
use async_nats::Client;
use dnd_engine::shard::{Layout, ShardId, ShardKey};
use dnd_engine::{Request, Response};
use dnd_server::backend::{Answered, Backend, Generation};
use serde::Deserialize;
use serde_json::{Map, Value};

pub use crate::ask::{ask_until, hedged, ANSWER_GRACE, HEDGE};
use crate::log::Log;
use crate::space::Space;
use crate::wire::{self, GetRequest, Record};
use crate::{nats, Error};

/// Recipients per part of a decide sent to the shards at once.
pub const DECIDE_CHUNK: usize = 8_192;
/// Parts of a decide in flight at once: the HTTP layer hands the node
/// `DECIDE_CHUNK × DECIDE_PARTS` recipients at a time.
pub const DECIDE_PARTS: usize = 4;

/// An API node's connection to the log and the shards.
#[derive(Clone, Debug)]
pub struct Api {
    client: Client,
    pub(crate) log: Log,
    /// The number of shards reads are routed by: the app's layout record
    /// once it has one (`src/layouts.rs`), followed as it changes.
    shards: Arc<AtomicU16>,
    /// The layout records, read again when a shard of the layout a read
    /// was routed by is not served (see [`Api::moved`]).
    records: async_nats::jetstream::kv::Store,
    patience: Duration,
    /// The highest sequence this node acknowledged, or the stream's last
    /// when the node started if higher: every read reflects it.
    acked: Arc<AtomicU64>,
    /// Whether decides go to the shards as JSON rather than binary frames.
    json_decides: bool,
}

impl Api {
    /// An API node for the app of `space` and `layout`, creating the app's
    /// stream (with `replicas` copies) if there is none. One `Api` serves one
    /// app: apps never see each other's settings. Once the app has a layout
    /// record, the node routes by the record's layout instead of `layout`,
    /// and follows it through a reshard.
    ///
    /// Its reads reflect at least the stream as it stood when the node
    /// started (its last sequence then): a client that wrote through this
    /// node before it restarted still reads its writes through it, with no
    /// header.
    pub async fn new(client: Client, space: Space, layout: Layout, replicas: usize) -> Result<Api, Error> {
        Api::new_keeping(client, space, layout, replicas, crate::released::Keep::default()).await
    }

    /// As [`Api::new`], creating the app's released stream (if there is
    /// none) to keep released digests as `keep` says.
    pub async fn new_keeping(
        client: Client,
        space: Space,
        layout: Layout,
        replicas: usize,
        keep: crate::released::Keep,
    ) -> Result<Api, Error> {
        let log = Log::open(client.clone(), space, replicas).await?;
        // The released digests' stream, before any shard releases to it.
        crate::released::open(log.context(), log.space(), replicas, keep).await?;
        let last = log.last_sequence().await?;
        let shards = crate::layouts::follow(log.context(), log.space(), layout, replicas).await?;
        let records = crate::layouts::bucket(log.context(), replicas).await?;
        Ok(Api {
            client,
            log,
            shards,
            records,
            patience: Duration::from_secs(20),
            acked: Arc::new(AtomicU64::new(last)),
            json_decides: false,
        })
    }

    /// This node, asking the shards to decide in JSON (`true`: the format
    /// of shards older than the binary frame, and the baseline of the
    /// figures in `docs/scaling.md`) or in binary frames (`false`, the
    /// default, which falls back to JSON for a shard that cannot read one).
    #[must_use]
    pub fn with_json_decides(mut self, json: bool) -> Api {
        self.json_decides = json;
        self
    }

    /// The log.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// The layout reads are routed by now.
    pub fn layout(&self) -> Layout {
        Layout::new(self.shards.load(Ordering::Acquire))
            .unwrap_or_else(|_| unreachable!("the record's layout was checked"))
    }

    /// Routes by `layout` from now on, until the node sees the record
    /// change or finds a shard of `layout` not served while the record
    /// names another layout ([`Api::moved`]): a node that missed a switch,
    /// as the reshard tests make one.
    #[doc(hidden)]
    pub fn route_by(&self, layout: Layout) {
        self.shards.store(layout.shards(), Ordering::Release);
    }

    /// Whether the layout record names another layout than `routed`, the
    /// one a read was routed by: read again when a shard of `routed` has no
    /// process serving it. If so the node routes by the record's layout
    /// from now on and the read is asked again of it. A record that cannot
    /// be read counts as unchanged (the read waits for the shard as before).
    async fn moved(&self, routed: Layout) -> bool {
        match crate::layouts::read(&self.records, self.log.space()).await {
            Ok(Some((record, _))) if record.shards != routed.shards() => {
                let was = self.shards.swap(record.shards, Ordering::AcqRel);
                if was != record.shards {
                    tracing::info!(app = %self.log.space().token(), from = was, to = record.shards, epoch = record.epoch, "a shard was not served: routing by the record's layout");
                }
                true
            }
            _ => false,
        }
    }

    /// The connection to the cluster.
    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// The answer of `POST /push/released.json`: the app's released
    /// digests past the request's cursor (`src/released.rs`).
    pub async fn released_page(&self, request: dnd_engine::released::ReleasedRequest) -> Result<String, Error> {
        crate::released::page(&self.client, self.log.context(), self.log.space(), request).await
    }

    /// Records that the stream acknowledged sequence `seq` to this node:
    /// every later read reflects it.
    pub(crate) fn acknowledged(&self, seq: u64) {
        self.acked.fetch_max(seq, Ordering::AcqRel);
    }

    /// The position a read must reflect: the client's, or everything this
    /// node acknowledged before (and the stream held when it started),
    /// whichever is later.
    pub(crate) fn read_point(&self, after: u64) -> u64 {
        after.max(self.acked.load(Ordering::Acquire))
    }

    /// Appends the change `request` under `write` and answers in `generation`.
    ///
    /// A change of several users' memberships (a group join or quit) is cut
    /// by partition ([`Request::split_by_partition`]), each part appended
    /// to its partition under `write` and the partition's number, so that
    /// each shard keeps its own users' memberships; a retry appends only
    /// the parts not stored yet. The answer is the last part's sequence.
    pub async fn append(&self, request: &Request, generation: Generation, write: &str) -> Result<Answered, Error> {
        if let Some(parts) = request.split_by_partition() {
            let mut answer = generation.render(&Response::Ok);
            let appends = parts.iter().map(|(partition, part)| async move {
                let id = format!("{write}#p{}", partition.get());
                self.log.append(part, &id, self.patience).await
            });
            let mut duplicate = true;
            let mut seq = 0;
            for appended in futures::future::join_all(appends).await {
                let appended = appended?;
                seq = seq.max(appended.seq);
                duplicate &= appended.duplicate;
            }
            self.acked.fetch_max(seq, Ordering::AcqRel);
            answer.seq = Some(seq);
            answer.duplicate = duplicate;
            return Ok(answer);
        }
        let appended = self.log.append(request, write, self.patience).await?;
        self.acked.fetch_max(appended.seq, Ordering::AcqRel);
        let mut answer = generation.render(&Response::Ok);
        answer.seq = Some(appended.seq);
        answer.duplicate = appended.duplicate;
        Ok(answer)
    }

    /// Answers the get `request` from its shard, once that shard has applied
    /// sequence `after`.
    pub async fn get(&self, request: &Request, generation: Generation, after: u64) -> Result<Answered, Error> {
        let body = serde_json::to_vec(&GetRequest {
            after: self.read_point(after),
            request: request.clone(),
            generation,
        })
        .map_err(|e| Error::frame("get", e))?;
        let mut moves = 0;
        let answer = loop {
            let layout = self.layout();
            let shard = match request.shard_key() {
                ShardKey::User(user) => layout.shard_of_user(user.as_str()),
                ShardKey::Gather => return self.gather(request, generation, after).await,
                _ => ShardId(0),
            };
            let subject = self.log.space().get_subject(layout, shard);
            match self.ask_by(subject, body.clone(), Some(layout)).await? {
                Some(answer) => break answer,
                None => moves = moved_again(moves)?,
            }
        };
        let json = std::str::from_utf8(wire::payload(&answer)?).map_err(|e| Error::frame("get answer", e))?;
        #[derive(Deserialize)]
        struct Code {
            code: u16,
        }
        let code = serde_json::from_str::<Code>(json)
            .map_err(|e| Error::frame("get answer", e))?
            .code;
        let mut answered = generation.render(&Response::Ok);
        answered.code = code;
        answered.json = json.to_owned();
        Ok(answered)
    }

    /// Asks a shard, waiting for it while nobody serves its subject (a
    /// shard process restarting): see [`ask_until`]; an ask not answered
    /// within [`HEDGE`] is sent again, to any replica ([`hedged`]).
    pub(crate) async fn ask(&self, subject: String, body: Vec<u8>) -> Result<bytes::Bytes, Error> {
        self.ask_by(subject, body, None)
            .await?
            .ok_or(Error::Timeout("ask a shard"))
    }

    /// [`Api::ask`] of a shard of `layout`: `None` if nobody serves the
    /// subject and the layout record names another layout ([`Api::moved`]):
    /// the caller routes again and asks again. Without a layout, never
    /// `None`.
    async fn ask_by(
        &self,
        subject: String,
        body: Vec<u8>,
        layout: Option<Layout>,
    ) -> Result<Option<bytes::Bytes>, Error> {
        let body = bytes::Bytes::from(body);
        let (body, subject) = (&body, &subject);
        ask_until(tokio::time::Instant::now(), |patience| {
            let started = tokio::time::Instant::now();
            hedged(HEDGE, move || {
                let left = patience.saturating_sub(started.elapsed());
                let request = async_nats::Request::new().payload(body.clone()).timeout(Some(left));
                let asked = self.client.send_request(subject.clone(), request);
                async move {
                    match asked.await {
                        Ok(message) => Ok(Some(message.payload)),
                        Err(e) if e.kind() == RequestErrorKind::NoResponders => {
                            let moved = match layout {
                                Some(layout) => self.moved(layout).await,
                                None => false,
                            };
                            if moved {
                                Ok(None)
                            } else {
                                Err(None)
                            }
                        }
                        Err(e) if e.kind() == RequestErrorKind::TimedOut => Err(Some(Error::Timeout("ask a shard"))),
                        Err(e) => Err(Some(nats("ask a shard")(e))),
                    }
                }
            })
        })
        .await
    }

    /// Decides `message` (a push object without `recipients`) for
    /// `recipients`, every shard first applying sequence `after`: the
    /// decision lines (as `dnd replay` prints them), in recipient order.
    pub async fn decide_chunk(
        &self,
        message: &Map<String, Value>,
        recipients: &[String],
        explain: bool,
        after: u64,
    ) -> Result<Vec<Record>, Error> {
        let decided = self.decide_parts(message, recipients, explain, after).await?;
        Ok(decided
            .into_iter()
            .zip(recipients)
            .map(|(d, id)| match d {
                Decided::Line(r) => r,
                Decided::Verdict(v) => {
                    let mut line = Vec::with_capacity(64);
                    v.write_line(id, &mut line);
                    Record {
                        layer: v.layer,
                        json: String::from_utf8(line).unwrap_or_default(),
                    }
                }
            })
            .collect())
    }

    /// The decisions of `recipients`, in order: the recipients are cut in
    /// parts of [`DECIDE_CHUNK`], each part split by shard, and every
    /// shard's share of every part asked at once, so that a shard decides
    /// one part while the node encodes or reads another.
    pub(crate) async fn decide_parts(
        &self,
        message: &Map<String, Value>,
        recipients: &[String],
        explain: bool,
        after: u64,
    ) -> Result<Vec<Decided>, Error> {
        let after = self.read_point(after);
        if message.get("hold") == Some(&Value::Bool(true)) {
            // Held recipients are durable before the answer: the push goes
            // to the stream first (`src/holding.rs`).
            let lines = crate::holding::decide_held(self, message, recipients, explain, after).await?;
            return Ok(lines.into_iter().map(Decided::Line).collect());
        }
        let mut moves = 0;
        loop {
            match self
                .decide_by(self.layout(), message, recipients, explain, after)
                .await?
            {
                Some(decided) => return Ok(decided),
                None => moves = moved_again(moves)?,
            }
        }
    }

    /// [`Api::decide_parts`] by `layout`; `None` if a shard of it was found
    /// moved (the whole chunk is then decided again by the record's layout:
    /// reads change nothing).
    async fn decide_by(
        &self,
        layout: Layout,
        message: &Map<String, Value>,
        recipients: &[String],
        explain: bool,
        after: u64,
    ) -> Result<Option<Vec<Decided>>, Error> {
        let shards = usize::from(layout.shards());
        let mut asks = Vec::new();
        for (c, part) in recipients.chunks(DECIDE_CHUNK).enumerate() {
            let mut positions: Vec<Vec<usize>> = vec![Vec::new(); shards];
            for (i, r) in part.iter().enumerate() {
                positions[usize::from(layout.shard_of_user(r).0)].push(c * DECIDE_CHUNK + i);
            }
            for (s, p) in positions.into_iter().enumerate().filter(|(_, p)| !p.is_empty()) {
                asks.push(self.ask_decide((layout, ShardId(s as u16)), p, message, recipients, explain, after));
            }
        }
        let mut merged: Vec<Option<Decided>> = Vec::with_capacity(recipients.len());
        merged.resize_with(recipients.len(), || None);
        for answer in futures::future::join_all(asks).await {
            let Some((p, decided)) = answer? else {
                return Ok(None);
            };
            for (i, d) in p.into_iter().zip(decided) {
                merged[i] = Some(d);
            }
        }
        merged
            .into_iter()
            .map(|d| d.ok_or_else(|| Error::frame("decide", "a recipient without a decision")))
            .collect::<Result<_, _>>()
            .map(Some)
    }

    /// Asks `shard` for the decisions of `recipients[p]`: as a binary frame
    /// (`src/frame.rs`), or as JSON when this node talks JSON or the shard
    /// is older than the frame (it refuses one as a request it cannot read).
    async fn ask_decide(
        &self,
        (layout, shard): (Layout, ShardId),
        p: Vec<usize>,
        message: &Map<String, Value>,
        recipients: &[String],
        explain: bool,
        after: u64,
    ) -> Result<Option<(Vec<usize>, Vec<Decided>)>, Error> {
        let subject = self.log.space().decide_subject(layout, shard);
        if !self.json_decides {
            let mut body = Vec::with_capacity(256 + p.len() * 24);
            crate::frame::encode_request(
                after,
                explain,
                message,
                p.iter().map(|&i| recipients[i].as_str()),
                &mut body,
            )?;
            let Some(answer) = self.ask_by(subject.clone(), body, Some(layout)).await? else {
                return Ok(None);
            };
            match wire::payload(&answer) {
                Ok(payload) if explain => {
                    let records = wire::records(payload, p.len())?;
                    return Ok(Some((p, records.into_iter().map(Decided::Line).collect())));
                }
                Ok(payload) => {
                    let verdicts = crate::frame::verdicts(payload, p.len())?;
                    return Ok(Some((p, verdicts.into_iter().map(Decided::Verdict).collect())));
                }
                Err(Error::Frame { why, .. }) if why.starts_with("a shard request:") => {}
                Err(e) => return Err(e),
            }
        }
        let mut push = message.clone();
        push.insert(
            "recipients".into(),
            p.iter().map(|&i| Value::String(recipients[i].clone())).collect(),
        );
        let body = serde_json::to_vec(&serde_json::json!({ "after": after, "explain": explain, "push": push }))
            .map_err(|e| Error::frame("decide", e))?;
        let Some(answer) = self.ask_by(subject, body, Some(layout)).await? else {
            return Ok(None);
        };
        let records = wire::records(wire::payload(&answer)?, p.len())?;
        Ok(Some((p, records.into_iter().map(Decided::Line).collect())))
    }
}

/// How many times one read is routed again after finding its layout
/// moved: a read outlives at most one switch in practice (each reshard
/// waits for its new shards to catch up before the next can switch).
const MOVES: u32 = 3;

/// Counts one more move of a read (`moves` so far), refusing it past
/// [`MOVES`].
fn moved_again(moves: u32) -> Result<u32, Error> {
    if moves >= MOVES {
        return Err(Error::Nats {
            what: "ask a shard",
            why: format!("the layout moved {} times during the read", moves + 1),
        });
    }
    Ok(moves + 1)
}

/// One recipient's decision from its shard: the line, or a verdict the
/// node writes the line from.
pub(crate) enum Decided {
    Line(Record),
    Verdict(crate::frame::Verdict),
}

impl Backend for Api {
    async fn change(&self, request: Request, generation: Generation, write: String) -> Answered {
        self.append(&request, generation, &write)
            .await
            .unwrap_or_else(|e| Answered::internal(generation, &format!("the change was not appended: {e}")))
    }

    async fn query(&self, request: Request, generation: Generation, after: u64) -> Answered {
        self.get(&request, generation, after)
            .await
            .unwrap_or_else(|e| Answered::internal(generation, &e.to_string()))
    }

    /// From the app's released stream: the shards hold and release
    /// (`src/holding.rs`, `src/released.rs`).
    async fn released(&self, request: dnd_engine::released::ReleasedRequest) -> Option<Result<String, Response>> {
        Some(self.released_page(request).await.map_err(|e| Response::Error {
            code: 1000,
            message: format!("the released digests were not read: {e}"),
        }))
    }

    fn ready(&self) -> bool {
        self.client.connection_state() == async_nats::connection::State::Connected
    }

    async fn stop(&self) {
        // Every answer was sent after its append was acknowledged: nothing
        // is held here. Outgoing messages are flushed.
        let _ = self.client.flush().await;
    }
}

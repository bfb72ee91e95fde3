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

use crate::log::Log;
use crate::space::Space;
use crate::wire::{self, GetRequest, Record};
use crate::worker::READ_DEADLINE;
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
        Ok(Api {
            client,
            log,
            shards,
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
        let layout = self.layout();
        let shard = match request.shard_key() {
            ShardKey::User(user) => layout.shard_of_user(user.as_str()),
            ShardKey::Gather => return self.gather(request, generation, after).await,
            _ => ShardId(0),
        };
        let body = serde_json::to_vec(&GetRequest {
            after: self.read_point(after),
            request: request.clone(),
            generation,
        })
        .map_err(|e| Error::frame("get", e))?;
        let answer = self.ask(self.log.space().get_subject(layout, shard), body).await?;
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
                        Ok(message) => Ok(message.payload),
                        Err(e) if e.kind() == RequestErrorKind::NoResponders => Err(None),
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
        let layout = self.layout();
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
            let (p, decided) = answer?;
            for (i, d) in p.into_iter().zip(decided) {
                merged[i] = Some(d);
            }
        }
        merged
            .into_iter()
            .map(|d| d.ok_or_else(|| Error::frame("decide", "a recipient without a decision")))
            .collect()
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
    ) -> Result<(Vec<usize>, Vec<Decided>), Error> {
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
            let answer = self.ask(subject.clone(), body).await?;
            match wire::payload(&answer) {
                Ok(payload) if explain => {
                    let records = wire::records(payload, p.len())?;
                    return Ok((p, records.into_iter().map(Decided::Line).collect()));
                }
                Ok(payload) => {
                    let verdicts = crate::frame::verdicts(payload, p.len())?;
                    return Ok((p, verdicts.into_iter().map(Decided::Verdict).collect()));
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
        let answer = self.ask(subject, body).await?;
        let records = wire::records(wire::payload(&answer)?, p.len())?;
        Ok((p, records.into_iter().map(Decided::Line).collect()))
    }
}

/// One recipient's decision from its shard: the line, or a verdict the
/// node writes the line from.
pub(crate) enum Decided {
    Line(Record),
    Verdict(crate::frame::Verdict),
}

/// How long a read may wait for its shard's answer beyond
/// [`READ_DEADLINE`], so that a shard's own refusal at its deadline arrives
/// before the node gives up.
pub const ANSWER_GRACE: Duration = Duration::from_secs(2);

/// How long an ask waits for its answer before it is sent once more (and
/// once more after twice as long): the subjects of a shard's reads are a
/// queue group of its replicas, so the copy goes to any live one. A replica
/// killed with reads in flight loses them; their copies are answered by
/// another replica instead of waiting for the read's deadline.
pub const HEDGE: Duration = Duration::from_millis(1_000);

/// Asks at most this many times at once.
const HEDGES: usize = 3;

/// Runs `ask`, and again after `hedge` and after twice as long again while
/// no attempt has answered (at most three attempts): the first answer
/// is the answer. An attempt that fails leaves the others running; if all
/// fail, the last error is returned. A shard that is merely slow answers
/// twice or thrice; only the first answer is read.
pub async fn hedged<T, F, Fut>(hedge: Duration, mut ask: F) -> Result<T, Option<Error>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Option<Error>>>,
{
    let mut flying = futures::stream::FuturesUnordered::new();
    flying.push(ask());
    let (mut next, mut wait) = (tokio::time::Instant::now() + hedge, hedge);
    let mut asked = 1;
    loop {
        tokio::select! {
            Some(outcome) = futures::StreamExt::next(&mut flying) => match outcome {
                Ok(answer) => return Ok(answer),
                Err(e) if flying.is_empty() => return Err(e),
                Err(_) => {}
            },
            () = tokio::time::sleep_until(next), if asked < HEDGES => {
                flying.push(ask());
                asked += 1;
                wait *= 2;
                next += wait;
            }
        }
    }
}

/// Runs `ask` (given the time it may wait for an answer) for a read that
/// arrived at `arrived`: while nobody serves the shard's subject (`ask`
/// errs with `None`: a shard process dead or restarting) it is asked again,
/// after 25 ms, then twice as long each time up to 0.5 s, until
/// [`READ_DEADLINE`] after `arrived`, then refused. Any answer is awaited
/// until [`ANSWER_GRACE`] past that deadline. So a read waits for a
/// restarting shard as long as for a lagging one, and never longer than 12
/// s in all.
pub async fn ask_until<T, F, Fut>(arrived: tokio::time::Instant, mut ask: F) -> Result<T, Error>
where
    F: FnMut(Duration) -> Fut,
    Fut: std::future::Future<Output = Result<T, Option<Error>>>,
{
    let (give_up, end) = (arrived + READ_DEADLINE, arrived + READ_DEADLINE + ANSWER_GRACE);
    let mut wait = Duration::from_millis(25);
    loop {
        let now = tokio::time::Instant::now();
        match tokio::time::timeout_at(end, ask(end.saturating_duration_since(now))).await {
            Ok(Ok(answer)) => return Ok(answer),
            Ok(Err(Some(e))) => return Err(e),
            Ok(Err(None)) if tokio::time::Instant::now() + wait <= give_up => {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_millis(500));
            }
            Ok(Err(None)) => {
                return Err(Error::Nats {
                    what: "ask a shard",
                    why: format!("no shard answered for {READ_DEADLINE:?} (no responders)"),
                })
            }
            Err(_) => return Err(Error::Timeout("ask a shard")),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::Instant;

    /// Nobody serving the shard: asked again and again with a growing
    /// pause, then refused once the read's deadline is near, never later.
    #[tokio::test(start_paused = true)]
    async fn a_shard_that_never_comes_back_is_given_up_at_the_read_deadline() {
        let arrived = Instant::now();
        let mut asked = 0;
        let got: Result<(), Error> = ask_until(arrived, |_| {
            asked += 1;
            async { Err(None) }
        })
        .await;
        let waited = arrived.elapsed();
        assert!(
            matches!(&got, Err(Error::Nats { why, .. }) if why.contains("no responders")),
            "{got:?}"
        );
        assert!(
            waited <= READ_DEADLINE && waited > READ_DEADLINE - Duration::from_millis(500),
            "{waited:?}"
        );
        // 25, 50, ..., 400 ms, then every 0.5 s.
        assert!((20..=30).contains(&asked), "{asked}");
    }

    /// A shard back after 3 s is asked within half a second of it, with
    /// the time left to answer; an error other than "nobody serves" is
    /// returned at once.
    #[tokio::test(start_paused = true)]
    async fn a_shard_back_in_time_is_asked_and_answers() {
        let arrived = Instant::now();
        let back = arrived + Duration::from_secs(3);
        let got = ask_until(arrived, |patience| async move {
            assert!(patience <= READ_DEADLINE + ANSWER_GRACE);
            if Instant::now() < back {
                Err(None)
            } else {
                Ok(patience)
            }
        })
        .await
        .unwrap();
        let answered = arrived.elapsed();
        assert!(
            answered >= Duration::from_secs(3) && answered <= Duration::from_millis(3_500),
            "{answered:?}"
        );
        assert_eq!(got, READ_DEADLINE + ANSWER_GRACE - answered);

        let started = Instant::now();
        let got: Result<(), Error> = ask_until(started, |_| async { Err(Some(Error::Timeout("x"))) }).await;
        assert!(matches!(got, Err(Error::Timeout("x"))));
        assert_eq!(started.elapsed(), Duration::ZERO);
    }

    /// An ask lost to a killed replica is sent again after the hedge and
    /// the copy's answer is the answer; a slow ask is copied at most
    /// twice; when every copy fails the last error is returned.
    #[tokio::test(start_paused = true)]
    async fn an_unanswered_ask_is_sent_again_to_any_replica() {
        let started = Instant::now();
        let mut asked = 0;
        let got = hedged(HEDGE, || {
            asked += 1;
            let first = asked == 1;
            async move {
                if first {
                    std::future::pending().await
                } else {
                    Ok::<_, Option<Error>>(Instant::now())
                }
            }
        })
        .await
        .unwrap();
        assert_eq!((asked, got - started), (2, HEDGE));

        let started = Instant::now();
        let mut asked = 0;
        let got = hedged(HEDGE, || {
            asked += 1;
            async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                Ok::<_, Option<Error>>(())
            }
        })
        .await;
        assert!(got.is_ok());
        assert_eq!((asked, started.elapsed()), (HEDGES, Duration::from_secs(10)));

        let mut asked = 0;
        let got: Result<(), _> = hedged(HEDGE, || {
            asked += 1;
            let n = asked;
            async move {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Err(Some(Error::Timeout(if n == 3 { "last" } else { "early" })))
            }
        })
        .await;
        assert!(matches!(got, Err(Some(Error::Timeout("last")))), "{got:?}");
    }

    /// A shard that takes an answer past the grace is given up then.
    #[tokio::test(start_paused = true)]
    async fn an_answer_is_awaited_until_the_grace_ends() {
        let arrived = Instant::now();
        let got: Result<(), Error> = ask_until(arrived, |_| std::future::pending()).await;
        assert!(matches!(got, Err(Error::Timeout(_))));
        assert_eq!(arrived.elapsed(), READ_DEADLINE + ANSWER_GRACE);
    }
}

//! The API node: the settings requests in front of the log and the shards.
//!
//! - A change is validated by the core ([`Request::parse`]); a refused one
//!   is answered at once (1002 naming the parameter) and never appended. An
//!   accepted one is appended under the client's id and answered `200` with
//!   the stream sequence it landed at, only after the stream acknowledged it:
//!   an answer means the write is durable. A retry under the same id is
//!   answered with the original sequence and `duplicate`, and stored once.
//! - A get goes to the shard of its user (any shard for the admins'
//!   defaults) with `after`, the client's last write sequence
//!   ([`crate::worker`] for the rule).
//! - A decide splits the recipients, chunk by chunk, by shard, asks every
//!   shard concerned at once, and hands the verdicts on in recipient order:
//!   a push of any size holds one chunk's decisions at a time.
//!
//! Served over NATS request/reply on [`API_SUBJECT`] (headers `Dnd-Path`,
//! `Dnd-Id`, `Dnd-After`; body the form; answer headers `Dnd-Seq`,
//! `Dnd-Duplicate`, body the platform's response JSON).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::{Client, HeaderMap};
use dnd_engine::shard::{Layout, ShardId, ShardKey};
use dnd_engine::{Request, Response};
use futures::StreamExt;
use serde_json::{Map, Value};

use crate::log::Log;
use crate::wire::{self, GetRequest, Verdict};
use crate::worker::READ_DEADLINE;
use crate::{nats, Error};

/// The subject the API node serves requests on.
pub const API_SUBJECT: &str = "dnd.api.request";
/// Recipients per chunk of a decide.
pub const DECIDE_CHUNK: usize = 10_000;

/// The answer to one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The platform's response object, as JSON.
    pub response: String,
    /// For an appended change: its stream sequence.
    pub seq: Option<u64>,
    /// For an appended change: whether it was a retry of an earlier append.
    pub duplicate: bool,
}

/// An API node's connection to the log and the shards.
#[derive(Clone, Debug)]
pub struct Api {
    client: Client,
    log: Log,
    layout: Layout,
    patience: Duration,
}

static IDS: AtomicU64 = AtomicU64::new(0);

impl Api {
    /// An API node for `layout`, creating the stream (with `replicas`
    /// copies) if there is none.
    pub async fn new(client: Client, layout: Layout, replicas: usize) -> Result<Api, Error> {
        let log = Log::open(client.clone(), replicas).await?;
        Ok(Api {
            client,
            log,
            layout,
            patience: Duration::from_secs(20),
        })
    }

    /// The log.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// Answers a request to `path` with form `body`. `id` names a change for
    /// deduplication (a unique one is made if none is given: then a retry is
    /// a new write); `after` is the client's last write sequence, for a get.
    pub async fn handle(&self, path: &str, body: &[u8], id: Option<&str>, after: u64) -> Result<Answer, Error> {
        let request = match Request::parse(path, body) {
            Ok(request) => request,
            Err(e) => return Ok(plain(Response::from_error(&e).to_json())),
        };
        if !request.is_change() {
            return self.get(&request, after).await.map(plain);
        }
        let made;
        let id = match id {
            Some(id) => id,
            None => {
                made = format!("api-{}-{}", std::process::id(), IDS.fetch_add(1, Ordering::Relaxed));
                &made
            }
        };
        let appended = self.log.append(&request, id, self.patience).await?;
        Ok(Answer {
            response: Response::Ok.to_json(),
            seq: Some(appended.seq),
            duplicate: appended.duplicate,
        })
    }

    /// Answers the get `request` from its shard, once that shard has applied
    /// sequence `after`.
    pub async fn get(&self, request: &Request, after: u64) -> Result<String, Error> {
        let shard = match request.shard_key() {
            ShardKey::User(user) => self.layout.shard_of_user(user.as_str()),
            _ => ShardId(0),
        };
        let body = serde_json::to_vec(&GetRequest {
            after,
            request: request.clone(),
        })
        .map_err(|e| Error::frame("get", e))?;
        let answer = self.ask(wire::get_subject(self.layout, shard), body).await?;
        Ok(String::from_utf8_lossy(wire::payload(&answer)?).into_owned())
    }

    async fn ask(&self, subject: String, body: Vec<u8>) -> Result<bytes::Bytes, Error> {
        let request = self.client.request(subject, body.into());
        match tokio::time::timeout(READ_DEADLINE + Duration::from_secs(2), request).await {
            Ok(Ok(message)) => Ok(message.payload),
            Ok(Err(e)) => Err(nats("ask a shard")(e)),
            Err(_) => Err(Error::Timeout("ask a shard")),
        }
    }

    /// Decides `message` (a push object without `recipients`) for each of
    /// `recipients`, calling `emit` for each in order; every shard first
    /// applies sequence `after`. Returns how many were decided.
    pub async fn decide(
        &self,
        message: &Map<String, Value>,
        recipients: impl IntoIterator<Item = String>,
        after: u64,
        mut emit: impl FnMut(&str, Verdict),
    ) -> Result<u64, Error> {
        let mut chunk = Vec::with_capacity(DECIDE_CHUNK);
        let mut count = 0;
        let mut recipients = recipients.into_iter();
        loop {
            chunk.clear();
            chunk.extend(recipients.by_ref().take(DECIDE_CHUNK));
            if chunk.is_empty() {
                return Ok(count);
            }
            let verdicts = self.decide_chunk(message, &chunk, after).await?;
            for (r, v) in chunk.iter().zip(verdicts) {
                emit(r, v);
            }
            count += chunk.len() as u64;
        }
    }

    async fn decide_chunk(
        &self,
        message: &Map<String, Value>,
        chunk: &[String],
        after: u64,
    ) -> Result<Vec<Verdict>, Error> {
        let mut positions: Vec<Vec<usize>> = vec![Vec::new(); usize::from(self.layout.shards())];
        for (i, r) in chunk.iter().enumerate() {
            positions[usize::from(self.layout.shard_of_user(r).0)].push(i);
        }
        let asks = positions
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.is_empty())
            .map(|(s, p)| {
                let mut push = message.clone();
                push.insert(
                    "recipients".into(),
                    p.iter().map(|&i| Value::String(chunk[i].clone())).collect(),
                );
                let body = serde_json::to_vec(&serde_json::json!({ "after": after, "push": push }));
                let subject = wire::decide_subject(self.layout, ShardId(s as u16));
                async move {
                    let answer = self.ask(subject, body.map_err(|e| Error::frame("decide", e))?).await?;
                    wire::verdicts(wire::payload(&answer)?, p.len()).map(|v| (p, v))
                }
            });
        let mut merged = vec![None; chunk.len()];
        for answer in futures::future::join_all(asks).await {
            let (p, verdicts) = answer?;
            for (&i, v) in p.iter().zip(verdicts) {
                merged[i] = Some(v);
            }
        }
        merged
            .into_iter()
            .map(|v| v.ok_or_else(|| Error::frame("decide", "a recipient without a verdict")))
            .collect()
    }

    /// Serves [`API_SUBJECT`] until `stop` resolves; each request in a task of
    /// its own.
    pub async fn serve(self, stop: impl std::future::Future<Output = ()>) -> Result<(), Error> {
        let mut requests = self
            .client
            .queue_subscribe(API_SUBJECT, "api".into())
            .await
            .map_err(nats("subscribe to requests"))?;
        tokio::pin!(stop);
        loop {
            tokio::select! {
                Some(m) = requests.next() => {
                    let api = self.clone();
                    tokio::spawn(async move { api.serve_one(m).await });
                }
                () = &mut stop => return Ok(()),
            }
        }
    }

    async fn serve_one(&self, m: async_nats::Message) {
        let Some(reply) = m.reply.clone() else { return };
        let header = |name: &str| {
            m.headers
                .as_ref()
                .and_then(|h| h.get(name))
                .map(|v| v.as_str().to_owned())
        };
        let path = header("Dnd-Path").unwrap_or_default();
        let id = header("Dnd-Id");
        let after = match header("Dnd-After").map(|a| a.parse::<u64>()) {
            None => Ok(0),
            Some(Ok(a)) => Ok(a),
            Some(Err(_)) => Err(()),
        };
        let mut headers = HeaderMap::new();
        let body = match after {
            Err(()) => error_json(1002, "header Dnd-After is not a stream sequence"),
            Ok(after) => match self.handle(&path, &m.payload, id.as_deref(), after).await {
                Ok(answer) => {
                    if let Some(seq) = answer.seq {
                        headers.insert("Dnd-Seq", seq.to_string().as_str());
                        headers.insert("Dnd-Duplicate", if answer.duplicate { "true" } else { "false" });
                    }
                    answer.response
                }
                Err(e) => error_json(1000, &e.to_string()),
            },
        };
        if let Err(e) = self.client.publish_with_headers(reply, headers, body.into()).await {
            eprintln!("api: an answer was not sent: {e}");
        }
    }
}

fn plain(response: String) -> Answer {
    Answer {
        response,
        seq: None,
        duplicate: false,
    }
}

/// The platform's error object (1000 internal; nothing was acknowledged).
fn error_json(code: u16, message: &str) -> String {
    serde_json::json!({ "code": code, "errorMessage": message }).to_string()
}

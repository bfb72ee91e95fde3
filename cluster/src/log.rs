//! The log: one JetStream stream per app, `DND_<app>`, of the app's
//! accepted settings requests (names in [`crate::space`]).
//!
//! Subjects (user ids cannot be subject tokens: they may hold dots, spaces
//! and wildcards, so users are routed by partition number):
//!
//! | subject | holds |
//! |---|---|
//! | `dnd.<app>.p.<partition>` | the requests of the users in that partition (0..256), and hold records of pushes to them ([`crate::holding`]) |
//! | `dnd.<app>.all` | the requests every shard applies (the admins' defaults) |
//! | `dnd.<app>.mark.<shards>.<shard>` | empty markers a shard appends to itself to learn it has caught up (see [`crate::worker`]), and its release records ([`crate::holding`]) |
//!
//! A payload is the [`Request`]'s JSON; the `Nats-Msg-Id` header is the
//! client's id for the write, so that a retry within the stream's duplicate
//! window is acknowledged with the original sequence and stored once; the
//! [`APPEND_HEADER`] names the API node's append call that stored it, so
//! that the node's own retry is not reported to the client as a duplicate.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, context::PublishErrorKind, message::PublishMessage, stream};
use dnd_engine::Request;

use crate::space::Space;
use crate::{nats, Error};

/// The object store of the shards' snapshots.
pub const SNAPSHOTS: &str = "dnd_snapshots";
/// How long the stream remembers a write's id: a retry later than this is
/// stored again. Longer than any client's retry horizon.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(600);
/// How long one JetStream call may take before it is retried or fails.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// A JetStream context whose calls time out after [`CALL_TIMEOUT`].
pub fn context(client: async_nats::Client) -> jetstream::Context {
    jetstream::ContextBuilder::new().timeout(CALL_TIMEOUT).build(client)
}

/// Where a write landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    /// Its stream sequence: a get or decide that passes it as `after` sees it.
    pub seq: u64,
    /// Whether the id had been appended before (a retry): `seq` is then the
    /// original one, and nothing was stored.
    pub duplicate: bool,
}

/// The header naming the append call that stored a message:
/// `<node>.<n>`, where `<node>` is unique to a [`Log`] (a NUID) and `<n>`
/// counts its appends. A retry of the node's own (its first attempt stored,
/// the acknowledgement lost) is told apart from a client's retry of an
/// earlier request by it.
pub const APPEND_HEADER: &str = "Dnd-Append";

/// The stream, for appending.
#[derive(Clone, Debug)]
pub struct Log {
    js: jetstream::Context,
    space: Space,
    /// This node's part of [`APPEND_HEADER`].
    node: Arc<str>,
    /// Appends so far.
    appends: Arc<AtomicU64>,
}

impl Log {
    /// Opens the stream of `space`, creating it with `replicas` copies if
    /// there is none.
    pub async fn open(client: async_nats::Client, space: Space, replicas: usize) -> Result<Log, Error> {
        Log::open_with_window(client, space, replicas, DUPLICATE_WINDOW).await
    }

    /// As [`Log::open`], a stream created here remembering write ids for
    /// `window` (tests shorten it; an existing stream keeps its own, which
    /// the shards read when they trim).
    pub async fn open_with_window(
        client: async_nats::Client,
        space: Space,
        replicas: usize,
        window: Duration,
    ) -> Result<Log, Error> {
        // A NUID, as the client makes for its inboxes.
        let inbox = client.new_inbox();
        let node: Arc<str> = inbox.rsplit('.').next().unwrap_or(&inbox).into();
        let js = context(client);
        let config = stream::Config {
            name: space.stream(),
            subjects: space.stream_subjects(),
            storage: stream::StorageType::File,
            duplicate_window: window,
            num_replicas: replicas,
            allow_direct: true,
            ..Default::default()
        };
        retry("create the stream", || js.get_or_create_stream(config.clone())).await?;
        Ok(Log {
            js,
            space,
            node,
            appends: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The JetStream context.
    pub fn context(&self) -> &jetstream::Context {
        &self.js
    }

    /// The app's space.
    pub fn space(&self) -> &Space {
        &self.space
    }

    /// The stream's last sequence now (0 for an empty stream): every write
    /// acknowledged so far is at or below it.
    pub async fn last_sequence(&self) -> Result<u64, Error> {
        let info = retry("read the stream's last sequence", || async {
            let stream = self
                .js
                .get_stream(self.space.stream())
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(stream.cached_info().state.last_sequence)
        })
        .await?;
        Ok(info)
    }

    /// Appends the change `request` under the client's write `id`, retrying
    /// with the same id for up to `patience` while the stream is unavailable
    /// (a leader election, a restarting server).
    ///
    /// `duplicate` means an earlier request of the client's was stored: a
    /// retry of this call's own (an attempt stored whose acknowledgement was
    /// lost) is not one. Every attempt carries this call's
    /// [`APPEND_HEADER`]; when a retry is acknowledged as a duplicate, the
    /// stored message's header says whose it is. If that message cannot be
    /// read within the patience, the append fails (the client's retry is
    /// then rightly a duplicate).
    pub async fn append(&self, request: &Request, id: &str, patience: Duration) -> Result<Appended, Error> {
        let subject = self.space.subject_of(request.shard_key());
        let payload = serde_json::to_vec(request).map_err(|e| Error::frame("request", e))?;
        let deadline = tokio::time::Instant::now() + patience;
        let token = format!("{}.{}", self.node, self.appends.fetch_add(1, Ordering::Relaxed));
        let mut retried = false;
        loop {
            let message = PublishMessage::build()
                .payload(payload.clone().into())
                .message_id(id)
                .header(APPEND_HEADER, token.as_str());
            let attempt = async {
                let ack = self.js.send_publish(subject.clone(), message).await?;
                ack.await
            };
            match tokio::time::timeout(CALL_TIMEOUT, attempt).await {
                Ok(Ok(ack)) => {
                    let own = retried && ack.duplicate && self.stored_by(ack.sequence, &token, deadline).await?;
                    return Ok(Appended {
                        seq: ack.sequence,
                        duplicate: ack.duplicate && !own,
                    });
                }
                Ok(Err(e)) if e.kind() == PublishErrorKind::MaxPayloadExceeded => {
                    return Err(nats("append")(e));
                }
                Ok(Err(e)) if tokio::time::Instant::now() >= deadline => return Err(nats("append")(e)),
                Err(_) if tokio::time::Instant::now() >= deadline => return Err(Error::Timeout("append")),
                _ => {
                    retried = true;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    /// Whether the message at `seq` was stored by the append call `token`,
    /// asking until `deadline` (once at least).
    async fn stored_by(&self, seq: u64, token: &str, deadline: tokio::time::Instant) -> Result<bool, Error> {
        loop {
            let read = async {
                let stream = self
                    .js
                    .get_stream_no_info(self.space.stream())
                    .await
                    .map_err(nats("open the stream"))?;
                stream
                    .get_raw_message(seq)
                    .await
                    .map_err(nats("read a duplicate's message"))
            };
            match tokio::time::timeout(CALL_TIMEOUT, read).await {
                Ok(Ok(message)) => return Ok(message.headers.get(APPEND_HEADER).is_some_and(|v| v.as_str() == token)),
                Ok(Err(e)) if tokio::time::Instant::now() >= deadline => return Err(e),
                Err(_) if tokio::time::Instant::now() >= deadline => {
                    return Err(Error::Timeout("read a duplicate's message"))
                }
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }
}

/// How many times [`retry`] tries a call.
pub(crate) const ATTEMPTS: u32 = 21;

/// Runs `call` until it succeeds, for at most [`ATTEMPTS`] attempts a
/// quarter second apart, each given [`CALL_TIMEOUT`] (a JetStream API call
/// may fail once during an election).
pub(crate) async fn retry<T, E: std::fmt::Display, F: std::future::Future<Output = Result<T, E>>>(
    what: &'static str,
    call: impl FnMut() -> F,
) -> Result<T, Error> {
    retry_within(what, ATTEMPTS, CALL_TIMEOUT, call).await
}

/// Runs `call` until it succeeds, for at most `attempts` attempts (at least
/// one) a quarter second apart, each given `limit`.
pub(crate) async fn retry_within<T, E: std::fmt::Display, F: std::future::Future<Output = Result<T, E>>>(
    what: &'static str,
    attempts: u32,
    limit: Duration,
    mut call: impl FnMut() -> F,
) -> Result<T, Error> {
    let mut attempt = 1;
    loop {
        match tokio::time::timeout(limit, call()).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) if attempt >= attempts => return Err(nats(what)(e)),
            Err(_) if attempt >= attempts => return Err(Error::Timeout(what)),
            _ => {}
        }
        attempt += 1;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

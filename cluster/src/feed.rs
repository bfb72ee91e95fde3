//! A shard's feed: the entries of its subjects in stream order, from the
//! sequence after the applied one, through a consumer the shard owns and
//! replaces as soon as it may have stopped.
//!
//! The consumer is what async-nats's ordered consumer creates (ephemeral,
//! one replica in memory, no acknowledgements, the shard's filter
//! subjects), read as a plain pull consumer with a short idle heartbeat.
//! The shard does not use the ordered consumer's own recovery, for what it
//! does when the server holding the consumer is killed (seen with three
//! servers, async-nats 0.51 and nats-server 2.12; `docs/scaling.md`):
//!
//! - it notices late: its idle heartbeat is 15 s and it recreates after two
//!   missed ones, or when a renewed pull (every 35 s) finds no responders,
//!   so 30–60 s pass before it even tries;
//! - it can stall for good without an error: it retries the recreation
//!   forever under one fixed name (`<first name>_<n>`), and a killed server
//!   is still counted online by the others for 150 s or more (no shutdown
//!   event; nats-server's orphan check marks it offline after five of
//!   its 30-s event heartbeats), so the new one-replica consumer may be
//!   placed on the dead server. Every retry under that name re-proposes the same
//!   placement, which never answers, and once the server is marked offline
//!   it is refused as offline, again and again.
//!
//! Here each consumer has a fresh name the server picks, so each attempt is
//! placed anew; an attempt that is not answered within the call timeout is
//! abandoned, and the next one waits [`Watchdog::wait`]. The decision to
//! reopen, and how long to wait first (a consumer that dies young makes the
//! next one wait), is the [`Watchdog`]'s. An entry whose metadata cannot be
//! read ends the feed with a frame error: a server that sends such entries
//! sends them to every consumer, and reopening would only loop. Opening
//! runs inside the worker's event loop without blocking it: reads are still
//! answered (or refused at their deadline) while the feed reopens.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use async_nats::jetstream::{self, stream::Stream as JsStream};
use futures::StreamExt;
use tokio::time::Instant;

use crate::log::CALL_TIMEOUT;
use crate::watchdog::{Watchdog, Why, STALL_PATIENCE};
use crate::Error;

/// The idle heartbeat the server sends while a pull waits with nothing to
/// deliver; two missed in a row (2 s of silence) replace the consumer.
pub const HEARTBEAT: Duration = Duration::from_secs(1);
/// How long one pull waits at the server before it is renewed.
const EXPIRES: Duration = Duration::from_secs(10);
/// Entries asked for per pull (the ordered consumer's figure).
const BATCH: usize = 500;
/// The server deletes a consumer nobody pulled from for this long: one the
/// shard replaced, or a stopped shard's.
const INACTIVE: Duration = Duration::from_secs(30);

/// Why an attempt to open a consumer failed.
enum OpenError {
    /// The server cannot serve the shard: give up.
    Fatal(Error),
    /// Try again.
    Retry(String),
}

type Opening = Pin<Box<dyn Future<Output = Result<Open, OpenError>> + Send>>;

/// An open consumer.
struct Open {
    name: String,
    messages: pull::Stream,
}

enum State {
    /// Boxed: the message stream is large and the feed opens rarely.
    Reading(Box<Open>),
    /// The feed ended with this error; every later call returns it again.
    Failed(Error),
    Opening {
        /// The first sequence asked for.
        from: u64,
        /// Attempts that failed so far.
        attempt: u32,
        future: Opening,
    },
}

/// One entry of the shard's subjects.
pub(crate) struct Entry {
    /// The message.
    pub(crate) message: jetstream::Message,
    /// Its stream sequence.
    pub(crate) seq: u64,
}

/// The entries of one shard's subjects.
pub(crate) struct Feed {
    stream: JsStream,
    subjects: Vec<String>,
    /// `shard <i>`, for the log.
    who: String,
    state: State,
    watchdog: Watchdog,
    /// Consumers opened so far (1 once the first is open).
    opened: u64,
}

impl Feed {
    /// A feed of `subjects` from the sequence after `applied`; the first
    /// consumer is opened by the first call to [`Feed::next`].
    pub(crate) fn new(stream: JsStream, subjects: Vec<String>, who: String, applied: u64) -> Feed {
        let future = open(stream.clone(), subjects.clone(), applied + 1, Duration::ZERO);
        Feed {
            stream,
            subjects,
            who,
            state: State::Opening {
                from: applied + 1,
                attempt: 0,
                future,
            },
            watchdog: Watchdog::new(STALL_PATIENCE, Instant::now()),
            opened: 0,
        }
    }

    /// How many consumers this feed has opened.
    pub(crate) fn opened(&self) -> u64 {
        self.opened
    }

    /// The next entry, in stream order, opening or replacing the consumer as
    /// needed; `applied` is the shard's applied sequence (a new consumer
    /// starts after it). Cancel-safe: an interrupted call loses nothing and
    /// the next call goes on where it stopped. Errs only when the server
    /// cannot serve a shard at all, or sent an entry without readable
    /// metadata; after an error every call returns it again.
    pub(crate) async fn next(&mut self, applied: u64) -> Result<Entry, Error> {
        loop {
            let why = match &mut self.state {
                State::Opening { from, attempt, future } => {
                    let result = future.as_mut().await;
                    let (from, attempt) = (*from, *attempt);
                    match result {
                        Ok(open) => {
                            self.opened += 1;
                            if self.opened > 1 {
                                tracing::info!(
                                    "{}: reading from sequence {from} with consumer {} ({} attempts)",
                                    self.who,
                                    open.name,
                                    attempt + 1
                                );
                            }
                            self.watchdog.opened(Instant::now());
                            self.state = State::Reading(Box::new(open));
                        }
                        Err(OpenError::Fatal(e)) => return Err(self.fail(e)),
                        Err(OpenError::Retry(why)) => {
                            let attempt = attempt + 1;
                            let wait = self.watchdog.wait(attempt);
                            tracing::warn!(
                                "{}: opening a consumer failed ({why}); attempt {} in {wait:.2?}",
                                self.who,
                                attempt + 1
                            );
                            self.state = State::Opening {
                                from,
                                attempt,
                                future: open(self.stream.clone(), self.subjects.clone(), from, wait),
                            };
                        }
                    }
                    continue;
                }
                State::Failed(e) => return Err(e.clone()),
                State::Reading(open) => match open.messages.next().await {
                    Some(Ok(message)) => {
                        let (consumer_seq, seq) = match message.info() {
                            Ok(info) => (info.consumer_sequence, info.stream_sequence),
                            Err(e) => return Err(self.fail(Error::frame("a stream entry's metadata", e))),
                        };
                        match self.watchdog.entry(consumer_seq, Instant::now()) {
                            Ok(()) => return Ok(Entry { message, seq }),
                            Err(why) => why,
                        }
                    }
                    Some(Err(e)) => Why::Failed(e.to_string()),
                    None => Why::Ended,
                },
            };
            self.reopen(applied, &why);
        }
    }

    /// Replaces the consumer if it stalled (see [`Watchdog::stalled`]):
    /// `known` is a sequence of the shard's subjects the stream holds.
    pub(crate) fn check(&mut self, applied: u64, known: u64) {
        if let State::Reading(_) = self.state {
            if let Some(why) = self.watchdog.stalled(Instant::now(), applied, known) {
                self.reopen(applied, &why);
            }
        }
    }

    /// Ends the feed with `e`: every later call returns it again.
    fn fail(&mut self, e: Error) -> Error {
        self.state = State::Failed(e.clone());
        e
    }

    /// Drops the consumer and opens a new one from the sequence after
    /// `applied`, after the watchdog's wait; the old one is deleted in the
    /// background (the server drops it after [`INACTIVE`] anyway).
    fn reopen(&mut self, applied: u64, why: &Why) {
        let from = applied + 1;
        let wait = self.watchdog.replaced(Instant::now());
        tracing::warn!(
            "{}: replacing its consumer from sequence {from} in {wait:.2?}: {why}",
            self.who
        );
        let future = open(self.stream.clone(), self.subjects.clone(), from, wait);
        let old = std::mem::replace(
            &mut self.state,
            State::Opening {
                from,
                attempt: 0,
                future,
            },
        );
        if let State::Reading(open) = old {
            let Open { name, messages } = *open;
            drop(messages);
            let stream = self.stream.clone();
            tokio::spawn(async move {
                let _ = tokio::time::timeout(CALL_TIMEOUT, stream.delete_consumer(&name)).await;
            });
        }
    }
}

/// One attempt to open a consumer of `subjects` from sequence `from`, after
/// waiting `delay`. Refuses a server that dropped the filter subjects (a
/// 2.9 server does so silently).
fn open(stream: JsStream, subjects: Vec<String>, from: u64, delay: Duration) -> Opening {
    Box::pin(async move {
        tokio::time::sleep(delay).await;
        let config = pull::Config {
            deliver_policy: match from {
                0 | 1 => DeliverPolicy::All,
                start_sequence => DeliverPolicy::ByStartSequence { start_sequence },
            },
            ack_policy: AckPolicy::None,
            max_deliver: 1,
            filter_subjects: subjects.clone(),
            inactive_threshold: INACTIVE,
            num_replicas: 1,
            memory_storage: true,
            ..Default::default()
        };
        let attempt = async {
            let consumer = stream
                .create_consumer(config)
                .await
                .map_err(|e| OpenError::Retry(format!("create: {e}")))?;
            let info = consumer.cached_info();
            if info.config.filter_subjects.len() != subjects.len() {
                return Err(OpenError::Fatal(Error::Server(format!(
                    "the consumer was created with {} filter subjects of {} (a server older than 2.10 drops them; see scripts/nats-server.sh)",
                    info.config.filter_subjects.len(),
                    subjects.len()
                ))));
            }
            let name = info.name.clone();
            let messages = consumer
                .stream()
                .max_messages_per_batch(BATCH)
                .expires(EXPIRES)
                .heartbeat(HEARTBEAT)
                .messages()
                .await
                .map_err(|e| OpenError::Retry(format!("pull: {e}")))?;
            Ok(Open { name, messages })
        };
        // The create call itself times out after CALL_TIMEOUT; this bounds
        // the subscription too.
        tokio::time::timeout(2 * CALL_TIMEOUT, attempt)
            .await
            .unwrap_or_else(|_| Err(OpenError::Retry("no answer in time".to_owned())))
    })
}

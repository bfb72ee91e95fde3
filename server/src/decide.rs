//! The decide endpoint, streamed both ways in bounded memory.
//!
//! The body is the replay protocol's push object. It is read as a stream:
//! the fields before `recipients` are gathered (they are small), and when
//! `recipients` begins the message is built and checked with the core's
//! [`Push`], then the recipients are decided in chunks as they arrive, each
//! chunk against one consistent state of the settings, and the decisions are
//! written out as they are made. So `recipients` must be the push's last
//! field, as `dnd --help` writes it; a field after it is refused.
//!
//! The answer's head waits until [`FIRST_FLUSH`] bytes of decisions are ready
//! or the push ends, so a push of up to a few thousand recipients is always
//! refused with a proper status (1002, HTTP 400) when anything in it is
//! wrong. A fault found later in a larger push (a malformed recipient, one
//! past the limit) can no longer change the status: the answer is then cut
//! off without its final chunk, which every HTTP client reports as an error,
//! never as a complete answer.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io::{self, Read};
use std::time::Duration;

use bytes::Bytes;
use dnd_engine::push::{DecisionLine, Push};
use dnd_engine::{Layer, Message, PreparedMessage, Response, UserId};
use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};

use crate::backend::{Chunk, Decider, Lines};
use crate::metrics::Decisions;

/// Recipients decided against one version of the settings.
pub const CHUNK: usize = 1024;
/// Bytes of decisions held back before the answer's head is sent.
pub const FIRST_FLUSH: usize = 256 * 1024;

/// What the decide endpoint was asked for.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Whether each decision carries its explanation.
    pub explain: bool,
    /// The most recipients accepted.
    pub max_recipients: usize,
    /// How long a slow reader may keep the next piece of the answer waiting.
    pub write_timeout: Duration,
    /// The log position the decisions must reflect (a cluster's read your
    /// writes; 0 for none).
    pub after: u64,
}

/// A piece of the request body, or why the body stopped.
pub type Piece = Result<Bytes, Response>;
/// A piece of the answer, or an error that cuts it off.
pub type OutPiece = Result<Bytes, io::Error>;

/// Reads the body pieces the connection task forwards, blocking.
pub struct BodyReader {
    pieces: mpsc::Receiver<Piece>,
    current: Bytes,
    failure: Option<Response>,
}

impl BodyReader {
    /// A reader over the pieces sent to `pieces`.
    pub fn new(pieces: mpsc::Receiver<Piece>) -> BodyReader {
        BodyReader {
            pieces,
            current: Bytes::new(),
            failure: None,
        }
    }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.pieces.blocking_recv() {
                Some(Ok(bytes)) => self.current = bytes,
                Some(Err(response)) => {
                    self.failure = Some(response);
                    return Err(io::Error::other("the request body stopped"));
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// Where the decisions go: held back until [`FIRST_FLUSH`], then streamed.
struct Sink {
    buf: Vec<u8>,
    head: Option<oneshot::Sender<Result<(), Response>>>,
    out: mpsc::Sender<OutPiece>,
    runtime: tokio::runtime::Handle,
    write_timeout: Duration,
    gone: bool,
}

impl Sink {
    fn flush(&mut self, force: bool) {
        if self.gone || (!force && self.buf.len() < if self.head.is_some() { FIRST_FLUSH } else { 64 * 1024 }) {
            return;
        }
        if let Some(head) = self.head.take() {
            if head.send(Ok(())).is_err() {
                self.gone = true;
                return;
            }
        }
        let bytes = Bytes::from(std::mem::take(&mut self.buf));
        let sent = self
            .runtime
            .block_on(tokio::time::timeout(self.write_timeout, self.out.send(Ok(bytes))));
        if !matches!(sent, Ok(Ok(()))) {
            // The client went away or stopped reading: stop deciding.
            self.gone = true;
        }
    }

    fn fail(mut self, response: Response) {
        match self.head.take() {
            Some(head) => drop(head.send(Err(response))),
            None => {
                let reason = io::Error::other(format!("decide failed after the answer began: {response:?}"));
                let _ = self
                    .runtime
                    .block_on(tokio::time::timeout(self.write_timeout, self.out.send(Err(reason))));
            }
        }
    }
}

/// Decides the push read from `body` and streams the answer: the head's
/// outcome to `head`, the bytes to `out`. Blocks; run it on a blocking thread.
pub fn run(
    decider: &dyn Decider,
    metrics: &Decisions,
    mut body: BodyReader,
    options: Options,
    head: oneshot::Sender<Result<(), Response>>,
    out: mpsc::Sender<OutPiece>,
) {
    let sink = RefCell::new(Sink {
        buf: Vec::with_capacity(64 * 1024),
        head: Some(head),
        out,
        runtime: tokio::runtime::Handle::current(),
        write_timeout: options.write_timeout,
        gone: false,
    });
    let state = State {
        decider,
        metrics,
        options,
        sink: &sink,
        failure: RefCell::new(None),
        count: Cell::new(0),
        streamed: Cell::new(false),
    };
    let outcome = {
        let mut de = serde_json::Deserializer::from_reader(&mut body);
        PushSeed(&state).deserialize(&mut de).and_then(|()| de.end())
    };
    let failure = state.failure.into_inner().or(body.failure.take()).or_else(|| {
        outcome.err().map(|e| {
            Response::from_error(&dnd_engine::Error::Field {
                path: "push".into(),
                source: Box::new(dnd_engine::Error::Json(e.to_string())),
            })
        })
    });
    let mut sink = sink.into_inner();
    match failure {
        Some(response) => sink.fail(response),
        None => {
            sink.flush(true);
            if !sink.gone {
                // The end marker: the answer is complete.
                let end = sink.out.send(Ok(Bytes::new()));
                let _ = sink.runtime.block_on(tokio::time::timeout(sink.write_timeout, end));
            }
        }
    }
}

struct State<'s> {
    decider: &'s dyn Decider,
    metrics: &'s Decisions,
    options: Options,
    sink: &'s RefCell<Sink>,
    failure: RefCell<Option<Response>>,
    count: Cell<usize>,
    streamed: Cell<bool>,
}

impl State<'_> {
    /// Whether the recipient numbered `n` (from 1, counting those decided)
    /// is within the limit.
    fn admit(&self, n: usize) -> Result<(), ()> {
        let max = self.options.max_recipients;
        if self.count.get() + n > max {
            *self.failure.borrow_mut() = Some(Response::Error {
                code: 1002,
                message: format!("parameter recipients: more than {max} recipients"),
            });
            return Err(());
        }
        Ok(())
    }

    fn refuse<E: serde::de::Error>(&self, message: String) -> E {
        let e = E::custom(&message);
        *self.failure.borrow_mut() = Some(Response::Error { code: 1002, message });
        e
    }

    /// Decides one chunk of recipients and writes their decisions; `false`
    /// if the backend refused it (the failure is recorded).
    fn decide(&self, fields: &Map<String, Value>, message: &Message<'_>, recipients: &[String]) -> bool {
        let mut sink = self.sink.borrow_mut();
        let chunk = Chunk {
            fields,
            message,
            recipients,
            explain: self.options.explain,
            after: self.options.after,
        };
        let mut count = self.count.get();
        let outcome = {
            let mut lines = Lines::new(&mut sink.buf, &mut count);
            let outcome = self.decider.decide(&chunk, &mut lines);
            for (layer, n) in Layer::ALL.iter().zip(lines.by_layer()) {
                if *n > 0 {
                    self.metrics.decisions(*layer, *n);
                }
            }
            outcome
        };
        self.count.set(count);
        if let Err(response) = outcome {
            *self.failure.borrow_mut() = Some(response);
            return false;
        }
        sink.flush(false);
        true
    }
}

/// Writes the decision line of recipient `id` (its JSON object, as `dnd
/// replay` prints it, with the explanation on request: the core's
/// [`DecisionLine`]) to `out`, and returns the layer that decided.
pub fn decision_line(prepared: &PreparedMessage<'_>, id: &str, explain: bool, out: &mut Vec<u8>) -> Layer {
    let line = DecisionLine::of(prepared, id, explain);
    // Writing to a Vec fails only for a value serde cannot write: none here.
    let _ = line.write_to(out);
    line.decision().by()
}

/// Recipients held before the push's other fields must all be known: a push
/// with up to this many recipients may list its fields in any order.
pub const EAGER: usize = 8 * CHUNK;

/// Why a field may be missing when a long push is streamed.
fn streamed_hint() -> String {
    format!(" (a push of more than {EAGER} recipients lists recipients last)")
}

/// The push's fields other than `recipients`, checked by the core.
fn push_of(state: &State<'_>, fields: &Map<String, Value>) -> Result<Push, String> {
    let mut object = fields.clone();
    object.insert("recipients".into(), Value::Array(Vec::new()));
    Push::from_json(&Value::Object(object).to_string()).map_err(|e| {
        let mut message = e.to_string();
        if state.streamed.get() {
            message.push_str(&streamed_hint());
        }
        *state.failure.borrow_mut() = Some(Response::Error {
            code: 1002,
            message: message.clone(),
        });
        message
    })
}

/// A recipient read from the stream: a string that is a user id, as
/// [`Push::message`] checks them; the error names `push.recipients[i]`.
fn recipient(state: &State<'_>, index: usize, value: Value) -> Result<String, String> {
    let path = format!("push.recipients[{index}]");
    let checked = match value {
        Value::String(id) => UserId::new(&id).map(|_| id),
        _ => Err(dnd_engine::Error::JsonType("a string (a user id)")),
    };
    checked.map_err(|e| {
        let e = dnd_engine::Error::Field {
            path,
            source: Box::new(e),
        };
        *state.failure.borrow_mut() = Some(Response::from_error(&e));
        e.to_string()
    })
}

/// Decides `recipients` (the whole list, or the eager part of a stream)
/// with the push built from `fields`, then the rest of `more`, if given.
fn decide_all<'de, A: SeqAccess<'de>>(
    state: &State<'_>,
    fields: &Map<String, Value>,
    recipients: &mut Vec<String>,
    more: Option<&mut A>,
) -> Result<(), String> {
    let push = push_of(state, fields)?;
    let ids = push.mentioned_ids();
    let message = push.message(&ids).map_err(|e| {
        let mut message = e.to_string();
        if state.streamed.get() {
            message.push_str(&streamed_hint());
        }
        *state.failure.borrow_mut() = Some(Response::Error {
            code: Response::from_error(&e).code(),
            message: message.clone(),
        });
        message
    })?;
    state.sink.borrow_mut().buf.extend_from_slice(b"{\"decisions\":[");
    for chunk in recipients.chunks(state.decider.chunk_size().max(1)) {
        if !state.decide(fields, &message, chunk) {
            return Err("the decide backend failed".into());
        }
    }
    recipients.clear();
    if let Some(seq) = more {
        while let Some(value) = seq.next_element::<Value>().map_err(|e| e.to_string())? {
            state
                .admit(recipients.len() + 1)
                .map_err(|()| String::from("too many recipients"))?;
            recipients.push(recipient(state, state.count.get() + recipients.len(), value)?);
            if recipients.len() >= state.decider.chunk_size().max(1) {
                if !state.decide(fields, &message, recipients) {
                    return Err("the decide backend failed".into());
                }
                recipients.clear();
                if state.sink.borrow().gone {
                    return Err("the client went away".into());
                }
            }
        }
        if !state.decide(fields, &message, recipients) {
            return Err("the decide backend failed".into());
        }
        recipients.clear();
    }
    state.sink.borrow_mut().buf.extend_from_slice(b"]}");
    Ok(())
}

struct PushSeed<'a, 's>(&'a State<'s>);

impl<'de> DeserializeSeed<'de> for PushSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PushSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a push object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let state = self.0;
        let fields = RefCell::new(Map::new());
        let mut held: Option<Vec<String>> = None;
        while let Some(key) = map.next_key::<String>()? {
            if key != "recipients" {
                if state.streamed.get() {
                    return Err(state.refuse(format!(
                        "push.{key}: follows more than {EAGER} recipients; recipients must then be the last field"
                    )));
                }
                if fields.borrow().contains_key(&key) {
                    return Err(state.refuse(format!(
                        "push.{key}: is given twice (a key may appear once in an object)"
                    )));
                }
                let value: Value = map.next_value()?;
                fields.borrow_mut().insert(key, value);
                continue;
            }
            if held.is_some() || state.streamed.get() {
                return Err(state.refuse("push.recipients: is given twice (a key may appear once in an object)".into()));
            }
            held = map.next_value_seed(RecipientsSeed { state, fields: &fields })?;
        }
        match held {
            Some(mut recipients) => {
                // Nothing more to read: any SeqAccess type will do for `None`.
                type NoMore<E> = serde::de::value::SeqDeserializer<std::iter::Empty<String>, E>;
                decide_all::<NoMore<A::Error>>(state, &fields.borrow(), &mut recipients, None).map_err(A::Error::custom)
            }
            None if state.streamed.get() => Ok(()),
            None => Err(state.refuse("push.recipients: is missing; it must be an array of user ids".into())),
        }
    }
}

struct RecipientsSeed<'a, 's> {
    state: &'a State<'s>,
    fields: &'a RefCell<Map<String, Value>>,
}

impl<'de> DeserializeSeed<'de> for RecipientsSeed<'_, '_> {
    /// The recipients, if the list was short enough to hold; `None` once
    /// they were streamed.
    type Value = Option<Vec<String>>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RecipientsSeed<'_, '_> {
    type Value = Option<Vec<String>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of user ids")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let state = self.state;
        let mut held: Vec<String> = Vec::new();
        while let Some(value) = seq.next_element::<Value>()? {
            state
                .admit(held.len() + 1)
                .map_err(|()| A::Error::custom("too many recipients"))?;
            held.push(recipient(state, held.len(), value).map_err(A::Error::custom)?);
            if held.len() > EAGER {
                // Too many to hold: every other field must be known by now.
                state.streamed.set(true);
                decide_all(state, &self.fields.borrow(), &mut held, Some(&mut seq)).map_err(A::Error::custom)?;
                return Ok(None);
            }
        }
        Ok(Some(held))
    }
}

//! The decide endpoint: the body scanned as it arrives ([`scan`]), then
//! decided in steps on a bounded pool of threads, the answer streamed out.
//!
//! The body is the replay protocol's push object, its fields in any order.
//! It is read asynchronously, so a slow client holds no thread: [`scan`]
//! follows it byte by byte, refuses what is wrong as soon as it is read
//! (an unknown key before its value arrives), and keeps only the other
//! fields' JSON and the recipients' ids. Once the body has ended, the CPU
//! work runs on the pool in steps ([`decide_some`]): the first checks the
//! push with the core's [`Push`] and decides until [`FIRST_FLUSH`] bytes of
//! decisions are ready, each later step until [`NEXT_FLUSH`] more; between
//! steps the answer waits for the client to take what was written, without
//! a thread. Each chunk of recipients is decided against one consistent
//! state of the settings.
//!
//! Every fault of the push itself is found before the answer's head is
//! sent, so it is refused with a proper status (1002 or 1005, HTTP 400). A
//! backend that fails after the answer began (a cluster's shard) cuts the
//! answer off without its final chunk, which every HTTP client reports as
//! an error, never as a complete answer.

pub mod scan;

use std::io;

use bytes::Bytes;
use dnd_engine::push::{DecisionLine, Push};
use dnd_engine::{Layer, PreparedMessage, Response};
use serde_json::{Map, Value};

use crate::backend::{Chunk, Decider, Lines, MembersAsk};
use crate::hold::HoldRecord;
use crate::metrics::Decisions;
use dnd_engine::push::{AnswerForm, Compact};
use scan::Scanner;

/// Recipients decided against one version of the settings.
pub const CHUNK: usize = 1024;
/// Bytes of decisions made before the answer's head is sent.
pub const FIRST_FLUSH: usize = 256 * 1024;
/// Bytes of decisions made in each later step.
pub const NEXT_FLUSH: usize = 64 * 1024;

/// A piece of the answer, or an error that cuts it off.
pub type OutPiece = Result<Bytes, io::Error>;

/// A push read whole and checked, to be decided in steps.
#[derive(Debug)]
pub struct Job {
    push: Push,
    fields: Map<String, Value>,
    recipients: Scanner,
    explain: bool,
    after: u64,
    max_lines: usize,
}

/// How far a [`Job`] has come.
#[derive(Clone, Copy, Debug, Default)]
pub struct Progress {
    next: usize,
    lines: usize,
}

impl Job {
    /// The push whose other fields are `fields` (JSON, as [`Scanner::finish`]
    /// gives them) and whose recipients `recipients` holds, checked by the
    /// core: a refusal names the field.
    pub fn new(fields: &str, recipients: Scanner, explain: bool, after: u64) -> Result<Job, Response> {
        let max_lines = recipients.max_recipients();
        let push = Push::from_json(fields).map_err(|e| Response::from_error(&e))?;
        let ids = push.mentioned_ids();
        push.message(&ids).map_err(|e| Response::from_error(&e))?;
        let mut fields: Map<String, Value> = serde_json::from_str(fields).map_err(|e| Response::Error {
            code: 1002,
            message: format!("push: {e}"),
        })?;
        fields.remove("recipients");
        Ok(Job {
            push,
            fields,
            recipients,
            explain,
            after,
            max_lines,
        })
    }
}

impl Job {
    /// Whether the push asks to hold (`"hold": true`).
    pub fn holds(&self) -> bool {
        self.push.hold
    }
}

/// A held push's whole answer, and the hold to make durable before it is
/// sent (none when nobody was held).
pub type HeldAnswer = (Vec<u8>, Option<HoldRecord>);

/// Decides a push that asks to hold, whole: the answer's bytes and the
/// hold to make durable before they are sent. `None` when `decider` does
/// not hold (the push is decided as a plain one). Blocks; run it on the pool.
pub fn decide_held(job: &Job, decider: &dyn Decider, metrics: &Decisions) -> Option<Result<HeldAnswer, Response>> {
    let ids = job.push.mentioned_ids();
    let message = match job.push.message(&ids) {
        Ok(message) => message,
        Err(e) => return Some(Err(Response::from_error(&e))),
    };
    let recipients: Vec<String> = if job.push.members {
        // A push without recipients holds its members as the same push
        // with their ids listed would; a backend that cannot list them
        // here refuses it, nothing decided or held.
        let Some(ids) = decider.member_ids(&message) else {
            return Some(Err(hold_refused(
                "a push without recipients cannot be held here; list the recipients",
            )));
        };
        if ids.len() > job.max_lines {
            return Some(Err(hold_refused(&format!(
                "a held push to {} members, more than {}; list the recipients in parts",
                ids.len(),
                job.max_lines
            ))));
        }
        ids
    } else {
        let total = job.recipients.ends.len();
        (0..total).map(|i| job.recipients.id(i).to_owned()).collect()
    };
    let chunk = Chunk {
        fields: &job.fields,
        message: &message,
        recipients: &recipients,
        explain: job.explain,
        after: job.after,
    };
    let mut out = b"{\"decisions\":[".to_vec();
    let mut count = 0;
    let mut lines = Lines::new(&mut out, &mut count);
    let outcome = decider.decide_hold(&chunk, &mut lines)?;
    for (layer, n) in Layer::ALL.iter().zip(lines.by_layer()) {
        if *n > 0 {
            metrics.decisions(*layer, *n);
        }
    }
    Some(outcome.map(|record| {
        out.extend_from_slice(b"]}");
        (out, record)
    }))
}

/// The refusal of a held push to the members, naming `push.hold`.
fn hold_refused(why: &str) -> Response {
    Response::Error {
        code: 1002,
        message: format!("push.hold: {why}"),
    }
}

/// Decides the job's recipients from where `progress` stands until at
/// least `budget` bytes of the answer are written or the push ends: the
/// bytes, and whether the answer is complete. Blocks (a cluster's decider
/// waits on the network); run it on the pool.
pub fn decide_some(
    job: &Job,
    decider: &dyn Decider,
    metrics: &Decisions,
    progress: &mut Progress,
    budget: usize,
) -> Result<(Vec<u8>, bool), Response> {
    let ids = job.push.mentioned_ids();
    let message = job.push.message(&ids).map_err(|e| Response::from_error(&e))?;
    if job.push.members {
        let mut out = Vec::new();
        let ask = MembersAsk {
            fields: &job.fields,
            message: &message,
            form: job.push.answer,
            explain: job.explain,
            after: job.after,
            max_lines: job.max_lines,
        };
        decider.decide_members(&ask, &mut out)?;
        progress.next = usize::MAX;
        return Ok((out, true));
    }
    if job.push.answer != AnswerForm::Lines {
        return compact_some(job, decider, &message, progress);
    }
    let mut out = Vec::with_capacity(budget + budget / 4);
    if progress.next == 0 && progress.lines == 0 {
        out.extend_from_slice(b"{\"decisions\":[");
    }
    let total = job.recipients.ends.len();
    let size = decider.chunk_size().max(1);
    let mut recipients: Vec<String> = Vec::with_capacity(size.min(total));
    while progress.next < total && out.len() < budget {
        let end = (progress.next + size).min(total);
        recipients.clear();
        recipients.extend((progress.next..end).map(|i| job.recipients.id(i).to_owned()));
        let chunk = Chunk {
            fields: &job.fields,
            message: &message,
            recipients: &recipients,
            explain: job.explain,
            after: job.after,
        };
        let mut lines = Lines::new(&mut out, &mut progress.lines);
        let outcome = decider.decide(&chunk, &mut lines);
        for (layer, n) in Layer::ALL.iter().zip(lines.by_layer()) {
            if *n > 0 {
                metrics.decisions(*layer, *n);
            }
        }
        outcome?;
        progress.next = end;
    }
    let done = progress.next >= total;
    if done {
        out.extend_from_slice(b"]}");
    }
    Ok((out, done))
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

/// The job's listed recipients in a compact answer: decided chunk by chunk
/// as lines (the backends' one way to decide listed recipients), each
/// line's `push` read into the answer; the whole answer in one step (it
/// is a bit or an id per recipient, at most `max_recipients` of them).
fn compact_some(
    job: &Job,
    decider: &dyn Decider,
    message: &dnd_engine::Message<'_>,
    progress: &mut Progress,
) -> Result<(Vec<u8>, bool), Response> {
    #[derive(serde::Deserialize)]
    struct Pushed {
        push: bool,
    }
    let total = job.recipients.ends.len();
    let size = decider.chunk_size().max(1);
    let mut compact = Compact::new(job.push.answer);
    let mut recipients: Vec<String> = Vec::with_capacity(size.min(total));
    let mut lines_out = Vec::new();
    for start in (0..total).step_by(size) {
        let end = (start + size).min(total);
        recipients.clear();
        recipients.extend((start..end).map(|i| job.recipients.id(i).to_owned()));
        lines_out.clear();
        lines_out.push(b'[');
        let mut count = 0;
        let chunk = Chunk {
            fields: &job.fields,
            message,
            recipients: &recipients,
            explain: false,
            after: job.after,
        };
        decider.decide(&chunk, &mut Lines::new(&mut lines_out, &mut count))?;
        lines_out.push(b']');
        let pushed: Vec<Pushed> = serde_json::from_slice(&lines_out).map_err(|e| Response::Error {
            code: 1000,
            message: format!("decide: a decision line that does not read back: {e}"),
        })?;
        if pushed.len() != recipients.len() {
            return Err(Response::Error {
                code: 1000,
                message: "decide: a chunk answered for another count of recipients".into(),
            });
        }
        for (id, p) in recipients.iter().zip(pushed) {
            compact.add(id, p.push);
        }
    }
    progress.next = total;
    let mut out = Vec::new();
    compact.write_to(&mut out);
    Ok((out, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Metrics;

    /// A backend that decides nothing and does not list members for a hold
    /// (as a cluster's).
    struct Unlisted;

    impl Decider for Unlisted {
        fn decide(&self, _: &Chunk<'_>, _: &mut Lines<'_>) -> Result<(), Response> {
            panic!("a refused push is not decided")
        }

        fn decide_members(&self, _: &MembersAsk<'_>, _: &mut Vec<u8>) -> Result<u64, Response> {
            panic!("a refused push is not decided")
        }
    }

    #[test]
    fn a_backend_that_does_not_list_members_refuses_a_held_push_to_them_naming_hold() {
        let mut scanner = Scanner::new(10);
        scanner
            .feed(br#"{"at":0,"conversationType":10,"targetId":"club","fromUserId":"a","hold":true}"#)
            .unwrap();
        let fields = scanner.finish().unwrap();
        let job = Job::new(&fields, scanner, false, 0).unwrap();
        let metrics = Metrics::default().decisions_of("app");
        match decide_held(&job, &Unlisted, &metrics) {
            Some(Err(Response::Error { code, message })) => {
                assert_eq!(code, 1002);
                assert!(message.starts_with("push.hold: "), "{message}");
            }
            _ => panic!("a held push to the members was not refused"),
        }
    }
}

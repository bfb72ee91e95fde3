//! What travels between the API node and the shards, over NATS
//! request/reply.
//!
//! - A get: `{"after": SEQ, "request": REQUEST}` to
//!   `dnd.shard.<shards>.<shard>.get`; the answer is the platform's response
//!   JSON.
//! - A decide: `{"after": SEQ, "push": PUSH}` to `...decide`, where `PUSH` is
//!   the replay protocol's push object holding only that shard's recipients;
//!   the answer is three bytes per recipient, in the order given
//!   ([`Verdict::encode`]).
//!
//! Every answer starts with one status byte: `0` and the payload, or `1`
//! and a UTF-8 message saying what was refused.

use dnd_engine::shard::{Layout, ShardId};
use dnd_engine::{Decision, Layer, Level, Request};
use serde::{Deserialize, Serialize};

use crate::Error;

/// The subject where `shard` answers gets.
pub fn get_subject(layout: Layout, shard: ShardId) -> String {
    format!("dnd.shard.{}.{}.get", layout.shards(), shard)
}

/// The subject where `shard` decides.
pub fn decide_subject(layout: Layout, shard: ShardId) -> String {
    format!("dnd.shard.{}.{}.decide", layout.shards(), shard)
}

/// The subject where `shard` reports its progress ([`Progress`]).
pub fn progress_subject(layout: Layout, shard: ShardId) -> String {
    format!("dnd.shard.{}.{}.progress", layout.shards(), shard)
}

/// A get for a shard: answered once the shard has applied sequence `after`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetRequest {
    /// The sequence the answer must reflect: the client's last write.
    pub after: u64,
    /// The get.
    pub request: Request,
}

/// A decide for a shard; the push is kept as JSON so that its validation is
/// the core's ([`dnd_engine::push::Push`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecideRequest {
    /// The sequence the decisions must reflect.
    pub after: u64,
    /// The message and this shard's recipients.
    pub push: dnd_engine::push::Push,
}

/// A shard's progress, for operators and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// The highest stream sequence applied.
    pub applied: u64,
    /// Requests applied since the process started.
    pub applied_since_start: u64,
    /// The sequence the shard restored from its snapshot at start (0: none).
    pub restored: u64,
    /// The sequence of its newest snapshot (0: none yet).
    pub snapshot: u64,
}

/// One recipient's decision as it crosses the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Whether a push goes out.
    pub push: bool,
    /// The layer that decided.
    pub by: Layer,
    /// The level applied.
    pub level: Option<Level>,
}

impl From<Decision> for Verdict {
    fn from(d: Decision) -> Verdict {
        Verdict {
            push: d.push(),
            by: d.by(),
            level: d.level(),
        }
    }
}

impl Verdict {
    /// Bytes per verdict.
    pub const SIZE: usize = 3;

    /// Appends the three bytes: push (0 or 1), the layer's index in
    /// [`Layer::ALL`], the level's code as a signed byte (0: none).
    pub fn encode(self, out: &mut Vec<u8>) {
        let layer = Layer::ALL.iter().position(|&l| l == self.by).unwrap_or(usize::MAX);
        out.push(u8::from(self.push));
        out.push(u8::try_from(layer).unwrap_or(u8::MAX));
        out.push(Level::code_of(self.level) as i8 as u8);
    }

    /// Reads three bytes written by [`Verdict::encode`].
    pub fn decode(bytes: [u8; 3]) -> Result<Verdict, Error> {
        let push = match bytes[0] {
            0 => false,
            1 => true,
            b => return Err(Error::frame("decision", format_args!("push byte {b}"))),
        };
        let by = *Layer::ALL
            .get(usize::from(bytes[1]))
            .ok_or_else(|| Error::frame("decision", format_args!("layer {}", bytes[1])))?;
        let level = Level::from_code(i64::from(bytes[2] as i8)).map_err(|e| Error::frame("decision", e))?;
        Ok(Verdict { push, by, level })
    }
}

/// A successful answer: status 0, then `payload`.
pub fn ok(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 1);
    out.push(0);
    out.extend_from_slice(payload);
    out
}

/// A refusal: status 1, then `why`.
pub fn refused(why: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(why.len() + 1);
    out.push(1);
    out.extend_from_slice(why.as_bytes());
    out
}

/// The payload of an answer, or the shard's refusal as an error.
pub fn payload(answer: &[u8]) -> Result<&[u8], Error> {
    match answer.split_first() {
        Some((0, rest)) => Ok(rest),
        Some((1, why)) => Err(Error::frame("shard", String::from_utf8_lossy(why))),
        _ => Err(Error::frame("shard", "an answer without a status byte")),
    }
}

/// The verdicts of a decide answer's payload, which must hold `count`.
pub fn verdicts(payload: &[u8], count: usize) -> Result<Vec<Verdict>, Error> {
    if payload.len() != count * Verdict::SIZE {
        return Err(Error::frame(
            "decide answer",
            format_args!("{} bytes for {count} recipients", payload.len()),
        ));
    }
    payload
        .chunks_exact(Verdict::SIZE)
        .map(|c| Verdict::decode([c[0], c[1], c[2]]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every layer and level survives the wire, and bad bytes are refused.
    #[test]
    fn verdicts_round_trip() {
        let levels = [
            None,
            Some(Level::All),
            Some(Level::Mentions),
            Some(Level::MentionsOfMe),
            Some(Level::MentionsOfAll),
            Some(Level::Nothing),
        ];
        let mut out = Vec::new();
        let mut all = Vec::new();
        for by in Layer::ALL {
            for level in levels {
                for push in [false, true] {
                    let v = Verdict { push, by, level };
                    v.encode(&mut out);
                    all.push(v);
                }
            }
        }
        assert_eq!(verdicts(&out, all.len()).unwrap(), all);
        assert!(verdicts(&out, all.len() + 1).is_err());
        assert!(Verdict::decode([2, 0, 0]).is_err());
        // One past the last layer (the walk grew a layer, UserSnooze, after this test was written).
        assert!(Verdict::decode([0, Layer::ALL.len() as u8, 0]).is_err());
        assert!(Verdict::decode([0, 0, 3]).is_err());
        assert_eq!(payload(&refused("no")).unwrap_err().to_string(), "shard: no");
        assert_eq!(payload(&ok(b"x")).unwrap(), b"x");
        assert!(payload(&[]).is_err());
    }
}

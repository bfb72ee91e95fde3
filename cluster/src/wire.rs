//! What travels between the API node and the shards, over NATS
//! request/reply.
//!
//! - A get: `{"after": SEQ, "request": REQUEST, "generation": "Form"|"V4"}`
//!   to `dnd.shard.<shards>.<shard>.get`; the answer is the platform's
//!   response JSON in that generation's shape.
//! - A decide: `{"after": SEQ, "push": PUSH}` to `...decide`, where `PUSH` is
//!   the replay protocol's push object holding only that shard's recipients;
//!   the answer is one [`Record`] per recipient, in the order given.
//!
//! Every answer starts with one status byte: `0` and the payload, or `1`
//! and a UTF-8 message saying what was refused.

use dnd_engine::shard::{Layout, ShardId};
use dnd_engine::{Layer, Request};
use dnd_server::backend::Generation;
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
    /// The API generation whose shape the answer takes.
    pub generation: Generation,
}

/// A decide for a shard; the push is kept as JSON so that its validation is
/// the core's ([`dnd_engine::push::Push`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecideRequest {
    /// The sequence the decisions must reflect.
    pub after: u64,
    /// Whether each decision line carries its explanation.
    #[serde(default)]
    pub explain: bool,
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
    /// Consumers the shard has opened since it started: 1, plus one for
    /// each it replaced (a failed, stalled or gapped one, `docs/scaling.md`).
    #[serde(default)]
    pub consumers_opened: u64,
}

/// One recipient's decision as it crosses the wire: the layer that decided
/// (for the metrics) and the decision line, the JSON object `dnd replay`
/// prints (with `deferUntil`, and the explanation on request).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The layer that decided.
    pub layer: Layer,
    /// The decision line.
    pub json: String,
}

impl Record {
    /// Appends `[layer u8][len u32 LE][json]`, the layer as its index in
    /// [`Layer::ALL`].
    pub fn encode(layer: Layer, json: &[u8], out: &mut Vec<u8>) {
        let index = Layer::ALL.iter().position(|&l| l == layer).unwrap_or(usize::MAX);
        out.push(u8::try_from(index).unwrap_or(u8::MAX));
        out.extend_from_slice(&u32::try_from(json.len()).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(json);
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

/// The records of a decide answer's payload, which must hold `count`.
pub fn records(mut payload: &[u8], count: usize) -> Result<Vec<Record>, Error> {
    let bad = |why: String| Error::frame("decide answer", why);
    let mut out = Vec::with_capacity(count);
    while !payload.is_empty() {
        let [index, a, b, c, d, rest @ ..] = payload else {
            return Err(bad(format!("a record cut short after {} records", out.len())));
        };
        let layer = *Layer::ALL
            .get(usize::from(*index))
            .ok_or_else(|| bad(format!("layer {index}")))?;
        let len = u32::from_le_bytes([*a, *b, *c, *d]) as usize;
        let json = rest
            .get(..len)
            .ok_or_else(|| bad(format!("a record of {len} bytes cut short")))?;
        let json = std::str::from_utf8(json).map_err(|e| bad(e.to_string()))?.to_owned();
        out.push(Record { layer, json });
        payload = &rest[len..];
    }
    if out.len() != count {
        return Err(bad(format!("{} decisions for {count} recipients", out.len())));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every layer survives the wire, and cut or bad records are refused.
    #[test]
    fn records_round_trip() {
        let mut out = Vec::new();
        let mut all = Vec::new();
        for (i, layer) in Layer::ALL.iter().enumerate() {
            let json = format!("{{\"userId\":\"u{i}\"}}");
            Record::encode(*layer, json.as_bytes(), &mut out);
            all.push(Record { layer: *layer, json });
        }
        assert_eq!(records(&out, all.len()).unwrap(), all);
        assert!(records(&out, all.len() + 1).is_err());
        assert!(records(&out[..out.len() - 1], all.len()).is_err());
        let mut bad = Vec::new();
        bad.push(Layer::ALL.len() as u8); // one past the last layer
        bad.extend_from_slice(&0u32.to_le_bytes());
        assert!(records(&bad, 1).is_err());
        assert_eq!(payload(&refused("no")).unwrap_err().to_string(), "shard: no");
        assert_eq!(payload(&ok(b"x")).unwrap(), b"x");
        assert!(payload(&[]).is_err());
    }
}

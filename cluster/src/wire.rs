//! What travels between the API node and the shards, over NATS
//! request/reply.
//!
//! - A get: `{"after": SEQ, "request": REQUEST, "generation": "Form"|"V4"}`
//!   to `dnd.<app>.shard.<shards>.<shard>.get` ([`crate::space::Space`]); the answer is the platform's
//!   response JSON in that generation's shape.
//! - A decide: `{"after": SEQ, "push": PUSH}` to `...decide`, where `PUSH` is
//!   the replay protocol's push object holding only that shard's recipients;
//!   the answer is one [`Record`] per recipient, in the order given, each
//!   naming its layer by a fixed code ([`LAYER_CODES`]).
//!
//! Every answer starts with one status byte: `0` and the payload, or `1`
//! and a UTF-8 message saying what was refused.

use dnd_engine::{Layer, Request};
use dnd_server::backend::Generation;
use serde::{Deserialize, Serialize};

use crate::Error;

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
    /// For a push without recipients: the page of this shard's members to
    /// decide (absent for a push with recipients).
    #[serde(default)]
    pub members: Option<MembersPage>,
}

/// A page of a shard's members: those numbered `first` or more, at most
/// `limit`. The shard answers `{"next": FIRST or null, "part": ANSWER}`,
/// `ANSWER` the page's answer in the push's form (`dnd_engine::push::write_member_page`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembersPage {
    /// The number the page starts at (0 first; then the shard's `next`).
    pub first: u32,
    /// The most members in the page.
    pub limit: u32,
}

/// A shard's progress, for operators and tests: the JSON answer of
/// [`crate::space::Space::progress_subject`]. Fields are only added (older shards' answers read
/// with the newer fields at 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
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
    /// Periodic snapshots that failed in a row since the last one saved (0
    /// once one is): while above 0 the stream is not trimmed and a restart
    /// replays more (`docs/scaling.md`, Recovery).
    #[serde(default)]
    pub snapshot_failures: u64,
    /// Which replica of the shard answered (0 for the first; every replica
    /// answers a progress request).
    #[serde(default)]
    pub replica: u16,
}

impl Progress {
    /// The progress of a shard that restored its snapshot of sequence
    /// `applied` (0: none) and has done nothing since.
    pub fn restored(applied: u64) -> Progress {
        Progress {
            applied,
            applied_since_start: 0,
            restored: applied,
            snapshot: applied,
            consumers_opened: 0,
            snapshot_failures: 0,
            replica: 0,
        }
    }
}

/// The code of each layer on the wire, fixed for good: nodes of different
/// versions read each other's answers, so a code is never changed or
/// reused, whatever the order of [`Layer::ALL`]; a new layer takes the next
/// free code (`wire::tests::layer_codes_are_frozen` keeps this list and
/// fails for a layer without one; the table in `docs/scaling.md` is checked
/// against it). Code 255 is never assigned. A slice, so that a new layer
/// changes no type.
pub const LAYER_CODES: &[(Layer, u8)] = &[
    (Layer::Sender, 0),
    (Layer::DisablePush, 1),
    (Layer::Urgent, 2),
    (Layer::Vip, 3),
    (Layer::UserSnooze, 4),
    (Layer::UserPeriod, 5),
    (Layer::UserSubchannel, 6),
    (Layer::UserConversation, 7),
    (Layer::UserConversationType, 8),
    (Layer::SubchannelDefault, 9),
    (Layer::ChannelDefault, 10),
    (Layer::AppDefault, 11),
    (Layer::NothingSet, 12),
    (Layer::Repeat, 13),
    (Layer::MutedSender, 14),
];

/// The wire code of `layer` (255, which every reader refuses, for a layer
/// this build has no code for: a test keeps that from happening).
pub fn layer_code(layer: Layer) -> u8 {
    LAYER_CODES
        .iter()
        .find(|&&(l, _)| l == layer)
        .map_or(u8::MAX, |&(_, code)| code)
}

/// The layer of wire code `code`, if there is one.
pub fn layer_of(code: u8) -> Option<Layer> {
    LAYER_CODES.iter().find(|&&(_, c)| c == code).map(|&(l, _)| l)
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
    /// Appends `[layer u8][len u32 LE][json]`, the layer as its code in
    /// [`LAYER_CODES`].
    pub fn encode(layer: Layer, json: &[u8], out: &mut Vec<u8>) {
        out.push(layer_code(layer));
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
        let [code, a, b, c, d, rest @ ..] = payload else {
            return Err(bad(format!("a record cut short after {} records", out.len())));
        };
        let layer = layer_of(*code).ok_or_else(|| {
            Error::frame(
                "decide answer: layer",
                format!("code {code} of record {} is no layer", out.len() + 1),
            )
        })?;
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
        assert_eq!(payload(&refused("no")).unwrap_err().to_string(), "shard: no");
        assert_eq!(payload(&ok(b"x")).unwrap(), b"x");
        assert!(payload(&[]).is_err());
    }

    /// The codes are a contract between nodes of different versions: this
    /// literal list is the one written in `docs/scaling.md`, and only grows.
    #[test]
    fn layer_codes_are_frozen() {
        let frozen: [(Layer, u8); 15] = [
            (Layer::Sender, 0),
            (Layer::DisablePush, 1),
            (Layer::Urgent, 2),
            (Layer::Vip, 3),
            (Layer::UserSnooze, 4),
            (Layer::UserPeriod, 5),
            (Layer::UserSubchannel, 6),
            (Layer::UserConversation, 7),
            (Layer::UserConversationType, 8),
            (Layer::SubchannelDefault, 9),
            (Layer::ChannelDefault, 10),
            (Layer::AppDefault, 11),
            (Layer::NothingSet, 12),
            (Layer::Repeat, 13),
            (Layer::MutedSender, 14),
        ];
        for (layer, code) in frozen {
            assert_eq!(layer_code(layer), code, "{layer:?}");
            assert_eq!(layer_of(code), Some(layer), "code {code}");
        }
        // Every layer of the walk has a code, and no two share one.
        for layer in Layer::ALL {
            let code = layer_code(layer);
            assert_ne!(code, u8::MAX, "{layer:?} has no wire code");
            assert_eq!(layer_of(code), Some(layer), "{layer:?}");
        }
        let mut codes: Vec<u8> = LAYER_CODES.iter().map(|&(_, c)| c).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), LAYER_CODES.len(), "a code is used twice");
        let mut layers: Vec<Layer> = LAYER_CODES.iter().map(|&(l, _)| l).collect();
        layers.sort_unstable();
        layers.dedup();
        assert_eq!(layers.len(), LAYER_CODES.len(), "a layer has two codes");
    }

    /// The table of `docs/scaling.md` names each code's layer as the
    /// protocol does (`Layer::as_str`, the `by` of a decision line), and
    /// lists every code.
    #[test]
    fn the_documented_layer_codes_are_the_protocol_names() {
        let doc = include_str!("../../docs/scaling.md");
        let table = &doc[doc.find("**Layer codes**").expect("the section")..];
        let mut listed = Vec::new();
        for row in table.lines().skip_while(|l| !l.starts_with("| code |")).skip(2) {
            if !row.starts_with('|') {
                break;
            }
            let cells: Vec<&str> = row.split('|').map(str::trim).filter(|c| !c.is_empty()).collect();
            for pair in cells.chunks(2) {
                let code: u8 = pair[0].parse().expect(row);
                let name = pair[1].trim_matches('`');
                assert_eq!(
                    layer_of(code).map(Layer::as_str),
                    Some(name),
                    "code {code} in docs/scaling.md"
                );
                listed.push(code);
            }
        }
        listed.sort_unstable();
        let all: Vec<u8> = LAYER_CODES.iter().map(|&(_, c)| c).collect();
        assert_eq!(listed, all);
    }

    /// A code no layer has is refused as a frame error naming the field,
    /// wherever the record stands.
    #[test]
    fn an_unknown_layer_code_is_a_frame_error_naming_the_field() {
        for code in [15, 200, u8::MAX] {
            let mut answer = Vec::new();
            Record::encode(Layer::Sender, b"{}", &mut answer);
            answer.push(code);
            answer.extend_from_slice(&2u32.to_le_bytes());
            answer.extend_from_slice(b"{}");
            match records(&answer, 2) {
                Err(Error::Frame { what, why }) => {
                    assert_eq!(what, "decide answer: layer");
                    assert_eq!(why, format!("code {code} of record 2 is no layer"));
                }
                other => panic!("code {code}: {other:?}"),
            }
        }
    }
}

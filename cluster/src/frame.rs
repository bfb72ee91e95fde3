//! The binary decide frame: the ids of a push's recipients go to a shard,
//! and its verdicts come back, as bytes rather than JSON.
//!
//! **Request** (to `dnd.<app>.shard.<n>.<i>.decide`; a JSON request starts
//! with `{`, so the first byte tells them apart):
//!
//! ```text
//! [version u8 = 1][after u64 LE][explain u8 (0|1)]
//! [push len u32 LE][the push object's JSON, "recipients": []]
//! [count u32 LE] count × [id len u16 LE][id, UTF-8]
//! ```
//!
//! **Answer**: the status byte (`0`, or `1` and a refusal, as for every
//! answer), then one record per id in order. With `explain`, the JSON
//! records of [`crate::wire::Record`] (an explanation is text). Without, a
//! verdict of 3 or 11 bytes:
//!
//! ```text
//! [layer code u8 (wire::LAYER_CODES)][push u8 (0|1)][level code i8, -128 for none]
//! [0] or [1][deferUntil, epoch ms i64 LE]
//! ```
//!
//! and the API node writes the decision line from it ([`Verdict::write_line`]),
//! byte for byte the core's (`DecisionLine`; `tests::verdicts_write_the_cores_lines`).

use dnd_engine::push::Push;
use dnd_engine::{Decision, Deferral, Layer, Level};
use serde_json::{Map, Value};

use crate::wire::{layer_code, layer_of};
use crate::Error;

/// The first byte of a binary decide request.
pub const VERSION: u8 = 1;
/// The level byte of a decision without a level.
const NO_LEVEL: i8 = i8::MIN;

/// Appends the request frame for `fields` (a push object without
/// `recipients`) and `ids` to `out`.
pub fn encode_request<'a>(
    after: u64,
    explain: bool,
    fields: &Map<String, Value>,
    ids: impl ExactSizeIterator<Item = &'a str>,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    out.push(VERSION);
    out.extend_from_slice(&after.to_le_bytes());
    out.push(u8::from(explain));
    let mut push = fields.clone();
    push.insert("recipients".into(), Value::Array(Vec::new()));
    let json = serde_json::to_vec(&push).map_err(|e| Error::frame("decide", e))?;
    let len = |n: usize, what: &'static str| u32::try_from(n).map_err(|_| Error::frame("decide", what));
    out.extend_from_slice(&len(json.len(), "a push object over 4 GiB")?.to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(&len(ids.len(), "over 4 G recipients")?.to_le_bytes());
    for id in ids {
        let n = u16::try_from(id.len()).map_err(|_| Error::frame("decide", "a recipient id over 64 KiB"))?;
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(id.as_bytes());
    }
    Ok(())
}

/// A decoded request: the push (its recipients the frame's ids).
#[derive(Debug)]
pub struct DecideFrame {
    /// The sequence the decisions must reflect.
    pub after: u64,
    /// Whether each decision carries its explanation.
    pub explain: bool,
    /// The message and the recipients.
    pub push: Push,
}

/// Reads a request frame; every field is checked, and an error names it.
pub fn decode_request(bytes: &[u8]) -> Result<DecideFrame, Error> {
    let mut r = Reader(bytes);
    if r.take(1, "version")? != [VERSION] {
        return Err(Error::frame("decide frame: version", "not 1"));
    }
    let after = u64::from_le_bytes(r.array("after")?);
    let explain = match r.take(1, "explain")? {
        [0] => false,
        [1] => true,
        _ => return Err(Error::frame("decide frame: explain", "neither 0 nor 1")),
    };
    let len = u32::from_le_bytes(r.array("push length")?) as usize;
    let mut push: Push =
        serde_json::from_slice(r.take(len, "push")?).map_err(|e| Error::frame("decide frame: push", e))?;
    let count = u32::from_le_bytes(r.array("count")?) as usize;
    // Each id takes two bytes at least: a count past that is refused before
    // anything is reserved for it.
    if count > r.0.len() / 2 {
        return Err(Error::frame(
            "decide frame: count",
            format!("{count} ids in {} bytes", r.0.len()),
        ));
    }
    let mut ids = Vec::with_capacity(count);
    for i in 0..count {
        let n = u16::from_le_bytes(r.array("id length")?) as usize;
        let id = std::str::from_utf8(r.take(n, "id")?)
            .map_err(|e| Error::frame("decide frame: id", format!("id {}: {e}", i + 1)))?;
        ids.push(id.to_owned());
    }
    if !r.0.is_empty() {
        return Err(Error::frame(
            "decide frame",
            format!("{} bytes after the last id", r.0.len()),
        ));
    }
    push.recipients = ids;
    Ok(DecideFrame { after, explain, push })
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Error> {
        if self.0.len() < n {
            return Err(Error::frame(
                "decide frame",
                format!("{what}: {} bytes where {n} are due", self.0.len()),
            ));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], Error> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }
}

/// Appends the verdict of `decision`, deferred by `deferral`.
pub fn encode_verdict(decision: Decision, deferral: Option<&Deferral>, out: &mut Vec<u8>) {
    out.push(layer_code(decision.by()));
    out.push(u8::from(decision.push()));
    // Level codes are -1..=5.
    let level = decision
        .level()
        .map_or(NO_LEVEL, |l| i8::try_from(Level::code(l)).unwrap_or(NO_LEVEL));
    out.push(level.to_le_bytes()[0]);
    match deferral {
        None => out.push(0),
        Some(d) => {
            out.push(1);
            out.extend_from_slice(&d.until.timestamp_millis().to_le_bytes());
        }
    }
}

/// One recipient's decision as it crosses the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The layer that decided.
    pub layer: Layer,
    /// Whether it pushes.
    pub push: bool,
    /// The level code that decided, if a level did.
    pub level: Option<i64>,
    /// When a deferred push would go out (epoch ms).
    pub defer_until: Option<i64>,
}

impl Verdict {
    /// Writes the decision line of `user_id`, as the core's `DecisionLine`
    /// writes it: `{"userId","push","by","level"[,"deferUntil"]}`.
    pub fn write_line(&self, user_id: &str, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"userId\":");
        // Writing a string to a Vec fails never.
        let _ = serde_json::to_writer(&mut *out, user_id);
        out.extend_from_slice(if self.push {
            b",\"push\":true,\"by\":\""
        } else {
            b",\"push\":false,\"by\":\""
        });
        out.extend_from_slice(self.layer.as_str().as_bytes());
        out.extend_from_slice(b"\",\"level\":");
        match self.level {
            Some(l) => out.extend_from_slice(l.to_string().as_bytes()),
            None => out.extend_from_slice(b"null"),
        }
        if let Some(t) = self.defer_until {
            out.extend_from_slice(b",\"deferUntil\":");
            out.extend_from_slice(t.to_string().as_bytes());
        }
        out.push(b'}');
    }
}

/// The verdicts of an answer's payload, which must hold `count`.
pub fn verdicts(mut payload: &[u8], count: usize) -> Result<Vec<Verdict>, Error> {
    let mut out = Vec::with_capacity(count.min(payload.len() / 3));
    while !payload.is_empty() {
        let n = out.len() + 1;
        let [code, push, level, defer, rest @ ..] = payload else {
            return Err(Error::frame("decide answer", format!("verdict {n} cut short")));
        };
        let layer = layer_of(*code).ok_or_else(|| {
            Error::frame(
                "decide answer: layer",
                format!("code {code} of verdict {n} is no layer"),
            )
        })?;
        let push = match push {
            0 => false,
            1 => true,
            _ => {
                return Err(Error::frame(
                    "decide answer: push",
                    format!("verdict {n}: neither 0 nor 1"),
                ))
            }
        };
        let level = match i8::from_le_bytes([*level]) {
            NO_LEVEL => None,
            l => Some(i64::from(l)),
        };
        let (defer_until, rest) = match (defer, rest) {
            (0, rest) => (None, rest),
            (1, [a, b, c, d, e, f, g, h, rest @ ..]) => {
                (Some(i64::from_le_bytes([*a, *b, *c, *d, *e, *f, *g, *h])), rest)
            }
            _ => {
                return Err(Error::frame(
                    "decide answer: deferUntil",
                    format!("verdict {n}: cut short or flag not 0|1"),
                ))
            }
        };
        out.push(Verdict {
            layer,
            push,
            level,
            defer_until,
        });
        payload = rest;
    }
    if out.len() != count {
        return Err(Error::frame(
            "decide answer",
            format!("{} verdicts for {count} recipients", out.len()),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dnd_engine::push::DecisionLine;
    use dnd_engine::{Config, Settings};

    /// A generated world's decisions for every push, through a verdict and
    /// the API node's writer, are the core's lines byte for byte (the
    /// oracle: `DecisionLine`, which `dnd replay` and the single node use).
    #[test]
    fn verdicts_write_the_cores_lines() {
        let zone = dnd_engine::parse_zone(dnd_testkit::world::ZONE).unwrap();
        let mut settings = Settings::new(Config::new(zone));
        for (path, body) in dnd_testkit::world::world(41, 3_000, 300) {
            assert_eq!(settings.handle(path, body.as_bytes()).code(), 200);
        }
        let recipients: Vec<String> = (0..300)
            .map(dnd_testkit::world::user)
            .chain(["stranger".to_owned(), "q\"\\\u{1}é".to_owned()])
            .collect();
        let (mut seen_layers, mut deferred) = (std::collections::HashSet::new(), 0);
        for fields in dnd_testkit::world::pushes() {
            let push: Push = serde_json::from_str(&format!("{{{fields},\"recipients\":[]}}")).unwrap();
            let mentioned = push.mentioned_ids();
            let message = push.message(&mentioned).unwrap();
            let prepared = settings.prepare(&message);
            let mut frame = Vec::new();
            let mut want = Vec::new();
            for id in &recipients {
                let (decision, deferral) = prepared.decide_deferred_id(id);
                encode_verdict(decision, deferral.as_ref(), &mut frame);
                seen_layers.insert(decision.by());
                deferred += usize::from(deferral.is_some());
                let mut line = Vec::new();
                DecisionLine::decide(&prepared, id).write_to(&mut line).unwrap();
                want.push(line);
            }
            for (v, (id, want)) in verdicts(&frame, recipients.len())
                .unwrap()
                .iter()
                .zip(recipients.iter().zip(want))
            {
                let mut line = Vec::new();
                v.write_line(id, &mut line);
                assert_eq!(String::from_utf8(line).unwrap(), String::from_utf8(want).unwrap());
            }
        }
        assert!(seen_layers.len() >= 6, "{seen_layers:?}");
        assert!(deferred > 0);
    }

    /// A request frame round-trips, and every cut or bad field is refused
    /// naming it.
    #[test]
    fn a_request_frame_round_trips_and_bad_ones_are_refused() {
        let fields: Map<String, Value> =
            serde_json::from_str(&format!("{{{}}}", dnd_testkit::world::pushes()[0])).unwrap();
        let ids = ["a", "u.1 *>", "é"];
        let mut frame = Vec::new();
        encode_request(42, true, &fields, ids.iter().copied(), &mut frame).unwrap();
        let got = decode_request(&frame).unwrap();
        assert_eq!((got.after, got.explain), (42, true));
        assert_eq!(got.push.recipients, ids);
        for cut in 0..frame.len() {
            assert!(decode_request(&frame[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = frame.clone();
        long.push(0);
        assert!(decode_request(&long)
            .unwrap_err()
            .to_string()
            .contains("after the last id"));
        let mut bad = frame.clone();
        bad[9] = 2;
        assert!(decode_request(&bad).unwrap_err().to_string().contains("explain"));
        let mut huge = frame[..frame.len() - 2 - 2 - 6 - 3 - 2 - 1 - 4].to_vec();
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode_request(&huge).is_err());
        assert!(verdicts(&[0, 2, 0, 0], 1).unwrap_err().to_string().contains("push"));
        assert!(verdicts(&[15, 0, 0, 0], 1)
            .unwrap_err()
            .to_string()
            .contains("no layer"));
        assert!(verdicts(&[0, 0, 0, 1, 0], 1)
            .unwrap_err()
            .to_string()
            .contains("deferUntil"));
        assert!(verdicts(&[0, 0, 0, 0], 2).is_err());
    }
}

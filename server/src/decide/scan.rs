//! The decide body, scanned as it arrives: the push object's structure is
//! followed byte by byte, so that nothing in it is held that need not be.
//!
//! - A key the push does not have is refused as soon as the key is read,
//!   before its value arrives; a key given twice likewise.
//! - The other fields' values are copied, as JSON text, into a small
//!   object (at most [`MAX_FIELDS_BYTES`]), checked by the core later.
//! - `recipients` is read into a compact list of ids (their bytes end to
//!   end and where each ends), each checked as a user id as it completes;
//!   a recipient that is not a string, not a user id, or past the limit is
//!   refused at once, naming `push.recipients[i]`.
//!
//! So the fields may come in any order, a refused push is refused while it
//! is still arriving, and the memory held is about the ids' own bytes.

use dnd_engine::push::Push;
use dnd_engine::{Error, Response, UserId};

/// The most bytes of JSON the push's fields other than `recipients` may
/// take together (the mention list is the only long one).
pub const MAX_FIELDS_BYTES: usize = 4 << 20;
/// The longest key or recipient, as written (escapes included).
const MAX_TOKEN: usize = 1024;

/// The push read so far.
#[derive(Debug)]
pub struct Scanner {
    top: Top,
    key: Vec<u8>,
    escaped: bool,
    seen: Vec<String>,
    value: Value,
    fields: Vec<u8>,
    recipients: Option<Recipients>,
    recipients_done: bool,
    max_recipients: usize,
    /// The recipients' bytes, end to end.
    pub ids: Vec<u8>,
    /// Where each recipient ends in `ids`.
    pub ends: Vec<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Top {
    Start,
    FirstKey,
    Key,
    InKey,
    Colon,
    BeforeValue,
    InValue,
    InRecipients,
    AfterValue,
    End,
}

/// A value of another field, skipped over as it is copied.
#[derive(Debug, Default)]
struct Value {
    started: bool,
    depth: usize,
    in_string: bool,
    escaped: bool,
    scalar: bool,
}

enum Step {
    /// The byte belongs to the value, which goes on.
    More,
    /// The byte ends the value.
    Last,
    /// The value ended before this byte.
    Before,
}

impl Value {
    fn feed(&mut self, b: u8) -> Step {
        if !self.started {
            self.started = true;
            match b {
                b'{' | b'[' => self.depth = 1,
                b'"' => self.in_string = true,
                _ => self.scalar = true,
            }
            return Step::More;
        }
        if self.in_string {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
                if self.depth == 0 {
                    return Step::Last;
                }
            }
            return Step::More;
        }
        if self.scalar {
            return if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                Step::Before
            } else {
                Step::More
            };
        }
        match b {
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => {
                self.depth -= 1;
                if self.depth == 0 {
                    return Step::Last;
                }
            }
            b'"' => self.in_string = true,
            _ => {}
        }
        Step::More
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Recipients {
    Open,
    FirstOrClose,
    Next,
    InId,
    AfterId,
}

/// The core's error for the field at `path`.
fn field(path: impl std::fmt::Display, source: Error) -> Error {
    Error::Field {
        path: path.to_string(),
        source: Box::new(source),
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn refusal(message: impl Into<String>) -> Response {
    Response::Error {
        code: 1002,
        message: message.into(),
    }
}

/// The text of a JSON string's inside (`raw`, escapes as written).
fn decode(raw: &[u8]) -> Option<String> {
    if !raw.iter().any(|&b| b == b'\\' || b < 0x20) {
        return std::str::from_utf8(raw).ok().map(str::to_owned);
    }
    let mut quoted = Vec::with_capacity(raw.len() + 2);
    quoted.push(b'"');
    quoted.extend_from_slice(raw);
    quoted.push(b'"');
    serde_json::from_slice(&quoted).ok()
}

impl Scanner {
    /// A scanner refusing more than `max_recipients` recipients.
    pub fn new(max_recipients: usize) -> Scanner {
        Scanner {
            top: Top::Start,
            key: Vec::new(),
            escaped: false,
            seen: Vec::new(),
            value: Value::default(),
            fields: vec![b'{'],
            recipients: None,
            recipients_done: false,
            max_recipients,
            ids: Vec::new(),
            ends: Vec::new(),
        }
    }

    /// Reads the next bytes of the body; an error refuses the push.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), Response> {
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if self.step(b)? {
                i += 1;
            }
        }
        Ok(())
    }

    /// One byte; whether it was used (`false`: read it again in the new state).
    fn step(&mut self, b: u8) -> Result<bool, Response> {
        match self.top {
            Top::Start | Top::FirstKey | Top::Key | Top::Colon | Top::AfterValue | Top::End if is_space(b) => {}
            Top::Start if b == b'{' => self.top = Top::FirstKey,
            Top::Start => return Err(refusal("push: must be an object (a message and its recipients)")),
            Top::FirstKey if b == b'}' => self.top = Top::End,
            Top::FirstKey | Top::Key if b == b'"' => {
                self.key.clear();
                self.escaped = false;
                self.top = Top::InKey;
            }
            Top::FirstKey | Top::Key => return Err(refusal("push: not JSON: a key (a string) was expected")),
            Top::InKey => {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.top = Top::Colon;
                    return self.key_done().map(|()| true);
                }
                if self.key.len() >= MAX_TOKEN {
                    return Err(refusal(format!("push: a key is longer than {MAX_TOKEN} bytes")));
                }
                self.key.push(b);
            }
            Top::Colon if b == b':' => self.top = Top::BeforeValue,
            Top::Colon => return Err(refusal("push: not JSON: ':' was expected after a key")),
            Top::BeforeValue if is_space(b) => {}
            Top::BeforeValue => {
                if self.seen.last().is_some_and(|k| k == "recipients") {
                    self.recipients = Some(Recipients::Open);
                    self.top = Top::InRecipients;
                } else {
                    if self.fields.len() > 1 {
                        self.fields.push(b',');
                    }
                    let key = serde_json::to_string(self.seen.last().map_or("", String::as_str)).unwrap_or_default();
                    self.fields.extend_from_slice(key.as_bytes());
                    self.fields.push(b':');
                    self.value = Value::default();
                    self.top = Top::InValue;
                }
                return Ok(false);
            }
            Top::InValue => match self.value.feed(b) {
                Step::More => self.copy(b)?,
                Step::Last => {
                    self.copy(b)?;
                    self.top = Top::AfterValue;
                }
                Step::Before => {
                    self.top = Top::AfterValue;
                    return Ok(false);
                }
            },
            Top::InRecipients => return self.recipient_byte(b).map(|()| true),
            Top::AfterValue if b == b',' => self.top = Top::Key,
            Top::AfterValue if b == b'}' => self.top = Top::End,
            Top::AfterValue => return Err(refusal("push: not JSON: ',' or '}' was expected after a value")),
            Top::End => return Err(refusal("push: not JSON: bytes follow the object")),
        }
        Ok(true)
    }

    fn copy(&mut self, b: u8) -> Result<(), Response> {
        if self.fields.len() >= MAX_FIELDS_BYTES {
            return Err(Response::Error {
                code: 1005,
                message: format!("push: the fields other than recipients exceed {MAX_FIELDS_BYTES} bytes"),
            });
        }
        self.fields.push(b);
        Ok(())
    }

    fn key_done(&mut self) -> Result<(), Response> {
        let key = decode(&self.key).ok_or_else(|| refusal("push: a key is not valid JSON text"))?;
        if self.seen.contains(&key) {
            let e = field(format!("push.{key}"), Error::DuplicateKey);
            return Err(Response::from_error(&e));
        }
        if key != "recipients" {
            // The core knows the push's fields: ask it about this one alone.
            let probe = format!("{{{}:null}}", serde_json::to_string(&key).unwrap_or_default());
            if let Err(e @ Error::Field { .. }) = Push::from_json(&probe) {
                if matches!(&e, Error::Field { source, .. } if matches!(**source, Error::UnknownField(_))) {
                    return Err(Response::from_error(&e));
                }
            }
        }
        self.seen.push(key);
        Ok(())
    }

    fn recipient_byte(&mut self, b: u8) -> Result<(), Response> {
        let index = self.ends.len();
        let state = self.recipients.unwrap_or(Recipients::Open);
        let not_a_string = || {
            let e = field(
                format!("push.recipients[{index}]"),
                Error::JsonType("a string (a user id)"),
            );
            Response::from_error(&e)
        };
        match state {
            Recipients::Open | Recipients::FirstOrClose | Recipients::Next | Recipients::AfterId if is_space(b) => {}
            Recipients::Open if b == b'[' => self.recipients = Some(Recipients::FirstOrClose),
            Recipients::Open => {
                let e = field("push.recipients", Error::JsonType("an array of user ids"));
                return Err(Response::from_error(&e));
            }
            Recipients::FirstOrClose if b == b']' => self.recipients_end(),
            Recipients::FirstOrClose | Recipients::Next if b == b'"' => {
                if index >= self.max_recipients {
                    return Err(refusal(format!(
                        "parameter recipients: more than {} recipients",
                        self.max_recipients
                    )));
                }
                self.key.clear();
                self.escaped = false;
                self.recipients = Some(Recipients::InId);
            }
            Recipients::FirstOrClose | Recipients::Next => return Err(not_a_string()),
            Recipients::InId => {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.recipients = Some(Recipients::AfterId);
                    return self.id_done(index);
                }
                if self.key.len() >= MAX_TOKEN {
                    let e = field(format!("push.recipients[{index}]"), Error::JsonType("a user id"));
                    return Err(Response::from_error(&e));
                }
                self.key.push(b);
            }
            Recipients::AfterId if b == b',' => self.recipients = Some(Recipients::Next),
            Recipients::AfterId if b == b']' => self.recipients_end(),
            Recipients::AfterId => return Err(refusal("push.recipients: not JSON: ',' or ']' was expected")),
        }
        Ok(())
    }

    fn recipients_end(&mut self) {
        self.recipients = None;
        self.recipients_done = true;
        self.top = Top::AfterValue;
    }

    fn id_done(&mut self, index: usize) -> Result<(), Response> {
        let path = format!("push.recipients[{index}]");
        let id = decode(&self.key)
            .ok_or_else(|| Response::from_error(&field(&path, Error::JsonType("a string (a user id)"))))?;
        UserId::new(&id).map_err(|e| Response::from_error(&field(&path, e)))?;
        self.ids.extend_from_slice(id.as_bytes());
        let end = u32::try_from(self.ids.len()).map_err(|_| refusal("push.recipients: more than 4 GiB of ids"))?;
        self.ends.push(end);
        Ok(())
    }

    /// The body ended: the push's other fields as a JSON object (with an
    /// empty `recipients` if the push had one), for the core to check.
    pub fn finish(&mut self) -> Result<String, Response> {
        if self.top != Top::End {
            return Err(refusal("push: not JSON: the body ends inside the object"));
        }
        if self.recipients_done {
            if self.fields.len() > 1 {
                self.fields.push(b',');
            }
            self.fields.extend_from_slice(br#""recipients":[]"#);
        }
        self.fields.push(b'}');
        String::from_utf8(std::mem::take(&mut self.fields)).map_err(|_| refusal("push: not UTF-8"))
    }

    /// The most recipients this scanner takes.
    #[must_use]
    pub fn max_recipients(&self) -> usize {
        self.max_recipients
    }

    /// Recipient `i`.
    pub fn id(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        // Each id was checked as UTF-8 text when it was read.
        std::str::from_utf8(&self.ids[start..self.ends[i] as usize]).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str, split: usize) -> Result<(String, Vec<String>), Response> {
        let mut s = Scanner::new(5);
        let bytes = text.as_bytes();
        for piece in bytes.chunks(split.max(1)) {
            s.feed(piece)?;
        }
        let fields = s.finish()?;
        let ids = (0..s.ends.len()).map(|i| s.id(i).to_owned()).collect();
        Ok((fields, ids))
    }

    fn message(r: Result<(String, Vec<String>), Response>) -> String {
        match r {
            Err(Response::Error { message, .. }) => message,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn any_order_any_split_gives_the_same_fields_and_recipients() {
        let a = r#"{"recipients":["u1","u\u0032"],"at":1,"conversationType":3,"targetId":"g","mentionedInfo":{"type":2,"userIdList":["x"]},"fromUserId":"s"}"#;
        let b = r#" { "at" : 1 , "conversationType":3,"targetId":"g","mentionedInfo":{"type":2,"userIdList":["x"]},"fromUserId":"s","recipients":[ "u1" , "u2" ] } "#;
        for split in [1, 2, 7, 1000] {
            let (fa, ia) = scan(a, split).unwrap();
            let (fb, ib) = scan(b, split).unwrap();
            assert_eq!(ia, ["u1", "u2"]);
            assert_eq!(ib, ia);
            let pa = Push::from_json(&fa).unwrap();
            let pb = Push::from_json(&fb).unwrap();
            assert_eq!(pa, pb, "{split}");
        }
    }

    #[test]
    fn refusals_come_as_soon_as_the_fault_is_read() {
        // An unknown key is refused before its value arrives.
        let mut s = Scanner::new(5);
        let err = s.feed(br#"{"at":1,"junk":[1,2,"#).unwrap_err();
        assert!(format!("{err:?}").contains("push.junk"), "{err:?}");
        let mut s = Scanner::new(5);
        assert!(s.feed(br#"{"at":1,"at":"#).is_err());
        assert!(message(scan(r#"{"recipients":["a",3]}"#, 3)).contains("push.recipients[1]"));
        assert!(message(scan(r#"{"recipients":["a","b","c","d","e","f"]}"#, 3)).contains("more than 5"));
        assert!(message(scan(r#"{"recipients":["a",""]}"#, 3)).contains("push.recipients[1]"));
        assert!(message(scan(r#"{"recipients":{}}"#, 3)).contains("push.recipients"));
        assert!(message(scan(r#"{"at":1} x"#, 3)).contains("follow"));
        assert!(message(scan(r#"{"at":1"#, 3)).contains("ends inside"));
        assert!(message(scan(r#"[]"#, 3)).contains("object"));
        let long = format!(
            r#"{{"mentionedInfo":{{"type":2,"userIdList":["{}"]}}}}"#,
            "x".repeat(MAX_FIELDS_BYTES)
        );
        let mut s = Scanner::new(5);
        match s.feed(long.as_bytes()) {
            Err(Response::Error { code, .. }) => assert_eq!(code, 1005),
            other => panic!("{other:?}"),
        }
    }
}

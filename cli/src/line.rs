//! One input line, understood: a settings request or a push, with an error
//! that says what is wrong in the line's own terms.
//!
//! A line is read once as an object whose keys are checked as they come (no
//! unknown key, none twice); the push object is kept as raw text and read by
//! [`Push::from_json`], which checks its fields the same way.

use std::cell::Cell;
use std::fmt;

use dnd_engine::push::Push;
use dnd_engine::{instant_from_millis, parse_instant, Timestamp};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use dnd_engine::Excerpt;

/// One input line, understood.
pub enum Line {
    /// `{"request": PATH, "body": FORM}`.
    Request {
        /// The settings path.
        path: String,
        /// The form body.
        body: String,
    },
    /// `{"request": "/v4/...", "body": {...}}`: the v4 JSON API.
    V4 {
        /// The v4 path.
        path: String,
        /// The JSON body, as given.
        body: String,
    },
    /// `{"push": {...}}`, its shape checked (its values are checked by
    /// [`Push::message`]).
    Push(Box<Push>),
    /// `{"release": {"at": MS}}`: the digests of held pushes due at or before `at`.
    Release(Timestamp),
}

const SHAPES: &str = "a line has \"request\" and \"body\", or \"push\", or \"release\"";

/// Reads one line's text.
pub fn parse(text: &str) -> Result<Line, String> {
    let slot = Cell::new(None);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let keys = Envelope { slot: &slot }
        .deserialize(&mut deserializer)
        .and_then(|keys| deserializer.end().map(|()| keys))
        .map_err(|e| slot.take().unwrap_or_else(|| format!("not JSON: {e}")))?;
    let string = |raw: &RawValue, field: &str, must_be: &str| -> Result<String, String> {
        serde_json::from_str::<String>(raw.get()).map_err(|_| format!("{field}: must be {must_be}"))
    };
    match keys {
        Keys {
            release: Some(release),
            push: None,
            request: None,
            body: None,
        } => release_at(release.get()).map(Line::Release),
        Keys { release: Some(_), .. } => Err(format!("other keys beside \"release\": {SHAPES}, one of them")),
        Keys {
            push: Some(push),
            request: None,
            body: None,
            ..
        } => Push::from_json(push.get())
            .map(|p| Line::Push(Box::new(p)))
            .map_err(|e| e.to_string()),
        Keys { push: Some(_), .. } => Err(format!("\"request\" and \"body\" beside \"push\": {SHAPES}, not both")),
        Keys {
            request: Some(path),
            body: Some(body),
            ..
        } if body.get().starts_with('{') => {
            let path = string(
                path,
                "request",
                "a string (a v4 path, such as \"/v4/channel/push/set\")",
            )?;
            if !dnd_engine::api_v4::is_v4(&path) {
                return Err("body: must be a string (a form body); a JSON object is the body of a /v4/ path".into());
            }
            Ok(Line::V4 {
                path,
                body: body.get().to_owned(),
            })
        }
        Keys {
            request: Some(path),
            body: Some(body),
            ..
        } => Ok(Line::Request {
            path: string(
                path,
                "request",
                "a string (a settings path, such as \"/user/blockPushPeriod/set.json\")",
            )?,
            body: string(body, "body", "a string (the request's form body, possibly empty)")?,
        }),
        Keys { request: Some(_), .. } => {
            Err("body: is missing; a request line has a \"body\" (the form, possibly empty)".into())
        }
        Keys { body: Some(_), .. } => Err(format!("request: is missing; {SHAPES}")),
        Keys { .. } => Err(format!("an empty object: {SHAPES}")),
    }
}

/// The line's keys and their values, unread.
#[derive(Default)]
struct Keys<'a> {
    request: Option<&'a RawValue>,
    body: Option<&'a RawValue>,
    push: Option<&'a RawValue>,
    release: Option<&'a RawValue>,
}

/// A release line's object: `{"at": MS}` (epoch ms, or RFC 3339 text with an offset).
fn release_at(text: &str) -> Result<Timestamp, String> {
    const MUST: &str = "release: must be an object {\"at\": MS} (epoch milliseconds, or RFC 3339 text with an offset)";
    let value: serde_json::Value = serde_json::from_str(text).map_err(|_| MUST.to_owned())?;
    let object = value.as_object().ok_or_else(|| MUST.to_owned())?;
    if let Some(key) = object.keys().find(|k| *k != "at") {
        return Err(format!(
            "release.{}: is not a field here; expected at",
            Excerpt::new(key)
        ));
    }
    let at = match object.get("at") {
        Some(serde_json::Value::Number(n)) => match n.as_i64() {
            Some(ms) => instant_from_millis(ms),
            None => return Err(format!("release.at: {n} is not a whole number of milliseconds")),
        },
        Some(serde_json::Value::String(s)) => parse_instant(s),
        Some(_) => {
            return Err("release.at: must be epoch milliseconds (an integer) or RFC 3339 text with an offset".into())
        }
        None => {
            return Err("release.at: is missing; it must be epoch milliseconds (an integer) or RFC 3339 text".into())
        }
    };
    at.map_err(|e| format!("release.at: {e}"))
}

/// Reads a line's object, keeping the first error's text in `slot` (serde
/// would add a position to it).
struct Envelope<'s> {
    slot: &'s Cell<Option<String>>,
}

impl Envelope<'_> {
    #[cold]
    fn fail<E: de::Error>(&self, why: String) -> E {
        let e = E::custom(&why);
        self.slot.set(Some(why));
        e
    }

    fn not_an_object<E: de::Error>(&self) -> E {
        self.fail("a line must be a JSON object with \"request\" and \"body\", or \"push\", or \"release\"".into())
    }
}

impl<'de> DeserializeSeed<'de> for Envelope<'_> {
    type Value = Keys<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Keys<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Envelope<'_> {
    type Value = Keys<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys<'de>, A::Error> {
        let mut keys = Keys::default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let place = match &*key {
                "request" => &mut keys.request,
                "body" => &mut keys.body,
                "push" => &mut keys.push,
                "release" => &mut keys.release,
                other => return Err(self.fail(format!("unknown key {}: {SHAPES}", Excerpt::new(other)))),
            };
            if place.is_some() {
                return Err(self.fail(format!("{key}: is given twice (a key may appear once in an object)")));
            }
            *place = Some(map.next_value()?);
        }
        Ok(keys)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Keys<'de>, E> {
        Err(self.not_an_object())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Keys<'de>, E> {
        Err(self.not_an_object())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Keys<'de>, E> {
        Err(self.not_an_object())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Keys<'de>, E> {
        Err(self.not_an_object())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Keys<'de>, E> {
        Err(self.not_an_object())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Keys<'de>, E> {
        Err(self.not_an_object())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Keys<'de>, A::Error> {
        Err(self.not_an_object())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_names_what_is_wrong() {
        let err = |text: &str| parse(text).err().unwrap();
        assert!(err("nope").starts_with("not JSON: expected"));
        assert!(err("{} x").starts_with("not JSON: trailing characters"));
        assert!(err("[1]").starts_with("a line must be a JSON object"));
        assert!(err("7").starts_with("a line must be a JSON object"));
        assert_eq!(
            err(r#"{"body": "", "body": ""}"#),
            "body: is given twice (a key may appear once in an object)"
        );
        assert!(err(r#"{"request": 1, "body": ""}"#).starts_with("request: must be a string"));
        assert!(err(r#"{"request": "/x", "body": null}"#).starts_with("body: must be a string"));
        assert!(err(r#"{"request": "/x"}"#).starts_with("body: is missing"));
        assert!(err(r#"{"body": ""}"#).starts_with("request: is missing"));
        assert!(err(r#"{"push": {}, "body": ""}"#).contains("beside \"push\""));
        assert!(err(r#"{"push": 1}"#).starts_with("push: must be an object"));
        let long = format!(r#"{{"{}": 1}}"#, "k".repeat(100_000));
        assert!(err(&long).len() < 200);
        match parse(r#"{"body": "a=\n", "request": "/p"}"#) {
            Ok(Line::Request { path, body }) => assert_eq!((path.as_str(), body.as_str()), ("/p", "a=\n")),
            _ => panic!(),
        }
    }
}

//! Reading a push object from JSON, with errors that name the field and say
//! what it must be, and with duplicate keys refused.
//!
//! serde's derived code answers in its own words ("invalid type: string, expected
//! i64") and keeps the last of two equal keys. Here every field is read by one
//! visitor, [`Expect`], which hands each kind of JSON value to a [`Shape`]: the
//! shape accepts the kinds it wants and refuses the others with what the field
//! must be. Objects go through [`object`], which refuses unknown and repeated
//! keys as it reads them. Nothing is allocated beyond the values kept, and a
//! field's path is only written out when an error names it.
//!
//! serde carries an error only as text; the typed [`Error`] of the first failure
//! is kept in a [`Slot`] beside it, for [`Push::from_json`](super::Push::from_json).

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{At, MentionedInfo, Push};
use crate::error::excerpt::Excerpt;
use crate::error::Error;

/// The typed error of the first failure, beside serde's text of it.
pub(super) type Slot = Cell<Option<Error>>;

/// Where a value is in the push object, written out only for an error.
#[derive(Clone, Copy)]
pub(super) enum Path<'p> {
    /// The push object itself.
    Root,
    /// A field of an object.
    Field(&'p Path<'p>, &'static str),
    /// A key that the object does not have.
    Key(&'p Path<'p>, &'p Excerpt),
    /// An element of an array.
    Index(&'p Path<'p>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Path::Root => f.write_str("push"),
            Path::Field(parent, name) => write!(f, "{parent}.{name}"),
            // A key from the input: an excerpt, control characters escaped.
            Path::Key(parent, key) => write!(f, "{parent}.{}", key.unquoted()),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// The error `reason` about the value at `path`, kept typed in `slot` (unless
/// an error is already there) and answered as serde's error.
#[cold]
fn fail<E: de::Error>(slot: &Slot, path: Path<'_>, reason: Error) -> E {
    let error = Error::field(path, reason);
    let text = error.to_string();
    keep(slot, error);
    E::custom(text)
}

/// Keeps `error` in `slot` unless an earlier (deeper) one is there.
#[cold]
fn keep(slot: &Slot, error: Error) {
    let kept = slot.take();
    slot.set(Some(kept.unwrap_or(error)));
}

/// The kinds of JSON value a field accepts; each method not overridden refuses
/// its kind with [`Error::JsonType`]`(self.must_be())`.
pub(super) trait Shape<'de>: Sized {
    /// What the field is read as.
    type Value;

    /// What the field must be, for errors: "an integer (1, 3, 6 or 10)".
    fn must_be(&self) -> &'static str;

    fn null(self) -> Result<Self::Value, Error> {
        Err(Error::JsonType(self.must_be()))
    }

    fn boolean(self, _: bool) -> Result<Self::Value, Error> {
        Err(Error::JsonType(self.must_be()))
    }

    fn integer(self, _: i64) -> Result<Self::Value, Error> {
        Err(Error::JsonType(self.must_be()))
    }

    /// An integer past `i64::MAX`; the same as any other integer unless overridden.
    fn unsigned(self, v: u64) -> Result<Self::Value, Error> {
        match i64::try_from(v) {
            Ok(v) => self.integer(v),
            Err(_) => Err(Error::JsonType(self.must_be())),
        }
    }

    fn text(self, _: Cow<'_, str>) -> Result<Self::Value, Error> {
        Err(Error::JsonType(self.must_be()))
    }

    fn seq<A: SeqAccess<'de>>(self, _: A, slot: &Slot, path: Path<'_>) -> Result<Self::Value, A::Error> {
        Err(fail(slot, path, Error::JsonType(self.must_be())))
    }

    fn map<A: MapAccess<'de>>(self, _: A, slot: &Slot, path: Path<'_>) -> Result<Self::Value, A::Error> {
        Err(fail(slot, path, Error::JsonType(self.must_be())))
    }
}

/// Reads the value at `path` as `shape` says.
pub(super) struct Expect<'s, 'p, S> {
    shape: S,
    slot: &'s Slot,
    path: Path<'p>,
}

impl<'s, 'p, S> Expect<'s, 'p, S> {
    pub(super) fn new(shape: S, slot: &'s Slot, path: Path<'p>) -> Self {
        Expect { shape, slot, path }
    }

    fn scalar<E: de::Error, T>(self, read: impl FnOnce(S) -> Result<T, Error>) -> Result<T, E> {
        let (slot, path) = (self.slot, self.path);
        read(self.shape).map_err(|reason| fail(slot, path, reason))
    }
}

impl<'de, S: Shape<'de>> DeserializeSeed<'de> for Expect<'_, '_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        let (slot, path) = (self.slot, self.path);
        deserializer.deserialize_any(self).inspect_err(|e| {
            // An error of the parser's own (bad syntax inside this value) gets the path too.
            keep(slot, Error::field(path, Error::Json(e.to_string())));
        })
    }
}

impl<'de, S: Shape<'de>> Visitor<'de> for Expect<'_, '_, S> {
    type Value = S::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.shape.must_be())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<S::Value, E> {
        self.scalar(|s| s.boolean(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<S::Value, E> {
        self.scalar(|s| s.integer(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<S::Value, E> {
        self.scalar(|s| s.unsigned(v))
    }

    fn visit_i128<E: de::Error>(self, _: i128) -> Result<S::Value, E> {
        self.scalar(|s| Err(Error::JsonType(s.must_be())))
    }

    fn visit_u128<E: de::Error>(self, _: u128) -> Result<S::Value, E> {
        self.scalar(|s| Err(Error::JsonType(s.must_be())))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<S::Value, E> {
        self.scalar(|s| Err(Error::JsonType(s.must_be())))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<S::Value, E> {
        self.scalar(|s| s.text(Cow::Borrowed(v)))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<S::Value, E> {
        self.scalar(|s| s.text(Cow::Owned(v)))
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<S::Value, E> {
        self.scalar(|s| Err(Error::JsonType(s.must_be())))
    }

    fn visit_unit<E: de::Error>(self) -> Result<S::Value, E> {
        self.scalar(Shape::null)
    }

    fn visit_none<E: de::Error>(self) -> Result<S::Value, E> {
        self.scalar(Shape::null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<S::Value, A::Error> {
        self.shape.seq(seq, self.slot, self.path)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<S::Value, A::Error> {
        self.shape.map(map, self.slot, self.path)
    }
}

/// Reads an object's keys, each one of `fields` and none twice, and calls
/// `value` for each to read its value. Answers the fields given, as bits.
fn object<'de, A: MapAccess<'de>>(
    mut map: A,
    slot: &Slot,
    path: Path<'_>,
    fields: &'static [&'static str],
    expected: &'static str,
    mut value: impl FnMut(&mut A, usize, Path<'_>) -> Result<(), A::Error>,
) -> Result<u32, A::Error> {
    debug_assert!(fields.len() <= 32);
    let mut given = 0u32;
    while let Some(key) = map.next_key_seed(Key(fields))? {
        let i = match key {
            Ok(i) => i,
            Err(name) => return Err(fail(slot, Path::Key(&path, &name), Error::UnknownField(expected))),
        };
        let field = Path::Field(&path, fields[i]);
        if given & (1 << i) != 0 {
            return Err(fail(slot, field, Error::DuplicateKey));
        }
        given |= 1 << i;
        value(&mut map, i, field)?;
    }
    Ok(given)
}

/// Refuses an object that lacks one of `required` (field index, what it must be).
fn require<E: de::Error>(
    slot: &Slot,
    path: Path<'_>,
    fields: &'static [&'static str],
    given: u32,
    required: &[(usize, &'static str)],
) -> Result<(), E> {
    match required.iter().find(|(i, _)| given & (1 << i) == 0) {
        Some(&(i, must_be)) => Err(fail(slot, Path::Field(&path, fields[i]), Error::MissingField(must_be))),
        None => Ok(()),
    }
}

/// A key: the index of one of the fields, or the key itself when it is none of them.
struct Key(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Result<usize, Excerpt>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for Key {
    type Value = Result<usize, Excerpt>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().position(|f| *f == v).ok_or_else(|| Excerpt::new(v)))
    }
}

/// A string.
pub(super) struct Text(pub(super) &'static str);

impl Shape<'_> for Text {
    type Value = String;

    fn must_be(&self) -> &'static str {
        self.0
    }

    fn text(self, v: Cow<'_, str>) -> Result<String, Error> {
        Ok(v.into_owned())
    }
}

/// An integer.
struct Integer(&'static str);

impl Shape<'_> for Integer {
    type Value = i64;

    fn must_be(&self) -> &'static str {
        self.0
    }

    fn integer(self, v: i64) -> Result<i64, Error> {
        Ok(v)
    }
}

/// `true` or `false`.
struct Boolean;

impl Shape<'_> for Boolean {
    type Value = bool;

    fn must_be(&self) -> &'static str {
        "true or false"
    }

    fn boolean(self, v: bool) -> Result<bool, Error> {
        Ok(v)
    }
}

/// `null`, read as absent, or what `S` accepts.
struct Nullable<S>(S);

impl<'de, S: Shape<'de>> Shape<'de> for Nullable<S> {
    type Value = Option<S::Value>;

    fn must_be(&self) -> &'static str {
        self.0.must_be()
    }

    fn null(self) -> Result<Self::Value, Error> {
        Ok(None)
    }

    fn boolean(self, v: bool) -> Result<Self::Value, Error> {
        self.0.boolean(v).map(Some)
    }

    fn integer(self, v: i64) -> Result<Self::Value, Error> {
        self.0.integer(v).map(Some)
    }

    fn unsigned(self, v: u64) -> Result<Self::Value, Error> {
        self.0.unsigned(v).map(Some)
    }

    fn text(self, v: Cow<'_, str>) -> Result<Self::Value, Error> {
        self.0.text(v).map(Some)
    }

    fn seq<A: SeqAccess<'de>>(self, seq: A, slot: &Slot, path: Path<'_>) -> Result<Self::Value, A::Error> {
        self.0.seq(seq, slot, path).map(Some)
    }

    fn map<A: MapAccess<'de>>(self, map: A, slot: &Slot, path: Path<'_>) -> Result<Self::Value, A::Error> {
        self.0.map(map, slot, path).map(Some)
    }
}

/// An array of strings (ids): `each` says what an element must be.
struct Strings {
    must_be: &'static str,
    each: &'static str,
}

impl<'de> Shape<'de> for Strings {
    type Value = Vec<String>;

    fn must_be(&self) -> &'static str {
        self.must_be
    }

    fn seq<A: SeqAccess<'de>>(self, mut seq: A, slot: &Slot, path: Path<'_>) -> Result<Vec<String>, A::Error> {
        // The hint comes from the input: trust it only so far.
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(s) = seq.next_element_seed(Expect::new(Text(self.each), slot, Path::Index(&path, out.len())))? {
            out.push(s);
        }
        Ok(out)
    }
}

/// `at`: milliseconds since the epoch, or text.
struct Instant;

impl Shape<'_> for Instant {
    type Value = At;

    fn must_be(&self) -> &'static str {
        "milliseconds since the Unix epoch (an integer) or RFC 3339 text with an offset"
    }

    fn integer(self, v: i64) -> Result<At, Error> {
        Ok(At::Millis(v))
    }

    fn unsigned(self, v: u64) -> Result<At, Error> {
        i64::try_from(v)
            .map(At::Millis)
            .map_err(|_| Error::Instant(v.to_string().into()))
    }

    fn text(self, v: Cow<'_, str>) -> Result<At, Error> {
        Ok(At::Text(v.into_owned()))
    }
}

const USER_ID: &str = "a user id (a string)";

/// `mentionedInfo`.
struct Mentioned;

const MENTIONED_FIELDS: &[&str] = &["type", "userIdList", "userGroupIds"];

impl<'de> Shape<'de> for Mentioned {
    type Value = MentionedInfo;

    fn must_be(&self) -> &'static str {
        "an object with \"type\" (1 @all, 2 a list) and \"userIdList\""
    }

    fn map<A: MapAccess<'de>>(self, map: A, slot: &Slot, path: Path<'_>) -> Result<MentionedInfo, A::Error> {
        const TYPE: &str = "an integer (1 @all, 2 a list of users)";
        let (mut kind, mut user_id_list, mut user_group_ids) = (0, Vec::new(), Vec::new());
        let given = object(
            map,
            slot,
            path,
            MENTIONED_FIELDS,
            "type, userIdList or userGroupIds",
            |map, i, at| {
                match i {
                    0 => kind = map.next_value_seed(Expect::new(Integer(TYPE), slot, at))?,
                    2 => {
                        let list = Strings {
                            must_be: "an array of user group ids (strings)",
                            each: "a user group id (a string)",
                        };
                        user_group_ids = map.next_value_seed(Expect::new(list, slot, at))?;
                    }
                    _ => {
                        let list = Strings {
                            must_be: "an array of user ids (strings)",
                            each: USER_ID,
                        };
                        user_id_list = map.next_value_seed(Expect::new(list, slot, at))?;
                    }
                }
                Ok(())
            },
        )?;
        require(slot, path, MENTIONED_FIELDS, given, &[(0, TYPE)])?;
        Ok(MentionedInfo {
            kind,
            user_id_list,
            user_group_ids,
        })
    }
}

/// The push object.
pub(super) struct PushObject;

const PUSH_FIELDS: &[&str] = &[
    "at",
    "conversationType",
    "targetId",
    "busChannel",
    "fromUserId",
    "mentionedInfo",
    "disablePush",
    "recipients",
    "urgent",
    "memberCount",
    "mentionAllAllowed",
    "text",
    "hold",
    "messageId",
    "answer",
];

impl<'de> Shape<'de> for PushObject {
    type Value = Push;

    fn must_be(&self) -> &'static str {
        "an object (a message and its recipients)"
    }

    fn map<A: MapAccess<'de>>(self, map: A, slot: &Slot, path: Path<'_>) -> Result<Push, A::Error> {
        const AT: &str = "milliseconds since the Unix epoch (an integer) or RFC 3339 text with an offset";
        const TYPE: &str = "an integer (1, 3, 6 or 10)";
        const RECIPIENTS: &str = "an array of user ids (strings)";
        let mut push = Push {
            at: At::Millis(0),
            conversation_type: 0,
            target_id: String::new(),
            bus_channel: None,
            from_user_id: String::new(),
            mentioned_info: None,
            disable_push: false,
            recipients: Vec::new(),
            urgent: false,
            member_count: None,
            mention_all_allowed: true,
            text: String::new(),
            hold: false,
            message_id: None,
            members: true,
            answer: super::AnswerForm::Lines,
        };
        let given = object(
            map,
            slot,
            path,
            PUSH_FIELDS,
            "at, conversationType, targetId, busChannel, fromUserId, mentionedInfo, disablePush, recipients, \
             urgent, memberCount, mentionAllAllowed, text, hold, messageId, answer",
            |map, i, at| {
                match i {
                    0 => push.at = map.next_value_seed(Expect::new(Instant, slot, at))?,
                    1 => push.conversation_type = map.next_value_seed(Expect::new(Integer(TYPE), slot, at))?,
                    2 => push.target_id = map.next_value_seed(Expect::new(Text("a target id (a string)"), slot, at))?,
                    3 => {
                        push.bus_channel =
                            map.next_value_seed(Expect::new(Nullable(Text("a subchannel id (a string)")), slot, at))?
                    }
                    4 => push.from_user_id = map.next_value_seed(Expect::new(Text(USER_ID), slot, at))?,
                    5 => push.mentioned_info = map.next_value_seed(Expect::new(Nullable(Mentioned), slot, at))?,
                    6 => push.disable_push = map.next_value_seed(Expect::new(Boolean, slot, at))?,
                    8 => push.urgent = map.next_value_seed(Expect::new(Boolean, slot, at))?,
                    9 => {
                        push.member_count = Some(map.next_value_seed(Expect::new(
                            Integer("a whole number of members (0 to 4294967295)"),
                            slot,
                            at,
                        ))?)
                    }
                    10 => push.mention_all_allowed = map.next_value_seed(Expect::new(Boolean, slot, at))?,
                    11 => {
                        push.text = map.next_value_seed(Expect::new(Text("the message's text (a string)"), slot, at))?
                    }
                    12 => push.hold = map.next_value_seed(Expect::new(Boolean, slot, at))?,
                    13 => {
                        push.message_id = Some(map.next_value_seed(Expect::new(
                            Text("a message id (a string of 1 to 64 bytes)"),
                            slot,
                            at,
                        ))?)
                    }
                    14 => {
                        let form: String = map.next_value_seed(Expect::new(
                            Text("the answer's form (\"lines\", \"push\" or \"bits\")"),
                            slot,
                            at,
                        ))?;
                        push.answer = super::AnswerForm::parse(&form).map_err(|e| fail(slot, at, e))?;
                    }
                    _ => {
                        let list = Strings {
                            must_be: RECIPIENTS,
                            each: USER_ID,
                        };
                        push.recipients = map.next_value_seed(Expect::new(list, slot, at))?;
                        push.members = false;
                    }
                }
                Ok(())
            },
        )?;
        require(slot, path, PUSH_FIELDS, given, &[(0, AT), (1, TYPE), (4, USER_ID)])?;
        Ok(push)
    }
}

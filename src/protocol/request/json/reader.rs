//! Reading a JSON object by hand: each value kept as it came ([`Raw`]), each
//! known field at most once, the first unknown field remembered
//! ([`Object`], [`ObjectVisitor`]), and an error that names the field for a
//! value of the wrong JSON type.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::error::Error;
use crate::error::Excerpt;

/// A value as it came, before it is checked.
pub(super) enum Raw {
    Text(String),
    Integer(i64),
    /// A number that is not an integer in `i64`'s range, as written.
    OtherNumber(String),
    Other(&'static str),
}

impl Raw {
    pub(super) fn text(self, name: &'static str) -> Result<String, Error> {
        match self {
            Raw::Text(s) => Ok(s),
            other => Err(other.wrong(name, "a string")),
        }
    }

    /// An integer code; a number that is not one is "not a whole number", as
    /// in the form.
    pub(super) fn integer(self, name: &'static str) -> Result<i64, Error> {
        match self {
            Raw::Integer(n) => Ok(n),
            Raw::OtherNumber(n) => Err(Error::NotANumber {
                name,
                value: Excerpt::new(&n),
            }),
            other => Err(other.wrong(name, "an integer")),
        }
    }

    /// A JSON boolean.
    pub(super) fn boolean(self, name: &'static str) -> Result<bool, Error> {
        match self {
            Raw::Other("true") => Ok(true),
            Raw::Other("false") => Ok(false),
            other => Err(other.wrong(name, "true or false")),
        }
    }

    #[cold]
    pub(super) fn wrong(self, name: &'static str, expected: &'static str) -> Error {
        let found = match self {
            Raw::Text(s) => Excerpt::new(&s).to_string(),
            Raw::Integer(n) => n.to_string(),
            Raw::OtherNumber(n) => n,
            Raw::Other(what) => what.to_owned(),
        };
        Error::WrongType { name, expected, found }
    }
}

struct RawVisitor;

impl<'de> DeserializeSeed<'de> for RawVisitor {
    type Value = Raw;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Raw, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Text(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Text(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Integer(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw, E> {
        Ok(i64::try_from(v).map_or_else(|_| Raw::OtherNumber(v.to_string()), Raw::Integer))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw::OtherNumber(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Other(if v { "true" } else { "false" }))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Other("null"))
    }
    fn visit_none<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Other("null"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Raw::Other("an object"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Raw::Other("an array"))
    }
}

/// The fields of an object as read: each known field at most once, and the
/// first unknown one, reported once the kind of request is known.
pub(super) trait Object: Default {
    /// The fields the object may have, by their JSON names.
    const FIELDS: &'static [&'static str];

    /// Reads the value of known field `name`.
    fn read<'de, A: MapAccess<'de>>(&mut self, name: &'static str, map: &mut A) -> Result<(), A::Error>;

    fn unknown_slot(&mut self) -> &mut Option<Excerpt>;
}

/// Stores `value` in `slot`, refusing a second value for field `name`.
pub(super) fn once<T, E: de::Error>(slot: &mut Option<T>, name: &'static str, value: T) -> Result<(), E> {
    match slot {
        Some(_) => Err(E::custom(Error::DuplicateField(name))),
        None => {
            *slot = Some(value);
            Ok(())
        }
    }
}

/// Reads field `name` as a [`Raw`] value into `slot`.
pub(super) fn raw<'de, A: MapAccess<'de>>(
    slot: &mut Option<Raw>,
    name: &'static str,
    map: &mut A,
) -> Result<(), A::Error> {
    let value = map.next_value_seed(RawVisitor)?;
    once(slot, name, value)
}

/// Reads an object; `name` is its name in errors.
pub(super) struct ObjectVisitor<O> {
    name: &'static str,
    object: PhantomData<O>,
}

impl<O> ObjectVisitor<O> {
    pub(super) fn new(name: &'static str) -> Self {
        ObjectVisitor {
            name,
            object: PhantomData,
        }
    }

    fn not_an_object<E: de::Error>(&self, found: String) -> E {
        E::custom(Error::WrongType {
            name: self.name,
            expected: "an object",
            found,
        })
    }
}

impl<'de, O: Object> DeserializeSeed<'de> for ObjectVisitor<O> {
    type Value = O;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<O, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, O: Object> Visitor<'de> for ObjectVisitor<O> {
    type Value = O;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to be an object", self.name)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<O, A::Error> {
        let mut object = O::default();
        while let Some(key) = map.next_key_seed(KeySeed(O::FIELDS))? {
            match key {
                Key::Known(name) => object.read(name, &mut map)?,
                Key::Unknown(field) => {
                    map.next_value::<IgnoredAny>()?;
                    object.unknown_slot().get_or_insert(field);
                }
            }
        }
        Ok(object)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<O, E> {
        Err(self.not_an_object(Excerpt::new(v).to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<O, E> {
        Err(self.not_an_object(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<O, E> {
        Err(self.not_an_object(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<O, E> {
        Err(self.not_an_object(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<O, E> {
        Err(self.not_an_object(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<O, E> {
        Err(self.not_an_object("null".into()))
    }
    fn visit_none<E: de::Error>(self) -> Result<O, E> {
        self.visit_unit()
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<O, A::Error> {
        Err(self.not_an_object("an array".into()))
    }
}

/// A field name: one the object knows, or an excerpt of another.
enum Key {
    Known(&'static str),
    Unknown(Excerpt),
}

struct KeySeed(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(match self.0.iter().find(|&&name| name == key) {
            Some(name) => Key::Known(name),
            None => Key::Unknown(Excerpt::new(key)),
        })
    }
}

/// A field that must be there.
pub(super) fn required<T>(slot: Option<T>, name: &'static str) -> Result<T, Error> {
    slot.ok_or(Error::MissingParameter(name))
}

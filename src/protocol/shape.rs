//! The shapes JSON from outside may take, beyond what serde's derived code
//! checks: a struct is a JSON object only (never the array of its fields
//! that derived code would also accept), and `null` is never a value and
//! never "absent" (an optional field is left out when it is not set). The
//! error's path (`users[0].period`, `windows[2]`) names where. The JSON
//! request reader and the push reader hold the same line (docs/rules.md §6,
//! §8).

use std::marker::PhantomData;

use serde::de::{Error as _, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// A value that must be a JSON object (never the array form serde would
/// otherwise accept for a struct).
#[derive(Serialize)]
#[serde(transparent)]
pub(crate) struct Obj<T>(pub(crate) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(V(PhantomData)).map(Obj)
    }
}

/// What a reader is told about a `null`.
pub(crate) const NULL: &str = "null is not allowed (a field that is not set is left out)";

/// An optional field, present: its value, never `null`. For
/// `#[serde(default, deserialize_with = "crate::protocol::shape::optional")]`,
/// which leaves an absent field `None` without calling this.
pub(crate) fn optional<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    match Option::<T>::deserialize(d)? {
        Some(value) => Ok(Some(value)),
        None => Err(D::Error::custom(NULL)),
    }
}

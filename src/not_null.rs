//! `null` in saved or sent JSON is never a value and never "absent": an
//! optional field is left out when it is not set, so a `null` in its place
//! is refused, and the error's path (`users[0].period`) names where. The
//! JSON request reader and the push reader hold the same line (docs/rules.md
//! §6, §8).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

/// What a reader is told about a `null`.
pub(crate) const NULL: &str = "null is not allowed (a field that is not set is left out)";

/// An optional field, present: its value, never `null`. For
/// `#[serde(default, deserialize_with = "crate::not_null::optional")]`,
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

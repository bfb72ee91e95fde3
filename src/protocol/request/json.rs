//! The JSON (serde) form of [`Request`]: it accepts exactly what the form
//! bodies accept, checked by the same functions ([`params`]), so that a value
//! gets the same answer and the same message either way.
//!
//! The fields are read by hand rather than by a derived `Deserialize`, for
//! what a derive cannot do: name the field in every error (also for a value
//! of the wrong JSON type), refuse a field given twice, refuse the fields of
//! another kind of request, and never quote more than an excerpt of a value.
//! Reading keeps each value as it came ([`Raw`]); the checks then run in the
//! order the form's parameters are checked in.
//!
//! The reader of objects and values is `json/reader.rs`; the top level of a
//! request, its kinds and their checks `json/request.rs`; the objects inside
//! one (`conversation`, `period`, `snooze`) `json/nested.rs`.

mod nested;
mod reader;
mod top_level;

use serde::de::{self, Deserializer};
use serde::Deserialize;

use chrono::{DateTime, Utc};

use super::{params, Request};
use crate::error::Error;
use crate::model::BusChannel;
use reader::{ObjectVisitor, Raw};
use top_level::RequestFields;

impl<'de> Deserialize<'de> for Request {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Request, D::Error> {
        let fields: RequestFields = deserializer.deserialize_any(ObjectVisitor::new("a request"))?;
        fields.into_request().map_err(de::Error::custom)
    }
}

/// An `until`: milliseconds since the epoch, or text as the form takes it
/// (milliseconds or RFC 3339), in the range of a [`Timestamp`](crate::Timestamp).
fn until(raw: Raw, name: &'static str) -> Result<DateTime<Utc>, Error> {
    match raw {
        Raw::Integer(ms) => crate::model::Timestamp::from_millis(ms).map(crate::model::Timestamp::as_datetime),
        Raw::Text(text) => super::extensions::parse_until(&text),
        other => return Err(other.wrong(name, "milliseconds since the epoch or RFC 3339 text")),
    }
    .map_err(|e| e.in_parameter(name))
}

/// An optional `busChannel`, checked as the form's parameter is.
fn optional_bus_channel(raw: Option<Raw>, name: &'static str) -> Result<Option<BusChannel>, Error> {
    raw.map(|r| params::bus_channel(name, &r.text(name)?)).transpose()
}

//! The crate's one error type.
//!
//! Errors are built only where data enters the crate: when a value is parsed or
//! validated, when a request is decoded, when a saved state is restored. Deciding
//! a push never fails. Every constructor is `#[cold]` so that building an error
//! never weighs on the paths that do not fail.

use std::fmt;

/// Something from outside the crate was not acceptable.
///
/// The `Display` text names what was wrong and, for request parameters, which
/// parameter: it is what the settings API puts in `errorMessage`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A conversation type other than 1, 3, 6 or 10.
    #[error("{0} is not a conversation type (1 private, 3 group, 6 system, 10 ultra group)")]
    ConversationType(i64),
    /// A DND level other than -1, 0, 1, 2, 4 or 5.
    #[error("{0} is not a DND level (-1, 0, 1, 2, 4 or 5)")]
    Level(i64),
    /// A period level other than 1 or 5.
    #[error("{0} is not a period level (1 or 5)")]
    PeriodLevel(i64),
    /// A time of day that is not `HH:MM:SS` between 00:00:00 and 23:59:59.
    #[error("{0:?} is not a time of day HH:MM:SS from 00:00:00 to 23:59:59")]
    TimeOfDay(String),
    /// A period length outside 0 to 1439 minutes (1 to 1439 for a window).
    #[error("{0} is not a period length in minutes ({1})")]
    PeriodMinutes(i64, &'static str),
    /// A name that is not an IANA time zone.
    #[error("{0:?} is not an IANA time zone name")]
    TimeZone(String),
    /// An id of the wrong length, or not valid UTF-8.
    #[error("{kind} {value:?} must be 1 to {max} bytes of UTF-8")]
    Id {
        /// What kind of id it was ("user id", "target id", "group id").
        kind: &'static str,
        /// The id as given (lossily decoded).
        value: String,
        /// The most bytes allowed.
        max: usize,
    },
    /// A subchannel id that is not 1 to 20 ASCII letters and digits.
    #[error("{0:?} is not a subchannel id (1 to 20 ASCII letters and digits)")]
    BusChannel(String),
    /// A subchannel given with a conversation type other than 10.
    #[error("a subchannel is given only with conversation type 10, not {0}")]
    BusChannelType(i64),
    /// A message time that is not milliseconds since the epoch or RFC 3339.
    #[error("{0:?} is not a message time (milliseconds since the Unix epoch, or RFC 3339 with an offset)")]
    Instant(String),
    /// A request parameter that is required and absent.
    #[error("parameter {0} is missing")]
    MissingParameter(&'static str),
    /// A request parameter given with an empty value.
    #[error("parameter {0} is empty")]
    EmptyParameter(&'static str),
    /// A request parameter given twice with different values.
    #[error("parameter {0} is repeated with different values")]
    RepeatedParameter(&'static str),
    /// A request parameter whose percent-decoded value is not valid UTF-8.
    #[error("parameter {0} is not valid UTF-8")]
    NotUtf8(&'static str),
    /// A request parameter that must be a whole number and is not.
    #[error("parameter {name}: {value:?} is not a whole number")]
    NotANumber {
        /// The parameter.
        name: &'static str,
        /// What was given.
        value: String,
    },
    /// A request parameter whose value was rejected; `source` says why.
    #[error("parameter {name}: {source}")]
    Parameter {
        /// The parameter.
        name: &'static str,
        /// Why its value was rejected.
        source: Box<Error>,
    },
    /// A request path that the settings API does not serve.
    #[error("unknown path {0:?}")]
    UnknownPath(String),
    /// A saved state that does not describe a valid state.
    #[error("saved state: {0}")]
    Snapshot(String),
    /// A field of a JSON input (the replay protocol's push object) that is not
    /// acceptable: where it is, and why.
    #[error("{path}: {source}")]
    Field {
        /// Where the field is: `push.recipients[3]`, `push.mentionedInfo.type`.
        path: String,
        /// Why it was rejected: an error about its value, or one of
        /// [`Error::JsonType`], [`Error::MissingField`], [`Error::UnknownField`],
        /// [`Error::DuplicateKey`], [`Error::Json`].
        source: Box<Error>,
    },
    /// A JSON value of the wrong kind (inside [`Error::Field`]): says what it must be.
    #[error("must be {0}")]
    JsonType(&'static str),
    /// A required JSON field that is absent (inside [`Error::Field`]).
    #[error("is missing; it must be {0}")]
    MissingField(&'static str),
    /// A JSON key that the object does not have (inside [`Error::Field`]).
    #[error("is not a field here; expected one of {0}")]
    UnknownField(&'static str),
    /// A JSON key given twice in one object (inside [`Error::Field`]).
    #[error("is given twice (a key may appear once in an object)")]
    DuplicateKey,
    /// Text that is not JSON (inside [`Error::Field`]), in the parser's words.
    #[error("not JSON: {0}")]
    Json(String),
    /// A `mentionedInfo.type` other than 1 or 2.
    #[error("{0} is not a mention type (1 @all, 2 a list of users)")]
    MentionType(i64),
    /// A value of an extension request (a schedule, a snooze, an `until`)
    /// that is not acceptable; the text says where and why.
    #[error("{0}")]
    Invalid(String),
    /// The settings hold as many users as a handle can number.
    #[error("the settings hold the most users a handle can number")]
    TooManyUsers,
    /// A shard count outside 1 to the number of partitions.
    #[error("{0} shards: a layout has 1 to 256 shards (one partition each at most)")]
    Shards(u16),
}

impl Error {
    /// Wraps an error about a value as an error about request parameter `name`.
    #[cold]
    pub(crate) fn in_parameter(self, name: &'static str) -> Error {
        Error::Parameter {
            name,
            source: Box::new(self),
        }
    }

    #[cold]
    pub(crate) fn id(kind: &'static str, value: &str, max: usize) -> Error {
        Error::Id {
            kind,
            value: value.to_owned(),
            max,
        }
    }

    /// An error about the JSON field at `path`.
    #[cold]
    pub(crate) fn field(path: impl fmt::Display, source: Error) -> Error {
        Error::Field {
            path: path.to_string(),
            source: Box::new(source),
        }
    }

    #[cold]
    pub(crate) fn snapshot(what: impl fmt::Display) -> Error {
        Error::Snapshot(what.to_string())
    }
}

//! The crate's one error type.
//!
//! Errors are built only where data enters the crate: when a value is parsed or
//! validated, when a request is decoded, when a saved state is restored, when a
//! caller hands back a [`UserHandle`](crate::UserHandle). Deciding a push for a
//! recipient the settings know never fails. Every constructor is `#[cold]` so
//! that building an error never weighs on the paths that do not fail.
//!
//! An error never holds a whole value from outside: it quotes an [`Excerpt`],
//! at most [`Excerpt::CHARS`] characters with control characters escaped, so
//! that a 10 MB parameter makes a one-line message and a value with a newline
//! cannot forge a line of output.

use std::fmt;

pub(crate) mod excerpt;

use crate::error::excerpt::Excerpt;

/// Something from outside the crate was not acceptable.
///
/// The `Display` text names what was wrong and, for request parameters, which
/// parameter: it is what the settings API puts in `errorMessage`. An error
/// about an integer code says which codes that parameter accepts, and
/// [`Error::accepted`] gives them as data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A conversation type other than 1, 3, 6 or 10.
    #[error("{0} is not a conversation type (1 private, 3 group, 6 system, 10 ultra group)")]
    ConversationType(i64),
    /// A DND level other than -1, 0 (not set), 1, 2, 4 or 5, where "not set"
    /// may be given (`unpushLevel`).
    #[error("{0} is not a DND level (-1, 0, 1, 2, 4 or 5)")]
    Level(i64),
    /// A DND level other than -1, 1, 2, 4 or 5, where a level must be set (a
    /// saved state's levels, a level given as [`Level`](crate::Level)).
    #[error("{0} is not a DND level that is set (-1, 1, 2, 4 or 5)")]
    SetLevel(i64),
    /// A period level other than 1 or 5.
    #[error("{0} is not a period level (1 or 5)")]
    PeriodLevel(i64),
    /// A level of a snooze or a schedule window other than 1, 2, 4 or 5.
    #[error("{0} is not a quiet-time level (1, 2, 4 or 5)")]
    QuietLevel(i64),
    /// A value of the deprecated `isMuted` other than 0 or 1.
    #[error("{0} is not an isMuted value (0 or 1)")]
    IsMuted(i64),
    /// A time of day that is not `HH:MM:SS` between 00:00:00 and 23:59:59.
    #[error("{0} is not a time of day HH:MM:SS from 00:00:00 to 23:59:59")]
    TimeOfDay(Excerpt),
    /// A period length outside 0 to 1439 minutes (1 to 1439 for a window).
    #[error("{0} is not a period length in minutes ({1})")]
    PeriodMinutes(i64, &'static str),
    /// A name that is not an IANA time zone.
    #[error("{0} is not an IANA time zone name")]
    TimeZone(Excerpt),
    /// An id of the wrong length.
    #[error("{kind} {value} must be 1 to {max} bytes of UTF-8")]
    Id {
        /// What kind of id it was ("user id", "target id", "group id").
        kind: &'static str,
        /// The id as given.
        value: Excerpt,
        /// The most bytes allowed.
        max: usize,
    },
    /// A subchannel id that is not 1 to 20 ASCII letters and digits.
    #[error("{0} is not a subchannel id (1 to 20 ASCII letters and digits)")]
    BusChannel(Excerpt),
    /// A subchannel given with a conversation type other than 10.
    #[error("a subchannel is given only with conversation type 10, not {0}")]
    BusChannelType(i64),
    /// A message time that is not milliseconds since the epoch or RFC 3339.
    #[error("{0} is not a message time (milliseconds since the Unix epoch, or RFC 3339 with an offset)")]
    Instant(Excerpt),
    /// A time outside the range the engine decides in: before 1970 or from
    /// 2100 on, where the time-zone tables end (see
    /// [`Timestamp`](crate::Timestamp)).
    #[error(
        "{0} is outside the times the engine decides: from 1970-01-01T00:00:00Z up to 2100-01-01T00:00:00Z, \
         where the time-zone tables end"
    )]
    TimeOutOfRange(Excerpt),
    /// A request parameter that is required and absent.
    #[error("parameter {0} is missing")]
    MissingParameter(&'static str),
    /// A request parameter given with an empty value.
    #[error("parameter {0} is empty")]
    EmptyParameter(&'static str),
    /// A request parameter given twice with different values.
    #[error("parameter {0} is repeated with different values")]
    RepeatedParameter(&'static str),
    /// A field of a JSON request given twice in one object.
    #[error("parameter {0} is given twice")]
    DuplicateField(&'static str),
    /// A field that a JSON request of this kind does not have.
    #[error("{request} has no parameter {field}")]
    UnknownRequestField {
        /// The kind of request, or the object, it was found in.
        request: &'static str,
        /// The field's name.
        field: Excerpt,
    },
    /// A JSON request whose `request` names no kind of request.
    #[error(
        "{0} is not a kind of request (setPeriod, deletePeriod, getPeriod, setConversationLevel, \
         getConversationLevel, setTypeLevel, getTypeLevel, setUltraGroupDefault, getUltraGroupDefault, \
         setConversationLevelUntil, setTypeLevelUntil, setUltraGroupDefaultUntil, setSnooze, getSnooze, \
         deleteSnooze, setSchedule, getSchedule, deleteSchedule)"
    )]
    UnknownRequest(Excerpt),
    /// A field of a JSON request whose value has the wrong JSON type.
    #[error("{name} must be {expected}, not {found}")]
    WrongType {
        /// The field.
        name: &'static str,
        /// What it must be: "a string", "an integer", "an object".
        expected: &'static str,
        /// What it was: a number, `null`, "an array", or a quoted excerpt of
        /// a string; never long.
        found: String,
    },
    /// A request parameter whose percent-decoded value is not valid UTF-8.
    #[error("parameter {0} is not valid UTF-8")]
    NotUtf8(&'static str),
    /// A request parameter that must be a whole number and is not.
    #[error("parameter {name}: {value} is not a whole number")]
    NotANumber {
        /// The parameter.
        name: &'static str,
        /// What was given.
        value: Excerpt,
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
    #[error("unknown path {0}")]
    UnknownPath(Excerpt),
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
    /// A VIP list's `scope` other than `quiet` or `all`.
    #[error("{0} is not a VIP scope (quiet or all)")]
    VipScope(Excerpt),
    /// A value of the urgent consent's `allow` other than 0 or 1.
    #[error("{0} is not an allow value (0 or 1)")]
    UrgentAllow(i64),
    /// A `mentionedInfo.type` other than 1 or 2.
    #[error("{0} is not a mention type (1 @all, 2 a list of users)")]
    MentionType(i64),
    /// A value of an extension request (a schedule, a snooze, an `until`)
    /// that is not acceptable; the text says where and why.
    #[error("{0}")]
    Invalid(String),
    /// The settings number as many users as they can: a handle is a `u32`,
    /// so at most 2³² users. Nothing was changed.
    #[error("the settings number as many users as they can: no new user can be added")]
    TooManyUsers,
    /// A [`UserHandle`](crate::UserHandle) that other settings issued (another
    /// `Settings`, a clone, or the state before a save and restore). Ask these
    /// settings for the user's handle by id.
    #[error("user handle #{0} was issued by other settings; ask these settings for the user's handle by id")]
    ForeignHandle(u32),
    /// A [`UserHandle`](crate::UserHandle) of these settings that numbers a
    /// user added after this version of them (a reader of
    /// [`SharedSettings`](crate::SharedSettings) holding an older version).
    #[error("user handle #{index} is not numbered yet in this version of the settings, which has {users} users")]
    HandleNotYetNumbered {
        /// The handle's number.
        index: u32,
        /// How many users this version numbers.
        users: usize,
    },
    /// A shard count outside 1 to the number of partitions.
    #[error("{0} shards: a layout has 1 to 256 shards (one partition each at most)")]
    Shards(u16),
}

impl Error {
    /// The integer codes accepted where this error's code was refused, for
    /// errors about a code (also inside [`Error::Parameter`]).
    ///
    /// ```
    /// use dnd_engine::{Error, Request};
    /// let e = Request::parse("/conversation/notification/set.json", b"conversationType=3&requestId=u&targetId=g&isMuted=2").unwrap_err();
    /// assert_eq!(e.parameter(), Some("isMuted"));
    /// assert_eq!(e.accepted(), Some(&[0, 1][..]));
    /// assert_eq!(e.to_string(), "parameter isMuted: 2 is not an isMuted value (0 or 1)");
    /// ```
    pub fn accepted(&self) -> Option<&'static [i64]> {
        match self {
            Error::ConversationType(_) => Some(&[1, 3, 6, 10]),
            Error::Level(_) => Some(&[-1, 0, 1, 2, 4, 5]),
            Error::SetLevel(_) => Some(&[-1, 1, 2, 4, 5]),
            Error::PeriodLevel(_) => Some(&[1, 5]),
            Error::IsMuted(_) => Some(&[0, 1]),
            Error::QuietLevel(_) => Some(&[1, 2, 4, 5]),
            Error::MentionType(_) => Some(&[1, 2]),
            Error::UrgentAllow(_) => Some(&[0, 1]),
            Error::Parameter { source, .. } | Error::Field { source, .. } => source.accepted(),
            _ => None,
        }
    }

    /// The request parameter (or JSON request field) the error is about, if
    /// it is about one.
    pub fn parameter(&self) -> Option<&'static str> {
        match self {
            Error::MissingParameter(name)
            | Error::EmptyParameter(name)
            | Error::RepeatedParameter(name)
            | Error::DuplicateField(name)
            | Error::NotUtf8(name)
            | Error::NotANumber { name, .. }
            | Error::WrongType { name, .. }
            | Error::Parameter { name, .. } => Some(name),
            _ => None,
        }
    }

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
            value: Excerpt::new(value),
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

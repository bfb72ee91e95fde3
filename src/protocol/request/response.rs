//! The platform's response object.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::error::Error;
use crate::model::{BusChannel, DndPeriod, Level, TargetId};

/// The platform's answer to a request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use = "a response may be an error, which should be looked at"]
#[non_exhaustive]
pub enum Response {
    /// `{"code":200}`.
    Ok,
    /// `{"code":200,"data":{"startTime","period","unPushLevel"}}`; with no
    /// period, `startTime` is `""` and `period` and `unPushLevel` are 0.
    Period(Option<DndPeriod>),
    /// `{"code":200,"isMuted":LEVEL}`, 0 when not set.
    Level(Option<Level>),
    /// `{"code":200,"groupId","busChannel","unpushLevel"}`; `busChannel` is
    /// `""` for the channel default.
    UltraGroupDefault {
        /// The ultra group.
        group_id: TargetId,
        /// The subchannel asked about.
        bus_channel: Option<BusChannel>,
        /// Its default.
        level: Option<Level>,
    },
    /// An answer that only the extension requests give (a stored temporary
    /// level, a snooze, a schedule).
    Extension(super::extensions::Answer),
    /// A failure: 1002 for a bad request, 404 for an unknown path, 500 when the
    /// settings number as many users as they can ([`Error::TooManyUsers`]);
    /// nothing was changed.
    Error {
        /// The code.
        code: u16,
        /// What was wrong.
        message: String,
    },
}

impl Response {
    /// The answer for a request that failed with `error`.
    #[cold]
    pub fn from_error(error: &Error) -> Response {
        let code = match error {
            Error::UnknownPath(_) => 404,
            Error::TooManyUsers => 500,
            _ => 1002,
        };
        Response::Error {
            code,
            message: error.to_string(),
        }
    }

    /// The response's `code`: 200 on success.
    pub fn code(&self) -> u16 {
        match self {
            Response::Error { code, .. } => *code,
            _ => 200,
        }
    }

    /// The response object as a line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!(r#"{{"code":500,"errorMessage":"{e}"}}"#))
    }
}

impl Serialize for Response {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct PeriodData {
            start_time: String,
            period: u16,
            un_push_level: i64,
        }
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("code", &self.code())?;
        match self {
            Response::Ok => {}
            Response::Period(period) => map.serialize_entry(
                "data",
                &match period {
                    Some(p) => PeriodData {
                        start_time: p.window.start().to_string(),
                        period: p.window.minutes(),
                        un_push_level: p.level.level().code(),
                    },
                    None => PeriodData {
                        start_time: String::new(),
                        period: 0,
                        un_push_level: 0,
                    },
                },
            )?,
            Response::Level(level) => map.serialize_entry("isMuted", &Level::code_of(*level))?,
            Response::UltraGroupDefault {
                group_id,
                bus_channel,
                level,
            } => {
                map.serialize_entry("groupId", group_id.as_str())?;
                map.serialize_entry("busChannel", bus_channel.as_ref().map_or("", BusChannel::as_str))?;
                map.serialize_entry("unpushLevel", &Level::code_of(*level))?;
            }
            Response::Extension(answer) => answer.write(&mut map)?,
            Response::Error { message, .. } => map.serialize_entry("errorMessage", message)?,
        }
        map.end()
    }
}

//! The platform's DND server API (RULES §6): a request is a path and an
//! `application/x-www-form-urlencoded` body; the answer is the platform's
//! response object.
//!
//! Data flows one way: [`Request::parse`] decodes and validates a form into a
//! typed [`Request`] without touching any state; [`Settings::apply`] then
//! carries it out, and nothing it does can fail half way. So a rejected
//! request changes nothing, by construction. A [`Request`] is serde data: it
//! can travel on a queue or a log and be applied elsewhere.
//!
//! ```
//! use dnd_engine::{Config, Settings};
//! let mut settings = Settings::new(Config::new(chrono_tz::Asia::Shanghai));
//! let ok = settings.handle("/user/blockPushPeriod/set.json", b"userId=u1&startTime=22:00:00&period=540&level=5");
//! assert_eq!(ok.to_json(), r#"{"code":200}"#);
//! let bad = settings.handle("/user/blockPushPeriod/set.json", b"userId=u1&startTime=24:00:00&period=540&level=5");
//! assert_eq!(bad.code(), 1002);
//! ```

use std::borrow::Cow;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::model::{
    parse_zone, BusChannel, ConversationKey, ConversationType, DndPeriod, DndWindow, Level, PeriodLevel, TargetId,
    TimeOfDay, UserId,
};
use crate::{Error, Settings};

pub mod extensions;
mod policy;
use chrono::{DateTime, Utc};

/// One request of the settings API, decoded and validated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "request",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
#[non_exhaustive]
pub enum Request {
    /// `/user/blockPushPeriod/set.json` with a period of 1 to 1439 minutes.
    SetPeriod {
        /// The user.
        user_id: UserId,
        /// The period, replacing any other.
        period: DndPeriod,
    },
    /// `/user/blockPushPeriod/delete.json`, or `set.json` with period 0.
    DeletePeriod {
        /// The user.
        user_id: UserId,
    },
    /// `/user/blockPushPeriod/get.json`.
    GetPeriod {
        /// The user.
        user_id: UserId,
    },
    /// `/conversation/notification/set.json`.
    SetConversationLevel {
        /// The user (`requestId`).
        user_id: UserId,
        /// The conversation, or an ultra group's subchannel.
        conversation: ConversationKey,
        /// The level; `None` (0) removes the setting.
        level: Option<Level>,
    },
    /// `/conversation/notification/get.json`.
    GetConversationLevel {
        /// The user (`requestId`).
        user_id: UserId,
        /// The conversation, or an ultra group's subchannel.
        conversation: ConversationKey,
    },
    /// `/conversation/type/notification/set.json`.
    SetTypeLevel {
        /// The user (`requestId`).
        user_id: UserId,
        /// The conversation type.
        conversation_type: ConversationType,
        /// The level; `None` (0) removes the setting.
        level: Option<Level>,
    },
    /// `/conversation/type/notification/get.json`.
    GetTypeLevel {
        /// The user (`requestId`).
        user_id: UserId,
        /// The conversation type.
        conversation_type: ConversationType,
    },
    /// `/ultragroup/notdisturb/set.json`.
    SetUltraGroupDefault {
        /// The ultra group.
        group_id: TargetId,
        /// The subchannel, for a subchannel default.
        bus_channel: Option<BusChannel>,
        /// The level; `None` (0) removes the default.
        level: Option<Level>,
    },
    /// `/ultragroup/notdisturb/get.json`.
    GetUltraGroupDefault {
        /// The ultra group.
        group_id: TargetId,
        /// The subchannel, for a subchannel default.
        bus_channel: Option<BusChannel>,
    },
    /// `/conversation/notification/set.json` with `until`: a temporary level.
    SetConversationLevelUntil {
        /// The user (`requestId`).
        user_id: UserId,
        /// The conversation, or an ultra group's subchannel.
        conversation: ConversationKey,
        /// The level until `until`; `None` (0) is "not set".
        level: Option<Level>,
        /// When the permanent level applies again (ms since the epoch in JSON).
        #[serde(with = "chrono::serde::ts_milliseconds")]
        until: DateTime<Utc>,
    },
    /// `/conversation/type/notification/set.json` with `until`.
    SetTypeLevelUntil {
        /// The user (`requestId`).
        user_id: UserId,
        /// The conversation type.
        conversation_type: ConversationType,
        /// The level until `until`; `None` (0) is "not set".
        level: Option<Level>,
        /// When the permanent level applies again.
        #[serde(with = "chrono::serde::ts_milliseconds")]
        until: DateTime<Utc>,
    },
    /// `/ultragroup/notdisturb/set.json` with `until`.
    SetUltraGroupDefaultUntil {
        /// The ultra group.
        group_id: TargetId,
        /// The subchannel, for a subchannel default.
        bus_channel: Option<BusChannel>,
        /// The level until `until`; `None` (0) is "not set".
        level: Option<Level>,
        /// When the permanent level applies again.
        #[serde(with = "chrono::serde::ts_milliseconds")]
        until: DateTime<Utc>,
    },
    /// `/user/snooze/set.json`.
    SetSnooze {
        /// The user.
        user_id: UserId,
        /// The snooze, replacing any other.
        snooze: crate::Snooze,
    },
    /// `/user/snooze/get.json`.
    GetSnooze {
        /// The user.
        user_id: UserId,
    },
    /// `/user/snooze/delete.json`.
    DeleteSnooze {
        /// The user.
        user_id: UserId,
    },
    /// `/user/blockPushSchedule/set.json`.
    SetSchedule {
        /// The user.
        user_id: UserId,
        /// The schedule, replacing any other and the period.
        schedule: crate::WeeklySchedule,
    },
    /// `/user/blockPushSchedule/get.json`.
    GetSchedule {
        /// The user.
        user_id: UserId,
    },
    /// `/user/blockPushSchedule/delete.json`.
    DeleteSchedule {
        /// The user.
        user_id: UserId,
    },
    /// `/user/vip/set.json`.
    SetVip {
        /// The user.
        user_id: UserId,
        /// The list, replacing any other; an empty list removes it.
        vip: crate::VipList,
    },
    /// `/user/vip/get.json`.
    GetVip {
        /// The user.
        user_id: UserId,
    },
    /// `/user/urgent/set.json`.
    SetUrgent {
        /// The user.
        user_id: UserId,
        /// Whether urgent messages push through the user's settings.
        allow: bool,
    },
    /// `/user/urgent/get.json`.
    GetUrgent {
        /// The user.
        user_id: UserId,
    },
}

/// The paths the settings API serves, in the order of RULES §6.
pub const PATHS: [&str; 9] = [
    "/user/blockPushPeriod/set.json",
    "/user/blockPushPeriod/get.json",
    "/user/blockPushPeriod/delete.json",
    "/conversation/notification/set.json",
    "/conversation/notification/get.json",
    "/conversation/type/notification/set.json",
    "/conversation/type/notification/get.json",
    "/ultragroup/notdisturb/set.json",
    "/ultragroup/notdisturb/get.json",
];

impl Request {
    /// Decodes and validates the request `body` sent to `path`.
    ///
    /// Unknown parameters are ignored (a real request also carries its
    /// signature headers' companions); every known one is checked as RULES §6
    /// says. An unknown path is [`Error::UnknownPath`].
    pub fn parse(path: &str, body: &[u8]) -> Result<Request, Error> {
        let form = Form::decode(body);
        match extensions::parse(path, &form)? {
            Some(request) => Ok(request),
            None => Request::parse_form(path, &form),
        }
    }

    /// The platform's nine requests, from a decoded form.
    fn parse_form(path: &str, form: &Form<'_>) -> Result<Request, Error> {
        match path {
            "/user/blockPushPeriod/set.json" => {
                let user_id = form.user_id("userId")?;
                let start = form.parse("startTime", str::parse::<TimeOfDay>)?;
                let minutes = form.number("period")?;
                if !(0..=i64::from(DndWindow::WHOLE_DAY_MINUTES)).contains(&minutes) {
                    return Err(Error::PeriodMinutes(minutes, "0 to 1439").in_parameter("period"));
                }
                let level = PeriodLevel::from_code(form.number("level")?).map_err(|e| e.in_parameter("level"))?;
                let zone = form
                    .optional("timezone")?
                    .map(parse_zone)
                    .transpose()
                    .map_err(|e| e.in_parameter("timezone"))?;
                Ok(match minutes {
                    0 => Request::DeletePeriod { user_id },
                    _ => Request::SetPeriod {
                        user_id,
                        period: DndPeriod {
                            window: DndWindow::new(start, minutes).map_err(|e| e.in_parameter("period"))?,
                            level,
                            zone,
                        },
                    },
                })
            }
            "/user/blockPushPeriod/get.json" => Ok(Request::GetPeriod {
                user_id: form.user_id("userId")?,
            }),
            "/user/blockPushPeriod/delete.json" => Ok(Request::DeletePeriod {
                user_id: form.user_id("userId")?,
            }),
            "/conversation/notification/set.json" => {
                let (user_id, conversation) = form.conversation()?;
                let level = match (form.optional_number("unpushLevel")?, form.optional_number("isMuted")?) {
                    (Some(level), muted) => {
                        if let Some(muted) = muted {
                            is_muted(muted)?;
                        }
                        Level::from_code(level).map_err(|e| e.in_parameter("unpushLevel"))?
                    }
                    (None, Some(muted)) => is_muted(muted)?,
                    (None, None) => return Err(Error::MissingParameter("unpushLevel")),
                };
                Ok(Request::SetConversationLevel {
                    user_id,
                    conversation,
                    level,
                })
            }
            "/conversation/notification/get.json" => {
                let (user_id, conversation) = form.conversation()?;
                Ok(Request::GetConversationLevel { user_id, conversation })
            }
            "/conversation/type/notification/set.json" => Ok(Request::SetTypeLevel {
                conversation_type: form.conversation_type()?,
                user_id: form.user_id("requestId")?,
                level: form.level("unpushLevel")?,
            }),
            "/conversation/type/notification/get.json" => Ok(Request::GetTypeLevel {
                conversation_type: form.conversation_type()?,
                user_id: form.user_id("requestId")?,
            }),
            "/ultragroup/notdisturb/set.json" => Ok(Request::SetUltraGroupDefault {
                group_id: form.target_id("groupId")?,
                bus_channel: form.bus_channel()?,
                level: form.level("unpushLevel")?,
            }),
            "/ultragroup/notdisturb/get.json" => Ok(Request::GetUltraGroupDefault {
                group_id: form.target_id("groupId")?,
                bus_channel: form.bus_channel()?,
            }),
            _ => Err(Error::UnknownPath(path.to_owned())),
        }
    }

    /// Whether the request changes settings (a set or a delete) rather than
    /// reading them.
    pub fn is_change(&self) -> bool {
        !matches!(
            self,
            Request::GetPeriod { .. }
                | Request::GetConversationLevel { .. }
                | Request::GetTypeLevel { .. }
                | Request::GetUltraGroupDefault { .. }
                | Request::GetSnooze { .. }
                | Request::GetSchedule { .. }
                | Request::GetVip { .. }
                | Request::GetUrgent { .. }
        )
    }
}

/// The deprecated `isMuted`: 1 means level 5, 0 means not set.
fn is_muted(code: i64) -> Result<Option<Level>, Error> {
    match code {
        0 => Ok(None),
        1 => Ok(Some(Level::Nothing)),
        _ => Err(Error::Level(code).in_parameter("isMuted")),
    }
}

/// A decoded form body.
struct Form<'b> {
    pairs: Vec<(Cow<'b, str>, Cow<'b, str>)>,
}

impl<'b> Form<'b> {
    fn decode(body: &'b [u8]) -> Form<'b> {
        Form {
            pairs: form_urlencoded::parse(body).collect(),
        }
    }

    /// The value of `name`, if it is given: once, or repeated with one value;
    /// never empty, always valid UTF-8.
    fn optional(&self, name: &'static str) -> Result<Option<&str>, Error> {
        let mut found: Option<&str> = None;
        for (key, value) in &self.pairs {
            if key != name {
                continue;
            }
            match found {
                Some(first) if first != value => return Err(Error::RepeatedParameter(name)),
                _ => found = Some(value),
            }
        }
        match found {
            Some("") => Err(Error::EmptyParameter(name)),
            // The decoder replaces bytes that are not UTF-8 with U+FFFD.
            Some(v) if v.contains('\u{FFFD}') => Err(Error::NotUtf8(name)),
            other => Ok(other),
        }
    }

    fn required(&self, name: &'static str) -> Result<&str, Error> {
        self.optional(name)?.ok_or(Error::MissingParameter(name))
    }

    fn parse<T>(&self, name: &'static str, parse: impl FnOnce(&str) -> Result<T, Error>) -> Result<T, Error> {
        parse(self.required(name)?).map_err(|e| e.in_parameter(name))
    }

    fn optional_number(&self, name: &'static str) -> Result<Option<i64>, Error> {
        self.optional(name)?
            .map(|v| {
                v.parse::<i64>().map_err(|_| Error::NotANumber {
                    name,
                    value: v.to_owned(),
                })
            })
            .transpose()
    }

    fn number(&self, name: &'static str) -> Result<i64, Error> {
        self.optional_number(name)?.ok_or(Error::MissingParameter(name))
    }

    fn level(&self, name: &'static str) -> Result<Option<Level>, Error> {
        Level::from_code(self.number(name)?).map_err(|e| e.in_parameter(name))
    }

    fn user_id(&self, name: &'static str) -> Result<UserId, Error> {
        self.parse(name, UserId::new)
    }

    fn target_id(&self, name: &'static str) -> Result<TargetId, Error> {
        self.parse(name, TargetId::new)
    }

    fn conversation_type(&self) -> Result<ConversationType, Error> {
        ConversationType::from_code(self.number("conversationType")?).map_err(|e| e.in_parameter("conversationType"))
    }

    fn bus_channel(&self) -> Result<Option<BusChannel>, Error> {
        self.optional("busChannel")?
            .map(BusChannel::new)
            .transpose()
            .map_err(|e| e.in_parameter("busChannel"))
    }

    /// `conversationType`, `requestId`, `targetId` and `busChannel`.
    fn conversation(&self) -> Result<(UserId, ConversationKey), Error> {
        let conversation_type = self.conversation_type()?;
        let user_id = self.user_id("requestId")?;
        let target_id = self.target_id("targetId")?;
        let bus_channel = self.bus_channel()?;
        let key = ConversationKey::new(conversation_type, target_id, bus_channel)
            .map_err(|e| e.in_parameter("busChannel"))?;
        Ok((user_id, key))
    }
}

/// The platform's answer to a request.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    Extension(extensions::Answer),
    /// A failure: 1002 for a bad request, 404 for an unknown path, 500 when the
    /// settings are full.
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

impl Settings {
    /// Answers a request to `path` with form `body`, exactly as the platform
    /// would: a rejected request changes nothing.
    pub fn handle(&mut self, path: &str, body: &[u8]) -> Response {
        match Request::parse(path, body) {
            Ok(request) => self.apply(&request),
            Err(e) => Response::from_error(&e),
        }
    }

    /// Carries out `request`: a change is applied whole, a get is answered.
    pub fn apply(&mut self, request: &Request) -> Response {
        if let Some(answer) = self.query(request) {
            return answer;
        }
        if let Some(result) = extensions::apply(self, request) {
            return result.map_or_else(|e| Response::from_error(&e), |()| Response::Ok);
        }
        let result = match request {
            Request::SetPeriod { user_id, period } => self.set_period(user_id, Some(*period)),
            Request::DeletePeriod { user_id } => self.set_period(user_id, None),
            Request::SetConversationLevel {
                user_id,
                conversation,
                level,
            } => self.set_conversation_level(user_id, conversation, *level),
            Request::SetTypeLevel {
                user_id,
                conversation_type,
                level,
            } => self.set_type_level(user_id, *conversation_type, *level),
            Request::SetUltraGroupDefault {
                group_id,
                bus_channel,
                level,
            } => {
                self.set_ultra_group_default(group_id, bus_channel.as_ref(), *level);
                Ok(())
            }
            _ => Ok(()),
        };
        match result {
            Ok(()) => Response::Ok,
            Err(e) => Response::from_error(&e),
        }
    }

    /// Answers `request` if it is a get; `None` if it is a change.
    pub fn query(&self, request: &Request) -> Option<Response> {
        if let Some(answer) = extensions::query(self, request) {
            return Some(answer);
        }
        Some(match request {
            Request::GetPeriod { user_id } => Response::Period(self.period(user_id.as_str())),
            Request::GetConversationLevel { user_id, conversation } => {
                Response::Level(self.conversation_level(user_id.as_str(), conversation))
            }
            Request::GetTypeLevel {
                user_id,
                conversation_type,
            } => Response::Level(self.type_level(user_id.as_str(), *conversation_type)),
            Request::GetUltraGroupDefault { group_id, bus_channel } => Response::UltraGroupDefault {
                group_id: group_id.clone(),
                bus_channel: bus_channel.clone(),
                level: self.ultra_group_default(group_id.as_str(), bus_channel.as_ref().map(BusChannel::as_str)),
            },
            _ => return None,
        })
    }
}

//! The platform's DND server API (RULES §6): a request is a path and an
//! `application/x-www-form-urlencoded` body; the answer is the platform's
//! response object.
//!
//! Data flows one way: [`Request::parse`] decodes and validates a form into a
//! typed [`Request`] without touching any state; [`Settings::apply`] then
//! carries it out, and nothing it does can fail half way. So a rejected
//! request changes nothing, by construction. A [`Request`] is serde data: it
//! can travel on a queue or a log and be applied elsewhere, and its JSON form
//! accepts exactly what the form bodies accept, with the same messages.
//!
//! ```
//! use dnd_engine::{chrono_tz, Config, Settings};
//! let mut settings = Settings::new(Config::new(chrono_tz::Asia::Shanghai));
//! let ok = settings.handle("/user/blockPushPeriod/set.json", b"userId=u1&startTime=22:00:00&period=540&level=5");
//! assert_eq!(ok.to_json(), r#"{"code":200}"#);
//! let bad = settings.handle("/user/blockPushPeriod/set.json", b"userId=u1&startTime=24:00:00&period=540&level=5");
//! assert_eq!(bad.code(), 1002);
//! ```

use serde::{Serialize, Serializer};

use crate::error::Error;
use crate::model::{BusChannel, ConversationKey, ConversationType, DndPeriod, DndWindow, Level, TargetId, UserId};
use crate::store::Settings;

pub mod extensions;
pub(crate) mod form;
mod json;
pub mod member_requests;
mod params;
mod policy_requests;
pub mod repeat_requests;
mod response;

use chrono::{DateTime, Utc};
use form::Form;
pub use response::Response;

/// One request of the settings API, decoded and validated.
///
/// As JSON, a request is an object whose `request` names its kind, with its
/// fields in camelCase: `{"request":"setTypeLevel","userId":"u",
/// "conversationType":3,"level":5}`. A level is its integer code, 0 for "not
/// set" (which removes the setting); a field is never `null`; an absent
/// `busChannel` means none. Every field is checked as the form's parameter
/// is, with the same message naming the JSON field; a missing field, an
/// unknown one (also inside `conversation`, `period` and `snooze`), one given
/// twice or of the wrong JSON type is an error. An `until` is milliseconds
/// since the epoch, or RFC 3339 text, as in the form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "request", rename_all = "camelCase", rename_all_fields = "camelCase")]
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
        #[serde(serialize_with = "level_code")]
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
        #[serde(serialize_with = "level_code")]
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
        #[serde(skip_serializing_if = "Option::is_none")]
        bus_channel: Option<BusChannel>,
        /// The level; `None` (0) removes the default.
        #[serde(serialize_with = "level_code")]
        level: Option<Level>,
    },
    /// `/ultragroup/notdisturb/get.json`.
    GetUltraGroupDefault {
        /// The ultra group.
        group_id: TargetId,
        /// The subchannel, for a subchannel default.
        #[serde(skip_serializing_if = "Option::is_none")]
        bus_channel: Option<BusChannel>,
    },
    /// `/conversation/notification/set.json` with `until`: a temporary level.
    SetConversationLevelUntil {
        /// The user (`requestId`).
        user_id: UserId,
        /// The conversation, or an ultra group's subchannel.
        conversation: ConversationKey,
        /// The level until `until`; `None` (0) is "not set".
        #[serde(serialize_with = "level_code")]
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
        #[serde(serialize_with = "level_code")]
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
        #[serde(skip_serializing_if = "Option::is_none")]
        bus_channel: Option<BusChannel>,
        /// The level until `until`; `None` (0) is "not set".
        #[serde(serialize_with = "level_code")]
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
        snooze: crate::model::expiring::Snooze,
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
        schedule: crate::model::schedule::WeeklySchedule,
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
        vip: crate::model::policy::VipList,
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
    /// `/user/keywords/set.json`.
    SetKeywords {
        /// The user.
        user_id: UserId,
        /// The keywords, replacing any others; an empty list clears them.
        keywords: crate::model::keyword::Keywords,
    },
    /// `/user/keywords/get.json`.
    GetKeywords {
        /// The user.
        user_id: UserId,
    },
    /// `/user/mutedSenders/set.json`.
    SetMutedSenders {
        /// The user.
        user_id: UserId,
        /// The senders and the mute's end, replacing any others; an empty
        /// list clears them.
        muted_senders: crate::model::muted::MutedSenders,
    },
    /// `/user/mutedSenders/get.json`.
    GetMutedSenders {
        /// The user.
        user_id: UserId,
    },
    /// `/usergroup/set.json`.
    SetUserGroup {
        /// The user group.
        group_id: TargetId,
        /// Its members, replacing any others; an empty list deletes it.
        member_ids: Vec<UserId>,
    },
    /// `/usergroup/get.json`.
    GetUserGroup {
        /// The user group.
        group_id: TargetId,
    },
    /// `/usergroup/delete.json`.
    DeleteUserGroup {
        /// The user group.
        group_id: TargetId,
    },
    /// `/user/repeat/set.json`.
    SetRepeat {
        /// The user.
        user_id: UserId,
        /// Whether repeated senders pass over the quiet time, and the window.
        repeat: crate::hold::Repeat,
    },
    /// `/user/repeat/get.json`.
    GetRepeat {
        /// The user.
        user_id: UserId,
    },
    /// `/ultragroup/join.json`: the user becomes a member of the ultra group.
    UltraGroupJoin {
        /// The ultra group.
        group_id: TargetId,
        /// The user who joins.
        user_id: UserId,
    },
    /// `/ultragroup/quit.json`: the user is no longer a member.
    UltraGroupQuit {
        /// The ultra group.
        group_id: TargetId,
        /// The user who quits.
        user_id: UserId,
    },
    /// `/ultragroup/member/exist.json`: whether the user is a member.
    UltraGroupMemberExist {
        /// The ultra group.
        group_id: TargetId,
        /// The user asked about.
        user_id: UserId,
    },
    /// `/group/join.json` (its `groupName` is checked, not kept).
    GroupJoin {
        /// The group.
        group_id: TargetId,
        /// The users who join (`userId`, repeated; `userIds` in JSON), 1 to 1,000.
        user_ids: Vec<UserId>,
    },
    /// `/group/quit.json`.
    GroupQuit {
        /// The group.
        group_id: TargetId,
        /// The users who quit (`userId`, repeated; `userIds` in JSON), 1 to 1,000.
        user_ids: Vec<UserId>,
    },
    /// `/group/user/query.json`: the group's members.
    GroupUserQuery {
        /// The group.
        group_id: TargetId,
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

/// A level as its code: 0 for "not set".
fn level_code<S: Serializer>(level: &Option<Level>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_i64(Level::code_of(*level))
}

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
                let start = params::start_time("startTime", form.required("startTime")?)?;
                let minutes = form.number("period")?;
                if !(0..=i64::from(DndWindow::WHOLE_DAY_MINUTES)).contains(&minutes) {
                    return Err(Error::PeriodMinutes(minutes, "0 to 1439").in_parameter("period"));
                }
                let level = params::period_level("level", form.number("level")?)?;
                let zone = form
                    .optional("timezone")?
                    .map(|z| params::zone("timezone", z))
                    .transpose()?;
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
                            params::is_muted("isMuted", muted)?;
                        }
                        params::level("unpushLevel", level)?
                    }
                    (None, Some(muted)) => params::is_muted("isMuted", muted)?,
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
            _ => Err(Error::UnknownPath(path.into())),
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
                | Request::GetKeywords { .. }
                | Request::GetMutedSenders { .. }
                | Request::GetUserGroup { .. }
                | Request::GetRepeat { .. }
                | Request::UltraGroupMemberExist { .. }
                | Request::GroupUserQuery { .. }
        )
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

//! The extension requests: `until` on the three set paths, the snooze and
//! the weekly schedule. Same form bodies, validation (1002 naming the
//! parameter, nothing changed on error) and response style as the
//! platform's nine.
//!
//! | path | parameters |
//! |---|---|
//! | the three set paths | as the platform's, plus optional `until` |
//! | `/user/snooze/set.json` | `userId`, `until`, optional `level` (1, 2, 4 or 5; default 5) |
//! | `/user/snooze/get.json`, `delete.json` | `userId` |
//! | `/user/blockPushSchedule/set.json` | `userId`, `windows` (a JSON array), optional `timezone` |
//! | `/user/blockPushSchedule/get.json`, `delete.json` | `userId` |
//! | `/user/vip/set.json` | `userId`, `vipUserIds` (a JSON array of 0 to 100 user ids), optional `scope` (`quiet` or `all`) |
//! | `/user/vip/get.json` | `userId` |
//! | `/user/urgent/set.json` | `userId`, optional `allow` (0 or 1; default 0) |
//! | `/user/urgent/get.json` | `userId` |

use chrono::{DateTime, Utc};
use serde::ser::SerializeMap;
use serde_json::json;

use super::{Form, Request, Response};
use crate::error::Error;
use crate::model::expiring::{Snooze, Temporary};
use crate::model::schedule::{QuietLevel, WeeklySchedule};
use crate::model::{instant_from_millis, parse_instant, parse_zone, BusChannel, Level, TargetId, Timestamp};
use crate::store::Settings;

/// The paths the extension requests add.
pub const PATHS: [&str; 19] = [
    "/user/snooze/set.json",
    "/user/snooze/get.json",
    "/user/snooze/delete.json",
    "/user/blockPushSchedule/set.json",
    "/user/blockPushSchedule/get.json",
    "/user/blockPushSchedule/delete.json",
    "/user/vip/set.json",
    "/user/vip/get.json",
    "/user/urgent/set.json",
    "/user/urgent/get.json",
    "/user/keywords/set.json",
    "/user/keywords/get.json",
    "/user/mutedSenders/set.json",
    "/user/mutedSenders/get.json",
    "/usergroup/set.json",
    "/usergroup/get.json",
    "/usergroup/delete.json",
    "/user/repeat/set.json",
    "/user/repeat/get.json",
];

/// Parses an `until`: ms since the epoch or RFC 3339 with an offset. A `+`
/// that arrived as a space (not percent-encoded in the form) is named.
pub fn parse_until(value: &str) -> Result<DateTime<Utc>, Error> {
    // As epoch milliseconds, as it is saved and sent as JSON: a finer
    // `until`, or a leap second (:60), would come back from a snapshot or a
    // JSON request as another instant.
    parse_instant(value)
        .and_then(|t| instant_from_millis(t.timestamp_millis()))
        .map(Timestamp::as_datetime)
        .map_err(|e| {
            if value.contains(' ') && parse_instant(&value.replace(' ', "+")).is_ok() {
                Error::Invalid(format!(
                    "{value:?}: the '+' of the offset arrived as a space; percent-encode it as %2B in a form body"
                ))
            } else {
                e
            }
        })
}

impl Form<'_> {
    fn until(&self) -> Result<Option<DateTime<Utc>>, Error> {
        self.optional("until")?
            .map(parse_until)
            .transpose()
            .map_err(|e| e.in_parameter("until"))
    }
}

/// The extension request at `path`, or `None` for the platform's own
/// requests without `until`.
pub(super) fn parse(path: &str, form: &Form<'_>) -> Result<Option<Request>, Error> {
    let request = match path {
        "/conversation/notification/set.json"
        | "/conversation/type/notification/set.json"
        | "/ultragroup/notdisturb/set.json" => {
            let Some(until) = form.until()? else {
                return Ok(None);
            };
            match Request::parse_form(path, form)? {
                Request::SetConversationLevel {
                    user_id,
                    conversation,
                    level,
                } => Request::SetConversationLevelUntil {
                    user_id,
                    conversation,
                    level,
                    until,
                },
                Request::SetTypeLevel {
                    user_id,
                    conversation_type,
                    level,
                } => Request::SetTypeLevelUntil {
                    user_id,
                    conversation_type,
                    level,
                    until,
                },
                Request::SetUltraGroupDefault {
                    group_id,
                    bus_channel,
                    level,
                } => Request::SetUltraGroupDefaultUntil {
                    group_id,
                    bus_channel,
                    level,
                    until,
                },
                other => other,
            }
        }
        "/user/snooze/set.json" => {
            let user_id = form.user_id("userId")?;
            let until = form.until()?.ok_or(Error::MissingParameter("until"))?;
            let level = match form.optional_number("level")? {
                Some(code) => QuietLevel::from_code(code).map_err(|e| e.in_parameter("level"))?,
                None => QuietLevel::Nothing,
            };
            Request::SetSnooze {
                user_id,
                snooze: Snooze { until, level },
            }
        }
        "/user/snooze/get.json" => Request::GetSnooze {
            user_id: form.user_id("userId")?,
        },
        "/user/snooze/delete.json" => Request::DeleteSnooze {
            user_id: form.user_id("userId")?,
        },
        "/user/blockPushSchedule/set.json" => {
            let user_id = form.user_id("userId")?;
            let windows = form.parse("windows", WeeklySchedule::parse_windows)?;
            let zone = form
                .optional("timezone")?
                .map(parse_zone)
                .transpose()
                .map_err(|e| e.in_parameter("timezone"))?;
            let schedule = WeeklySchedule::new(windows, zone).map_err(|e| e.in_parameter("windows"))?;
            Request::SetSchedule { user_id, schedule }
        }
        "/user/blockPushSchedule/get.json" => Request::GetSchedule {
            user_id: form.user_id("userId")?,
        },
        "/user/blockPushSchedule/delete.json" => Request::DeleteSchedule {
            user_id: form.user_id("userId")?,
        },
        _ => return super::policy_requests::parse(path, form),
    };
    Ok(Some(request))
}

/// Carries out an extension change; `None` for any other request.
pub(super) fn apply(settings: &mut Settings, request: &Request) -> Option<Result<(), Error>> {
    Some(match request {
        Request::SetConversationLevelUntil {
            user_id,
            conversation,
            level,
            until,
        } => settings.set_conversation_level_until(user_id, conversation, *level, *until),
        Request::SetTypeLevelUntil {
            user_id,
            conversation_type,
            level,
            until,
        } => settings.set_type_level_until(user_id, *conversation_type, *level, *until),
        Request::SetUltraGroupDefaultUntil {
            group_id,
            bus_channel,
            level,
            until,
        } => {
            settings.set_ultra_group_default_until(group_id, bus_channel.as_ref(), *level, *until);
            Ok(())
        }
        Request::SetSnooze { user_id, snooze } => settings.set_snooze(user_id, Some(*snooze)),
        Request::DeleteSnooze { user_id } => settings.set_snooze(user_id, None),
        Request::SetSchedule { user_id, schedule } => settings.set_schedule(user_id, Some(schedule.clone())),
        Request::DeleteSchedule { user_id } => settings.set_schedule(user_id, None),
        _ => return super::policy_requests::apply(settings, request),
    })
}

/// Answers a get whose answer carries something only the extensions store;
/// `None` when the platform's answer stands.
pub(super) fn query(settings: &Settings, request: &Request) -> Option<Response> {
    let timed = |e: crate::model::expiring::Expiring| {
        e.temporary.map(|temporary| {
            Response::Extension(Answer::TimedLevel {
                temporary,
                then: e.permanent,
            })
        })
    };
    match request {
        Request::GetConversationLevel { user_id, conversation } => {
            timed(settings.conversation_setting(user_id.as_str(), conversation))
        }
        Request::GetTypeLevel {
            user_id,
            conversation_type,
        } => timed(settings.type_setting(user_id.as_str(), *conversation_type)),
        Request::GetUltraGroupDefault { group_id, bus_channel } => {
            let e = settings.ultra_group_setting(group_id.as_str(), bus_channel.as_ref().map(BusChannel::as_str));
            e.temporary.map(|temporary| {
                Response::Extension(Answer::TimedUltraGroupDefault {
                    group_id: group_id.clone(),
                    bus_channel: bus_channel.clone(),
                    temporary,
                    then: e.permanent,
                })
            })
        }
        Request::GetSnooze { user_id } => Some(Response::Extension(Answer::Snooze(settings.snooze(user_id.as_str())))),
        Request::GetSchedule { user_id } => Some(Response::Extension(Answer::Schedule(
            settings.schedule(user_id.as_str()).cloned(),
        ))),
        _ => super::policy_requests::query(settings, request),
    }
}

/// The snooze get's `data`, its fields in the documented order.
#[derive(serde::Serialize)]
struct SnoozeData {
    until: i64,
    level: i64,
}

/// The answers only the extension requests give.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Answer {
    /// A conversation or type get while a temporary level is stored:
    /// `{"code":200,"isMuted":L,"until":MS,"thenIsMuted":P}`.
    TimedLevel {
        /// The temporary level and its end.
        temporary: Temporary,
        /// The permanent level underneath.
        then: Option<Level>,
    },
    /// The ultra-group get while a temporary default is stored:
    /// `{"code":200,"groupId","busChannel","unpushLevel":L,"until":MS,"thenUnpushLevel":P}`.
    TimedUltraGroupDefault {
        /// The ultra group.
        group_id: TargetId,
        /// The subchannel asked about.
        bus_channel: Option<BusChannel>,
        /// The temporary default and its end.
        temporary: Temporary,
        /// The permanent default underneath.
        then: Option<Level>,
    },
    /// `{"code":200,"data":{"until":MS,"level":L}}`; `until` and `level` 0 when none.
    Snooze(Option<Snooze>),
    /// `{"code":200,"data":{"windows":[...],"timezone":ZONE}}`; `windows`
    /// empty when none, `timezone` only when one was given.
    Schedule(Option<WeeklySchedule>),
    /// `{"code":200,"data":{"vipUserIds":[...],"scope":"quiet"}}`; an empty
    /// list with scope `quiet` when none.
    Vip(Option<crate::model::policy::VipList>),
    /// `{"code":200,"data":{"allow":0 or 1}}`.
    Urgent(bool),
    /// `{"code":200,"data":{"keywords":[...]}}`, in NFC, in the order set.
    Keywords(crate::model::keyword::Keywords),
    /// `{"code":200,"data":{"senderIds":[...],"until":MS}}`, `until` only
    /// when the mute ends.
    MutedSenders(crate::model::muted::MutedSenders),
    /// `{"code":200,"groupId":G,"memberIds":[...]}`, at the top level as the
    /// ultra-group get answers; `[]` when there is no such group.
    UserGroup {
        /// The group asked about.
        group_id: TargetId,
        /// Its members, in the order set.
        member_ids: Vec<crate::model::UserId>,
    },
    /// `{"code":200,"data":{"allow":0 or 1,"windowMinutes":N}}`.
    Repeat(crate::hold::Repeat),
    /// `/ultragroup/member/exist.json`: `{"code":200,"status":true}`.
    MemberExists(bool),
    /// `/group/user/query.json`: `{"code":200,"users":[{"id":"u1"},...]}`,
    /// in member order.
    GroupUsers(Vec<crate::model::UserId>),
}

impl Answer {
    /// Writes the answer's fields after `code`.
    pub(super) fn write<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        match self {
            Answer::TimedLevel { temporary, then } => {
                map.serialize_entry("isMuted", &Level::code_of(temporary.level))?;
                map.serialize_entry("until", &temporary.until.timestamp_millis())?;
                map.serialize_entry("thenIsMuted", &Level::code_of(*then))
            }
            Answer::TimedUltraGroupDefault {
                group_id,
                bus_channel,
                temporary,
                then,
            } => {
                map.serialize_entry("groupId", group_id.as_str())?;
                map.serialize_entry("busChannel", bus_channel.as_ref().map_or("", BusChannel::as_str))?;
                map.serialize_entry("unpushLevel", &Level::code_of(temporary.level))?;
                map.serialize_entry("until", &temporary.until.timestamp_millis())?;
                map.serialize_entry("thenUnpushLevel", &Level::code_of(*then))
            }
            Answer::Snooze(snooze) => map.serialize_entry(
                "data",
                &match snooze {
                    Some(s) => SnoozeData {
                        until: s.until.timestamp_millis(),
                        level: s.level.level().code(),
                    },
                    None => SnoozeData { until: 0, level: 0 },
                },
            ),
            Answer::Schedule(Some(schedule)) => map.serialize_entry("data", schedule),
            Answer::Schedule(None) => map.serialize_entry("data", &json!({ "windows": [] })),
            Answer::Vip(list) => map.serialize_entry("data", &super::policy_requests::VipData::of(list.as_ref())),
            Answer::Urgent(allow) => map.serialize_entry("data", &json!({ "allow": u8::from(*allow) })),
            Answer::Keywords(keywords) => map.serialize_entry("data", &json!({ "keywords": keywords })),
            Answer::MutedSenders(muted) => map.serialize_entry("data", muted),
            Answer::UserGroup { group_id, member_ids } => {
                map.serialize_entry("groupId", group_id.as_str())?;
                map.serialize_entry("memberIds", member_ids)
            }
            Answer::Repeat(r) => map.serialize_entry(
                "data",
                &json!({ "allow": u8::from(r.allow), "windowMinutes": r.window_minutes }),
            ),
            Answer::MemberExists(status) => map.serialize_entry("status", status),
            Answer::GroupUsers(ids) => map.serialize_entry(
                "users",
                &ids.iter().map(|id| json!({ "id": id.as_str() })).collect::<Vec<_>>(),
            ),
        }
    }
}

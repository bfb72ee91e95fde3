//! The top level of a request's JSON: every field any kind of request has
//! ([`RequestFields`]), the kinds of request with the fields each may have
//! ([`KINDS`]), and the checks that make a [`Request`] of them, in the order
//! the form's parameters are checked in.

use serde::de::{self, MapAccess};

use super::nested::{ConversationFields, PeriodFields, SnoozeFields};
use super::reader::{once, raw, required, Object, ObjectVisitor, Raw};
use super::{optional_bus_channel, until};
use crate::error::excerpt::Excerpt;
use crate::error::Error;
use crate::model::id_list::{parse_ids, MAX_GROUP_MEMBERS};
use crate::model::keyword::Keywords;
use crate::model::muted::MutedSenders;
use crate::model::policy::VipList;
use crate::model::schedule::WeeklySchedule;
use crate::protocol::request::member_requests::user_ids;
use crate::protocol::request::{params, Request};

/// Every field any kind of request has, at the top level.
#[derive(Default)]
pub(super) struct RequestFields {
    request: Option<Raw>,
    user_id: Option<Raw>,
    conversation: Option<ConversationFields>,
    conversation_type: Option<Raw>,
    level: Option<Raw>,
    group_id: Option<Raw>,
    bus_channel: Option<Raw>,
    period: Option<PeriodFields>,
    until: Option<Raw>,
    snooze: Option<SnoozeFields>,
    schedule: Option<WeeklySchedule>,
    vip: Option<VipList>,
    allow: Option<Raw>,
    keywords: Option<Keywords>,
    muted_senders: Option<MutedSenders>,
    member_ids: Option<Vec<crate::model::UserId>>,
    user_ids: Option<Vec<crate::model::UserId>>,
    repeat: Option<crate::hold::Repeat>,
    unknown: Option<Excerpt>,
}

impl Object for RequestFields {
    const FIELDS: &'static [&'static str] = &[
        "request",
        "userId",
        "conversation",
        "conversationType",
        "level",
        "groupId",
        "busChannel",
        "period",
        "until",
        "snooze",
        "schedule",
        "vip",
        "allow",
        "keywords",
        "mutedSenders",
        "memberIds",
        "repeat",
        "userIds",
    ];

    fn read<'de, A: MapAccess<'de>>(&mut self, name: &'static str, map: &mut A) -> Result<(), A::Error> {
        match name {
            "request" => raw(&mut self.request, name, map),
            "userId" => raw(&mut self.user_id, name, map),
            "conversationType" => raw(&mut self.conversation_type, name, map),
            "level" => raw(&mut self.level, name, map),
            "groupId" => raw(&mut self.group_id, name, map),
            "busChannel" => raw(&mut self.bus_channel, name, map),
            "until" => raw(&mut self.until, name, map),
            "allow" => raw(&mut self.allow, name, map),
            // A VIP list is checked by its own type, as the form's `vipUserIds` and `scope` are.
            "vip" => {
                let value = map
                    .next_value::<VipList>()
                    .map_err(|e| de::Error::custom(format_args!("vip: {}", crate::error::excerpt::bounded(e))))?;
                once(&mut self.vip, name, value)
            }
            // Keywords are checked by their own type, as the form's `keywords` is.
            "keywords" => {
                let value = map
                    .next_value::<Keywords>()
                    .map_err(|e| de::Error::custom(format_args!("keywords: {}", crate::error::excerpt::bounded(e))))?;
                once(&mut self.keywords, name, value)
            }
            // A mute is checked by its own type, as the snapshot's is.
            "mutedSenders" => {
                let value = map.next_value::<MutedSenders>().map_err(|e| {
                    de::Error::custom(format_args!("mutedSenders: {}", crate::error::excerpt::bounded(e)))
                })?;
                once(&mut self.muted_senders, name, value)
            }
            "memberIds" => {
                let value = map
                    .next_value::<Vec<serde_json::Value>>()
                    .map_err(|e| de::Error::custom(format_args!("memberIds: {}", crate::error::excerpt::bounded(e))))
                    .and_then(|items| {
                        let json = serde_json::Value::Array(items).to_string();
                        parse_ids("memberIds", &json, MAX_GROUP_MEMBERS).map_err(de::Error::custom)
                    })?;
                once(&mut self.member_ids, name, value)
            }
            "userIds" => {
                let value = map
                    .next_value::<Vec<serde_json::Value>>()
                    .map_err(|e| de::Error::custom(format_args!("userIds: {}", crate::error::excerpt::bounded(e))))
                    .and_then(|items| {
                        let ids: Vec<&str> = items
                            .iter()
                            .enumerate()
                            .map(|(i, item)| {
                                item.as_str().ok_or_else(|| {
                                    de::Error::custom(format_args!("userIds[{i}]: must be a user id (a string)"))
                                })
                            })
                            .collect::<Result<_, _>>()?;
                        user_ids("userIds", &ids).map_err(de::Error::custom)
                    })?;
                once(&mut self.user_ids, name, value)
            }
            // A repeated-sender setting is checked by its own type, as the form's parameters are.
            "repeat" => {
                let value = map
                    .next_value::<crate::hold::Repeat>()
                    .map_err(|e| de::Error::custom(format_args!("repeat: {}", crate::error::excerpt::bounded(e))))?;
                once(&mut self.repeat, name, value)
            }
            "conversation" => {
                let value = map.next_value_seed(ObjectVisitor::new("conversation"))?;
                once(&mut self.conversation, name, value)
            }
            "snooze" => {
                let value = map.next_value_seed(ObjectVisitor::new("snooze"))?;
                once(&mut self.snooze, name, value)
            }
            // A schedule is checked by its own type, as the form's `windows` is.
            "schedule" => {
                let value = map
                    .next_value::<WeeklySchedule>()
                    .map_err(|e| de::Error::custom(format_args!("schedule: {}", crate::error::excerpt::bounded(e))))?;
                once(&mut self.schedule, name, value)
            }
            _ => {
                let value = map.next_value_seed(ObjectVisitor::new("period"))?;
                once(&mut self.period, name, value)
            }
        }
    }

    fn unknown_slot(&mut self) -> &mut Option<Excerpt> {
        &mut self.unknown
    }
}

/// The kinds of request, by their names in `request`, with the fields each
/// has besides `request`.
const KINDS: [(&str, &[&str]); 37] = [
    ("setPeriod", &["userId", "period"]),
    ("deletePeriod", &["userId"]),
    ("getPeriod", &["userId"]),
    ("setConversationLevel", &["userId", "conversation", "level"]),
    ("getConversationLevel", &["userId", "conversation"]),
    ("setTypeLevel", &["userId", "conversationType", "level"]),
    ("getTypeLevel", &["userId", "conversationType"]),
    ("setUltraGroupDefault", &["groupId", "busChannel", "level"]),
    ("getUltraGroupDefault", &["groupId", "busChannel"]),
    (
        "setConversationLevelUntil",
        &["userId", "conversation", "level", "until"],
    ),
    ("setTypeLevelUntil", &["userId", "conversationType", "level", "until"]),
    (
        "setUltraGroupDefaultUntil",
        &["groupId", "busChannel", "level", "until"],
    ),
    ("setSnooze", &["userId", "snooze"]),
    ("getSnooze", &["userId"]),
    ("deleteSnooze", &["userId"]),
    ("setSchedule", &["userId", "schedule"]),
    ("getSchedule", &["userId"]),
    ("deleteSchedule", &["userId"]),
    ("setVip", &["userId", "vip"]),
    ("getVip", &["userId"]),
    ("setUrgent", &["userId", "allow"]),
    ("getUrgent", &["userId"]),
    ("setKeywords", &["userId", "keywords"]),
    ("getKeywords", &["userId"]),
    ("setMutedSenders", &["userId", "mutedSenders"]),
    ("getMutedSenders", &["userId"]),
    ("setUserGroup", &["groupId", "memberIds"]),
    ("getUserGroup", &["groupId"]),
    ("deleteUserGroup", &["groupId"]),
    ("setRepeat", &["userId", "repeat"]),
    ("getRepeat", &["userId"]),
    ("ultraGroupJoin", &["groupId", "userId"]),
    ("ultraGroupQuit", &["groupId", "userId"]),
    ("ultraGroupMemberExist", &["groupId", "userId"]),
    ("groupJoin", &["groupId", "userIds"]),
    ("groupQuit", &["groupId", "userIds"]),
    ("groupUserQuery", &["groupId"]),
];

impl RequestFields {
    /// The fields given, by name, besides `request`.
    fn given(&self) -> impl Iterator<Item = &'static str> + '_ {
        [
            ("userId", self.user_id.is_some()),
            ("conversation", self.conversation.is_some()),
            ("conversationType", self.conversation_type.is_some()),
            ("level", self.level.is_some()),
            ("groupId", self.group_id.is_some()),
            ("busChannel", self.bus_channel.is_some()),
            ("period", self.period.is_some()),
            ("until", self.until.is_some()),
            ("snooze", self.snooze.is_some()),
            ("schedule", self.schedule.is_some()),
            ("vip", self.vip.is_some()),
            ("allow", self.allow.is_some()),
            ("keywords", self.keywords.is_some()),
            ("mutedSenders", self.muted_senders.is_some()),
            ("memberIds", self.member_ids.is_some()),
            ("repeat", self.repeat.is_some()),
            ("userIds", self.user_ids.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
    }

    pub(super) fn into_request(mut self) -> Result<Request, Error> {
        let kind = required(self.request.take(), "request")?.text("request")?;
        let Some(&(kind, fields)) = KINDS.iter().find(|(name, _)| *name == kind) else {
            return Err(Error::UnknownRequest(Excerpt::new(&kind)));
        };
        if let Some(field) = self.unknown.clone() {
            return Err(Error::UnknownRequestField { request: kind, field });
        }
        if let Some(field) = self.given().find(|f| !fields.contains(f)) {
            return Err(Error::UnknownRequestField {
                request: kind,
                field: Excerpt::new(field),
            });
        }
        let RequestFields {
            user_id,
            conversation,
            conversation_type,
            level,
            group_id,
            bus_channel,
            period,
            until: until_field,
            snooze,
            schedule,
            vip,
            allow,
            keywords,
            muted_senders,
            member_ids,
            repeat,
            user_ids: member_user_ids,
            ..
        } = self;
        let user_id = |name| -> Result<_, Error> { params::user_id(name, &required(user_id, name)?.text(name)?) };
        let level = |name| -> Result<_, Error> { params::level(name, required(level, name)?.integer(name)?) };
        let conversation_type = |name| -> Result<_, Error> {
            params::conversation_type(name, required(conversation_type, name)?.integer(name)?)
        };
        let group = |bus_channel: Option<Raw>| -> Result<_, Error> {
            let group_id = params::target_id("groupId", &required(group_id, "groupId")?.text("groupId")?)?;
            Ok((group_id, optional_bus_channel(bus_channel, "busChannel")?))
        };
        Ok(match kind {
            "setPeriod" => {
                let user_id = user_id("userId")?;
                Request::SetPeriod {
                    user_id,
                    period: required(period, "period")?.into_period()?,
                }
            }
            "deletePeriod" => Request::DeletePeriod {
                user_id: user_id("userId")?,
            },
            "getPeriod" => Request::GetPeriod {
                user_id: user_id("userId")?,
            },
            "setConversationLevel" | "getConversationLevel" | "setConversationLevelUntil" => {
                let c = required(conversation, "conversation")?;
                if let Some(field) = c.unknown {
                    return Err(Error::UnknownRequestField {
                        request: "conversation",
                        field,
                    });
                }
                let t = "conversation.conversationType";
                let conversation_type = params::conversation_type(t, required(c.conversation_type, t)?.integer(t)?)?;
                let user_id = user_id("userId")?;
                let t = "conversation.targetId";
                let target_id = params::target_id(t, &required(c.target_id, t)?.text(t)?)?;
                let b = "conversation.busChannel";
                let bus_channel = optional_bus_channel(c.bus_channel, b)?;
                let conversation = params::conversation_key(conversation_type, target_id, bus_channel, b)?;
                match kind {
                    "setConversationLevel" => Request::SetConversationLevel {
                        user_id,
                        conversation,
                        level: level("level")?,
                    },
                    "setConversationLevelUntil" => Request::SetConversationLevelUntil {
                        user_id,
                        conversation,
                        level: level("level")?,
                        until: until(required(until_field, "until")?, "until")?,
                    },
                    _ => Request::GetConversationLevel { user_id, conversation },
                }
            }
            "setTypeLevel" => Request::SetTypeLevel {
                conversation_type: conversation_type("conversationType")?,
                user_id: user_id("userId")?,
                level: level("level")?,
            },
            "setTypeLevelUntil" => Request::SetTypeLevelUntil {
                conversation_type: conversation_type("conversationType")?,
                user_id: user_id("userId")?,
                level: level("level")?,
                until: until(required(until_field, "until")?, "until")?,
            },
            "getTypeLevel" => Request::GetTypeLevel {
                conversation_type: conversation_type("conversationType")?,
                user_id: user_id("userId")?,
            },
            "setUltraGroupDefault" => {
                let (group_id, bus_channel) = group(bus_channel)?;
                Request::SetUltraGroupDefault {
                    group_id,
                    bus_channel,
                    level: level("level")?,
                }
            }
            "setUltraGroupDefaultUntil" => {
                let (group_id, bus_channel) = group(bus_channel)?;
                Request::SetUltraGroupDefaultUntil {
                    group_id,
                    bus_channel,
                    level: level("level")?,
                    until: until(required(until_field, "until")?, "until")?,
                }
            }
            "getUltraGroupDefault" => {
                let (group_id, bus_channel) = group(bus_channel)?;
                Request::GetUltraGroupDefault { group_id, bus_channel }
            }
            "setSnooze" => {
                let user_id = user_id("userId")?;
                Request::SetSnooze {
                    user_id,
                    snooze: required(snooze, "snooze")?.into_snooze()?,
                }
            }
            "getSnooze" => Request::GetSnooze {
                user_id: user_id("userId")?,
            },
            "deleteSnooze" => Request::DeleteSnooze {
                user_id: user_id("userId")?,
            },
            "setSchedule" => {
                let user_id = user_id("userId")?;
                Request::SetSchedule {
                    user_id,
                    schedule: required(schedule, "schedule")?,
                }
            }
            "getSchedule" => Request::GetSchedule {
                user_id: user_id("userId")?,
            },
            "deleteSchedule" => Request::DeleteSchedule {
                user_id: user_id("userId")?,
            },
            "setVip" => {
                let user_id = user_id("userId")?;
                Request::SetVip {
                    user_id,
                    vip: required(vip, "vip")?,
                }
            }
            "getVip" => Request::GetVip {
                user_id: user_id("userId")?,
            },
            // As the form's `allow` may be left out (0), so may the JSON's (false).
            "setUrgent" => {
                let user_id = user_id("userId")?;
                Request::SetUrgent {
                    user_id,
                    allow: allow.map(|a| a.boolean("allow")).transpose()?.unwrap_or(false),
                }
            }
            "setRepeat" => {
                let user_id = user_id("userId")?;
                Request::SetRepeat {
                    user_id,
                    repeat: required(repeat, "repeat")?,
                }
            }
            "getRepeat" => Request::GetRepeat {
                user_id: user_id("userId")?,
            },
            "getUrgent" => Request::GetUrgent {
                user_id: user_id("userId")?,
            },
            "setKeywords" => {
                let user_id = user_id("userId")?;
                Request::SetKeywords {
                    user_id,
                    keywords: required(keywords, "keywords")?,
                }
            }
            "getKeywords" => Request::GetKeywords {
                user_id: user_id("userId")?,
            },
            "setMutedSenders" => {
                let user_id = user_id("userId")?;
                Request::SetMutedSenders {
                    user_id,
                    muted_senders: required(muted_senders, "mutedSenders")?,
                }
            }
            "getMutedSenders" => Request::GetMutedSenders {
                user_id: user_id("userId")?,
            },
            "setUserGroup" => {
                let (group_id, _) = group(None)?;
                Request::SetUserGroup {
                    group_id,
                    member_ids: required(member_ids, "memberIds")?,
                }
            }
            "getUserGroup" => Request::GetUserGroup {
                group_id: group(None)?.0,
            },
            "ultraGroupJoin" | "ultraGroupQuit" | "ultraGroupMemberExist" => {
                let group_id = group(None)?.0;
                let user_id = user_id("userId")?;
                match kind {
                    "ultraGroupJoin" => Request::UltraGroupJoin { group_id, user_id },
                    "ultraGroupQuit" => Request::UltraGroupQuit { group_id, user_id },
                    _ => Request::UltraGroupMemberExist { group_id, user_id },
                }
            }
            "groupJoin" | "groupQuit" => {
                let group_id = group(None)?.0;
                let user_ids = required(member_user_ids, "userIds")?;
                if kind == "groupJoin" {
                    Request::GroupJoin { group_id, user_ids }
                } else {
                    Request::GroupQuit { group_id, user_ids }
                }
            }
            "groupUserQuery" => Request::GroupUserQuery {
                group_id: group(None)?.0,
            },
            _ => Request::DeleteUserGroup {
                group_id: group(None)?.0,
            },
        })
    }
}

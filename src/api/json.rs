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

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use chrono::{DateTime, Utc};

use super::{params, Request};
use crate::error::Excerpt;
use crate::expiring::Snooze;
use crate::model::BusChannel;
use crate::policy::VipList;
use crate::schedule::{QuietLevel, WeeklySchedule};
use crate::Error;

impl<'de> Deserialize<'de> for Request {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Request, D::Error> {
        let fields: RequestFields = deserializer.deserialize_any(ObjectVisitor::new("a request"))?;
        fields.into_request().map_err(de::Error::custom)
    }
}

/// A value as it came, before it is checked.
enum Raw {
    Text(String),
    Integer(i64),
    /// A number that is not an integer in `i64`'s range, as written.
    OtherNumber(String),
    Other(&'static str),
}

impl Raw {
    fn text(self, name: &'static str) -> Result<String, Error> {
        match self {
            Raw::Text(s) => Ok(s),
            other => Err(other.wrong(name, "a string")),
        }
    }

    /// An integer code; a number that is not one is "not a whole number", as
    /// in the form.
    fn integer(self, name: &'static str) -> Result<i64, Error> {
        match self {
            Raw::Integer(n) => Ok(n),
            Raw::OtherNumber(n) => Err(Error::NotANumber {
                name,
                value: Excerpt::new(&n),
            }),
            other => Err(other.wrong(name, "an integer")),
        }
    }

    /// A JSON boolean.
    fn boolean(self, name: &'static str) -> Result<bool, Error> {
        match self {
            Raw::Other("true") => Ok(true),
            Raw::Other("false") => Ok(false),
            other => Err(other.wrong(name, "true or false")),
        }
    }

    #[cold]
    fn wrong(self, name: &'static str, expected: &'static str) -> Error {
        let found = match self {
            Raw::Text(s) => Excerpt::new(&s).to_string(),
            Raw::Integer(n) => n.to_string(),
            Raw::OtherNumber(n) => n,
            Raw::Other(what) => what.to_owned(),
        };
        Error::WrongType { name, expected, found }
    }
}

struct RawVisitor;

impl<'de> DeserializeSeed<'de> for RawVisitor {
    type Value = Raw;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Raw, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw, E> {
        Ok(Raw::Text(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Raw, E> {
        Ok(Raw::Text(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Raw, E> {
        Ok(Raw::Integer(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw, E> {
        Ok(i64::try_from(v).map_or_else(|_| Raw::OtherNumber(v.to_string()), Raw::Integer))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Raw, E> {
        Ok(Raw::OtherNumber(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Raw, E> {
        Ok(Raw::Other(if v { "true" } else { "false" }))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Other("null"))
    }
    fn visit_none<E: de::Error>(self) -> Result<Raw, E> {
        Ok(Raw::Other("null"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Raw::Other("an object"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Raw::Other("an array"))
    }
}

/// The fields of an object as read: each known field at most once, and the
/// first unknown one, reported once the kind of request is known.
trait Object: Default {
    /// The fields the object may have, by their JSON names.
    const FIELDS: &'static [&'static str];

    /// Reads the value of known field `name`.
    fn read<'de, A: MapAccess<'de>>(&mut self, name: &'static str, map: &mut A) -> Result<(), A::Error>;

    fn unknown_slot(&mut self) -> &mut Option<Excerpt>;
}

/// Stores `value` in `slot`, refusing a second value for field `name`.
fn once<T, E: de::Error>(slot: &mut Option<T>, name: &'static str, value: T) -> Result<(), E> {
    match slot {
        Some(_) => Err(E::custom(Error::DuplicateField(name))),
        None => {
            *slot = Some(value);
            Ok(())
        }
    }
}

/// Reads field `name` as a [`Raw`] value into `slot`.
fn raw<'de, A: MapAccess<'de>>(slot: &mut Option<Raw>, name: &'static str, map: &mut A) -> Result<(), A::Error> {
    let value = map.next_value_seed(RawVisitor)?;
    once(slot, name, value)
}

/// Reads an object; `name` is its name in errors.
struct ObjectVisitor<O> {
    name: &'static str,
    object: PhantomData<O>,
}

impl<O> ObjectVisitor<O> {
    fn new(name: &'static str) -> Self {
        ObjectVisitor {
            name,
            object: PhantomData,
        }
    }

    fn not_an_object<E: de::Error>(&self, found: String) -> E {
        E::custom(Error::WrongType {
            name: self.name,
            expected: "an object",
            found,
        })
    }
}

impl<'de, O: Object> DeserializeSeed<'de> for ObjectVisitor<O> {
    type Value = O;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<O, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, O: Object> Visitor<'de> for ObjectVisitor<O> {
    type Value = O;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} to be an object", self.name)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<O, A::Error> {
        let mut object = O::default();
        while let Some(key) = map.next_key_seed(KeySeed(O::FIELDS))? {
            match key {
                Key::Known(name) => object.read(name, &mut map)?,
                Key::Unknown(field) => {
                    map.next_value::<IgnoredAny>()?;
                    object.unknown_slot().get_or_insert(field);
                }
            }
        }
        Ok(object)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<O, E> {
        Err(self.not_an_object(Excerpt::new(v).to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<O, E> {
        Err(self.not_an_object(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<O, E> {
        Err(self.not_an_object(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<O, E> {
        Err(self.not_an_object(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<O, E> {
        Err(self.not_an_object(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<O, E> {
        Err(self.not_an_object("null".into()))
    }
    fn visit_none<E: de::Error>(self) -> Result<O, E> {
        self.visit_unit()
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<O, A::Error> {
        Err(self.not_an_object("an array".into()))
    }
}

/// A field name: one the object knows, or an excerpt of another.
enum Key {
    Known(&'static str),
    Unknown(Excerpt),
}

struct KeySeed(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(match self.0.iter().find(|&&name| name == key) {
            Some(name) => Key::Known(name),
            None => Key::Unknown(Excerpt::new(key)),
        })
    }
}

/// Every field any kind of request has, at the top level.
#[derive(Default)]
struct RequestFields {
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
                    .map_err(|e| de::Error::custom(format_args!("vip: {}", crate::error::bounded(e))))?;
                once(&mut self.vip, name, value)
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
                    .map_err(|e| de::Error::custom(format_args!("schedule: {}", crate::error::bounded(e))))?;
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

#[derive(Default)]
struct ConversationFields {
    conversation_type: Option<Raw>,
    target_id: Option<Raw>,
    bus_channel: Option<Raw>,
    unknown: Option<Excerpt>,
}

impl Object for ConversationFields {
    const FIELDS: &'static [&'static str] = &["conversationType", "targetId", "busChannel"];

    fn read<'de, A: MapAccess<'de>>(&mut self, name: &'static str, map: &mut A) -> Result<(), A::Error> {
        let slot = match name {
            "conversationType" => &mut self.conversation_type,
            "targetId" => &mut self.target_id,
            _ => &mut self.bus_channel,
        };
        let name = match name {
            "conversationType" => "conversation.conversationType",
            "targetId" => "conversation.targetId",
            _ => "conversation.busChannel",
        };
        raw(slot, name, map)
    }

    fn unknown_slot(&mut self) -> &mut Option<Excerpt> {
        &mut self.unknown
    }
}

#[derive(Default)]
struct PeriodFields {
    start_time: Option<Raw>,
    period: Option<Raw>,
    level: Option<Raw>,
    timezone: Option<Raw>,
    unknown: Option<Excerpt>,
}

impl Object for PeriodFields {
    const FIELDS: &'static [&'static str] = &["startTime", "period", "level", "timezone"];

    fn read<'de, A: MapAccess<'de>>(&mut self, name: &'static str, map: &mut A) -> Result<(), A::Error> {
        let (slot, name) = match name {
            "startTime" => (&mut self.start_time, "period.startTime"),
            "period" => (&mut self.period, "period.period"),
            "level" => (&mut self.level, "period.level"),
            _ => (&mut self.timezone, "period.timezone"),
        };
        raw(slot, name, map)
    }

    fn unknown_slot(&mut self) -> &mut Option<Excerpt> {
        &mut self.unknown
    }
}

#[derive(Default)]
struct SnoozeFields {
    until: Option<Raw>,
    level: Option<Raw>,
    unknown: Option<Excerpt>,
}

impl Object for SnoozeFields {
    const FIELDS: &'static [&'static str] = &["until", "level"];

    fn read<'de, A: MapAccess<'de>>(&mut self, name: &'static str, map: &mut A) -> Result<(), A::Error> {
        let (slot, name) = match name {
            "until" => (&mut self.until, "snooze.until"),
            _ => (&mut self.level, "snooze.level"),
        };
        raw(slot, name, map)
    }

    fn unknown_slot(&mut self) -> &mut Option<Excerpt> {
        &mut self.unknown
    }
}

impl SnoozeFields {
    /// As the form: `until` required, `level` 1, 2, 4 or 5 and 5 if absent.
    fn into_snooze(self) -> Result<Snooze, Error> {
        if let Some(field) = self.unknown {
            return Err(Error::UnknownRequestField {
                request: "snooze",
                field,
            });
        }
        let until = until(required(self.until, "snooze.until")?, "snooze.until")?;
        let level = match self.level {
            Some(raw) => {
                QuietLevel::from_code(raw.integer("snooze.level")?).map_err(|e| e.in_parameter("snooze.level"))?
            }
            None => QuietLevel::Nothing,
        };
        Ok(Snooze { until, level })
    }
}

/// An `until`: milliseconds since the epoch, or text as the form takes it
/// (milliseconds or RFC 3339), in the range of a [`Timestamp`](crate::Timestamp).
fn until(raw: Raw, name: &'static str) -> Result<DateTime<Utc>, Error> {
    match raw {
        Raw::Integer(ms) => crate::Timestamp::from_millis(ms).map(crate::Timestamp::as_datetime),
        Raw::Text(text) => super::extensions::parse_until(&text),
        other => return Err(other.wrong(name, "milliseconds since the epoch or RFC 3339 text")),
    }
    .map_err(|e| e.in_parameter(name))
}

/// A field that must be there.
fn required<T>(slot: Option<T>, name: &'static str) -> Result<T, Error> {
    slot.ok_or(Error::MissingParameter(name))
}

/// The kinds of request, by their names in `request`, with the fields each
/// has besides `request`.
const KINDS: [(&str, &[&str]); 22] = [
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
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
    }

    fn into_request(mut self) -> Result<Request, Error> {
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
            _ => Request::GetUrgent {
                user_id: user_id("userId")?,
            },
        })
    }
}

fn optional_bus_channel(raw: Option<Raw>, name: &'static str) -> Result<Option<BusChannel>, Error> {
    raw.map(|r| params::bus_channel(name, &r.text(name)?)).transpose()
}

impl PeriodFields {
    fn into_period(self) -> Result<crate::model::DndPeriod, Error> {
        if let Some(field) = self.unknown {
            return Err(Error::UnknownRequestField {
                request: "period",
                field,
            });
        }
        let names = ["period.startTime", "period.period", "period.level", "period.timezone"];
        let start = required(self.start_time, names[0])?.text(names[0])?;
        let minutes = required(self.period, names[1])?.integer(names[1])?;
        let level = required(self.level, names[2])?.integer(names[2])?;
        let zone = self.timezone.map(|z| z.text(names[3])).transpose()?;
        params::period(names, &start, minutes, level, zone.as_deref())
    }
}

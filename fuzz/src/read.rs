//! The oracle's reading of a snapshot, independent of the engine's restore:
//! formats 1 and 2 as docs/rules.md (§6, §8, §10) and the saved form
//! describe them, read from the JSON text into the naive model. The values
//! themselves (a period, a schedule, a level) are read with the crate's value
//! types, which their own tests cover; what this file states on its own is
//! the format: which fields exist where and in which format, that every
//! object is an object, that nothing is listed twice or given as `null`,
//! that a name refers to a listed user, and in which order the layers are
//! set (temporary after permanent, VIP lists once every user is listed).

use std::collections::HashSet;
use std::fmt;

use chrono::DateTime;
use chrono_tz::Tz;
use dnd_engine::{
    BusChannel, Config, ConversationKey, ConversationType, DndPeriod, Level, Request, Snooze, TargetId, UserId,
    VipList, VipScope, WeeklySchedule,
};
use serde::de::{self, DeserializeOwned, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::naive::Naive;

/// What the oracle makes of a snapshot.
pub enum Reading {
    /// A snapshot that must restore, and the model of what it holds.
    Valid(Box<Read>),
    /// A snapshot that must be refused, and why.
    Invalid(String),
    /// One the search steps around (`--avoid duplicates`).
    Skip,
}

/// A valid snapshot's model.
pub struct Read {
    /// The oracle set up with the snapshot's configuration and settings,
    /// to decide as the restored engine must.
    pub naive: Naive,
    /// The snapshot's `format` number (1 or 2).
    pub format: u64,
    /// Whether it uses a field that format 1 does not have.
    pub extended: bool,
}

/// Reads `text` as the snapshot format says.
pub fn read_snapshot(text: &[u8]) -> Reading {
    match read(text) {
        Ok(r) => Reading::Valid(Box::new(r)),
        Err(e) if crate::avoid().duplicates && e.contains("twice") => Reading::Skip,
        Err(e) => Reading::Invalid(e),
    }
}

/// A JSON value read with every object's keys checked for repeats (which
/// `serde_json::Value` would silently collapse).
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Strict, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Strict;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_bool<E>(self, b: bool) -> Result<Strict, E> {
                Ok(Strict(Value::Bool(b)))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Strict, E> {
                Ok(Strict(n.into()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Strict, E> {
                Ok(Strict(n.into()))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Strict, E> {
                Ok(Strict(
                    serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number),
                ))
            }
            fn visit_str<E>(self, s: &str) -> Result<Strict, E> {
                Ok(Strict(Value::String(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Strict, E> {
                Ok(Strict(Value::String(s)))
            }
            fn visit_unit<E>(self) -> Result<Strict, E> {
                Ok(Strict(Value::Null))
            }
            fn visit_none<E>(self) -> Result<Strict, E> {
                Ok(Strict(Value::Null))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
                let mut items = Vec::new();
                while let Some(Strict(v)) = seq.next_element()? {
                    items.push(v);
                }
                Ok(Strict(Value::Array(items)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
                let mut out = Map::new();
                while let Some(k) = map.next_key::<String>()? {
                    let Strict(v) = map.next_value()?;
                    if out.insert(k.clone(), v).is_some() {
                        return Err(de::Error::custom(format_args!("the key {k:?} is repeated")));
                    }
                }
                Ok(Strict(Value::Object(out)))
            }
        }
        d.deserialize_any(V)
    }
}

pub(crate) type Obj = Map<String, Value>;

/// `v` as an object with only the keys `allowed`.
pub(crate) fn object<'v>(v: &'v Value, place: &str, allowed: &[&str]) -> Result<&'v Obj, String> {
    let Value::Object(o) = v else {
        return Err(format!("{place} is {v}, not an object"));
    };
    if let Some(k) = o.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!("{place} has the unknown field {k:?}"));
    }
    if let Some((k, _)) = o.iter().find(|(_, v)| v.is_null()) {
        return Err(format!("{place}.{k} is null"));
    }
    Ok(o)
}

/// The array at `key` (none when absent).
pub(crate) fn array<'v>(o: &'v Obj, key: &str, place: &str) -> Result<&'v [Value], String> {
    match o.get(key) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(format!("{place}.{key} is {other}, not an array")),
    }
}

fn required<'v>(o: &'v Obj, key: &str, place: &str) -> Result<&'v Value, String> {
    o.get(key).ok_or_else(|| format!("{place}.{key} is missing"))
}

pub(crate) fn string(o: &Obj, key: &str, place: &str) -> Result<String, String> {
    match required(o, key, place)? {
        Value::String(s) => Ok(s.clone()),
        other => Err(format!("{place}.{key} is {other}, not a string")),
    }
}

fn boolean(o: &Obj, key: &str, place: &str) -> Result<bool, String> {
    match o.get(key) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(format!("{place}.{key} is {other}, not a boolean")),
    }
}

/// A value read by the crate's own type.
fn typed<T: DeserializeOwned>(v: &Value, place: &str) -> Result<T, String> {
    serde_json::from_value(v.clone()).map_err(|e| format!("{place}: {e}"))
}

fn user_id(id: &str, place: &str) -> Result<UserId, String> {
    UserId::new(id).map_err(|e| format!("{place}: {e}"))
}

/// A temporary level: `{"unpushLevel": code (0 is "not set"), "until": ms}`.
fn temporary(v: &Value, place: &str) -> Result<(Option<Level>, DateTime<chrono::Utc>), String> {
    let o = object(v, place, &["unpushLevel", "until"])?;
    let code = required(o, "unpushLevel", place)?
        .as_i64()
        .ok_or_else(|| format!("{place}.unpushLevel is not an integer"))?;
    let level = Level::from_code(code).map_err(|e| format!("{place}.unpushLevel: {e}"))?;
    let until = required(o, "until", place)?
        .as_i64()
        .and_then(DateTime::from_timestamp_millis)
        .ok_or_else(|| format!("{place}.until is not milliseconds of an instant"))?;
    Ok((level, until))
}

/// A type and level: `{"conversationType", "unpushLevel"}`.
fn type_level(v: &Value, place: &str) -> Result<(ConversationType, Level), String> {
    let o = object(v, place, &["conversationType", "unpushLevel"])?;
    Ok((
        typed(required(o, "conversationType", place)?, place)?,
        typed(required(o, "unpushLevel", place)?, place)?,
    ))
}

/// Refuses a second `key`.
pub(crate) fn once<K: std::hash::Hash + Eq + fmt::Debug>(
    seen: &mut HashSet<K>,
    key: K,
    place: &str,
) -> Result<(), String> {
    let text = format!("{key:?}");
    match seen.insert(key) {
        true => Ok(()),
        false => Err(format!("{place}: {text} is listed twice")),
    }
}

const TOP: &[&str] = &[
    "format",
    "timeZone",
    "appDefaults",
    "privateAsMention",
    "mentionAllMaxMembers",
    "users",
    "conversations",
    "userGroups",
    "members",
];
const USER: &[&str] = &[
    "userId",
    "period",
    "schedule",
    "snooze",
    "conversationTypes",
    "temporaryConversationTypes",
    "temporaryConversations",
    "vip",
    "urgentAllowed",
    "keywords",
    "mutedSenders",
];
/// The fields format 1 does not have, at the top and in a user (the
/// snapshot generator breaks the format with them too).
pub(crate) const TOP_2: &[&str] = &["privateAsMention", "mentionAllMaxMembers", "userGroups", "members"];
pub(crate) const USER_2: &[&str] = &[
    "schedule",
    "snooze",
    "temporaryConversationTypes",
    "temporaryConversations",
    "vip",
    "urgentAllowed",
    "keywords",
    "mutedSenders",
];
const CONVERSATION: &[&str] = &[
    "conversationType",
    "targetId",
    "default",
    "defaultTemporary",
    "users",
    "subchannels",
];
const SUBCHANNEL: &[&str] = &["busChannel", "default", "defaultTemporary", "users"];

fn read(text: &[u8]) -> Result<Read, String> {
    let Strict(top) = serde_json::from_slice(text).map_err(|e| format!("not JSON as the format says: {e}"))?;
    let top = object(&top, "the snapshot", TOP)?;
    let format = required(top, "format", "")?
        .as_u64()
        // Format 3 adds only users' repeat settings, which the episodes do not set.
        .filter(|f| (1..=3).contains(f))
        .ok_or_else(|| format!("format {} is not 1, 2 or 3", top["format"]))?;
    let extended_top = TOP_2.iter().find(|k| top.contains_key(**k));
    if let (1, Some(k)) = (format, extended_top) {
        return Err(format!("{k} is not in format 1"));
    }
    let zone: Tz = string(top, "timeZone", "")?
        .parse()
        .map_err(|_| "timeZone is not a zone".to_string())?;
    let mut config = Config::new(zone);
    let mut seen = HashSet::new();
    for (i, d) in array(top, "appDefaults", "")?.iter().enumerate() {
        let place = format!("appDefaults[{i}]");
        let (t, l) = type_level(d, &place)?;
        once(&mut seen, t, &place)?;
        config = config.with_app_default(t, l);
    }
    if boolean(top, "privateAsMention", "")? {
        config = config.with_private_as_mention();
    }
    if let Some(max) = top.get("mentionAllMaxMembers") {
        let max = max
            .as_u64()
            .and_then(|m| u32::try_from(m).ok())
            .ok_or_else(|| format!("mentionAllMaxMembers {max} is not a member count"))?;
        config = config.with_mention_all_max_members(max);
    }
    let mut naive = Naive::of_config(&config);
    let mut extended = extended_top.is_some();

    // Users: every id first, then what each holds.
    let users = array(top, "users", "")?;
    let mut ids = HashSet::new();
    let mut objects = Vec::new();
    for (i, u) in users.iter().enumerate() {
        let place = format!("users[{i}]");
        let o = object(u, &place, USER)?;
        let id = string(o, "userId", &place)?;
        user_id(&id, &place)?;
        once(&mut ids, id.clone(), &place)?;
        if let Some(k) = USER_2.iter().find(|k| o.contains_key(**k)) {
            if format == 1 {
                return Err(format!("{place}.{k} is not in format 1"));
            }
            extended = true;
        }
        objects.push((place, o, id));
    }
    let mut later = Vec::new();
    for (place, o, id) in &objects {
        later.push(user(&mut naive, o, id, place)?);
    }
    conversations(&mut naive, top, &ids, format)?;
    // After the permanent levels: setting one clears a temporary one.
    for (user_id, temps) in later {
        for (conversation, level, until) in temps {
            naive.apply(&Request::SetConversationLevelUntil {
                user_id: user_id.clone(),
                conversation,
                level,
                until,
            });
        }
    }
    // VIP lists name any listed user.
    for (place, o, id) in &objects {
        if let Some(v) = o.get("vip") {
            let place = format!("{place}.vip");
            let vip = object(v, &place, &["userIds", "scope"])?;
            let list = array(vip, "userIds", &place)?;
            if !vip.contains_key("userIds") || list.is_empty() {
                return Err(format!("{place}.userIds is missing or empty"));
            }
            let scope: VipScope = typed(required(vip, "scope", &place)?, &place)?;
            let mut seen = HashSet::new();
            let mut senders = Vec::new();
            for (i, s) in list.iter().enumerate() {
                let place = format!("{place}.userIds[{i}]");
                let Value::String(s) = s else {
                    return Err(format!("{place} is not a string"));
                };
                once(&mut seen, s.clone(), &place)?;
                if !ids.contains(s) {
                    return Err(format!("{place}: {s:?} is not in users"));
                }
                senders.push(user_id(s, &place)?);
            }
            if senders.len() > VipList::MAX {
                return Err(format!("{place} names {} users", senders.len()));
            }
            naive.apply(&Request::SetVip {
                user_id: user_id(id, &place)?,
                vip: VipList::new(senders, scope).map_err(|e| format!("{place}: {e}"))?,
            });
        }
    }
    // Keywords and mutes (which name any listed user), then user groups.
    for (place, o, id) in &objects {
        if let Some(k) = o.get("keywords") {
            let place = format!("{place}.keywords");
            let keywords: dnd_engine::Keywords = typed(k, &place)?;
            if keywords.is_empty() {
                return Err(format!("{place} is empty"));
            }
            naive.apply(&Request::SetKeywords {
                user_id: user_id(id, &place)?,
                keywords,
            });
        }
        if let Some(m) = o.get("mutedSenders") {
            let place = format!("{place}.mutedSenders");
            let mo = object(m, &place, &["senderIds", "until"])?;
            let list = array(mo, "senderIds", &place)?;
            if list.is_empty() {
                return Err(format!("{place}.senderIds is missing or empty"));
            }
            for (i, s) in list.iter().enumerate() {
                if !s.as_str().is_some_and(|s| ids.contains(s)) {
                    return Err(format!("{place}.senderIds[{i}]: {s} is not in users"));
                }
            }
            let muted_senders: dnd_engine::MutedSenders = typed(m, &place)?;
            naive.apply(&Request::SetMutedSenders {
                user_id: user_id(id, &place)?,
                muted_senders,
            });
        }
    }
    let mut seen = HashSet::new();
    for (i, g) in array(top, "userGroups", "")?.iter().enumerate() {
        let place = format!("userGroups[{i}]");
        let go = object(g, &place, &["groupId", "memberIds"])?;
        let group = string(go, "groupId", &place)?;
        once(&mut seen, group.clone(), &place)?;
        let group_id = TargetId::new(&group).map_err(|e| format!("{place}: {e}"))?;
        let list = array(go, "memberIds", &place)?;
        if list.is_empty() || list.len() > dnd_engine::MAX_GROUP_MEMBERS {
            return Err(format!("{place}.memberIds: {} members", list.len()));
        }
        let mut members = HashSet::new();
        let mut member_ids = Vec::new();
        for (k, m) in list.iter().enumerate() {
            let p = format!("{place}.memberIds[{k}]");
            let Value::String(m) = m else {
                return Err(format!("{p} is not a string"));
            };
            once(&mut members, m.clone(), &p)?;
            if !ids.contains(m) {
                return Err(format!("{p}: {m:?} is not in users"));
            }
            member_ids.push(user_id(m, &p)?);
        }
        naive.apply(&Request::SetUserGroup { group_id, member_ids });
    }
    crate::members::check_snapshot(top, &ids)?;
    Ok(Read {
        naive,
        format,
        extended,
    })
}

/// A temporary conversation level read from a user, to be set after the
/// conversations.
type LaterTemp = (ConversationKey, Option<Level>, DateTime<chrono::Utc>);

/// One user's own layers into `naive`; its temporary conversation levels
/// are given back, to be set after the conversations.
fn user(naive: &mut Naive, o: &Obj, id: &str, place: &str) -> Result<(UserId, Vec<LaterTemp>), String> {
    let user_id = user_id(id, place)?;
    let with = |r: &str| format!("{place}.{r}");
    if o.contains_key("period") && o.contains_key("schedule") {
        return Err(format!("{place} has a period and a schedule"));
    }
    if let Some(p) = o.get("period") {
        object(p, &with("period"), &["startTime", "period", "level", "timezone"])?;
        let period: DndPeriod = typed(p, &with("period"))?;
        naive.apply(&Request::SetPeriod {
            user_id: user_id.clone(),
            period,
        });
    }
    if let Some(s) = o.get("schedule") {
        let so = object(s, &with("schedule"), &["windows", "timezone"])?;
        for (i, w) in array(so, "windows", &with("schedule"))?.iter().enumerate() {
            object(
                w,
                &with(&format!("schedule.windows[{i}]")),
                &["days", "startTime", "period", "level"],
            )?;
        }
        let schedule: WeeklySchedule = typed(s, &with("schedule"))?;
        naive.apply(&Request::SetSchedule {
            user_id: user_id.clone(),
            schedule,
        });
    }
    if let Some(s) = o.get("snooze") {
        object(s, &with("snooze"), &["until", "level"])?;
        let snooze: Snooze = typed(s, &with("snooze"))?;
        naive.apply(&Request::SetSnooze {
            user_id: user_id.clone(),
            snooze,
        });
    }
    let mut seen = HashSet::new();
    for (i, t) in array(o, "conversationTypes", place)?.iter().enumerate() {
        let p = with(&format!("conversationTypes[{i}]"));
        let (conversation_type, level) = type_level(t, &p)?;
        once(&mut seen, conversation_type, &p)?;
        naive.apply(&Request::SetTypeLevel {
            user_id: user_id.clone(),
            conversation_type,
            level: Some(level),
        });
    }
    let mut seen = HashSet::new();
    for (i, t) in array(o, "temporaryConversationTypes", place)?.iter().enumerate() {
        let p = with(&format!("temporaryConversationTypes[{i}]"));
        let to = object(t, &p, &["conversationType", "temporary"])?;
        let conversation_type: ConversationType = typed(required(to, "conversationType", &p)?, &p)?;
        once(&mut seen, conversation_type, &p)?;
        let (level, until) = temporary(required(to, "temporary", &p)?, &format!("{p}.temporary"))?;
        naive.apply(&Request::SetTypeLevelUntil {
            user_id: user_id.clone(),
            conversation_type,
            level,
            until,
        });
    }
    let mut later = Vec::new();
    let mut seen = HashSet::new();
    for (i, t) in array(o, "temporaryConversations", place)?.iter().enumerate() {
        let p = with(&format!("temporaryConversations[{i}]"));
        let to = object(t, &p, &["conversationType", "targetId", "busChannel", "temporary"])?;
        let conversation_type: ConversationType = typed(required(to, "conversationType", &p)?, &p)?;
        let target = TargetId::new(&string(to, "targetId", &p)?).map_err(|e| format!("{p}: {e}"))?;
        let bus = match to.get("busChannel") {
            None => None,
            Some(Value::String(b)) => Some(BusChannel::new(b).map_err(|e| format!("{p}: {e}"))?),
            Some(other) => return Err(format!("{p}.busChannel is {other}, not a string")),
        };
        let key = ConversationKey::new(conversation_type, target, bus).map_err(|e| format!("{p}: {e}"))?;
        once(&mut seen, key.clone(), &p)?;
        let (level, until) = temporary(required(to, "temporary", &p)?, &format!("{p}.temporary"))?;
        later.push((key, level, until));
    }
    if boolean(o, "urgentAllowed", place)? {
        naive.apply(&Request::SetUrgent {
            user_id: user_id.clone(),
            allow: true,
        });
    }
    Ok((user_id, later))
}

/// The conversations: users' levels, an ultra group's defaults and
/// subchannels.
fn conversations(naive: &mut Naive, top: &Obj, ids: &HashSet<String>, format: u64) -> Result<(), String> {
    let mut seen = HashSet::new();
    for (i, c) in array(top, "conversations", "")?.iter().enumerate() {
        let place = format!("conversations[{i}]");
        let o = object(c, &place, CONVERSATION)?;
        let t: ConversationType = typed(required(o, "conversationType", &place)?, &place)?;
        let target = string(o, "targetId", &place)?;
        once(&mut seen, (t, target.clone()), &place)?;
        let target_id = TargetId::new(&target).map_err(|e| format!("{place}: {e}"))?;
        let subchannels = array(o, "subchannels", &place)?;
        let ultra = t == ConversationType::UltraGroup;
        if !ultra && (o.contains_key("default") || o.contains_key("defaultTemporary") || !subchannels.is_empty()) {
            return Err(format!("{place}: a type-{t} conversation has a default or subchannels"));
        }
        let key = ConversationKey::new(t, target_id.clone(), None).map_err(|e| e.to_string())?;
        levels(naive, o, ids, &key, &place)?;
        defaults(naive, o, &target_id, None, format, &place)?;
        let mut buses = HashSet::new();
        for (j, s) in subchannels.iter().enumerate() {
            let place = format!("{place}.subchannels[{j}]");
            let so = object(s, &place, SUBCHANNEL)?;
            let bus = BusChannel::new(&string(so, "busChannel", &place)?).map_err(|e| format!("{place}: {e}"))?;
            once(&mut buses, bus.clone(), &place)?;
            let key = ConversationKey::new(t, target_id.clone(), Some(bus.clone())).map_err(|e| e.to_string())?;
            levels(naive, so, ids, &key, &place)?;
            defaults(naive, so, &target_id, Some(bus), format, &place)?;
        }
    }
    Ok(())
}

/// An ultra group's (or subchannel's) default and temporary default.
fn defaults(
    naive: &mut Naive,
    o: &Obj,
    group_id: &TargetId,
    bus_channel: Option<BusChannel>,
    format: u64,
    place: &str,
) -> Result<(), String> {
    if let Some(d) = o.get("default") {
        let level: Level = typed(d, &format!("{place}.default"))?;
        naive.apply(&Request::SetUltraGroupDefault {
            group_id: group_id.clone(),
            bus_channel: bus_channel.clone(),
            level: Some(level),
        });
    }
    if let Some(t) = o.get("defaultTemporary") {
        if format == 1 {
            return Err(format!("{place}.defaultTemporary is not in format 1"));
        }
        let (level, until) = temporary(t, &format!("{place}.defaultTemporary"))?;
        naive.apply(&Request::SetUltraGroupDefaultUntil {
            group_id: group_id.clone(),
            bus_channel,
            level,
            until,
        });
    }
    Ok(())
}

/// The users' levels listed under a conversation or subchannel.
fn levels(naive: &mut Naive, o: &Obj, ids: &HashSet<String>, key: &ConversationKey, place: &str) -> Result<(), String> {
    let mut seen = HashSet::new();
    for (i, l) in array(o, "users", place)?.iter().enumerate() {
        let place = format!("{place}.users[{i}]");
        let lo = object(l, &place, &["userId", "unpushLevel"])?;
        let id = string(lo, "userId", &place)?;
        if !ids.contains(&id) {
            return Err(format!("{place}: {id:?} has a level but is not in users"));
        }
        once(&mut seen, id.clone(), &place)?;
        let level: Level = typed(required(lo, "unpushLevel", &place)?, &place)?;
        naive.apply(&Request::SetConversationLevel {
            user_id: user_id(&id, &place)?,
            conversation: key.clone(),
            level: Some(level),
        });
    }
    Ok(())
}

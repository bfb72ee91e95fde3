//! The oracle's side: deciding with the naive walk, and reading a snapshot
//! into it independently of the engine's restore.

use dnd_engine::{
    BusChannel, ConversationKey, ConversationType, DndPeriod, Level, Message, Request, Settings, TargetId, UserId,
};
use serde_json::Value;

use crate::naive::{as_naive, Naive};

/// Checks that every way of deciding agrees with the oracle for every one
/// of `recipients`: by id one at a time and in batches, by handle one at a
/// time, in batches and lazily.
pub fn decisions_agree(
    settings: &Settings,
    oracle: &Naive,
    message: &Message<'_>,
    recipients: &[String],
) -> Result<(), String> {
    let p = settings.prepare(message);
    let single: Vec<_> = recipients.iter().map(|r| p.decide_id(r)).collect();
    for (r, d) in recipients.iter().zip(&single) {
        let want = oracle.decide(message, r);
        if as_naive(*d) != want {
            return Err(format!(
                "recipient {r:?}: the engine decides {d:?}, the oracle {want:?}"
            ));
        }
    }
    let mut out = Vec::new();
    p.decide_ids_into(recipients, &mut out);
    if out != single {
        return Err(format!("decide_ids_into {out:?} differs from decide_id {single:?}"));
    }
    let (handles, known): (Vec<_>, Vec<_>) = recipients
        .iter()
        .zip(&single)
        .filter_map(|(r, d)| settings.user(r).map(|h| (h, *d)))
        .unzip();
    p.decide_into(&handles, &mut out)
        .map_err(|e| format!("decide_into refused the settings' own handles: {e}"))?;
    if out != known {
        return Err(format!("decide_into {out:?} differs from decide_id {known:?}"));
    }
    let lazily: Vec<_> = p
        .decisions(&handles)
        .map_err(|e| format!("decisions() refused the settings' own handles: {e}"))?
        .collect();
    if lazily != known {
        return Err(format!("decisions() {lazily:?} differs from decide_id {known:?}"));
    }
    let one_by_one: Vec<_> = handles
        .iter()
        .map(|&h| p.decide(h))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("decide refused the settings' own handles: {e}"))?;
    if one_by_one != known {
        return Err(format!("decide {one_by_one:?} differs from decide_id {known:?}"));
    }
    Ok(())
}

/// A snapshot that the engine restored, read by the oracle: the naive model
/// of it, or why the snapshot should not have been accepted. `Ok(None)` when
/// the snapshot has a shape this reader does not know (a newer format).
pub fn read_snapshot(text: &[u8]) -> Result<Option<Naive>, String> {
    match read(text) {
        Err(e) if crate::avoid().duplicates && e.contains("twice") => Ok(None),
        other => other,
    }
}

/// The keys of each kind of object in the snapshot format this reader
/// knows, by the key that holds it.
const SHAPES: [(&str, &[&str]); 5] = [
    ("", &["format", "timeZone", "appDefaults", "users", "conversations"]),
    ("users", &["userId", "period", "conversationTypes", "unpushLevel"]),
    (
        "conversations",
        &["conversationType", "targetId", "default", "users", "subchannels"],
    ),
    ("subchannels", &["busChannel", "default", "users"]),
    ("appDefaults", &["conversationType", "unpushLevel"]),
];

/// Whether every object in `v` (held under `key`) has only keys this
/// reader knows.
fn known_shape(key: &str, v: &Value) -> bool {
    match v {
        Value::Array(items) => items.iter().all(|i| known_shape(key, i)),
        Value::Object(map) => {
            let keys: &[&str] = match key {
                "conversationTypes" | "appDefaults" => &["conversationType", "unpushLevel"],
                "period" => return true,
                _ => match SHAPES.iter().find(|(k, _)| *k == key) {
                    Some((_, keys)) => keys,
                    None => return false,
                },
            };
            map.iter().all(|(k, v)| keys.contains(&k.as_str()) && known_shape(k, v))
        }
        _ => true,
    }
}

/// The place of the first `null` in `v` (the snapshot format allows none).
fn first_null(v: &Value, place: &str) -> Option<String> {
    match v {
        Value::Null => Some(place.to_owned()),
        Value::Object(map) => map.iter().find_map(|(k, v)| match place {
            "" => first_null(v, k),
            _ => first_null(v, &format!("{place}.{k}")),
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| first_null(v, &format!("{place}[{i}]"))),
        _ => None,
    }
}

fn read(text: &[u8]) -> Result<Option<Naive>, String> {
    let Ok(top) = serde_json::from_slice::<Value>(text) else {
        return Err("the engine restored a snapshot that is not JSON".into());
    };
    if let Some(place) = first_null(&top, "") {
        return Err(format!("a snapshot with null at {place} was restored"));
    }
    if !known_shape("", &top) {
        return Ok(None);
    }
    if !top.is_object() {
        return Err("the engine restored a snapshot that is not a JSON object".into());
    }
    let Some(zone) = top.get("timeZone").and_then(Value::as_str).and_then(|z| z.parse().ok()) else {
        return Err("the engine restored a snapshot without a valid timeZone".into());
    };
    let mut defaults = Vec::new();
    for d in array(&top, "appDefaults")? {
        let (t, l) = type_level(d)?;
        if defaults.iter().any(|&(u, _)| u == t) {
            return Err(format!("appDefaults lists type {t} twice, and it was restored"));
        }
        defaults.push((t, l));
    }
    let mut naive = Naive::new(zone, &defaults);
    let mut users = Vec::new();
    for u in array(&top, "users")? {
        let id = string(u, "userId")?;
        if users.contains(&id) {
            return Err(format!("user {id:?} is listed twice, and it was restored"));
        }
        users.push(id.clone());
        let user_id = UserId::new(&id).map_err(|e| format!("an invalid user id was restored: {e}"))?;
        if let Some(p) = u.get("period") {
            let period: DndPeriod =
                serde_json::from_value(p.clone()).map_err(|e| format!("an invalid period was restored: {e}"))?;
            naive.apply(&Request::SetPeriod {
                user_id: user_id.clone(),
                period,
            });
        }
        let mut types = Vec::new();
        for t in array(u, "conversationTypes")? {
            let (conversation_type, level) = type_level(t)?;
            if types.contains(&conversation_type) {
                return Err(format!(
                    "user {id:?} lists type {conversation_type} twice, and it was restored"
                ));
            }
            types.push(conversation_type);
            naive.apply(&Request::SetTypeLevel {
                user_id: user_id.clone(),
                conversation_type,
                level: Some(level),
            });
        }
    }
    let mut conversations = Vec::new();
    for c in array(&top, "conversations")? {
        let t: ConversationType = field(c, "conversationType")?;
        let target = string(c, "targetId")?;
        if conversations.contains(&(t, target.clone())) {
            return Err(format!(
                "conversation {target:?} of type {t} is listed twice, and it was restored"
            ));
        }
        conversations.push((t, target.clone()));
        let target_id = TargetId::new(&target).map_err(|e| format!("an invalid target was restored: {e}"))?;
        levels(
            &mut naive,
            c,
            &users,
            ConversationKey::new(t, target_id.clone(), None).map_err(|e| e.to_string())?,
        )?;
        if let Some(d) = c.get("default") {
            let level: Level =
                serde_json::from_value(d.clone()).map_err(|e| format!("a bad default was restored: {e}"))?;
            naive.apply(&Request::SetUltraGroupDefault {
                group_id: target_id.clone(),
                bus_channel: None,
                level: Some(level),
            });
        }
        let mut buses = Vec::new();
        for s in array(c, "subchannels")? {
            let bus = string(s, "busChannel")?;
            if buses.contains(&bus) {
                return Err(format!(
                    "subchannel {bus:?} of {target:?} is listed twice, and it was restored"
                ));
            }
            buses.push(bus.clone());
            let bus = BusChannel::new(&bus).map_err(|e| format!("an invalid subchannel was restored: {e}"))?;
            let key = ConversationKey::new(t, target_id.clone(), Some(bus.clone()))
                .map_err(|e| format!("a subchannel of a type-{t} conversation was restored: {e}"))?;
            levels(&mut naive, s, &users, key)?;
            if let Some(d) = s.get("default") {
                let level: Level =
                    serde_json::from_value(d.clone()).map_err(|e| format!("a bad default was restored: {e}"))?;
                naive.apply(&Request::SetUltraGroupDefault {
                    group_id: target_id.clone(),
                    bus_channel: Some(bus),
                    level: Some(level),
                });
            }
        }
    }
    Ok(Some(naive))
}

/// The users' levels listed under `parent`, into the oracle.
fn levels(naive: &mut Naive, parent: &Value, users: &[String], key: ConversationKey) -> Result<(), String> {
    let mut seen = Vec::new();
    for l in array(parent, "users")? {
        let id = string(l, "userId")?;
        if !users.contains(&id) {
            return Err(format!(
                "user {id:?} has a level but is not in users, and it was restored"
            ));
        }
        if seen.contains(&id) {
            return Err(format!(
                "user {id:?} is listed twice on one conversation, and it was restored"
            ));
        }
        seen.push(id.clone());
        let level: Level = field(l, "unpushLevel")?;
        naive.apply(&Request::SetConversationLevel {
            user_id: UserId::new(&id).map_err(|e| e.to_string())?,
            conversation: key.clone(),
            level: Some(level),
        });
    }
    Ok(())
}

fn type_level(v: &Value) -> Result<(ConversationType, Level), String> {
    Ok((field(v, "conversationType")?, field(v, "unpushLevel")?))
}

fn array<'v>(v: &'v Value, key: &str) -> Result<&'v [Value], String> {
    match v.get(key) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(format!("{key} restored from {other}, which is not an array")),
    }
}

fn string(v: &Value, key: &str) -> Result<String, String> {
    match v.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        other => Err(format!("{key} restored from {other:?}, which is not a string")),
    }
}

fn field<T: serde::de::DeserializeOwned>(v: &Value, key: &str) -> Result<T, String> {
    let raw = v.get(key).cloned().unwrap_or(Value::Null);
    serde_json::from_value(raw.clone()).map_err(|e| format!("{key} restored from {raw}: {e}"))
}

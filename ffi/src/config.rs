//! The engine's configuration as one JSON object, the options of
//! `dnd replay` in the protocol's spelling:
//!
//! ```json
//! {"timeZone": "Asia/Shanghai", "appDefaults": {"3": 1}, "privateAsMention": true, "mentionAllMaxMembers": 200}
//! ```
//!
//! `timeZone` (an IANA name) is required; `appDefaults` maps a conversation
//! type's code (`"1"`, `"3"`, `"6"`, `"10"`) to a level (-1, 1, 2, 4, 5; 0
//! leaves it unset); `privateAsMention` (a boolean) counts a private message
//! as a mention of its recipient; `mentionAllMaxMembers` (0 to 4294967295)
//! is the most members for which an @all counts. Unknown and repeated keys
//! are refused, and every error names its field (`config.appDefaults.3`).

use std::collections::HashSet;

use dnd_engine::{parse_zone, Config, ConversationType, Level};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use crate::status::{DndStatus, Failure};

/// The fields of the configuration object.
const FIELDS: &str = "timeZone, appDefaults, privateAsMention, mentionAllMaxMembers";

/// Reads the configuration object `text` (see the module's documentation).
pub fn parse_config(text: &str) -> Result<Config, Failure> {
    let invalid = |field: &str, why: &dyn std::fmt::Display| Failure::new(DndStatus::Invalid, field, why);
    let Entries(entries) = serde_json::from_str(text).map_err(|e| invalid("config", &format_args!("{e}")))?;
    let mut zone = None;
    let mut defaults = Vec::new();
    let mut private_as_mention = false;
    let mut max_members = None;
    for (key, value) in &entries {
        let field = format!("config.{key}");
        match key.as_str() {
            "timeZone" => {
                let name = value
                    .as_str()
                    .ok_or_else(|| invalid(&field, &"must be an IANA time zone name"))?;
                zone = Some(parse_zone(name).map_err(|e| Failure::of(&field, e))?);
            }
            "appDefaults" => {
                let Value::Object(map) = value else {
                    return Err(invalid(
                        &field,
                        &"must be an object of conversation type codes to levels",
                    ));
                };
                for (code, level) in map {
                    let field = format!("{field}.{code}");
                    let conversation_type = code
                        .parse::<i64>()
                        .map_err(|_| dnd_engine::Error::Invalid(format!("{code:?} is not a conversation type code")))
                        .and_then(ConversationType::from_code)
                        .map_err(|e| Failure::of(&field, e))?;
                    let level = level
                        .as_i64()
                        .ok_or_else(|| invalid(&field, &"must be an integer level"))?;
                    let level = Level::from_code(level).map_err(|e| Failure::of(&field, e))?;
                    defaults.extend(level.map(|l| (conversation_type, l)));
                }
            }
            "privateAsMention" => {
                private_as_mention = value
                    .as_bool()
                    .ok_or_else(|| invalid(&field, &"must be true or false"))?;
            }
            "mentionAllMaxMembers" => {
                let n = value
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| invalid(&field, &format_args!("must be a whole number from 0 to {}", u32::MAX)))?;
                max_members = Some(n);
            }
            _ => {
                return Err(invalid(
                    &field,
                    &format_args!("is not a field here; expected one of {FIELDS}"),
                ))
            }
        }
    }
    let zone = zone.ok_or_else(|| invalid("config.timeZone", &"is missing; it must be an IANA time zone name"))?;
    let mut built = Config::new(zone);
    for (conversation_type, level) in defaults {
        built = built.with_app_default(conversation_type, level);
    }
    if private_as_mention {
        built = built.with_private_as_mention();
    }
    if let Some(n) = max_members {
        built = built.with_mention_all_max_members(n);
    }
    Ok(built)
}

/// A JSON object's entries in order, a repeated key refused.
struct Entries(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Entries, D::Error> {
        struct Object;
        impl<'de> Visitor<'de> for Object {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut seen = HashSet::new();
                let mut entries = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    if !seen.insert(key.clone()) {
                        return Err(serde::de::Error::custom(format_args!("{key} is given twice")));
                    }
                    entries.push((key, value));
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(Object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_read() {
        let c = parse_config(
            r#"{"timeZone": "Asia/Shanghai", "appDefaults": {"3": 1, "1": 0}, "privateAsMention": true, "mentionAllMaxMembers": 200}"#,
        )
        .unwrap();
        assert_eq!(c.time_zone, dnd_engine::chrono_tz::Asia::Shanghai);
        assert_eq!(c.app_defaults.get(ConversationType::Group), Some(Level::Mentions));
        assert_eq!(c.app_defaults.get(ConversationType::Private), None);
        assert!(c.private_as_mention);
        assert_eq!(c.mention_all_max_members, Some(200));
    }

    #[test]
    fn errors_name_the_field() {
        for (text, field) in [
            (r#"{"timeZone": "Mars/Olympus"}"#, "config.timeZone"),
            (r#"{}"#, "config.timeZone"),
            (
                r#"{"timeZone": "UTC", "appDefaults": {"4": 1}}"#,
                "config.appDefaults.4",
            ),
            (
                r#"{"timeZone": "UTC", "appDefaults": {"3": 3}}"#,
                "config.appDefaults.3",
            ),
            (
                r#"{"timeZone": "UTC", "mentionAllMaxMembers": -1}"#,
                "config.mentionAllMaxMembers",
            ),
            (
                r#"{"timeZone": "UTC", "privateAsMention": 1}"#,
                "config.privateAsMention",
            ),
            (r#"{"timeZone": "UTC", "zone": "UTC"}"#, "config.zone"),
            (r#"{"timeZone": "UTC", "timeZone": "UTC"}"#, "config"),
            (r#"[1]"#, "config"),
            (r#"{"timeZone": "UTC"} x"#, "config"),
        ] {
            let f = parse_config(text).unwrap_err();
            assert_eq!(f.status, DndStatus::Invalid);
            assert_eq!(f.field.as_deref(), Some(field), "{text}: {f}");
        }
    }
}

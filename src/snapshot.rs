//! Saving and restoring the whole settings state with serde.
//!
//! The saved form is meant to be read by people as JSON: users in handle
//! order (so handles survive a restore), each with their period and type
//! levels; then conversations sorted by type and target, each with its
//! default, its users' levels and its subchannels. It is lossless: a restored
//! state answers every request and every decision as the saved one did, and
//! saving it again gives the same bytes.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::{parse_zone, BusChannel, ConversationKey, ConversationType, DndPeriod, Level, TargetId, UserId};
use crate::settings::{AppDefaults, Config, LevelMap, Settings, UserHandle};
use crate::Error;

const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Snapshot {
    format: u32,
    time_zone: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    app_defaults: Vec<TypeLevel>,
    #[serde(default)]
    users: Vec<UserSnapshot>,
    #[serde(default)]
    conversations: Vec<ConversationSnapshot>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TypeLevel {
    conversation_type: ConversationType,
    unpush_level: Level,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UserSnapshot {
    user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    period: Option<DndPeriod>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    conversation_types: Vec<TypeLevel>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UserLevel {
    user_id: String,
    unpush_level: Level,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConversationSnapshot {
    conversation_type: ConversationType,
    target_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default: Option<Level>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    users: Vec<UserLevel>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    subchannels: Vec<SubchannelSnapshot>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SubchannelSnapshot {
    bus_channel: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default: Option<Level>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    users: Vec<UserLevel>,
}

fn type_levels(get: impl Fn(ConversationType) -> Option<Level>) -> Vec<TypeLevel> {
    ConversationType::ALL
        .into_iter()
        .filter_map(|t| {
            get(t).map(|unpush_level| TypeLevel {
                conversation_type: t,
                unpush_level,
            })
        })
        .collect()
}

impl Settings {
    fn user_levels(&self, map: &LevelMap) -> Vec<UserLevel> {
        let mut levels: Vec<_> = map.iter().collect();
        levels.sort_unstable_by_key(|&(h, _)| h);
        levels
            .into_iter()
            .map(|(h, unpush_level)| UserLevel {
                user_id: self.user_id(h).unwrap_or_default().to_owned(),
                unpush_level,
            })
            .collect()
    }

    fn snapshot(&self) -> Snapshot {
        let users = (0..self.user_count())
            .map(|i| {
                let h = UserHandle::from_index(i);
                let id = self.user_id(h).unwrap_or_default();
                UserSnapshot {
                    user_id: id.to_owned(),
                    period: self.period(id),
                    conversation_types: type_levels(|t| self.record(h).type_levels[t.index()]),
                }
            })
            .collect();
        let mut conversations = Vec::new();
        for t in ConversationType::ALL {
            let mut targets: Vec<_> = self.conversations[t.index()].iter().collect();
            targets.sort_unstable_by(|a, b| a.0.cmp(b.0));
            for (target, entry) in targets {
                let mut subchannels: Vec<_> = entry.subchannels.iter().collect();
                subchannels.sort_unstable_by(|a, b| a.0.cmp(b.0));
                conversations.push(ConversationSnapshot {
                    conversation_type: t,
                    target_id: target.to_string(),
                    default: entry.default.permanent,
                    users: self.user_levels(&entry.users),
                    subchannels: subchannels
                        .into_iter()
                        .map(|(bus, sub)| SubchannelSnapshot {
                            bus_channel: bus.to_string(),
                            default: sub.default.permanent,
                            users: self.user_levels(&sub.users),
                        })
                        .collect(),
                });
            }
        }
        Snapshot {
            format: FORMAT,
            time_zone: self.config.time_zone.name().to_owned(),
            app_defaults: type_levels(|t| self.config.app_defaults.get(t)),
            users,
            conversations,
        }
    }

    fn restore(s: Snapshot) -> Result<Settings, Error> {
        if s.format != FORMAT {
            return Err(Error::snapshot(format_args!("format {} is not {FORMAT}", s.format)));
        }
        let mut app_defaults = AppDefaults::default();
        for d in &s.app_defaults {
            app_defaults.set(d.conversation_type, Some(d.unpush_level));
        }
        let mut settings = Settings::new(Config {
            time_zone: parse_zone(&s.time_zone)?,
            app_defaults,
        });
        for u in &s.users {
            let user_id = UserId::new(&u.user_id)?;
            if settings.user(&u.user_id).is_some() {
                return Err(Error::snapshot(format_args!("user {:?} is listed twice", u.user_id)));
            }
            settings.intern_user(&user_id)?;
            settings.set_period(&user_id, u.period)?;
            for t in &u.conversation_types {
                settings.set_type_level(&user_id, t.conversation_type, Some(t.unpush_level))?;
            }
        }
        let known = |settings: &Settings, id: &str| -> Result<UserId, Error> {
            match settings.user(id) {
                Some(_) => UserId::new(id),
                None => Err(Error::snapshot(format_args!(
                    "user {id:?} has a conversation level but is not in users"
                ))),
            }
        };
        for c in s.conversations {
            let t = c.conversation_type;
            let target = TargetId::new(&c.target_id)?;
            let is_ultra = t == ConversationType::UltraGroup;
            if !is_ultra && (c.default.is_some() || !c.subchannels.is_empty()) {
                return Err(Error::snapshot(format_args!(
                    "conversation {target} of type {t} has a default or subchannels, which only ultra groups have"
                )));
            }
            if settings.entry(t, target.as_str(), None).is_some() {
                return Err(Error::snapshot(format_args!(
                    "conversation {target} of type {t} is listed twice"
                )));
            }
            let key = ConversationKey::new(t, target.clone(), None)?;
            for u in &c.users {
                settings.set_conversation_level(&known(&settings, &u.user_id)?, &key, Some(u.unpush_level))?;
            }
            if is_ultra {
                settings.set_ultra_group_default(&target, None, c.default);
            }
            for sub in c.subchannels {
                let bus = BusChannel::new(&sub.bus_channel)?;
                let key = ConversationKey::new(t, target.clone(), Some(bus.clone()))?;
                for u in &sub.users {
                    settings.set_conversation_level(&known(&settings, &u.user_id)?, &key, Some(u.unpush_level))?;
                }
                settings.set_ultra_group_default(&target, Some(&bus), sub.default);
            }
        }
        Ok(settings)
    }
}

impl Serialize for Settings {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.snapshot().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Settings {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Settings, D::Error> {
        Settings::restore(Snapshot::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

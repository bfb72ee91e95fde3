//! The straightforward implementation: what a competent developer writes from
//! RULES §4 without thinking about speed. A `HashMap<String, _>` of users, the
//! time-zone conversion done for every recipient, every layer looked up by
//! string.
//!
//! It serves twice: the tests use it as an oracle that the engine must agree
//! with, and the fanout benchmark uses it as the baseline that the engine's
//! speed is measured against (it is included there with `#[path]`).
#![allow(dead_code)]

use std::collections::HashMap;

use chrono::Timelike;
use chrono_tz::Tz;
use dnd_engine::{Conversation, ConversationType, Decision, Layer, Level, Mentions, Message, Request};

#[derive(Default)]
pub struct NaiveUser {
    /// (start second of day, minutes, level, zone)
    period: Option<(u32, u32, i64, Option<Tz>)>,
    /// conversation type code → level code
    types: HashMap<i64, i64>,
    /// conversation type code → target → level code
    conversations: HashMap<i64, HashMap<String, i64>>,
    /// ultra group → subchannel → level code
    subchannels: HashMap<String, HashMap<String, i64>>,
}

pub struct Naive {
    time_zone: Tz,
    app_defaults: HashMap<i64, i64>,
    users: HashMap<String, NaiveUser>,
    /// ultra group → default
    channel_defaults: HashMap<String, i64>,
    /// ultra group → subchannel → default
    subchannel_defaults: HashMap<String, HashMap<String, i64>>,
}

/// What the naive walk answers: push, layer name, level code.
pub type NaiveDecision = (bool, &'static str, Option<i64>);

pub fn as_naive(d: Decision) -> NaiveDecision {
    (d.push(), d.by().as_str(), d.level().map(Level::code))
}

impl Naive {
    pub fn new(time_zone: Tz, app_defaults: &[(ConversationType, Level)]) -> Naive {
        Naive {
            time_zone,
            app_defaults: app_defaults.iter().map(|(t, l)| (t.code(), l.code())).collect(),
            users: HashMap::new(),
            channel_defaults: HashMap::new(),
            subchannel_defaults: HashMap::new(),
        }
    }

    pub fn apply(&mut self, request: &Request) {
        let set = |map: &mut HashMap<String, i64>, key: &str, level: Option<Level>| match level {
            Some(l) => {
                map.insert(key.to_string(), l.code());
            }
            None => {
                map.remove(key);
            }
        };
        match request {
            Request::SetPeriod { user_id, period } => {
                let user = self.users.entry(user_id.to_string()).or_default();
                user.period = Some((
                    period.window.start().seconds(),
                    u32::from(period.window.minutes()),
                    period.level.level().code(),
                    period.zone,
                ));
            }
            Request::DeletePeriod { user_id } => {
                if let Some(u) = self.users.get_mut(user_id.as_str()) {
                    u.period = None;
                }
            }
            Request::SetTypeLevel {
                user_id,
                conversation_type,
                level,
            } => {
                let user = self.users.entry(user_id.to_string()).or_default();
                match level {
                    Some(l) => user.types.insert(conversation_type.code(), l.code()),
                    None => user.types.remove(&conversation_type.code()),
                };
            }
            Request::SetConversationLevel {
                user_id,
                conversation,
                level,
            } => {
                let user = self.users.entry(user_id.to_string()).or_default();
                let target = conversation.target_id().as_str();
                match conversation.bus_channel() {
                    Some(bus) => set(
                        user.subchannels.entry(target.to_string()).or_default(),
                        bus.as_str(),
                        *level,
                    ),
                    None => set(
                        user.conversations
                            .entry(conversation.conversation_type().code())
                            .or_default(),
                        target,
                        *level,
                    ),
                }
            }
            Request::SetUltraGroupDefault {
                group_id,
                bus_channel,
                level,
            } => match bus_channel {
                Some(bus) => set(
                    self.subchannel_defaults.entry(group_id.to_string()).or_default(),
                    bus.as_str(),
                    *level,
                ),
                None => set(&mut self.channel_defaults, group_id.as_str(), *level),
            },
            _ => {}
        }
    }

    /// RULES §4, read straight down, for recipient `recipient`.
    pub fn decide(&self, message: &Message<'_>, recipient: &str) -> NaiveDecision {
        if recipient == message.sender {
            return (false, "sender", None);
        }
        if message.disable_push {
            return (false, "disable_push", None);
        }
        let conversation_type = message.conversation.conversation_type();
        let (target, bus) = match message.conversation {
            Conversation::Private | Conversation::System => (message.sender, None),
            Conversation::Group { group_id } => (group_id, None),
            Conversation::UltraGroup { group_id, bus_channel } => (group_id, bus_channel),
            other => panic!("the oracle does not know {other:?}"),
        };
        let ultra = conversation_type == ConversationType::UltraGroup;
        let apply = |layer: &'static str, level: i64| -> NaiveDecision {
            let reads_mentions = matches!(
                conversation_type,
                ConversationType::Group | ConversationType::UltraGroup
            );
            let at_all = reads_mentions && message.mentions == Mentions::All;
            let at_me = reads_mentions && matches!(message.mentions, Mentions::Users(ids) if ids.contains(&recipient));
            let push = match level {
                -1 => true,
                1 => at_all || at_me,
                2 => at_me,
                4 => at_all,
                _ => false,
            };
            (push, layer, Some(level))
        };

        if let Some(user) = self.users.get(recipient) {
            if let Some((start, minutes, level, zone)) = user.period {
                let wall = message.at.as_datetime().with_timezone(&zone.unwrap_or(self.time_zone));
                let now = wall.num_seconds_from_midnight();
                let inside = minutes == 1439 || (now + 86_400 - start) % 86_400 < minutes * 60;
                if inside {
                    return apply("user_period", level);
                }
            }
            if let (true, Some(bus)) = (ultra, bus) {
                if let Some(&level) = user.subchannels.get(target).and_then(|s| s.get(bus)) {
                    return apply("user_subchannel", level);
                }
            }
            if let Some(&level) = user
                .conversations
                .get(&conversation_type.code())
                .and_then(|c| c.get(target))
            {
                return apply("user_conversation", level);
            }
            if let Some(&level) = user.types.get(&conversation_type.code()) {
                return apply("user_conversation_type", level);
            }
        }
        if ultra {
            if let Some(bus) = bus {
                if let Some(&level) = self.subchannel_defaults.get(target).and_then(|s| s.get(bus)) {
                    return apply("subchannel_default", level);
                }
            }
            if let Some(&level) = self.channel_defaults.get(target) {
                return apply("channel_default", level);
            }
        }
        if let Some(&level) = self.app_defaults.get(&conversation_type.code()) {
            return apply("app_default", level);
        }
        apply(Layer::NothingSet.as_str(), -1)
    }
}

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

use chrono::{Datelike, Timelike};
use chrono_tz::Tz;
use dnd_engine::{
    keyword_occurs, Config, Conversation, ConversationType, Decision, Layer, Level, Mentions, Message, Request,
    VipScope,
};

/// A schedule window: (ISO days, start second, minutes, level code).
type NaiveWindow = (Vec<u8>, u32, u32, i64);

/// One user's settings, kept as the requests gave them.
#[derive(Clone, Default)]
pub struct NaiveUser {
    /// (start second of day, minutes, level, zone)
    period: Option<(u32, u32, i64, Option<Tz>)>,
    /// conversation type code → level code
    types: HashMap<i64, i64>,
    /// conversation type code → target → level code
    conversations: HashMap<i64, HashMap<String, i64>>,
    /// ultra group → subchannel → level code
    subchannels: HashMap<String, HashMap<String, i64>>,
    /// conversation type code → (temporary level code, 0 for "not set"; until ms)
    type_temps: HashMap<i64, (i64, i64)>,
    /// (type code, target, subchannel) → (temporary level code, until ms)
    conversation_temps: HashMap<(i64, String, Option<String>), (i64, i64)>,
    /// (until ms, level code)
    snooze: Option<(i64, i64)>,
    /// windows as (ISO days, start second, minutes, level code), and the zone
    schedule: Option<(Vec<NaiveWindow>, Option<Tz>)>,
    /// the VIP senders' ids and whether the scope is `all`
    vip: Option<(Vec<String>, bool)>,
    /// whether urgent messages push through
    urgent: bool,
    /// the keywords, as set (NFC, each once)
    keywords: Vec<String>,
    /// the muted senders' ids and the end of the mute (ms), if it ends
    muted: Option<(Vec<String>, Option<i64>)>,
}

/// The whole engine's state: its configuration, every user's settings and
/// the ultra groups' defaults.
#[derive(Clone)]
pub struct Naive {
    time_zone: Tz,
    app_defaults: HashMap<i64, i64>,
    users: HashMap<String, NaiveUser>,
    /// ultra group → default
    channel_defaults: HashMap<String, i64>,
    /// ultra group → subchannel → default
    subchannel_defaults: HashMap<String, HashMap<String, i64>>,
    /// (ultra group, subchannel) → (temporary default code, until ms)
    default_temps: HashMap<(String, Option<String>), (i64, i64)>,
    /// a private message mentions its recipient
    private_as_mention: bool,
    /// user group → members
    user_groups: HashMap<String, Vec<String>>,
    /// the most members for an @all to count
    max_members: Option<u32>,
}

/// The level a layer holds at `at`: the temporary one while it is in force, else the permanent one.
fn effective(permanent: Option<i64>, temporary: Option<&(i64, i64)>, at: i64) -> Option<i64> {
    match temporary {
        Some(&(level, until)) if at < until => (level != 0).then_some(level),
        _ => permanent,
    }
}

/// What the naive walk answers: push, layer name, level code.
pub type NaiveDecision = (bool, &'static str, Option<i64>);

/// An engine's decision in the naive walk's terms, to compare the two.
pub fn as_naive(d: Decision) -> NaiveDecision {
    (d.push(), d.by().as_str(), d.level().map(Level::code))
}

impl Naive {
    /// An oracle with no settings yet, for an engine in `time_zone` with
    /// `app_defaults`.
    pub fn new(time_zone: Tz, app_defaults: &[(ConversationType, Level)]) -> Naive {
        Naive {
            time_zone,
            app_defaults: app_defaults.iter().map(|(t, l)| (t.code(), l.code())).collect(),
            users: HashMap::new(),
            channel_defaults: HashMap::new(),
            subchannel_defaults: HashMap::new(),
            default_temps: HashMap::new(),
            private_as_mention: false,
            max_members: None,
            user_groups: HashMap::new(),
        }
    }

    /// The oracle for an engine set up with `config`.
    pub fn of_config(config: &Config) -> Naive {
        let defaults: Vec<_> = ConversationType::ALL
            .into_iter()
            .filter_map(|t| Some((t, config.app_defaults.get(t)?)))
            .collect();
        let mut naive = Naive::new(config.time_zone, &defaults);
        naive.private_as_mention = config.private_as_mention;
        naive.max_members = config.mention_all_max_members;
        naive
    }

    /// Applies an accepted request, as the rules say it changes the
    /// settings.
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
                user.schedule = None;
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
                user.type_temps.remove(&conversation_type.code());
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
                user.conversation_temps.remove(&(
                    conversation.conversation_type().code(),
                    target.to_string(),
                    conversation.bus_channel().map(|b| b.to_string()),
                ));
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
            } => {
                self.default_temps
                    .remove(&(group_id.to_string(), bus_channel.as_ref().map(|b| b.to_string())));
                match bus_channel {
                    Some(bus) => set(
                        self.subchannel_defaults.entry(group_id.to_string()).or_default(),
                        bus.as_str(),
                        *level,
                    ),
                    None => set(&mut self.channel_defaults, group_id.as_str(), *level),
                }
            }
            Request::SetTypeLevelUntil {
                user_id,
                conversation_type,
                level,
                until,
            } => {
                let user = self.users.entry(user_id.to_string()).or_default();
                user.type_temps.insert(
                    conversation_type.code(),
                    (Level::code_of(*level), until.timestamp_millis()),
                );
            }
            Request::SetConversationLevelUntil {
                user_id,
                conversation,
                level,
                until,
            } => {
                let user = self.users.entry(user_id.to_string()).or_default();
                user.conversation_temps.insert(
                    (
                        conversation.conversation_type().code(),
                        conversation.target_id().to_string(),
                        conversation.bus_channel().map(|b| b.to_string()),
                    ),
                    (Level::code_of(*level), until.timestamp_millis()),
                );
            }
            Request::SetUltraGroupDefaultUntil {
                group_id,
                bus_channel,
                level,
                until,
            } => {
                self.default_temps.insert(
                    (group_id.to_string(), bus_channel.as_ref().map(|b| b.to_string())),
                    (Level::code_of(*level), until.timestamp_millis()),
                );
            }
            Request::SetSnooze { user_id, snooze } => {
                let user = self.users.entry(user_id.to_string()).or_default();
                user.snooze = Some((snooze.until.timestamp_millis(), snooze.level.level().code()));
            }
            Request::DeleteSnooze { user_id } => {
                if let Some(u) = self.users.get_mut(user_id.as_str()) {
                    u.snooze = None;
                }
            }
            Request::SetSchedule { user_id, schedule } => {
                let user = self.users.entry(user_id.to_string()).or_default();
                user.period = None;
                user.schedule = Some((
                    schedule
                        .windows()
                        .iter()
                        .map(|w| {
                            (
                                w.days().collect(),
                                w.start().seconds(),
                                u32::from(w.minutes()),
                                w.level().level().code(),
                            )
                        })
                        .collect(),
                    schedule.zone(),
                ));
            }
            Request::DeleteSchedule { user_id } => {
                if let Some(u) = self.users.get_mut(user_id.as_str()) {
                    u.schedule = None;
                }
            }
            Request::SetVip { user_id, vip } => {
                let user = self.users.entry(user_id.to_string()).or_default();
                let ids: Vec<String> = vip.user_ids().iter().map(|id| id.to_string()).collect();
                user.vip = (!ids.is_empty()).then_some((ids, vip.scope() == VipScope::All));
            }
            Request::SetUrgent { user_id, allow } => {
                self.users.entry(user_id.to_string()).or_default().urgent = *allow;
            }
            Request::SetMutedSenders { user_id, muted_senders } => {
                let ids: Vec<String> = muted_senders.sender_ids().iter().map(|id| id.to_string()).collect();
                self.users.entry(user_id.to_string()).or_default().muted =
                    (!ids.is_empty()).then(|| (ids, muted_senders.until().map(|u| u.timestamp_millis())));
            }
            Request::SetUserGroup { group_id, member_ids } => {
                let members: Vec<String> = member_ids.iter().map(|id| id.to_string()).collect();
                if members.is_empty() {
                    self.user_groups.remove(group_id.as_str());
                } else {
                    self.user_groups.insert(group_id.to_string(), members);
                }
            }
            Request::DeleteUserGroup { group_id } => {
                self.user_groups.remove(group_id.as_str());
            }
            Request::SetKeywords { user_id, keywords } => {
                self.users.entry(user_id.to_string()).or_default().keywords =
                    keywords.as_slice().iter().map(|k| k.to_string()).collect();
            }
            _ => {}
        }
    }

    /// RULES §4, read straight down, for recipient `recipient`, with the
    /// break-through rules (§10) on top.
    pub fn decide(&self, message: &Message<'_>, recipient: &str) -> NaiveDecision {
        if recipient == message.sender {
            return (false, "sender", None);
        }
        if message.disable_push {
            return (false, "disable_push", None);
        }
        let user = self.users.get(recipient);
        let at = message.at.timestamp_millis();
        let muted = user
            .and_then(|u| u.muted.as_ref())
            .is_some_and(|(ids, until)| ids.iter().any(|id| id == message.sender) && until.is_none_or(|u| at < u));
        if muted {
            return (false, "muted_sender", None);
        }
        if message.urgent && user.is_some_and(|u| u.urgent) {
            return (true, "urgent", None);
        }
        let vip = user
            .and_then(|u| u.vip.as_ref())
            .filter(|(ids, _)| ids.iter().any(|id| id == message.sender));
        match vip {
            Some((_, true)) => (true, "vip", None),
            Some((_, false)) => {
                // Scope quiet: the walk, or else the walk without the quiet time, if that pushes.
                let with_quiet = self.walk(message, recipient, user, true);
                let without = self.walk(message, recipient, user, false);
                if !with_quiet.0 && without.0 {
                    without
                } else {
                    with_quiet
                }
            }
            None => self.walk(message, recipient, user, true),
        }
    }

    /// The layers below the break-through ones, read straight down; the
    /// snooze, the schedule and the period only when `quiet`.
    fn walk(&self, message: &Message<'_>, recipient: &str, user: Option<&NaiveUser>, quiet: bool) -> NaiveDecision {
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
            // @all governance: too many members, or a sender who may not, and @all is no mention.
            let too_many = matches!((message.member_count, self.max_members), (Some(n), Some(max)) if n > max);
            let all_counts = message.mention_all_allowed && !too_many;
            let at_all = reads_mentions && message.mentions == Mentions::All && all_counts;
            let private_mention = self.private_as_mention && conversation_type == ConversationType::Private;
            // A keyword of the recipient found in the text, searched for
            // this recipient alone, keyword by keyword.
            let by_keyword =
                reads_mentions && user.is_some_and(|u| u.keywords.iter().any(|k| keyword_occurs(k, message.text)));
            // A member of a mentioned user group, whatever becomes of an @all.
            let by_group = reads_mentions
                && message.mentioned_groups.iter().any(|g| {
                    self.user_groups
                        .get(*g)
                        .is_some_and(|members| members.iter().any(|m| m == recipient))
                });
            let at_me = private_mention
                || by_keyword
                || by_group
                || reads_mentions && matches!(message.mentions, Mentions::Users(ids) if ids.contains(&recipient));
            let push = match level {
                -1 => true,
                1 => at_all || at_me,
                2 => at_me,
                4 => at_all,
                _ => false,
            };
            (push, layer, Some(level))
        };

        let at = message.at.timestamp_millis();
        let group_default = |bus: Option<&str>| -> Option<i64> {
            let permanent = match bus {
                Some(bus) => self.subchannel_defaults.get(target).and_then(|s| s.get(bus)).copied(),
                None => self.channel_defaults.get(target).copied(),
            };
            effective(
                permanent,
                self.default_temps.get(&(target.to_string(), bus.map(str::to_string))),
                at,
            )
        };
        if let Some(user) = user {
            let conversation_temp = |bus: Option<&str>| {
                user.conversation_temps
                    .get(&(conversation_type.code(), target.to_string(), bus.map(str::to_string)))
            };
            if let (true, Some((until, level))) = (quiet, user.snooze) {
                if at < until {
                    return apply("user_snooze", level);
                }
            }
            if let (true, Some((windows, zone))) = (quiet, &user.schedule) {
                let wall = message.at.with_timezone(&zone.unwrap_or(self.time_zone));
                let week = wall.weekday().num_days_from_monday() * 86_400 + wall.num_seconds_from_midnight();
                for (days, start, minutes, level) in windows {
                    for &d in days {
                        let from = u32::from(d - 1) * 86_400 + start;
                        if (week + 7 * 86_400 - from) % (7 * 86_400) < minutes * 60 {
                            return apply("user_period", *level);
                        }
                    }
                }
            }
            if let (true, Some((start, minutes, level, zone))) = (quiet, user.period) {
                let wall = message.at.as_datetime().with_timezone(&zone.unwrap_or(self.time_zone));
                let now = wall.num_seconds_from_midnight();
                let inside = minutes == 1439 || (now + 86_400 - start) % 86_400 < minutes * 60;
                if inside {
                    return apply("user_period", level);
                }
            }
            if let (true, Some(bus)) = (ultra, bus) {
                let permanent = user.subchannels.get(target).and_then(|s| s.get(bus)).copied();
                if let Some(level) = effective(permanent, conversation_temp(Some(bus)), at) {
                    return apply("user_subchannel", level);
                }
            }
            let permanent = user
                .conversations
                .get(&conversation_type.code())
                .and_then(|c| c.get(target))
                .copied();
            if let Some(level) = effective(permanent, conversation_temp(None), at) {
                return apply("user_conversation", level);
            }
            let permanent = user.types.get(&conversation_type.code()).copied();
            if let Some(level) = effective(permanent, user.type_temps.get(&conversation_type.code()), at) {
                return apply("user_conversation_type", level);
            }
        }
        if ultra {
            if let Some(bus) = bus {
                if let Some(level) = group_default(Some(bus)) {
                    return apply("subchannel_default", level);
                }
            }
            if let Some(level) = group_default(None) {
                return apply("channel_default", level);
            }
        }
        if let Some(&level) = self.app_defaults.get(&conversation_type.code()) {
            return apply("app_default", level);
        }
        apply(Layer::NothingSet.as_str(), -1)
    }
}

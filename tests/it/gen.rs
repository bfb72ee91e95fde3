//! The generators the property tests share: ids, levels, zones, periods,
//! conversation keys, typed change requests, engine set-ups and messages
//! (`properties`, `shards`, `api`, `sparse`); and worlds of requests as a
//! client sends them, with the instants around a clock change that they
//! fall on (`time_props`, `policy_props`). The policy properties' own
//! generators are in `gen/policy.rs`, the sharding property's in
//! `gen/shard.rs`: every property generator of the tests is under `gen`.
//!
//! Each strategy keeps the shape it had where it was first written, so
//! the seeds in `tests/proptest-regressions/` still give the same cases.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use dnd_engine::{
    BusChannel, Config, Conversation, ConversationKey, ConversationType, Decision, DndPeriod, DndWindow, Level,
    Mentions, Message, PeriodLevel, Request, Settings, TargetId, TimeOfDay, Timestamp, UserId,
};
use proptest::prelude::*;

use crate::naive::Naive;

pub mod policy;
pub mod shard;

/// The users of the small worlds.
pub const USERS: [&str; 6] = ["u0", "u1", "u2", "u3", "u4", "u5"];
/// Their groups and ultra groups.
pub const GROUPS: [&str; 3] = ["g0", "g1", "g2"];
/// The ultra groups' subchannels.
pub const BUSES: [&str; 3] = ["c0", "c1", "c2"];
/// Every recipient the small worlds ask about: the known users and one unknown.
pub const RECIPIENTS: [&str; 7] = ["u0", "u1", "u2", "u3", "u4", "u5", "stranger"];
/// Data-center and period zones, odd offsets included.
pub const ZONES: [Tz; 6] = [
    chrono_tz::UTC,
    chrono_tz::Asia::Shanghai,
    chrono_tz::America::New_York,
    chrono_tz::Europe::London,
    chrono_tz::Australia::Lord_Howe, // moves its clocks by 30 minutes
    chrono_tz::Asia::Kathmandu,      // +05:45
];
/// Every level that is set (not "not set").
pub const LEVELS: [Level; 5] = [
    Level::All,
    Level::Mentions,
    Level::MentionsOfMe,
    Level::MentionsOfAll,
    Level::Nothing,
];

/// The number of cases: `PROPTEST_CASES` when it is set (for a long run),
/// else `default`. (A `cases` written in the config would override it.)
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A level that is set: generated, not filtered out of [`level`].
pub fn set_level() -> impl Strategy<Value = Level> {
    prop::sample::select(LEVELS.to_vec())
}

/// A level, set five times in six.
pub fn level() -> impl Strategy<Value = Option<Level>> {
    prop_oneof![1 => Just(None), 5 => set_level().prop_map(Some)]
}

/// "Not set" or any level, evenly.
pub fn any_level() -> impl Strategy<Value = Option<Level>> {
    prop::sample::select([&[None][..], &LEVELS.map(Some)[..]].concat())
}

/// Any conversation type.
pub fn conversation_type() -> impl Strategy<Value = ConversationType> {
    prop::sample::select(ConversationType::ALL.to_vec())
}

/// One of `ids`, as a user id.
pub fn user_in<S: AsRef<str> + Clone + std::fmt::Debug + 'static>(ids: Vec<S>) -> impl Strategy<Value = UserId> {
    prop::sample::select(ids).prop_map(|u| UserId::new(u.as_ref()).unwrap())
}

/// A period: any start, 1 to 1439 minutes, level 1 or 5, in the data
/// center's zone or one of [`ZONES`].
pub fn period() -> impl Strategy<Value = DndPeriod> {
    (
        0u32..86_400,
        1i64..=1439,
        any::<bool>(),
        prop::option::of(prop::sample::select(ZONES.to_vec())),
    )
        .prop_map(|(start, minutes, five, zone)| DndPeriod {
            window: DndWindow::new(TimeOfDay::from_seconds(start).unwrap(), minutes).unwrap(),
            level: if five {
                PeriodLevel::Nothing
            } else {
                PeriodLevel::Mentions
            },
            zone,
        })
}

/// A conversation key: any type, one of `targets`; one of [`BUSES`] (or
/// none) for type 10 only.
pub fn conversation_key(targets: Vec<&'static str>) -> impl Strategy<Value = ConversationKey> {
    (
        conversation_type(),
        prop::sample::select(targets),
        prop::option::of(prop::sample::select(BUSES.to_vec())),
    )
        .prop_map(|(t, target, bus)| {
            let bus = bus
                .filter(|_| t == ConversationType::UltraGroup)
                .map(|b| BusChannel::new(b).unwrap());
            ConversationKey::new(t, TargetId::new(target).unwrap(), bus).unwrap()
        })
}

/// An ultra group default: one of [`GROUPS`], a subchannel or none, `level`.
pub fn ultra_group_default(level: impl Strategy<Value = Option<Level>>) -> impl Strategy<Value = Request> {
    (
        prop::sample::select(GROUPS.to_vec()),
        prop::option::of(prop::sample::select(BUSES.to_vec())),
        level,
    )
        .prop_map(|(g, bus, level)| Request::SetUltraGroupDefault {
            group_id: TargetId::new(g).unwrap(),
            bus_channel: bus.map(|b| BusChannel::new(b).unwrap()),
            level,
        })
}

/// Any change request of the nine, over [`USERS`].
pub fn change() -> impl Strategy<Value = Request> {
    let user = || user_in(USERS.to_vec());
    prop_oneof![
        (user(), period()).prop_map(|(user_id, period)| Request::SetPeriod { user_id, period }),
        user().prop_map(|user_id| Request::DeletePeriod { user_id }),
        (user(), conversation_key([&USERS[..], &GROUPS[..]].concat()), level()).prop_map(
            |(user_id, conversation, level)| {
                Request::SetConversationLevel {
                    user_id,
                    conversation,
                    level,
                }
            }
        ),
        (user(), conversation_type(), level()).prop_map(|(user_id, conversation_type, level)| {
            Request::SetTypeLevel {
                user_id,
                conversation_type,
                level,
            }
        }),
        ultra_group_default(level()),
    ]
}

/// A random engine set-up: a data-center zone and up to four app defaults.
pub fn config() -> impl Strategy<Value = Config> {
    (
        prop::sample::select(ZONES.to_vec()),
        prop::collection::vec((conversation_type(), set_level()), 0..3),
    )
        .prop_map(|(zone, defaults)| {
            defaults
                .into_iter()
                .fold(Config::new(zone), |c, (t, l)| c.with_app_default(t, l))
        })
}

/// Settings with `config` after `changes`, each of which must succeed.
pub fn build(config: &Config, changes: &[Request]) -> Settings {
    let mut settings = Settings::new(config.clone());
    for c in changes {
        assert_eq!(settings.apply(c).code(), 200);
    }
    settings
}

/// A message's mentions by kind: 0 none, 1 @all, else `mentioned`.
pub fn mentions<'a>(kind: u8, mentioned: &'a [&'a str]) -> Mentions<'a> {
    match kind {
        0 => Mentions::None,
        1 => Mentions::All,
        _ => Mentions::Users(mentioned),
    }
}

/// The parts of a message, owned, so that a strategy can produce them.
#[derive(Clone, Debug)]
pub struct MessageParts {
    pub conversation_type: ConversationType,
    pub target: &'static str,
    pub bus: Option<&'static str>,
    pub sender: &'static str,
    pub mention: u8,
    pub mentioned: Vec<&'static str>,
    pub disable_push: bool,
    pub at: Timestamp,
    /// Urgent: it matters only where somebody allows urgent messages.
    pub urgent: bool,
}

impl MessageParts {
    pub fn message(&self) -> Message<'_> {
        let conversation = match self.conversation_type {
            ConversationType::Private => Conversation::Private,
            ConversationType::Group => Conversation::Group { group_id: self.target },
            ConversationType::System => Conversation::System,
            _ => Conversation::UltraGroup {
                group_id: self.target,
                bus_channel: self.bus,
            },
        };
        let message =
            Message::new(conversation, self.sender, self.at).with_mentions(mentions(self.mention, &self.mentioned));
        let message = if self.disable_push {
            message.with_push_disabled()
        } else {
            message
        };
        if self.urgent {
            message.with_urgent()
        } else {
            message
        }
    }
}

/// A message in one of [`GROUPS`] from one of [`USERS`] or an outsider.
pub fn message() -> impl Strategy<Value = MessageParts> {
    message_from([&USERS[..], &["outsider"]].concat(), 0.1)
}

/// A message sent by one of `senders`, with `disablePush` with probability
/// `disable_push`: a property that needs some sender or no `disablePush`
/// generates only such messages rather than filtering the others out.
pub fn message_from(senders: Vec<&'static str>, disable_push: f64) -> impl Strategy<Value = MessageParts> {
    (
        conversation_type(),
        prop::sample::select(GROUPS.to_vec()),
        prop::option::of(prop::sample::select(BUSES.to_vec())),
        prop::sample::select(senders),
        0u8..3,
        prop::collection::vec(prop::sample::select([&USERS[..], &["outsider"]].concat()), 0..4),
        prop::bool::weighted(disable_push),
        // 2020 to 2030, to the millisecond
        1_577_836_800_000i64..1_893_456_000_000,
        prop::bool::weighted(0.3),
    )
        .prop_map(
            |(conversation_type, target, bus, sender, mention, mentioned, disable_push, ms, urgent)| MessageParts {
                conversation_type,
                target,
                bus,
                sender,
                mention,
                mentioned,
                disable_push,
                at: Timestamp::from_millis(ms).unwrap(),
                urgent,
            },
        )
}

/// Each of `recipients`' decision for `message`.
pub fn decisions(settings: &Settings, message: &Message<'_>, recipients: &[&str]) -> Vec<Decision> {
    let p = settings.prepare(message);
    recipients.iter().map(|r| p.decide_id(r)).collect()
}

// Worlds of requests as a client sends them (path, form body).

/// Zones with clock changes near [`instant`]`(0)`, and one without.
pub const CLOCK_ZONES: [&str; 4] = ["Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Sydney"];
/// The users who set things in those worlds; `s` sends.
pub const TIME_USERS: [&str; 6] = ["u0", "u1", "u2", "u3", "u4", "s"];

/// Around New York's spring-forward (2026-03-08) so that clock changes are in play.
fn base() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-06T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// `minutes` after 2026-03-06T12:00:00Z.
pub fn instant(minutes: i64) -> DateTime<Utc> {
    base() + Duration::minutes(minutes)
}

/// `t` as a message time (the tests' times are all in range).
pub fn ts(t: DateTime<Utc>) -> Timestamp {
    Timestamp::new(t).unwrap()
}

/// A conversation by kind: 0 group `g`, 1 ultra group `club`, 2 its
/// subchannel `news`, 3 system, else private.
pub fn conversation(kind: u8) -> Conversation<'static> {
    match kind {
        0 => Conversation::Group { group_id: "g" },
        1 => Conversation::UltraGroup {
            group_id: "club",
            bus_channel: None,
        },
        2 => Conversation::UltraGroup {
            group_id: "club",
            bus_channel: Some("news"),
        },
        3 => Conversation::System,
        _ => Conversation::Private,
    }
}

/// One request of the time extensions or the nine's changes, as a path and
/// a form body, by one of the first five [`TIME_USERS`] in the
/// conversations of [`conversation`]; `until` on the level requests when `timed`.
pub fn request(timed: bool) -> impl Strategy<Value = (String, String)> {
    let user = prop::sample::select(&TIME_USERS[..5]);
    let level = prop::sample::select(&[-1i64, 0, 1, 2, 4, 5][..]);
    let until = (-1440i64..12 * 1440).prop_map(|m| instant(m).timestamp_millis());
    let until = if timed {
        until.prop_map(|u| format!("&until={u}")).boxed()
    } else {
        Just(String::new()).boxed()
    };
    let quiet_level = prop::sample::select(&[1i64, 2, 4, 5][..]);
    let zone = prop::option::of(prop::sample::select(&CLOCK_ZONES[..]));
    let window = (
        prop::collection::btree_set(1u8..=7, 1..4),
        0u32..86_400,
        1i64..=1440,
        quiet_level.clone(),
    )
        .prop_map(|(days, start, minutes, level)| {
            format!(
                r#"{{"days":{:?},"startTime":"{:02}:{:02}:{:02}","period":{minutes},"level":{level}}}"#,
                days.into_iter().collect::<Vec<_>>(),
                start / 3600,
                start / 60 % 60,
                start % 60
            )
        });
    prop_oneof![
        (
            user.clone(),
            0u32..86_400,
            1i64..=1439,
            prop::sample::select(&[1i64, 5][..]),
            zone.clone()
        )
            .prop_map(|(u, start, minutes, level, zone)| (
                "/user/blockPushPeriod/set.json".to_string(),
                format!(
                    "userId={u}&startTime={:02}:{:02}:{:02}&period={minutes}&level={level}{}",
                    start / 3600,
                    start / 60 % 60,
                    start % 60,
                    zone.map(|z| format!("&timezone={z}")).unwrap_or_default()
                )
            )),
        (user.clone(), prop::collection::vec(window, 1..3), zone).prop_map(|(u, windows, zone)| (
            "/user/blockPushSchedule/set.json".to_string(),
            form_urlencoded::Serializer::new(String::new())
                .append_pair("userId", u)
                .append_pair("windows", &format!("[{}]", windows.join(",")))
                .extend_pairs(zone.map(|z| ("timezone", z)))
                .finish()
        )),
        (user.clone(), -1440i64..10 * 1440, quiet_level).prop_map(|(u, m, level)| (
            "/user/snooze/set.json".to_string(),
            format!("userId={u}&until={}&level={level}", instant(m).timestamp_millis())
        )),
        (
            user.clone(),
            prop::sample::select(&[1i64, 3, 10][..]),
            level.clone(),
            until.clone()
        )
            .prop_map(|(u, t, l, until)| (
                "/conversation/type/notification/set.json".to_string(),
                format!("conversationType={t}&requestId={u}&unpushLevel={l}{until}")
            )),
        (
            user,
            prop::sample::select(&["t=3&g=g", "t=10&g=club", "t=10&g=club&b=news", "t=1&g=s"][..]),
            level.clone(),
            until.clone()
        )
            .prop_map(|(u, conv, l, until)| {
                let conv = conv
                    .replace("t=", "conversationType=")
                    .replace("&g=", "&targetId=")
                    .replace("&b=", "&busChannel=");
                (
                    "/conversation/notification/set.json".to_string(),
                    format!("{conv}&requestId={u}&unpushLevel={l}{until}"),
                )
            }),
        (prop::sample::select(&["", "&busChannel=news"][..]), level, until).prop_map(|(b, l, until)| (
            "/ultragroup/notdisturb/set.json".to_string(),
            format!("groupId=club{b}&unpushLevel={l}{until}")
        )),
    ]
}

/// Settings, the oracle, and the requests they both took.
pub struct World {
    pub settings: Settings,
    pub naive: Naive,
    pub accepted: Vec<Request>,
}

/// The requests that parse, applied to settings with `config` and to the
/// oracle; each must then succeed.
pub fn world(config: &Config, requests: &[(String, String)]) -> World {
    let mut settings = Settings::new(config.clone());
    let mut naive = Naive::of_config(config);
    let mut accepted = Vec::new();
    for (path, body) in requests {
        if let Ok(r) = Request::parse(path, body.as_bytes()) {
            assert_eq!(settings.apply(&r).code(), 200, "{path} {body}");
            naive.apply(&r);
            accepted.push(r);
        }
    }
    World {
        settings,
        naive,
        accepted,
    }
}

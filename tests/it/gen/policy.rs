//! The generators of the break-through policy's properties
//! (`policy_props`): VIP lists and urgent consent as form requests, among
//! requests of every kind; configurations with the mention policy; the parts
//! of a message with its policy fields.

use chrono_tz::Tz;
use dnd_engine::{Config, ConversationType, Level, Message, Timestamp};
use proptest::prelude::*;

use crate::gen::{conversation, instant, mentions, request, CLOCK_ZONES};

/// Everyone the properties ask about: the users who set things, the senders, a stranger.
pub const RECIPIENTS: [&str; 8] = ["u0", "u1", "u2", "u3", "u4", "s", "boss", "stranger"];
pub const SENDERS: [&str; 3] = ["s", "boss", "u1"];
pub const MENTIONED: [&str; 2] = ["u1", "u3"];

/// A VIP list or an urgent consent, as a path and a form body.
pub fn policy_request() -> impl Strategy<Value = (String, String)> {
    let user = prop::sample::select(&RECIPIENTS[..6]);
    let listed = prop::collection::vec(prop::sample::select(&["s", "boss", "u0", "u1", "u2"][..]), 0..4);
    prop_oneof![
        (
            user.clone(),
            listed,
            prop::sample::select(&["", "&scope=quiet", "&scope=all"][..])
        )
            .prop_map(|(u, mut ids, scope)| {
                ids.sort_unstable();
                ids.dedup();
                let json = serde_json::to_string(&ids).unwrap();
                let ids: String = form_urlencoded::byte_serialize(json.as_bytes()).collect();
                (
                    "/user/vip/set.json".to_string(),
                    format!("userId={u}&vipUserIds={ids}{scope}"),
                )
            }),
        (user, 0u8..2)
            .prop_map(|(u, allow)| ("/user/urgent/set.json".to_string(), format!("userId={u}&allow={allow}"))),
    ]
}

/// Requests of every kind, a third of them about policy.
pub fn requests(most: usize) -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(prop_oneof![2 => request(true), 1 => policy_request()], 0..most)
}

/// A data-center zone, private chats as mentions or not, a maximum for @all
/// or none, and app defaults that read mentions (so that @all matters).
pub fn config() -> impl Strategy<Value = Config> {
    (
        prop::sample::select(&CLOCK_ZONES[..]),
        any::<bool>(),
        prop::option::of(0u32..4),
        prop::sample::select(
            &[
                None,
                Some(Level::Mentions),
                Some(Level::MentionsOfAll),
                Some(Level::MentionsOfMe),
            ][..],
        ),
    )
        .prop_map(|(zone, private, max, default)| {
            let mut config = Config::new(zone.parse::<Tz>().unwrap());
            config.private_as_mention = private;
            config.mention_all_max_members = max;
            for t in ConversationType::ALL {
                config.app_defaults.set(t, default);
            }
            config
        })
}

/// The parts of a message.
#[derive(Clone, Copy, Debug)]
pub struct Parts {
    pub kind: u8,
    pub sender: &'static str,
    pub mention: u8,
    pub minutes: i64,
    pub urgent: bool,
    pub disable_push: bool,
    pub members: Option<u32>,
    pub allowed: bool,
}

pub fn parts() -> impl Strategy<Value = Parts> {
    (
        (0u8..5, prop::sample::select(&SENDERS[..]), 0u8..3, -1440i64..12 * 1440),
        (
            any::<bool>(),
            prop::bool::weighted(0.1),
            prop::option::of(0u32..4),
            prop::bool::weighted(0.8),
        ),
    )
        .prop_map(
            |((kind, sender, mention, minutes), (urgent, disable_push, members, allowed))| Parts {
                kind,
                sender,
                mention,
                minutes,
                urgent,
                disable_push,
                members,
                allowed,
            },
        )
}

impl Parts {
    pub fn message(&self) -> Message<'static> {
        let mut m = Message::new(
            conversation(self.kind),
            self.sender,
            Timestamp::new(instant(self.minutes)).unwrap(),
        )
        .with_mentions(mentions(self.mention, &MENTIONED))
        .with_mention_all_allowed(self.allowed);
        m.urgent = self.urgent;
        m.disable_push = self.disable_push;
        m.member_count = self.members;
        m
    }
}

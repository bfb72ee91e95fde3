//! RULES §4, the layers: their order, the sender and `disablePush`, which
//! conversation and subchannel a setting applies to, and explanations.

use chrono_tz::{Asia, UTC};
use dnd_engine::{Config, Conversation, ConversationType, Layer, Level, Mentions, Message, Recipient};

use crate::support::*;

/// A world where every layer holds something for recipient "r" in ultra group
/// "g", subchannel "c": each test removes the layers above the one it checks.
fn every_layer() -> Vec<(&'static str, &'static str)> {
    vec![
        (PERIOD, "userId=r&startTime=00:00:00&period=1439&level=1"),
        (
            CONVERSATION,
            "conversationType=10&requestId=r&targetId=g&busChannel=c&unpushLevel=2",
        ),
        (CONVERSATION, "conversationType=10&requestId=r&targetId=g&unpushLevel=4"),
        (TYPE, "conversationType=10&requestId=r&unpushLevel=5"),
        (DEFAULT, "groupId=g&busChannel=c&unpushLevel=-1"),
        (DEFAULT, "groupId=g&unpushLevel=1"),
    ]
}

fn config_with_app_default() -> Config {
    Config::new(UTC).with_app_default(ConversationType::UltraGroup, Level::MentionsOfAll)
}

#[test]
fn s4_each_layer_in_order_hides_every_layer_below() {
    let expected = [
        (Layer::UserPeriod, Level::Mentions),
        (Layer::UserSubchannel, Level::MentionsOfMe),
        (Layer::UserConversation, Level::MentionsOfAll),
        (Layer::UserConversationType, Level::Nothing),
        (Layer::SubchannelDefault, Level::All),
        (Layer::ChannelDefault, Level::Mentions),
        (Layer::AppDefault, Level::MentionsOfAll),
    ];
    let layers = every_layer();
    let msg = Message::new(ultra("g", Some("c")), "s", at(NOON_UTC));
    for (dropped, (layer, level)) in expected.iter().enumerate() {
        let s = settings_with(config_with_app_default(), &layers[dropped.min(layers.len())..]);
        let d = decide(&s, &msg, "r");
        assert_eq!(
            (d.by(), d.level()),
            (*layer, Some(*level)),
            "with the top {dropped} layers removed"
        );
    }
    let nothing = settings(UTC, &[]);
    let d = decide(&nothing, &msg, "r");
    assert_eq!(
        (d.push(), d.by(), d.level()),
        (true, Layer::NothingSet, Some(Level::All))
    );
}

#[test]
fn s4_the_sender_never_gets_a_push() {
    let s = settings(UTC, &[(TYPE, "conversationType=3&requestId=s&unpushLevel=-1")]);
    let d = decide(
        &s,
        &Message::new(group("g"), "s", at(NOON_UTC)).with_mentions(Mentions::All),
        "s",
    );
    assert_eq!((d.push(), d.by(), d.level()), (false, Layer::Sender, None));
}

#[test]
fn s4_disable_push_pushes_to_no_one() {
    let s = settings(UTC, &[(TYPE, "conversationType=3&requestId=r&unpushLevel=-1")]);
    let msg = Message::new(group("g"), "s", at(NOON_UTC)).with_push_disabled();
    let d = decide(&s, &msg, "r");
    assert_eq!((d.push(), d.by(), d.level()), (false, Layer::DisablePush, None));
    // The sender is named first.
    assert_eq!(decide(&s, &msg, "s").by(), Layer::Sender);
}

#[test]
fn s4_a_users_minus_one_beats_an_admins_five() {
    let s = settings(
        UTC,
        &[
            (
                CONVERSATION,
                "conversationType=10&requestId=r&targetId=g&unpushLevel=-1",
            ),
            (DEFAULT, "groupId=g&busChannel=c&unpushLevel=5"),
            (DEFAULT, "groupId=g&unpushLevel=5"),
        ],
    );
    let d = decide(&s, &Message::new(ultra("g", Some("c")), "s", at(NOON_UTC)), "r");
    assert_eq!((d.push(), d.by()), (true, Layer::UserConversation));
    // And another member, with nothing of their own, gets the admin's 5.
    let d = decide(&s, &Message::new(ultra("g", Some("c")), "s", at(NOON_UTC)), "q");
    assert_eq!((d.push(), d.by()), (false, Layer::SubchannelDefault));
}

#[test]
fn s4_ultra_group_defaults_do_not_apply_to_a_group_with_the_same_id() {
    let s = settings(UTC, &[(DEFAULT, "groupId=g&unpushLevel=5")]);
    let d = decide(&s, &Message::new(group("g"), "s", at(NOON_UTC)), "r");
    assert_eq!((d.push(), d.by()), (true, Layer::NothingSet));
    let d = decide(&s, &Message::new(ultra("g", None), "s", at(NOON_UTC)), "r");
    assert_eq!((d.push(), d.by()), (false, Layer::ChannelDefault));
}

#[test]
fn s4_a_conversation_level_is_per_type() {
    // A level on group "g" says nothing about ultra group "g".
    let s = settings(
        UTC,
        &[(CONVERSATION, "conversationType=3&requestId=r&targetId=g&unpushLevel=5")],
    );
    assert_eq!(
        decide(&s, &Message::new(group("g"), "s", at(NOON_UTC)), "r").by(),
        Layer::UserConversation
    );
    assert_eq!(
        decide(&s, &Message::new(ultra("g", None), "s", at(NOON_UTC)), "r").by(),
        Layer::NothingSet
    );
}

#[test]
fn s4_a_subchannel_setting_does_not_apply_to_another_subchannel_or_to_a_message_without_one() {
    let s = settings(
        UTC,
        &[
            (
                CONVERSATION,
                "conversationType=10&requestId=r&targetId=g&busChannel=c&unpushLevel=5",
            ),
            (DEFAULT, "groupId=g&busChannel=c&unpushLevel=5"),
        ],
    );
    assert_eq!(
        decide(&s, &Message::new(ultra("g", Some("c")), "s", at(NOON_UTC)), "r").by(),
        Layer::UserSubchannel
    );
    assert_eq!(
        decide(&s, &Message::new(ultra("g", Some("c")), "s", at(NOON_UTC)), "q").by(),
        Layer::SubchannelDefault
    );
    for other in [ultra("g", Some("d")), ultra("g", None), ultra("h", Some("c"))] {
        let d = decide(&s, &Message::new(other, "s", at(NOON_UTC)), "r");
        assert_eq!((d.push(), d.by()), (true, Layer::NothingSet), "{other:?}");
    }
}

#[test]
fn s4_a_users_ultra_group_level_applies_to_every_subchannel() {
    let s = settings(
        UTC,
        &[(CONVERSATION, "conversationType=10&requestId=r&targetId=g&unpushLevel=5")],
    );
    for bus in [None, Some("c"), Some("d")] {
        let d = decide(&s, &Message::new(ultra("g", bus), "s", at(NOON_UTC)), "r");
        assert_eq!((d.push(), d.by()), (false, Layer::UserConversation));
    }
}

#[test]
fn s4_a_channel_default_applies_to_every_subchannel_unless_the_subchannel_has_its_own() {
    let s = settings(
        UTC,
        &[
            (DEFAULT, "groupId=g&unpushLevel=5"),
            (DEFAULT, "groupId=g&busChannel=c&unpushLevel=-1"),
        ],
    );
    let d = decide(&s, &Message::new(ultra("g", Some("c")), "s", at(NOON_UTC)), "r");
    assert_eq!((d.push(), d.by()), (true, Layer::SubchannelDefault));
    let d = decide(&s, &Message::new(ultra("g", Some("d")), "s", at(NOON_UTC)), "r");
    assert_eq!((d.push(), d.by()), (false, Layer::ChannelDefault));
}

#[test]
fn s4_a_regular_group_has_no_default_layer_but_the_app_default() {
    let s = settings_with(
        Config::new(UTC).with_app_default(ConversationType::Group, Level::Nothing),
        &[],
    );
    let d = decide(&s, &Message::new(group("g"), "s", at(NOON_UTC)), "r");
    assert_eq!((d.push(), d.by()), (false, Layer::AppDefault));
    // The app default is per type: private messages have none here.
    let d = decide(&s, &Message::new(Conversation::Private, "s", at(NOON_UTC)), "r");
    assert_eq!((d.push(), d.by()), (true, Layer::NothingSet));
}

#[test]
fn s4_private_and_system_conversations_are_named_by_the_sender() {
    let s = settings(
        UTC,
        &[
            (
                CONVERSATION,
                "conversationType=1&requestId=r&targetId=boss&unpushLevel=5",
            ),
            (
                CONVERSATION,
                "conversationType=6&requestId=r&targetId=news&unpushLevel=5",
            ),
        ],
    );
    let from = |c, sender| decide(&s, &Message::new(c, sender, at(NOON_UTC)), "r");
    assert_eq!(from(Conversation::Private, "boss").by(), Layer::UserConversation);
    assert_eq!(from(Conversation::Private, "friend").by(), Layer::NothingSet);
    assert_eq!(from(Conversation::System, "news").by(), Layer::UserConversation);
    assert_eq!(from(Conversation::System, "boss").by(), Layer::NothingSet);
}

#[test]
fn s4_setting_a_level_to_zero_removes_it() {
    let mut s = settings(
        UTC,
        &[
            (CONVERSATION, "conversationType=10&requestId=r&targetId=g&unpushLevel=5"),
            (TYPE, "conversationType=10&requestId=r&unpushLevel=5"),
            (DEFAULT, "groupId=g&unpushLevel=5"),
        ],
    );
    let msg = Message::new(ultra("g", None), "s", at(NOON_UTC));
    assert_eq!(decide(&s, &msg, "r").by(), Layer::UserConversation);
    let ok = s.handle(
        CONVERSATION,
        b"conversationType=10&requestId=r&targetId=g&unpushLevel=0",
    );
    assert_eq!(ok.code(), 200);
    assert_eq!(decide(&s, &msg, "r").by(), Layer::UserConversationType);
    assert_eq!(
        s.handle(TYPE, b"conversationType=10&requestId=r&unpushLevel=0").code(),
        200
    );
    assert_eq!(decide(&s, &msg, "r").by(), Layer::ChannelDefault);
    assert_eq!(s.handle(DEFAULT, b"groupId=g&unpushLevel=0").code(), 200);
    assert_eq!(decide(&s, &msg, "r").by(), Layer::NothingSet);
}

#[test]
fn s4_explanations_name_the_layer_and_why_the_layers_above_were_skipped() {
    let s = settings(
        Asia::Shanghai,
        &[
            (PERIOD, "userId=r&startTime=22:00:00&period=540&level=5"),
            (TYPE, "conversationType=10&requestId=r&unpushLevel=1"),
        ],
    );
    // 07:30 in Shanghai.
    let msg = Message::new(ultra("g", Some("c")), "s", at("2026-11-22T07:30:00+08:00")).with_mentions(Mentions::All);
    let p = s.prepare(&msg);
    let e = p.explain(Recipient::Id("r")).unwrap();
    assert_eq!(e.decision(), p.decide_id("r"));
    let text = e.to_string();
    for needle in [
        "r: PUSH -- user conversation-type level, level 1",
        "skipped: the period 22:00:00 + 540 min, level 5, in Asia/Shanghai (the data center's zone) is off at 2026-11-22T07:30:00+08:00 Asia/Shanghai",
        "user subchannel level:         skipped: nothing is set here",
        "is set here; the message mentions @all -> push",
        "the message mentions @all -> push",
        "not consulted: subchannel default, channel default, app default",
    ] {
        assert!(text.contains(needle), "{needle:?} not in\n{text}");
    }
    let e = p.explain(Recipient::Id("s")).unwrap();
    assert!(e.to_string().contains("the sender never gets a push"), "{e}");
}

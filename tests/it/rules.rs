//! One test per sentence of RULES §1–§5. `docs/rules.md` points here.

use chrono_tz::{America, Asia, UTC};
use dnd_engine::{
    Config, Conversation, ConversationType, DndWindow, Error, Layer, Level, Mentioned, Mentions, Message, PeriodLevel,
    Recipient, TimeOfDay,
};

use crate::support::*;

// ---- §1 Conversation types -------------------------------------------------

#[test]
fn s1_the_four_types_and_no_other() {
    for (code, t) in [
        (1, ConversationType::Private),
        (3, ConversationType::Group),
        (6, ConversationType::System),
        (10, ConversationType::UltraGroup),
    ] {
        assert_eq!(ConversationType::from_code(code), Ok(t));
        assert_eq!(t.code(), code);
    }
    for bad in [0, 2, 4, 5, 7, 9, 11, -1, i64::MAX] {
        assert_eq!(ConversationType::from_code(bad), Err(Error::ConversationType(bad)));
    }
}

#[test]
fn s1_mentions_count_in_groups_and_ultra_groups_only() {
    assert!(ConversationType::Group.mentions_count());
    assert!(ConversationType::UltraGroup.mentions_count());
    assert!(!ConversationType::Private.mentions_count());
    assert!(!ConversationType::System.mentions_count());
}

// ---- §2 Levels ---------------------------------------------------------------

#[test]
fn s2_level_codes_zero_is_not_set_and_three_is_invalid() {
    for (code, level) in [
        (-1, Level::All),
        (1, Level::Mentions),
        (2, Level::MentionsOfMe),
        (4, Level::MentionsOfAll),
        (5, Level::Nothing),
    ] {
        assert_eq!(Level::from_code(code), Ok(Some(level)));
        assert_eq!(level.code(), code);
    }
    assert_eq!(Level::from_code(0), Ok(None));
    for bad in [3, 6, -2, 100] {
        assert_eq!(Level::from_code(bad), Err(Error::Level(bad)));
    }
}

/// Every row of the §2 table, in a group and an ultra group, and in private
/// and system conversations, through the whole engine (the type level
/// decides).
#[test]
fn s2_every_row_of_the_level_table() {
    // (level, @none, @all, @me, @someone-else) in groups and ultra groups
    let table = [
        (-1, [true, true, true, true]),
        (1, [false, true, true, false]),
        (2, [false, false, true, false]),
        (4, [false, true, false, false]),
        (5, [false, false, false, false]),
    ];
    let me = ["r"];
    let other = ["x"];
    let mentions = [
        Mentions::None,
        Mentions::All,
        Mentions::Users(&me),
        Mentions::Users(&other),
    ];
    for (code, expected) in table {
        for t in ConversationType::ALL {
            let body = format!("conversationType={}&requestId=r&unpushLevel={code}", t.code());
            let s = settings(UTC, &[(TYPE, &body)]);
            let conversation = match t {
                ConversationType::Private => Conversation::Private,
                ConversationType::Group => group("g"),
                ConversationType::System => Conversation::System,
                _ => ultra("g", None),
            };
            for (m, &want_in_group) in mentions.iter().zip(&expected) {
                let msg = Message::new(conversation, "s", at(NOON_UTC)).with_mentions(*m);
                let d = decide(&s, &msg, "r");
                // In private and system conversations mentions are ignored:
                // -1 always pushes, every other level never does.
                let want = if t.mentions_count() { want_in_group } else { code == -1 };
                assert_eq!(d.push(), want, "level {code}, type {t}, mention {m:?}");
                assert_eq!(d.by(), Layer::UserConversationType);
                assert_eq!(d.level().map(Level::code), Some(code));
            }
        }
    }
}

#[test]
fn s2_level_pushes_as_a_function() {
    use Mentioned::*;
    assert!([No, All, Me].iter().all(|&m| Level::All.pushes(m)));
    assert!([No, All, Me].iter().all(|&m| !Level::Nothing.pushes(m)));
    assert_eq!([No, All, Me].map(|m| Level::Mentions.pushes(m)), [false, true, true]);
    assert_eq!(
        [No, All, Me].map(|m| Level::MentionsOfMe.pushes(m)),
        [false, false, true]
    );
    assert_eq!(
        [No, All, Me].map(|m| Level::MentionsOfAll.pushes(m)),
        [false, true, false]
    );
}

#[test]
fn s2_minus_one_stops_the_walk() {
    // The user's -1 on the type is an explicit choice: the admin's 5 below it never runs.
    let s = settings(
        UTC,
        &[
            (TYPE, "conversationType=10&requestId=r&unpushLevel=-1"),
            (DEFAULT, "groupId=g&unpushLevel=5"),
        ],
    );
    let d = decide(&s, &Message::new(ultra("g", None), "s", at(NOON_UTC)), "r");
    assert!(d.push());
    assert_eq!((d.by(), d.level()), (Layer::UserConversationType, Some(Level::All)));
}

// ---- §3 Mentions -------------------------------------------------------------

#[test]
fn s3_an_empty_list_mentions_no_one() {
    let s = settings(UTC, &[(TYPE, "conversationType=3&requestId=r&unpushLevel=1")]);
    let msg = Message::new(group("g"), "s", at(NOON_UTC)).with_mentions(Mentions::Users(&[]));
    assert!(!decide(&s, &msg, "r").push());
}

#[test]
fn s3_mentions_are_ignored_in_private_and_system_messages() {
    let s = settings(
        UTC,
        &[
            (TYPE, "conversationType=1&requestId=r&unpushLevel=1"),
            (TYPE, "conversationType=6&requestId=r&unpushLevel=4"),
        ],
    );
    let me = ["r"];
    let private = Message::new(Conversation::Private, "s", at(NOON_UTC)).with_mentions(Mentions::Users(&me));
    assert!(!decide(&s, &private, "r").push());
    let system = Message::new(Conversation::System, "s", at(NOON_UTC)).with_mentions(Mentions::All);
    assert!(!decide(&s, &system, "r").push());
}

#[test]
fn s3_a_mention_of_a_user_the_settings_do_not_know_still_counts() {
    // "r" has set nothing, so it is not in the settings at all; the app default reads mentions.
    let s = settings_with(
        Config::new(UTC).with_app_default(ConversationType::Group, Level::MentionsOfMe),
        &[],
    );
    let me = ["r"];
    let msg = Message::new(group("g"), "s", at(NOON_UTC)).with_mentions(Mentions::Users(&me));
    let d = decide(&s, &msg, "r");
    assert!(d.push());
    assert_eq!(d.by(), Layer::AppDefault);
    assert!(!decide(&s, &msg, "q").push());
}

// ---- §4 The layers -----------------------------------------------------------

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
    s.handle(
        CONVERSATION,
        b"conversationType=10&requestId=r&targetId=g&unpushLevel=0",
    );
    assert_eq!(decide(&s, &msg, "r").by(), Layer::UserConversationType);
    s.handle(TYPE, b"conversationType=10&requestId=r&unpushLevel=0");
    assert_eq!(decide(&s, &msg, "r").by(), Layer::ChannelDefault);
    s.handle(DEFAULT, b"groupId=g&unpushLevel=0");
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
    let e = p.explain(Recipient::Id("r"));
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
    let e = p.explain(Recipient::Id("s"));
    assert!(e.to_string().contains("the sender never gets a push"), "{e}");
}

// ---- §5 The user period ------------------------------------------------------

fn window(start: &str, minutes: i64) -> DndWindow {
    DndWindow::new(start.parse().unwrap(), minutes).unwrap()
}

fn t(s: &str) -> TimeOfDay {
    s.parse().unwrap()
}

#[test]
fn s5_start_time_format_and_range() {
    assert_eq!(t("00:00:00").seconds(), 0);
    assert_eq!(t("23:59:59").seconds(), 86_399);
    for bad in [
        "24:00:00",
        "23:60:00",
        "23:59:60",
        "7:00:00",
        "07:00",
        "07:00:00 ",
        "aa:bb:cc",
        "",
        "07-00-00",
        "+7:00:00",
    ] {
        assert_eq!(bad.parse::<TimeOfDay>(), Err(Error::TimeOfDay(bad.into())), "{bad:?}");
    }
}

#[test]
fn s5_period_length_and_level_ranges() {
    assert!(DndWindow::new(TimeOfDay::MIDNIGHT, 1).is_ok());
    assert!(DndWindow::new(TimeOfDay::MIDNIGHT, 1439).is_ok());
    assert!(matches!(
        DndWindow::new(TimeOfDay::MIDNIGHT, 1440),
        Err(Error::PeriodMinutes(1440, _))
    ));
    assert!(matches!(
        DndWindow::new(TimeOfDay::MIDNIGHT, 0),
        Err(Error::PeriodMinutes(0, _))
    ));
    assert!(matches!(
        DndWindow::new(TimeOfDay::MIDNIGHT, -5),
        Err(Error::PeriodMinutes(-5, _))
    ));
    assert_eq!(PeriodLevel::from_code(1), Ok(PeriodLevel::Mentions));
    assert_eq!(PeriodLevel::from_code(5), Ok(PeriodLevel::Nothing));
    for bad in [-1, 0, 2, 4, 6] {
        assert_eq!(PeriodLevel::from_code(bad), Err(Error::PeriodLevel(bad)));
    }
    assert_eq!(
        dnd_engine::parse_zone("Mars/Olympus"),
        Err(Error::TimeZone("Mars/Olympus".into()))
    );
}

#[test]
fn s5_the_window_is_half_open_and_wraps_past_midnight() {
    let night = window("22:00:00", 540);
    assert!(night.contains(t("22:00:00")), "start is inside");
    assert!(night.contains(t("23:59:59")));
    assert!(night.contains(t("00:00:00")), "wraps");
    assert!(night.contains(t("06:59:59")));
    assert!(!night.contains(t("07:00:00")), "end is outside");
    assert!(!night.contains(t("21:59:59")));
    assert!(!night.contains(t("12:00:00")));
}

#[test]
fn s5_the_last_millisecond_before_the_end_is_inside() {
    let s = settings(UTC, &[(PERIOD, "userId=r&startTime=22:00:00&period=540&level=5")]);
    let d = |when| decide(&s, &Message::new(group("g"), "s", at(when)), "r").by();
    assert_eq!(d("2026-11-22T06:59:59.999Z"), Layer::UserPeriod);
    assert_eq!(d("2026-11-22T07:00:00.000Z"), Layer::NothingSet);
    assert_eq!(d("2026-11-22T22:00:00.000Z"), Layer::UserPeriod);
    assert_eq!(d("2026-11-22T21:59:59.999Z"), Layer::NothingSet);
}

#[test]
fn s5_seconds_in_the_start_time_count() {
    let w = window("08:00:30", 1);
    assert!(!w.contains(t("08:00:29")));
    assert!(w.contains(t("08:00:30")));
    assert!(w.contains(t("08:01:29")));
    assert!(!w.contains(t("08:01:30")));
    // The seed's own example: 23:59:59 + 120 min.
    let w = window("23:59:59", 120);
    assert!(w.contains(t("23:59:59")) && w.contains(t("01:59:58")) && !w.contains(t("01:59:59")));
}

#[test]
fn s5_1439_minutes_cover_the_whole_day_whatever_the_start() {
    for start in ["00:00:00", "13:17:05", "23:59:59"] {
        let w = window(start, 1439);
        assert_eq!(w.len_seconds(), 86_400);
        for s in 0..86_400 {
            assert!(
                w.contains(TimeOfDay::from_seconds(s).unwrap()),
                "{start} + 1439 misses {s}"
            );
        }
    }
    // 1438 minutes leave exactly two minutes out.
    let w = window("00:00:00", 1438);
    assert_eq!(
        (0..86_400)
            .filter(|&s| !w.contains(TimeOfDay::from_seconds(s).unwrap()))
            .count(),
        120
    );
}

#[test]
fn s5_the_wall_clock_is_the_data_centers_unless_the_period_names_a_zone() {
    let requests = [
        (PERIOD, "userId=dc&startTime=22:00:00&period=60&level=5"),
        (
            PERIOD,
            "userId=ny&startTime=22:00:00&period=60&level=5&timezone=America%2FNew_York",
        ),
    ];
    // 14:30 UTC is 22:30 in Shanghai and 09:30 in New York.
    let instant = "2026-11-22T14:30:00Z";
    let s = settings(Asia::Shanghai, &requests);
    let msg = Message::new(group("g"), "s", at(instant));
    assert_eq!(decide(&s, &msg, "dc").by(), Layer::UserPeriod);
    assert_eq!(decide(&s, &msg, "ny").by(), Layer::NothingSet);
    // The same settings in the global (UTC) data center: 14:30 is outside.
    let s = settings(UTC, &requests);
    assert_eq!(decide(&s, &msg, "dc").by(), Layer::NothingSet);
    // 03:30 UTC is 22:30 in New York (EST).
    let msg = Message::new(group("g"), "s", at("2026-11-23T03:30:00Z"));
    assert_eq!(decide(&s, &msg, "ny").by(), Layer::UserPeriod);
}

/// Every minute of New York's local day `day` (stepping instants, not wall
/// times), and whether user "r" is inside the period then.
fn active_minutes(s: &dnd_engine::Settings, day: &str) -> Vec<(String, bool)> {
    let start = at(&format!("{day}T00:00:00Z"));
    (0..(36 * 60))
        .map(|m| {
            let instant = start + chrono::Duration::minutes(m);
            let inside = s.prepare(&Message::new(group("g"), "s", instant)).decide_id("r").by() == Layer::UserPeriod;
            (instant.with_timezone(&America::New_York).to_rfc3339(), inside)
        })
        .filter(|(local, _)| local.starts_with(day))
        .collect()
}

#[test]
fn s5_a_window_in_the_hour_that_spring_forward_skips_is_never_reached() {
    // 2026-03-08: New York goes from 01:59:59 EST to 03:00:00 EDT.
    let s = settings(
        America::New_York,
        &[(PERIOD, "userId=r&startTime=02:00:00&period=60&level=5")],
    );
    let minutes = active_minutes(&s, "2026-03-08");
    assert_eq!(minutes.len(), 23 * 60, "the day is 23 hours long");
    let inside: Vec<_> = minutes.iter().filter(|(_, a)| *a).collect();
    assert!(inside.is_empty(), "{inside:?}");
    // The day after, the window is reached again.
    assert_eq!(active_minutes(&s, "2026-03-09").iter().filter(|(_, a)| *a).count(), 60);

    // A window that straddles the jump: 01:30 + 60 min is inside until 01:59:59 EST, then
    // the clock reads 03:00 EDT, outside.
    let s = settings(
        America::New_York,
        &[(PERIOD, "userId=r&startTime=01:30:00&period=60&level=5")],
    );
    let inside: Vec<_> = active_minutes(&s, "2026-03-08")
        .into_iter()
        .filter(|(_, a)| *a)
        .map(|(t, _)| t)
        .collect();
    assert_eq!(inside.first().map(String::as_str), Some("2026-03-08T01:30:00-05:00"));
    assert_eq!(inside.last().map(String::as_str), Some("2026-03-08T01:59:00-05:00"));
    assert_eq!(inside.len(), 30);
}

#[test]
fn s5_a_window_in_the_hour_that_fall_back_repeats_is_inside_both_times() {
    // 2026-11-01: New York goes from 01:59:59 EDT back to 01:00:00 EST.
    let s = settings(
        America::New_York,
        &[(PERIOD, "userId=r&startTime=01:00:00&period=60&level=5")],
    );
    let inside: Vec<_> = active_minutes(&s, "2026-11-01")
        .into_iter()
        .filter(|(_, a)| *a)
        .map(|(t, _)| t)
        .collect();
    assert_eq!(inside.len(), 120, "{inside:?}");
    assert_eq!(inside[0], "2026-11-01T01:00:00-04:00");
    assert_eq!(inside[59], "2026-11-01T01:59:00-04:00");
    assert_eq!(inside[60], "2026-11-01T01:00:00-05:00");
    assert_eq!(inside[119], "2026-11-01T01:59:00-05:00");
}

#[test]
fn s5_one_period_per_user_a_new_one_replaces_the_old_and_period_zero_removes_it() {
    let mut s = settings(UTC, &[(PERIOD, "userId=r&startTime=10:00:00&period=60&level=5")]);
    let at_ten = Message::new(group("g"), "s", at("2026-11-22T10:30:00Z"));
    let at_noon = Message::new(group("g"), "s", at("2026-11-22T12:30:00Z"));
    assert_eq!(decide(&s, &at_ten, "r").by(), Layer::UserPeriod);
    s.handle(PERIOD, b"userId=r&startTime=12:00:00&period=60&level=5");
    assert_eq!(decide(&s, &at_ten, "r").by(), Layer::NothingSet);
    assert_eq!(decide(&s, &at_noon, "r").by(), Layer::UserPeriod);
    s.handle(PERIOD, b"userId=r&startTime=12:00:00&period=0&level=5");
    assert_eq!(decide(&s, &at_noon, "r").by(), Layer::NothingSet);
    assert_eq!(s.period("r"), None);
}

#[test]
fn s5_period_level_one_pushes_mentions_only() {
    let s = settings(UTC, &[(PERIOD, "userId=r&startTime=00:00:00&period=1439&level=1")]);
    let me = ["r"];
    let plain = Message::new(group("g"), "s", at(NOON_UTC));
    assert!(!decide(&s, &plain, "r").push());
    assert!(decide(&s, &plain.with_mentions(Mentions::Users(&me)), "r").push());
    assert!(decide(&s, &plain.with_mentions(Mentions::All), "r").push());
    // ...and in a private conversation, nothing.
    assert!(!decide(&s, &Message::new(Conversation::Private, "s", at(NOON_UTC)), "r").push());
}

#[test]
fn s5_message_times_are_instants_in_millis_or_rfc3339() {
    assert_eq!(at("1763812800000"), at("2025-11-22T12:00:00Z"));
    assert_eq!(at("2025-11-22T20:00:00+08:00"), at("2025-11-22T12:00:00Z"));
    for bad in [
        "2025-11-22 12:00:00",
        "2025-11-22T12:00:00",
        "noon",
        "",
        "99999999999999999999",
    ] {
        assert!(
            matches!(dnd_engine::parse_instant(bad), Err(Error::Instant(_))),
            "{bad:?}"
        );
    }
}

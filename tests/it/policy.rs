//! The break-through rules (§10), each with its boundary: VIP senders in each scope
//! against every kind of quiet time and a muted conversation, urgent
//! messages with and without consent, private chats as mentions, @all
//! governance, and defer with a VIP.

use chrono_tz::{Asia, UTC};
use dnd_engine::{Config, Conversation, Layer, Level, Mentions, Message, Recipient, Settings};

use crate::support::*;

const VIP: &str = "/user/vip/set.json";
const URGENT: &str = "/user/urgent/set.json";
const SNOOZE: &str = "/user/snooze/set.json";
const SCHEDULE: &str = "/user/blockPushSchedule/set.json";

/// Noon UTC on Sunday 2026-11-22: 20:00 in Shanghai.
fn noon() -> Message<'static> {
    Message::new(group("g"), "boss", at(NOON_UTC))
}

/// The four ways of holding a message back that §10 names: a period,
/// a schedule, a snooze (each holding noon UTC) and a muted conversation.
const HELD_BACK: [(&str, &str, Layer); 4] = [
    (PERIOD, "userId=r&startTime=11:00:00&period=120&level=5", Layer::UserPeriod),
    (
        SCHEDULE,
        "userId=r&windows=%5B%7B%22days%22%3A%5B7%5D%2C%22startTime%22%3A%2211%3A00%3A00%22%2C%22period%22%3A120%2C%22level%22%3A5%7D%5D",
        Layer::UserPeriod,
    ),
    (SNOOZE, "userId=r&until=2026-11-22T13:00:00Z", Layer::UserSnooze),
    (
        CONVERSATION,
        "conversationType=3&requestId=r&targetId=g&unpushLevel=5",
        Layer::UserConversation,
    ),
];

#[test]
fn a_vip_in_each_scope_against_a_period_a_schedule_a_snooze_and_a_muted_conversation() {
    for (path, body, layer) in HELD_BACK {
        let without = settings(UTC, &[(path, body)]);
        let d = decide(&without, &noon(), "r");
        assert_eq!((d.push(), d.by()), (false, layer), "{path}: held back without a VIP");

        // Scope quiet: the quiet time is passed over; a muted conversation is not quiet time.
        let quiet = settings(UTC, &[(path, body), (VIP, "userId=r&vipUserIds=%5B%22boss%22%5D")]);
        let d = decide(&quiet, &noon(), "r");
        if layer == Layer::UserConversation {
            assert_eq!((d.push(), d.by()), (false, Layer::UserConversation), "{path}");
        } else {
            assert_eq!(
                (d.push(), d.by(), d.level()),
                (true, Layer::NothingSet, Some(Level::All)),
                "{path}: the layer that pushed is reported"
            );
        }
        // Another sender is still held back.
        let other = Message::new(group("g"), "colleague", at(NOON_UTC));
        assert_eq!(decide(&quiet, &other, "r").by(), layer, "{path}");

        // Scope all: through everything, reported as vip.
        let all = settings(
            UTC,
            &[(path, body), (VIP, "userId=r&vipUserIds=%5B%22boss%22%5D&scope=all")],
        );
        let d = decide(&all, &noon(), "r");
        assert_eq!((d.push(), d.by(), d.level()), (true, Layer::Vip, None), "{path}");
        assert!(all.prepare(&noon()).defer(Recipient::Id("r")).unwrap().is_none());
    }
}

#[test]
fn a_quiet_scope_vip_reports_the_layer_below_the_quiet_time_that_pushed() {
    let s = settings(
        UTC,
        &[
            (PERIOD, "userId=r&startTime=11:00:00&period=120&level=5"),
            (TYPE, "conversationType=3&requestId=r&unpushLevel=1"),
            (VIP, "userId=r&vipUserIds=%5B%22boss%22%5D"),
        ],
    );
    // Level 1 below the period: a VIP's plain message is still held back (and reported by the period)...
    let d = decide(&s, &noon(), "r");
    assert_eq!(
        (d.push(), d.by(), d.level()),
        (false, Layer::UserPeriod, Some(Level::Nothing))
    );
    // ...and a VIP's mention pushes, reported by the type level that pushed.
    let mention = noon().with_mentions(Mentions::Users(&["r"]));
    let d = decide(&s, &mention, "r");
    assert_eq!(
        (d.push(), d.by(), d.level()),
        (true, Layer::UserConversationType, Some(Level::Mentions))
    );
    // When the walk pushes on its own, a VIP changes nothing (a period of level 1 and a mention).
    let s = settings(
        UTC,
        &[
            (PERIOD, "userId=r&startTime=11:00:00&period=120&level=1"),
            (VIP, "userId=r&vipUserIds=%5B%22boss%22%5D"),
        ],
    );
    let d = decide(&s, &mention, "r");
    assert_eq!((d.push(), d.by()), (true, Layer::UserPeriod));
}

#[test]
fn urgent_with_and_without_consent_with_disable_push_and_from_the_sender() {
    let s = settings(
        UTC,
        &[
            (PERIOD, "userId=r&startTime=00:00:00&period=1439&level=5"),
            (PERIOD, "userId=n&startTime=00:00:00&period=1439&level=5"),
            (URGENT, "userId=r&allow=1"),
            (URGENT, "userId=boss&allow=1"),
            (VIP, "userId=r&vipUserIds=%5B%22boss%22%5D&scope=all"),
        ],
    );
    let urgent = noon().with_urgent();
    let d = decide(&s, &urgent, "r");
    assert_eq!(
        (d.push(), d.by(), d.level()),
        (true, Layer::Urgent, None),
        "with consent, checked before the VIP list"
    );
    let d = decide(&s, &urgent, "n");
    assert_eq!((d.push(), d.by()), (false, Layer::UserPeriod), "without consent");
    assert_eq!(decide(&s, &urgent.with_push_disabled(), "r").by(), Layer::DisablePush);
    assert_eq!(
        decide(&s, &urgent, "boss").by(),
        Layer::Sender,
        "the sender, who allows urgent messages"
    );
    // Not urgent: the VIP list decides.
    assert_eq!(decide(&s, &noon(), "r").by(), Layer::Vip);
    // The explanation stops at the layer that broke through, in words and in JSON.
    let why = s.prepare(&urgent).explain_id("r");
    assert!(why.to_string().starts_with("r: PUSH -- urgent message\n"), "{why}");
    let json = serde_json::to_value(&why).unwrap();
    assert_eq!(
        json["steps"].as_array().unwrap().last().unwrap(),
        &serde_json::json!({"layer": "urgent", "decides": true, "seen": {"urgent": true, "allowed": true}})
    );
    assert_eq!(
        (&json["by"], &json["level"]),
        (&"urgent".into(), &serde_json::Value::Null)
    );
    let json = serde_json::to_value(s.prepare(&noon()).explain_id("r")).unwrap();
    assert_eq!(
        json["steps"].as_array().unwrap()[3..],
        [
            serde_json::json!({"layer": "urgent", "decides": false, "seen": {"urgent": false, "allowed": false}}),
            serde_json::json!({"layer": "vip", "decides": true, "seen": {"vip": "all"}}),
        ]
    );
    // Consent withdrawn with allow=0, or with allow left out.
    let mut s = s;
    assert_eq!(s.handle(URGENT, b"userId=r&allow=0").code(), 200);
    assert_eq!(decide(&s, &urgent, "r").by(), Layer::Vip);
    assert_eq!(s.handle(URGENT, b"userId=boss").code(), 200);
    assert!(!s.urgent_allowed("boss"));
    // An urgent message never defers: it pushes.
    assert_eq!(s.handle(URGENT, b"userId=n&allow=1").code(), 200);
    let p = s.prepare(&urgent);
    assert_eq!(p.decide_deferred_id("n").1, None);
    assert!(p.decide_id("n").push());
}

#[test]
fn a_private_message_counts_as_a_mention_only_with_the_switch() {
    let requests = [
        (TYPE, "conversationType=1&requestId=one&unpushLevel=1"),
        (TYPE, "conversationType=1&requestId=two&unpushLevel=2"),
        (TYPE, "conversationType=1&requestId=four&unpushLevel=4"),
        (TYPE, "conversationType=1&requestId=five&unpushLevel=5"),
        (TYPE, "conversationType=6&requestId=two&unpushLevel=2"),
        (PERIOD, "userId=night&startTime=11:00:00&period=120&level=1"),
    ];
    let off = settings(UTC, &requests);
    let on = settings_with(Config::new(UTC).with_private_as_mention(), &requests);
    let private = Message::new(Conversation::Private, "s", at(NOON_UTC));
    let system = Message::new(Conversation::System, "s", at(NOON_UTC));
    let pushes = |s: &Settings, m: &Message<'_>, r: &str| decide(s, m, r).push();
    for (recipient, by_default, switched) in [
        ("one", false, true),
        ("two", false, true),
        ("four", false, false),
        ("five", false, false),
        ("night", false, true),
    ] {
        assert_eq!(pushes(&off, &private, recipient), by_default, "{recipient}, switch off");
        assert_eq!(pushes(&on, &private, recipient), switched, "{recipient}, switch on");
    }
    assert!(!pushes(&on, &system, "two"), "system messages are not private ones");
    let why = on.prepare(&private).explain_id("two").to_string();
    assert!(
        why.contains("a private message counts as mentioning its recipient"),
        "{why}"
    );
}

#[test]
fn an_at_all_counts_up_to_the_maximum_of_members_and_only_from_a_sender_who_may() {
    let requests = [
        (TYPE, "conversationType=3&requestId=four&unpushLevel=4"),
        (TYPE, "conversationType=3&requestId=one&unpushLevel=1"),
        (TYPE, "conversationType=3&requestId=all&unpushLevel=-1"),
    ];
    let s = settings_with(Config::new(UTC).with_mention_all_max_members(200), &requests);
    let all = noon().with_mentions(Mentions::All);
    for (members, pushes) in [(None, true), (Some(0), true), (Some(200), true), (Some(201), false)] {
        let m = match members {
            Some(n) => all.with_member_count(n),
            None => all,
        };
        assert_eq!(decide(&s, &m, "four").push(), pushes, "{members:?} members");
        assert_eq!(decide(&s, &m, "one").push(), pushes, "{members:?} members");
        // The message is never blocked: only the @all is off.
        assert!(decide(&s, &m, "all").push(), "{members:?} members");
    }
    let forbidden = all.with_mention_all_allowed(false);
    assert!(!decide(&s, &forbidden, "four").push());
    assert!(decide(&s, &forbidden, "all").push());
    // Without a maximum, the member count changes nothing.
    let free = settings(UTC, &requests);
    assert!(decide(&free, &all.with_member_count(u32::MAX), "four").push());
    // explain names the rule.
    let why = s.prepare(&all.with_member_count(201)).explain_id("four").to_string();
    assert!(
        why.contains("@all counts as no mention: the conversation has 201 members, more than the maximum of 200"),
        "{why}"
    );
    let why = s.prepare(&forbidden).explain_id("four").to_string();
    assert!(why.contains("the sender may not mention everyone"), "{why}");
    // In types that do not read mentions there is nothing to govern.
    let private = Message::new(Conversation::Private, "boss", at(NOON_UTC))
        .with_mentions(Mentions::All)
        .with_member_count(201);
    let json = serde_json::to_value(s.prepare(&private).explain_id("four")).unwrap();
    assert!(json.get("mentionAll").is_none(), "{json}");
}

#[test]
fn with_a_quiet_scope_vip_a_deferral_may_end_sooner() {
    // 22:00-07:00 Shanghai, level 5; a temporary mute of the group until 23:00.
    let requests = [
        (PERIOD, "userId=r&startTime=22:00:00&period=540&level=5"),
        (
            CONVERSATION,
            "conversationType=3&requestId=r&targetId=g&unpushLevel=5&until=2026-11-22T23:00:00%2B08:00",
        ),
    ];
    let without = settings(Asia::Shanghai, &requests);
    let with = settings(
        Asia::Shanghai,
        &[requests[0], requests[1], (VIP, "userId=r&vipUserIds=%5B%22boss%22%5D")],
    );
    let m = Message::new(group("g"), "boss", at("2026-11-22T22:30:00+08:00"));
    let later = without.prepare(&m).defer(Recipient::Id("r")).unwrap().unwrap();
    assert_eq!(later.until, *at("2026-11-23T07:00:00+08:00"));
    let (now, sooner) = with.prepare(&m).decide_deferred_id("r");
    assert_eq!((now.push(), now.by()), (false, Layer::UserPeriod));
    let sooner = sooner.unwrap();
    assert_eq!(
        sooner.until,
        *at("2026-11-22T23:00:00+08:00"),
        "the mute ends, the VIP reads through"
    );
    assert_eq!(sooner.decision.by(), Layer::NothingSet);
    let why = with.prepare(&m).explain_id("r").to_string();
    assert!(why.contains("deferUntil 2026-11-22T23:00:00+08:00"), "{why}");
}

#[test]
fn a_new_list_replaces_the_old_and_an_empty_one_removes_it() {
    let mut s = settings(UTC, &[(PERIOD, "userId=r&startTime=11:00:00&period=120&level=5")]);
    let vip = |s: &mut Settings, body: &str| assert_eq!(s.handle(VIP, body.as_bytes()).code(), 200, "{body}");
    vip(&mut s, "userId=r&vipUserIds=%5B%22boss%22%2C%22mum%22%5D");
    let from = |sender: &'static str| Message::new(group("g"), sender, at(NOON_UTC));
    assert!(decide(&s, &from("mum"), "r").push());
    vip(&mut s, "userId=r&vipUserIds=%5B%22boss%22%5D");
    assert!(!decide(&s, &from("mum"), "r").push(), "mum is off the new list");
    assert!(decide(&s, &from("boss"), "r").push());
    vip(&mut s, "userId=r&vipUserIds=%5B%5D&scope=all");
    assert!(!decide(&s, &from("boss"), "r").push());
    assert_eq!(s.vip_list("r"), None);
    // A user may list themselves: the sender rule comes first.
    vip(&mut s, "userId=r&vipUserIds=%5B%22r%22%5D&scope=all");
    assert_eq!(decide(&s, &from("r"), "r").by(), Layer::Sender);
}

//! What RULES §6 refuses: ids, subchannels, every parameter, the error
//! messages; and, over arbitrary and broken bodies, that a rejection is a
//! 1002 (or 404) that changes nothing.

use chrono_tz::UTC;
use dnd_engine::{Config, ConversationType, Level};
use proptest::prelude::*;

use super::{assert_rejects, error_of, fresh, send, state};
use crate::gen::change;
use crate::support::*;

#[test]
fn ids_are_1_to_64_bytes_and_percent_decoded() {
    let mut s = fresh();
    let id64 = "x".repeat(64);
    assert_eq!(
        send(
            &mut s,
            TYPE,
            &format!("conversationType=3&requestId={id64}&unpushLevel=5")
        ),
        r#"{"code":200}"#
    );
    assert_rejects(
        TYPE,
        &format!("conversationType=3&requestId={}&unpushLevel=5", "x".repeat(65)),
        "requestId",
    );
    // 64 bytes of UTF-8 that are fewer characters: 16 four-byte characters pass, 17 do not.
    let emoji16 = "%F0%9F%98%80".repeat(16);
    assert_eq!(
        send(
            &mut s,
            TYPE,
            &format!("conversationType=3&requestId={emoji16}&unpushLevel=5")
        ),
        r#"{"code":200}"#
    );
    assert_rejects(
        TYPE,
        &format!("conversationType=3&requestId={emoji16}%F0%9F%98%80&unpushLevel=5"),
        "requestId",
    );
    // Percent escapes and '+' decode.
    send(&mut s, TYPE, "conversationType=3&requestId=a%26b+c%3D&unpushLevel=4");
    assert_eq!(
        s.type_level("a&b c=", ConversationType::Group),
        Some(Level::MentionsOfAll)
    );
    // Bytes that are not UTF-8 are refused.
    assert_rejects(TYPE, "conversationType=3&requestId=%FF%FE&unpushLevel=5", "requestId");
    assert_rejects(DEFAULT, "groupId=&unpushLevel=5", "groupId");
    assert_rejects(
        CONVERSATION,
        &format!(
            "conversationType=3&requestId=u&targetId={}&unpushLevel=5",
            "g".repeat(65)
        ),
        "targetId",
    );
}

#[test]
fn bus_channel_is_1_to_20_letters_and_digits_and_only_with_type_10() {
    let mut s = fresh();
    let ok = "conversationType=10&requestId=u&targetId=g&unpushLevel=5&busChannel=";
    assert_eq!(
        send(&mut s, CONVERSATION, &format!("{ok}{}", "a1".repeat(10))),
        r#"{"code":200}"#
    );
    assert_rejects(CONVERSATION, &format!("{ok}{}", "a".repeat(21)), "busChannel");
    assert_rejects(CONVERSATION, &format!("{ok}a-b"), "busChannel");
    assert_rejects(CONVERSATION, &format!("{ok}a%20b"), "busChannel");
    assert_rejects(CONVERSATION, &format!("{ok}%C3%A9"), "busChannel");
    assert_rejects(
        CONVERSATION,
        "conversationType=3&requestId=u&targetId=g&unpushLevel=5&busChannel=c",
        "busChannel",
    );
    assert_rejects(
        "/conversation/notification/get.json",
        "conversationType=1&requestId=u&targetId=g&busChannel=c",
        "busChannel",
    );
    assert_rejects(DEFAULT, "groupId=g&busChannel=a_b&unpushLevel=5", "busChannel");
}

#[test]
fn every_parameter_is_checked() {
    let cases = [
        // Missing, empty, not a number, out of range.
        (PERIOD, "startTime=22:00:00&period=5&level=5", "userId"),
        (PERIOD, "userId=u&period=5&level=5", "startTime"),
        (PERIOD, "userId=u&startTime=22:00:00&level=5", "period"),
        (PERIOD, "userId=u&startTime=22:00:00&period=5", "level"),
        (PERIOD, "userId=u&startTime=24:00:00&period=5&level=5", "startTime"),
        (PERIOD, "userId=u&startTime=22:00&period=5&level=5", "startTime"),
        (PERIOD, "userId=u&startTime=22:00:00&period=1440&level=5", "period"),
        (PERIOD, "userId=u&startTime=22:00:00&period=-1&level=5", "period"),
        (PERIOD, "userId=u&startTime=22:00:00&period=1.5&level=5", "period"),
        (PERIOD, "userId=u&startTime=22:00:00&period=5&level=2", "level"),
        (PERIOD, "userId=u&startTime=22:00:00&period=5&level=", "level"),
        (PERIOD, "userId=u&startTime=22:00:00&period=0&level=4", "level"),
        (
            PERIOD,
            "userId=u&startTime=22:00:00&period=5&level=5&timezone=Mars%2FOlympus",
            "timezone",
        ),
        (
            PERIOD,
            "userId=u&startTime=22:00:00&period=5&level=5&timezone=",
            "timezone",
        ),
        ("/user/blockPushPeriod/get.json", "", "userId"),
        ("/user/blockPushPeriod/delete.json", "userId=", "userId"),
        (TYPE, "conversationType=2&requestId=u&unpushLevel=5", "conversationType"),
        (
            TYPE,
            "conversationType=ten&requestId=u&unpushLevel=5",
            "conversationType",
        ),
        (TYPE, "conversationType=3&requestId=u&unpushLevel=3", "unpushLevel"),
        (
            TYPE,
            "conversationType=3&requestId=u&unpushLevel=99999999999999999999",
            "unpushLevel",
        ),
        (TYPE, "conversationType=3&unpushLevel=5", "requestId"),
        (
            "/conversation/type/notification/get.json",
            "requestId=u",
            "conversationType",
        ),
        (CONVERSATION, "conversationType=3&requestId=u&unpushLevel=5", "targetId"),
        (
            CONVERSATION,
            "conversationType=3&requestId=u&targetId=g&unpushLevel=-2",
            "unpushLevel",
        ),
        (DEFAULT, "groupId=g", "unpushLevel"),
        (DEFAULT, "groupId=g&unpushLevel=6", "unpushLevel"),
        ("/ultragroup/notdisturb/get.json", "busChannel=c", "groupId"),
        // Repeated with different values; the same value twice is fine.
        (
            TYPE,
            "conversationType=3&requestId=u&requestId=v&unpushLevel=5",
            "requestId",
        ),
        (
            TYPE,
            "conversationType=3&requestId=u&unpushLevel=5&unpushLevel=4",
            "unpushLevel",
        ),
    ];
    for (path, body, parameter) in cases {
        assert_rejects(path, body, parameter);
    }
    let mut s = fresh();
    assert_eq!(
        send(
            &mut s,
            TYPE,
            "conversationType=3&requestId=u&unpushLevel=5&unpushLevel=5"
        ),
        r#"{"code":200}"#
    );
    // Unknown parameters (a signature, a nonce) are ignored.
    assert_eq!(
        send(&mut s, TYPE, "conversationType=3&requestId=u&unpushLevel=5&Nonce=14314"),
        r#"{"code":200}"#
    );
}

#[test]
fn error_messages_say_what_is_wrong() {
    let mut s = fresh();
    let (_, m) = error_of(&send(&mut s, PERIOD, "userId=u&startTime=22:00:00&period=1440&level=5"));
    assert_eq!(
        m,
        "parameter period: 1440 is not a period length in minutes (0 to 1439)"
    );
    let (_, m) = error_of(&send(&mut s, TYPE, "conversationType=3&requestId=u&unpushLevel=3"));
    assert_eq!(m, "parameter unpushLevel: 3 is not a DND level (-1, 0, 1, 2, 4 or 5)");
    let (_, m) = error_of(&send(&mut s, TYPE, "conversationType=3&unpushLevel=3"));
    assert_eq!(m, "parameter requestId is missing");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::gen::cases(256), ..ProptestConfig::default() })]

    /// Arbitrary bytes never panic: 1002 (or 404, or 200 when they happen to be
    /// valid), and a rejection changes nothing.
    #[test]
    fn arbitrary_bodies_never_panic_and_rejections_change_nothing(
        changes in prop::collection::vec(change(), 0..10),
        path in prop::sample::select(dnd_engine::api::PATHS.to_vec()),
        body in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut s = crate::gen::build(&Config::new(UTC), &changes);
        let before = state(&s);
        let r = s.handle(path, &body);
        prop_assert!(r.code() == 200 || r.code() == 1002, "{}", r.to_json());
        if r.code() != 200 {
            prop_assert_eq!(state(&s), before);
        }
    }

    /// A valid request with one parameter broken is a 1002 naming it, and
    /// changes nothing.
    #[test]
    fn one_broken_parameter_is_a_1002_that_changes_nothing(
        case in 0usize..5,
        broken in prop::sample::select(vec!["", "%FF", "x", "-7", "3", "1440", "99:00:00", "a-b", "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"]),
        which in 0usize..5,
    ) {
        let valid: [(&str, &[(&str, &str)]); 5] = [
            (PERIOD, &[("userId", "u"), ("startTime", "22:00:00"), ("period", "540"), ("level", "5"), ("timezone", "Asia/Tokyo")]),
            (CONVERSATION, &[("conversationType", "10"), ("requestId", "u"), ("targetId", "g"), ("busChannel", "c"), ("unpushLevel", "2")]),
            (TYPE, &[("conversationType", "3"), ("requestId", "u"), ("unpushLevel", "1")]),
            (DEFAULT, &[("groupId", "g"), ("busChannel", "c"), ("unpushLevel", "4")]),
            ("/ultragroup/notdisturb/get.json", &[("groupId", "g"), ("busChannel", "c")]),
        ];
        let (path, params) = valid[case];
        let which = which % params.len();
        let mut body = form_urlencoded::Serializer::new(String::new());
        for (i, (k, v)) in params.iter().enumerate() {
            body.append_pair(k, if i == which { broken } else { v });
        }
        let body = body.finish().replace("%25FF", "%FF");
        let mut s = crate::gen::build(&Config::new(UTC), &[]);
        prop_assert_eq!(s.handle(TYPE, b"conversationType=1&requestId=z&unpushLevel=5").code(), 200);
        let before = state(&s);
        let r = s.handle(path, body.as_bytes());
        // Some breakages are still valid values ("x" is a fine id, "3" a conversation type).
        if r.code() == 1002 {
            prop_assert_eq!(state(&s), before);
            let (_, message) = error_of(&r.to_json());
            // A conversation type changed to a valid one other than 10 conflicts with the
            // subchannel, and the subchannel is what is named.
            let named = if params[which].0 == "conversationType" && broken == "3" { "busChannel" } else { params[which].0 };
            prop_assert!(message.contains(named), "{} does not name {}", message, named);
        } else {
            prop_assert_eq!(r.code(), 200);
        }
    }
}

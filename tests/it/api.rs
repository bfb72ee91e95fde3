//! The settings API of RULES §6: every path, every validation rule, atomicity,
//! save and restore, and the shared handle under concurrency.

use chrono_tz::{Asia, UTC};
use dnd_engine::{Config, ConversationType, Level, Request, Response, Settings, SharedSettings};
use proptest::prelude::*;

use crate::properties::{change, config, message, RECIPIENTS};
use crate::support::*;

fn state(s: &Settings) -> String {
    serde_json::to_string(s).unwrap()
}

/// Sends `body` to `path` and returns the JSON answer, checking that a
/// rejected request left the settings as they were.
fn send(s: &mut Settings, path: &str, body: &str) -> String {
    let before = state(s);
    let r = s.handle(path, body.as_bytes());
    if r.code() != 200 {
        assert_eq!(state(s), before, "{path} {body} was rejected but changed the settings");
    }
    r.to_json()
}

fn fresh() -> Settings {
    Settings::new(Config::new(Asia::Shanghai))
}

fn error_of(json: &str) -> (i64, String) {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    (
        v["code"].as_i64().unwrap(),
        v["errorMessage"].as_str().unwrap_or_default().to_owned(),
    )
}

/// Asserts a 1002 whose message names `parameter`.
fn assert_rejects(path: &str, body: &str, parameter: &str) {
    let mut s = fresh();
    let (code, message) = error_of(&send(&mut s, path, body));
    assert_eq!(code, 1002, "{path} {body}");
    assert!(
        message.contains(parameter),
        "{body}: {message:?} does not name {parameter}"
    );
}

#[test]
fn period_set_get_delete() {
    let mut s = fresh();
    let get = "/user/blockPushPeriod/get.json";
    assert_eq!(
        send(&mut s, get, "userId=u"),
        r#"{"code":200,"data":{"startTime":"","period":0,"unPushLevel":0}}"#
    );
    assert_eq!(
        send(&mut s, PERIOD, "userId=u&startTime=23:59:59&period=120&level=1"),
        r#"{"code":200}"#
    );
    assert_eq!(
        send(&mut s, get, "userId=u"),
        r#"{"code":200,"data":{"startTime":"23:59:59","period":120,"unPushLevel":1}}"#
    );
    // A new period replaces the old one; its zone is kept but not echoed.
    send(
        &mut s,
        PERIOD,
        "userId=u&startTime=22:00:00&period=540&level=5&timezone=Europe%2FBerlin",
    );
    assert_eq!(
        send(&mut s, get, "userId=u"),
        r#"{"code":200,"data":{"startTime":"22:00:00","period":540,"unPushLevel":5}}"#
    );
    assert_eq!(s.period("u").unwrap().zone, Some(chrono_tz::Europe::Berlin));
    assert_eq!(
        send(&mut s, "/user/blockPushPeriod/delete.json", "userId=u"),
        r#"{"code":200}"#
    );
    assert_eq!(
        send(&mut s, get, "userId=u"),
        r#"{"code":200,"data":{"startTime":"","period":0,"unPushLevel":0}}"#
    );
    // period=0 on set removes too.
    send(&mut s, PERIOD, "userId=u&startTime=22:00:00&period=540&level=5");
    send(&mut s, PERIOD, "userId=u&startTime=22:00:00&period=0&level=5");
    assert_eq!(s.period("u"), None);
}

#[test]
fn conversation_level_set_get() {
    let mut s = fresh();
    let get = "/conversation/notification/get.json";
    let q = "conversationType=10&requestId=u&targetId=g";
    assert_eq!(send(&mut s, get, q), r#"{"code":200,"isMuted":0}"#);
    send(&mut s, CONVERSATION, &format!("{q}&unpushLevel=2"));
    assert_eq!(send(&mut s, get, q), r#"{"code":200,"isMuted":2}"#);
    // The subchannel is a separate setting.
    assert_eq!(
        send(&mut s, get, &format!("{q}&busChannel=c1")),
        r#"{"code":200,"isMuted":0}"#
    );
    send(&mut s, CONVERSATION, &format!("{q}&busChannel=c1&unpushLevel=-1"));
    assert_eq!(
        send(&mut s, get, &format!("{q}&busChannel=c1")),
        r#"{"code":200,"isMuted":-1}"#
    );
    send(&mut s, CONVERSATION, &format!("{q}&unpushLevel=0"));
    assert_eq!(send(&mut s, get, q), r#"{"code":200,"isMuted":0}"#);
}

#[test]
fn is_muted_one_alone_means_five_and_loses_to_unpush_level() {
    let mut s = fresh();
    let get = "/conversation/notification/get.json";
    let q = "conversationType=3&requestId=u&targetId=g";
    send(&mut s, CONVERSATION, &format!("{q}&isMuted=1"));
    assert_eq!(send(&mut s, get, q), r#"{"code":200,"isMuted":5}"#);
    send(&mut s, CONVERSATION, &format!("{q}&isMuted=1&unpushLevel=2"));
    assert_eq!(send(&mut s, get, q), r#"{"code":200,"isMuted":2}"#);
    send(&mut s, CONVERSATION, &format!("{q}&isMuted=0"));
    assert_eq!(send(&mut s, get, q), r#"{"code":200,"isMuted":0}"#);
    assert_rejects(CONVERSATION, &format!("{q}&isMuted=2"), "isMuted");
    assert_rejects(CONVERSATION, q, "unpushLevel");
}

#[test]
fn type_level_set_get() {
    let mut s = fresh();
    let get = "/conversation/type/notification/get.json";
    assert_eq!(
        send(&mut s, get, "conversationType=1&requestId=b5NwvIrW8"),
        r#"{"code":200,"isMuted":0}"#
    );
    // The seed's own request.
    assert_eq!(
        send(&mut s, TYPE, "conversationType=1&requestId=b5NwvIrW8&unpushLevel=2"),
        r#"{"code":200}"#
    );
    assert_eq!(
        send(&mut s, get, "conversationType=1&requestId=b5NwvIrW8"),
        r#"{"code":200,"isMuted":2}"#
    );
    assert_eq!(
        send(&mut s, get, "conversationType=3&requestId=b5NwvIrW8"),
        r#"{"code":200,"isMuted":0}"#
    );
}

#[test]
fn ultra_group_default_set_get() {
    let mut s = fresh();
    let get = "/ultragroup/notdisturb/get.json";
    assert_eq!(
        send(&mut s, get, "groupId=abcdefg"),
        r#"{"code":200,"groupId":"abcdefg","busChannel":"","unpushLevel":0}"#
    );
    assert_eq!(
        send(&mut s, DEFAULT, "groupId=abcdefg&unpushLevel=2"),
        r#"{"code":200}"#
    );
    send(&mut s, DEFAULT, "groupId=abcdefg&busChannel=news&unpushLevel=5");
    assert_eq!(
        send(&mut s, get, "groupId=abcdefg"),
        r#"{"code":200,"groupId":"abcdefg","busChannel":"","unpushLevel":2}"#
    );
    assert_eq!(
        send(&mut s, get, "groupId=abcdefg&busChannel=news"),
        r#"{"code":200,"groupId":"abcdefg","busChannel":"news","unpushLevel":5}"#
    );
}

#[test]
fn an_unknown_path_is_a_404() {
    let mut s = fresh();
    let (code, message) = error_of(&send(&mut s, "/user/blockPushPeriod/sett.json", "userId=u"));
    assert_eq!(code, 404);
    assert!(message.contains("sett.json"));
}

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

#[test]
fn requests_round_trip_through_serde() {
    let r = Request::parse(
        PERIOD,
        b"userId=u&startTime=22:00:00&period=540&level=5&timezone=Asia%2FTokyo",
    )
    .unwrap();
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(
        json,
        r#"{"request":"setPeriod","userId":"u","period":{"startTime":"22:00:00","period":540,"level":5,"timezone":"Asia/Tokyo"}}"#
    );
    assert_eq!(serde_json::from_str::<Request>(&json).unwrap(), r);
    // Deserializing validates like parsing does.
    for bad in [
        r#"{"request":"setTypeLevel","userId":"u","conversationType":2,"level":5}"#,
        r#"{"request":"setTypeLevel","userId":"","conversationType":3,"level":5}"#,
        r#"{"request":"setTypeLevel","userId":"u","conversationType":3,"level":3}"#,
        r#"{"request":"setConversationLevel","userId":"u","conversation":{"conversationType":3,"targetId":"g","busChannel":"c"},"level":5}"#,
        r#"{"request":"setPeriod","userId":"u","period":{"startTime":"22:00:00","period":1440,"level":5}}"#,
    ] {
        assert!(serde_json::from_str::<Request>(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_saved_state_is_readable_and_restores_exactly() {
    let s = settings_with(
        Config::new(Asia::Shanghai).with_app_default(ConversationType::Group, Level::Mentions),
        &[
            (PERIOD, "userId=alice&startTime=22:00:00&period=540&level=5"),
            (
                PERIOD,
                "userId=bob&startTime=23:00:00&period=60&level=1&timezone=America%2FNew_York",
            ),
            (TYPE, "conversationType=3&requestId=bob&unpushLevel=4"),
            (
                CONVERSATION,
                "conversationType=10&requestId=alice&targetId=club&busChannel=news&unpushLevel=-1",
            ),
            (DEFAULT, "groupId=club&unpushLevel=1"),
        ],
    );
    let json = serde_json::to_string_pretty(&s).unwrap();
    for needle in [
        r#""timeZone": "Asia/Shanghai""#,
        r#""userId": "alice""#,
        r#""timezone": "America/New_York""#,
        r#""busChannel": "news""#,
    ] {
        assert!(json.contains(needle), "{needle} not in {json}");
    }
    let restored: Settings = serde_json::from_str(&json).unwrap();
    assert_eq!(serde_json::to_string_pretty(&restored).unwrap(), json);
    assert_eq!(restored.user("bob"), s.user("bob"), "handles survive");
    // Invalid saved states are refused with a reason.
    for (bad, why) in [
        (json.replace("Asia/Shanghai", "Asia/Nowhere"), "time zone"),
        (json.replace(r#""format": 2"#, r#""format": 3"#), "format"),
        (json.replace(r#""unpushLevel": -1"#, r#""unpushLevel": 3"#), "DND level"),
        (json.replace(r#""userId": "bob""#, r#""userId": "alice""#), "twice"),
        (
            json.replace(r#""busChannel": "news""#, r#""busChannel": "ne-ws""#),
            "subchannel id",
        ),
        (json.replace(r#""userId": "bob""#, r#""userId": """#), "user id"),
    ] {
        let e = serde_json::from_str::<Settings>(&bad).unwrap_err().to_string();
        assert!(e.contains(why), "{e}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::properties::cases(256), ..ProptestConfig::default() })]

    /// Arbitrary bytes never panic: 1002 (or 404, or 200 when they happen to be
    /// valid), and a rejection changes nothing.
    #[test]
    fn arbitrary_bodies_never_panic_and_rejections_change_nothing(
        changes in prop::collection::vec(change(), 0..10),
        path in prop::sample::select(dnd_engine::api::PATHS.to_vec()),
        body in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut s = crate::properties::build(&Config::new(UTC), &changes);
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
        let mut s = crate::properties::build(&Config::new(UTC), &[]);
        s.handle(TYPE, b"conversationType=1&requestId=z&unpushLevel=5");
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

    /// restore(save(state)) decides exactly as state does, and saves the same.
    #[test]
    fn restore_of_save_decides_the_same(
        config in config(),
        changes in prop::collection::vec(change(), 0..40),
        messages in prop::collection::vec(message(), 1..5),
    ) {
        let s = crate::properties::build(&config, &changes);
        let json = state(&s);
        let restored: Settings = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(state(&restored), json);
        for m in &messages {
            let msg = m.message();
            let (p, q) = (s.prepare(&msg), restored.prepare(&msg));
            for r in RECIPIENTS {
                prop_assert_eq!(p.decide_id(r), q.decide_id(r));
            }
        }
        for c in &changes {
            if let Some(get) = get_for(c) {
                prop_assert_eq!(s.query(&get), restored.query(&get));
            }
        }
    }

    /// Commands that travelled as JSON build the same state as the originals.
    #[test]
    fn serialized_commands_apply_the_same(changes in prop::collection::vec(change(), 0..40)) {
        let direct = crate::properties::build(&Config::new(UTC), &changes);
        let travelled: Vec<Request> = changes
            .iter()
            .map(|c| serde_json::from_str(&serde_json::to_string(c).unwrap()).unwrap())
            .collect();
        prop_assert_eq!(&travelled, &changes);
        prop_assert_eq!(state(&crate::properties::build(&Config::new(UTC), &travelled)), state(&direct));
    }
}

/// The get that reads what change `c` wrote.
fn get_for(c: &Request) -> Option<Request> {
    Some(match c.clone() {
        Request::SetPeriod { user_id, .. } | Request::DeletePeriod { user_id } => Request::GetPeriod { user_id },
        Request::SetConversationLevel {
            user_id, conversation, ..
        } => Request::GetConversationLevel { user_id, conversation },
        Request::SetTypeLevel {
            user_id,
            conversation_type,
            ..
        } => Request::GetTypeLevel {
            user_id,
            conversation_type,
        },
        Request::SetUltraGroupDefault {
            group_id, bus_channel, ..
        } => Request::GetUltraGroupDefault { group_id, bus_channel },
        _ => return None,
    })
}

/// Writers apply requests while readers decide fanouts; readers never see a
/// half-applied request, and every acknowledged write is visible at the end.
#[test]
fn concurrent_writers_and_readers() {
    const WRITERS: usize = 4;
    const WRITES: usize = 500;
    let shared = SharedSettings::new(Settings::new(Config::new(UTC)));
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        for w in 0..WRITERS {
            let shared = &shared;
            scope.spawn(move || {
                for i in 0..WRITES {
                    // One request, acknowledged before the next one is sent.
                    let body = format!("conversationType=3&requestId=w{w}u{i}&unpushLevel=5");
                    assert_eq!(shared.handle(TYPE, body.as_bytes()), Response::Ok);
                }
            });
        }
        let (shared, done) = (&shared, &done);
        scope.spawn(move || {
            let msg = dnd_engine::Message::new(group("g"), "s", at(NOON_UTC));
            let ids: Vec<String> = (0..WRITES).map(|i| format!("w0u{i}")).collect();
            let mut out = Vec::with_capacity(ids.len());
            let mut last_seen = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let guard = shared.read();
                guard.prepare(&msg).decide_ids_into(&ids, &mut out);
                // Writer 0 writes its users in order: what a reader sees is a prefix.
                let seen = out.iter().take_while(|d| !d.push()).count();
                assert!(out[seen..].iter().all(|d| d.push()), "a reader saw writes out of order");
                assert!(seen >= last_seen, "a write disappeared");
                last_seen = seen;
            }
        });
        // Stop the reader once every write has been numbered.
        while shared.read().user_count() < WRITERS * WRITES {
            std::thread::yield_now();
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let settings = shared.into_inner();
    for w in 0..WRITERS {
        for i in 0..WRITES {
            assert_eq!(
                settings.type_level(&format!("w{w}u{i}"), ConversationType::Group),
                Some(Level::Nothing)
            );
        }
    }
    assert_eq!(settings.user_count(), WRITERS * WRITES);
}

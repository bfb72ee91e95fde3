//! Request inputs at their edges: which bytes are UTF-8, which codes each
//! parameter accepts and says it accepts, and what an error quotes of a value.

use chrono_tz::UTC;
use dnd_engine::{Config, ConversationType, Error, Level, Request, Settings};
use proptest::prelude::*;

use crate::support::*;

/// The integers in an error text's last parenthesis: the codes it says are
/// accepted ("(-1, 0, 1, 2, 4 or 5)", "(1 private, 3 group, ...)").
fn listed_codes(message: &str) -> Vec<i64> {
    let list = &message[message.rfind('(').expect("a list of codes") + 1..];
    list.split(|c: char| !(c.is_ascii_digit() || c == '-'))
        .filter(|w| !w.is_empty() && *w != "-")
        .map(|w| w.parse().unwrap())
        .collect()
}

#[test]
fn replacement_character_is_a_valid_id() {
    let mut s = Settings::new(Config::new(UTC));
    // U+FFFD, valid UTF-8 (EF BF BD), in every kind of id.
    for (path, body) in [
        (TYPE, "conversationType=3&requestId=a%EF%BF%BDb&unpushLevel=5"),
        (PERIOD, "userId=a%EF%BF%BDb&startTime=22:00:00&period=60&level=5"),
        (
            CONVERSATION,
            "conversationType=3&requestId=u&targetId=%EF%BF%BD&unpushLevel=2",
        ),
        (DEFAULT, "groupId=g%EF%BF%BD&unpushLevel=4"),
    ] {
        assert_eq!(s.handle(path, body.as_bytes()).code(), 200, "{body}");
    }
    assert_eq!(
        s.type_level("a\u{FFFD}b", ConversationType::Group),
        Some(Level::Nothing)
    );
    assert!(s.period("a\u{FFFD}b").is_some());
    assert_eq!(s.ultra_group_default("g\u{FFFD}", None), Some(Level::MentionsOfAll));
    // Bytes that are not UTF-8 are refused, naming the parameter, wherever
    // they are: an id, a subchannel, a zone.
    for (path, body, name) in [
        (TYPE, "conversationType=3&requestId=a%FFb&unpushLevel=5", "requestId"),
        (PERIOD, "userId=%C3&startTime=22:00:00&period=60&level=5", "userId"),
        (
            CONVERSATION,
            "conversationType=3&requestId=u&targetId=%ED%A0%80&unpushLevel=2",
            "targetId",
        ),
        (DEFAULT, "groupId=g%80&unpushLevel=4", "groupId"),
        (DEFAULT, "groupId=g&busChannel=c%FF&unpushLevel=4", "busChannel"),
        (
            PERIOD,
            "userId=u&startTime=22:00:00&period=60&level=5&timezone=UTC%FF",
            "timezone",
        ),
    ] {
        assert_eq!(
            Request::parse(path, body.as_bytes()),
            Err(Error::NotUtf8(name)),
            "{body}"
        );
    }
    // U+FFFD in a subchannel or a zone is a character that is not allowed
    // there, not bad UTF-8.
    let e = Request::parse(DEFAULT, b"groupId=g&busChannel=c%EF%BF%BD&unpushLevel=4").unwrap_err();
    assert_eq!(
        e.to_string(),
        "parameter busChannel: \"c\u{FFFD}\" is not a subchannel id (1 to 20 ASCII letters and digits)"
    );
    // An unknown parameter is ignored, whatever its bytes.
    assert_eq!(
        s.handle(TYPE, b"conversationType=3&requestId=u&unpushLevel=5&sig=%FF")
            .code(),
        200
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// RULES §6: an id is 1 to 64 bytes of UTF-8, any UTF-8. Percent-encoded
    /// byte by byte, every such id is accepted, and read back as itself.
    #[test]
    fn any_valid_utf8_id_of_1_to_64_bytes_is_accepted(
        chars in prop::collection::vec(
            prop_oneof![any::<char>(), Just('\u{FFFD}'), Just('\0'), Just('&'), Just('+'), Just('%')],
            1..40,
        ),
    ) {
        let mut id = String::new();
        for c in chars {
            if id.len() + c.len_utf8() > 64 {
                break;
            }
            id.push(c);
        }
        prop_assert!((1..=64).contains(&id.len()));
        let encoded: String = id.bytes().map(|b| format!("%{b:02X}")).collect();
        let mut s = Settings::new(Config::new(UTC));
        let r = s.handle(TYPE, format!("conversationType=3&requestId={encoded}&unpushLevel=4").as_bytes());
        prop_assert_eq!(r.code(), 200, "{:?}: {}", id, r.to_json());
        prop_assert_eq!(s.type_level(&id, ConversationType::Group), Some(Level::MentionsOfAll));
        let r = s.handle(PERIOD, format!("userId={encoded}&startTime=01:00:00&period=5&level=1").as_bytes());
        prop_assert_eq!(r.code(), 200);
        let r = s.handle(DEFAULT, format!("groupId={encoded}&unpushLevel=2").as_bytes());
        prop_assert_eq!(r.code(), 200);
        prop_assert_eq!(s.ultra_group_default(&id, None), Some(Level::MentionsOfMe));
    }
}

#[test]
fn level_errors_name_the_accepted_values() {
    const LEVELS: &[i64] = &[-1, 0, 1, 2, 4, 5];
    const TYPES: &[i64] = &[1, 3, 6, 10];
    let cases: [(&str, &str, &str, &[i64]); 12] = [
        (
            CONVERSATION,
            "conversationType=3&requestId=u&targetId=g&isMuted=2",
            "isMuted",
            &[0, 1],
        ),
        (
            CONVERSATION,
            "conversationType=3&requestId=u&targetId=g&unpushLevel=1&isMuted=5",
            "isMuted",
            &[0, 1],
        ),
        (
            CONVERSATION,
            "conversationType=3&requestId=u&targetId=g&unpushLevel=3",
            "unpushLevel",
            LEVELS,
        ),
        (
            TYPE,
            "conversationType=3&requestId=u&unpushLevel=3",
            "unpushLevel",
            LEVELS,
        ),
        (
            TYPE,
            "conversationType=3&requestId=u&unpushLevel=-2",
            "unpushLevel",
            LEVELS,
        ),
        (DEFAULT, "groupId=g&unpushLevel=6", "unpushLevel", LEVELS),
        (
            PERIOD,
            "userId=u&startTime=22:00:00&period=60&level=2",
            "level",
            &[1, 5],
        ),
        (
            PERIOD,
            "userId=u&startTime=22:00:00&period=60&level=0",
            "level",
            &[1, 5],
        ),
        (
            CONVERSATION,
            "conversationType=2&requestId=u&targetId=g&unpushLevel=1",
            "conversationType",
            TYPES,
        ),
        (
            "/conversation/notification/get.json",
            "conversationType=0&requestId=u&targetId=g",
            "conversationType",
            TYPES,
        ),
        (
            TYPE,
            "conversationType=11&requestId=u&unpushLevel=1",
            "conversationType",
            TYPES,
        ),
        (
            "/conversation/type/notification/get.json",
            "conversationType=-1&requestId=u",
            "conversationType",
            TYPES,
        ),
    ];
    for (path, body, parameter, accepted) in cases {
        let e = Request::parse(path, body.as_bytes()).unwrap_err();
        let message = e.to_string();
        assert_eq!(e.parameter(), Some(parameter), "{body}: {message}");
        assert_eq!(e.accepted(), Some(accepted), "{body}: {message}");
        assert!(message.starts_with(&format!("parameter {parameter}: ")), "{message}");
        assert_eq!(listed_codes(&message), accepted, "{body}: {message}");
        // The value refused is the one given, and it is not in the list.
        let given: i64 = message[format!("parameter {parameter}: ").len()..]
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(body.contains(&format!("{parameter}={given}")), "{message}");
        assert!(!accepted.contains(&given));
        // The settings API answers the same text.
        let mut s = Settings::new(Config::new(UTC));
        let r = s.handle(path, body.as_bytes());
        assert_eq!(r.code(), 1002);
        assert!(r.to_json().contains(&message), "{}", r.to_json());
    }
    // Where a level must be set (a saved state, a typed Level), 0 is not
    // among the accepted values, and the text does not say it is.
    let e = Level::try_from(0).unwrap_err();
    assert_eq!(e.accepted(), Some(&[-1, 1, 2, 4, 5][..]));
    assert_eq!(listed_codes(&e.to_string()), [-1, 1, 2, 4, 5]);
    assert_eq!(Level::try_from(3), Err(Error::SetLevel(3)));
    assert_eq!(Level::from_code(3), Err(Error::Level(3)));
    let saved = r#"{"format":1,"timeZone":"UTC","users":[{"userId":"u","conversationTypes":[{"conversationType":3,"unpushLevel":0}]}]}"#;
    let e = serde_json::from_str::<Settings>(saved).unwrap_err().to_string();
    assert!(e.contains("0 is not a DND level that is set (-1, 1, 2, 4 or 5)"), "{e}");
}

#[test]
fn error_texts_quote_a_short_excerpt() {
    const BIG: usize = 10 * 1024 * 1024;
    let big = "x".repeat(BIG);
    let cases = [
        (
            TYPE,
            format!("conversationType=3&requestId={big}&unpushLevel=5"),
            "requestId",
        ),
        (
            DEFAULT,
            format!("groupId=g&busChannel={big}&unpushLevel=5"),
            "busChannel",
        ),
        (
            PERIOD,
            format!("userId=u&startTime={big}&period=60&level=5"),
            "startTime",
        ),
        (
            PERIOD,
            format!("userId=u&startTime=22:00:00&period=60&level=5&timezone={big}"),
            "timezone",
        ),
        (
            PERIOD,
            format!("userId=u&startTime=22:00:00&period={big}&level=5"),
            "period",
        ),
        // The extension requests' values too.
        (
            TYPE,
            format!("conversationType=3&requestId=u&unpushLevel=5&until={big}"),
            "until",
        ),
        (
            "/user/snooze/set.json",
            format!("userId=u&until=1800000000000&level={big}"),
            "level",
        ),
        (
            "/user/blockPushSchedule/set.json",
            format!("userId=u&windows={big}"),
            "windows",
        ),
        (
            "/user/blockPushSchedule/set.json",
            format!("userId=u&windows=%5B%22{big}%22%5D"),
            "windows",
        ),
    ];
    let head = format!("{:?}", "x".repeat(32));
    for (path, body, parameter) in cases {
        let mut s = Settings::new(Config::new(UTC));
        let r = s.handle(path, body.as_bytes());
        let json = r.to_json();
        assert_eq!(r.code(), 1002);
        assert!(json.len() < 300, "{parameter}: an answer of {} bytes", json.len());
        assert!(json.contains(parameter), "{json}");
        // Where the value is quoted, it is cut, and the length said: the
        // value's own (an excerpt), or that of another library's text
        // quoting it (a schedule's windows, read by serde).
        if json.contains(&"x".repeat(8)) {
            assert!(json.contains("… (") && json.contains(" bytes)"), "{parameter}: {json}");
        }
        if parameter != "windows" {
            let e = Request::parse(path, body.as_bytes()).unwrap_err().to_string();
            assert!(
                !e.contains(&"x".repeat(8)) || e.contains(&format!("{head}… ({BIG} bytes)")),
                "{e}"
            );
        }
    }
    // An unknown path, and the JSON form.
    let e = Request::parse(&format!("/{big}"), b"").unwrap_err().to_string();
    assert!(e.len() < 100 && e.contains(&format!("({} bytes)", BIG + 1)), "{e}");
    let json = format!(r#"{{"request":"setTypeLevel","userId":"u","conversationType":3,"level":5,"{big}":1}}"#);
    let e = serde_json::from_str::<Request>(&json).unwrap_err().to_string();
    assert!(e.len() < 200 && e.contains(&format!("({BIG} bytes)")), "{e}");
    let json = format!(r#"{{"request":"setTypeLevel","userId":"u","conversationType":3,"level":"{big}"}}"#);
    let e = serde_json::from_str::<Request>(&json).unwrap_err().to_string();
    assert!(e.len() < 200 && e.contains(&format!("({BIG} bytes)")), "{e}");
    let json = format!(r#"{{"request":"setSchedule","userId":"u","schedule":{{"windows":["{big}"]}}}}"#);
    let e = serde_json::from_str::<Request>(&json).unwrap_err().to_string();
    assert!(e.len() < 400 && e.contains("schedule") && e.contains(" bytes)"), "{e}");

    // Control characters in a quoted value are escaped: no value can end a
    // line of output or start another.
    for (path, body) in [
        (
            PERIOD,
            "userId=u&startTime=22:00:00&period=60&level=5&timezone=Asia%2FTokyo%0A%7B%22code%22%3A200%7D",
        ),
        (DEFAULT, "groupId=g&busChannel=a%0D%0Ab&unpushLevel=5"),
        (PERIOD, "userId=u&startTime=22%0A00%1B00&period=60&level=5"),
    ] {
        let e = Request::parse(path, body.as_bytes()).unwrap_err().to_string();
        assert!(!e.chars().any(char::is_control), "{e:?}");
        assert!(e.contains("\\n") || e.contains("\\r"), "{e:?}");
    }
    let long_id = format!("{}\n{}", "a".repeat(40), "b".repeat(40));
    let e = dnd_engine::UserId::new(&long_id).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "user id {:?}… (81 bytes) must be 1 to 64 bytes of UTF-8",
            "a".repeat(32)
        )
    );
}

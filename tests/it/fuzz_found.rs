//! Defects the fuzz driver (`fuzz/`, `docs/fuzzing.md`) found, each kept as
//! a named test.

use dnd_engine::{parse_instant, Conversation, Layer, Level, Message, Request, Settings};

use crate::support::{settings, CONVERSATION};

/// A temporary level beside a permanent one on the same conversation
/// survived a save but not a restore: the restore set the permanent levels
/// after the temporary ones, and setting one clears the other. The restored
/// settings decided otherwise, silently (found by `dnd-fuzz --seed 1`).
#[test]
fn a_temporary_level_beside_a_permanent_one_survives_restore() {
    let s = settings(
        chrono_tz::UTC,
        &[
            (
                CONVERSATION,
                "conversationType=3&requestId=u0&targetId=g&unpushLevel=-1",
            ),
            (
                CONVERSATION,
                "conversationType=3&requestId=u0&targetId=g&unpushLevel=5&until=2027-01-01T00:00:00Z",
            ),
        ],
    );
    let saved = serde_json::to_string(&s).unwrap();
    let restored: Settings = serde_json::from_str(&saved).unwrap();
    assert_eq!(serde_json::to_string(&restored).unwrap(), saved);
    for (at, level) in [
        ("2026-06-01T00:00:00Z", Level::Nothing),
        ("2027-06-01T00:00:00Z", Level::All),
    ] {
        let m = Message::new(Conversation::Group { group_id: "g" }, "x", parse_instant(at).unwrap());
        for settings in [&s, &restored] {
            let d = settings.prepare(&m).decide_id("u0");
            assert_eq!((d.by(), d.level()), (Layer::UserConversation, Some(level)), "{at}");
        }
    }
}

/// An `until` with microseconds was kept to the microsecond, but a request's
/// JSON and a snapshot carry milliseconds: the request read back from its
/// JSON was another request, and a restored state another instant (found by
/// `dnd-fuzz --seed 9002`).
#[test]
fn an_until_finer_than_a_millisecond_travels_as_json_exactly() {
    let body = b"conversationType=3&requestId=u0&targetId=g&unpushLevel=5&until=2028-01-21T00:55:23.212999%2B00:00";
    let request = Request::parse(CONVERSATION, body).unwrap();
    let json = serde_json::to_string(&request).unwrap();
    assert_eq!(serde_json::from_str::<Request>(&json).unwrap(), request, "{json}");

    let mut s = settings(chrono_tz::UTC, &[]);
    assert_eq!(s.apply(&request).code(), 200);
    let restored: Settings = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    // The last millisecond before the end, and the end itself.
    for (at, layer) in [
        ("2028-01-21T00:55:23.211999Z", Layer::UserConversation),
        ("2028-01-21T00:55:23.212Z", Layer::NothingSet),
    ] {
        let m = Message::new(Conversation::Group { group_id: "g" }, "x", parse_instant(at).unwrap());
        for settings in [&s, &restored] {
            assert_eq!(settings.prepare(&m).decide_id("u0").by(), layer, "{at}");
        }
    }
}

/// A conversation listed twice was refused only when its first entry stored
/// something: after an empty first entry (no users, no default) the second
/// was restored (found by `dnd-fuzz --seed 9003`).
#[test]
fn a_conversation_listed_twice_is_refused_even_after_an_empty_entry() {
    let snapshot = r#"{"format":2,"timeZone":"UTC","users":[{"userId":"u"}],"conversations":[
        {"conversationType":1,"targetId":"s"},
        {"conversationType":1,"targetId":"s","users":[{"userId":"u","unpushLevel":5}]}]}"#;
    let error = serde_json::from_str::<Settings>(snapshot).unwrap_err().to_string();
    assert!(
        error.contains("conversations[1]") && error.contains("listed twice"),
        "{error}"
    );
}

/// A leap second (`:60`) in an `until` was kept as chrono's leap-second
/// instant, which reads back from epoch milliseconds as the next second's:
/// the request's JSON was another request (found by `dnd-fuzz --seed 9003`).
#[test]
fn an_until_in_a_leap_second_travels_as_json_exactly() {
    let body = b"userId=u0&until=2024-02-05T09:55:60.278-05:00&level=1";
    let request = Request::parse("/user/snooze/set.json", body).unwrap();
    let json = serde_json::to_string(&request).unwrap();
    assert_eq!(serde_json::from_str::<Request>(&json).unwrap(), request, "{json}");
    assert!(json.contains("1707144960278"), "the second after 14:55:59 UTC: {json}");
}

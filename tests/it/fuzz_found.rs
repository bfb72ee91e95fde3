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

/// A schedule window, a schedule and a VIP list are read by serde's derived
/// code, which also takes a struct as an array of its fields in order: the
/// array forms `[[1,2],"22:00:00",60,5]` (a window), `[[...], "UTC"]` (a
/// schedule) and `[["boss"],"all"]` (a VIP list) were accepted in a form's
/// `windows`, a JSON request and a snapshot, where the format documents
/// only objects (found by the snapshot generator of `dnd-fuzz` once it
/// learned format 2).
#[test]
fn a_window_a_schedule_or_a_vip_list_in_array_form_is_refused_everywhere() {
    let window = r#"[[1,2],"22:00:00",60,5]"#;
    let object = r#"{"days":[1,2],"startTime":"22:00:00","period":60,"level":5}"#;
    // A form body.
    let body = |w: &str| {
        form_urlencoded::Serializer::new(String::new())
            .append_pair("userId", "u")
            .append_pair("windows", &format!("[{w}]"))
            .finish()
    };
    let schedule = "/user/blockPushSchedule/set.json";
    assert!(Request::parse(schedule, body(object).as_bytes()).is_ok());
    let e = Request::parse(schedule, body(window).as_bytes())
        .unwrap_err()
        .to_string();
    assert!(e.contains("windows[0]") && e.contains("object"), "{e}");
    // A JSON request: the window, the schedule and the VIP list.
    for (text, place) in [
        (
            format!(r#"{{"request":"setSchedule","userId":"u","schedule":{{"windows":[{window}]}}}}"#),
            "schedule",
        ),
        (
            format!(r#"{{"request":"setSchedule","userId":"u","schedule":[[{object}],"UTC"]}}"#),
            "schedule",
        ),
        (
            r#"{"request":"setVip","userId":"u","vip":[["boss"],"all"]}"#.to_string(),
            "vip",
        ),
    ] {
        let e = serde_json::from_str::<Request>(&text).expect_err(&text).to_string();
        assert!(e.contains(place) && e.contains("object"), "{e}");
    }
    // A snapshot.
    let snapshot =
        format!(r#"{{"format":2,"timeZone":"UTC","users":[{{"userId":"u","schedule":{{"windows":[{window}]}}}}]}}"#);
    let e = serde_json::from_str::<Settings>(&snapshot).unwrap_err().to_string();
    assert!(
        e.contains("users[0].schedule.windows[0]") && e.contains("object"),
        "{e}"
    );
}

/// Format 1 has no `urgentAllowed`, `privateAsMention` or temporary levels,
/// but given at their defaults (`false`, `[]`) they were restored from a
/// snapshot that says it is format 1, where any of them is refused (found
/// by the snapshot generator of `dnd-fuzz` once it learned format 2). In
/// format 2 they mean what leaving them out means.
#[test]
fn a_format_2_field_at_its_default_is_refused_in_format_1() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/snapshot-format-1.json"
    ))
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let plain: Settings = serde_json::from_value(v.clone()).unwrap();
    type Edit = (&'static str, fn(&mut serde_json::Value), &'static str);
    let edits: [Edit; 4] = [
        (
            "urgentAllowed",
            |v| v["users"][0]["urgentAllowed"] = false.into(),
            "users[0]",
        ),
        (
            "privateAsMention",
            |v| v["privateAsMention"] = false.into(),
            "privateAsMention",
        ),
        (
            "temporaryConversationTypes",
            |v| v["users"][1]["temporaryConversationTypes"] = serde_json::json!([]),
            "users[1]",
        ),
        (
            "temporaryConversations",
            |v| v["users"][2]["temporaryConversations"] = serde_json::json!([]),
            "users[2]",
        ),
    ];
    for (field, edit, place) in edits {
        let mut bad = v.clone();
        edit(&mut bad);
        let e = serde_json::from_value::<Settings>(bad.clone())
            .err()
            .unwrap_or_else(|| panic!("{field} in format 1 was restored"))
            .to_string();
        assert!(e.contains(place) && e.contains("format 1"), "{field}: {e}");
        bad["format"] = 2.into();
        let two: Settings = serde_json::from_value(bad).unwrap_or_else(|e| panic!("{field} in format 2: {e}"));
        let mut same = serde_json::to_value(&plain).unwrap();
        same["format"] = 2.into();
        assert_eq!(serde_json::to_value(&two).unwrap(), same, "{field}: as if left out");
    }
}

/// A message at a leap second is decided as 23:59:59.x, but its deferral
/// looked ahead from the next second's first millisecond and skipped the
/// candidate there: a period ending at midnight deferred a day late, and a
/// snooze ending at midnight deferred to no instant at all (found by the
/// differential fuzzing of the extensions).
#[test]
fn a_message_at_a_leap_second_defers_to_the_next_second() {
    let leap = parse_instant("2016-12-31T23:59:60Z").unwrap();
    let midnight = parse_instant("2017-01-01T00:00:00Z").unwrap();
    let message = Message::new(Conversation::Private, "s", leap);
    let cases = [
        (
            "/user/blockPushPeriod/set.json",
            "userId=u1&startTime=23:00:00&period=60&level=5",
        ),
        ("/user/snooze/set.json", "userId=u1&until=1483228800000"),
    ];
    for (path, body) in cases {
        let s = settings(chrono_tz::UTC, &[(path, body)]);
        let p = s.prepare(&message);
        let (now, deferral) = p.decide_deferred_id("u1");
        assert!(!now.push(), "{path}: quiet at the leap second");
        let deferral = deferral.unwrap_or_else(|| panic!("{path}: no deferral"));
        assert_eq!(deferral.until, *midnight, "{path}");
        assert!(
            s.prepare(&message.with_time(midnight)).decide_id("u1").push(),
            "{path}: pushes at midnight"
        );
    }
}

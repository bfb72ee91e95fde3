//! A snapshot field given as `null` (docs/rules.md §6 and §8): the saved
//! form never writes one, and the documented format allows none, so a
//! restore refuses it, naming the place, as the JSON request reader does
//! (docs/rules.md); it never reads it as an absent field.

use chrono_tz::Asia;
use dnd_engine::{Config, Settings};
use serde_json::Value;

use crate::support::{settings_with, CONVERSATION, DEFAULT, PERIOD, TYPE};

/// Settings that use every field of format 2.
fn everything() -> Settings {
    let windows = form_urlencoded::byte_serialize(br#"[{"days":[1,2],"startTime":"22:00:00","period":540,"level":5}]"#)
        .collect::<String>();
    let vip = form_urlencoded::byte_serialize(br#"["b","c"]"#).collect::<String>();
    settings_with(
        Config::new(Asia::Shanghai)
            .with_app_default(dnd_engine::ConversationType::Group, dnd_engine::Level::Mentions)
            .with_private_as_mention()
            .with_mention_all_max_members(200),
        &[
            (
                PERIOD,
                "userId=a&startTime=22:00:00&period=540&level=5&timezone=Europe/Paris",
            ),
            (
                "/user/blockPushSchedule/set.json",
                &format!("userId=b&windows={windows}&timezone=America/New_York"),
            ),
            ("/user/snooze/set.json", "userId=c&until=1900000000000&level=2"),
            (TYPE, "conversationType=3&requestId=a&unpushLevel=2"),
            (TYPE, "conversationType=1&requestId=b&unpushLevel=5&until=1900000000000"),
            (CONVERSATION, "conversationType=3&requestId=c&targetId=g&unpushLevel=5"),
            (
                CONVERSATION,
                "conversationType=10&requestId=a&targetId=ug&busChannel=c0&unpushLevel=4&until=1900000000000",
            ),
            (
                CONVERSATION,
                "conversationType=10&requestId=b&targetId=ug&busChannel=c1&unpushLevel=-1",
            ),
            (DEFAULT, "groupId=ug&unpushLevel=5"),
            (DEFAULT, "groupId=ug&unpushLevel=1&until=1900000000000"),
            (DEFAULT, "groupId=ug&busChannel=c1&unpushLevel=2"),
            (DEFAULT, "groupId=ug&busChannel=c1&unpushLevel=4&until=1900000000000"),
            ("/user/vip/set.json", &format!("userId=a&vipUserIds={vip}&scope=all")),
            ("/user/urgent/set.json", "userId=c&allow=1"),
        ],
    )
}

/// Every place in `v` that holds a value, as serde_path_to_error names it
/// (`users[0].period.timezone`), with a pointer to it.
fn places(v: &Value, place: String, pointer: String, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let p = if place.is_empty() {
                    k.clone()
                } else {
                    format!("{place}.{k}")
                };
                let ptr = format!("{pointer}/{k}");
                out.push((p.clone(), ptr.clone()));
                places(child, p, ptr, out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let p = format!("{place}[{i}]");
                let ptr = format!("{pointer}/{i}");
                out.push((p.clone(), ptr.clone()));
                places(child, p, ptr, out);
            }
        }
        _ => {}
    }
}

fn fixture() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/snapshot-format-1.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// In a format-2 save that uses every field, and in the committed format-1
/// fixture, each field and each array element in turn set to `null` is
/// refused with an error that names its place and says `null`.
#[test]
fn a_null_anywhere_in_a_snapshot_is_refused_naming_the_place() {
    let saved = serde_json::to_value(everything()).unwrap();
    for needle in [
        "schedule",
        "snooze",
        "temporaryConversations",
        "defaultTemporary",
        "vip",
        "busChannel",
    ] {
        assert!(saved.to_string().contains(needle), "{needle} is not in {saved}");
    }
    for whole in [saved, fixture()] {
        // Both restore as they are.
        serde_json::from_value::<Settings>(whole.clone()).unwrap();
        let mut all = Vec::new();
        places(&whole, String::new(), String::new(), &mut all);
        assert!(all.len() > 40, "{}", all.len());
        for (place, pointer) in all {
            let mut bad = whole.clone();
            *bad.pointer_mut(&pointer).unwrap() = Value::Null;
            let e = match serde_json::from_value::<Settings>(bad) {
                Ok(_) => panic!("{place}: null was restored"),
                Err(e) => e,
            };
            assert!(e.is_data(), "{place}: {e}");
            let text = e.to_string();
            assert!(text.contains(&format!("{place}: ")), "{place} is not named in {text}");
            assert!(text.contains("null"), "{place}: {text}");
        }
    }
}

/// The optional fields that were read as absent, one by one, with the
/// message a reader sees.
#[test]
fn an_optional_field_given_as_null_is_not_read_as_absent() {
    let v = fixture();
    for (pointer, place) in [
        ("/users/0/period", "users[0].period"),
        ("/users/1/period/timezone", "users[1].period.timezone"),
        ("/conversations/2/default", "conversations[2].default"),
    ] {
        let mut bad = v.clone();
        *bad.pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{pointer} in the fixture")) = Value::Null;
        let e = serde_json::from_value::<Settings>(bad).err().map(|e| e.to_string());
        let e = e.unwrap_or_else(|| panic!("{place}: null restored as absent"));
        assert!(e.contains(&format!("saved state: {place}: null is not allowed")), "{e}");
    }
    let mut with_schedule = v.clone();
    with_schedule["users"][0]["schedule"] = Value::Null;
    let e = serde_json::from_value::<Settings>(with_schedule).expect_err("a null schedule");
    assert!(e.to_string().contains("users[0].schedule: null"), "{e}");
}

/// A schedule is read by its own type both in a snapshot and in a JSON
/// request (`setSchedule`), so its `timezone` given as `null` was taken as
/// absent by the request reader too, which refuses every
/// `null`.
#[test]
fn a_json_schedule_with_a_null_timezone_is_refused() {
    let windows = r#"[{"days":[1],"startTime":"22:00:00","period":60,"level":5}]"#;
    let ok = format!(r#"{{"request":"setSchedule","userId":"u","schedule":{{"windows":{windows}}}}}"#);
    serde_json::from_str::<dnd_engine::Request>(&ok).unwrap();
    let bad = format!(r#"{{"request":"setSchedule","userId":"u","schedule":{{"windows":{windows},"timezone":null}}}}"#);
    let e = serde_json::from_str::<dnd_engine::Request>(&bad).expect_err("a null timezone");
    assert!(e.to_string().contains("schedule: null is not allowed"), "{e}");
}

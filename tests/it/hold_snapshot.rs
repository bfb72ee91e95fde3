//! Snapshot format 3 with held items: a save of the settings and the held
//! items restores both, losslessly; formats 1 and 2 still restore; every
//! fault of the held part is refused, naming where it is.

use dnd_engine::chrono_tz::UTC;
use dnd_engine::snapshot::{save_with_held, Restored};
use dnd_engine::{Config, Conversation, Held, Mentions, Message, Settings, Timestamp};
use serde_json::{json, Value};

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// `u1`, `u2`, `u3` quiet 22:00 + 9 h at level 5 (UTC).
fn settings() -> Settings {
    let mut s = Settings::new(Config::new(UTC));
    for u in ["u1", "u2", "u3"] {
        let body = format!("userId={u}&startTime=22:00:00&period=540&level=5");
        assert_eq!(s.handle("/user/blockPushPeriod/set.json", body.as_bytes()).code(), 200);
    }
    s
}

fn hold(held: &mut Held, settings: &Settings, message: &Message<'_>, recipients: &[&str]) {
    let prepared = settings.prepare(message);
    held.hold(&prepared, recipients.iter().map(|&r| (r, prepared.decide_id(r))))
        .unwrap();
}

/// A store with every kind of thing held: mentions by id, by user group and
/// @all, a text, an ultra group's subchannel, a private message, an urgent one with a member count,
/// a message id, items folded beyond a limit of 2, items re-timed by an
/// evaluation, and one dropped.
fn busy() -> (Settings, Held) {
    let mut s = settings();
    let mut held = Held::with_detail_limit(2);
    let mentioned = ["u2"];
    let m1 = Message::new(Conversation::Group { group_id: "g" }, "s", t("2026-11-22T23:00:00Z"))
        .with_hold()
        .with_message_id("m1")
        .with_mentions(Mentions::Users(&mentioned));
    hold(&mut held, &s, &m1, &["u1", "u2", "u3"]);
    let m2 = Message::new(
        Conversation::UltraGroup {
            group_id: "ug",
            bus_channel: Some("c1"),
        },
        "s2",
        t("2026-11-22T23:10:00Z"),
    )
    .with_hold()
    .with_mentions(Mentions::All)
    .with_mention_all_allowed(false)
    .with_mentioned_groups(&["oncall"])
    .with_text("hello there");
    hold(&mut held, &s, &m2, &["u1", "u2"]);
    let mut m3 = Message::new(Conversation::Private, "s3", t("2026-11-22T23:20:00Z")).with_hold();
    m3.urgent = true;
    m3.member_count = Some(2);
    hold(&mut held, &s, &m3, &["u1", "u3"]);
    // u1 has 3 items and a limit of 2: one is folded.
    assert_eq!(held.held_for("u1"), (2, 1));
    // An evaluation re-times u2's quiet time to end at 06:00; u3's group is muted for good: dropped.
    assert_eq!(
        s.handle(
            "/user/blockPushPeriod/set.json",
            b"userId=u2&startTime=22:00:00&period=480&level=5"
        )
        .code(),
        200
    );
    assert_eq!(
        s.handle(
            "/conversation/notification/set.json",
            b"conversationType=3&requestId=u3&targetId=g&unpushLevel=5"
        )
        .code(),
        200
    );
    let r = held.release(&s, t("2026-11-23T01:00:00Z"));
    assert!(r.digests.is_empty());
    assert!(held.dropped() >= 1, "u3's item in muted g is dropped");
    (s, held)
}

#[test]
fn a_save_with_held_items_is_format_3_and_restores_both_losslessly() {
    let (s, mut held) = busy();
    let saved = serde_json::to_value(save_with_held(&s, &held)).unwrap();
    assert_eq!(saved["format"], 3);
    let h = &saved["held"];
    assert_eq!(h["lastEvaluation"], t("2026-11-23T01:00:00Z").millis());
    assert_eq!(h["folded"], json!([{"userId": "u1", "count": 1}]));
    let first = &h["messages"][0];
    assert_eq!(first["messageId"], "m1");
    assert_eq!(first["mentionedUserIds"], json!(["u2"]));
    assert_eq!(
        first["items"][1],
        json!({"userId": "u2", "due": t("2026-11-23T06:00:00Z").millis()})
    );
    assert_eq!(h["messages"][1]["busChannel"], "c1");
    assert_eq!(h["messages"][1]["mentionAll"], true);
    assert_eq!(h["messages"][1]["mentionAllAllowed"], false);
    assert_eq!(h["messages"][1]["mentionedUserGroupIds"], json!(["oncall"]));
    assert_eq!(h["messages"][1]["text"], "hello there");
    assert!(
        h["messages"][2].get("targetId").is_none(),
        "a private message has no target"
    );
    assert_eq!(h["messages"][2]["urgent"], true);

    let Restored {
        settings: s2,
        held: mut h2,
        ..
    } = serde_json::from_value(saved.clone()).unwrap();
    assert_eq!(
        serde_json::to_value(save_with_held(&s2, &h2)).unwrap(),
        saved,
        "saving again gives the same"
    );
    assert_eq!(
        (h2.len(), h2.folded(), h2.dropped()),
        (held.len(), held.folded(), held.dropped())
    );
    // The same digests, at every step through the morning.
    for at in ["2026-11-23T05:00:00Z", "2026-11-23T06:30:00Z", "2026-11-23T08:00:00Z"] {
        assert_eq!(h2.release(&s2, t(at)), held.release(&s, t(at)), "at {at}");
    }
    assert!(h2.is_empty() && held.is_empty());
}

#[test]
fn nothing_held_saves_exactly_the_settings_and_formats_1_and_2_restore_with_nothing_held() {
    let s = settings();
    let held = Held::new();
    assert_eq!(
        serde_json::to_value(save_with_held(&s, &held)).unwrap(),
        serde_json::to_value(&s).unwrap()
    );
    let v2 = serde_json::to_value(&s).unwrap();
    assert_eq!(v2["format"], 2);
    let r: Restored = serde_json::from_value(v2.clone()).unwrap();
    assert!(r.held.is_empty() && r.held.last_evaluation().is_none());
    assert_eq!(serde_json::to_value(&r.settings).unwrap(), v2);
    let v1 = json!({"format": 1, "timeZone": "UTC", "users": [{"userId": "a", "period": {"startTime": "22:00:00", "period": 60, "level": 5}}]});
    let r: Restored = serde_json::from_value(v1).unwrap();
    assert!(r.held.is_empty());
    assert!(r.settings.period("a").is_some());
}

#[test]
fn restoring_the_settings_alone_from_a_save_with_held_items_is_refused() {
    let (s, held) = busy();
    let saved = serde_json::to_value(save_with_held(&s, &held)).unwrap();
    let e = serde_json::from_value::<Settings>(saved).unwrap_err().to_string();
    assert!(e.contains("held: this save carries held items"), "{e}");
}

/// `f` applied to a valid save's held part is refused with an error containing `want`.
fn refused(f: impl Fn(&mut Value), want: &str) {
    let (s, held) = busy();
    let mut saved = serde_json::to_value(save_with_held(&s, &held)).unwrap();
    f(&mut saved);
    let e = serde_json::from_value::<Restored>(saved).unwrap_err().to_string();
    assert!(e.contains(want), "wanted {want:?} in {e}");
}

#[test]
fn every_fault_of_the_held_part_is_refused_naming_where_it_is() {
    refused(|v| v["format"] = 2.into(), "held is not in formats 1 and 2");
    refused(
        |v| v["held"]["messages"][0]["items"][1]["userId"] = "u1".into(),
        "held.messages[0].items[1].userId: \"u1\" is held twice",
    );
    refused(
        |v| v["held"]["messages"][0]["items"] = json!([]),
        "held.messages[0].items: a held message has at least one item",
    );
    refused(
        |v| v["held"]["messages"][0]["messageId"] = "".into(),
        "held.messages[0].messageId",
    );
    refused(|v| v["held"]["messages"][0]["due"] = 1.into(), "unknown field `due`");
    refused(|v| v["held"]["messages"][0]["items"][0]["due"] = Value::Null, "null");
    refused(|v| v["held"]["messages"][0]["at"] = (-1).into(), "held.messages[0].at");
    refused(
        |v| v["held"]["messages"][2]["targetId"] = "g".into(),
        "held.messages[2].targetId: a private or system message has none",
    );
    refused(
        |v| {
            v["held"]["messages"][1].as_object_mut().unwrap().remove("targetId");
        },
        "held.messages[1].targetId",
    );
    refused(
        |v| v["held"]["messages"][1]["mentionedUserIds"] = json!(["u1"]),
        "not both",
    );
    refused(
        |v| v["held"]["messages"][0]["busChannel"] = "c".into(),
        "held.messages[0].busChannel",
    );
    refused(
        |v| v["held"]["messages"][0]["fromUserId"] = "".into(),
        "held.messages[0].fromUserId",
    );
    refused(
        |v| v["held"]["folded"] = json!([{"userId": "u1", "count": 1}, {"userId": "u1", "count": 2}]),
        "held.folded[1].userId",
    );
    refused(|v| v["held"]["folded"][0]["count"] = 0.into(), "held.folded[0]");
    refused(|v| v["held"]["dropped"] = 0.into(), "held.dropped");
    refused(
        |v| v["held"]["messages"][2]["text"] = "deploy".into(),
        "held.messages[2].text: only a group or ultra-group message",
    );
    refused(
        |v| v["held"]["messages"][2]["mentionedUserGroupIds"] = json!(["oncall"]),
        "held.messages[2].mentionedUserGroupIds: only a group or ultra-group message",
    );
    refused(
        |v| v["held"]["messages"][0]["mentionedUserGroupIds"] = json!(["ok", ""]),
        "held.messages[0].mentionedUserGroupIds[1]",
    );
    refused(
        |v| v["held"]["messages"][0]["mentionedUserGroupIds"] = json!([]),
        "mentionedUserGroupIds: [] is never saved",
    );
    refused(
        |v| v["held"]["messages"][0]["text"] = "".into(),
        "text: \"\" is never saved",
    );
}

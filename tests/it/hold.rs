//! One test per sentence of `docs/rules.md` §12, held pushes and repeated senders.

use dnd_engine::chrono_tz::UTC;
use dnd_engine::push::DecisionLine;
use dnd_engine::{
    Config, Conversation, Held, Holding, Layer, Mentions, Message, NoteKind, Recipient, Settings, Timestamp,
};

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn ms(s: &str) -> i64 {
    t(s).millis()
}

/// `u1` and `u2` are quiet 22:00 + 9 h at level 5 (UTC); `muted` keeps group `g` at level 5.
fn settings() -> Settings {
    let mut s = Settings::new(Config::new(UTC));
    for body in [
        "userId=u1&startTime=22:00:00&period=540&level=5",
        "userId=u2&startTime=22:00:00&period=540&level=5",
    ] {
        assert_eq!(s.handle("/user/blockPushPeriod/set.json", body.as_bytes()).code(), 200);
    }
    let ok = s.handle(
        "/conversation/notification/set.json",
        b"conversationType=3&requestId=muted&targetId=g&unpushLevel=5",
    );
    assert_eq!(ok.code(), 200);
    s
}

fn group(at: &str) -> Message<'static> {
    Message::new(Conversation::Group { group_id: "g" }, "s", t(at)).with_hold()
}

fn hold(held: &mut Held, settings: &Settings, message: &Message<'_>, recipients: &[&str]) -> Vec<Holding> {
    let repeaters = held.repeaters(settings, message);
    let prepared = repeaters.prepare(settings, message);
    held.hold(&prepared, recipients.iter().map(|&r| (r, prepared.decide_id(r))))
        .unwrap()
}

#[test]
fn a_push_asked_to_hold_holds_each_recipient_with_a_defer_until_and_no_other() {
    let settings = settings();
    let mut held = Held::new();
    let m = group("2026-11-22T23:00:00Z");
    let got = hold(&mut held, &settings, &m, &["u1", "muted", "free", "s"]);
    // u1 is deferred to 07:00; muted has no deferUntil (level 5 for the week),
    // free pushes now, and the sender never gets a push.
    assert_eq!(
        got,
        [Holding::Held, Holding::NotHeld, Holding::NotHeld, Holding::NotHeld]
    );
    // disablePush: no deferUntil, not held; a push that does not ask to hold holds nothing.
    let got = hold(&mut held, &settings, &m.with_push_disabled(), &["u1"]);
    assert_eq!(got, [Holding::NotHeld]);
    let plain = Message::new(Conversation::Group { group_id: "g" }, "s", t("2026-11-22T23:00:00Z"));
    assert_eq!(hold(&mut held, &settings, &plain, &["u1"]), [Holding::NotHeld]);
    assert_eq!(held.len(), 1);
}

#[test]
fn the_decision_line_says_held() {
    let settings = settings();
    let m = group("2026-11-22T23:00:00Z");
    let prepared = settings.prepare(&m);
    let mut out = Vec::new();
    DecisionLine::decide(&prepared, "u1")
        .with_held(true)
        .write_to(&mut out)
        .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"userId":"u1","push":false,"by":"user_period","level":5,"deferUntil":1795417200000,"held":true}"#
    );
}

#[test]
fn a_held_item_is_due_when_the_message_decided_then_pushes_and_is_released_once() {
    let settings = settings();
    let mut held = Held::new();
    hold(&mut held, &settings, &group("2026-11-22T23:00:00Z"), &["u1"]);
    assert!(held
        .release(&settings, t("2026-11-23T06:59:59.999Z"))
        .digests
        .is_empty());
    let r = held.release(&settings, t("2026-11-23T09:00:00Z"));
    assert_eq!(r.digests.len(), 1);
    assert_eq!(r.digests[0].at, ms("2026-11-23T07:00:00Z"));
    assert!(
        held.release(&settings, t("2026-11-23T10:00:00Z")).digests.is_empty(),
        "once"
    );
    assert!(held.is_empty());
}

#[test]
fn a_snooze_ended_early_releases_at_the_next_evaluation() {
    let mut settings = Settings::new(Config::new(UTC));
    let until = ms("2026-11-25T00:00:00Z");
    let ok = settings.handle("/user/snooze/set.json", format!("userId=u1&until={until}").as_bytes());
    assert_eq!(ok.code(), 200);
    let mut held = Held::new();
    hold(&mut held, &settings, &group("2026-11-22T12:00:00Z"), &["u1"]);
    assert!(held.release(&settings, t("2026-11-22T13:00:00Z")).digests.is_empty());
    assert_eq!(settings.handle("/user/snooze/delete.json", b"userId=u1").code(), 200);
    // Due at the previous evaluation (13:00), the lower bound, where it now pushes.
    let r = held.release(&settings, t("2026-11-22T13:05:00Z"));
    assert_eq!(r.digests[0].at, ms("2026-11-22T13:00:00Z"));
    assert!(
        matches!(r.notes[0].kind, NoteKind::Retimed { from, to, because: None } if from == until && to == ms("2026-11-22T13:00:00Z"))
    );
}

#[test]
fn a_quiet_time_extended_releases_later_never_at_the_stale_defer_until() {
    let mut settings = settings();
    let mut held = Held::new();
    hold(&mut held, &settings, &group("2026-11-22T23:00:00Z"), &["u1"]);
    // Quiet until 09:00 now.
    let ok = settings.handle(
        "/user/blockPushPeriod/set.json",
        b"userId=u1&startTime=22:00:00&period=660&level=5",
    );
    assert_eq!(ok.code(), 200);
    let r = held.release(&settings, t("2026-11-23T08:00:00Z"));
    assert!(r.digests.is_empty(), "not at the stale 07:00");
    assert!(matches!(r.notes[0].kind, NoteKind::Retimed { to, .. } if to == ms("2026-11-23T09:00:00Z")));
    let r = held.release(&settings, t("2026-11-23T09:30:00Z"));
    assert_eq!(r.digests[0].at, ms("2026-11-23T09:00:00Z"));
}

#[test]
fn an_item_with_no_push_in_the_seven_days_from_its_bound_is_dropped_counted_and_noted() {
    let mut settings = settings();
    let mut held = Held::new();
    hold(&mut held, &settings, &group("2026-11-22T23:00:00Z"), &["u1"]);
    let ok = settings.handle(
        "/conversation/notification/set.json",
        b"conversationType=3&requestId=u1&targetId=g&unpushLevel=5",
    );
    assert_eq!(ok.code(), 200);
    let r = held.release(&settings, t("2026-11-23T08:00:00Z"));
    assert!(r.digests.is_empty());
    assert_eq!(held.dropped(), 1);
    assert!(held.is_empty());
    assert!(matches!(
        r.notes[0].kind,
        NoteKind::Dropped { bound, by: Layer::UserPeriod, .. } if bound == ms("2026-11-22T23:00:00Z")
    ));
}

#[test]
fn items_of_one_recipient_due_together_are_one_digest_by_conversation_latest_first() {
    let settings = settings();
    let mut held = Held::new();
    let g1 = group("2026-11-22T23:00:00Z").with_message_id("a");
    let mentioned = ["u1"];
    let g2 = group("2026-11-22T23:30:00Z")
        .with_message_id("b")
        .with_mentions(Mentions::Users(&mentioned));
    let club = Message::new(
        Conversation::UltraGroup {
            group_id: "club",
            bus_channel: Some("news"),
        },
        "c",
        t("2026-11-23T01:00:00Z"),
    )
    .with_hold()
    .with_mentions(Mentions::All);
    let private = Message::new(Conversation::Private, "p", t("2026-11-22T22:30:00Z")).with_hold();
    for m in [&g1, &g2, &club, &private] {
        assert_eq!(hold(&mut held, &settings, m, &["u1"]), [Holding::Held]);
    }
    let r = held.release(&settings, t("2026-11-23T08:00:00Z"));
    let json = serde_json::to_value(&r.digests).unwrap();
    assert_eq!(
        json,
        serde_json::json!([{"userId": "u1", "at": ms("2026-11-23T07:00:00Z"), "conversations": [
            {"conversationType": 10, "targetId": "club", "busChannel": "news", "count": 1, "mentions": 1,
             "first": ms("2026-11-23T01:00:00Z"), "last": ms("2026-11-23T01:00:00Z"), "lastFromUserId": "c"},
            {"conversationType": 3, "targetId": "g", "count": 2, "mentions": 1,
             "first": ms("2026-11-22T23:00:00Z"), "last": ms("2026-11-22T23:30:00Z"), "lastFromUserId": "s", "lastMessageId": "b"},
            {"conversationType": 1, "targetId": "p", "count": 1, "mentions": 0,
             "first": ms("2026-11-22T22:30:00Z"), "last": ms("2026-11-22T22:30:00Z"), "lastFromUserId": "p"},
        ]}])
    );
}

#[test]
fn digests_are_released_in_order_of_at_then_user_id() {
    let mut settings = settings();
    let ok = settings.handle(
        "/user/blockPushPeriod/set.json",
        b"userId=u0&startTime=22:00:00&period=600&level=5",
    );
    assert_eq!(ok.code(), 200);
    let mut held = Held::new();
    hold(
        &mut held,
        &settings,
        &group("2026-11-22T23:00:00Z"),
        &["u2", "u0", "u1"],
    );
    let r = held.release(&settings, t("2026-11-23T09:00:00Z"));
    let order: Vec<(&str, i64)> = r.digests.iter().map(|d| (d.user_id.as_str(), d.at)).collect();
    let (seven, eight) = (ms("2026-11-23T07:00:00Z"), ms("2026-11-23T08:00:00Z"));
    assert_eq!(order, [("u1", seven), ("u2", seven), ("u0", eight)]);
}

#[test]
fn beyond_the_detail_limit_items_are_counts_and_the_next_digest_says_how_many_were_folded() {
    let settings = settings();
    let mut held = Held::with_detail_limit(2);
    let got: Vec<Holding> = (0..4)
        .flat_map(|i| {
            hold(
                &mut held,
                &settings,
                &group(&format!("2026-11-22T23:0{i}:00Z")),
                &["u1"],
            )
        })
        .collect();
    assert_eq!(got, [Holding::Held, Holding::Held, Holding::Folded, Holding::Folded]);
    assert_eq!(held.held_for("u1"), (2, 2));
    let r = held.release(&settings, t("2026-11-23T08:00:00Z"));
    assert_eq!(r.digests[0].folded, 2);
    assert_eq!(r.digests[0].conversations[0].count, 2);
    assert_eq!(serde_json::to_value(&r.digests[0]).unwrap()["folded"], 2);
    assert!(held.is_empty());
}

#[test]
fn the_repeat_requests_set_both_parts_answer_under_data_and_refuse_bad_values() {
    let mut s = Settings::new(Config::new(UTC));
    assert_eq!(
        s.handle("/user/repeat/get.json", b"userId=u1").to_json(),
        r#"{"code":200,"data":{"allow":0,"windowMinutes":15}}"#
    );
    assert_eq!(
        s.handle("/user/repeat/set.json", b"userId=u1&allow=1&windowMinutes=30")
            .code(),
        200
    );
    assert_eq!(
        s.handle("/user/repeat/get.json", b"userId=u1").to_json(),
        r#"{"code":200,"data":{"allow":1,"windowMinutes":30}}"#
    );
    // A set replaces both: windowMinutes left out is 15.
    assert_eq!(s.handle("/user/repeat/set.json", b"userId=u1&allow=1").code(), 200);
    assert_eq!(s.repeat("u1").window_minutes, 15);
    for (body, parameter) in [
        ("userId=u1&allow=2", "allow"),
        ("userId=u1&allow=1&windowMinutes=0", "windowMinutes"),
        ("userId=u1&allow=1&windowMinutes=61", "windowMinutes"),
        ("userId=u1&allow=1&windowMinutes=x", "windowMinutes"),
        ("allow=1", "userId"),
    ] {
        let r = s.handle("/user/repeat/set.json", body.as_bytes());
        assert_eq!(r.code(), 1002, "{body}");
        assert!(r.to_json().contains(parameter), "{body}: {}", r.to_json());
        assert_eq!(s.repeat("u1").window_minutes, 15, "nothing changed");
    }
    // The JSON form of a request carries it too.
    let r = serde_json::from_str::<dnd_engine::Request>(
        r#"{"request": "setRepeat", "userId": "u2", "repeat": {"allow": true, "windowMinutes": 5}}"#,
    )
    .unwrap();
    assert_eq!(s.apply(&r).code(), 200);
    assert_eq!((s.repeat("u2").allow, s.repeat("u2").window_minutes), (true, 5));
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(serde_json::from_str::<dnd_engine::Request>(&json).unwrap(), r);
}

#[test]
fn a_repeated_sender_passes_over_the_quiet_time_only_within_the_window_when_allowed() {
    let mut settings = settings();
    let ok = settings.handle("/user/repeat/set.json", b"userId=u1&allow=1&windowMinutes=10");
    assert_eq!(ok.code(), 200);
    let ok = settings.handle("/user/repeat/set.json", b"userId=muted&allow=1");
    assert_eq!(ok.code(), 200);
    let mut held = Held::new();
    hold(
        &mut held,
        &settings,
        &group("2026-11-22T23:00:00Z"),
        &["u1", "u2", "muted"],
    );
    let decide = |held: &Held, m: &Message<'_>, r: &str| {
        let repeaters = held.repeaters(&settings, m);
        repeaters.prepare(&settings, m).decide_id(r)
    };
    // From the same sender 10 minutes later, in another conversation, not asking to hold.
    let again = Message::new(Conversation::Group { group_id: "h" }, "s", t("2026-11-22T23:10:00Z"));
    let d = decide(&held, &again, "u1");
    assert!(d.push());
    assert_eq!(d.by(), Layer::Repeat);
    // Past the window, another sender, a recipient who does not allow it: the quiet time stands.
    assert!(!decide(&held, &again.with_time(t("2026-11-22T23:10:00.001Z")), "u1").push());
    let other = Message::new(Conversation::Group { group_id: "h" }, "x", t("2026-11-22T23:05:00Z"));
    assert!(!decide(&held, &other, "u1").push());
    assert!(!decide(&held, &again, "u2").push());
    // Never through a level set on the conversation (muted has no held item: level 5 all week).
    assert!(!decide(&held, &group("2026-11-22T23:05:00Z"), "muted").push());
    // explain shows the layer.
    let repeaters = held.repeaters(&settings, &again);
    let why = repeaters
        .prepare(&settings, &again)
        .explain(Recipient::Id("u1"))
        .unwrap()
        .to_string();
    assert!(why.contains("passed over for the repeated sender"), "{why}");
}

#[test]
fn a_fanout_by_handle_holds_and_repeats_as_by_id() {
    let mut settings = settings();
    let ok = settings.handle("/user/repeat/set.json", b"userId=u1&allow=1");
    assert_eq!(ok.code(), 200);
    let ids = ["u1", "u2", "muted"];
    let handles: Vec<_> = ids
        .iter()
        .map(|id| settings.user(id).unwrap_or_else(|| panic!("{id}")))
        .collect();
    let (mut by_id, mut by_handle) = (Held::new(), Held::new());
    let m = group("2026-11-22T23:00:00Z");
    hold(&mut by_id, &settings, &m, &ids);
    let prepared = settings.prepare(&m);
    let mut out = Vec::new();
    prepared.decide_into(&handles, &mut out).unwrap();
    assert_eq!(by_handle.hold_fanout(&prepared, &handles, &out).unwrap(), 2);
    assert_eq!(by_handle.len(), by_id.len());
    let again = Message::new(Conversation::Group { group_id: "h" }, "s", t("2026-11-22T23:05:00Z"));
    let repeaters = by_handle.repeaters(&settings, &again);
    let prepared = repeaters.prepare(&settings, &again);
    prepared.decide_into(&handles, &mut out).unwrap();
    assert_eq!(repeaters.correct_fanout(&prepared, &handles, &mut out).unwrap(), 1);
    let by_ids: Vec<_> = ids.iter().map(|r| prepared.decide_id(r)).collect();
    assert_eq!(out, by_ids);
    assert_eq!(out[0].by(), Layer::Repeat);
    // In one pass, the repeaters' decisions corrected as above.
    let mut one_pass = Held::new();
    let mut decided = Vec::new();
    let hold_again = again.with_hold();
    let prepared = repeaters.prepare(&settings, &hold_again);
    one_pass.decide_and_hold(&prepared, &handles, &mut decided).unwrap();
    assert_eq!(decided, out);
    let a = by_id.release(&settings, t("2026-11-23T08:00:00Z"));
    let b = by_handle.release(&settings, t("2026-11-23T08:00:00Z"));
    assert_eq!(a.digests, b.digests);
}

#[test]
fn a_fanout_by_handle_holds_a_push_whose_mute_ends_in_the_week() {
    let mut settings = settings();
    let until = t("2026-11-23T02:00:00Z").millis().to_string();
    let body = format!("userId=u2&senderIds=%5B%22s%22%5D&until={until}");
    assert_eq!(
        settings.handle("/user/mutedSenders/set.json", body.as_bytes()).code(),
        200
    );
    let body = "userId=u5&senderIds=%5B%22s%22%5D";
    assert_eq!(
        settings.handle("/user/mutedSenders/set.json", body.as_bytes()).code(),
        200
    );
    let ids = ["u2", "u5"];
    let handles: Vec<_> = ids.iter().map(|id| settings.user(id).unwrap()).collect();
    let m = group("2026-11-22T12:00:00Z");
    let prepared = settings.prepare(&m);
    let mut by_id = Held::new();
    let holdings = hold(&mut by_id, &settings, &m, &ids);
    assert_eq!(
        holdings,
        [Holding::Held, Holding::NotHeld],
        "muted until 02:00, and for good"
    );
    let (mut by_handle, mut out) = (Held::new(), Vec::new());
    prepared.decide_into(&handles, &mut out).unwrap();
    assert_eq!(by_handle.hold_fanout(&prepared, &handles, &out).unwrap(), 1);
    assert_eq!(by_handle.held_for("u2"), (1, 0));
    let mut one_pass = Held::new();
    assert_eq!(one_pass.decide_and_hold(&prepared, &handles, &mut out).unwrap(), 1);
    assert!(prepared
        .is_deferred(dnd_engine::Recipient::Handle(handles[0]), out[0])
        .unwrap());
    assert!(!prepared
        .is_deferred(dnd_engine::Recipient::Handle(handles[1]), out[1])
        .unwrap());
}

#[test]
fn a_message_id_is_1_to_64_bytes() {
    let settings = settings();
    let mut held = Held::new();
    let long = "x".repeat(65);
    for bad in ["", long.as_str()] {
        let m = group("2026-11-22T23:00:00Z").with_message_id(bad);
        let prepared = settings.prepare(&m);
        let e = held.hold(&prepared, [("u1", prepared.decide_id("u1"))]).unwrap_err();
        assert!(e.to_string().starts_with("messageId"), "{e}");
        assert!(held.is_empty(), "nothing held");
    }
    let e = dnd_engine::push::Push::from_json(
        r#"{"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "s", "messageId": "", "recipients": []}"#,
    )
    .unwrap()
    .message(&[])
    .unwrap_err();
    assert!(e.to_string().starts_with("push.messageId: 0 bytes"), "{e}");
}

#[test]
fn a_snapshot_keeps_repeat_settings_in_format_3_and_formats_1_and_2_refuse_them() {
    let mut s = settings();
    let plain = serde_json::to_value(&s).unwrap();
    assert_eq!(plain["format"], 2, "without a repeat setting a save is format 2");
    assert_eq!(
        s.handle("/user/repeat/set.json", b"userId=u1&allow=1&windowMinutes=7")
            .code(),
        200
    );
    let saved = serde_json::to_value(&s).unwrap();
    assert_eq!(saved["format"], 3);
    let back: Settings = serde_json::from_value(saved.clone()).unwrap();
    assert_eq!(back.repeat("u1"), s.repeat("u1"));
    assert_eq!(serde_json::to_value(&back).unwrap(), saved);
    let mut old = saved;
    old["format"] = 2.into();
    let e = serde_json::from_value::<Settings>(old).unwrap_err().to_string();
    assert!(e.contains("repeat is not in formats 1 and 2"), "{e}");
}

/// `v` and `w` are quiet on Sunday from 22:00 for 9 h at level 5, then at
/// level 2 (mentions only) for 10 h; `v` is in user group `oncall`, `w`
/// has the keyword `deploy`.
fn mentions_only_after_the_quiet_time() -> Settings {
    let mut s = Settings::new(Config::new(UTC));
    let windows = r#"[{"days":[7],"startTime":"22:00:00","period":540,"level":5},{"days":[1],"startTime":"07:00:00","period":600,"level":2}]"#;
    for user in ["v", "w"] {
        let (code, body) = crate::support::send_form(
            &mut s,
            "/user/blockPushSchedule/set.json",
            &[("userId", user), ("windows", windows)],
        );
        assert_eq!(code, 200, "{body}");
    }
    let (code, body) = crate::support::send_form(
        &mut s,
        "/usergroup/set.json",
        &[("groupId", "oncall"), ("memberIds", r#"["v"]"#)],
    );
    assert_eq!(code, 200, "{body}");
    let (code, body) = crate::support::send_form(
        &mut s,
        "/user/keywords/set.json",
        &[("userId", "w"), ("keywords", r#"["deploy"]"#)],
    );
    assert_eq!(code, 200, "{body}");
    s
}

#[test]
fn a_held_item_is_re_decided_as_the_same_message_with_its_user_groups_and_text() {
    let settings = mentions_only_after_the_quiet_time();
    let mut held = Held::new();
    let groups = ["oncall"];
    let m = group("2026-11-22T23:00:00Z")
        .with_mentioned_groups(&groups)
        .with_text("please deploy now");
    // v (by the group) and w (by the keyword) are mentioned: due at 07:00,
    // when level 2 pushes a mention (unmentioned, not before 17:00).
    let got = hold(&mut held, &settings, &m, &["v", "w"]);
    assert_eq!(got, [Holding::Held, Holding::Held]);
    // Saved and restored, the held message keeps its groups and text.
    let saved = serde_json::to_value(dnd_engine::snapshot::save_with_held(&settings, &held)).unwrap();
    let message = &saved["held"]["messages"][0];
    assert_eq!(message["mentionedUserGroupIds"], serde_json::json!(["oncall"]));
    assert_eq!(message["text"], "please deploy now");
    let dnd_engine::snapshot::Restored {
        settings: settings2,
        held: mut held2,
        ..
    } = serde_json::from_value(saved).unwrap();
    let at = t("2026-11-23T08:00:00Z");
    let release = held.release(&settings, at);
    assert!(release.notes.is_empty(), "{:?}", release.notes);
    let who: Vec<(&str, i64, u64)> = release
        .digests
        .iter()
        .map(|d| (d.user_id.as_str(), d.at, d.conversations[0].mentions))
        .collect();
    let seven = ms("2026-11-23T07:00:00Z");
    assert_eq!(who, [("v", seven, 1), ("w", seven, 1)]);
    assert_eq!(held2.release(&settings2, at), release);
}

#[test]
fn a_message_held_again_with_the_same_id_holds_each_recipient_once() {
    let settings = settings();
    let mut held = Held::new();
    let m = group("2026-11-22T23:00:00Z").with_message_id("m1");
    assert_eq!(hold(&mut held, &settings, &m, &["u1"]), [Holding::Held]);
    // The retry answers the same, holds nothing more, and holds a recipient
    // not held the first time.
    let got = hold(&mut held, &settings, &m, &["u1", "u2"]);
    assert_eq!(got, [Holding::Held, Holding::Held]);
    assert_eq!((held.held_for("u1"), held.held_for("u2")), ((1, 0), (1, 0)));
    // Another id from the same sender, or the same id from another sender, is another message.
    hold(
        &mut held,
        &settings,
        &group("2026-11-22T23:01:00Z").with_message_id("m2"),
        &["u1"],
    );
    let other = Message::new(Conversation::Group { group_id: "g" }, "s2", t("2026-11-22T23:02:00Z"))
        .with_hold()
        .with_message_id("m1");
    hold(&mut held, &settings, &other, &["u1"]);
    assert_eq!(held.held_for("u1"), (3, 0));
    // Without an id, a retry holds twice.
    let plain = group("2026-11-22T23:03:00Z");
    hold(&mut held, &settings, &plain, &["u2"]);
    hold(&mut held, &settings, &plain, &["u2"]);
    assert_eq!(held.held_for("u2"), (3, 0));
    let release = held.release(&settings, t("2026-11-23T08:00:00Z"));
    let counts: Vec<(&str, u64)> = release
        .digests
        .iter()
        .map(|d| (d.user_id.as_str(), d.conversations.iter().map(|c| c.count).sum()))
        .collect();
    assert_eq!(counts, [("u1", 3), ("u2", 3)]);
}

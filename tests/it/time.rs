//! The rules of time (§8): expiring overrides, snooze, weekly
//! schedules (DST nights included), defer, dropping what expired, and the
//! snapshot formats.

use chrono_tz::Asia;
use dnd_engine::{Config, Layer, Mentions, Message, Recipient, Settings};

use crate::support::*;

const SNOOZE: &str = "/user/snooze/set.json";
const SCHEDULE: &str = "/user/blockPushSchedule/set.json";

fn ok(s: &mut Settings, path: &str, body: &str) {
    let r = s.handle(path, body.as_bytes());
    assert_eq!(r.code(), 200, "{path} {body}: {}", r.to_json());
}

fn get(s: &mut Settings, path: &str, body: &str) -> String {
    s.handle(path, body.as_bytes()).to_json()
}

fn ms(s: &str) -> i64 {
    at(s).timestamp_millis()
}

#[test]
fn until_on_the_three_set_paths_applies_before_until_and_the_permanent_level_after() {
    let mut s = settings(
        Asia::Shanghai,
        &[(CONVERSATION, "conversationType=3&requestId=r&targetId=g&unpushLevel=-1")],
    );
    let until = ms("2026-11-22T14:00:00+08:00");
    ok(
        &mut s,
        CONVERSATION,
        &format!("conversationType=3&requestId=r&targetId=g&unpushLevel=5&until={until}"),
    );
    assert_eq!(
        get(
            &mut s,
            "/conversation/notification/get.json",
            "conversationType=3&requestId=r&targetId=g"
        ),
        format!(r#"{{"code":200,"isMuted":5,"until":{until},"thenIsMuted":-1}}"#)
    );
    let before = Message::new(group("g"), "s", at("2026-11-22T13:59:59.999+08:00"));
    let after = Message::new(group("g"), "s", at("2026-11-22T14:00:00+08:00"));
    assert!(!decide(&s, &before, "r").push());
    assert_eq!(decide(&s, &after, "r").level().map(|l| l.code()), Some(-1));
    // A set without until replaces the permanent level and drops the temporary one.
    ok(
        &mut s,
        CONVERSATION,
        "conversationType=3&requestId=r&targetId=g&unpushLevel=4",
    );
    assert_eq!(
        get(
            &mut s,
            "/conversation/notification/get.json",
            "conversationType=3&requestId=r&targetId=g"
        ),
        r#"{"code":200,"isMuted":4}"#
    );
    // Type level and the admin's default, with 0 ("not set") as the temporary level.
    ok(&mut s, TYPE, "conversationType=3&requestId=q&unpushLevel=5");
    ok(
        &mut s,
        TYPE,
        &format!("conversationType=3&requestId=q&unpushLevel=0&until={until}"),
    );
    assert_eq!(
        get(
            &mut s,
            "/conversation/type/notification/get.json",
            "conversationType=3&requestId=q"
        ),
        format!(r#"{{"code":200,"isMuted":0,"until":{until},"thenIsMuted":5}}"#)
    );
    assert_eq!(decide(&s, &before, "q").by(), Layer::NothingSet);
    assert_eq!(decide(&s, &after, "q").by(), Layer::UserConversationType);
    ok(
        &mut s,
        DEFAULT,
        "groupId=club&busChannel=news&unpushLevel=5&until=2026-11-22T14:00:00%2B08:00",
    );
    assert_eq!(
        get(
            &mut s,
            "/ultragroup/notdisturb/get.json",
            "groupId=club&busChannel=news"
        ),
        format!(
            r#"{{"code":200,"groupId":"club","busChannel":"news","unpushLevel":5,"until":{until},"thenUnpushLevel":0}}"#
        )
    );
    let m = Message::new(ultra("club", Some("news")), "s", at("2026-11-22T13:00:00+08:00"));
    assert_eq!(decide(&s, &m, "x").by(), Layer::SubchannelDefault);
    let m = Message::new(ultra("club", Some("news")), "s", at("2026-11-22T14:00:00+08:00"));
    assert_eq!(decide(&s, &m, "x").by(), Layer::NothingSet);
}

#[test]
fn a_second_until_replaces_the_temporary_level_and_bad_untils_change_nothing() {
    let mut s = Settings::new(Config::new(Asia::Shanghai));
    ok(&mut s, TYPE, "conversationType=1&requestId=r&unpushLevel=5&until=2000");
    ok(&mut s, TYPE, "conversationType=1&requestId=r&unpushLevel=2&until=3000");
    assert_eq!(
        get(
            &mut s,
            "/conversation/type/notification/get.json",
            "conversationType=1&requestId=r"
        ),
        r#"{"code":200,"isMuted":2,"until":3000,"thenIsMuted":0}"#
    );
    let before = serde_json::to_string(&s).unwrap();
    for (body, needle) in [
        (
            "conversationType=1&requestId=r&unpushLevel=5&until=tomorrow",
            "parameter until",
        ),
        (
            "conversationType=1&requestId=r&unpushLevel=5&until=2026-11-22T14:00:00+08:00",
            "arrived as a space",
        ),
        ("conversationType=1&requestId=r&unpushLevel=5&until=", "until is empty"),
    ] {
        let r = s.handle(TYPE, body.as_bytes());
        assert_eq!(r.code(), 1002, "{body}");
        assert!(r.to_json().contains(needle), "{needle:?} not in {}", r.to_json());
    }
    assert_eq!(
        serde_json::to_string(&s).unwrap(),
        before,
        "a refused request changes nothing"
    );
}

#[test]
fn a_snooze_decides_the_quiet_layer_until_it_ends_and_stands_apart_from_the_quiet_time() {
    let mut s = settings(
        Asia::Shanghai,
        &[(PERIOD, "userId=r&startTime=22:00:00&period=540&level=1")],
    );
    assert_eq!(
        get(&mut s, "/user/snooze/get.json", "userId=r"),
        r#"{"code":200,"data":{"until":0,"level":0}}"#
    );
    let until = ms("2026-11-22T09:00:00+08:00");
    ok(&mut s, SNOOZE, &format!("userId=r&until={until}"));
    assert_eq!(
        get(&mut s, "/user/snooze/get.json", "userId=r"),
        format!(r#"{{"code":200,"data":{{"until":{until},"level":5}}}}"#)
    );
    let m = Message::new(group("g"), "s", at("2026-11-22T08:00:00+08:00")).with_mentions(Mentions::All);
    let d = decide(&s, &m, "r");
    assert_eq!(
        (d.push(), d.by(), d.level().map(|l| l.code())),
        (false, Layer::UserSnooze, Some(5))
    );
    // Deleting the period leaves the snooze; the snooze ends at until.
    ok(&mut s, "/user/blockPushPeriod/delete.json", "userId=r");
    assert!(!decide(&s, &m, "r").push());
    let later = Message::new(group("g"), "s", at("2026-11-22T09:00:00+08:00"));
    assert_eq!(decide(&s, &later, "r").by(), Layer::NothingSet);
    ok(&mut s, "/user/snooze/delete.json", "userId=r");
    assert_eq!(decide(&s, &m, "r").by(), Layer::NothingSet);
    for body in ["userId=r&until=5&level=3", "userId=r", "userId=r&until=5&level=-1"] {
        assert_eq!(s.handle(SNOOZE, body.as_bytes()).code(), 1002, "{body}");
    }
}

fn schedule_body(user: &str, windows: &str, zone: Option<&str>) -> String {
    let mut body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("userId", user)
        .append_pair("windows", windows)
        .finish();
    if let Some(z) = zone {
        body.push_str(&format!("&timezone={z}"));
    }
    body
}

#[test]
fn one_quiet_time_a_schedule_replaces_the_period_and_back() {
    let mut s = settings(
        Asia::Shanghai,
        &[(PERIOD, "userId=r&startTime=22:00:00&period=540&level=5")],
    );
    let windows = r#"[{"days":[1,2,3,4,7],"startTime":"22:00:00","period":540,"level":2},{"days":[6],"startTime":"00:00:00","period":1440,"level":5}]"#;
    ok(&mut s, SCHEDULE, &schedule_body("r", windows, Some("Europe/Paris")));
    assert_eq!(
        get(&mut s, "/user/blockPushPeriod/get.json", "userId=r"),
        r#"{"code":200,"data":{"startTime":"","period":0,"unPushLevel":0}}"#
    );
    assert_eq!(
        get(&mut s, "/user/blockPushSchedule/get.json", "userId=r"),
        format!(r#"{{"code":200,"data":{{"windows":{windows},"timezone":"Europe/Paris"}}}}"#)
    );
    ok(&mut s, PERIOD, "userId=r&startTime=22:00:00&period=540&level=5");
    assert_eq!(
        get(&mut s, "/user/blockPushSchedule/get.json", "userId=r"),
        r#"{"code":200,"data":{"windows":[]}}"#
    );
    for (windows, needle) in [
        (
            r#"[{"days":[1],"startTime":"22:00:00","period":540,"level":5},{"days":[2],"startTime":"06:00:00","period":60,"level":5}]"#,
            "overlap",
        ),
        (
            r#"[{"days":[],"startTime":"22:00:00","period":60,"level":5}]"#,
            "at least one",
        ),
        (
            r#"[{"days":[1,1],"startTime":"22:00:00","period":60,"level":5}]"#,
            "repeated",
        ),
        (
            r#"[{"days":[1],"startTime":"22:00:00","period":1441,"level":5}]"#,
            "1 to 1440",
        ),
        (
            r#"[{"days":[1],"startTime":"22:00:00","period":60,"level":-1}]"#,
            "1, 2, 4 or 5",
        ),
        (
            r#"[{"days":[1],"startTime":"22:00:00","period":60,"level":5,"extra":1}]"#,
            "unknown field",
        ),
        (r#"[]"#, "1 to 32"),
        (r#"{"days":[1]}"#, "windows"),
    ] {
        let r = s.handle(SCHEDULE, schedule_body("r", windows, None).as_bytes());
        assert_eq!(r.code(), 1002, "{windows}");
        assert!(
            r.to_json().contains(needle) && r.to_json().contains("windows"),
            "{needle:?} not in {}",
            r.to_json()
        );
    }
}

#[test]
fn a_sunday_window_runs_into_monday() {
    let s = {
        let mut s = Settings::new(Config::new(Asia::Shanghai));
        ok(
            &mut s,
            SCHEDULE,
            &schedule_body(
                "r",
                r#"[{"days":[7],"startTime":"22:00:00","period":540,"level":5}]"#,
                None,
            ),
        );
        s
    };
    // 2026-11-22 is a Sunday.
    for (when, quiet) in [
        ("2026-11-22T21:59:59+08:00", false),
        ("2026-11-22T22:00:00+08:00", true),
        ("2026-11-23T06:59:59.999+08:00", true),
        ("2026-11-23T07:00:00+08:00", false),
        ("2026-11-16T23:00:00+08:00", false), // a Monday night is not in it
    ] {
        let m = Message::new(group("g"), "s", at(when));
        assert_eq!(!decide(&s, &m, "r").push(), quiet, "{when}");
    }
}

#[test]
fn schedule_windows_across_the_new_york_clock_changes() {
    let mut s = Settings::new(Config::new(Asia::Shanghai));
    ok(
        &mut s,
        SCHEDULE,
        &schedule_body(
            "r",
            r#"[{"days":[6],"startTime":"23:00:00","period":180,"level":5},{"days":[7],"startTime":"02:30:00","period":60,"level":2}]"#,
            Some("America/New_York"),
        ),
    );
    let quiet = |s: &Settings, when: &str| !decide(s, &Message::new(group("g"), "s", at(when)), "r").push();
    // Spring forward, Sunday 2026-03-08: 02:00 EST becomes 03:00 EDT. The
    // night window (23:00 + 180 min, to 02:00 on the wall) ends at the change;
    // the 02:30 window starts in the skipped hour, so it is in effect from the
    // change until 03:30 on the wall clock.
    assert!(quiet(&s, "2026-03-08T01:59:59-05:00"));
    assert!(
        quiet(&s, "2026-03-08T03:00:00-04:00"),
        "the window starting in the skipped hour is on from the change"
    );
    assert!(quiet(&s, "2026-03-08T03:29:59-04:00"));
    assert!(!quiet(&s, "2026-03-08T03:30:00-04:00"));
    // Fall back, Sunday 2026-11-01: 02:00 EDT becomes 01:00 EST. The night
    // window holds 01:xx both times; the 02:30 window once.
    assert!(quiet(&s, "2026-11-01T01:30:00-04:00"));
    assert!(
        quiet(&s, "2026-11-01T01:30:00-05:00"),
        "a repeated wall time is inside both times"
    );
    assert!(!quiet(&s, "2026-11-01T02:00:00-05:00"));
    assert!(quiet(&s, "2026-11-01T02:30:00-05:00"));
}

#[test]
fn defer_names_the_first_instant_that_pushes() {
    let s = settings(
        Asia::Shanghai,
        &[
            (PERIOD, "userId=r&startTime=22:00:00&period=540&level=5"),
            (CONVERSATION, "conversationType=3&requestId=m&targetId=g&unpushLevel=5"),
        ],
    );
    let m = Message::new(group("g"), "s", at("2026-11-22T23:30:00+08:00"));
    let p = s.prepare(&m);
    let d = p.defer(Recipient::Id("r")).unwrap().expect("the period ends at 07:00");
    assert_eq!(d.until, *at("2026-11-23T07:00:00+08:00"));
    assert!(d.decision.push());
    assert_eq!(
        p.defer(Recipient::Id("m")),
        Ok(None),
        "muted for good: no instant pushes"
    );
    assert_eq!(p.defer(Recipient::Id("s")), Ok(None), "the sender");
    assert_eq!(p.defer(Recipient::Id("x")), Ok(None), "a push now");
    let text = p.explain_id("r").to_string();
    assert!(
        text.contains("deferUntil 2026-11-23T07:00:00+08:00 Asia/Shanghai"),
        "{text}"
    );
    assert!(text.contains("window's edge"), "{text}");
    let disabled = m.with_push_disabled();
    assert_eq!(s.prepare(&disabled).defer(Recipient::Id("r")), Ok(None));
}

#[test]
fn drop_expired_removes_only_what_is_over() {
    let mut s = Settings::new(Config::new(Asia::Shanghai));
    ok(&mut s, SNOOZE, "userId=a&until=1000");
    ok(&mut s, SNOOZE, "userId=b&until=3000");
    ok(&mut s, TYPE, "conversationType=3&requestId=a&unpushLevel=5&until=2000");
    ok(
        &mut s,
        CONVERSATION,
        "conversationType=3&requestId=a&targetId=g&unpushLevel=5&until=2000",
    );
    ok(&mut s, DEFAULT, "groupId=club&unpushLevel=5&until=1500");
    assert_eq!(s.drop_expired(*at("1970-01-01T00:00:02Z")), 4);
    assert!(s.snooze("a").is_none() && s.snooze("b").is_some());
    assert_eq!(s.ultra_group_setting("club", None), dnd_engine::Expiring::NONE);
    assert_eq!(s.drop_expired(*at("1970-01-01T00:00:02Z")), 0);
}

#[test]
fn a_format_1_snapshot_still_restores() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/snapshot-format-1.json"
    ))
    .unwrap();
    let restored: Settings = serde_json::from_str(&text).unwrap();
    assert_eq!(restored.period("alice").unwrap().window.minutes(), 540);
    let resaved = serde_json::to_string_pretty(&restored).unwrap();
    assert_eq!(resaved, text.trim_end().replace(r#""format": 1"#, r#""format": 2"#));
    // Format 1 has no room for the new settings.
    let bad = text.replacen(
        r#""userId": "alice","#,
        r#""userId": "alice", "snooze": {"until": 5, "level": 5},"#,
        1,
    );
    let e = serde_json::from_str::<Settings>(&bad).unwrap_err().to_string();
    assert!(e.contains("users[0]") && e.contains("format 1"), "{e}");
}

#[test]
fn a_restore_refuses_duplicates_and_undocumented_shapes_naming_the_place() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/snapshot-format-1.json"
    ))
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases: Vec<(serde_json::Value, &str)> = {
        let mut array_period = v.clone();
        array_period["users"][0]["period"] = serde_json::json!(["22:00:00", 540, 5]);
        let mut dup_type = v.clone();
        let t = dup_type["users"][1]["conversationTypes"][0].clone();
        dup_type["users"][1]["conversationTypes"]
            .as_array_mut()
            .unwrap()
            .push(t);
        let mut dup_user_level = v.clone();
        let u = dup_user_level["conversations"][0]["users"][0].clone();
        dup_user_level["conversations"][0]["users"]
            .as_array_mut()
            .unwrap()
            .push(u);
        let mut dup_sub = v.clone();
        let c = dup_sub["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .position(|c| c["subchannels"].is_array())
            .unwrap();
        let sub = dup_sub["conversations"][c]["subchannels"][0].clone();
        dup_sub["conversations"][c]["subchannels"]
            .as_array_mut()
            .unwrap()
            .push(sub);
        let mut dup_app = v.clone();
        let a = dup_app["appDefaults"][0].clone();
        dup_app["appDefaults"].as_array_mut().unwrap().push(a);
        vec![
            (array_period, "users[0].period"),
            (dup_type, "users[1].conversationTypes[1]"),
            (dup_user_level, "conversations[0].users[1]"),
            (dup_sub, "subchannels[1].busChannel"),
            (dup_app, "appDefaults[1]"),
        ]
    };
    for (bad, place) in cases {
        let e = serde_json::from_value::<Settings>(bad).unwrap_err().to_string();
        assert!(e.contains(place), "{place:?} not in {e}");
    }
    let dup_key = text.replacen(
        r#""timeZone": "Asia/Shanghai","#,
        r#""timeZone": "Asia/Shanghai", "timeZone": "UTC","#,
        1,
    );
    assert!(serde_json::from_str::<Settings>(&dup_key)
        .unwrap_err()
        .to_string()
        .contains("duplicate"));
}

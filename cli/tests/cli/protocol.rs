//! The protocol: every line kind, its answer in replay and in explain, and
//! the exit status.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use super::{bin, dnd, dnd_bytes, lines, stdout, PERIOD};

#[test]
fn replay_answers_requests_as_the_api_does() {
    let input = [
        PERIOD,
        r#"{"request": "/user/blockPushPeriod/get.json", "body": "userId=alice"}"#,
        r#"{"request": "/conversation/type/notification/set.json", "body": "conversationType=3&requestId=bob&unpushLevel=3"}"#,
        r#"{"request": "/no/such/path.json", "body": ""}"#,
    ]
    .join("\n");
    let out = dnd(&["replay"], &input);
    assert_eq!(out.status.code(), Some(0), "a 1002 or a 404 is an answer, not an error");
    let got = lines(&out);
    assert_eq!(got[0], serde_json::json!({"code": 200}));
    assert_eq!(
        got[1],
        serde_json::json!({"code": 200, "data": {"startTime": "22:00:00", "period": 540, "unPushLevel": 5}})
    );
    assert_eq!(got[2]["code"], 1002);
    assert!(got[2]["errorMessage"].as_str().unwrap().contains("unpushLevel"));
    assert_eq!(got[3]["code"], 404);
}

#[test]
fn replay_decides_each_recipient_in_order() {
    let input = [
        PERIOD,
        r#"{"request": "/ultragroup/notdisturb/set.json", "body": "groupId=club&busChannel=news&unpushLevel=4"}"#,
        // 23:30 in Shanghai; in UTC, the data center's zone here, it is 15:30.
        r#"{"push": {"at": "2026-11-22T23:30:00+08:00", "conversationType": 10, "targetId": "club", "busChannel": "news", "fromUserId": "carol", "mentionedInfo": {"type": 1}, "recipients": ["alice", "carol", "dave"]}}"#,
        r#"{"push": {"at": 1795390200000, "conversationType": 3, "targetId": "g", "fromUserId": "carol", "disablePush": true, "recipients": ["alice"]}}"#,
    ]
    .join("\n");
    let out = dnd(&["replay", "--time-zone", "Asia/Shanghai"], &input);
    assert_eq!(out.status.code(), Some(0));
    let got = lines(&out);
    assert_eq!(
        got[2],
        serde_json::json!({"decisions": [
            // The period ends at 07:00 in Shanghai; then the subchannel default, 4, pushes the @all.
            {"userId": "alice", "push": false, "by": "user_period", "level": 5, "deferUntil": 1_795_388_400_000_i64},
            {"userId": "carol", "push": false, "by": "sender", "level": null},
            {"userId": "dave", "push": true, "by": "subchannel_default", "level": 4},
        ]})
    );
    assert_eq!(
        got[3],
        serde_json::json!({"decisions": [{"userId": "alice", "push": false, "by": "disable_push", "level": null}]})
    );
    // Without --time-zone the data center is UTC: 15:30 is outside alice's period.
    let got = lines(&dnd(&["replay"], &input));
    assert_eq!(got[2]["decisions"][0]["by"], "subchannel_default");
    // The keys come in the protocol's order.
    let text = String::from_utf8(dnd(&["replay"], &input).stdout).unwrap();
    assert!(
        text.contains(r#"{"userId":"alice","push":true,"by":"subchannel_default","level":4}"#),
        "{text}"
    );
}

#[test]
fn app_defaults_come_from_the_command_line() {
    let input =
        r#"{"push": {"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "s", "recipients": ["r"]}}"#;
    let got = lines(&dnd(&["replay", "--app-default", "3=5", "--app-default=1=1"], input));
    assert_eq!(
        got[0]["decisions"][0],
        serde_json::json!({"userId": "r", "push": false, "by": "app_default", "level": 5})
    );
    let got = lines(&dnd(&["replay"], input));
    assert_eq!(
        got[0]["decisions"][0],
        serde_json::json!({"userId": "r", "push": true, "by": "none", "level": -1})
    );
}

#[test]
fn every_bad_line_answers_an_error_and_the_replay_goes_on() {
    let bad = [
        ("not json", "not JSON"),
        ("[1, 2]", "JSON object"),
        ("{}", "empty object"),
        (r#"{"hello": 1}"#, "unknown key \"hello\""),
        (r#"{"request": "/user/blockPushPeriod/get.json"}"#, "body"),
        (r#"{"request": 7, "body": ""}"#, "request: must be a string"),
        (r#"{"request": "/x", "body": "", "extra": 1}"#, "extra"),
        (
            r#"{"push": {"at": "yesterday", "conversationType": 3, "targetId": "g", "fromUserId": "s", "recipients": []}}"#,
            "push.at",
        ),
        (
            r#"{"push": {"at": "2026-11-22T23:30:00", "conversationType": 3, "targetId": "g", "fromUserId": "s", "recipients": []}}"#,
            "push.at",
        ),
        (
            r#"{"push": {"at": 0, "conversationType": 2, "targetId": "g", "fromUserId": "s", "recipients": []}}"#,
            "conversationType",
        ),
        (
            r#"{"push": {"at": 0, "conversationType": 3, "targetId": "g", "busChannel": "c", "fromUserId": "s", "recipients": []}}"#,
            "busChannel",
        ),
        (
            r#"{"push": {"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "s", "mentionedInfo": {"type": 3}, "recipients": []}}"#,
            "mentionedInfo.type",
        ),
        (
            r#"{"push": {"at": 0, "conversationType": 6, "fromUserId": "s"}}"#,
            "recipients",
        ),
        (
            r#"{"push": {"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "s", "recipients": [], "color": "red"}}"#,
            "color",
        ),
        (r#"{"push": {}, "request": "/x"}"#, "beside"),
    ];
    for (line, needle) in bad {
        let input = format!("{PERIOD}\n{line}\n{PERIOD}\n");
        let out = dnd(&["replay"], &input);
        assert_eq!(out.status.code(), Some(1), "{line}");
        let got = lines(&out);
        assert_eq!(got.len(), 3, "one line out per line in: {line}");
        assert_eq!(got[0]["code"], 200);
        let error = got[1]["error"].as_str().unwrap_or_else(|| panic!("{line}: {}", got[1]));
        assert!(
            error.starts_with("line 2: ") && error.contains(needle),
            "{line}: {error}"
        );
        assert_eq!(got[2]["code"], 200, "the replay goes on after {line}");
    }
    // Bytes that are not UTF-8 are an error line too.
    let out = dnd_bytes(&["replay"], b"\xff\xfe\n{}\n");
    let got = lines(&out);
    assert_eq!(got.len(), 2);
    assert!(got[0]["error"].as_str().unwrap().contains("UTF-8"));
}

#[test]
fn replay_answers_each_line_before_reading_the_next() {
    let mut child = bin()
        .arg("replay")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    for i in 0..3 {
        writeln!(
            stdin,
            r#"{{"request": "/user/blockPushPeriod/get.json", "body": "userId=u{i}"}}"#
        )
        .unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert!(line.starts_with(r#"{"code":200"#), "{line}");
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn explain_walks_the_layers_in_words() {
    let input = [
        PERIOD,
        r#"{"request": "/conversation/type/notification/set.json", "body": "conversationType=10&requestId=bob&unpushLevel=2"}"#,
        r#"{"push": {"at": "2026-11-23T07:30:00+08:00", "conversationType": 10, "targetId": "club", "fromUserId": "s", "mentionedInfo": {"type": 2, "userIdList": ["bob"]}, "recipients": ["alice", "bob"]}}"#,
        "oops",
    ]
    .join("\n");
    let out = dnd(&["explain", "--time-zone", "Asia/Shanghai"], &input);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    for needle in [
        "message at 2026-11-23T07:30:00+08:00 from s in ultra group conversation club, mentioning bob",
        "alice: PUSH -- nothing set, level -1",
        "nothing is set at any layer: push",
        "the period 22:00:00 + 540 min, level 5, in Asia/Shanghai (the data center's zone) is off at 2026-11-23T07:30:00+08:00 Asia/Shanghai",
        "user subchannel level:         skipped: the message has no subchannel",
        "bob: PUSH -- user conversation-type level, level 2",
        "the message mentions the recipient -> push",
        "error: line 4: not JSON",
    ] {
        assert!(text.contains(needle), "{needle:?} not in\n{text}");
    }
}

#[test]
fn explain_summary_writes_one_line_per_decision() {
    let input = [
        PERIOD,
        r#"{"push": {"at": "2026-11-23T07:30:00+08:00", "conversationType": 3, "targetId": "g", "fromUserId": "s", "recipients": ["alice", "bob"]}}"#,
        r#"{"push": {"at": "2026-11-22T23:30:00+08:00", "conversationType": 3, "targetId": "g", "fromUserId": "s", "recipients": ["alice"]}}"#,
        "oops",
    ]
    .join("\n");
    let out = dnd(&["explain", "--summary", "--time-zone", "Asia/Shanghai"], &input);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "request /user/blockPushPeriod/set.json -> {\"code\":200}\n\
         2026-11-23T07:30:00+08:00[Asia/Shanghai] s -> alice: push by none, level -1\n\
         2026-11-23T07:30:00+08:00[Asia/Shanghai] s -> bob: push by none, level -1\n\
         2026-11-22T23:30:00+08:00[Asia/Shanghai] s -> alice: no push by user_period, level 5, deferred until 2026-11-23T07:00:00+08:00[Asia/Shanghai]\n\
         error: line 4: not JSON: expected value at line 1 column 1\n"
    );
    let both = dnd(&["explain", "--summary", "--json"], "");
    assert_eq!(both.status.code(), Some(2), "--summary and --json conflict");
}

#[test]
fn the_example_night_replays_cleanly() {
    let input = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/night.jsonl")).unwrap();
    let out = dnd(&["replay", "--time-zone", "Asia/Shanghai"], &input);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(lines(&out).len(), input.lines().count());
    let out = dnd(&["explain", "--time-zone", "Asia/Shanghai"], &input);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn replay_reports_defer_until_and_explain_json_gives_one_object_per_recipient() {
    let input = [
        PERIOD,
        r#"{"push": {"at": "2026-11-22T23:30:00+08:00", "conversationType": 3, "targetId": "g", "fromUserId": "s", "recipients": ["alice", "bob"]}}"#,
    ]
    .join("\n");
    let out = dnd(&["replay", "--time-zone", "Asia/Shanghai"], &input);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(r#"{"userId":"alice","push":false,"by":"user_period","level":5,"deferUntil":1795388400000}"#),
        "{text}"
    );
    assert!(
        text.contains(r#"{"userId":"bob","push":true,"by":"none","level":-1}"#),
        "{text}"
    );
    let out = dnd(&["explain", "--json", "--time-zone", "Asia/Shanghai"], &input);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let objects: Vec<serde_json::Value> = text.lines().skip(1).map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(objects.len(), 2, "{text}");
    assert_eq!(objects[0]["userId"], "alice");
    assert_eq!(objects[0]["deferUntil"], 1_795_388_400_000_i64);
    let period = objects[0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["layer"] == "user_period")
        .unwrap();
    assert_eq!(period["seen"]["quiet"], "period");
    assert_eq!(
        objects[0]["deferral"]["until"]["local"], "2026-11-23T07:00:00+08:00[Asia/Shanghai]",
        "RFC 9557: RFC 3339 with the zone as a suffix"
    );
}

#[test]
fn the_example_week_replays_with_every_extension() {
    let input = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/week.jsonl")).unwrap();
    let out = dnd(&["replay", "--time-zone", "Asia/Shanghai"], &input);
    let got = lines(&out);
    assert_eq!(got.len(), input.lines().count());
    // The one deliberate mistake: a '+' sent unencoded arrives as a space.
    assert_eq!(got[10]["code"], 1002);
    assert!(
        got[10]["errorMessage"].as_str().unwrap().contains("arrived as a space"),
        "{}",
        got[10]
    );
    assert_eq!(out.status.code(), Some(0));
    let deferred: Vec<&serde_json::Value> = got
        .iter()
        .filter_map(|l| l["decisions"].as_array())
        .flatten()
        .filter(|d| d.get("deferUntil").is_some())
        .collect();
    assert!(!deferred.is_empty(), "the week defers some pushes");
    // Saturday night: mum is alice's VIP (scope quiet), and an urgent page reaches bob, who allows it.
    let n = 24;
    assert_eq!(
        got[n - 2]["decisions"][0],
        serde_json::json!({"userId": "alice", "push": true, "by": "none", "level": -1})
    );
    assert_eq!(
        got[n - 1]["decisions"][1],
        serde_json::json!({"userId": "bob", "push": true, "by": "urgent", "level": null})
    );
    assert_eq!(got[n - 1]["decisions"][0]["by"], "user_period");
    // Sunday night: erin's pushes are held, mum's third message within her
    // repeat window breaks through, and the morning release (after erin's
    // quiet time was shortened) delivers one digest at the new end, 06:30.
    assert_eq!(got[n + 3]["decisions"][1]["held"], true);
    assert_eq!(
        got[n + 5]["decisions"][0].get("held"),
        None,
        "no deferred push, not held"
    );
    assert_eq!(got[n + 7]["decisions"][0]["by"], "repeat");
    assert_eq!(got[n + 8], serde_json::json!({"digests": []}));
    assert_eq!(
        got[n + 10],
        serde_json::json!({"digests": [{"userId": "erin", "at": 1_795_991_400_000_i64, "conversations": [
            {"conversationType": 3, "targetId": "family", "count": 2, "mentions": 0,
             "first": 1_795_965_000_000_i64, "last": 1_795_972_500_000_i64, "lastFromUserId": "mum", "lastMessageId": "f2"},
            {"conversationType": 10, "targetId": "moonclub", "count": 1, "mentions": 1,
             "first": 1_795_966_800_000_i64, "last": 1_795_966_800_000_i64, "lastFromUserId": "grace", "lastMessageId": "mc1"}
        ]}]})
    );
    let help = String::from_utf8(dnd(&["--help"], "").stdout).unwrap();
    for needle in [
        "/user/snooze/set.json",
        "/user/blockPushSchedule/set.json",
        "until=TIME",
        "deferUntil",
        "user_snooze",
        "/user/repeat/set.json",
        "{\"release\": {\"at\": AT}}",
        "\"lastMessageId\"",
        "\"held\": true",
    ] {
        assert!(help.contains(needle), "{needle:?} not in --help");
    }
    let help = String::from_utf8(dnd(&["explain", "--help"], "").stdout).unwrap();
    assert!(help.contains("--json"), "{help}");
    let out = dnd(&["explain", "--time-zone", "Asia/Shanghai"], &input);
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "the schedule window",
        "the snooze until",
        "a temporary level 5 until",
        "deferUntil",
        "held: the message asks to hold",
        "re-timed: erin's held push",
        "digest for erin at 2026-11-30T06:30:00+08:00",
        "passed over for the repeated sender",
    ] {
        assert!(text.contains(needle), "{needle:?} not in\n{text}");
    }
}

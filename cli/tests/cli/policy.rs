//! The break-through policy (§10) on the replay protocol: VIP and urgent requests, the push
//! object's urgent, memberCount and mentionAllAllowed, the flags
//! --private-as-mention and --mention-all-max-members, explain, and the
//! prior engine's answers when none of it is used.

use super::{dnd, lines, stdout};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/prior/");

/// A replay of 1,500 random lines (the platform's requests and every
/// extension of the time and policy rules, messages of every type) answered, line for
/// line, as the engine answered before the policy extensions (commit 6aab0e5): with no
/// policy configured, and also with a maximum for @all that no message's
/// (absent) member count passes.
#[test]
fn decisions_without_policy_settings_equal_the_prior_engines() {
    let input = std::fs::read_to_string(format!("{FIXTURE}input.jsonl")).unwrap();
    let expected = std::fs::read_to_string(format!("{FIXTURE}expected.jsonl")).unwrap();
    for extra in [&[][..], &["--mention-all-max-members", "0"][..]] {
        let args = [
            &["replay", "--time-zone", "Asia/Shanghai", "--app-default", "3=1"][..],
            extra,
        ]
        .concat();
        let got = stdout(&dnd(&args, &input));
        assert_eq!(got.lines().count(), expected.lines().count());
        for (i, (got, want)) in got.lines().zip(expected.lines()).enumerate() {
            assert_eq!(got, want, "line {} with {extra:?}", i + 1);
        }
    }
}

fn request(path: &str, body: &str) -> String {
    serde_json::json!({ "request": path, "body": body }).to_string()
}

#[test]
fn vip_and_urgent_requests_and_layers_on_the_replay_protocol() {
    let input = [
        request("/user/blockPushPeriod/set.json", "userId=r&startTime=00:00:00&period=1439&level=5"),
        request("/user/vip/set.json", "userId=r&vipUserIds=%5B%22boss%22%5D&scope=all"),
        request("/user/vip/get.json", "userId=r"),
        request("/user/vip/set.json", "userId=r&vipUserIds=%5B%22boss%22,%22boss%22%5D"),
        request("/user/urgent/set.json", "userId=r&allow=1"),
        request("/user/urgent/get.json", "userId=r"),
        request("/user/urgent/set.json", "userId=r&allow=2"),
        r#"{"push": {"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "boss", "recipients": ["r"]}}"#
            .into(),
        r#"{"push": {"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "x", "urgent": true, "recipients": ["r", "x"]}}"#
            .into(),
        r#"{"push": {"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "x", "recipients": ["r"]}}"#.into(),
    ]
    .join("\n");
    let out = dnd(&["replay"], &input);
    assert_eq!(out.status.code(), Some(0));
    let got = lines(&out);
    assert_eq!(got[1], serde_json::json!({"code": 200}));
    assert_eq!(
        got[2],
        serde_json::json!({"code": 200, "data": {"vipUserIds": ["boss"], "scope": "all"}})
    );
    assert_eq!(got[3]["code"], 1002);
    assert_eq!(
        got[3]["errorMessage"],
        r#"parameter vipUserIds: vipUserIds[1]: "boss" is listed twice"#
    );
    assert_eq!(got[5], serde_json::json!({"code": 200, "data": {"allow": 1}}));
    assert_eq!(got[6]["code"], 1002);
    assert!(got[6]["errorMessage"].as_str().unwrap().starts_with("parameter allow"));
    assert_eq!(
        got[7],
        serde_json::json!({"decisions": [{"userId": "r", "push": true, "by": "vip", "level": null}]})
    );
    assert_eq!(
        got[8],
        serde_json::json!({"decisions": [
            {"userId": "r", "push": true, "by": "urgent", "level": null},
            {"userId": "x", "push": false, "by": "sender", "level": null},
        ]})
    );
    assert_eq!(
        got[9]["decisions"][0],
        serde_json::json!({"userId": "r", "push": false, "by": "user_period", "level": 5})
    );
}

#[test]
fn the_flags_turn_private_chats_into_mentions_and_govern_at_all() {
    let input = [
        request("/conversation/type/notification/set.json", "conversationType=1&requestId=r&unpushLevel=2"),
        request("/conversation/type/notification/set.json", "conversationType=3&requestId=r&unpushLevel=4"),
        r#"{"push": {"at": 0, "conversationType": 1, "fromUserId": "s", "recipients": ["r"]}}"#.into(),
        r#"{"push": {"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "s", "mentionedInfo": {"type": 1}, "memberCount": 200, "recipients": ["r"]}}"#.into(),
        r#"{"push": {"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "s", "mentionedInfo": {"type": 1}, "memberCount": 201, "recipients": ["r"]}}"#.into(),
        r#"{"push": {"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "s", "mentionedInfo": {"type": 1}, "mentionAllAllowed": false, "recipients": ["r"]}}"#.into(),
    ]
    .join("\n");
    let pushes = |args: &[&str]| -> Vec<bool> {
        lines(&dnd(args, &input))[2..]
            .iter()
            .map(|l| l["decisions"][0]["push"].as_bool().unwrap())
            .collect()
    };
    assert_eq!(pushes(&["replay"]), [false, true, true, false]);
    assert_eq!(pushes(&["replay", "--private-as-mention"]), [true, true, true, false]);
    assert_eq!(
        pushes(&["replay", "--mention-all-max-members", "200"]),
        [false, true, false, false],
        "exactly the maximum keeps @all; one above turns it off"
    );
    let bad = dnd(&["replay", "--mention-all-max-members", "-1"], "");
    assert_eq!(bad.status.code(), Some(2));
    let bad = dnd(&["replay", "--mention-all-max-members", "lots"], "");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a number of members"));

    // explain says which rule turned the @all off, in words and in JSON.
    let words = stdout(&dnd(&["explain", "--mention-all-max-members", "200"], &input));
    assert!(
        words.contains("@all counts as no mention: the conversation has 201 members, more than the maximum of 200"),
        "{words}"
    );
    assert!(
        words.contains("@all counts as no mention: the sender may not mention everyone (mentionAllAllowed false)"),
        "{words}"
    );
    let json = lines(&dnd(&["explain", "--json", "--mention-all-max-members", "200"], &input));
    assert_eq!(json[3]["mentionAll"]["counts"], true);
    assert_eq!(json[4]["mentionAll"]["counts"], false);
    assert_eq!(json[4]["mentionAll"]["offBy"], serde_json::json!(["memberCount"]));
    assert_eq!(json[5]["mentionAll"]["offBy"], serde_json::json!(["mentionAllAllowed"]));
    let private = lines(&dnd(&["explain", "--json", "--private-as-mention"], &input));
    assert_eq!(private[2]["privateAsMention"], true);
}

#[test]
fn explain_shows_the_vip_reading_through_the_quiet_time() {
    let input = [
        request(
            "/user/blockPushPeriod/set.json",
            "userId=r&startTime=00:00:00&period=1439&level=5",
        ),
        request("/user/vip/set.json", "userId=r&vipUserIds=%5B%22boss%22%5D"),
        r#"{"push": {"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "boss", "recipients": ["r"]}}"#
            .into(),
    ]
    .join("\n");
    let words = stdout(&dnd(&["explain"], &input));
    assert!(words.contains("r: PUSH -- nothing set, level -1"), "{words}");
    assert!(
        words.contains("reads through: the sender is on the recipient's VIP list with scope quiet"),
        "{words}"
    );
    assert!(
        words.contains("passed over for the VIP: the period 00:00:00 + 1439 min"),
        "{words}"
    );
    let json = lines(&dnd(&["explain", "--json"], &input));
    let steps = json[2]["steps"].as_array().unwrap();
    let period = steps.iter().find(|s| s["layer"] == "user_period").unwrap();
    assert_eq!(period["readThrough"], true);
    let vip = steps.iter().find(|s| s["layer"] == "vip").unwrap();
    assert_eq!(vip["seen"]["vip"], "quiet");
    assert_eq!(vip["seen"]["withoutQuietTime"]["by"], "none");
}

#[test]
fn help_documents_the_policy_extensions() {
    let help = stdout(&dnd(&["replay", "--help"], ""));
    for needle in [
        "--private-as-mention",
        "--mention-all-max-members",
        "/user/vip/set.json",
        "/user/vip/get.json",
        "/user/urgent/set.json",
        "/user/urgent/get.json",
        "\"urgent\": BOOL",
        "\"memberCount\": N",
        "\"mentionAllAllowed\": BOOL",
        "disable_push, muted_sender, urgent, vip, user_snooze",
        "calling service's decision",
    ] {
        assert!(help.contains(needle), "{needle} missing from --help");
    }
}

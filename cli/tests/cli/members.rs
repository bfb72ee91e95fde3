//! Member lists on the replay protocol and in `--help` (`docs/rules.md` §13).

use super::{dnd, lines, stdout};

fn request(path: &str, body: &str) -> String {
    serde_json::json!({ "request": path, "body": body }).to_string()
}

#[test]
fn a_push_to_the_members_in_every_form() {
    let push = |extra: &str| {
        format!(r#"{{"push": {{"at": 0, "conversationType": 10, "targetId": "club", "fromUserId": "s"{extra}}}}}"#)
    };
    let input = [
        request("/ultragroup/join.json", "groupId=club&userId=a"),
        request("/ultragroup/join.json", "groupId=club&userId=b"),
        request("/ultragroup/join.json", "groupId=club&userId=s"),
        request("/ultragroup/member/exist.json", "groupId=club&userId=b"),
        request(
            "/conversation/notification/set.json",
            "conversationType=10&requestId=b&targetId=club&unpushLevel=5",
        ),
        push(""),
        push(r#", "answer": "push""#),
        push(r#", "answer": "bits""#),
        push(r#", "answer": "bits", "recipients": ["b", "a"]"#),
        request("/group/join.json", "userId=b&userId=a&groupId=g&groupName=G"),
        request("/group/user/query.json", "groupId=g"),
        r#"{"push": {"at": 0, "conversationType": 1, "fromUserId": "s"}}"#.into(),
        push(r#", "answer": "all""#),
        request("/ultragroup/quit.json", "groupId=club&userId=a&userId=b"),
    ]
    .join("\n");
    let out = lines(&dnd(&["replay"], &input));
    assert_eq!(out[3], serde_json::json!({"code": 200, "status": true}));
    let decided: Vec<(&str, bool)> = out[5]["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["userId"].as_str().unwrap(), d["push"].as_bool().unwrap()))
        .collect();
    assert_eq!(decided, [("a", true), ("b", false), ("s", false)]);
    assert_eq!(out[6], serde_json::json!({"push": ["a"], "recipients": 3}));
    assert_eq!(out[7], serde_json::json!({"recipients": 3, "bits": "AQ=="}));
    assert_eq!(out[8], serde_json::json!({"recipients": 2, "bits": "Ag=="}));
    // Member order: the order the settings first saw the users (a, b, s).
    assert_eq!(
        out[10],
        serde_json::json!({"code": 200, "users": [{"id": "a"}, {"id": "b"}]})
    );
    assert!(out[11]["error"]
        .as_str()
        .unwrap()
        .contains("push.recipients: required for a private or system message"));
    assert!(out[12]["error"].as_str().unwrap().contains("push.answer"));
    assert_eq!(out[13]["code"], 1002);
}

#[test]
fn help_documents_the_membership_paths() {
    let help = stdout(&dnd(&["replay", "--help"], ""));
    for needle in [
        "/ultragroup/join.json",
        "/ultragroup/quit.json",
        "/ultragroup/member/exist.json",
        "/group/join.json",
        "/group/quit.json",
        "/group/user/query.json",
        "\"answer\": FORM",
        "recipients absent",
        "with hold, the members are held as if listed by id",
    ] {
        assert!(help.contains(needle), "{needle} missing from --help");
    }
}

#[test]
fn a_held_push_to_the_members_holds_and_releases_as_the_push_to_their_ids() {
    let replay = |recipients: &str| {
        let push = |at: i64, id: &str| {
            format!(
                r#"{{"push": {{"at": {at}, "conversationType": 3, "targetId": "g", "fromUserId": "s", "hold": true, "messageId": "{id}"{recipients}}}}}"#
            )
        };
        let input = [
            request(
                "/group/join.json",
                "userId=c&userId=s&userId=a&userId=b&groupId=g&groupName=G",
            ),
            request("/group/user/query.json", "groupId=g"),
            request("/user/snooze/set.json", "userId=a&until=60000"),
            request("/user/snooze/set.json", "userId=b&until=120000"),
            request(
                "/conversation/notification/set.json",
                "conversationType=3&requestId=c&targetId=g&unpushLevel=5",
            ),
            push(1000, "m1"),
            push(2000, "m2"),
            r#"{"release": {"at": 90000}}"#.into(),
            r#"{"release": {"at": 200000}}"#.into(),
        ]
        .join("\n");
        stdout(&dnd(&["replay"], &input))
    };
    let by_members = replay("");
    let read: Vec<serde_json::Value> = by_members.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let members: Vec<&str> = read[1]["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(members.len(), 4, "{}", read[1]);
    let by_ids = replay(&format!(r#", "recipients": {}"#, serde_json::json!(members)));
    assert_eq!(
        by_members, by_ids,
        "the held lines and the digests are those of the push to the ids"
    );
    let held: Vec<&str> = read[5]["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["held"] == true)
        .map(|d| d["userId"].as_str().unwrap())
        .collect();
    assert_eq!(held.len(), 2, "{}", read[5]);
    assert!(held.contains(&"a") && held.contains(&"b"));
    assert_eq!(read[7]["digests"][0]["userId"], "a", "{}", read[7]);
    assert_eq!(read[7]["digests"][0]["conversations"][0]["count"], 2);
    assert_eq!(read[8]["digests"][0]["userId"], "b", "{}", read[8]);
}

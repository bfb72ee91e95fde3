//! Keywords, user groups and muted senders on the replay protocol and in
//! `--help` (`docs/rules.md` §11).

use super::{dnd, lines, stdout};

fn request(path: &str, body: &str) -> String {
    serde_json::json!({ "request": path, "body": body }).to_string()
}

#[test]
fn keywords_user_groups_and_mutes_on_the_replay_protocol() {
    let input = [
        request("/conversation/type/notification/set.json", "conversationType=3&requestId=q&unpushLevel=2"),
        request("/conversation/type/notification/set.json", "conversationType=3&requestId=r&unpushLevel=2"),
        request("/user/keywords/set.json", "userId=r&keywords=%5B%22Deploy%22%5D"),
        request("/user/keywords/get.json", "userId=r"),
        r#"{"push": {"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "s", "text": "deploy now", "recipients": ["r", "q"]}}"#.into(),
        request("/usergroup/set.json", "groupId=oncall&memberIds=%5B%22q%22%5D"),
        request("/usergroup/get.json", "groupId=oncall"),
        r#"{"push": {"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "s", "mentionedInfo": {"type": 1, "userGroupIds": ["oncall"]}, "recipients": ["q"]}}"#.into(),
        request("/user/mutedSenders/set.json", "userId=r&senderIds=%5B%22s%22%5D&until=1000"),
        request("/user/mutedSenders/get.json", "userId=r"),
        r#"{"push": {"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "s", "text": "deploy", "recipients": ["r"]}}"#.into(),
        request("/user/keywords/set.json", "userId=r&keywords=%5B%22%20%20%22%5D"),
    ]
    .join("\n");
    let out = lines(&dnd(&["replay"], &input));
    assert_eq!(
        out[3],
        serde_json::json!({"code": 200, "data": {"keywords": ["Deploy"]}})
    );
    assert_eq!(out[4]["decisions"][0]["push"], true);
    assert_eq!(out[4]["decisions"][1]["push"], false);
    assert_eq!(
        out[6],
        serde_json::json!({"code": 200, "groupId": "oncall", "memberIds": ["q"]})
    );
    assert_eq!(out[7]["decisions"][0]["push"], true);
    assert_eq!(
        out[9],
        serde_json::json!({"code": 200, "data": {"senderIds": ["s"], "until": 1000}})
    );
    let muted = &out[10]["decisions"][0];
    assert_eq!(
        (&muted["push"], &muted["by"], &muted["level"]),
        (&false.into(), &"muted_sender".into(), &serde_json::Value::Null)
    );
    assert_eq!(muted["deferUntil"], 1000);
    assert_eq!(out[11]["code"], 1002);
    assert!(out[11]["errorMessage"].as_str().unwrap().contains("keywords[0]"));
    let explained = stdout(&dnd(&["explain"], &input));
    assert!(
        explained.contains(r#"the message's text holds the recipient's keyword "Deploy""#),
        "{explained}"
    );
    assert!(
        explained.contains(r#"the message mentions the user group "oncall""#),
        "{explained}"
    );
    assert!(
        explained.contains("decides: the recipient mutes the sender until"),
        "{explained}"
    );
}

#[test]
fn help_documents_keywords_user_groups_and_mutes() {
    let help = stdout(&dnd(&["replay", "--help"], ""));
    for needle in [
        "/user/keywords/set.json",
        "/user/keywords/get.json",
        "/usergroup/set.json",
        "/usergroup/get.json",
        "/usergroup/delete.json",
        "/user/mutedSenders/set.json",
        "/user/mutedSenders/get.json",
        "\"text\": TEXT",
        "\"userGroupIds\": [IDS]",
        "muted_sender",
    ] {
        assert!(help.contains(needle), "{needle} missing from --help");
    }
}

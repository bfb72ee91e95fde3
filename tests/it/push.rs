//! The push object: read from JSON with errors that name the field, checked
//! by the rules of the settings requests.

use dnd_engine::push::Push;
use dnd_engine::Error;
use proptest::prelude::*;

/// A push with `fields` (JSON text of its members).
fn read(fields: &str) -> Result<Push, Error> {
    Push::from_json(&format!("{{{fields}}}"))
}

const BASE: &str = r#""at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "s""#;

/// The field path and the reason of a push error.
fn field_error(e: Error) -> (String, Error) {
    match e {
        Error::Field { path, source } => (path, *source),
        other => panic!("not a field error: {other:?}"),
    }
}

#[test]
fn push_errors_are_typed_and_name_the_field() {
    for (fields, path, reason) in [
        (
            format!(r#"{BASE}, "recipients": 1"#),
            "push.recipients",
            Error::JsonType("an array of user ids (strings)"),
        ),
        (
            format!(r#"{BASE}, "recipients": [], "at": 1"#),
            "push.at",
            Error::DuplicateKey,
        ),
        (
            format!(r#"{BASE}, "recipients": [], "mentionedInfo": {{"type": 1, "type": 1}}"#),
            "push.mentionedInfo.type",
            Error::DuplicateKey,
        ),
        (
            format!(r#"{BASE}, "recipients": [], "x": 1"#),
            "push.x",
            Error::UnknownField(
                "at, conversationType, targetId, busChannel, fromUserId, mentionedInfo, disablePush, recipients, \
                 urgent, memberCount, mentionAllAllowed, text, hold, messageId, answer",
            ),
        ),
        (
            format!(r#"{BASE}, "recipients": [], "urgent": "yes""#),
            "push.urgent",
            Error::JsonType("true or false"),
        ),
        (
            format!(r#"{BASE}, "recipients": [], "urgent": true, "urgent": true"#),
            "push.urgent",
            Error::DuplicateKey,
        ),
        (
            format!(r#"{BASE}, "recipients": [], "memberCount": 2.5"#),
            "push.memberCount",
            Error::JsonType("a whole number of members (0 to 4294967295)"),
        ),
        (
            format!(r#"{BASE}, "recipients": [], "memberCount": null"#),
            "push.memberCount",
            Error::JsonType("a whole number of members (0 to 4294967295)"),
        ),
        (
            format!(r#"{BASE}, "recipients": [], "mentionAllAllowed": 0"#),
            "push.mentionAllAllowed",
            Error::JsonType("true or false"),
        ),
        (
            format!(r#"{BASE}, "recipients": [], "mentionAllAllowed": false, "mentionAllAllowed": true"#),
            "push.mentionAllAllowed",
            Error::DuplicateKey,
        ),
        (
            format!(r#"{BASE}, "recipients": ["a", 1]"#),
            "push.recipients[1]",
            Error::JsonType("a user id (a string)"),
        ),
    ] {
        let (got_path, got_reason) = field_error(read(&fields).unwrap_err());
        assert_eq!((got_path.as_str(), &got_reason), (path, &reason), "{fields}");
    }
    let (path, reason) = field_error(Push::from_json("[1]").unwrap_err());
    assert_eq!(
        (path.as_str(), reason),
        ("push", Error::JsonType("an object (a message and its recipients)"))
    );
    let (path, reason) = field_error(Push::from_json("{").unwrap_err());
    assert!(path == "push" && matches!(reason, Error::Json(_)), "{path} {reason:?}");

    // The values: the rules and the errors of the requests.
    for (fields, path, reason) in [
        (format!(r#"{BASE}, "recipients": ["r", ""]"#), "push.recipients[1]", dnd_engine::UserId::new("").unwrap_err()),
        (
            format!(r#"{BASE}, "recipients": [], "busChannel": "news""#),
            "push.busChannel",
            Error::BusChannelType(3),
        ),
        (
            r#""at": 0, "conversationType": 10, "targetId": "g", "fromUserId": "s", "recipients": [], "busChannel": "a b""#.to_owned(),
            "push.busChannel",
            dnd_engine::BusChannel::new("a b").unwrap_err(),
        ),
        (
            r#""at": 0, "conversationType": 3, "fromUserId": "s", "recipients": []"#.to_owned(),
            "push.targetId",
            dnd_engine::TargetId::new("").unwrap_err(),
        ),
        (
            r#""at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "", "recipients": []"#.to_owned(),
            "push.fromUserId",
            dnd_engine::UserId::new("").unwrap_err(),
        ),
        (format!(r#"{BASE}, "recipients": [], "mentionedInfo": {{"type": 0}}"#), "push.mentionedInfo.type", Error::MentionType(0)),
        (
            format!(r#"{BASE}, "recipients": [], "memberCount": -1"#),
            "push.memberCount",
            Error::Invalid("-1 is not a member count (a whole number from 0 to 4294967295)".into()),
        ),
        (
            format!(r#"{BASE}, "recipients": [""], "memberCount": 4294967296"#),
            "push.memberCount",
            Error::Invalid("4294967296 is not a member count (a whole number from 0 to 4294967295)".into()),
        ),
    ] {
        let push = read(&fields).unwrap();
        let (got_path, got_reason) = field_error(push.message(&push.mentioned_ids()).unwrap_err());
        assert_eq!((got_path.as_str(), &got_reason), (path, &reason), "{fields}");
    }
}

#[test]
fn urgent_member_count_and_mention_all_allowed_reach_the_message() {
    let push = read(&format!(
        r#"{BASE}, "recipients": ["r"], "urgent": true, "memberCount": 4294967295, "mentionAllAllowed": false"#
    ))
    .unwrap();
    let message = push.message(&[]).unwrap();
    assert!(message.urgent);
    assert_eq!(message.member_count, Some(u32::MAX));
    assert!(!message.mention_all_allowed);
    // Absent: not urgent, no member count, @all allowed; as the library's defaults.
    let push = read(&format!(r#"{BASE}, "recipients": ["r"]"#)).unwrap();
    let message = push.message(&[]).unwrap();
    let library = dnd_engine::Message::new(message.conversation, "s", message.at);
    assert_eq!(message, library);
    assert!(!message.urgent && message.member_count.is_none() && message.mention_all_allowed);
    let zero = read(&format!(r#"{BASE}, "recipients": ["r"], "memberCount": 0"#)).unwrap();
    assert_eq!(zero.message(&[]).unwrap().member_count, Some(0));
}

#[test]
fn a_push_deserializes_with_serde_too() {
    let text = format!(
        r#"{{{BASE}, "recipients": ["r"], "mentionedInfo": {{"type": 2, "userIdList": ["r"]}}, "disablePush": true}}"#
    );
    let push: Push = serde_json::from_str(&text).unwrap();
    assert_eq!(push, Push::from_json(&text).unwrap());
    assert_eq!(push.recipients, ["r"]);
    assert!(push.disable_push);
    let e = serde_json::from_str::<Push>(&format!(r#"{{{BASE}, "recipients": [], "at": 1}}"#)).unwrap_err();
    assert!(e.to_string().starts_with("push.at: is given twice"), "{e}");
}

proptest! {
    /// Any id of 1 to 64 bytes of UTF-8 is a recipient, a sender and a mention,
    /// as it is a user id in a request; a longer one is refused, naming where.
    #[test]
    fn any_valid_user_id_is_accepted(id in proptest::collection::vec(any::<char>(), 1..=16).prop_map(String::from_iter),
                                     long in proptest::collection::vec(any::<char>(), 65..=80).prop_map(String::from_iter)) {
        let json = serde_json::to_string(&id).unwrap();
        let text = format!(r#"{{"at": 0, "conversationType": 3, "targetId": {json}, "fromUserId": {json},
            "mentionedInfo": {{"type": 2, "userIdList": [{json}]}}, "recipients": ["r", {json}]}}"#);
        let push = Push::from_json(&text).unwrap();
        prop_assert_eq!(&push.recipients[1], &id);
        let ids = push.mentioned_ids();
        let message = push.message(&ids).unwrap();
        prop_assert_eq!(message.sender, id.as_str());

        let long = serde_json::to_string(&long).unwrap();
        let text = format!(r#"{{"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "s", "recipients": ["r", {long}]}}"#);
        let push = Push::from_json(&text).unwrap();
        let e = push.message(&[]).unwrap_err();
        prop_assert!(e.to_string().starts_with("push.recipients[1]: user id"), "{}", e);
    }
}

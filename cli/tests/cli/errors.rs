//! Errors and what is skipped: push ids checked as requests check them, JSON
//! errors that name the field, duplicate keys, short excerpts, escaped ids,
//! blank lines and the byte-order mark.

use super::{dnd, lines, push, stdout, PERIOD};

/// The error line that `line` answers in replay, after a line that succeeds.
fn error_of(line: &str) -> String {
    let out = dnd(&["replay"], &format!("{PERIOD}\n{line}\n"));
    assert_eq!(out.status.code(), Some(1), "{line}");
    let got = lines(&out);
    assert_eq!(got.len(), 2, "{line}");
    let error = got[1]["error"].as_str().unwrap_or_else(|| panic!("{line}: {}", got[1]));
    error
        .strip_prefix("line 2: ")
        .unwrap_or_else(|| panic!("{error}"))
        .to_owned()
}

/// The 1002 message that a request answers, without "parameter NAME: ".
fn request_reason(path: &str, body: &str) -> String {
    let out = dnd(&["replay"], &format!(r#"{{"request": "{path}", "body": "{body}"}}"#));
    let got = lines(&out);
    assert_eq!(got[0]["code"], 1002, "{body}");
    let message = got[0]["errorMessage"].as_str().unwrap();
    message.split_once(": ").unwrap().1.to_owned()
}

#[test]
fn push_ids_are_checked_as_requests_check_them() {
    let long = "x".repeat(65);
    let user_reason = request_reason("/user/blockPushPeriod/get.json", &format!("userId={long}"));
    let target_reason = request_reason(
        "/conversation/notification/set.json",
        &format!("conversationType=3&requestId=u&targetId={long}&unpushLevel=1"),
    );
    let channel_reason = request_reason(
        "/ultragroup/notdisturb/set.json",
        "groupId=g&busChannel=no-dash&unpushLevel=1",
    );
    let ultra = |fields: &str| {
        format!(r#"{{"push": {{"at": 0, "conversationType": 10, "fromUserId": "s", "recipients": ["r"]{fields}}}}}"#)
    };
    for (line, path, reason) in [
        (
            push(&format!(r#"["r", "{long}"]"#), ""),
            "push.recipients[1]",
            user_reason.as_str(),
        ),
        (
            push(r#"["r", ""]"#, ""),
            "push.recipients[1]",
            "user id \"\" must be 1 to 64 bytes of UTF-8",
        ),
        (
            push(
                r#"["r"]"#,
                &format!(r#", "mentionedInfo": {{"type": 2, "userIdList": ["a", "{long}"]}}"#),
            ),
            "push.mentionedInfo.userIdList[1]",
            &user_reason,
        ),
        (
            push(r#"["r"]"#, "").replace(r#""fromUserId": "s""#, r#""fromUserId": """#),
            "push.fromUserId",
            "user id \"\" must be 1 to 64 bytes of UTF-8",
        ),
        (
            push(r#"["r"]"#, "").replace(r#""fromUserId": "s""#, &format!(r#""fromUserId": "{long}""#)),
            "push.fromUserId",
            &user_reason,
        ),
        (
            push(r#"["r"]"#, "").replace(r#""targetId": "g""#, &format!(r#""targetId": "{long}""#)),
            "push.targetId",
            &target_reason,
        ),
        (
            ultra(""),
            "push.targetId",
            "target id \"\" must be 1 to 64 bytes of UTF-8",
        ),
        (
            ultra(r#", "targetId": "g", "busChannel": "no-dash""#),
            "push.busChannel",
            &channel_reason,
        ),
        (
            ultra(r#", "targetId": "g", "busChannel": """#),
            "push.busChannel",
            "\"\" is not a subchannel id (1 to 20 ASCII letters and digits)",
        ),
        (
            push(r#"["r"]"#, r#", "busChannel": "news""#),
            "push.busChannel",
            "a subchannel is given only with conversation type 10, not 3",
        ),
    ] {
        assert_eq!(error_of(&line), format!("{path}: {reason}"), "{line}");
    }
    // Private and system messages do not use targetId: it may be left out.
    for t in [1, 6] {
        let line =
            format!(r#"{{"push": {{"at": 0, "conversationType": {t}, "fromUserId": "s", "recipients": ["r"]}}}}"#);
        let out = dnd(&["replay"], &line);
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
        assert_eq!(lines(&out)[0]["decisions"][0]["by"], "none");
    }
}

#[test]
fn json_errors_name_the_field_and_what_it_must_be() {
    const AT: &str = "must be milliseconds since the Unix epoch (an integer) or RFC 3339 text with an offset";
    // A group message from s to r, with `field` set to `value` (replaced or added).
    let with = |field: &str, value: &str| {
        let mut fields = vec![
            ("at", "0"),
            ("conversationType", "3"),
            ("targetId", "\"g\""),
            ("fromUserId", "\"s\""),
            ("recipients", "[\"r\"]"),
        ];
        match fields.iter_mut().find(|(f, _)| *f == field) {
            Some(f) => f.1 = value,
            None => fields.push((field, value)),
        }
        let fields: Vec<String> = fields.iter().map(|(f, v)| format!("\"{f}\": {v}")).collect();
        format!("{{\"push\": {{{}}}}}", fields.join(", "))
    };
    let mention = |value: &str| with("mentionedInfo", value);
    let cases = [
        (with("at", "true"), format!("push.at: {AT}")),
        (with("at", "1.5"), format!("push.at: {AT}")),
        (with("at", "9223372036854775808"), "push.at: \"9223372036854775808\" is not a message time (milliseconds since the Unix epoch, or RFC 3339 with an offset)".into()),
        (with("conversationType", "\"3\""), "push.conversationType: must be an integer (1, 3, 6 or 10)".into()),
        (with("conversationType", "2"), "push.conversationType: 2 is not a conversation type (1 private, 3 group, 6 system, 10 ultra group)".into()),
        (with("targetId", "7"), "push.targetId: must be a target id (a string)".into()),
        (with("busChannel", "1"), "push.busChannel: must be a subchannel id (a string)".into()),
        (with("fromUserId", "null"), "push.fromUserId: must be a user id (a string)".into()),
        (with("disablePush", "\"yes\""), "push.disablePush: must be true or false".into()),
        (with("recipients", "{}"), "push.recipients: must be an array of user ids (strings)".into()),
        (with("recipients", r#"["a", ["b"]]"#), "push.recipients[1]: must be a user id (a string)".into()),
        (mention("[]"), "push.mentionedInfo: must be an object with \"type\" (1 @all, 2 a list) and \"userIdList\"".into()),
        (mention(r#"{"type": "1"}"#), "push.mentionedInfo.type: must be an integer (1 @all, 2 a list of users)".into()),
        (mention(r#"{"type": 3}"#), "push.mentionedInfo.type: 3 is not a mention type (1 @all, 2 a list of users)".into()),
        (mention("{}"), "push.mentionedInfo.type: is missing; it must be an integer (1 @all, 2 a list of users)".into()),
        (mention(r#"{"type": 2, "userIdList": "a"}"#), "push.mentionedInfo.userIdList: must be an array of user ids (strings)".into()),
        (mention(r#"{"type": 2, "userIdList": ["a", 1]}"#), "push.mentionedInfo.userIdList[1]: must be a user id (a string)".into()),
        (mention(r#"{"type": 2, "who": 1}"#), "push.mentionedInfo.who: is not a field here; expected one of type, userIdList or userGroupIds".into()),
        (with("color", "\"red\""), "push.color: is not a field here; expected one of at, conversationType, targetId, busChannel, fromUserId, mentionedInfo, disablePush, recipients, urgent, memberCount, mentionAllAllowed, text, hold, messageId, answer".into()),
        (r#"{"push": {"at": 0, "conversationType": 1, "fromUserId": "s"}}"#.into(), "push.recipients: required for a private or system message (only groups and ultra groups have members)".into()),
        (r#"{"push": {"conversationType": 3, "fromUserId": "s", "recipients": []}}"#.into(), format!("push.at: is missing; it {AT}")),
        (r#"{"push": 5}"#.into(), "push: must be an object (a message and its recipients)".into()),
        (r#"{"push": {"at": 0,}}"#.into(), "not JSON: key must be a string at line 1 column 19".into()),
    ];
    for (line, expected) in cases {
        let error = error_of(&line);
        assert_eq!(error, expected, "{line}");
        for serde_words in ["invalid type", "did not match", "untagged", "variant"] {
            assert!(!error.contains(serde_words), "{error}");
        }
    }
}

#[test]
fn duplicate_keys_are_an_error() {
    for (line, expected) in [
        (
            r#"{"request": "/user/blockPushPeriod/get.json", "request": "/x", "body": "userId=a"}"#.to_owned(),
            "request: is given twice (a key may appear once in an object)",
        ),
        (
            r#"{"push": {"at": 0, "conversationType": 3, "fromUserId": "s", "recipients": []}, "push": {}}"#.to_owned(),
            "push: is given twice (a key may appear once in an object)",
        ),
        (
            push(r#"["r"]"#, r#", "at": 1"#),
            "push.at: is given twice (a key may appear once in an object)",
        ),
        // The same key spelled with an escape is the same key.
        (
            push(r#"["r"]"#, r#", "\u0061t": 1"#),
            "push.at: is given twice (a key may appear once in an object)",
        ),
        (
            push(r#"["r"]"#, r#", "recipients": ["q"]"#),
            "push.recipients: is given twice (a key may appear once in an object)",
        ),
        (
            push(r#"["r"]"#, r#", "mentionedInfo": {"type": 1, "type": 2}"#),
            "push.mentionedInfo.type: is given twice (a key may appear once in an object)",
        ),
    ] {
        assert_eq!(error_of(&line), expected, "{line}");
    }
}

#[test]
fn error_texts_quote_a_short_excerpt() {
    let huge = "k".repeat(1 << 20);
    for line in [
        format!(r#"{{"{huge}": 1}}"#),
        push(r#"["r"]"#, &format!(r#", "{huge}": 1"#)),
        push(r#"["r"]"#, &format!(r#", "mentionedInfo": {{"type": 1, "{huge}": 1}}"#)),
    ] {
        let error = error_of(&line);
        assert!(error.len() < 300, "{} bytes: {}", error.len(), &error[..300]);
        assert!(error.contains("kkkk"), "{error}");
    }
    // explain echoes a request's path and body only so far.
    let line = format!(r#"{{"request": "/user/blockPushPeriod/get.json", "body": "userId=a&b={huge}"}}"#);
    let text = stdout(&dnd(&["explain"], &line));
    assert!(text.len() < 1000, "{} bytes", text.len());
    assert!(
        text.contains("userId=a&b=kkk") && text.contains("… (1048587 bytes)"),
        "{text}"
    );
    let line = format!(r#"{{"request": "/{huge}", "body": ""}}"#);
    let text = stdout(&dnd(&["explain"], &line));
    let request = text.lines().next().unwrap();
    assert!(
        request.len() < 300 && request.ends_with("… (1048577 bytes) "),
        "{}",
        &request[..300]
    );
}

#[test]
fn ids_are_escaped_where_people_read_them() {
    let line = r#"{"push": {"at": 0, "conversationType": 3, "targetId": "g\u001b[2J\nforged: target", "fromUserId": "s\nforged: sender", "mentionedInfo": {"type": 2, "userIdList": ["m\r\nforged: mention"]}, "recipients": ["r"]}}"#;
    let out = dnd(&["explain"], line);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.contains(
            r"from s\nforged: sender in group conversation g\u{1b}[2J\nforged: target, mentioning m\r\nforged: mention"
        ),
        "{text}"
    );
    for l in text.lines() {
        assert!(!l.starts_with("forged"), "a forged line: {l:?}");
        assert!(!l.contains('\u{1b}'), "{l:?}");
    }
    // An error in explain is escaped too.
    let text = stdout(&dnd(&["explain"], "{\"a\\nforged\": 1}"));
    assert!(text.starts_with(r#"error: line 1: unknown key "a\nforged""#), "{text}");
}

#[test]
fn blank_lines_and_bom_are_skipped() {
    let get = r#"{"request": "/user/blockPushPeriod/get.json", "body": "userId=alice"}"#;
    let input = format!("\u{feff}{PERIOD}\n\n   \n\t \r\n{get}\r\n\n");
    let out = dnd(&["replay"], &input);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let got = lines(&out);
    assert_eq!(got.len(), 2, "one line out for each line that is not blank: {got:?}");
    assert_eq!(got[1]["data"]["period"], 540);
    // Blank lines still count: an error names the line as a text editor would.
    let got = lines(&dnd(&["replay"], &format!("\n\n{PERIOD}\n \noops\n")));
    assert_eq!(got.len(), 2);
    assert!(
        got[1]["error"].as_str().unwrap().starts_with("line 5: not JSON"),
        "{got:?}"
    );
    // explain says nothing for a blank line either.
    let text = stdout(&dnd(&["explain"], &format!("\u{feff}\n\n{get}\n")));
    assert_eq!(text.lines().count(), 2, "{text}");
    // A byte-order mark anywhere but at the start is an error.
    let got = lines(&dnd(&["replay"], &format!("{PERIOD}\n\u{feff}{get}\n")));
    assert!(
        got[1]["error"].as_str().unwrap().starts_with("line 2: not JSON"),
        "{got:?}"
    );
}

//! The JSON form of `Request` accepts exactly what the form bodies accept,
//! with the same messages, naming the JSON field.

use dnd_engine::Request;

use crate::support::*;

/// The message of a JSON error, without serde_json's position.
fn json_error(json: &str) -> String {
    let e = serde_json::from_str::<Request>(json).unwrap_err().to_string();
    match e.rfind(" at line ") {
        Some(i) => e[..i].to_owned(),
        None => e,
    }
}

#[test]
fn json_request_accepts_exactly_the_form() {
    // The same request as a form and as JSON: both accepted, and equal.
    let same: [(&str, &str, &str); 12] = [
        (
            PERIOD,
            "userId=u&startTime=22:00:00&period=540&level=5&timezone=Asia%2FTokyo",
            r#"{"request":"setPeriod","userId":"u","period":{"startTime":"22:00:00","period":540,"level":5,"timezone":"Asia/Tokyo"}}"#,
        ),
        (
            PERIOD,
            "userId=u&startTime=00:00:00&period=1439&level=1",
            r#"{"period":{"level":1,"period":1439,"startTime":"00:00:00"},"userId":"u","request":"setPeriod"}"#,
        ),
        (
            "/user/blockPushPeriod/delete.json",
            "userId=u",
            r#"{"request":"deletePeriod","userId":"u"}"#,
        ),
        (
            "/user/blockPushPeriod/get.json",
            "userId=u",
            r#"{"request":"getPeriod","userId":"u"}"#,
        ),
        (
            CONVERSATION,
            "conversationType=10&requestId=u&targetId=g&busChannel=c1&unpushLevel=-1",
            r#"{"request":"setConversationLevel","userId":"u","conversation":{"conversationType":10,"targetId":"g","busChannel":"c1"},"level":-1}"#,
        ),
        (
            CONVERSATION,
            "conversationType=3&requestId=u&targetId=g&unpushLevel=0",
            r#"{"request":"setConversationLevel","userId":"u","conversation":{"conversationType":3,"targetId":"g"},"level":0}"#,
        ),
        (
            "/conversation/notification/get.json",
            "conversationType=1&requestId=u&targetId=v",
            r#"{"request":"getConversationLevel","userId":"u","conversation":{"conversationType":1,"targetId":"v"}}"#,
        ),
        (
            TYPE,
            "conversationType=6&requestId=u&unpushLevel=2",
            r#"{"request":"setTypeLevel","userId":"u","conversationType":6,"level":2}"#,
        ),
        (
            "/conversation/type/notification/get.json",
            "conversationType=6&requestId=u",
            r#"{"request":"getTypeLevel","userId":"u","conversationType":6}"#,
        ),
        (
            DEFAULT,
            "groupId=g&busChannel=news&unpushLevel=4",
            r#"{"request":"setUltraGroupDefault","groupId":"g","busChannel":"news","level":4}"#,
        ),
        (
            DEFAULT,
            "groupId=g&unpushLevel=0",
            r#"{"request":"setUltraGroupDefault","groupId":"g","level":0}"#,
        ),
        (
            "/ultragroup/notdisturb/get.json",
            "groupId=g",
            r#"{"request":"getUltraGroupDefault","groupId":"g"}"#,
        ),
    ];
    for (path, body, json) in same {
        let form = Request::parse(path, body.as_bytes()).unwrap();
        let typed: Request = serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
        assert_eq!(typed, form, "{json}");
        // And what it writes, it reads back.
        let written = serde_json::to_string(&form).unwrap();
        assert_eq!(serde_json::from_str::<Request>(&written).unwrap(), form, "{written}");
    }

    // The extension requests, the same way.
    let schedule = r#"[{"days":[1,2,3,4,5],"startTime":"22:00:00","period":540,"level":5}]"#;
    let schedule_form = form_urlencoded::Serializer::new(String::new())
        .append_pair("userId", "u")
        .append_pair("windows", schedule)
        .append_pair("timezone", "Europe/Paris")
        .finish();
    let schedule_json = format!(
        r#"{{"request":"setSchedule","userId":"u","schedule":{{"windows":{schedule},"timezone":"Europe/Paris"}}}}"#
    );
    let extensions: [(&str, &str, &str); 9] = [
        (
            CONVERSATION,
            "conversationType=3&requestId=u&targetId=g&unpushLevel=5&until=1800000000000",
            r#"{"request":"setConversationLevelUntil","userId":"u","conversation":{"conversationType":3,"targetId":"g"},"level":5,"until":1800000000000}"#,
        ),
        (
            TYPE,
            "conversationType=3&requestId=u&unpushLevel=0&until=2027-01-15T08:00:00%2B08:00",
            r#"{"request":"setTypeLevelUntil","userId":"u","conversationType":3,"level":0,"until":"2027-01-15T08:00:00+08:00"}"#,
        ),
        (
            DEFAULT,
            "groupId=g&busChannel=c&unpushLevel=4&until=1800000000000",
            r#"{"request":"setUltraGroupDefaultUntil","groupId":"g","busChannel":"c","level":4,"until":"1800000000000"}"#,
        ),
        (
            "/user/snooze/set.json",
            "userId=u&until=1800000000000",
            r#"{"request":"setSnooze","userId":"u","snooze":{"until":1800000000000}}"#,
        ),
        (
            "/user/snooze/set.json",
            "userId=u&until=1800000000000&level=2",
            r#"{"request":"setSnooze","userId":"u","snooze":{"until":1800000000000,"level":2}}"#,
        ),
        (
            "/user/snooze/get.json",
            "userId=u",
            r#"{"request":"getSnooze","userId":"u"}"#,
        ),
        (
            "/user/snooze/delete.json",
            "userId=u",
            r#"{"request":"deleteSnooze","userId":"u"}"#,
        ),
        (
            "/user/blockPushSchedule/get.json",
            "userId=u",
            r#"{"request":"getSchedule","userId":"u"}"#,
        ),
        (
            "/user/blockPushSchedule/delete.json",
            "userId=u",
            r#"{"request":"deleteSchedule","userId":"u"}"#,
        ),
    ];
    for (path, body, json) in extensions.iter().copied().chain([(
        "/user/blockPushSchedule/set.json",
        schedule_form.as_str(),
        schedule_json.as_str(),
    )]) {
        let form = Request::parse(path, body.as_bytes()).unwrap_or_else(|e| panic!("{body}: {e}"));
        let typed: Request = serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
        assert_eq!(typed, form, "{json}");
        let written = serde_json::to_string(&form).unwrap();
        assert_eq!(serde_json::from_str::<Request>(&written).unwrap(), form, "{written}");
    }
    for (path, body, parameter, json, field) in [
        (
            TYPE,
            "conversationType=3&requestId=u&unpushLevel=5&until=4102444800000",
            "until",
            r#"{"request":"setTypeLevelUntil","userId":"u","conversationType":3,"level":5,"until":4102444800000}"#,
            "until",
        ),
        (
            TYPE,
            "conversationType=3&requestId=u&unpushLevel=5&until=soon",
            "until",
            r#"{"request":"setTypeLevelUntil","userId":"u","conversationType":3,"level":5,"until":"soon"}"#,
            "until",
        ),
        (
            "/user/snooze/set.json",
            "userId=u&until=1800000000000&level=3",
            "level",
            r#"{"request":"setSnooze","userId":"u","snooze":{"until":1800000000000,"level":3}}"#,
            "snooze.level",
        ),
        (
            "/user/snooze/set.json",
            "userId=u",
            "until",
            r#"{"request":"setSnooze","userId":"u","snooze":{}}"#,
            "snooze.until",
        ),
    ] {
        let form = Request::parse(path, body.as_bytes()).unwrap_err().to_string();
        assert!(form.contains(parameter), "{form}");
        let expected = form.replacen(&format!("parameter {parameter}"), &format!("parameter {field}"), 1);
        assert_eq!(json_error(json), expected, "{json}");
    }

    // The same mistake as a form and as JSON: the same message, naming the
    // form's parameter and the JSON field.
    let refused: [(&str, &str, &str, &str, &str); 14] = [
        (
            TYPE,
            "conversationType=3&requestId=u&unpushLevel=3",
            "unpushLevel",
            r#"{"request":"setTypeLevel","userId":"u","conversationType":3,"level":3}"#,
            "level",
        ),
        (
            TYPE,
            "conversationType=2&requestId=u&unpushLevel=1",
            "conversationType",
            r#"{"request":"setTypeLevel","userId":"u","conversationType":2,"level":1}"#,
            "conversationType",
        ),
        (
            TYPE,
            "conversationType=3&requestId=&unpushLevel=1",
            "requestId",
            r#"{"request":"setTypeLevel","userId":"","conversationType":3,"level":1}"#,
            "userId",
        ),
        (
            TYPE,
            "conversationType=3&unpushLevel=1",
            "requestId",
            r#"{"request":"setTypeLevel","conversationType":3,"level":1}"#,
            "userId",
        ),
        (
            TYPE,
            "conversationType=3&requestId=u",
            "unpushLevel",
            r#"{"request":"setTypeLevel","userId":"u","conversationType":3}"#,
            "level",
        ),
        (
            TYPE,
            "conversationType=3&requestId=u&unpushLevel=1.5",
            "unpushLevel",
            r#"{"request":"setTypeLevel","userId":"u","conversationType":3,"level":1.5}"#,
            "level",
        ),
        (
            TYPE,
            &format!("conversationType=3&requestId={}&unpushLevel=1", "x".repeat(65)),
            "requestId",
            &format!(
                r#"{{"request":"setTypeLevel","userId":"{}","conversationType":3,"level":1}}"#,
                "x".repeat(65)
            ),
            "userId",
        ),
        (
            CONVERSATION,
            "conversationType=3&requestId=u&targetId=g",
            "unpushLevel",
            r#"{"request":"setConversationLevel","userId":"u","conversation":{"conversationType":3,"targetId":"g"}}"#,
            "level",
        ),
        (
            CONVERSATION,
            "conversationType=3&requestId=u&targetId=g&busChannel=c&unpushLevel=1",
            "busChannel",
            r#"{"request":"setConversationLevel","userId":"u","conversation":{"conversationType":3,"targetId":"g","busChannel":"c"},"level":1}"#,
            "conversation.busChannel",
        ),
        (
            CONVERSATION,
            "conversationType=10&requestId=u&targetId=g&busChannel=a-b&unpushLevel=1",
            "busChannel",
            r#"{"request":"setConversationLevel","userId":"u","conversation":{"conversationType":10,"targetId":"g","busChannel":"a-b"},"level":1}"#,
            "conversation.busChannel",
        ),
        (
            CONVERSATION,
            "conversationType=10&requestId=u&unpushLevel=1",
            "targetId",
            r#"{"request":"setConversationLevel","userId":"u","conversation":{"conversationType":10},"level":1}"#,
            "conversation.targetId",
        ),
        (
            DEFAULT,
            "groupId=g&busChannel=&unpushLevel=1",
            "busChannel",
            r#"{"request":"setUltraGroupDefault","groupId":"g","busChannel":"","level":1}"#,
            "busChannel",
        ),
        (
            PERIOD,
            "userId=u&startTime=24:00:00&period=60&level=5",
            "startTime",
            r#"{"request":"setPeriod","userId":"u","period":{"startTime":"24:00:00","period":60,"level":5}}"#,
            "period.startTime",
        ),
        (
            PERIOD,
            "userId=u&startTime=22:00:00&period=60&level=5&timezone=Mars%2FOlympus",
            "timezone",
            r#"{"request":"setPeriod","userId":"u","period":{"startTime":"22:00:00","period":60,"level":5,"timezone":"Mars/Olympus"}}"#,
            "period.timezone",
        ),
    ];
    for (path, body, parameter, json, field) in refused {
        let form = Request::parse(path, body.as_bytes()).unwrap_err().to_string();
        assert!(form.contains(parameter), "{form}");
        let expected = form.replacen(&format!("parameter {parameter}"), &format!("parameter {field}"), 1);
        assert_eq!(json_error(json), expected, "{json}");
    }

    // What only JSON can get wrong: each refused, naming the field.
    let json_only = [
        // A missing level is an error, not "remove".
        (
            r#"{"request":"setTypeLevel","userId":"u","conversationType":3}"#,
            "parameter level is missing",
        ),
        (
            r#"{"request":"setUltraGroupDefault","groupId":"g"}"#,
            "parameter level is missing",
        ),
        // Unknown fields, at the top and inside the nested objects.
        (
            r#"{"request":"setTypeLevel","userId":"u","conversationType":3,"level":1,"isMuted":1}"#,
            r#"setTypeLevel has no parameter "isMuted""#,
        ),
        (
            r#"{"request":"setTypeLevel","userId":"u","conversationType":3,"level":1,"groupId":"g"}"#,
            r#"setTypeLevel has no parameter "groupId""#,
        ),
        (
            r#"{"request":"setConversationLevel","userId":"u","conversation":{"conversationType":3,"targetId":"g","extra":1},"level":1}"#,
            r#"conversation has no parameter "extra""#,
        ),
        (
            r#"{"request":"setPeriod","userId":"u","period":{"startTime":"22:00:00","period":60,"level":5,"zone":"UTC"}}"#,
            r#"period has no parameter "zone""#,
        ),
        // A field given twice.
        (
            r#"{"request":"setTypeLevel","userId":"u","userId":"u","conversationType":3,"level":1}"#,
            "parameter userId is given twice",
        ),
        (
            r#"{"request":"setConversationLevel","userId":"u","conversation":{"conversationType":3,"targetId":"g","targetId":"h"},"level":1}"#,
            "parameter conversation.targetId is given twice",
        ),
        // null and wrong JSON types.
        (
            r#"{"request":"setTypeLevel","userId":"u","conversationType":3,"level":null}"#,
            "level must be an integer, not null",
        ),
        (
            r#"{"request":"setTypeLevel","userId":"u","conversationType":3,"level":"5"}"#,
            r#"level must be an integer, not "5""#,
        ),
        (
            r#"{"request":"setUltraGroupDefault","groupId":"g","busChannel":null,"level":1}"#,
            "busChannel must be a string, not null",
        ),
        (
            r#"{"request":"setTypeLevel","userId":7,"conversationType":3,"level":1}"#,
            "userId must be a string, not 7",
        ),
        (
            r#"{"request":"setConversationLevel","userId":"u","conversation":[3,"g"],"level":1}"#,
            "conversation must be an object, not an array",
        ),
        (r#"[1]"#, "a request must be an object, not an array"),
        // The kind of request.
        (r#"{"userId":"u"}"#, "parameter request is missing"),
        (
            r#"{"request":"setEverything","userId":"u"}"#,
            r#""setEverything" is not a kind of request"#,
        ),
        // A typed setPeriod sets a period: 1 to 1439 minutes (deletePeriod removes).
        (
            r#"{"request":"setPeriod","userId":"u","period":{"startTime":"22:00:00","period":0,"level":5}}"#,
            "parameter period.period: 0 is not a period length in minutes (1 to 1439 for a window)",
        ),
    ];
    for (json, expected) in json_only {
        let e = json_error(json);
        assert!(
            e.starts_with(expected),
            "{json}: {e:?} does not start with {expected:?}"
        );
    }
}

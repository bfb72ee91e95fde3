//! The decide endpoint: the decisions `dnd replay` gives for a push, with
//! explanations on request, streamed for a large push, and refused past the
//! recipient limit or when the push is malformed.

mod common;

use common::{config, expected, TestServer};
use dnd_engine::{Config, Settings};
use serde_json::{json, Value};

const DECIDE: &str = "/push/decide.json";

fn setup() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "/user/blockPushPeriod/set.json",
            "userId=alice&startTime=22:00:00&period=540&level=5",
        ),
        (
            "/ultragroup/notdisturb/set.json",
            "groupId=club&busChannel=news&unpushLevel=4",
        ),
        (
            "/conversation/notification/set.json",
            "conversationType=10&requestId=bob&targetId=club&unpushLevel=-1",
        ),
        (
            "/conversation/type/notification/set.json",
            "conversationType=10&requestId=erin&unpushLevel=5",
        ),
    ]
}

/// A push's JSON text with `recipients` last, as `dnd --help` writes it
/// (`json!` sorts keys).
fn push_text(head: Value, recipients: &[String]) -> String {
    let head = head.to_string();
    format!("{},\"recipients\":{}}}", &head[..head.len() - 1], json!(recipients))
}

#[test]
fn a_push_is_decided_as_the_core_decides_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(), dir.path());
    let client = server.client();
    let mut settings = Settings::new(Config::new(chrono_tz::UTC));
    for (path, body) in setup() {
        assert_eq!(settings.handle(path, body.as_bytes()).code(), 200);
        assert_eq!(client.post(path, body).status, 200);
    }
    // A small push may list its fields in any order (here sorted, so
    // recipients come before targetId).
    let push = json!({"at": "2026-11-22T23:30:00+00:00", "conversationType": 10, "targetId": "club",
        "busChannel": "news", "fromUserId": "carol", "mentionedInfo": {"type": 1},
        "recipients": ["alice", "bob", "carol", "dave", "erin"]})
    .to_string();
    let a = client.post(DECIDE, &push);
    assert_eq!(a.status, 200, "{}", a.body);
    // Byte for byte: the keys in the protocol's order.
    let want = expected(&settings, &push, false);
    assert_eq!(a.body, want);
    let want: Value = serde_json::from_str(&want).unwrap();
    let layers: Vec<&str> = want["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["by"].as_str().unwrap())
        .collect();
    assert_eq!(
        layers,
        [
            "user_period",
            "user_conversation",
            "sender",
            "subchannel_default",
            "user_conversation_type"
        ]
    );
    let explained = client.post(&format!("{DECIDE}?explain=true"), &push);
    assert_eq!(explained.body, expected(&settings, &push, true));
    assert!(explained.body.contains("explanation"));
    assert!(a.body.contains("\"deferUntil\":"), "alice's period ends: {}", a.body);
    let metrics = client.get("/metrics").body;
    assert!(
        metrics.contains("dnd_decisions_total{app=\"test-key\",layer=\"user_period\"} 2"),
        "{metrics}"
    );
}

#[test]
fn a_large_push_streams_and_the_limit_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config();
    c.max_recipients = 50_000;
    let server = TestServer::start(c, dir.path());
    let client = server.client();
    let mut settings = Settings::new(Config::new(chrono_tz::UTC));
    for i in (0..40_000).step_by(37) {
        let body = format!("conversationType=3&requestId=u{i}&unpushLevel=5");
        assert_eq!(
            settings
                .handle("/conversation/type/notification/set.json", body.as_bytes())
                .code(),
            200
        );
        client.post("/conversation/type/notification/set.json", &body);
    }
    let recipients: Vec<String> = (0..40_000).map(|i| format!("u{i}")).collect();
    let push = push_text(
        json!({"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "u1"}),
        &recipients,
    );
    let a = client.post(DECIDE, &push);
    assert_eq!(a.status, 200, "{}", &a.body[..a.body.len().min(300)]);
    assert_eq!(
        a.header("transfer-encoding"),
        Some("chunked"),
        "streamed, not buffered whole"
    );
    assert_eq!(a.body, expected(&settings, &push, false));
    // The same push with recipients first and the other fields after (as
    // Python's sort_keys or a Go map writes it): decided alike.
    let mut reordered = String::from(r#"{"recipients":"#);
    reordered.push_str(&serde_json::to_string(&recipients).unwrap());
    reordered.push_str(r#","targetId":"g","fromUserId":"u1","conversationType":3,"at":0}"#);
    let sorted = json!({"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "u1", "recipients": recipients});
    for body in [reordered, sorted.to_string()] {
        let a = client.post(DECIDE, &body);
        assert_eq!(a.status, 200, "{}", &a.body[..a.body.len().min(300)]);
        assert_eq!(a.body, expected(&settings, &push, false));
    }
    // Past the limit: refused with 1002 naming recipients. (Small enough
    // that nothing was sent yet; see docs/service.md for larger pushes.)
    let mut c = config();
    c.max_recipients = 3;
    drop(server);
    let server = TestServer::start(c, dir.path());
    let push =
        json!({"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "s", "recipients": ["a", "b", "c", "d"]});
    let a = server.client().post(DECIDE, &push.to_string());
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("1002") && a.body.contains("recipients"), "{}", a.body);
}

#[test]
fn a_malformed_push_is_refused_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(), dir.path());
    let client = server.client();
    for (push, names) in [
        (
            r#"{"at": 0, "conversationType": 7, "targetId": "g", "fromUserId": "s", "recipients": ["a"]}"#,
            "conversationType",
        ),
        (
            r#"{"at": "yesterday", "conversationType": 3, "targetId": "g", "fromUserId": "s", "recipients": ["a"]}"#,
            "at",
        ),
        (
            r#"{"at": 0, "conversationType": 3, "targetId": "g", "recipients": ["a"]}"#,
            "fromUserId",
        ),
        (r#"{"at": 0, "conversationType": 1, "fromUserId": "s"}"#, "recipients"),
        (
            r#"{"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "s", "recipients": ["a"], "recipients": ["b"]}"#,
            "recipients",
        ),
        (
            r#"{"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "s", "recipients": ["a", 5]}"#,
            "push",
        ),
        (
            r#"{"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "s", "recipients": ["a"]} trailing"#,
            "push",
        ),
        (
            r#"{"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "s", "bogus": 1, "recipients": []}"#,
            "bogus",
        ),
    ] {
        let a = client.post(DECIDE, push);
        assert_eq!(a.status, 400, "{push}: {}", a.body);
        assert!(a.body.contains("1002") && a.body.contains(names), "{push}: {}", a.body);
    }
}

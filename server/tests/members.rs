//! Member lists through the service (`docs/rules.md` §13): the platform's
//! membership paths over HTTP with their documented answers, and a push
//! without recipients decided for every member, in each answer form, equal
//! to the same push with the member ids listed, on seeded random worlds.

mod common;

use common::{config, TestServer};
use serde_json::{json, Value};

const DECIDE: &str = "/push/decide.json";

#[test]
fn the_membership_paths_answer_as_the_platform_documents() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(), dir.path());
    let c = server.client();
    let a = c.post("/ultragroup/join.json", "groupId=club&userId=ann");
    assert_eq!((a.status, a.body.as_str()), (200, r#"{"code":200}"#));
    let a = c.post("/ultragroup/member/exist.json", "groupId=club&userId=ann");
    assert_eq!(a.body, r#"{"code":200,"status":true}"#);
    let a = c.post("/ultragroup/member/exist.json", "groupId=club&userId=bob");
    assert_eq!(a.body, r#"{"code":200,"status":false}"#);
    let a = c.post("/ultragroup/quit.json", "groupId=club&userId=ann");
    assert_eq!(a.body, r#"{"code":200}"#);
    let a = c.post("/group/join.json", "userId=bob&userId=ann&groupId=g&groupName=Team");
    assert_eq!(a.body, r#"{"code":200}"#);
    let a = c.post("/group/user/query.json", "groupId=g");
    assert_eq!(a.body, r#"{"code":200,"users":[{"id":"ann"},{"id":"bob"}]}"#);
    let a = c.post("/group/join.json", "userId=bob&groupId=g");
    assert_eq!(a.status, 400);
    assert!(a.body.contains("1002") && a.body.contains("groupName"), "{}", a.body);
    let a = c.post("/group/quit.json", "userId=bob&groupId=g");
    assert_eq!(a.body, r#"{"code":200}"#);
    let a = c.post("/group/user/query.json", "groupId=g");
    assert_eq!(a.body, r#"{"code":200,"users":[{"id":"ann"}]}"#);
}

/// A small xorshift, for seeded worlds.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn with_recipients(push: &Value, recipients: &[String]) -> String {
    let mut p = push.clone();
    p["recipients"] = json!(recipients);
    p.to_string()
}

#[test]
fn a_push_to_the_members_equals_the_push_to_their_ids_in_every_form() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(), dir.path());
    let c = server.client();
    for seed in 1..=4u64 {
        let mut rng = Rng(seed * 0x9E37_79B9);
        let group = format!("club{seed}");
        // Users numbered in one order, joined in another; some quit.
        for _ in 0..300 {
            let u = rng.below(400);
            let body = format!("groupId={group}&userId=u{u}");
            let path = if rng.below(8) == 0 {
                "/ultragroup/quit.json"
            } else {
                "/ultragroup/join.json"
            };
            assert_eq!(c.post(path, &body).status, 200);
        }
        for _ in 0..60 {
            let (u, l) = (rng.below(400), [-1, 1, 2, 4, 5][rng.below(5) as usize]);
            let body = match rng.below(3) {
                0 => format!("conversationType=10&requestId=u{u}&targetId={group}&unpushLevel={l}"),
                1 => format!("conversationType=10&requestId=u{u}&unpushLevel={l}"),
                _ => format!("userId=u{u}&startTime=08:00:00&period=600&level=5"),
            };
            let path = if body.starts_with("userId") {
                "/user/blockPushPeriod/set.json"
            } else if body.contains("targetId") {
                "/conversation/notification/set.json"
            } else {
                "/conversation/type/notification/set.json"
            };
            assert_eq!(c.post(path, &body).status, 200, "{body}");
        }
        // The member list, in member order, as the push to the members answers it.
        let probe = json!({"at": 1_764_000_000_000i64, "conversationType": 10, "targetId": group,
            "fromUserId": "nobody"});
        let a = c.post(DECIDE, &probe.to_string());
        assert_eq!(a.status, 200, "{}", a.body);
        let lines: Value = serde_json::from_str(&a.body).unwrap();
        let members: Vec<String> = lines["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["userId"].as_str().unwrap().to_owned())
            .collect();
        // The same members as the platform's exist answers.
        for u in 0..400 {
            let a = c.post("/ultragroup/member/exist.json", &format!("groupId={group}&userId=u{u}"));
            let id = format!("u{u}");
            assert_eq!(a.body.contains("true"), members.contains(&id), "{id}");
        }
        assert!(members.len() > 100);
        let mut sorted = members.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), members.len(), "each member once");
        let sender = members[rng.below(members.len() as u64) as usize].clone();
        for mention in [
            json!(null),
            json!({"type": 1}),
            json!({"type": 2, "userIdList": [members[3]]}),
        ] {
            let mut push = json!({"at": 1_764_000_000_000i64 + rng.below(86_400_000) as i64,
                "conversationType": 10, "targetId": group, "fromUserId": sender});
            if !mention.is_null() {
                push["mentionedInfo"] = mention;
            }
            let explicit = c.post(DECIDE, &with_recipients(&push, &members));
            let by_members = c.post(DECIDE, &push.to_string());
            assert_eq!(by_members.body, explicit.body, "lines, seed {seed}");
            let decided: Value = serde_json::from_str(&explicit.body).unwrap();
            let pushes: Vec<bool> = decided["decisions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["push"].as_bool().unwrap())
                .collect();
            let pushed: Vec<&String> = members
                .iter()
                .zip(&pushes)
                .filter(|(_, &p)| p)
                .map(|(m, _)| m)
                .collect();
            assert!(!pushed.is_empty() && pushed.len() < members.len());
            let mut compact = push.clone();
            compact["answer"] = json!("push");
            let a = c.post(DECIDE, &compact.to_string());
            assert_eq!(a.body, json!({"push": pushed, "recipients": members.len()}).to_string());
            assert_eq!(c.post(DECIDE, &with_recipients(&compact, &members)).body, a.body);
            compact["answer"] = json!("bits");
            let a = c.post(DECIDE, &compact.to_string());
            let mut bytes = vec![0u8; members.len().div_ceil(8)];
            for (i, &p) in pushes.iter().enumerate() {
                bytes[i / 8] |= u8::from(p) << (i % 8);
            }
            let read: Value = serde_json::from_str(&a.body).unwrap();
            assert_eq!(read["recipients"], json!(members.len()));
            assert_eq!(base64_decode(read["bits"].as_str().unwrap()), bytes);
            assert_eq!(c.post(DECIDE, &with_recipients(&compact, &members)).body, a.body);
        }
    }
}

#[test]
fn the_lines_of_more_members_than_the_recipient_limit_are_refused_the_compact_forms_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.max_recipients = 5;
    let server = TestServer::start(cfg, dir.path());
    let c = server.client();
    for u in 0..8 {
        assert_eq!(
            c.post("/ultragroup/join.json", &format!("groupId=club&userId=u{u}"))
                .status,
            200
        );
    }
    let push = json!({"at": 0, "conversationType": 10, "targetId": "club", "fromUserId": "u0"});
    let a = c.post(DECIDE, &push.to_string());
    assert_eq!(a.status, 400);
    assert!(
        a.body.contains("push.answer") && a.body.contains("more than 5"),
        "{}",
        a.body
    );
    let mut bits = push.clone();
    bits["answer"] = json!("bits");
    let a = c.post(DECIDE, &bits.to_string());
    // u0 sends: bit 0 clear, the seven others set.
    assert_eq!(a.body, r#"{"recipients":8,"bits":"/g=="}"#);
    // A private message names its recipients.
    let a = c.post(DECIDE, r#"{"at":0,"conversationType":1,"fromUserId":"u0"}"#);
    assert_eq!(a.status, 400);
    assert!(a.body.contains("push.recipients"), "{}", a.body);
}

/// Standard base64 with padding, read back (the test's own reading).
fn base64_decode(text: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for &b in text.as_bytes().iter().filter(|&&b| b != b'=') {
        let v = alphabet.iter().position(|&a| a == b).unwrap() as u32;
        bits = bits << 6 | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

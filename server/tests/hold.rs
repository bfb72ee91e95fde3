//! Held pushes in the service: a decide that asks to hold answers
//! `"held": true`, the clock releases the digest when the recipient's
//! snooze ends (or at once when a settings change ends it early), a
//! consumer reads it with `POST /push/released.json` by cursor, with a long
//! poll, across a restart; apps never see each other's digests.

mod common;

use std::time::{Duration, Instant};

use common::{config, Client, TestServer, KEY, SECRET};
use dnd_server::App;
use serde_json::Value;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn ok(c: &Client, path: &str, body: &str) -> Value {
    let a = c.post(path, body);
    assert_eq!(a.status, 200, "{path} {body}: {}", a.body);
    json(&a.body)
}

/// A push to `recipients` in group `g` from `s`, now, asking to hold.
fn push(recipients: &[&str], message_id: &str) -> String {
    let r: Vec<String> = recipients.iter().map(|r| format!("\"{r}\"")).collect();
    format!(
        r#"{{"at":{},"conversationType":3,"targetId":"g","fromUserId":"s","hold":true,"messageId":"{message_id}","recipients":[{}]}}"#,
        now_ms(),
        r.join(",")
    )
}

fn released(c: &Client, after: u64, wait: u32) -> Value {
    ok(c, "/push/released.json", &format!("after={after}&limit=10&wait={wait}"))
}

/// Reads released digests after `after` until `n` came (long polls), or panics.
fn read_n(c: &Client, mut after: u64, n: usize) -> Vec<Value> {
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while got.len() < n {
        assert!(Instant::now() < deadline, "only {got:?} came");
        let page = released(c, after, 5);
        after = page["cursor"].as_u64().unwrap();
        got.extend(page["digests"].as_array().unwrap().iter().cloned());
    }
    got
}

#[test]
fn a_held_push_is_released_as_a_digest_when_the_snooze_ends_and_read_by_cursor_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(), dir.path());
    let c = server.client();
    let until = now_ms() + 1500;
    ok(&c, "/user/snooze/set.json", &format!("userId=u1&until={until}"));
    ok(
        &c,
        "/user/snooze/set.json",
        &format!("userId=u2&until={}", now_ms() + 3_600_000),
    );
    let answer = ok(&c, "/push/decide.json", &push(&["u1", "u2", "free"], "m1"));
    let lines = answer["decisions"].as_array().unwrap();
    assert_eq!(lines[0]["held"], true, "{answer}");
    assert_eq!(lines[1]["held"], true);
    assert!(lines[2].get("held").is_none(), "a push that goes now is not held");
    ok(&c, "/push/decide.json", &push(&["u1"], "m2"));
    // Nothing released yet; a long poll waits for the digest.
    assert_eq!(released(&c, 0, 0)["digests"], serde_json::json!([]));
    let started = Instant::now();
    let got = read_n(&c, 0, 1);
    assert!(started.elapsed() < Duration::from_secs(10));
    let d = &got[0];
    assert_eq!((d["cursor"].as_u64(), d["userId"].as_str()), (Some(1), Some("u1")));
    assert_eq!(d["id"], format!("{}-u1", d["at"]));
    assert!(d["at"].as_i64().unwrap() >= until);
    assert_eq!(d["conversations"][0]["count"], 2);
    assert_eq!(d["conversations"][0]["lastMessageId"], "m2");
    assert_eq!(released(&c, 1, 0)["digests"], serde_json::json!([]));

    // A settings change that ends u2's snooze early releases at once.
    ok(&c, "/user/snooze/delete.json", "userId=u2");
    let got = read_n(&c, 1, 1);
    assert_eq!(
        (got[0]["cursor"].as_u64(), got[0]["userId"].as_str()),
        (Some(2), Some("u2"))
    );

    // A restart keeps the cursors: the same pages, and the next digest follows.
    server.stop();
    let server = TestServer::start(config(), dir.path());
    let c = server.client();
    let page = released(&c, 0, 0);
    let ids: Vec<&str> = page["digests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{page}");
    assert_eq!(page["cursor"], 2);
    ok(
        &c,
        "/user/snooze/set.json",
        &format!("userId=u3&until={}", now_ms() + 500),
    );
    ok(&c, "/push/decide.json", &push(&["u3"], "m3"));
    let got = read_n(&c, 2, 1);
    assert_eq!(
        (got[0]["cursor"].as_u64(), got[0]["userId"].as_str()),
        (Some(3), Some("u3"))
    );
    server.stop();
}

#[test]
fn the_released_request_refuses_each_bad_parameter_by_name_and_a_cursor_never_given() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(), dir.path());
    let c = server.client();
    for (body, name) in [
        ("after=-1", "after"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("wait=31", "wait"),
    ] {
        let a = c.post("/push/released.json", body);
        assert_eq!(a.status, 400, "{body}");
        let v = json(&a.body);
        assert_eq!(v["code"], 1002);
        assert!(v["errorMessage"].as_str().unwrap().contains(name), "{body}: {}", a.body);
    }
    let a = c.post("/push/released.json", "after=5");
    assert_eq!(a.status, 400);
    assert!(a.body.contains("beyond the last digest released"), "{}", a.body);
    // Unsigned: refused as every path is.
    let a = c.send("POST", "/push/released.json", &[], b"");
    assert_eq!(json(&a.body)["code"], 1001, "{}", a.body);
    server.stop();
}

#[test]
fn apps_never_see_each_others_digests() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.apps.push(App {
        key: "other".into(),
        secret: "other-secret".into(),
    });
    let server = TestServer::start(cfg, dir.path());
    let a = server.client();
    let mut b = server.client();
    b.key = "other".into();
    b.secret = "other-secret".into();
    assert_eq!((a.key.as_str(), a.secret.as_str()), (KEY, SECRET));
    ok(
        &a,
        "/user/snooze/set.json",
        &format!("userId=u1&until={}", now_ms() + 300),
    );
    ok(&a, "/push/decide.json", &push(&["u1"], "a1"));
    let got = read_n(&a, 0, 1);
    assert_eq!(got[0]["userId"], "u1");
    // App b has released nothing: its cursor 1 was never given, and a long
    // poll of it sees nothing of a's.
    let page = released(&b, 0, 1);
    assert_eq!(
        (page["cursor"].as_u64(), page["digests"].as_array().map(Vec::len)),
        (Some(0), Some(0))
    );
    assert_eq!(b.post("/push/released.json", "after=1").status, 400);
    // b's own u1 is another user: b's push to u1 is not held (no snooze there).
    let answer = ok(&b, "/push/decide.json", &push(&["u1"], "b1"));
    assert!(answer["decisions"][0].get("held").is_none(), "{answer}");
    server.stop();
}

/// The requests a receiver got: each one's headers (names lowercased) and body.
type Received = std::sync::Arc<std::sync::Mutex<Vec<(Vec<(String, String)>, String)>>>;

/// A webhook receiver on a loopback port: answers 500 to the first
/// `failures` requests, then 200; each request's headers (lowercased) and body.
fn receiver(failures: usize) -> (std::net::SocketAddr, Received) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let got: Received = Default::default();
    let seen = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = Vec::new();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                let l = line.trim_end();
                if l.is_empty() {
                    break;
                }
                let (k, v) = l.split_once(':').unwrap();
                headers.push((k.to_ascii_lowercase(), v.trim().to_owned()));
            }
            let len: usize = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .unwrap()
                .1
                .parse()
                .unwrap();
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            let n = {
                let mut seen = seen.lock().unwrap();
                seen.push((headers, String::from_utf8(body).unwrap()));
                seen.len()
            };
            let status = if n <= failures { "500 No" } else { "200 OK" };
            let _ = write!(stream, "HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
        }
    });
    (addr, got)
}

#[test]
fn the_release_webhook_gets_each_digest_signed_retried_with_backoff_and_once_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, got) = receiver(2);
    let mut cfg = config();
    cfg.release_webhook = Some(format!("http://{addr}/digests"));
    cfg.release_webhook_backoff_ms = 20;
    let server = TestServer::start(cfg.clone(), dir.path());
    let c = server.client();
    ok(
        &c,
        "/user/snooze/set.json",
        &format!("userId=u1&until={}", now_ms() + 300),
    );
    ok(&c, "/push/decide.json", &push(&["u1"], "w1"));
    let digest = read_n(&c, 0, 1).remove(0);
    let deadline = Instant::now() + Duration::from_secs(20);
    while got.lock().unwrap().len() < 3 {
        assert!(
            Instant::now() < deadline,
            "the webhook was not retried until it took the digest"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let requests = got.lock().unwrap().clone();
    for (headers, body) in &requests {
        let h = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .unwrap()
        };
        assert_eq!(
            json(body),
            digest,
            "the body is the digest as /push/released.json answers it"
        );
        assert_eq!(
            h("webhook-id"),
            digest["id"].as_str().unwrap(),
            "the same id on every attempt"
        );
        assert_eq!(h("app-key"), KEY);
        assert_eq!(
            h("signature"),
            dnd_server::auth::sign(SECRET, h("nonce"), h("timestamp"))
        );
        assert_eq!(h("webhook-timestamp"), h("timestamp"));
    }
    let metrics = c.get("/metrics").body;
    for line in [
        "dnd_hold{app=\"test-key\",figure=\"webhook_retries\"} 2",
        "dnd_hold{app=\"test-key\",figure=\"webhook_delivered\"} 1",
        "dnd_hold{app=\"test-key\",figure=\"webhook_dead_letters\"} 0",
    ] {
        assert!(metrics.contains(line), "{line} not in {metrics}");
    }
    server.stop();
    // After a restart the delivered digest is not sent again.
    let server = TestServer::start(cfg, dir.path());
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(got.lock().unwrap().len(), 3);
    server.stop();
}

#[test]
fn a_retried_decide_with_a_message_id_holds_once_and_without_one_twice() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(), dir.path());
    let c = server.client();
    let until = now_ms() + 1500;
    for user in ["u1", "u2"] {
        ok(&c, "/user/snooze/set.json", &format!("userId={user}&until={until}"));
    }
    // u1's decide is retried with its messageId: held once, the answer the same.
    let body = push(&["u1"], "m1");
    for _ in 0..2 {
        let answer = ok(&c, "/push/decide.json", &body);
        assert_eq!(answer["decisions"][0]["held"], true, "{answer}");
    }
    // u2's without one (the same message, by every other field): held twice.
    let plain = body.replace(r#","messageId":"m1""#, "").replace("u1", "u2");
    assert!(!plain.contains("messageId"));
    for _ in 0..2 {
        ok(&c, "/push/decide.json", &plain);
    }
    let got = read_n(&c, 0, 2);
    let counts: Vec<(&str, u64)> = got
        .iter()
        .map(|d| {
            (
                d["userId"].as_str().unwrap(),
                d["conversations"][0]["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counts, [("u1", 1), ("u2", 2)]);
    server.stop();
}

/// The same world on a service: group `g` with members `s` (the sender)
/// and `u1`, `u2`, `u3`, `u5`; `u1`, `u2` snoozed until `soon`, `u3` until
/// `soon` and an hour.
fn members_world(c: &Client, soon: i64) {
    ok(
        c,
        "/group/join.json",
        "userId=u3&userId=s&userId=u1&userId=u5&userId=u2&groupId=g&groupName=G",
    );
    for (u, until) in [("u1", soon), ("u2", soon), ("u3", soon + 3_600_000)] {
        ok(c, "/user/snooze/set.json", &format!("userId={u}&until={until}"));
    }
}

#[test]
fn a_held_push_to_the_members_holds_and_releases_as_the_push_to_their_ids() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (
        TestServer::start(config(), dir_a.path()),
        TestServer::start(config(), dir_b.path()),
    );
    let (ca, cb) = (a.client(), b.client());
    let soon = now_ms() + 1500;
    members_world(&ca, soon);
    members_world(&cb, soon);
    let members: Vec<String> = ok(&ca, "/group/user/query.json", "groupId=g")["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(members.len(), 5);
    let at = now_ms();
    let by_members =
        format!(r#"{{"at":{at},"conversationType":3,"targetId":"g","fromUserId":"s","hold":true,"messageId":"m1"}}"#);
    let mut by_ids = json(&by_members);
    by_ids["recipients"] = serde_json::json!(members);
    let answer_a = ok(&ca, "/push/decide.json", &by_members);
    let answer_b = ok(&cb, "/push/decide.json", &by_ids.to_string());
    assert_eq!(answer_a, answer_b, "the held lines are those of the push to the ids");
    let held: Vec<&str> = answer_a["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["held"] == true)
        .map(|d| d["userId"].as_str().unwrap())
        .collect();
    assert_eq!(held.len(), 3, "{answer_a}");
    // The digests released (u1's and u2's when their snooze ends) are the same.
    let strip = |mut d: Vec<Value>| {
        for d in &mut d {
            assert!(d["at"].as_i64().unwrap() >= soon, "{d}");
            let m = d.as_object_mut().unwrap();
            m.remove("at");
            m.remove("id");
        }
        d
    };
    let got_a = strip(read_n(&ca, 0, 2));
    let got_b = strip(read_n(&cb, 0, 2));
    assert_eq!(got_a, got_b);
    let users: Vec<&str> = got_a.iter().map(|d| d["userId"].as_str().unwrap()).collect();
    assert_eq!(users.len(), 2, "{got_a:?}");
    assert!(users.contains(&"u1") && users.contains(&"u2"));
    assert_eq!(got_a[0]["conversations"][0]["lastMessageId"], "m1");
}

#[test]
fn a_held_push_to_more_members_than_the_recipient_limit_is_refused_naming_hold() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config();
    cfg.max_recipients = 4;
    let server = TestServer::start(cfg, dir.path());
    let c = server.client();
    members_world(&c, now_ms() + 300);
    let body = format!(
        r#"{{"at":{},"conversationType":3,"targetId":"g","fromUserId":"s","hold":true}}"#,
        now_ms()
    );
    let a = c.post("/push/decide.json", &body);
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("1002") && a.body.contains("push.hold"), "{}", a.body);
    // Nothing held: no digest comes when the snoozes end.
    assert_eq!(released(&c, 0, 2)["digests"], serde_json::json!([]));
}

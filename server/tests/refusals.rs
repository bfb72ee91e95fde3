//! Every signature failure, a replayed nonce, a body over the limit, slow
//! clients and the rate per app key: each refused with the platform's code
//! and HTTP status, and none of them changes anything.

mod common;

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{config, nonce, now_secs, read_answer, Client, TestServer, KEY, SECRET};

const SET: &str = "/conversation/type/notification/set.json";
const GET: &str = "/conversation/type/notification/get.json";
const BODY: &str = "conversationType=3&requestId=victim&unpushLevel=5";

fn unchanged(client: &Client) {
    let a = client.post(GET, "conversationType=3&requestId=victim");
    assert_eq!(
        a.body, r#"{"code":200,"isMuted":0}"#,
        "a refused request changed nothing"
    );
}

fn code(a: &common::Answer) -> u64 {
    serde_json::from_str::<serde_json::Value>(&a.body).unwrap()["code"]
        .as_u64()
        .unwrap()
}

#[test]
fn every_signature_failure_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(), dir.path());
    let client = server.client();
    let ts = now_secs().to_string();
    let ms = (now_secs() * 1000).to_string();
    let good = |n: &str, t: &str| client.signed_with(n, t);
    let with = |mut h: Vec<(String, String)>, name: &str, value: Option<&str>| {
        h.retain(|(k, _)| k != name);
        if let Some(v) = value {
            h.push((name.into(), v.into()));
        }
        h
    };
    type Case<'a> = (&'a str, &'a str, Vec<(String, String)>, u16, u64, &'a str);
    let cases: Vec<Case> = vec![
        (
            "unknown app key",
            SET,
            with(good(&nonce(), &ts), "App-Key", Some("other")),
            401,
            1001,
            "App-Key",
        ),
        (
            "no app key",
            SET,
            with(good(&nonce(), &ts), "App-Key", None),
            401,
            1001,
            "App-Key",
        ),
        (
            "wrong signature",
            SET,
            with(
                good(&nonce(), &ts),
                "Signature",
                Some(&dnd_server::auth::sign("wrong", "n", &ts)),
            ),
            401,
            1004,
            "Signature",
        ),
        (
            "signature not hex",
            SET,
            with(good(&nonce(), &ts), "Signature", Some("xyz")),
            401,
            1004,
            "Signature",
        ),
        (
            "no signature",
            SET,
            with(good(&nonce(), &ts), "Signature", None),
            401,
            1004,
            "Signature",
        ),
        (
            "no nonce",
            SET,
            with(good(&nonce(), &ts), "Nonce", None),
            400,
            1002,
            "Nonce",
        ),
        (
            "no timestamp",
            SET,
            with(good(&nonce(), &ts), "Timestamp", None),
            400,
            1002,
            "Timestamp",
        ),
        (
            "timestamp too old",
            SET,
            good(&nonce(), &(now_secs() - 301).to_string()),
            400,
            1002,
            "Timestamp",
        ),
        (
            "timestamp too new",
            SET,
            good(&nonce(), &(now_secs() + 301).to_string()),
            400,
            1002,
            "Timestamp",
        ),
        (
            "v4 timestamp in seconds",
            "/v4/channel-type/push/set",
            good(&nonce(), &ts),
            400,
            1002,
            "Timestamp",
        ),
        (
            "timestamp 2^64-1, signed",
            SET,
            good(&nonce(), &u64::MAX.to_string()),
            400,
            1002,
            "Timestamp",
        ),
        (
            "v4 timestamp 2^64-1, signed",
            "/v4/channel-type/push/set",
            good(&nonce(), &u64::MAX.to_string()),
            400,
            1002,
            "Timestamp",
        ),
        (
            "form timestamp in milliseconds",
            SET,
            good(&nonce(), &ms),
            400,
            1002,
            "Timestamp",
        ),
    ];
    for (what, path, headers, status, want, names) in cases {
        let body = if path.starts_with("/v4/") {
            r#"{"channelType":"3","requestId":"victim","noDisturbLevel":5}"#
        } else {
            BODY
        };
        let a = client.send("POST", path, &headers, body.as_bytes());
        assert_eq!((a.status, code(&a)), (status, want), "{what}: {}", a.body);
        assert!(a.body.contains(names), "{what}: {}", a.body);
        assert!(!a.body.contains(SECRET));
    }
    unchanged(&client);
}

#[test]
fn a_replayed_nonce_is_refused_within_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(), dir.path());
    let client = server.client();
    let headers = client.signed_with("once", &now_secs().to_string());
    let first = client.send("POST", GET, &headers, b"conversationType=3&requestId=victim");
    assert_eq!(first.status, 200);
    // The very same request again, say captured and replayed.
    let again = client.send("POST", SET, &headers, BODY.as_bytes());
    assert_eq!((again.status, code(&again)), (400, 1002));
    assert!(again.body.contains("Nonce"), "{}", again.body);
    // Another app may use the same nonce.
    let mut config2 = config();
    config2.apps.push(dnd_server::App {
        key: "k2".into(),
        secret: "s2".into(),
    });
    drop(server);
    let server = TestServer::start(config2, dir.path());
    let mut other = server.client();
    (other.key, other.secret) = ("k2".into(), "s2".into());
    let h = other.signed_with("once", &now_secs().to_string());
    assert_eq!(
        other
            .send("POST", GET, &h, b"conversationType=3&requestId=victim")
            .status,
        200
    );
    unchanged(&server.client());
}

#[test]
fn a_body_over_the_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config();
    c.max_body_bytes = 1024;
    let server = TestServer::start(c, dir.path());
    let client = server.client();
    let big = format!("{BODY}&padding={}", "x".repeat(2000));
    let a = client.post(SET, &big);
    assert_eq!((a.status, code(&a)), (400, 1005), "{}", a.body);
    // Without a length: chunked, counted as it arrives.
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(common::TIMEOUT)).unwrap();
    let mut head = format!("POST {SET} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n");
    for (k, v) in client.signed(SET) {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    for _ in 0..3 {
        let _ = s.write_all(format!("{:x}\r\n{}\r\n", 600, "y".repeat(600)).as_bytes());
    }
    let _ = s.write_all(b"0\r\n\r\n");
    let a = read_answer(&mut BufReader::new(s)).unwrap();
    assert_eq!(a.status, 400);
    assert!(a.body.contains("1005"));
    unchanged(&client);
}

#[test]
fn slow_clients_are_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config();
    c.header_timeout_ms = 300;
    c.body_timeout_ms = 300;
    let server = TestServer::start(c, dir.path());
    let client = server.client();
    // A head that never ends: the connection is closed.
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"POST /user/blockPushPeriod/get.json HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "closed after the header timeout"
    );
    assert!(!String::from_utf8_lossy(&rest).contains("200 OK"));
    // A body that never arrives: 408 naming the timeout.
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut head = format!("POST {SET} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n", BODY.len());
    for (k, v) in client.signed(SET) {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&BODY.as_bytes()[..10]).unwrap();
    let a = read_answer(&mut BufReader::new(s)).unwrap();
    assert_eq!(a.status, 408, "{}", a.body);
    assert!(a.body.contains("1002") && a.body.contains("300 ms"));
    // The server still serves everyone else.
    unchanged(&client);
}

#[test]
fn the_rate_per_app_key_answers_1008() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config();
    c.rate_per_app_key = 3;
    let server = TestServer::start(c, dir.path());
    let client = server.client();
    let statuses: Vec<(u16, u64)> = (0..6)
        .map(|_| {
            let a = client.post(GET, "conversationType=3&requestId=victim");
            (a.status, code(&a))
        })
        .collect();
    assert!(statuses.contains(&(429, 1008)), "{statuses:?}");
    assert_eq!(statuses[0], (200, 200));
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(
        client.post(GET, "conversationType=3&requestId=victim").status,
        200,
        "refilled"
    );
    let _ = KEY;
}

#[test]
fn a_head_over_the_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(), dir.path());
    let client = server.client();
    let mut headers = client.signed(SET);
    headers.push(("X-Padding".into(), "p".repeat(20_000)));
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(common::TIMEOUT)).unwrap();
    let mut head = format!("POST {SET} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n", BODY.len());
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let _ = s.write_all(format!("{head}\r\n{BODY}").as_bytes());
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    unchanged(&client);
}

#[test]
fn connections_past_the_limit_wait_for_a_free_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config();
    c.max_connections = 1;
    c.header_timeout_ms = 600;
    let server = TestServer::start(c, dir.path());
    // One idle connection holds the only slot until the head timeout closes it.
    let mut idle = TcpStream::connect(server.addr).unwrap();
    idle.set_read_timeout(Some(common::TIMEOUT)).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    let a = server.client().post(GET, "conversationType=3&requestId=victim");
    assert_eq!(a.status, 200);
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "served only once the slot was free"
    );
    let mut rest = Vec::new();
    let _ = idle.read_to_end(&mut rest);
}

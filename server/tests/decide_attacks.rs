//! Signed decides that attack the service: a field the push does not know,
//! a declared length over the limit, bodies that trickle, answers never
//! read. Each is refused or closed within bounded time and memory, and an
//! honest decide is answered meanwhile.

mod common;

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{config, read_answer, Client, TestServer};

const DECIDE: &str = "/push/decide.json";

/// The head of a signed decide with `length` declared.
fn head(client: &Client, length: u64) -> String {
    let mut head = format!("POST {DECIDE} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n");
    for (k, v) in client.signed(DECIDE) {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head + "\r\n"
}

fn connect(server: &TestServer) -> TcpStream {
    let s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_field_the_push_does_not_know_is_refused_before_its_value_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(), dir.path());
    let client = server.client();
    let mut s = connect(&server);
    // 127 MiB declared, under the 128 MiB limit; the value never comes.
    s.write_all(head(&client, 127 << 20).as_bytes()).unwrap();
    s.write_all(br#"{"at":0,"junk":["#).unwrap();
    s.write_all(&b"1,".repeat(10_000)).unwrap();
    let started = Instant::now();
    let a = read_answer(&mut BufReader::new(s)).unwrap();
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("1002") && a.body.contains("push.junk"), "{}", a.body);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[test]
fn a_declared_length_over_the_limit_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(), dir.path());
    let mut s = connect(&server);
    s.write_all(head(&server.client(), 200 << 20).as_bytes()).unwrap();
    let started = Instant::now();
    let a = read_answer(&mut BufReader::new(s)).unwrap();
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("1005"), "{}", a.body);
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert_eq!(a.header("connection"), Some("close"));
}

#[test]
fn trickling_decides_hold_no_thread_and_do_not_starve_an_honest_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config();
    // Patient enough that the tricklers stay for the whole test.
    c.body_timeout_ms = 60_000;
    c.min_body_bytes_per_sec = 0;
    let server = TestServer::start(c, dir.path());
    let client = server.client();
    let before = threads();
    let mut tricklers = Vec::new();
    for _ in 0..530 {
        let mut s = connect(&server);
        s.write_all(head(&client, 1000).as_bytes()).unwrap();
        s.write_all(b"{").unwrap();
        tricklers.push(s);
    }
    std::thread::sleep(Duration::from_millis(500));
    let held = threads().saturating_sub(before);
    let started = Instant::now();
    let push = r#"{"at":0,"conversationType":3,"targetId":"g","fromUserId":"s","recipients":["a","b"]}"#;
    let a = client.try_post(DECIDE, push).unwrap();
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.starts_with(r#"{"decisions":[{"userId":"a""#), "{}", a.body);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(held < 50, "{held} threads for 530 slow bodies");
    drop(tricklers);
}

#[test]
fn a_body_under_the_least_rate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config();
    c.body_timeout_ms = 1000;
    c.min_body_bytes_per_sec = 1000;
    let server = TestServer::start(c, dir.path());
    let mut s = connect(&server);
    s.write_all(head(&server.client(), 1000).as_bytes()).unwrap();
    let started = Instant::now();
    // A byte every 300 ms: no pause over the limit, but far under the rate.
    let mut writer = s.try_clone().unwrap();
    std::thread::spawn(move || {
        for b in br#"{"at":0,"conversationType":3"# {
            if writer.write_all(&[*b]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    });
    let a = read_answer(&mut BufReader::new(s)).unwrap();
    assert_eq!(a.status, 408, "{}", a.body);
    assert!(a.body.contains("too slow"), "{}", a.body);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[test]
fn a_decide_whose_answer_is_never_read_is_closed_after_the_send_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config();
    c.send_timeout_ms = 500;
    let server = TestServer::start(c, dir.path());
    let client = server.client();
    let recipients: Vec<String> = (0..100_000).map(|i| format!("user{i}")).collect();
    let push = format!(
        r#"{{"at":0,"conversationType":3,"targetId":"g","fromUserId":"s","recipients":{}}}"#,
        serde_json::to_string(&recipients).unwrap()
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let socket = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        socket.connect(server.addr).await.unwrap().into_std().unwrap()
    });
    socket.set_nonblocking(false).unwrap();
    let mut s = socket;
    s.write_all(head(&client, push.len() as u64).as_bytes()).unwrap();
    s.write_all(push.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(3000));
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = 0usize;
    let mut buf = vec![0; 64 * 1024];
    let ended = loop {
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    assert!(ended, "closed ({got} bytes read)");
    assert!(got < 2_000_000, "{got} bytes: the whole answer was kept for it");
    // The decide pool is free for others.
    let a = client.post(
        DECIDE,
        r#"{"at":0,"conversationType":1,"fromUserId":"s","recipients":["a"]}"#,
    );
    assert_eq!(a.status, 200, "{}", a.body);
}

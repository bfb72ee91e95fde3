//! `dnd serve` and the v4 lines of `dnd replay`.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dnd_testkit::client::{Client, KEY, SECRET};

fn replay(input: &str) -> Vec<String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dnd"))
        .args(["replay", "--time-zone", "UTC"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn replay_takes_v4_lines_and_both_generations_share_the_settings() {
    let input = [
        r#"{"request": "/v4/channel-type/push/set", "body": {"channelType": "3", "requestId": "u1", "noDisturbLevel": 5}}"#,
        r#"{"request": "/conversation/type/notification/get.json", "body": "conversationType=3&requestId=u1"}"#,
        r#"{"request": "/conversation/notification/set.json", "body": "conversationType=10&requestId=u1&targetId=club&busChannel=news&unpushLevel=2"}"#,
        r#"{"request": "/v4/channel/push/get", "body": {"channelType": "10", "requestId": "u1", "channelId": "club", "subchannelId": "news"}}"#,
        r#"{"request": "/v4/channel/push/set", "body": {"channelType": 3, "requestId": "u1", "channelId": "g", "noDisturbLevel": 3}}"#,
        r#"{"request": "/user/blockPushPeriod/get.json", "body": {"userId": "u1"}}"#,
    ]
    .join("\n");
    let out = replay(&input);
    assert_eq!(out[0], r#"{"code":0}"#);
    assert_eq!(out[1], r#"{"code":200,"isMuted":5}"#);
    assert_eq!(out[2], r#"{"code":200}"#);
    assert_eq!(out[3], r#"{"code":0,"result":{"noDisturbLevel":2}}"#);
    assert!(
        out[4].starts_with(r#"{"code":1002,"#) && out[4].contains("noDisturbLevel"),
        "{}",
        out[4]
    );
    assert!(out[5].contains("error") && out[5].contains("/v4/"), "{}", out[5]);
}

#[test]
fn serve_answers_signed_requests_and_stops_on_sigterm() {
    let dir = tempfile_dir();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dnd"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&dir)
        .env("DND_APP_KEY", KEY)
        .env("DND_APP_SECRET", SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = dnd_testkit::process::listening(&mut child);
    // The testkit's client signs as the platform's SDKs do.
    let answer = Client::new(addr).post(
        "/conversation/type/notification/set.json",
        "conversationType=3&requestId=u1&unpushLevel=5",
    );
    assert_eq!((answer.status, answer.body.as_str()), (200, r#"{"code":200}"#));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "stops on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success());
    let mut logs = String::new();
    child.stderr.take().unwrap().read_to_string(&mut logs).unwrap();
    assert!(
        logs.lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
        "JSON logs: {logs}"
    );
    assert!(
        logs.contains(&format!("\"app_key\":\"{KEY}\"")) && !logs.contains(SECRET),
        "no secret in the logs"
    );
    assert!(
        std::fs::read_to_string(dir.join("apps").join(KEY).join("snapshot.json"))
            .unwrap()
            .contains("u1")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_without_a_key_says_so() {
    let out = Command::new(env!("CARGO_BIN_EXE_dnd"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(tempfile_dir())
        .env_remove("DND_APP_KEY")
        .env_remove("DND_APP_SECRET")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("DND_APP_KEY"));
    let usage = Command::new(env!("CARGO_BIN_EXE_dnd"))
        .args(["serve"])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn serve_takes_tls_files_together_and_names_one_it_cannot_read() {
    let alone = Command::new(env!("CARGO_BIN_EXE_dnd"))
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert", "c.pem", "--data"])
        .arg(tempfile_dir())
        .output()
        .unwrap();
    assert_eq!(alone.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&alone.stderr).contains("--tls-key"));
    let dir = tempfile_dir();
    let missing = Command::new(env!("CARGO_BIN_EXE_dnd"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            "/nonexistent/c.pem",
            "--tls-key",
            "k.pem",
            "--data",
        ])
        .arg(&dir)
        .env("DND_APP_KEY", "k")
        .env("DND_APP_SECRET", "s")
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/c.pem"));
    assert!(!dir.join("changes.log").exists(), "nothing was touched");
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("dnd-serve-test-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// `dnd serve` on `dir` with `args` and `env` (the app key k, secret s),
/// listening; its stderr piped.
fn serve_on(
    dir: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> (std::process::Child, dnd_testkit::client::Client) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dnd"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir)
        .args(args)
        .env("DND_APP_KEY", "k")
        .env("DND_APP_SECRET", "s")
        .env_remove("DND_TIME_ZONE")
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut client = dnd_testkit::client::Client::new(dnd_testkit::process::listening(&mut child));
    client.key = "k".into();
    client.secret = "s".into();
    (child, client)
}

/// SIGTERM, then the logs once it stopped.
fn stop(child: std::process::Child) -> String {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The README's push: alice's period is 22:00 for 540 minutes; a message
/// at 23:30 +08:00.
const LATE_PUSH: &str = r#"{"at":"2026-11-22T23:30:00+08:00","conversationType":3,"targetId":"g","fromUserId":"bob","recipients":["alice"]}"#;

#[test]
fn a_store_keeps_its_zone_and_a_different_one_refuses_to_start() {
    let dir = tempfile_dir();
    let (child, client) = serve_on(&dir, &["--time-zone", "Asia/Shanghai"], &[]);
    let set = client.post(
        "/user/blockPushPeriod/set.json",
        "userId=alice&startTime=22:00:00&period=540&level=5",
    );
    assert_eq!(set.body, r#"{"code":200}"#);
    let quiet = client.post("/push/decide.json", LATE_PUSH).body;
    assert!(quiet.contains(r#""push":false,"by":"user_period""#), "{quiet}");
    let logs = stop(child);
    assert!(!logs.contains("no time zone configured"), "{logs}");

    // Another zone, from the environment: refused, naming both and the command.
    let refused = Command::new(env!("CARGO_BIN_EXE_dnd"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&dir)
        .env("DND_APP_KEY", "k")
        .env("DND_APP_SECRET", "s")
        .env("DND_TIME_ZONE", "UTC")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let why = String::from_utf8_lossy(&refused.stderr);
    for part in [
        "the configuration says UTC",
        "the store keeps Asia/Shanghai",
        "dnd store set-zone",
    ] {
        assert!(why.contains(part), "{part} in {why}");
    }

    // No zone given: the store's, said in the log.
    let (child, client) = serve_on(&dir, &[], &[]);
    assert_eq!(client.post("/push/decide.json", LATE_PUSH).body, quiet);
    let logs = stop(child);
    assert!(
        logs.contains("no time zone configured") && logs.contains("Asia/Shanghai"),
        "{logs}"
    );

    // Moved to UTC: 23:30 +08:00 is 15:30 there, outside the period.
    let moved = Command::new(env!("CARGO_BIN_EXE_dnd"))
        .args(["store", "set-zone", "--data"])
        .arg(&dir)
        .arg("UTC")
        .output()
        .unwrap();
    assert!(moved.status.success(), "{}", String::from_utf8_lossy(&moved.stderr));
    let shown = Command::new(env!("CARGO_BIN_EXE_dnd"))
        .args(["store", "show", "--data"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&shown.stdout),
        "app k: time_zone UTC, app_defaults none, private_as_mention false, mention_all_max_members none, users 1\n"
    );
    let (child, client) = serve_on(&dir, &[], &[("DND_TIME_ZONE", "UTC")]);
    let pushes = client.post("/push/decide.json", LATE_PUSH).body;
    assert!(pushes.contains(r#""push":true"#), "{pushes}");
    stop(child);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_port_in_use_is_named_and_leaves_no_data_directory() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile_dir();
    let out = Command::new(env!("CARGO_BIN_EXE_dnd"))
        .args(["serve", "--listen", &addr, "--data"])
        .arg(&dir)
        .env("DND_APP_KEY", "k")
        .env("DND_APP_SECRET", "s")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let why = String::from_utf8_lossy(&out.stderr);
    assert!(why.contains(&addr), "{why}");
    assert!(!dir.exists(), "{} left behind", dir.display());
}

#[test]
fn a_refused_request_of_a_known_app_is_logged_under_its_key() {
    let dir = tempfile_dir();
    let (child, client) = serve_on(&dir, &["--time-zone", "UTC"], &[]);
    let headers = client.signed_with("reused", &dnd_testkit::client::now_secs().to_string());
    let path = "/user/blockPushPeriod/get.json";
    assert_eq!(client.send("POST", path, &headers, b"userId=u").status, 200);
    let again = client.send("POST", path, &headers, b"userId=u");
    assert_eq!(again.status, 400);
    let mut stranger = client.clone();
    stranger.key = "stranger".into();
    assert_eq!(stranger.post(path, "userId=u").status, 401);
    let logs = stop(child);
    let requests: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| l["fields"]["message"] == "request")
        .collect();
    let keys: Vec<(u64, &str)> = requests
        .iter()
        .map(|l| {
            (
                l["fields"]["code"].as_u64().unwrap(),
                l["fields"]["app_key"].as_str().unwrap(),
            )
        })
        .collect();
    // The reused nonce under its app's key; the unknown key is not written.
    assert_eq!(keys, [(200, "k"), (1002, "k"), (1001, "")]);
    assert!(!logs.contains("stranger"), "{logs}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn each_request_has_an_id_in_its_answer_and_its_log_lines_and_rust_log_sets_the_level() {
    let dir = tempfile_dir();
    let (child, client) = serve_on(&dir, &["--time-zone", "UTC"], &[]);
    let path = "/user/blockPushPeriod/get.json";
    let mine = client.send(
        "POST",
        path,
        &[client.signed(path), vec![("X-Request-Id".into(), "trace-42".into())]].concat(),
        b"userId=u",
    );
    assert_eq!(mine.header("dnd-request-id"), Some("trace-42"));
    let given = client.post(path, "userId=u");
    let id = given.header("dnd-request-id").expect("an id").to_owned();
    assert_eq!(id.len(), 16);
    let unknown = client.get("/nowhere");
    let unknown_id = unknown.header("dnd-request-id").expect("an id").to_owned();
    let logs = stop(child);
    let requests: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| l["fields"]["message"] == "request")
        .collect();
    let ids: Vec<&str> = requests
        .iter()
        .map(|l| l["span"]["request_id"].as_str().unwrap_or_else(|| panic!("{l}")))
        .collect();
    assert_eq!(ids, ["trace-42", id.as_str(), unknown_id.as_str()], "{logs}");

    // RUST_LOG=warn: the request lines (info) are not written.
    let (child, client) = serve_on(&dir, &["--time-zone", "UTC"], &[("RUST_LOG", "warn")]);
    assert_eq!(client.post(path, "userId=u").status, 200);
    let logs = stop(child);
    assert!(!logs.contains("\"request\""), "{logs}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn probe_succeeds_on_a_ready_service_and_fails_otherwise() {
    let dir = tempfile_dir();
    let (child, client) = serve_on(&dir, &["--time-zone", "UTC"], &[]);
    let probe = |url: &str| {
        Command::new(env!("CARGO_BIN_EXE_dnd"))
            .args(["probe", url])
            .output()
            .unwrap()
    };
    let ready = probe(&format!("http://{}/ready", client.addr));
    assert_eq!(
        ready.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ready.stderr)
    );
    let missing = probe(&format!("http://{}/nowhere", client.addr));
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("404"));
    stop(child);
    let gone = probe(&format!("http://{}/ready", client.addr));
    assert_eq!(gone.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&gone.stderr).starts_with("dnd probe: "));
    let _ = std::fs::remove_dir_all(&dir);
}

//! Every settings path of both generations through the real server, compared
//! byte for byte with the core answering the same requests in process (what
//! `dnd replay` prints), with the platform's HTTP statuses.

mod common;

use common::{config, TestServer};
use dnd_engine::{api_v4, Config, Response, Settings};
use dnd_server::service::status_for;

/// Requests in order: the nine form paths (good and bad), the v4 paths,
/// reads across generations, and unknown paths.
const REQUESTS: &[(&str, &str)] = &[
    (
        "/user/blockPushPeriod/set.json",
        "userId=u1&startTime=22:00:00&period=540&level=5",
    ),
    (
        "/user/blockPushPeriod/set.json",
        "userId=u2&startTime=23:00:00&period=60&level=1&timezone=Asia/Shanghai",
    ),
    (
        "/user/blockPushPeriod/set.json",
        "userId=u1&startTime=24:00:00&period=540&level=5",
    ),
    (
        "/user/blockPushPeriod/set.json",
        "userId=u1&startTime=22:00:00&period=540&level=3",
    ),
    ("/user/blockPushPeriod/get.json", "userId=u1"),
    ("/user/blockPushPeriod/get.json", "userId=u2"),
    ("/user/blockPushPeriod/get.json", "userId=nobody"),
    ("/user/blockPushPeriod/get.json", ""),
    ("/user/blockPushPeriod/delete.json", "userId=u2"),
    ("/user/blockPushPeriod/get.json", "userId=u2"),
    (
        "/conversation/notification/set.json",
        "conversationType=3&requestId=u1&targetId=g1&unpushLevel=1",
    ),
    (
        "/conversation/notification/set.json",
        "conversationType=10&requestId=u1&targetId=club&busChannel=news&unpushLevel=2",
    ),
    (
        "/conversation/notification/set.json",
        "conversationType=3&requestId=u1&targetId=g2&isMuted=1",
    ),
    (
        "/conversation/notification/set.json",
        "conversationType=3&requestId=u1&targetId=g1&busChannel=x&unpushLevel=1",
    ),
    (
        "/conversation/notification/set.json",
        "conversationType=3&requestId=u1&targetId=g1",
    ),
    (
        "/conversation/notification/get.json",
        "conversationType=3&requestId=u1&targetId=g1",
    ),
    (
        "/conversation/notification/get.json",
        "conversationType=3&requestId=u1&targetId=g2",
    ),
    (
        "/conversation/notification/get.json",
        "conversationType=10&requestId=u1&targetId=club&busChannel=news",
    ),
    (
        "/conversation/type/notification/set.json",
        "conversationType=1&requestId=u1&unpushLevel=-1",
    ),
    (
        "/conversation/type/notification/set.json",
        "conversationType=7&requestId=u1&unpushLevel=1",
    ),
    (
        "/conversation/type/notification/get.json",
        "conversationType=1&requestId=u1",
    ),
    ("/ultragroup/notdisturb/set.json", "groupId=club&unpushLevel=1"),
    (
        "/ultragroup/notdisturb/set.json",
        "groupId=club&busChannel=news&unpushLevel=4",
    ),
    (
        "/ultragroup/notdisturb/set.json",
        "groupId=club&busChannel=no-dash&unpushLevel=4",
    ),
    ("/ultragroup/notdisturb/get.json", "groupId=club"),
    ("/ultragroup/notdisturb/get.json", "groupId=club&busChannel=news"),
    // v4, and reads across the generations.
    (
        "/v4/channel/push/set",
        r#"{"channelType":"3","requestId":"u3","channelId":"g1","noDisturbLevel":5}"#,
    ),
    (
        "/v4/channel/push/set",
        r#"{"channelType":"10","requestId":"u3","channelId":"club","subchannelId":"news","noDisturbLevel":1}"#,
    ),
    (
        "/v4/channel/push/set",
        r#"{"channelType":"3","requestId":"u3","channelId":"g1","noDisturbLevel":3}"#,
    ),
    (
        "/v4/channel/push/get",
        r#"{"channelType":"3","requestId":"u3","channelId":"g1"}"#,
    ),
    (
        "/v4/channel/push/get",
        r#"{"channelType":"3","requestId":"u1","channelId":"g1"}"#,
    ),
    (
        "/v4/channel/push/get",
        r#"{"channelType":"10","requestId":"u1","channelId":"club","subchannelId":"news"}"#,
    ),
    (
        "/conversation/notification/get.json",
        "conversationType=3&requestId=u3&targetId=g1",
    ),
    (
        "/conversation/notification/get.json",
        "conversationType=10&requestId=u3&targetId=club&busChannel=news",
    ),
    (
        "/v4/channel-type/push/set",
        r#"{"channelType":"6","requestId":"u3","noDisturbLevel":2}"#,
    ),
    ("/v4/channel-type/push/set", r#"{"channelType":"6","requestId":"u3"}"#),
    ("/v4/channel-type/push/get", r#"{"channelType":"6","requestId":"u3"}"#),
    ("/v4/channel-type/push/get", r#"{"channelType":"1","requestId":"u1"}"#),
    (
        "/conversation/type/notification/get.json",
        "conversationType=6&requestId=u3",
    ),
    ("/v4/channel-type/push/get", "not json"),
    // Extension paths added to the core after the server: no server change.
    (
        "/user/snooze/set.json",
        "userId=u4&until=2030-01-01T00:00:00%2B08:00&level=5",
    ),
    ("/user/snooze/get.json", "userId=u4"),
    ("/user/snooze/set.json", "userId=u4&until=tomorrow"),
    ("/user/snooze/delete.json", "userId=u4"),
    ("/user/snooze/get.json", "userId=u4"),
    // Unknown paths: the core's 404, in each generation's shape.
    ("/no/such/path.json", "a=b"),
    ("/v4/no/such", "{}"),
];

fn reference(settings: &mut Settings, path: &str, body: &str) -> String {
    if api_v4::is_v4(path) {
        match api_v4::parse(path, body.as_bytes()) {
            Ok(r) => api_v4::to_json(&settings.apply(&r)),
            Err(e) => api_v4::to_json(&Response::from_error(&e)),
        }
    } else {
        settings.handle(path, body.as_bytes()).to_json()
    }
}

#[test]
fn every_path_of_both_generations_answers_as_the_core_does() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(), dir.path());
    let client = server.client();
    let mut settings = Settings::new(Config::new(chrono_tz::UTC));
    let mut codes = std::collections::BTreeSet::new();
    for (path, body) in REQUESTS {
        let expected = reference(&mut settings, path, body);
        if path.starts_with("/user/snooze/") && !body.contains("tomorrow") {
            assert!(
                expected.starts_with(r#"{"code":200"#),
                "the extension is served: {expected}"
            );
        }
        let answer = client.post(path, body);
        assert_eq!(answer.body, expected, "{path} {body}");
        let code: serde_json::Value = serde_json::from_str(&expected).unwrap();
        let code = code["code"].as_u64().unwrap() as u16;
        assert_eq!(answer.status, status_for(code).as_u16(), "{path} {body}");
        assert_eq!(answer.header("content-type"), Some("application/json"));
        codes.insert((code, answer.status));
    }
    // The mapping was exercised: success in both shapes, 1002 and 404.
    for pair in [(0, 200), (200, 200), (1002, 400), (404, 404)] {
        assert!(codes.contains(&pair), "{pair:?} in {codes:?}");
    }
    // Restarted on the same data, the gets answer the same.
    server.stop();
    let server = TestServer::start(config(), dir.path());
    let client = server.client();
    for (path, body) in REQUESTS
        .iter()
        .filter(|(p, _)| p.ends_with("get.json") || p.ends_with("/get"))
    {
        assert_eq!(
            client.post(path, body).body,
            reference(&mut settings, path, body),
            "{path}"
        );
    }
}

#[test]
fn operations_endpoints_answer_without_a_signature() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(), dir.path());
    let client = server.client();
    assert_eq!(client.get("/health").status, 200);
    let ready = client.get("/ready");
    assert_eq!((ready.status, ready.body.as_str()), (200, r#"{"status":"ready"}"#));
    client.post(
        "/conversation/type/notification/set.json",
        "conversationType=3&requestId=u&unpushLevel=5",
    );
    client.post("/nowhere", "");
    let metrics = client.get("/metrics");
    assert_eq!(metrics.status, 200);
    assert!(metrics.body.contains(
        "dnd_requests_total{app=\"test-key\",path=\"/conversation/type/notification/set.json\",status=\"200\",code=\"200\"} 1"
    ));
    assert!(metrics
        .body
        .contains("dnd_requests_total{app=\"test-key\",path=\"other\",status=\"404\",code=\"404\"} 1"));
    assert!(metrics.body.contains("dnd_request_duration_seconds_count"));
    // A settings path is a POST.
    let get = client.get("/user/blockPushPeriod/get.json");
    assert_eq!(get.status, 405);
    assert!(get.body.contains("1002"));
    assert_eq!(get.header("allow"), Some("POST"));
    // An operations path is a GET.
    let post = client.send("POST", "/health", &[], b"");
    assert_eq!((post.status, post.header("allow")), (405, Some("GET")));
    // A path the service does not have is not found, whatever the method.
    for method in ["GET", "PUT", "DELETE"] {
        let missing = client.send(method, "/nowhere", &[], b"");
        assert_eq!(missing.status, 404, "{method}");
    }
    assert!(client.get("/nowhere").body.starts_with(r#"{"code":404,"#));
}

#[test]
fn a_timestamp_out_of_the_window_names_the_unit_its_api_takes() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(), dir.path());
    let client = server.client();
    let secs = common::now_secs().to_string();
    // Seconds sent to the v4 API: 1970, far outside the window.
    let v4 = client.send(
        "POST",
        "/v4/channel-type/push/get",
        &client.signed_with(&common::nonce(), &secs),
        br#"{"channelType":"3","requestId":"u"}"#,
    );
    assert_eq!(v4.status, 400);
    assert!(v4.body.contains("the v4 API takes milliseconds"), "{}", v4.body);
    let millis = (common::now_secs() * 1000).to_string();
    let form = client.send(
        "POST",
        "/user/blockPushPeriod/get.json",
        &client.signed_with(&common::nonce(), &millis),
        b"userId=u",
    );
    assert_eq!(form.status, 400);
    assert!(form.body.contains("take seconds"), "{}", form.body);
}

/// The value of the sample `name` (its whole series text) in `text`.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
        .map(|v| v.trim().parse().unwrap())
}

#[test]
fn metrics_time_a_streamed_answer_to_its_end_and_report_the_stores() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(), dir.path());
    let client = server.client();
    client.post(
        "/user/blockPushPeriod/set.json",
        "userId=u1&startTime=22:00:00&period=540&level=5",
    );
    // A push whose answer is far over the first flush: the reader takes its time.
    let recipients: Vec<String> = (0..40_000).map(|i| format!("recipient-{i}")).collect();
    let push = format!(
        r#"{{"at":0,"conversationType":3,"targetId":"g","fromUserId":"s","recipients":{}}}"#,
        serde_json::to_string(&recipients).unwrap()
    );
    let mut s = std::net::TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(common::TIMEOUT)).unwrap();
    s.write_all(&client.keep_alive_request("/push/decide.json", &push, &[("Connection", "close".into())]))
        .unwrap();
    let mut first = [0u8; 1024];
    s.read_exact(&mut first).unwrap();
    let slow = std::time::Duration::from_millis(400);
    std::thread::sleep(slow);
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    assert!(rest.len() > 256 * 1024);
    // The answer's end is observed once the body is done; allow it a moment.
    let deadline = std::time::Instant::now() + common::TIMEOUT;
    let text = loop {
        let text = client.get("/metrics").body;
        if sample(&text, "dnd_request_duration_seconds_count{path=\"/push/decide.json\"}") == Some(1.0) {
            break text;
        }
        assert!(std::time::Instant::now() < deadline, "{text}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let took = sample(&text, "dnd_request_duration_seconds_sum{path=\"/push/decide.json\"}").unwrap();
    assert!(took >= slow.as_secs_f64(), "measured to the last byte: {took} s");
    for (name, at_least) in [
        ("dnd_users{app=\"test-key\"}", 1.0),
        ("dnd_log_bytes{app=\"test-key\"}", 1.0),
        ("dnd_snapshot_age_seconds{app=\"test-key\"}", 0.0),
        ("dnd_nonces_held", 2.0),
        ("dnd_nonces_max", 1_000_000.0),
        ("process_resident_memory_bytes", 1.0),
        ("process_open_fds", 1.0),
    ] {
        let value = sample(&text, name).unwrap_or_else(|| panic!("{name} in\n{text}"));
        assert!(value >= at_least, "{name} {value}");
    }
    assert!(
        text.contains(&format!(
            "dnd_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
}

//! Apps kept apart: two apps set the same keys to different values through
//! every settings path of both generations; each reads back only its own,
//! through every get path, the decide endpoint and the metrics, before and
//! after a restart; a third app that wrote nothing sees nothing.

mod common;

use common::{expected, Client, TestServer};
use dnd_engine::{api_v4, Config, Response, Settings};
use dnd_server::App;

const APPS: [(&str, &str); 3] = [
    ("alpha", "alpha-secret"),
    ("beta", "beta-secret"),
    ("gamma", "gamma-secret"),
];

fn config() -> dnd_server::Config {
    let mut c = dnd_server::Config::default();
    for (key, secret) in APPS {
        c.apps.push(App {
            key: key.into(),
            secret: secret.into(),
        });
    }
    c.time_zone = Some("Asia/Shanghai".into());
    c
}

fn client(server: &TestServer, app: usize) -> Client {
    let mut c = server.client();
    c.key = APPS[app].0.into();
    c.secret = APPS[app].1.into();
    c
}

/// Changes through every set path of both generations, the same users and
/// conversations for every app, with values that depend on `app`.
fn changes(app: usize) -> Vec<(&'static str, String)> {
    let level = [1, 5][app];
    let v4 = [2, 4][app];
    vec![
        (
            "/user/blockPushPeriod/set.json",
            format!("userId=alice&startTime=2{app}:00:00&period=540&level={level}"),
        ),
        (
            "/user/blockPushPeriod/set.json",
            format!("userId=erin&startTime=0{app}:30:00&period=60&level=1"),
        ),
        ("/user/blockPushPeriod/delete.json", ["userId=erin", "userId=nobody"][app].into()),
        (
            "/conversation/notification/set.json",
            format!("conversationType=10&requestId=bob&targetId=club&busChannel=news&unpushLevel={level}"),
        ),
        (
            "/conversation/type/notification/set.json",
            format!("conversationType=3&requestId=carol&unpushLevel={level}"),
        ),
        (
            "/ultragroup/notdisturb/set.json",
            format!("groupId=club&busChannel=news&unpushLevel={}", [4, 2][app]),
        ),
        (
            "/user/snooze/set.json",
            format!("userId=dave&until=2026-11-2{}T08:00:00%2B08:00", app + 3),
        ),
        (
            "/user/blockPushSchedule/set.json",
            format!(
                "userId=frank&windows=%5B%7B%22days%22%3A%5B{}%5D%2C%22startTime%22%3A%2222%3A00%3A00%22%2C%22period%22%3A600%2C%22level%22%3A5%7D%5D",
                app + 1
            ),
        ),
        ("/user/vip/set.json", format!("userId=alice&vipUserIds=%5B%22boss{app}%22%5D")),
        ("/user/urgent/set.json", format!("userId=bob&allow={}", 1 - app)),
        (
            "/v4/channel-type/push/set",
            format!(r#"{{"channelType":"1","requestId":"grace","noDisturbLevel":{v4}}}"#),
        ),
        (
            "/v4/channel/push/set",
            format!(r#"{{"channelType":"3","requestId":"grace","channelId":"g1","noDisturbLevel":{v4}}}"#),
        ),
    ]
}

/// A get through every get path of both generations.
fn gets() -> Vec<(&'static str, &'static str)> {
    vec![
        ("/user/blockPushPeriod/get.json", "userId=alice"),
        ("/user/blockPushPeriod/get.json", "userId=erin"),
        (
            "/conversation/notification/get.json",
            "conversationType=10&requestId=bob&targetId=club&busChannel=news",
        ),
        (
            "/conversation/type/notification/get.json",
            "conversationType=3&requestId=carol",
        ),
        ("/ultragroup/notdisturb/get.json", "groupId=club&busChannel=news"),
        ("/user/snooze/get.json", "userId=dave"),
        ("/user/blockPushSchedule/get.json", "userId=frank"),
        ("/user/vip/get.json", "userId=alice"),
        ("/user/urgent/get.json", "userId=bob"),
        (
            "/v4/channel-type/push/get",
            r#"{"channelType":"1","requestId":"grace"}"#,
        ),
        (
            "/v4/channel/push/get",
            r#"{"channelType":"3","requestId":"grace","channelId":"g1"}"#,
        ),
    ]
}

fn answer(settings: &mut Settings, path: &str, body: &str) -> String {
    if api_v4::is_v4(path) {
        match api_v4::parse(path, body.as_bytes()) {
            Ok(r) => api_v4::to_json(&settings.apply(&r)),
            Err(e) => api_v4::to_json(&Response::from_error(&e)),
        }
    } else {
        settings.handle(path, body.as_bytes()).to_json()
    }
}

const PUSHES: [&str; 3] = [
    r#"{"at":"2026-11-22T23:30:00+08:00","conversationType":10,"targetId":"club","busChannel":"news","fromUserId":"boss0","mentionedInfo":{"type":1},"recipients":["alice","bob","carol","dave","erin","frank","grace"]}"#,
    r#"{"at":"2026-11-23T01:00:00+08:00","conversationType":3,"targetId":"g1","fromUserId":"boss1","urgent":true,"recipients":["alice","bob","carol","dave","erin","frank","grace"]}"#,
    r#"{"at":"2026-11-24T06:00:00+08:00","conversationType":1,"targetId":"x","fromUserId":"zed","recipients":["alice","bob","carol","dave","erin","frank","grace"]}"#,
];

/// Every get and push answered for each app as its own settings answer.
fn check_every_path(server: &TestServer, references: &mut [Settings]) {
    for (path, body) in gets() {
        let answers: Vec<String> = (0..APPS.len())
            .map(|app| client(server, app).post(path, body).body)
            .collect();
        for (app, reference) in references.iter_mut().enumerate() {
            assert_eq!(
                answers[app],
                answer(reference, path, body),
                "{} {path} {body}",
                APPS[app].0
            );
        }
        assert_ne!(answers[0], answers[1], "{path} {body}: the two apps' values differ");
    }
    for push in PUSHES {
        let answers: Vec<String> = (0..APPS.len())
            .map(|app| client(server, app).post("/push/decide.json", push).body)
            .collect();
        for (app, reference) in references.iter().enumerate() {
            assert_eq!(answers[app], expected(reference, push, false), "{} {push}", APPS[app].0);
        }
        assert_ne!(answers[0], answers[1], "{push}");
    }
}

#[test]
fn two_apps_never_see_each_others_settings_on_any_path() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(), dir.path());
    let zone = dnd_engine::parse_zone("Asia/Shanghai").unwrap();
    let mut references: Vec<Settings> = (0..APPS.len()).map(|_| Settings::new(Config::new(zone))).collect();
    for (app, reference) in references.iter_mut().enumerate().take(2) {
        for (path, body) in changes(app) {
            let want = answer(reference, path, &body);
            assert!(
                want.starts_with(r#"{"code":200"#) || want.starts_with(r#"{"code":0"#),
                "{path} {body}: {want}"
            );
            assert_eq!(client(&server, app).post(path, &body).body, want, "{path} {body}");
        }
    }
    check_every_path(&server, &mut references);

    // The metrics count each app's requests and decisions under its key.
    let metrics = server.client().get("/metrics").body;
    for (key, _) in APPS {
        let line = format!(
            "dnd_requests_total{{app=\"{key}\",path=\"/push/decide.json\",status=\"200\",code=\"200\"}} {}",
            PUSHES.len()
        );
        assert!(metrics.contains(&line), "{line} in\n{metrics}");
    }
    let decided = |key: &str, layer: &str| {
        let prefix = format!("dnd_decisions_total{{app=\"{key}\",layer=\"{layer}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map_or(0, |n| n.parse::<u64>().unwrap())
    };
    // Only beta allows nothing urgent for bob; alpha's bob allows urgent.
    assert_eq!((decided("alpha", "urgent"), decided("beta", "urgent")), (1, 0));
    assert_eq!(decided("gamma", "urgent"), 0);

    // Each app's store is its own directory, and survives a restart apart.
    server.stop();
    for (key, _) in APPS {
        assert!(dir.path().join("apps").join(key).is_dir(), "{key}");
    }
    let server = TestServer::start(config(), dir.path());
    check_every_path(&server, &mut references);
}

#[test]
fn a_store_of_one_app_is_adopted_by_a_configuration_of_one_app_only() {
    let dir = tempfile::tempdir().unwrap();
    // A store of the single-app layout: the files at the top of the directory.
    let (mut log, _, _) = dnd_server::FileLog::open(dir.path(), Config::new(chrono_tz::UTC)).unwrap();
    let change = dnd_engine::Request::parse("/user/urgent/set.json", b"userId=u&allow=1").unwrap();
    dnd_server::ChangeLog::append(&mut log, &[&change]).unwrap();
    drop(log);
    let mut two = config();
    two.time_zone = None;
    let refused = TestServer::try_start(two, dir.path()).err().expect("refused");
    assert!(refused.contains("holds a store of one app"), "{refused}");
    let mut one = common::config();
    one.time_zone = None;
    let server = TestServer::start(one, dir.path());
    let got = server.client().post("/user/urgent/get.json", "userId=u");
    assert_eq!(got.body, r#"{"code":200,"data":{"allow":1}}"#);
    assert!(!dir.path().join("changes.log").exists());
}

#[test]
fn unsafe_or_clashing_app_keys_are_refused() {
    for keys in [&["../up"][..], &["a/b"], &[".hidden"], &["Key", "key"]] {
        let mut c = dnd_server::Config::default();
        for key in keys {
            c.apps.push(App {
                key: (*key).into(),
                secret: "s".into(),
            });
        }
        let why = c.engine_config().unwrap_err();
        assert!(
            why.contains("app key") || why.contains("given twice"),
            "{keys:?}: {why}"
        );
    }
}

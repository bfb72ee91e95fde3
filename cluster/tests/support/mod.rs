//! Shared by the cluster tests: a generated world of requests and pushes,
//! the reference's decision lines, and shards in this process.
#![allow(dead_code)]

use dnd_engine::push::Push;
use dnd_engine::shard::{Layout, ShardId};
use dnd_engine::{Config, Settings};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};

pub const ZONE: &str = "Asia/Shanghai";

/// A user id: mostly plain, every 13th with characters no subject may hold.
pub fn user(i: u32) -> String {
    if i.is_multiple_of(13) {
        format!("u.{i} *>")
    } else {
        format!("u{i}")
    }
}

/// `count` settings requests as (path, form body), over `users` users, 50
/// groups and 10 ultra groups with 3 subchannels each.
pub fn world(seed: u64, count: usize, users: u32) -> Vec<(&'static str, String)> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let levels = [-1, 0, 1, 2, 4, 5];
    (0..count)
        .map(|_| {
            let u = enc(&user(rng.gen_range(0..users)));
            let level = levels[rng.gen_range(0..levels.len())];
            match rng.gen_range(0..100) {
                0..=24 => {
                    let zone = if rng.gen_bool(0.2) {
                        "&timezone=America%2FNew_York"
                    } else {
                        ""
                    };
                    let body = format!(
                        "userId={u}&startTime={:02}:{:02}:00&period={}&level={}{zone}",
                        rng.gen_range(0..24),
                        rng.gen_range(0..60),
                        rng.gen_range(0..1440),
                        if rng.gen_bool(0.5) { 1 } else { 5 }
                    );
                    ("/user/blockPushPeriod/set.json", body)
                }
                25..=29 => ("/user/blockPushPeriod/delete.json", format!("userId={u}")),
                30..=69 => {
                    let (t, target) = match rng.gen_range(0..4) {
                        0 => (1, user(rng.gen_range(0..users))),
                        1 => (3, format!("g{}", rng.gen_range(0..50))),
                        2 => (6, "system".to_owned()),
                        _ => (10, format!("ug{}", rng.gen_range(0..10))),
                    };
                    let bus = if t == 10 && rng.gen_bool(0.5) {
                        format!("&busChannel=c{}", rng.gen_range(0..3))
                    } else {
                        String::new()
                    };
                    let body = format!(
                        "conversationType={t}&requestId={u}&targetId={}{bus}&unpushLevel={level}",
                        enc(&target)
                    );
                    ("/conversation/notification/set.json", body)
                }
                70..=97 => {
                    let t = [1, 3, 6, 10][rng.gen_range(0..4)];
                    (
                        "/conversation/type/notification/set.json",
                        format!("conversationType={t}&requestId={u}&unpushLevel={level}"),
                    )
                }
                _ => {
                    let bus = if rng.gen_bool(0.5) {
                        format!("&busChannel=c{}", rng.gen_range(0..3))
                    } else {
                        String::new()
                    };
                    (
                        "/ultragroup/notdisturb/set.json",
                        format!("groupId=ug{}{bus}&unpushLevel={level}", rng.gen_range(0..10)),
                    )
                }
            }
        })
        .collect()
}

/// Push objects (without recipients) at different times of day.
pub fn pushes() -> Vec<Map<String, Value>> {
    let push = |v: Value| v.as_object().cloned().expect("an object");
    vec![
        push(
            serde_json::json!({"at": "2026-11-22T23:30:00+08:00", "conversationType": 10, "targetId": "ug1", "busChannel": "c1", "fromUserId": "u5", "mentionedInfo": {"type": 1}}),
        ),
        push(
            serde_json::json!({"at": 1_790_000_000_000i64, "conversationType": 10, "targetId": "ug2", "fromUserId": "u6"}),
        ),
        push(
            serde_json::json!({"at": "2026-11-23T09:00:00+08:00", "conversationType": 3, "targetId": "g7", "fromUserId": "u7", "mentionedInfo": {"type": 2, "userIdList": ["u1", "u2", "u3"]}}),
        ),
        push(
            serde_json::json!({"at": "2026-11-23T03:15:00+08:00", "conversationType": 1, "targetId": "u9", "fromUserId": "u9"}),
        ),
        push(
            serde_json::json!({"at": "2026-11-23T12:00:00Z", "conversationType": 6, "targetId": "system", "fromUserId": "admin"}),
        ),
    ]
}

/// The reference: one `Settings` fed the requests in stream order.
pub fn reference(requests: &[(&str, String)], seqs: &[u64]) -> Settings {
    let mut order: Vec<usize> = (0..requests.len()).collect();
    order.sort_by_key(|&i| seqs[i]);
    let mut settings = Settings::new(Config::new(dnd_engine::parse_zone(ZONE).unwrap()));
    for i in order {
        let (path, body) = &requests[i];
        assert_eq!(settings.handle(path, body.as_bytes()).code(), 200, "{path} {body}");
    }
    settings
}

/// The decision lines the reference writes for `message` and each recipient.
pub fn expected(settings: &Settings, message: &Map<String, Value>, recipients: &[String]) -> Vec<String> {
    let mut push = message.clone();
    push.insert("recipients".into(), Value::Array(Vec::new()));
    let push: Push = serde_json::from_value(Value::Object(push)).unwrap();
    let mentioned = push.mentioned_ids();
    let message = push.message(&mentioned).unwrap();
    let prepared = settings.prepare(&message);
    recipients
        .iter()
        .map(|r| {
            let mut line = Vec::new();
            dnd_server::decide::decision_line(&prepared, r, false, &mut line);
            String::from_utf8(line).unwrap()
        })
        .collect()
}

/// Shard `index` of `layout` in this process, until the handle is aborted.
pub fn shard(client: &async_nats::Client, layout: Layout, index: u16) -> tokio::task::JoinHandle<()> {
    let cfg = dnd_cluster::worker::ShardConfig {
        layout,
        shard: ShardId(index),
        config: Config::new(dnd_engine::parse_zone(ZONE).unwrap()),
        snapshot_every: 1_000_000,
    };
    let client = client.clone();
    tokio::spawn(async move {
        if let Err(e) = dnd_cluster::worker::run(client, cfg, std::future::pending()).await {
            eprintln!("shard {index} stopped: {e}");
        }
    })
}

/// A fresh directory for a server's store.
pub fn dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

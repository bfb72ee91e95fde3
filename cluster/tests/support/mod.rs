//! Shared by the cluster tests: a generated world of requests and pushes,
//! the processes of a cluster, and a client that signs nothing but names
//! its writes, as an SDK retrying with the same id does.
#![allow(dead_code)]

use std::process::{Child, Command};
use std::time::Duration;

use async_nats::{Client, HeaderMap};
use dnd_cluster::api::API_SUBJECT;
use dnd_cluster::wire::{self, Progress, Verdict};
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

/// What the reference decides for `message` and each recipient.
pub fn expected(settings: &Settings, message: &Map<String, Value>, recipients: &[String]) -> Vec<Verdict> {
    let mut push = message.clone();
    push.insert("recipients".into(), Value::Array(Vec::new()));
    let push: Push = serde_json::from_value(Value::Object(push)).unwrap();
    let mentioned = push.mentioned_ids();
    let message = push.message(&mentioned).unwrap();
    let prepared = settings.prepare(&message);
    recipients
        .iter()
        .map(|r| Verdict::from(prepared.decide_id(r)))
        .collect()
}

/// A process of the cluster, killed (SIGKILL) when dropped.
pub struct Node(pub Child);

impl Node {
    pub fn shard(url: &str, layout: Layout, shard: u16, snapshot_every: u64) -> Node {
        let mut c = Command::new(env!("CARGO_BIN_EXE_dnd-cluster"));
        c.args([
            "shard",
            "--nats",
            url,
            "--shards",
            &layout.shards().to_string(),
            "--index",
            &shard.to_string(),
        ]);
        c.args(["--time-zone", ZONE, "--snapshot-every", &snapshot_every.to_string()]);
        Node(c.spawn().expect("start a shard"))
    }

    pub fn api(url: &str, layout: Layout) -> Node {
        let mut c = Command::new(env!("CARGO_BIN_EXE_dnd-cluster"));
        c.args(["api", "--nats", url, "--shards", &layout.shards().to_string()]);
        Node(c.spawn().expect("start an API node"))
    }

    /// kill -9, and reap.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A client's answer: the response JSON, the write's sequence, whether it
/// was a duplicate.
#[derive(Debug, Clone)]
pub struct Answer {
    pub response: String,
    pub seq: Option<u64>,
    pub duplicate: bool,
}

/// Sends one request to the API node, with a deadline.
pub async fn send(
    client: &Client,
    path: &str,
    body: &str,
    id: Option<&str>,
    after: u64,
    deadline: Duration,
) -> Result<Answer, String> {
    let mut headers = HeaderMap::new();
    headers.insert("Dnd-Path", path);
    headers.insert("Dnd-After", after.to_string().as_str());
    if let Some(id) = id {
        headers.insert("Dnd-Id", id);
    }
    let request = client.request_with_headers(API_SUBJECT, headers, body.to_owned().into());
    let m = match tokio::time::timeout(deadline, request).await {
        Ok(Ok(m)) => m,
        Ok(Err(e)) => return Err(e.to_string()),
        Err(_) => return Err("timed out".into()),
    };
    let header = |name: &str| {
        m.headers
            .as_ref()
            .and_then(|h| h.get(name))
            .map(|v| v.as_str().to_owned())
    };
    Ok(Answer {
        response: String::from_utf8_lossy(&m.payload).into_owned(),
        seq: header("Dnd-Seq").map(|s| s.parse().unwrap()),
        duplicate: header("Dnd-Duplicate").as_deref() == Some("true"),
    })
}

/// Waits until a shard answers its progress, for up to `deadline`.
pub async fn progress(client: &Client, layout: Layout, shard: u16, deadline: Duration) -> Progress {
    let until = tokio::time::Instant::now() + deadline;
    loop {
        let ask = client.request(wire::progress_subject(layout, ShardId(shard)), "".into());
        if let Ok(Ok(m)) = tokio::time::timeout(Duration::from_secs(1), ask).await {
            return serde_json::from_slice(&m.payload).unwrap();
        }
        assert!(
            tokio::time::Instant::now() < until,
            "shard {shard} did not answer within {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A fresh directory for a server's store.
pub fn dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

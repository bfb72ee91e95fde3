//! Held pushes through the processes (`dnd cluster shard` ×3 releasing
//! every 100 ms, `dnd serve --cluster`), over signed HTTP: a shard killed
//! -9 twice while pushes are held and digests released loses no held item
//! and releases none twice, and a consumer reading `POST
//! /push/released.json` page by page from its cursor reads every digest
//! once.

use std::collections::HashSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

use dnd_cluster::nats_server::NatsServer;
use dnd_testkit::client::{Client, KEY, SECRET};
use dnd_testkit::world::user;
use serde_json::Value;

use super::procs::*;

/// Shard `index`, evaluating its held items every 100 ms and snapshotting
/// every 5 entries.
fn releasing_shard(url: &str, config: &std::path::Path, index: u16) -> Proc {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_dnd"));
    c.env("DND_APP_KEY", KEY)
        .env("DND_APP_SECRET", SECRET)
        .stderr(Stdio::null());
    c.args(["cluster", "shard", "--nats", url, "--shards", &SHARDS.to_string()])
        .args([
            "--index",
            &index.to_string(),
            "--snapshot-every",
            "5",
            "--release-every",
            "100",
        ])
        .arg("--config")
        .arg(config);
    Proc(c.spawn().expect("a shard"))
}

#[test]
fn held_pushes_survive_kill_9_of_a_shard_and_are_read_once_by_cursor() {
    dnd_testkit::nats::ensure();
    let dir = tempfile::tempdir().unwrap();
    let server = NatsServer::start(dir.path()).expect("nats-server");
    let config = config_file(dir.path());
    let (_api, addr) = api(server.url(), &config);
    let mut shards: Vec<Proc> = (0..SHARDS).map(|s| releasing_shard(server.url(), &config, s)).collect();
    let client = Client::new(addr);
    // A quiet hour 12 hours (+08:00, the zone of the config) from the hour
    // of this run: the pushes of 2026-11-22 in it are held, and due at once.
    let hour = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 3600;
    let quiet = (hour + 8 + 12) % 24;
    let users: Vec<String> = (1..40).filter(|i| i % 13 != 0).map(user).collect();
    for u in &users {
        let body = format!("userId={u}&startTime={quiet:02}:00:00&period=60&level=5");
        let a = client.post("/user/blockPushPeriod/set.json", &body);
        assert_eq!((a.status, a.body.as_str()), (200, r#"{"code":200}"#));
    }
    let mut held = 0;
    for step in 0..30u64 {
        if step == 10 || step == 20 {
            shards[1].kill();
            shards[1] = releasing_shard(server.url(), &config, 1);
        }
        let at = 1_795_276_800_000 + quiet * 3_600_000 + 600_000 + step * 10_000;
        let recipients: Vec<&String> = users.iter().skip(step as usize % 3).step_by(2).collect();
        let push = format!(
            r#"{{"at":{at},"conversationType":3,"targetId":"g7","fromUserId":"s","hold":true,"messageId":"m{step}","recipients":{}}}"#,
            serde_json::to_string(&recipients).unwrap()
        );
        let a = client.post("/push/decide.json", &push);
        assert_eq!(a.status, 200, "{}", a.body);
        held += a.body.matches("\"held\":true").count();
    }
    assert!(held >= 200, "{held} held");
    let (mut cursor, mut items, mut ids) = (0u64, 0usize, Vec::new());
    let deadline = Instant::now() + Duration::from_secs(60);
    while items < held && Instant::now() < deadline {
        let a = client.post("/push/released.json", &format!("after={cursor}&limit=7&wait=2"));
        assert_eq!(a.status, 200, "{}", a.body);
        let page: Value = serde_json::from_str(&a.body).unwrap();
        for d in page["digests"].as_array().unwrap() {
            let c = d["cursor"].as_u64().unwrap();
            assert!(c > cursor, "in order of cursor");
            cursor = c;
            ids.push(d["id"].as_str().unwrap().to_owned());
            items += d["conversations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["count"].as_u64().unwrap() as usize)
                .sum::<usize>();
        }
        assert_eq!(page["cursor"].as_u64(), Some(cursor));
    }
    assert_eq!(items, held, "every held item in one digest read, none twice");
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "no digest twice");
}

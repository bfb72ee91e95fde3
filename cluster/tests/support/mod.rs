//! Shared by the cluster tests: the generated world of requests and pushes
//! (`dnd_testkit::world`, the one the CLI's cluster tests use too), the
//! reference's decision lines, and shards in this process.
// Each test binary uses a part of it.
#![allow(dead_code, unused_imports)]

use dnd_engine::push::{DecisionLine, Push};
use dnd_engine::shard::{Layout, ShardId};
use dnd_engine::{Config, Settings};
pub use dnd_testkit::world::{reference, user, world, ZONE};
use serde_json::{Map, Value};

/// The world's push objects (without recipients), as JSON objects.
pub fn pushes() -> Vec<Map<String, Value>> {
    dnd_testkit::world::pushes()
        .into_iter()
        .map(|fields| serde_json::from_str(&format!("{{{fields}}}")).expect("an object"))
        .collect()
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
            DecisionLine::decide(&prepared, r).write_to(&mut line).unwrap();
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
    dnd_testkit::nats::ensure();
    tempfile::tempdir().unwrap()
}

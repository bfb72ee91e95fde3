//! Shared by the cluster tests: the generated world of requests and pushes
//! (`dnd_testkit::world`, the one the CLI's cluster tests use too), the
//! reference's decision lines, and shards in this process.
// Each test binary uses a part of it.
#![allow(dead_code, unused_imports)]

pub mod held;
pub mod proxy;

use dnd_engine::push::{DecisionLine, Push};
use dnd_engine::shard::{Layout, ShardId};
use dnd_engine::{Config, Settings};
pub use dnd_testkit::world::{gets, reference, user, world, ZONE};
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

/// The app of the tests that have one.
pub fn app() -> dnd_cluster::space::Space {
    dnd_cluster::space::Space::app("app")
}

/// Shard `index` of `layout` in this process, for every app, until the
/// handle is aborted.
pub fn shard(client: &async_nats::Client, layout: Layout, index: u16) -> tokio::task::JoinHandle<()> {
    shard_every(client, layout, index, 1_000_000)
}

/// As [`shard`], snapshotting every `snapshot_every` entries.
pub fn shard_every(
    client: &async_nats::Client,
    layout: Layout,
    index: u16,
    snapshot_every: u64,
) -> tokio::task::JoinHandle<()> {
    let process = dnd_cluster::apps::ShardProcess {
        layout,
        shard: ShardId(index),
        replica: 0,
        config: Config::new(dnd_engine::parse_zone(ZONE).unwrap()),
        snapshot_every,
        release_every: dnd_cluster::holding::DEFAULT_RELEASE_EVERY,
        detail_limit: dnd_engine::DEFAULT_DETAIL_LIMIT,
    };
    let client = client.clone();
    tokio::spawn(async move {
        if let Err(e) = dnd_cluster::apps::run(client, process, std::future::pending()).await {
            eprintln!("shard {index} stopped: {e}");
        }
    })
}

/// A fresh directory for a server's store.
pub fn dir() -> tempfile::TempDir {
    dnd_testkit::nats::ensure();
    tempfile::tempdir().unwrap()
}

/// The progress of `shard` of `layout`, once it answers and `done` holds of
/// it (within 60 s).
pub async fn progress_until(
    client: &async_nats::Client,
    layout: Layout,
    shard: u16,
    mut done: impl FnMut(&dnd_cluster::wire::Progress) -> bool,
) -> dnd_cluster::wire::Progress {
    let subject = app().progress_subject(layout, ShardId(shard));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let answer = tokio::time::timeout(
            std::time::Duration::from_secs(1),
            client.request(subject.clone(), "".into()),
        )
        .await;
        if let Ok(Ok(answer)) = answer {
            let p: dnd_cluster::wire::Progress = serde_json::from_slice(&answer.payload).unwrap();
            if done(&p) {
                return p;
            }
        }
        assert!(std::time::Instant::now() < deadline, "shard {shard}: not within 60 s");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A client that reconnects for as long as it takes (a restarted server).
pub async fn connect(url: &str) -> async_nats::Client {
    async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(url)
        .await
        .unwrap()
}

/// The stream's (first sequence, last sequence, messages).
pub async fn stream_state(client: &async_nats::Client) -> (u64, u64, u64) {
    let js = async_nats::jetstream::new(client.clone());
    let mut stream = js.get_stream(app().stream()).await.unwrap();
    let state = stream.info().await.unwrap().state.clone();
    (state.first_sequence, state.last_sequence, state.messages)
}

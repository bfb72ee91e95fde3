//! Held pushes in shards: shards in this process that can be killed,
//! release records as a shard's clock appends them, the released stream
//! read back, and users quiet for an hour whatever the time of the run.

use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage};
use dnd_cluster::api::Api;
use dnd_cluster::holding::{ENTRY_HEADER, RELEASE};
use dnd_cluster::released::{self, ReadDigest};
use dnd_engine::shard::{Layout, ShardId};
use dnd_engine::{Config, Request};
use dnd_server::backend::Generation;
use serde_json::{Map, Value};

use super::{app, connect, pushes, user, ZONE};

/// Shard `index` of `layout` in this process on a connection of its own,
/// evaluating its held items every `release_every` (zero: only at the
/// release records the test appends), until the handle is aborted.
pub fn holding_shard(
    url: &str,
    layout: Layout,
    index: u16,
    snapshot_every: u64,
    release_every: Duration,
) -> tokio::task::JoinHandle<()> {
    let process = dnd_cluster::apps::ShardProcess {
        layout,
        shard: ShardId(index),
        replica: 0,
        config: Config::new(dnd_engine::parse_zone(ZONE).unwrap()),
        snapshot_every,
        release_every,
        detail_limit: dnd_engine::DEFAULT_DETAIL_LIMIT,
    };
    let url = url.to_owned();
    tokio::spawn(async move {
        let client = connect(&url).await;
        if let Err(e) = dnd_cluster::apps::run(client, process, std::future::pending()).await {
            eprintln!("shard {index} stopped: {e}");
        }
    })
}

/// A shard on a runtime of its own: killing it drops every task of it
/// (its worker, its appends in flight, its connection) wherever each is,
/// with no snapshot, as a killed process would.
pub struct Killable(Option<tokio::runtime::Runtime>);

impl Killable {
    pub fn start(url: &str, layout: Layout, index: u16, snapshot_every: u64, release_every: Duration) -> Killable {
        Killable::replica(url, layout, index, 0, snapshot_every, release_every)
    }

    pub fn replica(
        url: &str,
        layout: Layout,
        index: u16,
        replica: u16,
        snapshot_every: u64,
        release_every: Duration,
    ) -> Killable {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let process = dnd_cluster::apps::ShardProcess {
            layout,
            shard: ShardId(index),
            replica,
            config: Config::new(dnd_engine::parse_zone(ZONE).unwrap()),
            snapshot_every,
            release_every,
            detail_limit: dnd_engine::DEFAULT_DETAIL_LIMIT,
        };
        let url = url.to_owned();
        runtime.spawn(async move {
            let client = connect(&url).await;
            if let Err(e) = dnd_cluster::apps::run(client, process, std::future::pending()).await {
                eprintln!("shard {index} stopped: {e}");
            }
        });
        Killable(Some(runtime))
    }

    pub fn kill(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for Killable {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Appends a release record at `at` for every shard of `layout`, as a
/// shard's clock does: each shard's record's sequence.
pub async fn release_at(js: &jetstream::Context, layout: Layout, at: i64) -> Vec<u64> {
    let mut seqs = Vec::new();
    for shard in layout.all() {
        let m = PublishMessage::build()
            .payload(serde_json::to_vec(&serde_json::json!({ "at": at })).unwrap().into())
            .header(ENTRY_HEADER, RELEASE);
        let ack = js
            .send_publish(app().mark_subject(layout, shard), m)
            .await
            .unwrap()
            .await
            .unwrap();
        seqs.push(ack.sequence);
    }
    seqs
}

/// Every digest of the app's released stream, in stream order.
pub async fn all_released(client: &async_nats::Client) -> Vec<ReadDigest> {
    let js = dnd_cluster::log::context(client.clone());
    let stream = released::open(&js, &app(), 1, released::Keep::default()).await.unwrap();
    let mut out: Vec<ReadDigest> = Vec::new();
    loop {
        let after = out.last().map_or(0, |d| d.cursor);
        let got = released::read(client, &stream, &app(), after, 500, Duration::ZERO)
            .await
            .unwrap();
        if got.is_empty() {
            return out;
        }
        out.extend(got);
    }
}

/// Thirty users quiet for an hour 12 hours (in the world's zone, +08:00)
/// from the hour of this run: pushes of 2026-11-22 in it are held, and due
/// at once at any evaluation now, whatever the time of day of the run.
/// The users and the hour.
pub async fn quiet_hour(api: &Api) -> (Vec<String>, u64) {
    let users: Vec<String> = (0..30).map(user).collect();
    let now_hour = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 3600;
    let quiet = (now_hour + 8 + 12) % 24;
    for (i, u) in users.iter().enumerate() {
        let body = format!("userId={}&startTime={quiet:02}:00:00&period=60&level=5", urlencode(u));
        let request = Request::parse("/user/blockPushPeriod/set.json", body.as_bytes()).unwrap();
        api.append(&request, Generation::Form, &format!("p{i}")).await.unwrap();
    }
    (users, quiet)
}

/// The fields of hold push `step` (10 s apart), in the quiet hour.
pub fn quiet_push(quiet: u64, step: i64) -> Map<String, Value> {
    let mut fields = pushes()[2].clone();
    // 2026-11-22, 10 minutes into the quiet hour, and on.
    let at = 1_795_276_800_000_i64 + quiet as i64 * 3_600_000 + 600_000 + step * 10_000;
    fields.insert("at".into(), Value::from(at));
    fields.insert("hold".into(), Value::Bool(true));
    fields.insert("messageId".into(), Value::String(format!("m{step}")));
    fields
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

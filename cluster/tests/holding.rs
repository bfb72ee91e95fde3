//! Held pushes over shards against a real nats-server: N shards hold and
//! release exactly what one `Settings` and one `Held` fed the same
//! operations do, and a shard keeps its held items in its snapshot.

mod support;

use std::time::Duration;

use dnd_cluster::api::Api;
use dnd_engine::push::{DecisionLine, Push};
use dnd_engine::shard::{Layout, ShardId};
use dnd_engine::{Config, Held, Request, Settings};
use dnd_server::backend::Generation;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};
use support::held::*;
use support::*;

const USERS: u32 = 40;

/// The single node: the same requests, holds and releases, in the same order.
struct OneNode {
    settings: Settings,
    held: Held,
}

impl OneNode {
    fn new() -> OneNode {
        OneNode {
            settings: Settings::new(Config::new(dnd_engine::parse_zone(ZONE).unwrap())),
            held: Held::new(),
        }
    }

    /// The decision lines of `push` (held flags included), holding as it asks.
    fn push(&mut self, fields: &Map<String, Value>, recipients: &[String]) -> Vec<String> {
        let mut object = fields.clone();
        object.insert(
            "recipients".into(),
            recipients.iter().cloned().map(Value::String).collect(),
        );
        let push: Push = serde_json::from_value(Value::Object(object)).unwrap();
        let mentioned = push.mentioned_ids();
        let message = push.message(&mentioned).unwrap();
        let repeaters = self.held.repeaters(&self.settings, &message);
        let prepared = repeaters.prepare(&self.settings, &message);
        let holdings = if message.hold {
            self.held
                .hold(
                    &prepared,
                    recipients.iter().map(|r| (r.as_str(), prepared.decide_id(r))),
                )
                .unwrap()
        } else {
            Vec::new()
        };
        recipients
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let held = holdings.get(i).is_some_and(|h| h.is_held());
                let mut line = Vec::new();
                DecisionLine::decide(&prepared, r)
                    .with_held(held)
                    .write_to(&mut line)
                    .unwrap();
                String::from_utf8(line).unwrap()
            })
            .collect()
    }
}

/// Sorted by `at`, then `userId`, then the JSON: the digests as a multiset.
fn sorted(mut digests: Vec<Value>) -> Vec<Value> {
    digests.sort_by_key(|d| (d["at"].as_i64(), d["userId"].as_str().map(str::to_owned), d.to_string()));
    digests
}

/// Random worlds: writes, pushes that hold (and some that do not, read
/// through the repeat layer), and a clock stepped through a week with
/// releases between (every shard's at the same instant); then a release
/// 8 days on. The decision lines of every push, held flags included, and
/// the digests released by three shards (read back from the released
/// stream) equal those of one `Settings` and one `Held` given the same
/// operations in the same order; every item is released or dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_shards_release_exactly_the_digests_of_one_node() {
    let dir = dir();
    let server = dnd_cluster::nats_server::NatsServer::start(dir.path()).expect("nats-server");
    let client = connect(server.url()).await;
    let layout = Layout::new(3).unwrap();
    let api = Api::new(client.clone(), app(), layout, 1).await.unwrap();
    let js = dnd_cluster::log::context(client.clone());
    let _shards: Vec<_> = (0..3)
        .map(|i| holding_shard(server.url(), layout, i, 25, Duration::ZERO))
        .collect();
    let mut one = OneNode::new();
    let mut rng = SmallRng::seed_from_u64(24);
    let mut writes = 0;
    let mut write = |one: &mut OneNode, path: &'static str, body: String| {
        writes += 1;
        assert_eq!(one.settings.handle(path, body.as_bytes()).code(), 200, "{path} {body}");
        let request = Request::parse(path, body.as_bytes()).unwrap();
        let api = api.clone();
        async move {
            api.append(&request, Generation::of(path), &format!("w{writes}"))
                .await
                .unwrap();
        }
    };
    for (path, body) in world(5, 250, USERS) {
        write(&mut one, path, body).await;
    }
    let more = world(6, 400, USERS);
    let mut more = more.into_iter();
    let pushes = pushes();
    // 2026-11-22T20:00:00+08:00.
    let mut clock: i64 = 1_795_348_800_000;
    let mut held_lines = 0;
    let mut releases = 0;
    let mut expected: Vec<Value> = Vec::new();
    for step in 0..60 {
        match rng.gen_range(0..10) {
            0..=4 => {
                let mut fields = pushes[rng.gen_range(0..pushes.len())].clone();
                let at = clock + rng.gen_range(-3 * 3_600_000..3_600_000);
                fields.insert("at".into(), Value::from(at));
                let hold = rng.gen_bool(0.8);
                if hold {
                    fields.insert("hold".into(), Value::Bool(true));
                    fields.insert("messageId".into(), Value::String(format!("m{step}")));
                }
                let mut recipients: Vec<String> = (0..USERS).filter(|_| rng.gen_bool(0.4)).map(user).collect();
                if recipients.is_empty() {
                    recipients.push(user(1));
                }
                let expected = one.push(&fields, &recipients);
                held_lines += expected.iter().filter(|l| l.contains("\"held\":true")).count();
                let got = api.decide_chunk(&fields, &recipients, false, 0).await.unwrap();
                let got: Vec<String> = got.into_iter().map(|r| r.json).collect();
                assert_eq!(got, expected, "step {step}: the decisions of push {fields:?}");
            }
            5..=7 => {
                for _ in 0..rng.gen_range(1..6) {
                    let (path, body) = more.next().unwrap();
                    write(&mut one, path, body).await;
                }
            }
            _ => {
                clock += rng.gen_range(600_000..12 * 3_600_000);
                release_at(&js, layout, clock).await;
                let release = one
                    .held
                    .release(&one.settings, dnd_engine::Timestamp::from_millis(clock).unwrap());
                expected.extend(release.digests.iter().map(|d| serde_json::to_value(d).unwrap()));
                releases += 1;
            }
        }
    }
    clock += 8 * 24 * 3_600_000;
    let last = release_at(&js, layout, clock).await;
    let end = one
        .held
        .release(&one.settings, dnd_engine::Timestamp::from_millis(clock).unwrap());
    expected.extend(end.digests.iter().map(|d| serde_json::to_value(d).unwrap()));
    assert!(one.held.is_empty(), "everything is released or dropped a week on");
    for shard in 0..3 {
        progress_until(&client, layout, shard, |p| p.applied >= last[usize::from(shard)]).await;
    }
    let got = all_released(&client).await;
    // Each digest under its stable id; the id of a first digest of one
    // recipient and instant is `{at}-{userId}`.
    let got: Vec<Value> = got
        .into_iter()
        .map(|d| {
            let mut v: Value = serde_json::from_str(&d.json).unwrap();
            let id = v.as_object_mut().unwrap().remove("id").unwrap();
            assert!(
                id.as_str()
                    .unwrap()
                    .starts_with(&format!("{}-{}", v["at"], v["userId"].as_str().unwrap())),
                "{id} {v}"
            );
            v
        })
        .collect();
    let items: u64 = expected
        .iter()
        .flat_map(|d| d["conversations"].as_array().unwrap())
        .map(|c| c["count"].as_u64().unwrap())
        .sum();
    eprintln!(
        "{held_lines} held decisions, {releases} releases, {} digests of {items} items, {} dropped",
        expected.len(),
        one.held.dropped()
    );
    assert!(expected.len() >= 20 && releases >= 5, "a world that holds and releases");
    assert_eq!(
        items + one.held.dropped(),
        held_lines as u64,
        "every held item is released or dropped"
    );
    assert_eq!(sorted(got), sorted(expected));
}

/// A shard's snapshot keeps its held items (format 3): after held pushes
/// (a snapshot after every entry), the snapshot restores every item; the
/// shard killed and started again restores it, and a release then
/// releases every item once. A change of layout meanwhile is refused (held
/// items are not split by partition).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_keeps_its_held_items_in_its_snapshot() {
    let dir = dir();
    let server = dnd_cluster::nats_server::NatsServer::start(dir.path()).expect("nats-server");
    let client = connect(server.url()).await;
    let layout = Layout::new(1).unwrap();
    let api = Api::new(client.clone(), app(), layout, 1).await.unwrap();
    let (users, quiet) = quiet_hour(&api).await;
    let mut shard = Killable::start(server.url(), layout, 0, 1, Duration::ZERO);
    let mut held = 0;
    for step in 0..6 {
        let lines = api
            .decide_chunk(&quiet_push(quiet, step), &users, false, 0)
            .await
            .unwrap();
        held += lines.iter().filter(|l| l.json.contains("\"held\":true")).count();
    }
    assert!(held > 100, "{held}");
    // A snapshot after every entry: the one after the last hold record has them all.
    let js = dnd_cluster::log::context(client.clone());
    let store = dnd_cluster::worker::snapshot_store(&js, 1).await.unwrap();
    let name = app().snapshot_name(layout, ShardId(0));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let state = loop {
        let state = dnd_cluster::worker::load_snapshot(&store, &name).await.unwrap();
        match state {
            Some(state) if state.held.len() == held => break state,
            _ if std::time::Instant::now() > deadline => panic!("no snapshot with every held item"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };
    // A change of layout would lose them: refused, naming why.
    let config = Config::new(dnd_engine::parse_zone(ZONE).unwrap());
    let reshard = dnd_cluster::reshard::Reshard::open(client.clone(), app(), config)
        .await
        .unwrap();
    let refused = reshard.prepare(Some(layout), Layout::new(2).unwrap()).await;
    let Err(why) = refused else {
        panic!("a reshard of held pushes is refused")
    };
    let why = why.to_string();
    assert!(why.contains("holds pushes"), "{why}");
    reshard.abort().await.unwrap();
    shard.kill();
    let _shard = Killable::start(server.url(), layout, 0, 1, Duration::ZERO);
    let restored = progress_until(&client, layout, 0, |_| true).await;
    assert!(restored.restored >= state.replica.applied());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let release = release_at(&js, layout, now).await;
    progress_until(&client, layout, 0, |p| p.applied >= release[0]).await;
    let items: usize = all_released(&client)
        .await
        .iter()
        .map(|d| serde_json::from_str::<Value>(&d.json).unwrap())
        .flat_map(|v| v["conversations"].as_array().unwrap().clone())
        .map(|c| c["count"].as_u64().unwrap() as usize)
        .sum();
    assert_eq!(items, held);
}

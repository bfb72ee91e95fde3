//! Held pushes over shards against a real nats-server: N shards hold and
//! release exactly what one `Settings` and one `Held` fed the same
//! operations do, and a shard killed while it releases loses no item and
//! releases none twice.

mod support;

use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage};
use dnd_cluster::api::Api;
use dnd_cluster::holding::{ENTRY_HEADER, RELEASE};
use dnd_cluster::released::{self, ReadDigest};
use dnd_engine::push::{DecisionLine, Push};
use dnd_engine::shard::{Layout, ShardId};
use dnd_engine::{Config, Held, Request, Settings};
use dnd_server::backend::Generation;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};
use support::*;

const USERS: u32 = 40;

/// Shard `index` of `layout` in this process on a connection of its own,
/// evaluating its held items every `release_every` (zero: only at the
/// release records the test appends), until the handle is aborted.
fn holding_shard(
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
struct Killable(Option<tokio::runtime::Runtime>);

impl Killable {
    fn start(url: &str, layout: Layout, index: u16, snapshot_every: u64, release_every: Duration) -> Killable {
        Killable::replica(url, layout, index, 0, snapshot_every, release_every)
    }

    fn replica(
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

    fn kill(&mut self) {
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

/// Appends a release record at `at` for every shard of `layout`, as a
/// shard's clock does: each shard's record's sequence.
async fn release_at(js: &jetstream::Context, layout: Layout, at: i64) -> Vec<u64> {
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
async fn all_released(client: &async_nats::Client) -> Vec<ReadDigest> {
    let js = dnd_cluster::log::context(client.clone());
    let stream = released::open(&js, &app(), 1, released::KEEP).await.unwrap();
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

/// One shard evaluating its held items every 100 ms (snapshotting every
/// 7 entries), killed (its runtime dropped: every task of it stops where
/// it is, its connection closed, no snapshot) four times at random instants while pushes are held and
/// digests released, and started again each time. Every held item is
/// released exactly once: the items counted in the released digests equal
/// the held decisions answered, no digest is stored twice, and each
/// recipient's digests of one instant are numbered 1, 2, ... without gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_shard_loses_no_held_item_and_releases_none_twice() {
    held_and_released_once(false).await;
}

/// Two replicas of one shard, each evaluating its held items every 100
/// ms with a clock of its own (release records of both, in any order),
/// replica 0 killed and started again twice: every held item is released
/// exactly once, as in the kill test above.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_of_a_shard_release_each_digest_once() {
    held_and_released_once(true).await;
}

/// 40 held pushes to a shard that releases every 100 ms and is killed at
/// random instants (with a second replica when `replicas`); then every
/// held item is in exactly one released digest, no digest is stored twice,
/// and each recipient's digests of one instant are numbered 1, 2, ...
async fn held_and_released_once(replicas: bool) {
    let dir = dir();
    let server = dnd_cluster::nats_server::NatsServer::start(dir.path()).expect("nats-server");
    let client = connect(server.url()).await;
    let layout = Layout::new(1).unwrap();
    let api = Api::new(client.clone(), app(), layout, 1).await.unwrap();
    let (users, quiet) = quiet_hour(&api).await;
    let every = Duration::from_millis(100);
    let mut shard = Killable::start(server.url(), layout, 0, 7, every);
    let _second = replicas.then(|| Killable::replica(server.url(), layout, 0, 1, 5, every));
    let mut rng = SmallRng::seed_from_u64(9);
    let mut held = 0usize;
    for step in 0..40 {
        if step % if replicas { 20 } else { 10 } == 5 {
            tokio::time::sleep(Duration::from_millis(rng.gen_range(0..150))).await;
            shard.kill();
            shard = Killable::start(server.url(), layout, 0, 7, every);
        }
        let fields = quiet_push(quiet, step);
        let recipients: Vec<String> = users.iter().filter(|_| rng.gen_bool(0.5)).cloned().collect();
        let lines = api.decide_chunk(&fields, &recipients, false, 0).await.unwrap();
        held += lines.iter().filter(|l| l.json.contains("\"held\":true")).count();
        tokio::time::sleep(Duration::from_millis(rng.gen_range(0..60))).await;
    }
    assert!(held > 200, "{held} held");
    // Everything is due at once: wait until every item is released.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let (digests, items) = loop {
        let digests = all_released(&client).await;
        let items: usize = digests
            .iter()
            .map(|d| serde_json::from_str::<Value>(&d.json).unwrap())
            .flat_map(|v| v["conversations"].as_array().unwrap().clone())
            .map(|c| c["count"].as_u64().unwrap() as usize)
            .sum();
        if items >= held || std::time::Instant::now() > deadline {
            break (digests, items);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(items, held, "every held item released once");
    let mut ids: Vec<String> = digests
        .iter()
        .map(|d| {
            serde_json::from_str::<Value>(&d.json).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "no digest twice");
    // Per recipient and instant, k = 1, 2, ... without a gap.
    let mut ks: std::collections::BTreeMap<String, Vec<u32>> = Default::default();
    for id in &ids {
        let mut parts = id.splitn(3, '-');
        let (at, rest) = (parts.next().unwrap(), parts.collect::<Vec<_>>().join("-"));
        let (user, k) = match rest.rsplit_once('-') {
            Some((u, k)) if k.parse::<u32>().is_ok() && users.contains(&u.to_owned()) => {
                (u.to_owned(), k.parse().unwrap())
            }
            _ => (rest.clone(), 1),
        };
        ks.entry(format!("{at}-{user}")).or_default().push(k);
    }
    eprintln!(
        "{held} held items in {count} digests, {} of them a later one of their recipient and instant",
        ks.values().map(|k| k.len() - 1).sum::<usize>()
    );
    for (key, mut k) in ks {
        k.sort_unstable();
        assert_eq!(k, (1..=k.len() as u32).collect::<Vec<_>>(), "{key}");
    }
    shard.kill();
}

/// Thirty users quiet for an hour 12 hours (in the world's zone, +08:00)
/// from the hour of this run: pushes of 2026-11-22 in it are held, and due
/// at once at any evaluation now, whatever the time of day of the run.
/// The users and the hour.
async fn quiet_hour(api: &Api) -> (Vec<String>, u64) {
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

/// A hold push of `step` (a minute apart) to `recipients`, in the quiet hour.
fn quiet_push(quiet: u64, step: i64) -> Map<String, Value> {
    let mut fields = pushes()[2].clone();
    // 2026-11-22, 10 minutes into the quiet hour, and on.
    let at = 1_795_276_800_000_i64 + quiet as i64 * 3_600_000 + 600_000 + step * 10_000;
    fields.insert("at".into(), Value::from(at));
    fields.insert("hold".into(), Value::Bool(true));
    fields.insert("messageId".into(), Value::String(format!("m{step}")));
    fields
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `POST /push/released.json` as an API node answers it: nothing yet is an
/// empty page at the cursor asked; a long poll is answered once a shard
/// releases a digest, well before its wait ends; pages of 3 read every
/// digest once, in order of cursor, each page's cursor its last entry's
/// and each entry the stored digest with `"cursor"` first; a cursor past
/// the last answers nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn released_json_reads_every_digest_once_by_cursor() {
    use dnd_engine::released::ReleasedRequest;
    let dir = dir();
    let server = dnd_cluster::nats_server::NatsServer::start(dir.path()).expect("nats-server");
    let client = connect(server.url()).await;
    let layout = Layout::new(2).unwrap();
    let api = Api::new(client.clone(), app(), layout, 1).await.unwrap();
    let (users, quiet) = quiet_hour(&api).await;
    let page = |form: String| {
        let api = api.clone();
        async move {
            let json = api
                .released_page(ReleasedRequest::from_form(form.as_bytes()).unwrap())
                .await
                .unwrap();
            let value = serde_json::from_str::<Value>(&json).unwrap();
            // Each entry starts with its cursor and id, in this order.
            for e in value["digests"].as_array().unwrap() {
                let head = format!("{{\"cursor\":{},\"id\":{}", e["cursor"], e["id"]);
                assert!(json.contains(&head), "{json}");
            }
            value
        }
    };
    assert_eq!(
        page("after=5".into()).await,
        serde_json::json!({"code": 200, "cursor": 5, "digests": []})
    );
    let _shards: Vec<_> = (0..2)
        .map(|i| Killable::start(server.url(), layout, i, 1_000, Duration::from_millis(100)))
        .collect();
    let started = std::time::Instant::now();
    let polled = tokio::spawn(page("after=0&limit=1000&wait=25".into()));
    let mut held = 0;
    for step in 0..6 {
        let lines = api
            .decide_chunk(&quiet_push(quiet, step), &users, false, 0)
            .await
            .unwrap();
        held += lines.iter().filter(|l| l.json.contains("\"held\":true")).count();
    }
    let first = polled.await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the long poll waited out its wait"
    );
    assert!(!first["digests"].as_array().unwrap().is_empty(), "{first}");
    // Everything, three at a time.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let (mut cursor, mut entries, mut items) = (0u64, Vec::new(), 0usize);
    while items < held && std::time::Instant::now() < deadline {
        let p = page(format!("after={cursor}&limit=3&wait=1")).await;
        let got = p["digests"].as_array().unwrap().clone();
        assert!(got.len() <= 3);
        if let Some(last) = got.last() {
            assert_eq!(p["cursor"], last["cursor"]);
        } else {
            assert_eq!(p["cursor"].as_u64(), Some(cursor));
        }
        for e in got {
            let c = e["cursor"].as_u64().unwrap();
            assert!(c > cursor, "in order of cursor, once");
            cursor = c;
            items += e["conversations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["count"].as_u64().unwrap() as usize)
                .sum::<usize>();
            entries.push(e);
        }
    }
    assert_eq!(items, held, "every held item in one digest read");
    // The entries are the stream's digests with their cursors.
    let stored = all_released(&client).await;
    assert_eq!(stored.len(), entries.len());
    for (s, e) in stored.iter().zip(&entries) {
        assert_eq!(serde_json::from_str::<Value>(&s.entry_json()).unwrap(), *e);
    }
    let end = page(format!("after={cursor}&limit=3")).await;
    assert_eq!(end["digests"].as_array().unwrap().len(), 0);
    assert_eq!(end["cursor"].as_u64(), Some(cursor));
}

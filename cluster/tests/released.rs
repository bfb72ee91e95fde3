//! Released digests against a real nats-server: a shard killed while it
//! releases, or two replicas of one, release each digest once, and an API
//! node answers `POST /push/released.json` from the released stream.

mod support;

use std::time::Duration;

use dnd_cluster::api::Api;
use dnd_engine::shard::Layout;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use support::held::*;
use support::*;

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

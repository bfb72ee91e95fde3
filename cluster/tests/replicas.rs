//! Two replicas of a shard against a real nats-server: both apply the
//! shard's subjects, share its reads and save snapshots of their own; one
//! killed under a read load makes no get or decide fail.

mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dnd_cluster::api::{Api, HEDGE};
use dnd_cluster::apps::ShardProcess;
use dnd_cluster::nats_server::NatsServer;
use dnd_cluster::worker::{snapshot_store, READ_DEADLINE};
use dnd_engine::shard::{Layout, ShardId};
use dnd_engine::{Config, Request};
use dnd_server::backend::Generation;
use futures::StreamExt;
use support::*;

const USERS: u32 = 60;

/// Replica `replica` of shard 0 of one, on a connection of its own, until
/// the handle is aborted (then its connection closes).
fn replica(url: &str, replica: u16, snapshot_every: u64) -> tokio::task::JoinHandle<()> {
    let process = ShardProcess {
        layout: Layout::new(1).unwrap(),
        shard: ShardId(0),
        replica,
        config: Config::new(dnd_engine::parse_zone(ZONE).unwrap()),
        snapshot_every,
        release_every: dnd_cluster::holding::DEFAULT_RELEASE_EVERY,
        detail_limit: dnd_engine::DEFAULT_DETAIL_LIMIT,
    };
    let url = url.to_owned();
    tokio::spawn(async move {
        let client = connect(&url).await;
        if let Err(e) = dnd_cluster::apps::run(client, process, std::future::pending()).await {
            eprintln!("replica {replica} stopped: {e}");
        }
    })
}

/// The replicas that answer a progress request within 500 ms, each with
/// its applied sequence.
async fn replicas_answering(client: &async_nats::Client, layout: Layout) -> Vec<(u16, u64)> {
    let inbox = client.new_inbox();
    let mut answers = client.subscribe(inbox.clone()).await.unwrap();
    client
        .publish_with_reply(app().progress_subject(layout, ShardId(0)), inbox, "".into())
        .await
        .unwrap();
    let mut found = Vec::new();
    let until = tokio::time::Instant::now() + Duration::from_millis(500);
    while let Ok(Some(m)) = tokio::time::timeout_at(until, answers.next()).await {
        // A status message (no responders) has no body.
        if let Ok(p) = serde_json::from_slice::<dnd_cluster::wire::Progress>(&m.payload) {
            found.push((p.replica, p.applied));
        }
    }
    found.sort_unstable();
    found
}

/// Replicas 0 and 1 of a one-shard layout serve 400 writes; each saves a
/// snapshot of its own. Eight readers ask gets and 60-recipient decides
/// (after the last write) without pause; replica 1 is killed (its task
/// aborted, its connection closed) with reads in flight. Every read before
/// and after is answered, and answered as one `Settings` fed the same
/// writes answers it: zero refusals, and none waits anywhere near the read
/// deadline (the reads lost with the replica are asked again after
/// [`HEDGE`], and answered by replica 0).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_one_of_two_replicas_under_reads_refuses_none() {
    let dir = dir();
    let server = NatsServer::start(dir.path()).expect("nats-server");
    let client = connect(server.url()).await;
    let layout = Layout::new(1).unwrap();
    let api = Api::new(client.clone(), app(), layout, 1).await.unwrap();
    let requests = world(11, 400, USERS);
    let mut seqs = Vec::new();
    for (i, (path, body)) in requests.iter().enumerate() {
        let request = Request::parse(path, body.as_bytes()).unwrap();
        let answered = api
            .append(&request, Generation::of(path), &format!("w{i}"))
            .await
            .unwrap();
        seqs.push(answered.seq.unwrap());
    }
    let last = *seqs.iter().max().unwrap();
    let mut reference = reference(&requests, &seqs);
    let _r0 = replica(server.url(), 0, 100);
    let r1 = replica(server.url(), 1, 100);

    // Both replicas serve the shard and have caught up.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let found = replicas_answering(&client, layout).await;
        if found.len() == 2 && found.iter().all(|&(_, applied)| applied >= last) {
            assert_eq!(found.iter().map(|&(k, _)| k).collect::<Vec<_>>(), [0, 1]);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "replicas not caught up within 60 s: {found:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Each saved a snapshot of its own (every 100 entries).
    let js = async_nats::jetstream::new(client.clone());
    let store = snapshot_store(&js, 1).await.unwrap();
    for k in [0, 1] {
        let name = app().replica_snapshot_name(layout, ShardId(0), k);
        let info = store.info(&name).await.unwrap();
        let seq: u64 = info.description.unwrap().parse().unwrap();
        assert!(seq >= 300, "{name}: {seq}");
    }

    let recipients: Vec<String> = (0..USERS).map(user).collect();
    let message = pushes().remove(0);
    let decisions = Arc::new(expected(&reference, &message, &recipients));
    let get_list: Arc<Vec<(&str, String, String)>> = Arc::new(
        gets(USERS, 1)
            .into_iter()
            .map(|(path, body)| {
                let want = Generation::of(path)
                    .render(&reference.handle(path, body.as_bytes()))
                    .json;
                (path, body, want)
            })
            .collect(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let (answered, slowest_ms) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut readers = Vec::new();
    for r in 0..8usize {
        let (api, stop, answered, slowest_ms) = (api.clone(), stop.clone(), answered.clone(), slowest_ms.clone());
        let (decisions, get_list) = (decisions.clone(), get_list.clone());
        let (message, recipients) = (message.clone(), recipients.clone());
        readers.push(tokio::spawn(async move {
            let mut refused = Vec::new();
            let mut i = r;
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                if i % 2 == 0 {
                    match api.decide_chunk(&message, &recipients, false, last).await {
                        Ok(lines) => {
                            let lines: Vec<String> = lines.into_iter().map(|l| l.json).collect();
                            assert_eq!(lines, *decisions, "a decide");
                        }
                        Err(e) => refused.push(format!("decide: {e}")),
                    }
                } else {
                    let (path, body, want) = &get_list[i % get_list.len()];
                    let request = Request::parse(path, body.as_bytes()).unwrap();
                    match api.get(&request, Generation::of(path), last).await {
                        Ok(got) if got.code == 200 || got.code == 0 => {
                            assert_eq!(&got.json, want, "{path} {body}");
                        }
                        Ok(got) => refused.push(format!("get: {}", got.json)),
                        Err(e) => refused.push(format!("get: {e}")),
                    }
                }
                answered.fetch_add(1, Ordering::Relaxed);
                slowest_ms.fetch_max(started.elapsed().as_millis() as u64, Ordering::Relaxed);
                i += 8;
            }
            refused
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    let before = answered.load(Ordering::Relaxed);
    r1.abort();
    let _ = r1.await;
    let killed = Instant::now();
    tokio::time::sleep(HEDGE * 3).await;
    stop.store(true, Ordering::Relaxed);
    let mut refused = Vec::new();
    for reader in readers {
        refused.extend(reader.await.unwrap());
    }
    let after = answered.load(Ordering::Relaxed) - before;
    let slowest = Duration::from_millis(slowest_ms.load(Ordering::Relaxed));
    eprintln!(
        "replicas: {before} reads before the kill, {after} after (in {:?}), slowest {slowest:?}, {} refused",
        killed.elapsed(),
        refused.len()
    );
    assert!(
        refused.is_empty(),
        "{} refused: {:?}",
        refused.len(),
        &refused[..refused.len().min(5)]
    );
    assert!(before > 0 && after > 0, "{before} {after}");
    assert!(slowest < READ_DEADLINE / 2, "a read waited {slowest:?}");
    assert_eq!(replicas_answering(&client, layout).await.len(), 1);
}

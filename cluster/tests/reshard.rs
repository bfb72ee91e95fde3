//! Resharding against a real nats-server, under writes: three shards become
//! four, then two, from their snapshots split by partition, the stream
//! trimmed before each move; every read through the API node, before,
//! during and after each move, is compared with one `Settings` fed the
//! same writes in log order.

mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dnd_cluster::api::Api;
use dnd_cluster::layouts::{self, Record};
use dnd_cluster::log::Log;
use dnd_cluster::nats_server::NatsServer;
use dnd_cluster::reshard::{Reshard, RETIRE_GRACE};
use dnd_cluster::worker::snapshot_store;
use dnd_engine::shard::{Layout, Replica, ShardId};
use dnd_engine::{Config, Request, Settings};
use dnd_server::backend::Generation;
use support::*;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

const USERS: u32 = 60;
/// A short duplicate window, so that the shards trim the stream in seconds.
const WINDOW: Duration = Duration::from_secs(1);
/// Snapshots (and so trims) every this many entries.
const EVERY: u64 = 40;

fn config() -> Config {
    Config::new(dnd_engine::parse_zone(ZONE).unwrap())
}

/// Every shard of `layout` in this process.
fn start(client: &async_nats::Client, layout: Layout) -> Vec<JoinHandle<()>> {
    layout.all().map(|s| shard_every(client, layout, s.0, EVERY)).collect()
}

/// Stops shards (their tasks aborted: subscriptions dropped).
async fn stop(shards: Vec<JoinHandle<()>>) {
    for s in shards {
        s.abort();
        let _ = s.await;
    }
}

/// The writes done so far and one `Settings` fed them in log order.
struct Written {
    one: Settings,
    seqs: Vec<u64>,
}

/// Waits (up to 30 s) until `holds` of the stream's first sequence.
async fn first_until(client: &async_nats::Client, what: &str, holds: impl Fn(u64) -> bool) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (first, _, _) = stream_state(client).await;
        if holds(first) {
            return first;
        }
        assert!(Instant::now() < deadline, "{what}: the stream starts at {first}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads through `api` and compares each with `written`'s `Settings`,
/// holding the writes back meanwhile (so the comparison is exact):
/// decides of every user for every push, and every user's gets.
async fn check_all(api: &Api, written: &Mutex<Written>, what: &str) {
    let mut w = written.lock().await;
    let recipients: Vec<String> = (0..USERS).map(user).collect();
    for message in pushes() {
        let want = expected(&w.one, &message, &recipients);
        let got = api.decide_chunk(&message, &recipients, false, 0).await.unwrap();
        let got: Vec<String> = got.into_iter().map(|r| r.json).collect();
        assert_eq!(got, want, "{what}: a decide after {} writes", w.seqs.len());
    }
    for (path, body) in gets(USERS, 1) {
        let want = Generation::of(path).render(&w.one.handle(path, body.as_bytes())).json;
        let request = Request::parse(path, body.as_bytes()).unwrap();
        let got = api.get(&request, Generation::of(path), 0).await.unwrap();
        assert_eq!(got.json, want, "{what}: {path} {body}");
    }
}

/// Whether the object `name` is gone (deleted, or never saved).
async fn gone(store: &async_nats::jetstream::object_store::ObjectStore, name: &str) -> bool {
    store.info(name).await.map_or(true, |info| info.deleted)
}

/// A node routes by `layout` within 5 s.
async fn routed_by(api: &Api, layout: Layout) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while api.layout() != layout {
        assert!(Instant::now() < deadline, "the node still routes by {:?}", api.layout());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Three shards, the stream trimmed; one writer appending without pause
/// (each write also fed to one `Settings`) and one reader whose every get
/// and decide is compared with that `Settings` at that moment. Then:
///
/// 1. 3 → 4: the new layout built from the three snapshots split by
///    partition (the stream's start is gone, so no replay from it could
///    have); the four shards started, caught up; the switch; the three
///    retired; a new shard killed and restarted right after the switch.
///    The trim goes on past the build's sequence.
/// 2. 4 → 2, interrupted: a record saying a build to 2 was under way and a
///    stale object of the 2-shard layout, as a command killed mid-build
///    leaves them. No trim meanwhile; the command run again resumes,
///    replaces the stale object and completes.
/// 3. 2 → 3 started, then aborted: the record names 2 alone again, the
///    3-shard snapshots are gone, the trim resumes.
///
/// Every read is exact and none is refused; the rate of reads during the
/// moves against the steady rate before them is printed (the figure in
/// `docs/scaling.md`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resharding_3_to_4_to_2_under_writes_decides_as_one_node() {
    let dir = dir();
    let server = NatsServer::start(dir.path()).expect("nats-server");
    let client = connect(server.url()).await;
    Log::open_with_window(client.clone(), app(), 1, WINDOW).await.unwrap();
    let (three, four, two) = (
        Layout::new(3).unwrap(),
        Layout::new(4).unwrap(),
        Layout::new(2).unwrap(),
    );
    let api = Api::new(client.clone(), app(), three, 1).await.unwrap();
    let mut shards = start(&client, three);

    let requests = Arc::new(world(29, 20_000, USERS));
    let written = Arc::new(Mutex::new(Written {
        one: Settings::new(config()),
        seqs: Vec::new(),
    }));
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (api, requests, written, done) = (api.clone(), requests.clone(), written.clone(), done.clone());
        tokio::spawn(async move {
            for (i, (path, body)) in requests.iter().enumerate() {
                if done.load(Ordering::Relaxed) {
                    break;
                }
                let mut w = written.lock().await;
                let request = Request::parse(path, body.as_bytes()).unwrap();
                let answered = api
                    .append(&request, Generation::of(path), &format!("w{i}"))
                    .await
                    .unwrap_or_else(|e| panic!("write {i}: {e}"));
                let seq = answered.seq.unwrap();
                assert!(w.seqs.last().is_none_or(|&l| l < seq), "write {i}: sequence {seq}");
                assert_eq!(w.one.handle(path, body.as_bytes()).code(), 200);
                w.seqs.push(seq);
                drop(w);
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
        })
    };
    let reads = Arc::new(AtomicU64::new(0));
    let reader = {
        let (api, written, done, reads) = (api.clone(), written.clone(), done.clone(), reads.clone());
        tokio::spawn(async move {
            let recipients: Vec<String> = (0..USERS).map(user).collect();
            let (messages, get_list) = (pushes(), gets(USERS, 7));
            let mut i = 0usize;
            while !done.load(Ordering::Relaxed) {
                let mut w = written.lock().await;
                if i.is_multiple_of(2) {
                    let message = &messages[i / 2 % messages.len()];
                    let want = expected(&w.one, message, &recipients);
                    let got = api
                        .decide_chunk(message, &recipients, false, 0)
                        .await
                        .unwrap_or_else(|e| panic!("a decide after {} writes was refused: {e}", w.seqs.len()));
                    let got: Vec<String> = got.into_iter().map(|r| r.json).collect();
                    assert_eq!(got, want, "a decide after {} writes", w.seqs.len());
                } else {
                    let (path, body) = &get_list[i / 2 % get_list.len()];
                    let want = Generation::of(path).render(&w.one.handle(path, body.as_bytes())).json;
                    let request = Request::parse(path, body.as_bytes()).unwrap();
                    let got = api
                        .get(&request, Generation::of(path), 0)
                        .await
                        .unwrap_or_else(|e| panic!("a get after {} writes was refused: {e}", w.seqs.len()));
                    assert_eq!(got.json, want, "{path} {body} after {} writes", w.seqs.len());
                }
                drop(w);
                reads.fetch_add(1, Ordering::Relaxed);
                i += 1;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    let writes = || async { written.lock().await.seqs.len() };

    // Steady state: three shards, the stream trimmed (its start is gone).
    let trimmed = first_until(&client, "a trim before the reshard", |f| f > 200).await;
    let (r0, t0) = (reads.load(Ordering::Relaxed), Instant::now());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let steady = (reads.load(Ordering::Relaxed) - r0) as f64 / t0.elapsed().as_secs_f64();
    check_all(&api, &written, "three shards").await;

    // 1. Three shards become four.
    let reshard = Reshard::open(client.clone(), app(), config()).await.unwrap();
    let (r0, t0, w0) = (reads.load(Ordering::Relaxed), Instant::now(), writes().await);
    let built = reshard.prepare(Some(three), four).await.unwrap().expect("a build");
    eprintln!(
        "reshard 3 -> 4: {built:?}; the stream started at {trimmed} before; entries replayed / a replay from the start: {:.2}",
        built.replayed as f64 / built.base as f64
    );
    assert!(built.base > trimmed, "{built:?}");
    let (first, last, _) = stream_state(&client).await;
    assert!(
        first > 1 && built.replayed < last,
        "replayed {} of {last} (first {first})",
        built.replayed
    );
    let mut new = start(&client, four);
    reshard.caught_up(four, Duration::from_secs(60)).await.unwrap();
    reshard.switch(four).await.unwrap();
    routed_by(&api, four).await;
    // A new shard killed just after the switch restarts from its own
    // snapshot (the trim counts both layouts'); reads wait for it.
    new[1].abort();
    let _ = (&mut new[1]).await;
    new[1] = shard_every(&client, four, 1, EVERY);
    // The old shards answer what was routed to them before the switch.
    tokio::time::sleep(RETIRE_GRACE).await;
    stop(std::mem::replace(&mut shards, std::mem::take(&mut new))).await;
    reshard.retire(three, Duration::from_secs(10)).await.unwrap();
    let moved_3_4 = t0.elapsed();
    let during_3_4 = (reads.load(Ordering::Relaxed) - r0) as f64 / moved_3_4.as_secs_f64();
    let written_during = writes().await - w0;
    assert!(written_during > 20, "{written_during} writes during the move");
    check_all(&api, &written, "four shards").await;
    let js = async_nats::jetstream::new(client.clone());
    let store = snapshot_store(&js, 1).await.unwrap();
    for shard in three.all() {
        assert!(
            gone(&store, &app().snapshot_name(three, shard)).await,
            "a retired snapshot"
        );
    }
    // The trim goes on, past the build's sequence, counting four shards.
    first_until(&client, "a trim after the switch", |f| f > built.base).await;

    // 2. Four become two, the first attempt killed mid-build.
    let records = layouts::bucket(&js, 1).await.unwrap();
    let (record, revision) = layouts::read(&records, &app()).await.unwrap().unwrap();
    assert_eq!((record.shards, record.next), (4, None));
    let killed = Record {
        next: Some(2),
        base: None,
        ..record
    };
    layouts::write(&records, &app(), &killed, Some(revision)).await.unwrap();
    let stale = serde_json::to_vec(&Replica::new(Settings::new(config()))).unwrap();
    store
        .put(app().snapshot_name(two, ShardId(0)).as_str(), &mut stale.as_slice())
        .await
        .unwrap();
    // No trim while a build is under way (the window and two snapshots
    // pass), once a trim that read the record before it changed is done.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let held = stream_state(&client).await.0;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(stream_state(&client).await.0, held, "trimmed during a build");
    let (r0, t0, w0) = (reads.load(Ordering::Relaxed), Instant::now(), writes().await);
    let built = reshard.prepare(None, two).await.unwrap().expect("a build");
    eprintln!(
        "reshard 4 -> 2 (resumed): {built:?}; entries replayed / a replay from the start: {:.2}",
        built.replayed as f64 / built.base as f64
    );
    let info = store.info(&app().snapshot_name(two, ShardId(0))).await.unwrap();
    assert_eq!(info.description.as_deref(), Some(built.base.to_string().as_str()));
    let mut new = start(&client, two);
    reshard.caught_up(two, Duration::from_secs(60)).await.unwrap();
    reshard.switch(two).await.unwrap();
    routed_by(&api, two).await;
    tokio::time::sleep(RETIRE_GRACE).await;
    stop(std::mem::replace(&mut shards, std::mem::take(&mut new))).await;
    reshard.retire(four, Duration::from_secs(10)).await.unwrap();
    let moved_4_2 = t0.elapsed();
    let during_4_2 = (reads.load(Ordering::Relaxed) - r0) as f64 / moved_4_2.as_secs_f64();
    assert!(writes().await - w0 > 20);
    check_all(&api, &written, "two shards").await;

    // 3. A move to three, aborted once built: two shards serve on.
    assert!(reshard.prepare(None, three).await.unwrap().is_some());
    assert_eq!(reshard.abort().await.unwrap(), Some(three));
    let (record, _) = reshard.record().await.unwrap().unwrap();
    assert_eq!((record.shards, record.next, record.base), (2, None, None));
    for shard in three.all() {
        assert!(
            gone(&store, &app().snapshot_name(three, shard)).await,
            "an aborted snapshot"
        );
    }
    let (first, last, _) = stream_state(&client).await;
    first_until(&client, "a trim after the abort", |f| {
        f > first.max(last.saturating_sub(50))
    })
    .await;
    check_all(&api, &written, "two shards after an abort").await;

    done.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    reader.await.unwrap();
    let total = reads.load(Ordering::Relaxed);
    eprintln!(
        "reshard: {total} reads compared, none refused; reads/s steady {steady:.0}, during 3 -> 4 {during_3_4:.0} ({:.2}) in {moved_3_4:?}, during 4 -> 2 {during_4_2:.0} ({:.2}) in {moved_4_2:?}; {} writes",
        during_3_4 / steady,
        during_4_2 / steady,
        writes().await
    );
    stop(shards).await;
}

/// An API node that missed the switch (it routes by the retired layout,
/// whose shards are stopped) answers every read exactly, none refused: the
/// first read it routes to a stopped shard finds nobody serving it, reads
/// the layout record again and is asked again of the record's layout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_missed_the_switch_reads_exactly_from_the_new_layout() {
    let dir = dir();
    let server = NatsServer::start(dir.path()).expect("nats-server");
    let client = connect(server.url()).await;
    Log::open_with_window(client.clone(), app(), 1, WINDOW).await.unwrap();
    let (two, three) = (Layout::new(2).unwrap(), Layout::new(3).unwrap());
    let api = Api::new(client.clone(), app(), two, 1).await.unwrap();
    let old = start(&client, two);
    let mut written = Written {
        one: Settings::new(config()),
        seqs: Vec::new(),
    };
    for (i, (path, body)) in world(29, 300, USERS).iter().enumerate() {
        let request = Request::parse(path, body.as_bytes()).unwrap();
        let answered = api
            .append(&request, Generation::of(path), &format!("w{i}"))
            .await
            .unwrap();
        assert_eq!(written.one.handle(path, body.as_bytes()).code(), 200);
        written.seqs.push(answered.seq.unwrap());
    }
    let reshard = Reshard::open(client.clone(), app(), config()).await.unwrap();
    reshard.prepare(Some(two), three).await.unwrap().expect("a build");
    let new = start(&client, three);
    reshard.caught_up(three, Duration::from_secs(60)).await.unwrap();
    reshard.switch(three).await.unwrap();
    routed_by(&api, three).await;
    stop(old).await;
    reshard.retire(two, Duration::from_secs(10)).await.unwrap();

    // A node that missed the switch: its watch has delivered the record
    // (no change follows), then it is made to route by the old layout.
    let stale = Api::new(client.clone(), app(), two, 1).await.unwrap();
    routed_by(&stale, three).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stale.route_by(two);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(stale.layout(), two, "the record changed meanwhile");
    let t0 = Instant::now();
    check_all(&stale, &Mutex::new(written), "a node that missed the switch").await;
    assert_eq!(stale.layout(), three, "the node found the record's layout");
    eprintln!("a node that missed the switch: every read exact, in {:?}", t0.elapsed());
    stop(new).await;
}

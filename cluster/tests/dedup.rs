//! Exactly once through the stream's duplicate window: across a trim, and
//! across a restart of the nats-server after a trim.

mod support;

use std::time::{Duration, Instant};

use dnd_cluster::api::Api;
use dnd_cluster::log::Log;
use dnd_cluster::nats_server::NatsServer;
use dnd_engine::shard::Layout;
use dnd_engine::Request;
use dnd_server::backend::Generation;

/// A write purged from the stream is still remembered by its id while the
/// server runs: a retry inside the duplicate window after a trim is
/// acknowledged as a duplicate (with the purged sequence) and stored
/// nowhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purge_keeps_the_duplicate_window() {
    let dir = support::dir();
    let server = NatsServer::start(dir.path()).expect("nats-server");
    let client = async_nats::connect(server.url()).await.unwrap();
    let log = Log::open(client, support::app(), 1).await.unwrap();
    let request = Request::parse("/user/blockPushPeriod/delete.json", b"userId=u1").unwrap();
    let patience = Duration::from_secs(5);
    let first = log.append(&request, "w1", patience).await.unwrap();
    let other = log.append(&request, "w2", patience).await.unwrap();
    assert!(!first.duplicate && !other.duplicate);
    let mut stream = log.context().get_stream(support::app().stream()).await.unwrap();
    stream.purge().sequence(other.seq + 1).await.unwrap();
    assert_eq!(stream.info().await.unwrap().state.messages, 0, "purged");
    let retry = log.append(&request, "w1", patience).await.unwrap();
    assert!(retry.duplicate, "{retry:?}");
    assert_eq!(retry.seq, first.seq);
    assert_eq!(stream.info().await.unwrap().state.messages, 0, "nothing stored again");
}

fn set(user: &str, level: u8) -> Request {
    let body = format!("requestId={user}&conversationType=1&targetId=bob&unpushLevel={level}");
    Request::parse("/conversation/notification/set.json", body.as_bytes()).unwrap()
}

fn get(user: &str) -> Request {
    let body = format!("requestId={user}&conversationType=1&targetId=bob");
    Request::parse("/conversation/notification/get.json", body.as_bytes()).unwrap()
}

/// A restarted server knows only the ids of the messages it still stores,
/// so the shards never trim inside the duplicate window. alice sets level 5
/// (`k-first`), then 1; sixty more writes make the shard snapshot twelve
/// times (every 5 entries); the retry of `k-first` is a duplicate, and
/// still is after the server is killed (-9) and restarted on its store and
/// port: alice reads 1. Once the window has passed, the shard's next
/// snapshot trims the stream past those writes after all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_inside_the_window_is_a_duplicate_after_a_trim_and_a_server_restart() {
    const WINDOW: Duration = Duration::from_secs(6);
    let dir = support::dir();
    let mut server = NatsServer::start(dir.path()).expect("nats-server");
    let client = support::connect(server.url()).await;
    Log::open_with_window(client.clone(), support::app(), 1, WINDOW)
        .await
        .unwrap();
    let layout = Layout::new(1).unwrap();
    let api = Api::new(client.clone(), support::app(), layout, 1).await.unwrap();
    let _shard = support::shard_every(&client, layout, 0, 5);
    let form = Generation::Form;

    let started = Instant::now();
    let first = api.append(&set("alice", 5), form, "k-first").await.unwrap();
    let later = api.append(&set("alice", 1), form, "k-later").await.unwrap();
    assert!(!first.duplicate && !later.duplicate);
    let mut last = later.seq.unwrap();
    for i in 0..60 {
        last = api
            .append(&set(&format!("u{i}"), 2), form, &format!("w{i}"))
            .await
            .unwrap()
            .seq
            .unwrap();
    }
    // Snapshots every 5 entries: the last at most 4 entries back.
    support::progress_until(&client, layout, 0, |p| p.applied >= last && p.snapshot + 5 > last).await;
    let (stream_first, ..) = support::stream_state(&client).await;
    assert!(
        stream_first <= first.seq.unwrap(),
        "the stream was trimmed to {stream_first} inside the duplicate window"
    );
    let retry = api.append(&set("alice", 5), form, "k-first").await.unwrap();
    assert!(retry.duplicate, "{retry:?}");
    assert_eq!(retry.seq, first.seq);

    server.restart().expect("the server restarts");
    let retry = api.append(&set("alice", 5), form, "k-first").await.unwrap();
    assert!(
        started.elapsed() < WINDOW,
        "the test took {:?}, longer than the window: it proves nothing on a machine this slow",
        started.elapsed()
    );
    assert!(retry.duplicate, "after the restart: {retry:?}");
    assert_eq!(retry.seq, first.seq);
    let alice = api.get(&get("alice"), form, 0).await.unwrap();
    assert_eq!(alice.json, r#"{"code":200,"isMuted":1}"#);

    // Past the window, trimming goes on.
    tokio::time::sleep((started + WINDOW + Duration::from_secs(1)).saturating_duration_since(Instant::now())).await;
    for i in 0..10 {
        last = api
            .append(&set(&format!("v{i}"), 2), form, &format!("x{i}"))
            .await
            .unwrap()
            .seq
            .unwrap();
    }
    support::progress_until(&client, layout, 0, |p| p.applied >= last && p.snapshot + 5 > last).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (stream_first, ..) = support::stream_state(&client).await;
        if stream_first > later.seq.unwrap() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never trimmed past the window: first {stream_first}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A retry later than the duplicate window is a new write: stored again,
/// at a new sequence (here a 1-s window), which is why clients must give up
/// well inside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_the_window_is_stored_again() {
    let dir = support::dir();
    let server = NatsServer::start(dir.path()).expect("nats-server");
    let client = support::connect(server.url()).await;
    let log = Log::open_with_window(client.clone(), support::app(), 1, Duration::from_secs(1))
        .await
        .unwrap();
    let patience = Duration::from_secs(5);
    let first = log.append(&set("alice", 5), "k", patience).await.unwrap();
    let inside = log.append(&set("alice", 5), "k", patience).await.unwrap();
    assert!(inside.duplicate && inside.seq == first.seq, "{inside:?}");
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let late = log.append(&set("alice", 5), "k", patience).await.unwrap();
    assert!(!late.duplicate && late.seq > first.seq, "{late:?}");
    assert_eq!(support::stream_state(&client).await.2, 2, "stored twice");
}

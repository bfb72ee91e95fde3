//! A shard's snapshots against a real nats-server: a corrupt one stops the
//! shard at once with a frame error, and periodic snapshots that fail are
//! counted where operators look.

mod support;

use std::time::{Duration, Instant};

use async_nats::jetstream::object_store;
use dnd_cluster::log::{Log, SNAPSHOTS};
use dnd_cluster::nats_server::NatsServer;
use dnd_cluster::wire::Progress;
use dnd_cluster::worker::{self, ShardConfig};
use dnd_cluster::Error;
use dnd_engine::shard::{Layout, ShardId};
use dnd_engine::{Config, Request};

fn config(snapshot_every: u64) -> ShardConfig {
    ShardConfig {
        replica: 0,
        space: support::app(),
        layout: Layout::new(1).unwrap(),
        shard: ShardId(0),
        config: Config::new(dnd_engine::parse_zone(support::ZONE).unwrap()),
        snapshot_every,
        release_every: dnd_cluster::holding::DEFAULT_RELEASE_EVERY,
        detail_limit: dnd_engine::DEFAULT_DETAIL_LIMIT,
    }
}

/// A snapshot that is not one is refused as what it is, at once: retrying
/// the read would give the same bytes (it was retried for 5 s and reported
/// as a NATS error).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_snapshot_stops_the_shard_with_a_frame_error() {
    let dir = support::dir();
    let server = NatsServer::start(dir.path()).expect("nats-server");
    let client = async_nats::connect(server.url()).await.unwrap();
    let log = Log::open(client.clone(), support::app(), 1).await.unwrap();
    let store = worker::snapshot_store(log.context(), 1).await.unwrap();
    let cfg = config(1_000);
    store
        .put(
            cfg.snapshot_name().as_str(),
            &mut &b"{\"applied\": 7, \"settings\": 12}"[..],
        )
        .await
        .unwrap();
    let stopped = tokio::time::timeout(
        Duration::from_secs(60),
        worker::run(client, cfg, std::future::pending()),
    )
    .await
    .expect("the shard stops");
    match stopped {
        Err(Error::Frame { what: "snapshot", why }) => assert!(why.contains("invalid type"), "{why}"),
        other => panic!("{other:?}"),
    }
}

/// The shard's progress once it has applied `seq`.
async fn applied(client: &async_nats::Client, seq: u64) -> Progress {
    let subject = support::app().progress_subject(Layout::new(1).unwrap(), ShardId(0));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer = tokio::time::timeout(Duration::from_secs(1), client.request(subject.clone(), "".into())).await;
        if let Ok(Ok(answer)) = answer {
            let p: Progress = serde_json::from_slice(&answer.payload).unwrap();
            if p.applied >= seq {
                return p;
            }
        }
        assert!(Instant::now() < deadline, "sequence {seq} not applied within 60 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A shard whose periodic snapshots cannot be saved (here: a bucket too
/// small for one) goes on applying, and says so in its progress: the count
/// of failures in a row grows with each, and is 0 again once one is saved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_periodic_snapshots_are_counted_until_one_is_saved() {
    let dir = support::dir();
    let server = NatsServer::start(dir.path()).expect("nats-server");
    let client = async_nats::connect(server.url()).await.unwrap();
    let log = Log::open(client.clone(), support::app(), 1).await.unwrap();
    let js = log.context();
    js.create_object_store(object_store::Config {
        bucket: SNAPSHOTS.to_owned(),
        max_bytes: 64,
        ..Default::default()
    })
    .await
    .unwrap();
    let shard = {
        let client = client.clone();
        tokio::spawn(async move { worker::run(client, config(5), std::future::pending()).await })
    };
    let append = |n: u32| {
        let log = log.clone();
        async move {
            let mut seq = 0;
            for i in 0..n {
                let body = format!("userId=u{i}");
                let request = Request::parse("/user/blockPushPeriod/delete.json", body.as_bytes()).unwrap();
                seq = log
                    .append(&request, &format!("w{i}-{n}"), Duration::from_secs(10))
                    .await
                    .unwrap()
                    .seq;
            }
            seq
        }
    };
    // Snapshots due after entries 5 and 10: both fail.
    let last = append(12).await;
    let p = applied(&client, last).await;
    assert_eq!((p.snapshot, p.snapshot_failures), (0, 2), "{p:?}");
    let messages = js
        .get_stream(support::app().stream())
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .state
        .messages;
    assert_eq!(messages, 12, "nothing trimmed");

    // The bucket is given room: the next one is saved, and the count is 0.
    let mut bucket = js.get_stream(format!("OBJ_{SNAPSHOTS}")).await.unwrap();
    let mut stream_config = bucket.info().await.unwrap().config.clone();
    stream_config.max_bytes = -1;
    js.update_stream(stream_config).await.unwrap();
    let last = append(3).await;
    let p = applied(&client, last).await;
    assert_eq!((p.snapshot, p.snapshot_failures), (last, 0), "{p:?}");
    assert!(!shard.is_finished(), "the shard goes on");
    shard.abort();
}

/// A shard whose snapshot is gone after the stream was trimmed below it
/// refuses to start: starting from nothing would decide without the
/// trimmed entries, silently. (A stream of a 1-s duplicate window, its
/// first six entries written more than a second before the others: the
/// snapshot at 10 trims those six and keeps the window's.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_snapshot_below_a_trim_stops_the_shard() {
    let dir = support::dir();
    let server = NatsServer::start(dir.path()).expect("nats-server");
    let client = async_nats::connect(server.url()).await.unwrap();
    let log = Log::open_with_window(client.clone(), support::app(), 1, Duration::from_secs(1))
        .await
        .unwrap();
    let shard = {
        let client = client.clone();
        tokio::spawn(async move { worker::run(client, config(5), std::future::pending()).await })
    };
    let mut last = 0;
    for i in 0..12 {
        if i == 6 {
            tokio::time::sleep(Duration::from_millis(1_200)).await;
        }
        let body = format!("userId=u{i}");
        let request = Request::parse("/user/blockPushPeriod/delete.json", body.as_bytes()).unwrap();
        last = log
            .append(&request, &format!("t{i}"), Duration::from_secs(10))
            .await
            .unwrap()
            .seq;
    }
    let p = applied(&client, last).await;
    assert_eq!(p.snapshot, 10, "{p:?}");
    shard.abort();
    let _ = shard.await;
    let first = log
        .context()
        .get_stream(support::app().stream())
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .state
        .first_sequence;
    assert_eq!(first, 7, "trimmed below the snapshot, outside the window");

    let store = worker::snapshot_store(log.context(), 1).await.unwrap();
    store.delete(config(5).snapshot_name().as_str()).await.unwrap();
    let stopped = tokio::time::timeout(
        Duration::from_secs(60),
        worker::run(client, config(5), std::future::pending()),
    )
    .await
    .expect("the shard stops");
    match stopped {
        Err(Error::Trimmed { applied: 0, first: 7 }) => {}
        other => panic!("{other:?}"),
    }
}

//! Reads through the API node against a real nats-server: a restarted node
//! reflects what the stream held when it started, and a read waits for a
//! shard that is down until it is back (up to the read's deadline) rather
//! than being refused at once.

mod support;

use std::time::{Duration, Instant};

use dnd_cluster::api::Api;
use dnd_cluster::nats_server::NatsServer;
use dnd_cluster::wire::{self, GetRequest};
use dnd_engine::shard::{Layout, ShardId};
use dnd_engine::Request;
use dnd_server::backend::Generation;
use futures::StreamExt;
use support::*;

fn set(user: &str, level: u8) -> Request {
    let body = format!("requestId={user}&conversationType=1&targetId=bob&unpushLevel={level}");
    Request::parse("/conversation/notification/set.json", body.as_bytes()).unwrap()
}

fn get(user: &str) -> Request {
    let body = format!("requestId={user}&conversationType=1&targetId=bob");
    Request::parse("/conversation/notification/get.json", body.as_bytes()).unwrap()
}

/// A client writes levels 2, 1, then 5 through node A; A is replaced by a new
/// process (no state of the old one). A's reads ask the shard for at least
/// the stream's last sequence when A started (seen by a stand-in shard),
/// and a real shard started only now answers 5, never an older value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_node_reads_at_least_what_the_stream_held_when_it_started() {
    let dir = dir();
    let server = NatsServer::start(dir.path()).expect("nats-server");
    let client = connect(server.url()).await;
    let layout = Layout::new(1).unwrap();
    let form = Generation::Form;
    let before = Api::new(client.clone(), support::app(), layout, 1).await.unwrap();
    let mut last = 0;
    for (i, level) in [2u8, 1, 5].into_iter().enumerate() {
        last = before
            .append(&set("alice", level), form, &format!("k{i}"))
            .await
            .unwrap()
            .seq
            .unwrap();
    }
    drop(before);

    let node = Api::new(connect(server.url()).await, support::app(), layout, 1)
        .await
        .unwrap();
    let mut stand_in = client
        .subscribe(support::app().get_subject(layout, ShardId(0)))
        .await
        .unwrap();
    client.flush().await.unwrap();
    let asked = tokio::spawn({
        let node = node.clone();
        async move { node.get(&get("alice"), form, 0).await }
    });
    let message = stand_in.next().await.unwrap();
    let request: GetRequest = serde_json::from_slice(&message.payload).unwrap();
    assert!(
        request.after >= last,
        "asked after {} where {last} was acknowledged",
        request.after
    );
    client
        .publish(message.reply.unwrap(), wire::ok(br#"{"code":200,"isMuted":5}"#).into())
        .await
        .unwrap();
    assert_eq!(asked.await.unwrap().unwrap().json, r#"{"code":200,"isMuted":5}"#);
    stand_in.unsubscribe().await.unwrap();
    client.flush().await.unwrap();

    // A real shard, started now: the read waits for it and for its catch-up.
    let reading = tokio::spawn({
        let node = node.clone();
        async move { node.get(&get("alice"), form, 0).await }
    });
    let _shard = shard(&client, layout, 0);
    assert_eq!(reading.await.unwrap().unwrap().json, r#"{"code":200,"isMuted":5}"#);
}

/// With shard 1 of 2 down, a get for one of its users and a push with
/// recipients on both shards wait (they were refused within a millisecond,
/// "no responders"); the shard starts 1.5 s later and both are answered,
/// as one `Settings` fed the same writes answers them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_waits_for_a_shard_that_is_down_until_it_is_back() {
    let dir = dir();
    let server = NatsServer::start(dir.path()).expect("nats-server");
    let client = connect(server.url()).await;
    let layout = Layout::new(2).unwrap();
    let api = Api::new(client.clone(), support::app(), layout, 1).await.unwrap();
    let requests = world(5, 400, 60);
    let mut seqs = Vec::new();
    for (i, (path, body)) in requests.iter().enumerate() {
        let request = Request::parse(path, body.as_bytes()).unwrap();
        let answered = api
            .append(&request, Generation::of(path), &format!("w{i}"))
            .await
            .unwrap();
        seqs.push(answered.seq.unwrap());
    }
    let mut reference = reference(&requests, &seqs);
    let _shard0 = shard(&client, layout, 0);

    let recipients: Vec<String> = (0..60).map(user).collect();
    let on_1 = recipients
        .iter()
        .find(|r| layout.shard_of_user(r) == ShardId(1))
        .unwrap()
        .clone();
    let message = pushes().remove(0);
    let started = Instant::now();
    let got = tokio::spawn({
        let (api, on_1) = (api.clone(), on_1.clone());
        async move { api.get(&get(&on_1), Generation::Form, 0).await }
    });
    let decided = tokio::spawn({
        let (api, message, recipients) = (api.clone(), message.clone(), recipients.clone());
        async move { api.decide_chunk(&message, &recipients, false, 0).await }
    });
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(
        !got.is_finished() && !decided.is_finished(),
        "refused before the shard was back"
    );
    let _shard1 = shard(&client, layout, 1);
    let got = got.await.unwrap().expect("the get waited for the shard");
    let decided = decided.await.unwrap().expect("the push waited for the shard");
    assert!(started.elapsed() >= Duration::from_millis(1_500));
    assert_eq!(
        got.json,
        reference
            .handle(
                "/conversation/notification/get.json",
                format!("requestId={on_1}&conversationType=1&targetId=bob").as_bytes()
            )
            .to_json()
    );
    let lines: Vec<String> = decided.into_iter().map(|r| r.json).collect();
    assert_eq!(lines, expected(&reference, &message, &recipients));
}

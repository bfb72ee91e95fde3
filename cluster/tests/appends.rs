//! `Dnd-Duplicate` means an earlier request of the client's was stored:
//! the API node's own retry of an append whose acknowledgement was lost is
//! not one.

mod support;

use std::time::{Duration, Instant};

use dnd_cluster::log::Log;
use dnd_cluster::nats_server::NatsServer;
use dnd_engine::Request;
use support::proxy::Proxy;

/// The node appends through a proxy that swallows the server's answers: the
/// write is stored, its acknowledgement lost. The connection is cut, the
/// node reconnects and retries under the same id; the stream answers
/// "duplicate", but the stored message is the node's own attempt, so the
/// client's first request is answered as stored now (`duplicate: false`),
/// once. A later retry of the client's (a new request, same id) is a
/// duplicate, through this node or another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_request_whose_acknowledgement_was_lost_is_not_a_duplicate() {
    let dir = support::dir();
    let server = NatsServer::start(dir.path()).expect("nats-server");
    let direct = support::connect(server.url()).await;
    let other_node = Log::open(direct.clone(), support::app(), 1).await.unwrap();
    let proxy = Proxy::start(server.url()).await;
    let node = Log::open(support::connect(proxy.url()).await, support::app(), 1)
        .await
        .unwrap();
    let request = Request::parse("/user/blockPushPeriod/delete.json", b"userId=u1").unwrap();
    let patience = Duration::from_secs(30);

    let before = node.append(&request, "w0", patience).await.unwrap();
    assert!(!before.duplicate);
    proxy.swallow(true);
    let append = tokio::spawn({
        let (node, request) = (node.clone(), request.clone());
        async move { node.append(&request, "w1", patience).await }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while support::stream_state(&direct).await.2 < 2 {
        assert!(Instant::now() < deadline, "the write was not stored");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    proxy.swallow(false);
    proxy.cut();
    let first = append.await.unwrap().unwrap();
    assert!(!first.duplicate, "the client's first request: {first:?}");
    assert_eq!(first.seq, before.seq + 1);
    assert_eq!(support::stream_state(&direct).await, (1, 2, 2), "stored once");

    for log in [&node, &other_node] {
        let retry = log.append(&request, "w1", patience).await.unwrap();
        assert!(retry.duplicate, "the client's retry: {retry:?}");
        assert_eq!(retry.seq, first.seq);
    }
    assert_eq!(support::stream_state(&direct).await, (1, 2, 2));
}

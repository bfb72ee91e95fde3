//! What JetStream's duplicate window does across a purge: measured, since
//! the shards purge the stream below their oldest snapshot.

mod support;

use dnd_cluster::log::Log;
use dnd_cluster::nats_server::NatsServer;
use dnd_engine::Request;
use std::time::Duration;

/// A write purged from the stream is still remembered by its id: a retry
/// inside the duplicate window after a trim is acknowledged as a duplicate
/// (with the purged sequence) and stored nowhere. So trimming never lets a
/// late retry be applied twice while the window lasts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purge_keeps_the_duplicate_window() {
    let dir = support::dir();
    let server = NatsServer::start(dir.path()).expect("nats-server");
    let client = async_nats::connect(server.url()).await.unwrap();
    let log = Log::open(client, 1).await.unwrap();
    let request = Request::parse("/user/blockPushPeriod/delete.json", b"userId=u1").unwrap();
    let patience = Duration::from_secs(5);
    let first = log.append(&request, "w1", patience).await.unwrap();
    let other = log.append(&request, "w2", patience).await.unwrap();
    assert!(!first.duplicate && !other.duplicate);
    let mut stream = log.context().get_stream("DND").await.unwrap();
    stream.purge().sequence(other.seq + 1).await.unwrap();
    assert_eq!(stream.info().await.unwrap().state.messages, 0, "purged");
    let retry = log.append(&request, "w1", patience).await.unwrap();
    assert!(retry.duplicate, "{retry:?}");
    assert_eq!(retry.seq, first.seq);
    assert_eq!(stream.info().await.unwrap().state.messages, 0, "nothing stored again");
}

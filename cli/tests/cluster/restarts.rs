//! What an operator does to a running cluster (one nats-server, three
//! `dnd cluster shard` snapshotting often so that the stream is trimmed, two
//! API nodes, signed writes from clients each with its own
//! `Idempotency-Key`s): kill -9 a shard, an API node mid-burst, the
//! nats-server (restarted on its store and port). Nothing acknowledged is
//! lost or applied twice, a retry is a duplicate exactly when an earlier
//! request of the client's was stored, and the shards decide as `dnd
//! replay` does.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dnd_cluster::nats_server::NatsServer;
use dnd_testkit::world::*;

use super::procs::*;
use super::{assert_same_as_replay, stream_state};

fn one(addr: SocketAddr, path: &str, body: &str, key: Option<&str>, after: u64) -> Got {
    let item = Item {
        path,
        body,
        key: key.map(str::to_owned),
        after,
    };
    pipeline(addr, std::slice::from_ref(&item), 1, &AtomicUsize::new(0))
        .remove(0)
        .expect("an answer")
}

const SET: &str = "/conversation/notification/set.json";
const GET: &str = "/conversation/notification/get.json";

const ALICE: &str = "requestId=alice&conversationType=1&targetId=bob";

fn alice(level: u8) -> String {
    format!("requestId=alice&conversationType=1&targetId=bob&unpushLevel={level}")
}

/// alice sets level 5 under `k-first` (sequence 1), then 1; sixty more
/// writes go through the other node while the shards snapshot every 5
/// entries. The retry of `k-first` is a duplicate, and still is after the
/// nats-server is killed (-9) and restarted on its store and port: alice
/// reads 1, through either node.
#[test]
fn a_retry_before_a_trim_is_a_duplicate_through_a_nats_server_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = NatsServer::start(dir.path()).expect("nats-server");
    let config = config_file(dir.path());
    let (_a, a) = api(server.url(), &config);
    let (_b, b) = api(server.url(), &config);
    let _shards: Vec<Proc> = (0..SHARDS).map(|s| shard(server.url(), &config, s, 5)).collect();

    let first = one(a, SET, &alice(5), Some("k-first"), 0);
    assert_eq!((first.status, first.seq, first.duplicate), (200, Some(1), false));
    let later = one(a, SET, &alice(1), Some("k-later"), 0);
    assert_eq!((later.seq, later.duplicate), (Some(2), false));
    let bodies: Vec<String> = (0..60)
        .map(|i| format!("requestId=u{i}&conversationType=1&targetId=bob&unpushLevel=2"))
        .collect();
    let items: Vec<Item<'_>> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| Item {
            path: SET,
            body,
            key: Some(format!("k{i}")),
            after: 0,
        })
        .collect();
    let got = pipeline(b, &items, 2, &AtomicUsize::new(0));
    let last = got.iter().map(|g| g.as_ref().unwrap().seq.unwrap()).max().unwrap();
    assert_eq!(one(b, GET, ALICE, None, last).body, r#"{"code":200,"isMuted":1}"#);
    let retry = one(b, SET, &alice(5), Some("k-first"), 0);
    assert_eq!((retry.seq, retry.duplicate), (Some(1), true));

    let before = stream_state(server.url());
    server.restart().expect("the server restarts");
    let retry = one(a, SET, &alice(5), Some("k-first"), 0);
    assert_eq!(stream_state(server.url()), before, "nothing stored again");
    assert_eq!(
        (retry.status, retry.seq, retry.duplicate),
        (200, Some(1), true),
        "{}",
        retry.body
    );
    for node in [a, b] {
        assert_eq!(one(node, GET, ALICE, None, 0).body, r#"{"code":200,"isMuted":1}"#);
    }
}

/// Six clients, each with its own keys, write a world through two API
/// nodes. Mid-burst node A is killed (-9); later the nats-server is killed
/// and restarted on its store and port, and shard 1 killed and restarted.
/// Every first request answered is answered `Dnd-Duplicate: false` (nothing
/// was stored for its key before); the clients retry what was not answered
/// under the same keys (through a restarted A, or B); the stream holds
/// every write exactly once, and the shards decide as `dnd replay` does.
#[test]
fn kills_mid_burst_lose_nothing_double_nothing_and_answer_no_first_request_as_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = NatsServer::start(dir.path()).expect("nats-server");
    let config = config_file(dir.path());
    let (mut node_a, a) = api(server.url(), &config);
    let (_node_b, b) = api(server.url(), &config);
    let mut shards: Vec<Proc> = (0..SHARDS).map(|s| shard(server.url(), &config, s, 500)).collect();

    const CLIENTS: usize = 6;
    const COUNT: usize = 3_000;
    const USERS: u32 = 600;
    let requests = world(21, COUNT, USERS);
    let key = |i: usize| format!("c{}-{i}", i % CLIENTS);
    let items = |client: usize, todo: &[usize]| -> Vec<Item<'_>> {
        todo.iter()
            .filter(|&&i| i % CLIENTS == client)
            .map(|&i| Item {
                path: requests[i].0,
                body: &requests[i].1,
                key: Some(key(i)),
                after: 0,
            })
            .collect()
    };
    let all: Vec<usize> = (0..COUNT).collect();
    let answered = AtomicUsize::new(0);
    let mut seqs = vec![0u64; COUNT];
    let mut todo = Vec::new();
    std::thread::scope(|s| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (items, answered) = (items(c, &all), &answered);
                let node = if c % 2 == 0 { a } else { b };
                s.spawn(move || {
                    let got = pipeline(node, &items, 1, answered);
                    (c, got)
                })
            })
            .collect();
        wait_for("a sixth answered", Duration::from_secs(60), || {
            answered.load(Ordering::Relaxed) >= COUNT / 6
        });
        node_a.kill();
        wait_for("a third answered", Duration::from_secs(60), || {
            answered.load(Ordering::Relaxed) >= COUNT / 3
        });
        shards[1].kill();
        server.restart().expect("the server restarts");
        shards[1] = shard(server.url(), &config, 1, 500);
        for client in clients {
            let (c, got) = client.join().unwrap();
            let sent: Vec<usize> = all.iter().copied().filter(|i| i % CLIENTS == c).collect();
            for (i, g) in sent.into_iter().zip(got) {
                match g {
                    Some(g) if g.status == 200 => {
                        assert!(!g.duplicate, "write {i}'s first request answered as a duplicate");
                        seqs[i] = g.seq.unwrap();
                    }
                    _ => todo.push(i),
                }
            }
        }
    });
    let first_unanswered = todo.len();
    assert!(first_unanswered > 0, "node A's kill left writes unanswered");

    let (_node_a, a) = api(server.url(), &config);
    for _ in 0..5 {
        if todo.is_empty() {
            break;
        }
        let mut again = Vec::new();
        for client in 0..CLIENTS {
            let retries = items(client, &todo);
            let node = if client % 2 == 0 { a } else { b };
            let mine: Vec<usize> = todo.iter().copied().filter(|i| i % CLIENTS == client).collect();
            for (i, g) in mine.into_iter().zip(pipeline(node, &retries, 1, &AtomicUsize::new(0))) {
                match g {
                    Some(g) if g.status == 200 => seqs[i] = g.seq.unwrap(),
                    _ => again.push(i),
                }
            }
        }
        todo = again;
    }
    assert!(todo.is_empty(), "{} writes never accepted", todo.len());
    assert_eq!(
        seqs.iter().copied().collect::<HashSet<_>>().len(),
        COUNT,
        "one sequence each"
    );
    // Exactly once: nothing was read yet, so no shard appended a marker,
    // and nothing is trimmed inside the duplicate window.
    assert_eq!(stream_state(server.url()), (COUNT as u64, COUNT as u64));
    assert_same_as_replay(a, &requests, &seqs, USERS);
    eprintln!("operator kills: {first_unanswered} of {COUNT} first requests unanswered, all retried once");
}

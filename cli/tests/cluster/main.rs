//! The clustered settings service over HTTP, against a real nats-server
//! (started here on a free loopback port; `scripts/nats-server.sh` installs
//! one if needed): `dnd cluster shard` ×3 and `dnd serve --cluster`, driven
//! by a signing client as the SDKs sign, decide exactly as `dnd replay` of
//! the same requests in stream order, byte for byte, through a shard's
//! kill -9 and an API node's.

mod held;
mod procs;
mod replicas;
mod restarts;

use std::collections::HashSet;
use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dnd_cluster::nats_server::NatsServer;
use dnd_testkit::world::*;
use procs::*;

/// Request lines for `dnd replay`: the changes in stream order.
fn replay_lines(requests: &[(&str, String)], seqs: &[u64]) -> String {
    let mut order: Vec<usize> = (0..requests.len()).collect();
    order.sort_by_key(|&i| seqs[i]);
    let mut input = String::new();
    for i in order {
        let (path, body) = &requests[i];
        input.push_str(&serde_json::json!({ "request": path, "body": body }).to_string());
        input.push('\n');
    }
    input
}

fn writes<'a>(requests: &'a [(&'static str, String)], range: std::ops::Range<usize>, prefix: &str) -> Vec<Item<'a>> {
    range
        .map(|i| Item {
            path: requests[i].0,
            body: &requests[i].1,
            key: Some(format!("{prefix}{i}")),
            after: 0,
        })
        .collect()
}

/// Sends `requests[range]` pipelined over 32 connections, retrying what
/// was not answered under the same key; records each write's sequence.
pub(crate) fn send_all(
    addr: std::net::SocketAddr,
    requests: &[(&'static str, String)],
    range: std::ops::Range<usize>,
    seqs: &mut [u64],
) {
    let mut todo: Vec<usize> = range.collect();
    for _ in 0..5 {
        let items: Vec<Item<'_>> = todo
            .iter()
            .map(|&i| Item {
                path: requests[i].0,
                body: &requests[i].1,
                key: Some(format!("w{i}")),
                after: 0,
            })
            .collect();
        let got = pipeline(addr, &items, 32, &AtomicUsize::new(0));
        let mut again = Vec::new();
        for (&i, g) in todo.iter().zip(got) {
            match g {
                Some(g) if g.status == 200 => {
                    assert_eq!(g.body, r#"{"code":200}"#, "{:?}", requests[i]);
                    seqs[i] = g.seq.expect("a write's Dnd-Seq");
                }
                _ => again.push(i),
            }
        }
        if again.is_empty() {
            return;
        }
        todo = again;
    }
    panic!("{} writes not accepted in 5 rounds", todo.len());
}

/// Every push decided through the HTTP API node equals `dnd replay`'s line
/// for it, byte for byte, and so does every get. Returns the decisions made.
pub(crate) fn assert_same_as_replay(
    addr: std::net::SocketAddr,
    requests: &[(&'static str, String)],
    seqs: &[u64],
    users: u32,
) -> usize {
    let last = *seqs.iter().max().unwrap();
    let recipients: Vec<String> = (0..users)
        .rev()
        .map(user)
        .chain(["stranger".to_owned(), "u.x *>".to_owned()])
        .collect();
    let bodies: Vec<String> = pushes().iter().map(|p| push(p, &recipients)).collect();
    let gets = gets(users, 97);
    let mut input = replay_lines(requests, seqs);
    for b in &bodies {
        input.push_str(&format!("{{\"push\":{b}}}\n"));
    }
    for (path, body) in &gets {
        input.push_str(&serde_json::json!({ "request": path, "body": body }).to_string());
        input.push('\n');
    }
    let expected = replay(&input);
    assert_eq!(expected.len(), requests.len() + bodies.len() + gets.len());
    assert!(expected[..requests.len()].iter().all(|l| l == r#"{"code":200}"#));

    let mut items: Vec<Item<'_>> = bodies
        .iter()
        .map(|b| Item {
            path: "/push/decide.json",
            body: b,
            key: None,
            after: last,
        })
        .collect();
    items.extend(gets.iter().map(|(path, body)| Item {
        path,
        body,
        key: None,
        after: last,
    }));
    let got = pipeline(addr, &items, 2, &AtomicUsize::new(0));
    for (k, (g, want)) in got.iter().zip(&expected[requests.len()..]).enumerate() {
        let g = g.as_ref().expect("an answer");
        assert_eq!(g.status, 200, "{}", g.body);
        if g.body != *want {
            let at = g.body.bytes().zip(want.bytes()).position(|(a, b)| a != b).unwrap_or(0);
            panic!(
                "answer {k} differs from dnd replay's at byte {at}: {:?} vs {:?}",
                &g.body[at.saturating_sub(80)..(at + 80).min(g.body.len())],
                &want[at.saturating_sub(80)..(at + 80).min(want.len())]
            );
        }
    }
    bodies.len() * recipients.len()
}

/// 100,000 requests of every kind through the HTTP API node into three
/// shards, pipelined over keep-alive connections; shard 1 is killed (-9) a
/// third of the way in, stays down while a quarter more arrives, and
/// restarts from its snapshot. Afterwards every decision and get through
/// HTTP equals `dnd replay` of the requests in stream order, byte for byte.
#[test]
fn a_world_through_three_shards_over_http_decides_as_dnd_replay_through_a_shard_kill() {
    let started = Instant::now();
    dnd_testkit::nats::ensure();
    let dir = tempfile::tempdir().unwrap();
    let server = NatsServer::start(dir.path()).expect("nats-server");
    let config = config_file(dir.path());
    let (_api, addr) = api(server.url(), &config);
    let mut shards: Vec<Proc> = (0..SHARDS).map(|s| shard(server.url(), &config, s, 5_000)).collect();

    const USERS: u32 = 20_000;
    const COUNT: usize = 100_000;
    let requests = world(14, COUNT, USERS);
    let mut seqs = vec![0u64; COUNT];
    let write_start = Instant::now();
    send_all(addr, &requests, 0..COUNT / 3, &mut seqs);
    shards[1].kill();
    send_all(addr, &requests, COUNT / 3..COUNT * 7 / 12, &mut seqs);
    shards[1] = shard(server.url(), &config, 1, 5_000);
    send_all(addr, &requests, COUNT * 7 / 12..COUNT, &mut seqs);
    let write_time = write_start.elapsed();
    assert_eq!(
        seqs.iter().copied().collect::<HashSet<_>>().len(),
        COUNT,
        "every write has a sequence of its own"
    );

    let decide_start = Instant::now();
    let decided = assert_same_as_replay(addr, &requests, &seqs, USERS);
    let decide_time = decide_start.elapsed();
    eprintln!(
        "cluster over HTTP: {COUNT} writes in {write_time:.2?} ({:.0}/s); {decided} decisions (and gets) in {decide_time:.2?} ({:.0}/s); whole test {:.2?}",
        COUNT as f64 / write_time.as_secs_f64(),
        decided as f64 / decide_time.as_secs_f64(),
        started.elapsed()
    );
}

/// Writes `items` on a fresh connection and keeps it without reading: the
/// client never sees these answers.
fn send_unread(addr: std::net::SocketAddr, items: &[Item<'_>]) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    for item in items {
        let one = pipeline_bytes(addr, item);
        s.write_all(&one).unwrap();
    }
    s
}

fn pipeline_bytes(addr: std::net::SocketAddr, item: &Item<'_>) -> Vec<u8> {
    procs::request_bytes(addr, item)
}

/// Every request of the world is accepted (`dnd replay` answers 200).
#[test]
fn the_world_is_accepted_by_dnd_replay() {
    let requests = world(13, 3_000, 500);
    let seqs: Vec<u64> = (1..=requests.len() as u64).collect();
    let out = replay(&replay_lines(&requests, &seqs));
    for (line, r) in out.iter().zip(&requests) {
        assert_eq!(line, r#"{"code":200}"#, "{r:?}");
    }
}

/// The stream's (messages, last sequence), read with a JetStream client.
fn stream_state(url: &str) -> (u64, u64) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = async_nats::connect(url).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let mut stream = js
            .get_stream(dnd_cluster::space::Space::app(dnd_testkit::client::KEY).stream())
            .await
            .unwrap();
        let state = stream.info().await.unwrap().state.clone();
        (state.messages, state.last_sequence)
    })
}

/// The API node is killed (-9) with writes appended but unanswered: first
/// 500 whose answers the client never read (each known to be in the
/// stream), then a burst in flight on 16 connections. The client retries
/// everything unanswered with the same `Idempotency-Key` (fresh nonces)
/// through a new API node: all 500 answer `Dnd-Duplicate: true` with their
/// original sequence, the stream holds every write exactly once, and the
/// shards decide as `dnd replay` does.
#[test]
fn a_retry_after_the_api_node_dies_is_applied_once() {
    dnd_testkit::nats::ensure();
    let dir = tempfile::tempdir().unwrap();
    let server = NatsServer::start(dir.path()).expect("nats-server");
    let config = config_file(dir.path());
    let (mut api_node, addr) = api(server.url(), &config);
    let _shards: Vec<Proc> = (0..SHARDS)
        .map(|s| shard(server.url(), &config, s, 1_000_000))
        .collect();

    const USERS: u32 = 2_000;
    const COUNT: usize = 6_000;
    const UNREAD: usize = 500;
    let requests = world(13, COUNT, USERS);
    let unread = writes(&requests, 0..UNREAD, "k");
    let _kept = send_unread(addr, &unread);
    wait_for("the unread writes in the stream", Duration::from_secs(30), || {
        stream_state(server.url()).0 == UNREAD as u64
    });
    let burst = writes(&requests, UNREAD..COUNT, "k");
    let answered = AtomicUsize::new(0);
    let first = std::thread::scope(|s| {
        let sender = s.spawn(|| pipeline(addr, &burst, 16, &answered));
        wait_for("a tenth of the burst answered", Duration::from_secs(60), || {
            answered.load(Ordering::Relaxed) >= burst.len() / 10
        });
        api_node.kill();
        sender.join().unwrap()
    });
    let mut seqs = vec![0u64; COUNT];
    let mut unanswered: Vec<usize> = (0..UNREAD).collect();
    for (k, g) in first.iter().enumerate() {
        match g {
            Some(g) if g.status == 200 => seqs[UNREAD + k] = g.seq.unwrap(),
            _ => unanswered.push(UNREAD + k),
        }
    }
    assert!(unanswered.len() < COUNT, "some of the burst was answered");

    let (_api_node, addr) = api(server.url(), &config);
    let retries: Vec<Item<'_>> = unanswered
        .iter()
        .map(|&i| Item {
            path: requests[i].0,
            body: &requests[i].1,
            key: Some(format!("k{i}")),
            after: 0,
        })
        .collect();
    let again = pipeline(addr, &retries, 8, &AtomicUsize::new(0));
    let mut duplicates = 0;
    for (&i, g) in unanswered.iter().zip(&again) {
        let g = g.as_ref().expect("a retry answered");
        assert_eq!((g.status, g.body.as_str()), (200, r#"{"code":200}"#));
        if i < UNREAD {
            assert!(
                g.duplicate,
                "write {i} was in the stream before the kill: its retry is a duplicate"
            );
        }
        duplicates += usize::from(g.duplicate);
        seqs[i] = g.seq.unwrap();
    }
    // Exactly once: as many entries as writes, each at its own sequence, and
    // none stored twice (a second store would take a sequence past COUNT).
    // Nothing was read yet, so no shard has appended a marker.
    assert_eq!(stream_state(server.url()), (COUNT as u64, COUNT as u64));
    assert_eq!(seqs.iter().copied().collect::<HashSet<_>>().len(), COUNT);
    assert_same_as_replay(addr, &requests, &seqs, USERS);
    eprintln!(
        "api kill: {} of {COUNT} unanswered, {duplicates} of their retries were already appended",
        unanswered.len()
    );
}

/// `dnd cluster local` as an installed binary runs it: the nats-server from
/// `$NATS_SERVER`, its store in a temporary directory that is gone once it
/// stops, and shards asked to stop (SIGTERM), which save their snapshots.
#[test]
fn cluster_local_stops_its_shards_gracefully_and_removes_its_temporary_directory() {
    let nats = dnd_testkit::nats::ensure();
    let tmp = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dnd"))
        .args(["cluster", "local", "--shards", "2", "--listen", "127.0.0.1:0"])
        .env("DND_APP_KEY", dnd_testkit::client::KEY)
        .env("DND_APP_SECRET", dnd_testkit::client::SECRET)
        .env("DND_TIME_ZONE", ZONE)
        .env("NATS_SERVER", &nats)
        .env("TMPDIR", tmp.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let addr = dnd_testkit::process::listening(&mut child);
    let client = dnd_testkit::client::Client::new(addr);
    let set = client.post("/user/urgent/set.json", "userId=u&allow=1");
    assert_eq!(set.status, 200, "{}", set.body);
    // Read back through the shard that holds u, once it answers: the shards
    // are running (on a loaded machine they may take a while to start).
    let seq = set
        .header("dnd-seq")
        .expect("a cluster's write has a sequence")
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let headers = [
            client.signed("/user/urgent/get.json"),
            vec![("Dnd-After".into(), seq.clone())],
        ]
        .concat();
        let got = client.send("POST", "/user/urgent/get.json", &headers, b"userId=u");
        if got.body == r#"{"code":200,"data":{"allow":1}}"# {
            break;
        }
        assert!(Instant::now() < deadline, "the shards never answered: {}", got.body);
        std::thread::sleep(Duration::from_millis(100));
    }
    let during: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(during.iter().any(|n| n.starts_with("dnd-cluster-")), "{during:?}");
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{logs}");
    let stopped = logs.lines().filter(|l| l.contains("shard stopped;")).count();
    assert_eq!(stopped, 2, "both shards stopped after their snapshots:\n{logs}");
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn without_a_nats_server_cluster_local_says_what_to_install() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dnd"))
        .args(["cluster", "local", "--shards", "1", "--listen", "127.0.0.1:0"])
        .env("DND_APP_KEY", "k")
        .env("DND_APP_SECRET", "s")
        .env_remove("NATS_SERVER")
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let why = String::from_utf8_lossy(&out.stderr);
    assert!(
        why.contains("no nats-server on PATH and NATS_SERVER is not set") && why.contains("install nats-server 2.11"),
        "{why}"
    );
}

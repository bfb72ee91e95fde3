//! Three nats-servers in one JetStream cluster on loopback, a stream of
//! three replicas: one server is killed (-9) while writes go on; every
//! write is retried under its id until acknowledged, and the shards still
//! decide as one `Settings` fed the writes in stream order.

mod support;

use std::collections::HashSet;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use dnd_cluster::api::Api;
use dnd_cluster::log::Log;
use dnd_cluster::nats_server::NatsServer;
use dnd_engine::shard::Layout;
use dnd_engine::Request;
use futures::StreamExt;
use support::*;

/// Free loopback ports for the cluster routes (the client ports are picked
/// by the servers themselves).
fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    listeners.iter().map(|l| l.local_addr().unwrap().port()).collect()
}

fn server(dir: &std::path::Path, i: usize, routes: &[u16]) -> NatsServer {
    let others: Vec<String> = routes
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != i)
        .map(|(_, p)| format!("nats://127.0.0.1:{p}"))
        .collect();
    let extra = vec![
        "--server_name".into(),
        format!("n{i}"),
        "--cluster_name".into(),
        "dnd".into(),
        "--cluster".into(),
        format!("nats://127.0.0.1:{}", routes[i]),
        "--routes".into(),
        others.join(","),
    ];
    NatsServer::start_with(&dir.join(format!("n{i}")), &extra).expect("a cluster server")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "open defect: after the stream leader's server is killed, a shard whose consumer lived on it \
            sometimes never resumes (no decision within 150 s; seen twice in CI-like runs, passes alone in ~6 s). \
            Run with `cargo test -p dnd-cluster --test jetstream_cluster -- --ignored`; see docs/scaling.md"]
async fn a_killed_server_of_three_loses_nothing_and_doubles_nothing() {
    let started = Instant::now();
    let dir = dir();
    let routes = free_ports(3);
    let mut servers: Vec<NatsServer> = (0..3).map(|i| server(dir.path(), i, &routes)).collect();
    let urls: Vec<async_nats::ServerAddr> = servers.iter().map(|s| s.url().parse().unwrap()).collect();
    let client = async_nats::ConnectOptions::new().connect(urls).await.unwrap();

    // The JetStream API answers once the cluster has a meta leader (~1 s).
    let layout = Layout::new(3).unwrap();
    let api = Api::new(client.clone(), layout, 3).await.expect("an R3 stream");
    // The shards run in this process, on the same client (it knows all three
    // servers and reconnects to another when its own is killed).
    let shards: Vec<_> = (0..3).map(|s| shard(&client, layout, s)).collect();

    const USERS: u32 = 1_000;
    const COUNT: usize = 3_000;
    let requests = world(21, COUNT, USERS);
    let parsed: Vec<Request> = requests
        .iter()
        .map(|(p, b)| Request::parse(p, b.as_bytes()).unwrap())
        .collect();
    let log: &Log = api.log();
    let append = |i: usize| {
        let request = &parsed[i];
        async move {
            let a = log
                .append(request, &format!("c{i}"), Duration::from_secs(30))
                .await
                .expect("appended within 30 s");
            (i, a.seq)
        }
    };
    let mut seqs = vec![0u64; COUNT];
    for (i, seq) in futures::stream::iter(0..COUNT / 2)
        .map(append)
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await
    {
        seqs[i] = seq;
    }
    // Kill the server that leads the stream, then keep writing.
    let leader = log
        .context()
        .get_stream("DND")
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .cluster
        .clone()
        .and_then(|c| c.leader);
    let victim = leader
        .and_then(|l| l.strip_prefix('n').and_then(|n| n.parse::<usize>().ok()))
        .unwrap_or(0);
    let killed_at = Instant::now();
    servers[victim].kill();
    for (i, seq) in futures::stream::iter(COUNT / 2..COUNT)
        .map(append)
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await
    {
        seqs[i] = seq;
    }
    let failover = killed_at.elapsed();
    assert_eq!(
        seqs.iter().copied().collect::<HashSet<_>>().len(),
        COUNT,
        "one sequence per write"
    );
    let state = log
        .context()
        .get_stream("DND")
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .state
        .clone();
    assert_eq!(
        (state.messages, state.last_sequence),
        (COUNT as u64, COUNT as u64),
        "{state:?}"
    );

    // The shards on the surviving servers decide as the reference does (the
    // killed server's shard reconnects to another: its client knows all three).
    let reference = reference(&requests, &seqs);
    let recipients: Vec<String> = (0..USERS).map(user).collect();
    let last = *seqs.iter().max().unwrap();
    // A shard whose consumer lived on the killed server resumes once its
    // client notices (heartbeats): a decide is a pure read, so it is retried.
    for message in pushes() {
        let until = Instant::now() + Duration::from_secs(150);
        let mut got = Vec::new();
        for chunk in recipients.chunks(dnd_cluster::api::DECIDE_CHUNK) {
            let records = loop {
                match api.decide_chunk(&message, chunk, false, last).await {
                    Ok(records) => break records,
                    Err(e) => assert!(Instant::now() < until, "not decided within 150 s: {e}"),
                }
            };
            got.extend(records.into_iter().map(|r| r.json));
        }
        assert_eq!(got, expected(&reference, &message, &recipients));
    }
    shards.iter().for_each(|s| s.abort());
    eprintln!("3-server cluster: killed n{victim} (the stream leader); the second half took {failover:.2?}; whole test {:.2?}", started.elapsed());
}

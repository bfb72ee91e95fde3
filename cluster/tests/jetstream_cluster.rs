//! Three nats-servers in one JetStream cluster on loopback, a stream of
//! three replicas: the server that leads the stream and holds a shard's
//! consumer is killed (-9) while writes go on; every write is retried under
//! its id until acknowledged, the shards whose consumers died with it open
//! new ones, and the shards still decide as one `Settings` fed the writes in
//! stream order.

mod support;

use std::collections::HashSet;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use dnd_cluster::api::Api;
use dnd_cluster::log::Log;
use dnd_cluster::nats_server::NatsServer;
use dnd_cluster::wire::Progress;
use dnd_engine::shard::{Layout, ShardId};
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

/// Shard `shard`'s progress, if it answers within a second.
async fn progress(client: &async_nats::Client, layout: Layout, shard: u16) -> Option<Progress> {
    let request = client.request(support::app().progress_subject(layout, ShardId(shard)), "".into());
    let answer = tokio::time::timeout(Duration::from_secs(1), request).await.ok()?.ok()?;
    serde_json::from_slice(&answer.payload).ok()
}

/// The server (`n<i>`) holding each shard's consumer, once every shard has
/// one that answers. A shard's newest consumer (by its creation time) is
/// its own: one it replaced lingers until the server expires it (30 s).
async fn consumer_servers(js: &async_nats::jetstream::Context, layout: Layout) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut found = vec![None; usize::from(layout.shards())];
        if let Ok(stream) = js.get_stream(support::app().stream()).await {
            let mut names = stream.consumer_names();
            while let Some(Ok(name)) = names.next().await {
                let info = tokio::time::timeout(Duration::from_secs(1), stream.consumer_info(&name)).await;
                let Ok(Ok(info)) = info else { continue };
                let leader = info.cluster.as_ref().and_then(|c| c.leader.clone());
                for (i, slot) in found.iter_mut().enumerate() {
                    let mark = support::app().mark_subject(layout, ShardId(i as u16));
                    let newer = slot.as_ref().is_none_or(|(created, _)| info.created > *created);
                    if info.config.filter_subjects.contains(&mark) && newer {
                        *slot = Some((info.created, leader.clone()));
                    }
                }
            }
        }
        let leaders = found
            .iter()
            .map(|slot| slot.as_ref().and_then(|(_, leader)| leader.clone()));
        if let Some(all) = leaders.collect::<Option<Vec<String>>>() {
            return all;
        }
        assert!(Instant::now() < deadline, "the shards' consumers: {found:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The server leading the stream.
async fn stream_leader(js: &async_nats::jetstream::Context) -> Option<String> {
    let mut stream = js.get_stream(support::app().stream()).await.ok()?;
    stream.info().await.ok()?.cluster.clone()?.leader
}

/// Moves the stream's leadership to `server` (a raft step-down with a
/// preferred successor, nats-server 2.11+), waiting until it leads.
async fn lead_from(client: &async_nats::Client, js: &async_nats::jetstream::Context, server: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while stream_leader(js).await.as_deref() != Some(server) {
        assert!(
            Instant::now() < deadline,
            "the stream's leadership did not move to {server}"
        );
        let body = serde_json::json!({"placement": {"preferred": server}}).to_string();
        let _ = tokio::time::timeout(
            Duration::from_secs(3),
            client.request(
                format!("$JS.API.STREAM.LEADER.STEPDOWN.{}", support::app().stream()),
                body.into(),
            ),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// How long the decide retry waits for every shard to answer after the
/// kill. Recovery takes seconds (see `docs/scaling.md`: 2 s of missed
/// heartbeats, then a new consumer); the margin is for a loaded 2-core
/// machine, where one consumer creation may time out (3 s) a few times
/// while the killed server is still counted online.
const RECOVERY_DEADLINE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_of_three_loses_nothing_and_doubles_nothing() {
    let started = Instant::now();
    let dir = dir();
    let routes = free_ports(3);
    let mut servers: Vec<NatsServer> = (0..3).map(|i| server(dir.path(), i, &routes)).collect();
    let urls: Vec<async_nats::ServerAddr> = servers.iter().map(|s| s.url().parse().unwrap()).collect();
    let client = async_nats::ConnectOptions::new().connect(urls).await.unwrap();

    // The JetStream API answers once the cluster has a meta leader (~1 s).
    let layout = Layout::new(3).unwrap();
    let api = Api::new(client.clone(), support::app(), layout, 3)
        .await
        .expect("an R3 stream");
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
    // The victim leads the stream and holds at least one shard's consumer:
    // if the leader holds none, the leadership moves to a server that does.
    let js = log.context();
    let holders = consumer_servers(js, layout).await;
    let leader = stream_leader(js).await.expect("a stream leader");
    let victim_name = if holders.contains(&leader) {
        leader
    } else {
        lead_from(&client, js, &holders[0]).await;
        holders[0].clone()
    };
    let orphaned: Vec<u16> = (0..3).filter(|&s| holders[usize::from(s)] == victim_name).collect();
    let victim: usize = victim_name[1..].parse().unwrap();
    let before: Vec<Progress> = futures::future::join_all((0..3).map(|s| progress(&client, layout, s)))
        .await
        .into_iter()
        .map(|p| p.expect("every shard answers before the kill"))
        .collect();
    let killed_at = Instant::now();
    servers[victim].kill();
    // When each orphaned shard had a new consumer open, and when it applied
    // an entry through it (new entries wait for the stream's election).
    let watch = {
        let (client, orphaned, before) = (client.clone(), orphaned.clone(), before.clone());
        tokio::spawn(async move {
            let (mut opened, mut applied) = (vec![None; orphaned.len()], vec![None; orphaned.len()]);
            while applied.contains(&None) && killed_at.elapsed() < RECOVERY_DEADLINE {
                for (i, &s) in orphaned.iter().enumerate() {
                    let (Some(p), b) = (progress(&client, layout, s).await, before[usize::from(s)]) else {
                        continue;
                    };
                    if p.consumers_opened > b.consumers_opened {
                        opened[i].get_or_insert(killed_at.elapsed());
                        if p.applied > b.applied {
                            applied[i].get_or_insert(killed_at.elapsed());
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (opened, applied)
        })
    };
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
        .get_stream(support::app().stream())
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

    // Every shard decides as the reference does, the orphaned ones once they
    // have opened new consumers on the surviving servers: a decide is a pure
    // read, so it is retried until then.
    let reference = reference(&requests, &seqs);
    let recipients: Vec<String> = (0..USERS).map(user).collect();
    let last = *seqs.iter().max().unwrap();
    let mut recovered = None;
    for message in pushes() {
        let mut got = Vec::new();
        for chunk in recipients.chunks(dnd_cluster::api::DECIDE_CHUNK) {
            let records = loop {
                match api.decide_chunk(&message, chunk, false, last).await {
                    Ok(records) => break records,
                    Err(e) => assert!(
                        killed_at.elapsed() < RECOVERY_DEADLINE,
                        "not decided within {RECOVERY_DEADLINE:?} of the kill: {e}"
                    ),
                }
            };
            got.extend(records.into_iter().map(|r| r.json));
        }
        recovered.get_or_insert_with(|| killed_at.elapsed());
        assert_eq!(got, expected(&reference, &message, &recipients));
    }
    let recovered = recovered.unwrap();
    // The orphaned shards did replace their consumers.
    let mut opened = Vec::new();
    for s in 0..3 {
        let p = progress(&client, layout, s).await.expect("a shard's progress");
        assert!(p.applied >= last, "shard {s} is behind: {p:?}");
        opened.push(p.consumers_opened);
    }
    for &s in &orphaned {
        let b = before[usize::from(s)].consumers_opened;
        assert!(
            opened[usize::from(s)] > b,
            "shard {s} kept its dead consumer: {b} then {opened:?}"
        );
    }
    let (reopened, resumed) = watch.await.unwrap();
    shards.iter().for_each(|s| s.abort());
    eprintln!(
        "3-server cluster: killed n{victim} (the stream leader, holding the consumers of shards {orphaned:?}); \
         the orphaned shards had new consumers {reopened:.2?} and applied entries through them {resumed:.2?} \
         after the kill; \
         the second half of the writes took {failover:.2?}; every shard decided {recovered:.2?} after the kill \
         (consumers opened per shard: {opened:?}); whole test {:.2?}",
        started.elapsed()
    );

    // Two of three down: no quorum, so a write is refused (no
    // acknowledgement), never acknowledged and lost.
    let survivor = (0..3).find(|&i| i != victim).unwrap();
    servers[survivor].kill();
    let request = Request::parse("/user/blockPushPeriod/delete.json", b"userId=late").unwrap();
    let refused = log.append(&request, "after-quorum-loss", Duration::from_secs(4)).await;
    assert!(refused.is_err(), "acknowledged without a quorum: {refused:?}");
}

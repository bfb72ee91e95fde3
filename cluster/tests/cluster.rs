//! The sharded service against a real nats-server (started here on a free
//! loopback port; `scripts/nats-server.sh` installs one if needed): three
//! shard processes and an API node decide as one `Settings` fed the same
//! requests in stream order, through a shard's kill -9 and an API node's.

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use dnd_cluster::api::Api;
use dnd_cluster::nats_server::NatsServer;
use dnd_engine::shard::Layout;
use futures::StreamExt;
use support::*;

const SEND_DEADLINE: Duration = Duration::from_secs(5);

/// Sends `requests[range]` with ids `{prefix}{i}`, 256 at a time, retrying a
/// failed send under the same id; records each write's sequence.
async fn send_all(
    client: &async_nats::Client,
    requests: &[(&'static str, String)],
    range: std::ops::Range<usize>,
    prefix: &str,
    seqs: &mut [u64],
) {
    let answers: Vec<(usize, u64)> = futures::stream::iter(range)
        .map(|i| async move {
            let (path, body) = &requests[i];
            let id = format!("{prefix}{i}");
            for _ in 0..10 {
                match send(client, path, body, Some(&id), 0, SEND_DEADLINE).await {
                    Ok(a) => {
                        assert_eq!(a.response, r#"{"code":200}"#, "{path} {body}");
                        return (i, a.seq.expect("a write's sequence"));
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
            panic!("request {i} was not accepted in 10 tries");
        })
        .buffer_unordered(256)
        .collect()
        .await;
    for (i, seq) in answers {
        seqs[i] = seq;
    }
}

/// Every push decided through the shards equals the reference, recipient by
/// recipient, in order; and gets through the API node answer as it does.
async fn assert_same_decisions(
    client: &async_nats::Client,
    api: &Api,
    reference: &dnd_engine::Settings,
    users: u32,
    after: u64,
) -> u64 {
    let recipients: Vec<String> = (0..users)
        .rev()
        .map(user)
        .chain(["stranger".to_owned(), "u.x *>".to_owned()])
        .collect();
    let mut decided = 0;
    for message in pushes() {
        let expected = expected(reference, &message, &recipients);
        let mut got = Vec::with_capacity(recipients.len());
        let mut order = Vec::with_capacity(recipients.len());
        decided += api
            .decide(&message, recipients.iter().cloned(), after, |r, v| {
                order.push(r.to_owned());
                got.push(v);
            })
            .await
            .expect("decide");
        assert_eq!(order, recipients, "merged in recipient order");
        let differ = got.iter().zip(&expected).filter(|(a, b)| a != b).count();
        assert_eq!(
            differ,
            0,
            "{differ} of {} decisions differ for {message:?}",
            recipients.len()
        );
    }
    let mut reference = reference.clone();
    for i in (0..users).step_by(97) {
        let u = form_urlencoded::byte_serialize(user(i).as_bytes()).collect::<String>();
        for (path, body) in [
            ("/user/blockPushPeriod/get.json", format!("userId={u}")),
            (
                "/conversation/type/notification/get.json",
                format!("conversationType=10&requestId={u}"),
            ),
            (
                "/conversation/notification/get.json",
                format!("conversationType=10&requestId={u}&targetId=ug1&busChannel=c1"),
            ),
            (
                "/ultragroup/notdisturb/get.json",
                format!("groupId=ug{}&busChannel=c{}", i % 10, i % 3),
            ),
        ] {
            let got = send(client, path, &body, None, after, SEND_DEADLINE)
                .await
                .expect("a get");
            assert_eq!(
                got.response,
                reference.handle(path, body.as_bytes()).to_json(),
                "{path} {body}"
            );
        }
    }
    decided
}

/// 100,000 requests through an API node into three shards; shard 1 is
/// killed (-9) a third of the way in, stays down while a quarter more
/// arrives, and restarts from its snapshot. Afterwards every decision and
/// get equals one `Settings` fed the requests in stream order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_world_through_three_shards_decides_as_one_settings_through_a_shard_kill() {
    let started = Instant::now();
    let dir = dir();
    let server = NatsServer::start(dir.path()).expect("nats-server");
    let layout = Layout::new(3).unwrap();
    let _api_node = Node::api(server.url(), layout);
    let client = async_nats::connect(server.url()).await.unwrap();
    let api = Api::new(client.clone(), layout, 1).await.expect("the stream");
    let mut shards: Vec<Node> = (0..3).map(|s| Node::shard(server.url(), layout, s, 5_000)).collect();

    const USERS: u32 = 20_000;
    const COUNT: usize = 100_000;
    let requests = world(14, COUNT, USERS);
    let mut seqs = vec![0u64; COUNT];
    let write_start = Instant::now();
    send_all(&client, &requests, 0..COUNT / 3, "w", &mut seqs).await;
    let before_kill = progress(&client, layout, 1, Duration::from_secs(30)).await;
    shards[1].kill();
    send_all(&client, &requests, COUNT / 3..COUNT * 7 / 12, "w", &mut seqs).await;
    shards[1] = Node::shard(server.url(), layout, 1, 5_000);
    send_all(&client, &requests, COUNT * 7 / 12..COUNT, "w", &mut seqs).await;
    let write_time = write_start.elapsed();

    let distinct: HashSet<u64> = seqs.iter().copied().collect();
    assert_eq!(distinct.len(), COUNT, "every write has a sequence of its own");
    let last = *seqs.iter().max().unwrap();
    let single_apply = Instant::now();
    let reference = reference(&requests, &seqs);
    let single_apply = single_apply.elapsed();
    let single_decide = Instant::now();
    let recipients: Vec<String> = (0..USERS).map(user).collect();
    let single_decided: usize = pushes()
        .iter()
        .map(|m| expected(&reference, m, &recipients).len())
        .sum();
    let single_decide = single_decide.elapsed();

    let decide_start = Instant::now();
    let decided = assert_same_decisions(&client, &api, &reference, USERS, last).await;
    let decide_time = decide_start.elapsed();

    let after = progress(&client, layout, 1, Duration::from_secs(5)).await;
    assert!(
        after.restored > 0,
        "the restarted shard restored a snapshot: {after:?} (before the kill: {before_kill:?})"
    );
    assert!(after.applied >= last.min(after.applied), "{after:?}");
    assert!(
        after.applied_since_start < COUNT as u64 / 2,
        "the restarted shard replayed only the tail after its snapshot: {after:?}"
    );
    eprintln!(
        "cluster figures: {COUNT} writes through the API node in {:.2?} ({:.0}/s); {decided} decisions across 3 shards in {:.2?} ({:.0}/s); whole test {:.2?}",
        write_time,
        COUNT as f64 / write_time.as_secs_f64(),
        decide_time,
        decided as f64 / decide_time.as_secs_f64(),
        started.elapsed()
    );
    eprintln!(
        "single-node figures, same run: {COUNT} requests applied in {:.2?} ({:.0}/s); {single_decided} decisions in {:.2?} ({:.0}/s)",
        single_apply,
        COUNT as f64 / single_apply.as_secs_f64(),
        single_decide,
        single_decided as f64 / single_decide.as_secs_f64(),
    );
}

/// Writes in flight when the API node is killed (-9): the client retries
/// each unanswered one under the same id through a new API node. Some
/// retries find their write already appended (the kill fell between the
/// append and the answer); every write is in the stream exactly once, and
/// the shards decide as the reference does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_the_api_node_dies_is_applied_once() {
    let dir = dir();
    let server = NatsServer::start(dir.path()).expect("nats-server");
    let layout = Layout::new(3).unwrap();
    let mut api_node = Node::api(server.url(), layout);
    let client = async_nats::connect(server.url()).await.unwrap();
    let api = Api::new(client.clone(), layout, 1).await.expect("the stream");
    let _shards: Vec<Node> = (0..3)
        .map(|s| Node::shard(server.url(), layout, s, 1_000_000))
        .collect();

    const USERS: u32 = 2_000;
    const COUNT: usize = 6_000;
    let requests = world(13, COUNT, USERS);
    // Wait for the API node to serve, then send everything at once and kill
    // it while answers are still coming.
    let probe = "/user/blockPushPeriod/get.json";
    let until = Instant::now() + Duration::from_secs(20);
    while send(&client, probe, "userId=probe", None, 0, Duration::from_secs(1))
        .await
        .is_err()
    {
        assert!(Instant::now() < until, "the API node never answered");
    }
    let answered = std::sync::atomic::AtomicUsize::new(0);
    let first: Vec<(usize, Option<u64>)> = {
        let sends = futures::stream::iter(0..COUNT)
            .map(|i| {
                let (client, requests, answered) = (&client, &requests, &answered);
                async move {
                    let (path, body) = &requests[i];
                    let a = send(client, path, body, Some(&format!("k{i}")), 0, Duration::from_secs(3)).await;
                    if a.is_ok() {
                        answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    (i, a.ok().and_then(|a| a.seq))
                }
            })
            .buffer_unordered(COUNT);
        let killer = async {
            while answered.load(std::sync::atomic::Ordering::Relaxed) < COUNT / 10 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            api_node.kill();
        };
        let (answers, ()) = tokio::join!(sends.collect::<Vec<_>>(), killer);
        answers
    };
    let unanswered: Vec<usize> = first.iter().filter(|(_, s)| s.is_none()).map(|&(i, _)| i).collect();
    assert!(
        !unanswered.is_empty() && unanswered.len() < COUNT,
        "the kill fell during the burst: {} unanswered",
        unanswered.len()
    );

    let _api_node = Node::api(server.url(), layout);
    let mut seqs = vec![0u64; COUNT];
    for &(i, seq) in &first {
        seqs[i] = seq.unwrap_or(0);
    }
    let mut duplicates = 0;
    for chunk in unanswered.chunks(500) {
        let retries: Vec<(usize, Answer)> = futures::stream::iter(chunk.iter().copied())
            .map(|i| {
                let (client, requests) = (&client, &requests);
                async move {
                    let (path, body) = &requests[i];
                    for _ in 0..50 {
                        if let Ok(a) = send(client, path, body, Some(&format!("k{i}")), 0, Duration::from_secs(2)).await
                        {
                            return (i, a);
                        }
                    }
                    panic!("retry {i} never answered");
                }
            })
            .buffer_unordered(500)
            .collect()
            .await;
        for (i, a) in retries {
            duplicates += usize::from(a.duplicate);
            seqs[i] = a.seq.expect("a sequence");
        }
    }
    assert!(
        duplicates > 0,
        "no retry found its write appended before the kill ({} retried)",
        unanswered.len()
    );

    // Exactly once in the stream: as many entries as writes (nothing was
    // read yet, so no shard has appended a marker), each at its own sequence.
    // Nothing stored twice: every store takes a new sequence, so the last
    // one is the count of writes.
    let mut stream = api.log().context().get_stream("DND").await.unwrap();
    let until = Instant::now() + Duration::from_secs(3);
    let state = loop {
        let state = stream.info().await.unwrap().state.clone();
        if state.messages == COUNT as u64 || Instant::now() > until {
            break state;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        (state.messages, state.last_sequence),
        (COUNT as u64, COUNT as u64),
        "{state:?}"
    );
    let distinct = seqs.iter().copied().collect::<HashSet<_>>();
    assert_eq!(distinct.len(), COUNT);

    let reference = reference(&requests, &seqs);
    let last = *seqs.iter().max().unwrap();
    assert_same_decisions(&client, &api, &reference, USERS, last).await;
    eprintln!(
        "api kill: {} of {COUNT} unanswered, {duplicates} of their retries were already appended",
        unanswered.len()
    );
}

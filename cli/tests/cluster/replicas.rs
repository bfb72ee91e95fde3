//! Two replicas of every shard, as `dnd cluster shard --replica K`
//! processes: replica 1 of every shard killed (-9) under a read load
//! through the HTTP API node refuses no read.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dnd_cluster::nats_server::NatsServer;
use dnd_testkit::world::*;

use crate::procs::*;
use crate::{assert_same_as_replay, send_all};

/// Three shards, replicas 0 and 1 of each, 1,000 writes through the HTTP
/// API node; a reader asks every push and a sample of gets (after the last
/// write) over and over, each round compared with `dnd replay` byte for
/// byte (a refused read is an answer that differs); replica 1 of every
/// shard is killed (-9) mid-round. Every round before and after the kill
/// passes.
#[test]
fn killing_a_replica_of_every_shard_under_reads_refuses_none() {
    let dir = tempfile::tempdir().unwrap();
    let server = NatsServer::start(dir.path()).expect("nats-server");
    let config = config_file(dir.path());
    let (_api, addr) = api(server.url(), &config);
    let _first: Vec<Proc> = (0..SHARDS).map(|s| replica(server.url(), &config, s, 0, 200)).collect();
    let mut second: Vec<Proc> = (0..SHARDS).map(|s| replica(server.url(), &config, s, 1, 200)).collect();

    const USERS: u32 = 300;
    const COUNT: usize = 1_000;
    let requests = world(21, COUNT, USERS);
    let mut seqs = vec![0u64; COUNT];
    send_all(addr, &requests, 0..COUNT, &mut seqs);

    let (stop, rounds) = (AtomicBool::new(false), AtomicUsize::new(0));
    std::thread::scope(|s| {
        let reader = s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                assert_same_as_replay(addr, &requests, &seqs, USERS);
                rounds.fetch_add(1, Ordering::Relaxed);
            }
        });
        // Both replicas of every shard answering reads first.
        let warm = Instant::now();
        while rounds.load(Ordering::Relaxed) < 2 && !reader.is_finished() {
            assert!(
                warm.elapsed() < Duration::from_secs(60),
                "no reads answered within 60 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(150));
        let before = rounds.load(Ordering::Relaxed);
        for p in &mut second {
            p.kill();
        }
        let killed = Instant::now();
        while rounds.load(Ordering::Relaxed) < before + 3 && !reader.is_finished() {
            assert!(
                killed.elapsed() < Duration::from_secs(60),
                "reads stopped after the kill"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        stop.store(true, Ordering::Relaxed);
        reader.join().expect("every read answered as dnd replay answers it");
        eprintln!(
            "replicas over HTTP: {before} rounds before the kill, {} after, in {:.2?}",
            rounds.load(Ordering::Relaxed) - before,
            killed.elapsed()
        );
    });
}

//! A bounded load test on loopback: durable sets per second and their p99
//! latency through the real server (16 keep-alive clients, every set synced
//! before its answer), and decisions per second for a 10,000-recipient push,
//! each beside the same work done in process. Bounded in count and in time;
//! loopback only. Run: `cargo bench -p dnd-server --bench load`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::{config, read_answer, Client, TestServer};
use dnd_engine::{Config, Settings};

const CLIENTS: usize = 16;
const SETS_PER_CLIENT: usize = 1_500;
const PUSH_RECIPIENTS: usize = 10_000;
const PUSHES: usize = 30;
const BUDGET: Duration = Duration::from_secs(60);

fn set_body(c: usize, i: usize) -> String {
    format!(
        "conversationType=3&requestId=c{c}u{}&unpushLevel={}",
        i % 500,
        [1, 2, 4, 5][i % 4]
    )
}

/// Keep-alive requests on one connection.
fn keep_alive(
    addr: SocketAddr,
    client: &Client,
    path: &str,
    bodies: impl Iterator<Item = String>,
    deadline: Instant,
) -> Vec<Duration> {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut took = Vec::new();
    for body in bodies {
        if Instant::now() > deadline {
            break;
        }
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in client.signed(path) {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let started = Instant::now();
        writer.write_all(head.as_bytes()).unwrap();
        writer.write_all(body.as_bytes()).unwrap();
        let a = read_answer(&mut reader).unwrap();
        assert_eq!(a.status, 200, "{}", a.body);
        took.push(started.elapsed());
    }
    took
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let deadline = Instant::now() + BUDGET;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(), dir.path());
    let addr = server.addr;

    // Durable sets through the service.
    let started = Instant::now();
    let threads: Vec<_> = (0..CLIENTS)
        .map(|c| {
            std::thread::spawn(move || {
                let client = Client::new(addr);
                let path = "/conversation/type/notification/set.json";
                keep_alive(
                    addr,
                    &client,
                    path,
                    (0..SETS_PER_CLIENT).map(|i| set_body(c, i)),
                    deadline,
                )
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    let elapsed = started.elapsed();
    latencies.sort();
    let sets_per_sec = latencies.len() as f64 / elapsed.as_secs_f64();

    // The same sets in process.
    let mut settings = Settings::new(Config::new(chrono_tz::UTC));
    let started = Instant::now();
    for c in 0..CLIENTS {
        for i in 0..SETS_PER_CLIENT {
            let _ = settings.handle("/conversation/type/notification/set.json", set_body(c, i).as_bytes());
        }
    }
    let in_process_sets = (CLIENTS * SETS_PER_CLIENT) as f64 / started.elapsed().as_secs_f64();

    // A 10,000-recipient push, decided through the service and in process.
    let recipients: Vec<String> = (0..PUSH_RECIPIENTS)
        .map(|i| format!("c{}u{}", i % CLIENTS, i % 500))
        .collect();
    let push = format!(
        r#"{{"at":0,"conversationType":3,"targetId":"g","fromUserId":"s","recipients":{}}}"#,
        serde_json::to_string(&recipients).unwrap()
    );
    let client = Client::new(addr);
    let started = Instant::now();
    let took = keep_alive(
        addr,
        &client,
        "/push/decide.json",
        (0..PUSHES).map(|_| push.clone()),
        deadline,
    );
    let service_decisions = (took.len() * PUSH_RECIPIENTS) as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    for _ in 0..PUSHES {
        let p: dnd_engine::push::Push = serde_json::from_str(&push).unwrap();
        let ids = p.mentioned_ids();
        let message = p.message(&ids).unwrap();
        let prepared = settings.prepare(&message);
        let mut out = String::new();
        for r in &p.recipients {
            let d = prepared.decide_id(r);
            out.push_str(d.by().as_str());
        }
        std::hint::black_box(out);
    }
    let in_process_decisions = (PUSHES * PUSH_RECIPIENTS) as f64 / started.elapsed().as_secs_f64();

    println!(
        "durable sets through the service: {sets_per_sec:.0}/s with {CLIENTS} clients ({} sets)",
        latencies.len()
    );
    println!(
        "  latency p50 {:?}, p99 {:?}, max {:?}",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().unwrap()
    );
    println!(
        "sets in process (parse + apply, no log): {in_process_sets:.0}/s; service/in-process = {:.4}",
        sets_per_sec / in_process_sets
    );
    println!("decisions through the service ({PUSH_RECIPIENTS}-recipient push, parse + decide + JSON both ways): {service_decisions:.0}/s");
    println!(
        "decisions in process (parse the push + decide by id): {in_process_decisions:.0}/s; service/in-process = {:.3}",
        service_decisions / in_process_decisions
    );
    server.stop();
}

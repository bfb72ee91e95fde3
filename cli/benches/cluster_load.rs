//! The release figures of the settings service in one run, on loopback:
//! the same writes and the same 10,000-recipient pushes in process, through
//! one node (`dnd serve --data`) and through a three-shard cluster (`dnd
//! serve --cluster` and three `dnd cluster shard` over a nats-server, the
//! processes `dnd cluster local --shards 3` starts), with the same signing
//! client, and every figure as a ratio to the others. Bounded in count and in
//! time (about a minute after the build); every process it starts is killed
//! when it ends. Run: `cargo bench -p dnd-cli --bench cluster_load`.
//!
//! Writes: 16 clients, each on one keep-alive connection with one request in
//! flight (so the latency is one write's), 1,500 sets each. The single node
//! answers after its log is synced (`sync_data`); the cluster answers after
//! JetStream acknowledged the append (nats-server's default syncs its files
//! every 2 minutes, so the same writes are also sent to an API node over a
//! nats-server configured to sync every write). Decisions: one client sends 30 pushes
//! of 10,000 recipients (8,000 distinct users, every one written before) one
//! after another, after one push not timed (which also waits, on the
//! cluster, for the shards to apply every write).

#[allow(dead_code)]
#[path = "../tests/cluster/procs.rs"]
mod procs;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dnd_cluster::nats_server::NatsServer;
use dnd_engine::push::Push;
use dnd_engine::{Config, Settings};
use dnd_testkit::client::{read_answer, Client, KEY, SECRET, TIMEOUT};
use procs::{config_file, Proc, SHARDS, ZONE};

const CLIENTS: usize = 16;
const SETS_PER_CLIENT: usize = 1_500;
const PUSH_RECIPIENTS: usize = 10_000;
const PUSHES: usize = 30;
/// Each phase stops sending when its budget is spent (the figures then say
/// how many it sent).
const PHASE_BUDGET: Duration = Duration::from_secs(40);
const SET_PATH: &str = "/conversation/type/notification/set.json";

fn set_body(c: usize, i: usize) -> String {
    format!(
        "conversationType=3&requestId=c{c}u{}&unpushLevel={}",
        i % 500,
        [1, 2, 4, 5][i % 4]
    )
}

fn push_body() -> String {
    let recipients: Vec<String> = (0..PUSH_RECIPIENTS)
        .map(|i| format!("c{}u{}", i % CLIENTS, i % 500))
        .collect();
    format!(
        r#"{{"at":0,"conversationType":3,"targetId":"g","fromUserId":"s","recipients":{}}}"#,
        serde_json::to_string(&recipients).unwrap()
    )
}

/// Signed requests on one keep-alive connection, one in flight; the time
/// each took from its first byte written to its answer read.
fn keep_alive(addr: SocketAddr, path: &str, bodies: impl Iterator<Item = String>, deadline: Instant) -> Vec<Duration> {
    let client = Client::new(addr);
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
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
        assert!(!a.body.contains("\"code\":1"), "{}", &a.body[..a.body.len().min(200)]);
        took.push(started.elapsed());
    }
    took
}

/// Writes per second and the sorted latencies.
struct Writes {
    per_sec: f64,
    sorted: Vec<Duration>,
}

impl Writes {
    fn percentile(&self, p: f64) -> Duration {
        self.sorted[((self.sorted.len() as f64 * p) as usize).min(self.sorted.len() - 1)]
    }
}

fn writes(addr: SocketAddr) -> Writes {
    let deadline = Instant::now() + PHASE_BUDGET;
    let started = Instant::now();
    let threads: Vec<_> = (0..CLIENTS)
        .map(|c| {
            std::thread::spawn(move || {
                keep_alive(addr, SET_PATH, (0..SETS_PER_CLIENT).map(|i| set_body(c, i)), deadline)
            })
        })
        .collect();
    let mut sorted: Vec<Duration> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    let elapsed = started.elapsed();
    sorted.sort();
    Writes {
        per_sec: sorted.len() as f64 / elapsed.as_secs_f64(),
        sorted,
    }
}

/// Decisions per second over `PUSHES` pushes, after one push not timed.
fn decisions(addr: SocketAddr, push: &str) -> f64 {
    keep_alive(
        addr,
        "/push/decide.json",
        std::iter::once(push.to_owned()),
        Instant::now() + TIMEOUT,
    );
    let started = Instant::now();
    let took = keep_alive(
        addr,
        "/push/decide.json",
        (0..PUSHES).map(|_| push.to_owned()),
        Instant::now() + PHASE_BUDGET,
    );
    (took.len() * PUSH_RECIPIENTS) as f64 / started.elapsed().as_secs_f64()
}

/// `dnd serve --listen 127.0.0.1:0 --data DIR`, once it listens.
fn single_node(data: &std::path::Path, config: &std::path::Path) -> (Proc, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dnd"))
        .env("DND_APP_KEY", KEY)
        .env("DND_APP_SECRET", SECRET)
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .arg("--config")
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dnd serve");
    let stdout = child.stdout.take().unwrap();
    let proc = Proc(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .parse()
        .unwrap();
    (proc, addr)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split(' ').take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let load_before = load_average();
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path());
    let push = push_body();

    // In process: the same sets, then the same pushes.
    let mut settings = Settings::new(Config::new(ZONE.parse().unwrap()));
    let started = Instant::now();
    for c in 0..CLIENTS {
        for i in 0..SETS_PER_CLIENT {
            let _ = settings.handle(SET_PATH, set_body(c, i).as_bytes());
        }
    }
    let in_process_sets = (CLIENTS * SETS_PER_CLIENT) as f64 / started.elapsed().as_secs_f64();
    let in_process = |lines: bool| {
        let started = Instant::now();
        let mut out = Vec::with_capacity(PUSH_RECIPIENTS * 80);
        for _ in 0..PUSHES {
            out.clear();
            let p = Push::from_json(&push).unwrap();
            let ids = p.mentioned_ids();
            let message = p.message(&ids).unwrap();
            let prepared = settings.prepare(&message);
            for r in &p.recipients {
                if lines {
                    dnd_server::decide::decision_line(&prepared, r, false, &mut out);
                } else {
                    out.extend_from_slice(prepared.decide_id(r).by().as_str().as_bytes());
                }
            }
            std::hint::black_box(&out);
        }
        (PUSHES * PUSH_RECIPIENTS) as f64 / started.elapsed().as_secs_f64()
    };
    let in_process_decisions = in_process(false);
    let in_process_lines = in_process(true);

    // One node, durable on its log.
    let data = dir.path().join("single");
    let (node, addr) = single_node(&data, &config);
    let single_writes = writes(addr);
    let single_decisions = decisions(addr, &push);
    drop(node);

    // Three shards and an API node over one nats-server (R1).
    let nats = NatsServer::start(&dir.path().join("nats")).expect("nats-server");
    let (api, addr) = procs::api(nats.url(), &config);
    let shards: Vec<Proc> = (0..SHARDS)
        .map(|s| procs::shard(nats.url(), &config, s, 20_000))
        .collect();
    let cluster_writes = writes(addr);
    let cluster_decisions = decisions(addr, &push);
    drop(api);
    drop(shards);
    drop(nats);

    // The same writes into a nats-server that syncs every write to disk
    // (`sync_interval: always`; its default syncs every 2 minutes), as the
    // single node does: an API node alone (writes need no shard).
    let synced_dir = dir.path().join("nats-synced");
    std::fs::create_dir_all(&synced_dir).unwrap();
    let synced_conf = synced_dir.join("nats.conf");
    std::fs::write(&synced_conf, "jetstream {\n  sync_interval: always\n}\n").unwrap();
    let nats =
        NatsServer::start_with(&synced_dir, &["-c".into(), synced_conf.display().to_string()]).expect("nats-server");
    let (api, addr) = procs::api(nats.url(), &config);
    let synced_writes = writes(addr);
    drop(api);
    drop(nats);
    let load_after = load_average();

    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
    println!("load average (1, 5, 15 min): {load_before} before, {load_after} after");
    println!(
        "writes, {CLIENTS} clients x {SETS_PER_CLIENT} sets, one in flight each:\n  in process (Settings::handle, no log): {in_process_sets:.0}/s"
    );
    for (name, w) in [
        ("one node (log synced per write)", &single_writes),
        ("3 shards (JetStream ack, its default sync)", &cluster_writes),
        ("API node, JetStream synced per write", &synced_writes),
    ] {
        println!(
            "  {name}: {:.0}/s ({} sets); p50 {}, p99 {}, max {}; /in process = {:.4}",
            w.per_sec,
            w.sorted.len(),
            ms(w.percentile(0.5)),
            ms(w.percentile(0.99)),
            ms(*w.sorted.last().unwrap()),
            w.per_sec / in_process_sets
        );
    }
    println!(
        "  3 shards / one node = {:.2}; p99 3 shards / one node = {:.2}",
        cluster_writes.per_sec / single_writes.per_sec,
        cluster_writes.percentile(0.99).as_secs_f64() / single_writes.percentile(0.99).as_secs_f64()
    );
    println!(
        "  JetStream synced / one node = {:.2}",
        synced_writes.per_sec / single_writes.per_sec
    );
    println!("decisions, {PUSHES} pushes of {PUSH_RECIPIENTS} recipients, one client:");
    println!("  in process (parse the push, decide_id): {in_process_decisions:.0}/s");
    println!(
        "  in process with the decision lines (decide_deferred + the JSON line): {in_process_lines:.0}/s; /decide_id = {:.3}",
        in_process_lines / in_process_decisions
    );
    for (name, d) in [("one node", single_decisions), ("3 shards", cluster_decisions)] {
        println!(
            "  {name}: {d:.0}/s; /in process = {:.3}; /in process with lines = {:.3}",
            d / in_process_decisions,
            d / in_process_lines
        );
    }
    println!("  3 shards / one node = {:.3}", cluster_decisions / single_decisions);
}

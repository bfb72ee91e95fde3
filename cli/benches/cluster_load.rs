//! The release figures of the settings service in one run, on loopback:
//! the same writes and the same 10,000-recipient pushes in process, through
//! one node (`dnd serve --data`) and through a three-shard cluster (`dnd
//! serve --cluster` and three `dnd cluster shard` over a nats-server, the
//! processes `dnd cluster local --shards 3` starts), with the same signing
//! client, and every figure as a ratio to the others. Bounded in count and in
//! time (about a minute after the build); every process it starts is killed
//! when it ends. Run: `cargo bench -p dnd-cli --bench cluster_load`.
//!
//! The client, its writes and pushes, and the work in process are
//! `dnd_testkit::load`'s, the same as `cargo bench -p dnd-server --bench
//! load`. The single node answers after its log is synced (`sync_data`);
//! the cluster answers after JetStream acknowledged the append
//! (nats-server's default syncs its files every 2 minutes, so the same
//! writes are also sent to an API node over a nats-server configured to
//! sync every write). The first push (not timed) also waits, on the
//! cluster, for the shards to apply every write.

#[allow(dead_code)]
#[path = "../tests/cluster/procs.rs"]
mod procs;

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dnd_cluster::nats_server::NatsServer;
use dnd_engine::{Config, Settings};
use dnd_testkit::client::{KEY, SECRET};
use dnd_testkit::load::{self, Writes, CLIENTS, PUSHES, PUSH_RECIPIENTS, SETS_PER_CLIENT};
use dnd_testkit::process::listening;
use procs::{config_file, Proc, SHARDS, ZONE};

/// Each phase stops sending when its budget is spent (the figures then say
/// how many it sent).
const PHASE_BUDGET: Duration = Duration::from_secs(40);

fn writes(addr: SocketAddr) -> Writes {
    load::writes(addr, Instant::now() + PHASE_BUDGET)
}

fn decisions(addr: SocketAddr, push: &str) -> f64 {
    load::decisions(addr, push, PHASE_BUDGET)
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
    let addr = listening(&mut child);
    (Proc(child), addr)
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
    let push = load::push_body();

    // In process: the same sets, then the same pushes.
    let mut settings = Settings::new(Config::new(ZONE.parse().unwrap()));
    let in_process_sets = load::sets_in_process(&mut settings);
    let in_process_decisions = load::decisions_in_process(&settings, &push, false);
    let in_process_lines = load::decisions_in_process(&settings, &push, true);

    // One node, durable on its log.
    let data = dir.path().join("single");
    let (node, addr) = single_node(&data, &config);
    let single_writes = writes(addr);
    let single_decisions = decisions(addr, &push);
    drop(node);

    // Three shards and an API node over one nats-server (R1).
    dnd_testkit::nats::ensure();
    let nats = NatsServer::start(&dir.path().join("nats")).expect("nats-server");
    let (api, addr) = procs::api(nats.url(), &config);
    let shards: Vec<Proc> = (0..SHARDS)
        .map(|s| procs::shard(nats.url(), &config, s, 20_000))
        .collect();
    let cluster_writes = writes(addr);
    // The shards' decide in binary frames (the default) and in JSON (an API
    // node told to talk JSON), alternated over the same shards: the mean of
    // the two binary runs against the JSON one.
    let (json_api, json_addr) = procs::api_with(nats.url(), &config, &[("DND_CLUSTER_DECIDE", "json")]);
    let binary_first = decisions(addr, &push);
    let cluster_json_decisions = decisions(json_addr, &push);
    let binary_second = decisions(addr, &push);
    let cluster_decisions = (binary_first + binary_second) / 2.0;
    drop(json_api);
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
    println!(
        "  3 shards, JSON to the shards: {cluster_json_decisions:.0}/s; binary frames (two runs: {binary_first:.0}/s, {binary_second:.0}/s) / JSON = {:.3}",
        cluster_decisions / cluster_json_decisions
    );
    println!(
        "  3 shards / one node = {:.3}; 3 shards JSON / one node = {:.3}",
        cluster_decisions / single_decisions,
        cluster_json_decisions / single_decisions
    );
}

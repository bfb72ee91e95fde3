//! A bounded load test on loopback: durable sets per second and their p99
//! latency through the real server (16 keep-alive clients, every set synced
//! before its answer), and decisions per second for a 10,000-recipient push,
//! each beside the same work done in process. The client is
//! `dnd_testkit::load`, the one `cargo bench -p dnd-cli --bench
//! cluster_load` drives a cluster with. Bounded in count and in time;
//! loopback only. Run: `cargo bench -p dnd-server --bench load`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{config, TestServer};
use dnd_engine::{Config, Settings};
use dnd_testkit::load::{self, CLIENTS, PUSH_RECIPIENTS};

const BUDGET: Duration = Duration::from_secs(60);

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let deadline = Instant::now() + BUDGET;
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(config(), dir.path());
    let addr = server.addr;

    // Durable sets through the service, then the same sets in process.
    let writes = load::writes(addr, deadline);
    let mut settings = Settings::new(Config::new(chrono_tz::UTC));
    let in_process_sets = load::sets_in_process(&mut settings);

    // A 10,000-recipient push, decided through the service and in process.
    let push = load::push_body();
    let service_decisions = load::decisions(addr, &push, deadline.saturating_duration_since(Instant::now()));
    let in_process_decisions = load::decisions_in_process(&settings, &push, false);

    println!(
        "durable sets through the service: {:.0}/s with {CLIENTS} clients ({} sets)",
        writes.per_sec,
        writes.sorted.len()
    );
    println!(
        "  latency p50 {:?}, p99 {:?}, max {:?}",
        writes.percentile(0.5),
        writes.percentile(0.99),
        writes.sorted.last().unwrap()
    );
    println!(
        "sets in process (parse + apply, no log): {in_process_sets:.0}/s; service/in-process = {:.4}",
        writes.per_sec / in_process_sets
    );
    println!("decisions through the service ({PUSH_RECIPIENTS}-recipient push, parse + decide + JSON both ways): {service_decisions:.0}/s");
    println!(
        "decisions in process (parse the push + decide by id): {in_process_decisions:.0}/s; service/in-process = {:.3}",
        service_decisions / in_process_decisions
    );
    server.stop();
}

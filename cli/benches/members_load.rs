//! A push to a conversation of 1,000,000 members, end to end on loopback,
//! with its ids inline against the same push naming only the conversation
//! (the members kept where the settings are, `docs/rules.md` §13), through
//! one node (`dnd serve --data`) and through three shards (`dnd serve
//! --cluster` and three `dnd cluster shard` over a nats-server), with the
//! same signing client; every figure a ratio to the inline push of the
//! same run. Run: `cargo bench -p dnd-cli --bench members_load`.
//!
//! The world: 1,000,000 users join group `big` through `/group/join.json`
//! (1,000 a request, the platform's most; a group rather than an ultra
//! group only because the ultra-group join takes one user a request),
//! 1% of them set a level on it, 5% a type level. Each push is sent
//! [`REPS`] times, one at a time, the answer read whole; the figure is the
//! best. Bytes on the wire are counted both ways. Every process it starts
//! is killed when it ends.

#[allow(dead_code)]
#[path = "../tests/cluster/procs.rs"]
mod procs;

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dnd_cluster::nats_server::NatsServer;
use dnd_testkit::client::{Client, KEY, SECRET};
use dnd_testkit::process::listening;
use procs::{Proc, SHARDS, ZONE};

const MEMBERS: usize = 1_000_000;
const REPS: usize = 3;

fn id(i: usize) -> String {
    format!("m{i:07}")
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

/// The world's writes, sent one at a time (each answered 200).
fn world(client: &Client) {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for start in (0..MEMBERS).step_by(1000) {
        let users: String = (start..start + 1000).map(|i| format!("userId={}&", id(i))).collect();
        let a = client.post("/group/join.json", &format!("{users}groupId=big&groupName=Big"));
        assert_eq!(a.status, 200, "{}", a.body);
    }
    for _ in 0..MEMBERS / 100 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let (u, l) = (id((x % MEMBERS as u64) as usize), [1, 2, 4, 5][(x >> 40) as usize % 4]);
        let a = client.post(
            "/conversation/notification/set.json",
            &format!("conversationType=3&requestId={u}&targetId=big&unpushLevel={l}"),
        );
        assert_eq!(a.status, 200, "{}", a.body);
    }
    for _ in 0..MEMBERS / 20 / 10 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let u = id((x % MEMBERS as u64) as usize);
        let a = client.post(
            "/conversation/type/notification/set.json",
            &format!("conversationType=3&requestId={u}&unpushLevel=5"),
        );
        assert_eq!(a.status, 200, "{}", a.body);
    }
}

struct Figure {
    name: &'static str,
    best: Duration,
    sent: usize,
    received: usize,
    pushes: usize,
}

/// `push` sent [`REPS`] times; the best time, the bytes each way and how
/// many recipients got a push (read from the answer).
fn measure(client: &Client, name: &'static str, push: &str) -> Figure {
    let mut best = Duration::MAX;
    let mut received = 0;
    let mut pushes = 0;
    for _ in 0..REPS {
        let started = Instant::now();
        let a = client.post("/push/decide.json", push);
        let took = started.elapsed();
        assert_eq!(a.status, 200, "{name}: {}", &a.body[..a.body.len().min(300)]);
        best = best.min(took);
        received = a.body.len();
        pushes = if a.body.starts_with("{\"decisions\"") {
            a.body.matches("\"push\":true").count()
        } else if a.body.starts_with("{\"push\"") {
            let v: serde_json::Value = serde_json::from_str(&a.body).unwrap();
            v["push"].as_array().unwrap().len()
        } else {
            0
        };
    }
    Figure {
        name,
        best,
        sent: push.len(),
        received,
        pushes,
    }
}

fn pushes() -> Vec<(&'static str, String)> {
    let head = r#""at":1764000000000,"conversationType":3,"targetId":"big","fromUserId":"m0000000""#;
    let ids: Vec<String> = (0..MEMBERS).map(id).collect();
    let inline = serde_json::to_string(&ids).unwrap();
    vec![
        ("ids inline, lines", format!("{{{head},\"recipients\":{inline}}}")),
        (
            "ids inline, bits",
            format!("{{{head},\"answer\":\"bits\",\"recipients\":{inline}}}"),
        ),
        ("members, lines", format!("{{{head}}}")),
        ("members, push", format!("{{{head},\"answer\":\"push\"}}")),
        ("members, bits", format!("{{{head},\"answer\":\"bits\"}}")),
    ]
}

fn report(title: &str, figures: &[Figure]) {
    println!("{title}:");
    let base = figures[0].best.as_secs_f64();
    for f in figures {
        println!(
            "  {:<18} {:>9.1} ms  sent {:>11} B  received {:>11} B  pushes {:>7}  time / ids inline, lines = {:.3}",
            f.name,
            f.best.as_secs_f64() * 1e3,
            f.sent,
            f.received,
            f.pushes,
            f.best.as_secs_f64() / base
        );
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let load_before = load_average();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("dnd.toml");
    std::fs::write(
        &config,
        format!("time_zone = \"{ZONE}\"\nmax_nonces = 10000000\nmax_recipients = {MEMBERS}\n"),
    )
    .unwrap();
    let pushes = pushes();

    let (node, addr) = single_node(&dir.path().join("single"), &config);
    let client = Client::new(addr);
    let started = Instant::now();
    world(&client);
    println!(
        "one node: the world written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let single: Vec<Figure> = pushes.iter().map(|(n, p)| measure(&client, n, p)).collect();
    drop(node);

    dnd_testkit::nats::ensure();
    let nats = NatsServer::start(&dir.path().join("nats")).expect("nats-server");
    let (api, addr) = procs::api(nats.url(), &config);
    let shards: Vec<Proc> = (0..SHARDS)
        .map(|s| procs::shard(nats.url(), &config, s, 10_000_000))
        .collect();
    let client = Client::new(addr);
    let started = Instant::now();
    world(&client);
    println!(
        "3 shards: the world written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let cluster: Vec<Figure> = pushes.iter().map(|(n, p)| measure(&client, n, p)).collect();
    drop(api);
    drop(shards);
    drop(nats);

    println!(
        "load average (1, 5, 15 min): {load_before} before, {} after",
        load_average()
    );
    println!("a push to {MEMBERS} members, best of {REPS}:");
    report("one node (dnd serve --data)", &single);
    report("3 shards (dnd serve --cluster, 3 dnd cluster shard)", &cluster);
    // The same decisions whichever way the push came: as many pushes in
    // the lines and in the push form, inline and by members.
    for figures in [&single, &cluster] {
        let counted: Vec<usize> = figures.iter().filter(|f| f.pushes > 0).map(|f| f.pushes).collect();
        assert!(counted.windows(2).all(|w| w[0] == w[1]), "{counted:?}");
    }
}

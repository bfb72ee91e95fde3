//! The processes of a cluster (`dnd cluster shard`, `dnd serve --cluster`),
//! `dnd replay`, and a signing client that pipelines requests over
//! keep-alive connections, as the platform's SDKs sign them.

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dnd_testkit::client::{read_answer, Client, KEY, SECRET, TIMEOUT};
use dnd_testkit::process::listening;
pub use dnd_testkit::world::ZONE;

pub const SHARDS: u16 = 3;

/// A process, killed (SIGKILL) and reaped when dropped.
pub struct Proc(pub Child);

impl Proc {
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The TOML every process of a test's cluster reads (the shards its zone).
pub fn config_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("dnd.toml");
    std::fs::write(&path, format!("time_zone = \"{ZONE}\"\nmax_nonces = 10000000\n")).unwrap();
    path
}

fn dnd() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dnd"));
    c.env("DND_APP_KEY", KEY).env("DND_APP_SECRET", SECRET);
    c.stderr(Stdio::null());
    c
}

pub fn shard(url: &str, config: &std::path::Path, index: u16, snapshot_every: u64) -> Proc {
    replica(url, config, index, 0, snapshot_every)
}

/// Replica `replica` of shard `index` (`dnd cluster shard --replica`).
pub fn replica(url: &str, config: &std::path::Path, index: u16, replica: u16, snapshot_every: u64) -> Proc {
    let mut c = dnd();
    c.args(["cluster", "shard", "--nats", url, "--shards", &SHARDS.to_string()])
        .args([
            "--index",
            &index.to_string(),
            "--replica",
            &replica.to_string(),
            "--snapshot-every",
            &snapshot_every.to_string(),
        ])
        .arg("--config")
        .arg(config);
    Proc(c.spawn().expect("a shard"))
}

/// An HTTP API node on a free loopback port, once it listens.
pub fn api(url: &str, config: &std::path::Path) -> (Proc, SocketAddr) {
    api_with(url, config, &[])
}

/// As [`api`], with more environment variables.
pub fn api_with(url: &str, config: &std::path::Path, env: &[(&str, &str)]) -> (Proc, SocketAddr) {
    let mut c = dnd();
    c.envs(env.iter().copied());
    c.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--cluster",
        url,
        "--shards",
        &SHARDS.to_string(),
    ])
    .arg("--config")
    .arg(config)
    .stdout(Stdio::piped());
    let mut child = c.spawn().expect("an API node");
    let addr = listening(&mut child);
    (Proc(child), addr)
}

/// `dnd replay --time-zone ZONE` of `input`: its output lines.
pub fn replay(input: &str) -> Vec<String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dnd"))
        .args(["replay", "--time-zone", ZONE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_owned();
    let feeder = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// One request to pipeline: the path, the body, the write's key (sent as
/// `Idempotency-Key`), the `Dnd-After` to send.
pub struct Item<'a> {
    pub path: &'a str,
    pub body: &'a str,
    pub key: Option<String>,
    pub after: u64,
}

/// An answer: the status, the body, `Dnd-Seq`, `Dnd-Duplicate`.
#[derive(Clone, Debug)]
pub struct Got {
    pub status: u16,
    pub body: String,
    pub seq: Option<u64>,
    pub duplicate: bool,
}

/// The bytes of one signed request (a fresh nonce, now's timestamp).
pub fn request_bytes(addr: SocketAddr, item: &Item<'_>) -> Vec<u8> {
    let mut extra = Vec::new();
    if let Some(key) = &item.key {
        extra.push(("Idempotency-Key", key.clone()));
    }
    if item.after > 0 {
        extra.push(("Dnd-After", item.after.to_string()));
    }
    Client::new(addr).keep_alive_request(item.path, item.body, &extra)
}

/// Sends `items` over `connections` keep-alive connections, each request
/// written without waiting for the answers before it (a writer thread per
/// connection), and reads the answers in order. `answered` counts answers
/// as they come. An answer that does not come (the node died) is `None`.
pub fn pipeline(addr: SocketAddr, items: &[Item<'_>], connections: usize, answered: &AtomicUsize) -> Vec<Option<Got>> {
    let mut out: Vec<Option<Got>> = vec![None; items.len()];
    let groups: Vec<Vec<usize>> = (0..connections)
        .map(|c| (c..items.len()).step_by(connections).collect())
        .collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = groups
            .iter()
            .map(|group| {
                s.spawn(move || {
                    let mut got: Vec<(usize, Got)> = Vec::new();
                    let Ok(stream) = TcpStream::connect(addr) else {
                        return got;
                    };
                    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
                    let mut writer = stream.try_clone().unwrap();
                    let bytes: Vec<Vec<u8>> = group.iter().map(|&i| request_bytes(addr, &items[i])).collect();
                    std::thread::scope(|w| {
                        w.spawn(move || {
                            for b in bytes {
                                if writer.write_all(&b).is_err() {
                                    break;
                                }
                            }
                        });
                        let mut reader = BufReader::new(stream);
                        for &i in group {
                            match read_answer(&mut reader) {
                                Ok(a) => {
                                    answered.fetch_add(1, Ordering::Relaxed);
                                    got.push((
                                        i,
                                        Got {
                                            status: a.status,
                                            seq: a.header("dnd-seq").map(|s| s.parse().unwrap()),
                                            duplicate: a.header("dnd-duplicate") == Some("true"),
                                            body: a.body,
                                        },
                                    ));
                                }
                                Err(_) => {
                                    let _ = reader.get_ref().shutdown(std::net::Shutdown::Both);
                                    break;
                                }
                            }
                        }
                    });
                    got
                })
            })
            .collect();
        for h in handles {
            for (i, g) in h.join().unwrap() {
                out[i] = Some(g);
            }
        }
    });
    out
}

/// Waits for `check` to hold, for up to `limit`.
pub fn wait_for(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let until = std::time::Instant::now() + limit;
    while !check() {
        assert!(std::time::Instant::now() < until, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

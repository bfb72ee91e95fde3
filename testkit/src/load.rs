//! The load client of the benchmarks (`cargo bench -p dnd-server --bench
//! load`, `cargo bench -p dnd-cli --bench cluster_load`): the same sets and
//! pushes, sent the same way, and the same work in process, so that their
//! figures compare. Bounded in count and by a deadline; loopback only.
//!
//! Writes: [`CLIENTS`] clients, each on one keep-alive connection with one
//! request in flight (so the latency is one write's), [`SETS_PER_CLIENT`]
//! sets each. Decisions: one client sends [`PUSHES`] pushes of
//! [`PUSH_RECIPIENTS`] recipients (8,000 distinct users, every one written
//! before) one after another, after one push not timed.

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use dnd_engine::push::{DecisionLine, Push};
use dnd_engine::Settings;

use crate::client::{read_answer, Client, TIMEOUT};

/// Writing clients, each on a connection of its own.
pub const CLIENTS: usize = 16;
/// Sets each client sends.
pub const SETS_PER_CLIENT: usize = 1_500;
/// Recipients of each push.
pub const PUSH_RECIPIENTS: usize = 10_000;
/// Pushes timed.
pub const PUSHES: usize = 30;
/// The sets' request.
pub const SET_PATH: &str = "/conversation/type/notification/set.json";

/// The body of client `c`'s set number `i`: 500 users a client, the
/// levels in turn.
pub fn set_body(c: usize, i: usize) -> String {
    format!(
        "conversationType=3&requestId=c{c}u{}&unpushLevel={}",
        i % 500,
        [1, 2, 4, 5][i % 4]
    )
}

/// The push: a group message to [`PUSH_RECIPIENTS`] of the users the sets wrote.
pub fn push_body() -> String {
    let recipients: Vec<String> = (0..PUSH_RECIPIENTS)
        .map(|i| format!("c{}u{}", i % CLIENTS, i % 500))
        .collect();
    format!(
        r#"{{"at":0,"conversationType":3,"targetId":"g","fromUserId":"s","recipients":{}}}"#,
        serde_json::to_string(&recipients).unwrap()
    )
}

/// Signed POSTs of `bodies` to `path` on one keep-alive connection, one in
/// flight, until `deadline`; the time each took from its first byte written
/// to its answer read. Panics on an answer other than 200 or one that
/// carries an error code.
pub fn keep_alive(
    addr: SocketAddr,
    path: &str,
    bodies: impl Iterator<Item = String>,
    deadline: Instant,
) -> Vec<Duration> {
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
        let request = client.keep_alive_request(path, &body, &[]);
        let started = Instant::now();
        writer.write_all(&request).unwrap();
        let a = read_answer(&mut reader).unwrap();
        assert_eq!(a.status, 200, "{}", a.body);
        assert!(!a.body.contains("\"code\":1"), "{}", &a.body[..a.body.len().min(200)]);
        took.push(started.elapsed());
    }
    took
}

/// Writes per second and the sorted latencies.
#[derive(Clone, Debug)]
pub struct Writes {
    /// Sets answered per second.
    pub per_sec: f64,
    /// Each set's latency, shortest first.
    pub sorted: Vec<Duration>,
}

impl Writes {
    /// The latency at fraction `p` (0.99 for p99).
    pub fn percentile(&self, p: f64) -> Duration {
        self.sorted[((self.sorted.len() as f64 * p) as usize).min(self.sorted.len() - 1)]
    }
}

/// The sets of [`CLIENTS`] clients at once through `addr`, until `deadline`.
pub fn writes(addr: SocketAddr, deadline: Instant) -> Writes {
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

/// Decisions per second through the decide endpoint at `addr` over
/// [`PUSHES`] pushes of `push`, for at most `budget`, after one push not timed.
pub fn decisions(addr: SocketAddr, push: &str, budget: Duration) -> f64 {
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
        started + budget,
    );
    (took.len() * PUSH_RECIPIENTS) as f64 / started.elapsed().as_secs_f64()
}

/// The same sets applied in process (`Settings::handle`, no log); sets per second.
pub fn sets_in_process(settings: &mut Settings) -> f64 {
    let started = Instant::now();
    for c in 0..CLIENTS {
        for i in 0..SETS_PER_CLIENT {
            let _ = settings.handle(SET_PATH, set_body(c, i).as_bytes());
        }
    }
    (CLIENTS * SETS_PER_CLIENT) as f64 / started.elapsed().as_secs_f64()
}

/// [`PUSHES`] pushes of `push` decided in process (parse the push, prepare,
/// `decide_id`), or, with `lines`, written as the decide endpoint writes
/// them (the core's [`DecisionLine`], with `deferUntil`); decisions per second.
pub fn decisions_in_process(settings: &Settings, push: &str, lines: bool) -> f64 {
    let started = Instant::now();
    let mut out = Vec::with_capacity(PUSH_RECIPIENTS * 80);
    for _ in 0..PUSHES {
        out.clear();
        let p = Push::from_json(push).unwrap();
        let ids = p.mentioned_ids();
        let message = p.message(&ids).unwrap();
        let prepared = settings.prepare(&message);
        for r in &p.recipients {
            if lines {
                DecisionLine::decide(&prepared, r).write_to(&mut out).unwrap();
            } else {
                out.extend_from_slice(prepared.decide_id(r).by().as_str().as_bytes());
            }
        }
        std::hint::black_box(&out);
    }
    (PUSHES * PUSH_RECIPIENTS) as f64 / started.elapsed().as_secs_f64()
}

//! kill -9 during a burst of writes, restart, and every acknowledged write
//! is there, exactly once: the gets answer as an in-process `Settings` fed
//! the acknowledged requests (plus, per writer, at most the one request that
//! was in flight when the process died). Then SIGTERM: a graceful stop that
//! loses nothing either.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Client, KEY, SECRET};
use dnd_engine::{Config, Settings};

const WRITERS: usize = 4;
const USERS: usize = 5;

fn spawn(data: &Path) -> (Child, SocketAddr) {
    // Snapshots every 37 changes, so the kill can land in one, and recovery
    // reads a snapshot and a log.
    let config = data.with_extension("toml");
    std::fs::write(&config, "compact_every = 37\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_dnd-server"))
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .arg("--config")
        .arg(&config)
        .env("DND_APP_KEY", KEY)
        .env("DND_APP_SECRET", SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = dnd_testkit::process::listening(&mut child);
    (child, addr)
}

/// The `i`-th write of writer `w`: sets across the layers, on the writer's own users.
fn write(w: usize, i: usize) -> (&'static str, String) {
    let user = format!("w{w}u{}", i % USERS);
    let level = [1, 2, 4, 5, -1, 0][i % 6];
    match (i / USERS) % 3 {
        0 => (
            "/conversation/type/notification/set.json",
            format!("conversationType=3&requestId={user}&unpushLevel={level}"),
        ),
        1 => (
            "/conversation/notification/set.json",
            format!(
                "conversationType=10&requestId={user}&targetId=club&busChannel=b{}&unpushLevel={level}",
                i % 2
            ),
        ),
        _ => (
            "/user/blockPushPeriod/set.json",
            format!("userId={user}&startTime=0{}:30:00&period={}&level=5", i % 10, i % 7),
        ),
    }
}

/// Every get that can see writer `w`'s writes.
fn reads(w: usize) -> Vec<(&'static str, String)> {
    let mut gets = Vec::new();
    for u in 0..USERS {
        let user = format!("w{w}u{u}");
        gets.push((
            "/conversation/type/notification/get.json",
            format!("conversationType=3&requestId={user}"),
        ));
        for b in 0..2 {
            gets.push((
                "/conversation/notification/get.json",
                format!("conversationType=10&requestId={user}&targetId=club&busChannel=b{b}"),
            ));
        }
        gets.push(("/user/blockPushPeriod/get.json", format!("userId={user}")));
    }
    gets
}

fn answers(settings: &mut Settings, w: usize) -> Vec<String> {
    reads(w)
        .iter()
        .map(|(p, b)| settings.handle(p, b.as_bytes()).to_json())
        .collect()
}

fn served(client: &Client, w: usize) -> Vec<String> {
    reads(w).iter().map(|(p, b)| client.post(p, b).body).collect()
}

/// Each writer's acknowledged writes, and the one in flight when it failed.
fn burst(addr: SocketAddr, stop_after: Duration, start: usize) -> Vec<(Vec<usize>, Option<usize>)> {
    let deadline = Instant::now() + stop_after;
    let handles: Vec<_> = (0..WRITERS)
        .map(|w| {
            std::thread::spawn(move || {
                let client = Client::new(addr);
                let mut acked = Vec::new();
                for i in start.. {
                    if Instant::now() > deadline {
                        return (acked, None);
                    }
                    let (path, body) = write(w, i);
                    match client.try_post(path, &body) {
                        Ok(a) if a.status == 200 => acked.push(i),
                        Ok(a) => panic!("{path} {body}: {}", a.body),
                        Err(_) => return (acked, Some(i)),
                    }
                }
                unreachable!()
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

/// Checks the served state; returns each writer's writes as applied (the
/// acknowledged ones, and the one in flight if it landed).
fn check(addr: SocketAddr, outcome: &[(Vec<usize>, Option<usize>)]) -> Vec<Vec<usize>> {
    let client = Client::new(addr);
    let mut applied = Vec::new();
    for (w, (acked, in_flight)) in outcome.iter().enumerate() {
        applied.push(acked.clone());
        let mut reference = Settings::new(Config::new(chrono_tz::UTC));
        for &i in acked {
            let (p, b) = write(w, i);
            assert_eq!(reference.handle(p, b.as_bytes()).code(), 200);
        }
        let without = answers(&mut reference, w);
        let got = served(&client, w);
        if got == without {
            continue;
        }
        let i = in_flight.expect("no write was in flight, yet the state differs");
        let (p, b) = write(w, i);
        assert_eq!(reference.handle(p, b.as_bytes()).code(), 200);
        assert_eq!(
            got,
            answers(&mut reference, w),
            "writer {w}: acknowledged writes plus at most the one in flight"
        );
        applied[w].push(i);
    }
    applied
}

#[test]
fn kill_9_during_writes_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = spawn(dir.path());
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(700));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    });
    let outcome = burst(addr, Duration::from_secs(15), 0);
    killer.join().unwrap();
    let total: usize = outcome.iter().map(|(a, _)| a.len()).sum();
    assert!(total > 20, "a burst, not a trickle: {total} acknowledged");
    assert!(
        outcome.iter().all(|(_, f)| f.is_some()),
        "every writer was cut off by the kill"
    );

    let (child, addr) = spawn(dir.path());
    let applied = check(addr, &outcome);
    // A graceful stop (SIGTERM) after more writes, then a restart.
    let more = burst(addr, Duration::from_millis(300), 1_000_000);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut child = child;
    let started = Instant::now();
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "stops on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
    assert_eq!(
        std::fs::read(dir.path().join("apps").join(common::KEY).join("changes.log")).unwrap(),
        dnd_server::store::record::MAGIC,
        "folded into a snapshot: no record left"
    );
    let combined: Vec<(Vec<usize>, Option<usize>)> = applied
        .into_iter()
        .zip(more)
        .map(|(mut a, (b, in_flight))| {
            assert_eq!(in_flight, None, "the second burst ended before the stop");
            a.extend(b);
            (a, None)
        })
        .collect();
    let (mut child, addr) = spawn(dir.path());
    check(addr, &combined);
    child.kill().unwrap();
    child.wait().unwrap();
}

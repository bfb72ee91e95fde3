//! kill -9 while pushes are held and digests released and read: after
//! each restart the consumer resumes from its cursor, and in the end every
//! acknowledged hold was released in exactly one digest, no digest twice,
//! cursors 1, 2, 3, ... without a gap, and reading everything again from
//! cursor 0 gives exactly the digests the consumer read, with the cursors
//! and ids it read them with.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Client, KEY, SECRET};
use serde_json::Value;

fn spawn(data: &Path) -> (Child, SocketAddr) {
    // Snapshots every 11 records, so kills land around snapshots too.
    let config = data.with_extension("toml");
    std::fs::write(&config, "compact_every = 11\n").unwrap();
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

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// What the consumer read: each digest's entry by cursor.
type Read = BTreeMap<u64, Value>;

/// Reads digests after `cursor` until the server goes away or `until`.
fn consume(c: &Client, read: &Mutex<Read>, until: Instant) {
    while Instant::now() < until {
        let after = read.lock().unwrap().keys().last().copied().unwrap_or(0);
        let Ok(a) = c.try_post("/push/released.json", &format!("after={after}&limit=7&wait=1")) else {
            return;
        };
        if a.status != 200 {
            return;
        }
        let page: Value = serde_json::from_str(&a.body).unwrap();
        let mut read = read.lock().unwrap();
        for d in page["digests"].as_array().unwrap() {
            let cursor = d["cursor"].as_u64().unwrap();
            assert_eq!(cursor, read.len() as u64 + 1, "cursors follow each other: {d}");
            read.insert(cursor, d.clone());
        }
    }
}

/// Holds one push per user of round `r` (each snoozed until shortly after
/// it), until the server goes away; the acknowledged ones.
fn hold(c: &Client, r: usize, acked: &Mutex<BTreeSet<String>>) {
    for i in 0..200 {
        let user = format!("r{r}u{i}");
        let until = now_ms() + 100 + (i as i64 % 9) * 90;
        let Ok(a) = c.try_post("/user/snooze/set.json", &format!("userId={user}&until={until}")) else {
            return;
        };
        if a.status != 200 {
            return;
        }
        let push = format!(
            r#"{{"at":{},"conversationType":3,"targetId":"g","fromUserId":"s","hold":true,"messageId":"{user}","recipients":["{user}"]}}"#,
            now_ms()
        );
        let Ok(a) = c.try_post("/push/decide.json", &push) else {
            return;
        };
        if a.status != 200 {
            return;
        }
        let v: Value = serde_json::from_str(&a.body).unwrap();
        assert_eq!(v["decisions"][0]["held"], true, "{}", a.body);
        acked.lock().unwrap().insert(user);
    }
}

#[test]
fn kill_9_loses_no_held_push_and_releases_no_digest_twice() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let read: Arc<Mutex<Read>> = Arc::default();
    let acked: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    for (r, kill_after) in [350u64, 900, 120, 600].into_iter().enumerate() {
        let (mut child, addr) = spawn(&data);
        let c = Client::new(addr);
        let holder = {
            let (c, acked) = (c.clone(), acked.clone());
            std::thread::spawn(move || hold(&c, r, &acked))
        };
        let consumer = {
            let (c, read) = (c.clone(), read.clone());
            std::thread::spawn(move || consume(&c, &read, Instant::now() + Duration::from_secs(30)))
        };
        std::thread::sleep(Duration::from_millis(kill_after));
        child.kill().unwrap();
        child.wait().unwrap();
        holder.join().unwrap();
        consumer.join().unwrap();
    }
    // The last start releases what is left; the consumer reads it all.
    let (mut child, addr) = spawn(&data);
    let c = Client::new(addr);
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 20, "the rounds held pushes: {}", acked.len());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        consume(&c, &read, Instant::now() + Duration::from_secs(1));
        let got: BTreeSet<String> = read
            .lock()
            .unwrap()
            .values()
            .map(|d| d["userId"].as_str().unwrap().to_owned())
            .collect();
        if acked.is_subset(&got) {
            break;
        }
        let missing: Vec<_> = acked.difference(&got).collect();
        assert!(
            Instant::now() < deadline,
            "acknowledged holds never released: {missing:?}"
        );
    }
    let read = read.lock().unwrap().clone();
    // Each user held one push: one digest each, its message the user's own.
    let mut users = BTreeSet::new();
    let mut ids = BTreeSet::new();
    for d in read.values() {
        let user = d["userId"].as_str().unwrap();
        assert!(users.insert(user.to_owned()), "{user} released twice");
        assert!(ids.insert(d["id"].as_str().unwrap().to_owned()));
        assert_eq!(d["conversations"][0]["count"], 1, "{d}");
        assert_eq!(d["conversations"][0]["lastMessageId"], user);
    }
    // Everything again from cursor 0: the same digests under the same cursors.
    let mut again = Read::new();
    let mut after = 0;
    loop {
        let a = c.post("/push/released.json", &format!("after={after}&limit=1000"));
        let page: Value = serde_json::from_str(&a.body).unwrap();
        let digests = page["digests"].as_array().unwrap();
        if digests.is_empty() {
            break;
        }
        for d in digests {
            again.insert(d["cursor"].as_u64().unwrap(), d.clone());
        }
        after = page["cursor"].as_u64().unwrap();
    }
    assert_eq!(again, read, "a restart re-released or re-numbered a digest");
    child.kill().unwrap();
    child.wait().unwrap();
}

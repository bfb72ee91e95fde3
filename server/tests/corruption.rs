//! Damage on disk is refused, never cut away: a flipped bit inside the log
//! or in the snapshot stops the start with an error naming the record or
//! the file, and only a torn tail (the last record, cut short or damaged,
//! with nothing intact after it) is cut off.

use std::fs;
use std::io::ErrorKind;
use std::path::Path;

use chrono_tz::UTC;
use dnd_engine::{Config, Request, Settings};
use dnd_server::store::record::{HEADER, MAGIC};
use dnd_server::{ChangeLog, FileLog};

const LOG: &str = "changes.log";

fn set(user: &str, level: i64) -> Request {
    Request::parse(
        "/conversation/type/notification/set.json",
        format!("conversationType=3&requestId={user}&unpushLevel={level}").as_bytes(),
    )
    .unwrap()
}

fn level(s: &Settings, user: &str) -> String {
    let get = Request::parse(
        "/conversation/type/notification/get.json",
        format!("conversationType=3&requestId={user}").as_bytes(),
    )
    .unwrap();
    s.query(&get).unwrap().to_json()
}

/// A log of `n` acknowledged changes, one batch each; the records' offsets.
fn log_of(dir: &Path, n: usize) -> Vec<usize> {
    let (mut log, _, _) = FileLog::open(dir, Config::new(UTC)).unwrap();
    for i in 0..n {
        log.append(&[&set(&format!("user{i}"), 5)]).unwrap();
    }
    drop(log);
    let bytes = fs::read(dir.join(LOG)).unwrap();
    assert!(bytes.starts_with(MAGIC));
    let mut offsets = Vec::new();
    let mut at = MAGIC.len();
    while at < bytes.len() {
        offsets.push(at);
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        at += HEADER + len;
    }
    assert_eq!(offsets.len(), n);
    offsets
}

#[test]
fn a_flipped_bit_inside_the_log_refuses_to_start_naming_the_record_and_cuts_nothing() {
    for (what, within) in [("payload", HEADER + 3), ("header", 2), ("header checksum", 13)] {
        let dir = tempfile::tempdir().unwrap();
        let offsets = log_of(dir.path(), 50);
        let path = dir.path().join(LOG);
        let mut bytes = fs::read(&path).unwrap();
        bytes[offsets[10] + within] ^= 0x10;
        fs::write(&path, &bytes).unwrap();
        let err = FileLog::open(dir.path(), Config::new(UTC)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData, "{what}");
        let text = err.to_string();
        assert!(
            text.contains("changes.log") && text.contains("record 11 ") && text.contains("after change 10"),
            "{what}: {text}"
        );
        assert_eq!(fs::read(&path).unwrap(), bytes, "{what}: nothing was cut");
    }
}

#[test]
fn only_the_last_record_may_be_torn() {
    let dir = tempfile::tempdir().unwrap();
    let offsets = log_of(dir.path(), 50);
    let path = dir.path().join(LOG);
    let full = fs::read(&path).unwrap();
    let last = offsets[49];
    // Cut short, damaged at the end, or followed by zeros (a file extended
    // before its data reached the disk): each drops the last record only.
    let mut flipped = full.clone();
    *flipped.last_mut().unwrap() ^= 1;
    let mut zeros = full[..last].to_vec();
    zeros.extend([0; 4096]);
    for (what, bytes) in [
        ("cut", full[..full.len() - 3].to_vec()),
        ("flipped", flipped),
        ("zeros", zeros),
    ] {
        fs::write(&path, &bytes).unwrap();
        let (_, s, r) = FileLog::open(dir.path(), Config::new(UTC)).unwrap();
        assert_eq!((r.replayed, r.torn_bytes), (49, (bytes.len() - last) as u64), "{what}");
        assert_eq!(level(&s, "user48"), r#"{"code":200,"isMuted":5}"#, "{what}");
        assert_eq!(fs::read(&path).unwrap(), full[..last], "{what}: the tail alone was cut");
    }
}

#[test]
fn a_flipped_bit_in_the_snapshot_refuses_to_start_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, mut s, _) = FileLog::open(dir.path(), Config::new(UTC)).unwrap();
    let changes = [set("victim-user", 5), set("other", 2)];
    log.append(&changes.iter().collect::<Vec<_>>()).unwrap();
    changes.iter().for_each(|r| drop(s.apply(r)));
    log.snapshot(&s).unwrap();
    drop(log);
    let path = dir.path().join("snapshot.json");
    let good = fs::read(&path).unwrap();
    let (_, s2, r) = FileLog::open(dir.path(), Config::new(UTC)).unwrap();
    assert_eq!(
        (r.snapshot_seq, level(&s2, "victim-user").as_str()),
        (2, r#"{"code":200,"isMuted":5}"#)
    );
    // One bit of the user id: "victim-user" becomes "victim-tser", valid JSON.
    let at = good.windows(11).position(|w| w == b"victim-user").unwrap() + 7;
    let mut bad = good.clone();
    bad[at] ^= 0x01;
    fs::write(&path, &bad).unwrap();
    let err = FileLog::open(dir.path(), Config::new(UTC)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert!(
        err.to_string().contains("snapshot.json") && err.to_string().contains("checksum"),
        "{err}"
    );
    // Cut short, or with bytes after its end: refused too.
    for bytes in [&good[..good.len() - 1], &[&good[..], b" "].concat()[..]] {
        fs::write(&path, bytes).unwrap();
        let err = FileLog::open(dir.path(), Config::new(UTC)).unwrap_err();
        assert!(err.to_string().contains("snapshot.json"), "{err}");
    }
}

#[test]
fn format_1_files_are_read_and_the_log_is_rewritten_in_format_2() {
    let dir = tempfile::tempdir().unwrap();
    // A format-1 snapshot (the JSON alone) after change 1, and a format-1 log
    // holding changes 1 (covered) to 3: [len][crc32(seq+payload)][seq][payload].
    let mut s = Settings::new(Config::new(UTC));
    let _ = s.apply(&set("a", 5));
    let snapshot = serde_json::json!({"seq": 1, "settings": s});
    fs::write(dir.path().join("snapshot.json"), snapshot.to_string()).unwrap();
    let mut log = Vec::new();
    for (seq, r) in [(1u64, set("a", 5)), (2, set("b", 4)), (3, set("a", 1))] {
        let payload = serde_json::to_vec(&r).unwrap();
        let mut body = seq.to_le_bytes().to_vec();
        body.extend(&payload);
        log.extend((payload.len() as u32).to_le_bytes());
        log.extend(crc32fast::hash(&body).to_le_bytes());
        log.extend(body);
    }
    fs::write(dir.path().join(LOG), &log).unwrap();
    let (mut store, s, r) = FileLog::open(dir.path(), Config::new(UTC)).unwrap();
    assert_eq!((r.snapshot_seq, r.skipped, r.replayed), (1, 1, 2));
    assert_eq!(level(&s, "a"), r#"{"code":200,"isMuted":1}"#);
    assert!(fs::read(dir.path().join(LOG)).unwrap().starts_with(MAGIC));
    store.append(&[&set("c", 2)]).unwrap();
    drop(store);
    let (_, s, r) = FileLog::open(dir.path(), Config::new(UTC)).unwrap();
    assert_eq!((r.replayed, r.torn_bytes), (3, 0));
    assert_eq!(level(&s, "b"), r#"{"code":200,"isMuted":4}"#);
    assert_eq!(level(&s, "c"), r#"{"code":200,"isMuted":2}"#);
}

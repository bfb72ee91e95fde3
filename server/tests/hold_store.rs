//! The file store with held pushes: holds and evaluations are log records
//! of their own kind, replayed to the same held items and the same released
//! digests (cursors and ids); a snapshot carries them; a snapshot of the
//! settings alone is refused once the store keeps held pushes; a damaged
//! hold record is refused like any damaged record.

use dnd_engine::{chrono_tz, Config, ConversationType, Request, SavedItem, SavedMessage};
use dnd_server::hold::{HoldRecord, ReleaseRecord};
use dnd_server::store::{Entry, StateRef};
use dnd_server::{ChangeLog, FileLog};

/// 2026-11-22T23:30:00Z.
const AT: i64 = 1_795_390_200_000;

fn hold(user: &str) -> HoldRecord {
    let mut message = SavedMessage::new(ConversationType::Group, "g", "s", AT);
    message.message_id = Some(format!("m-{user}"));
    message.items = vec![SavedItem::new(user, None)];
    HoldRecord { limit: 1000, message }
}

fn page(stored: &dnd_server::store::Stored) -> String {
    stored.released.page(0, 100).unwrap().json
}

#[test]
fn holds_and_evaluations_replay_to_the_same_state_and_a_snapshot_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, stored, _) = FileLog::open_stored(dir.path(), Config::new(chrono_tz::UTC)).unwrap();
    assert!(stored.held.is_empty());
    let quiet = Request::parse(
        "/user/snooze/set.json",
        format!("userId=u2&until={}", AT + 3_600_000).as_bytes(),
    )
    .unwrap();
    let (h1, h2) = (hold("u1"), hold("u2"));
    // u1 has no quiet time: due at the message's time; u2 is snoozed an hour.
    log.append_entries(&[
        Entry::Change(&quiet),
        Entry::Hold(&h1),
        Entry::Hold(&h2),
        Entry::Release(ReleaseRecord { at: AT + 1000 }),
    ])
    .unwrap();
    drop(log);
    let (mut log, stored, recovery) = FileLog::open_stored(dir.path(), Config::new(chrono_tz::UTC)).unwrap();
    assert_eq!(recovery.replayed, 4);
    assert_eq!(stored.held.len(), 1, "u1 released, u2 still held");
    assert_eq!(stored.released.last_cursor(), 1);
    let first = page(&stored);
    assert!(first.contains(&format!("\"id\":\"{AT}-u1\"")), "{first}");
    // The settings alone would lose them: refused. With them: kept.
    assert!(log.snapshot(&stored.settings).is_err());
    let state = StateRef {
        settings: &stored.settings,
        held: &stored.held,
        released: &stored.released,
    };
    log.snapshot_state(&state).unwrap();
    log.append_entries(&[Entry::Release(ReleaseRecord { at: AT + 3_600_000 })])
        .unwrap();
    drop(log);
    let (_, stored, recovery) = FileLog::open_stored(dir.path(), Config::new(chrono_tz::UTC)).unwrap();
    assert_eq!((recovery.snapshot_seq, recovery.replayed), (4, 1));
    assert!(stored.held.is_empty());
    assert_eq!(stored.released.last_cursor(), 2);
    let json = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
    let (before, after) = (json(&first), json(&page(&stored)));
    assert_eq!(
        after["digests"][0], before["digests"][0],
        "the first digest kept its cursor and id"
    );
    assert_eq!(after["digests"][1]["userId"], "u2");
    assert_eq!(after["digests"][1]["cursor"], 2);
}

#[test]
fn a_flipped_bit_in_a_hold_record_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let (mut log, _, _) = FileLog::open_stored(dir.path(), Config::new(chrono_tz::UTC)).unwrap();
    log.append_entries(&[Entry::Hold(&hold("u1")), Entry::Hold(&hold("u2"))])
        .unwrap();
    drop(log);
    let path = dir.path().join(dnd_server::store::LOG_FILE);
    let mut bytes = std::fs::read(&path).unwrap();
    // Inside the first record's payload, with an intact record after it.
    let at = dnd_server::store::record::MAGIC.len() + dnd_server::store::record::HEADER + 5;
    bytes[at] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let e = FileLog::open_stored(dir.path(), Config::new(chrono_tz::UTC)).unwrap_err();
    assert!(e.to_string().contains("record 1"), "{e}");
}

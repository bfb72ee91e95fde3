//! The shared handle under concurrency: writers and readers at once.

use chrono_tz::UTC;
use dnd_engine::{Config, ConversationType, Level, Response, Settings, SharedSettings};

use crate::support::*;

/// Writers apply requests while readers decide fanouts; readers never see a
/// half-applied request, and every acknowledged write is visible at the end.
#[test]
fn concurrent_writers_and_readers() {
    const WRITERS: usize = 4;
    const WRITES: usize = 500;
    let shared = SharedSettings::new(Settings::new(Config::new(UTC)));
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        for w in 0..WRITERS {
            let shared = &shared;
            scope.spawn(move || {
                for i in 0..WRITES {
                    // One request, acknowledged before the next one is sent.
                    let body = format!("conversationType=3&requestId=w{w}u{i}&unpushLevel=5");
                    assert_eq!(shared.handle(TYPE, body.as_bytes()), Response::Ok);
                }
            });
        }
        let (shared, done) = (&shared, &done);
        scope.spawn(move || {
            let msg = dnd_engine::Message::new(group("g"), "s", at(NOON_UTC));
            let ids: Vec<String> = (0..WRITES).map(|i| format!("w0u{i}")).collect();
            let mut out = Vec::with_capacity(ids.len());
            let mut last_seen = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let guard = shared.read();
                guard.prepare(&msg).decide_ids_into(&ids, &mut out);
                // Writer 0 writes its users in order: what a reader sees is a prefix.
                let seen = out.iter().take_while(|d| !d.push()).count();
                assert!(out[seen..].iter().all(|d| d.push()), "a reader saw writes out of order");
                assert!(seen >= last_seen, "a write disappeared");
                last_seen = seen;
            }
        });
        // Stop the reader once every write has been numbered.
        while shared.read().user_count() < WRITERS * WRITES {
            std::thread::yield_now();
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let settings = shared.into_inner();
    for w in 0..WRITERS {
        for i in 0..WRITES {
            assert_eq!(
                settings.type_level(&format!("w{w}u{i}"), ConversationType::Group),
                Some(Level::Nothing)
            );
        }
    }
    assert_eq!(settings.user_count(), WRITERS * WRITES);
}

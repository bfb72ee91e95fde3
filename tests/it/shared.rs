//! `SharedSettings`: readers hold versions, writers publish new ones, and no
//! way of calling them can deadlock.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use chrono_tz::UTC;
use dnd_engine::{Config, ConversationType, Level, Message, Request, Response, Settings, SharedSettings, UserId};

use crate::support::*;

/// Runs `f` on a thread of its own and fails if it has not finished within
/// 20 seconds: a deadlock fails the test instead of hanging it.
fn completes<F: FnOnce() + Send + 'static>(what: &str, f: F) {
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        f();
        let _ = done.send(());
    });
    match finished.recv_timeout(Duration::from_secs(20)) {
        Ok(()) => {}
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what}: did not complete (a deadlock)"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what}: panicked"),
    }
}

fn type_level(user: &str, level: i64) -> Vec<u8> {
    format!("conversationType=3&requestId={user}&unpushLevel={level}").into_bytes()
}

#[test]
fn shared_settings_cannot_deadlock() {
    // A thread that holds a version changes the settings, numbers a user and
    // reads again: with a lock held across the version, each would wait for
    // itself.
    completes("changes while holding a version", || {
        let shared = SharedSettings::new(Settings::new(Config::new(UTC)));
        let held = shared.read();
        assert_eq!(shared.handle(TYPE, &type_level("u", 5)), Response::Ok);
        let h = shared.intern_user(&UserId::new("v").unwrap()).unwrap();
        let again = shared.read();
        let get = shared.handle(
            "/conversation/type/notification/get.json",
            b"conversationType=3&requestId=u",
        );
        assert_eq!(get, Response::Level(Some(Level::Nothing)));
        // The held version is as it was; the new one has both changes.
        assert_eq!(held.user_count(), 0);
        assert_eq!(again.user_count(), 2);
        assert_eq!(again.user_id(h), Some("v"));
        // Many changes while versions are held: each copies rather than waits.
        let versions: Vec<_> = (0..50)
            .map(|i| {
                assert_eq!(shared.handle(TYPE, &type_level(&format!("w{i}"), 1)), Response::Ok);
                shared.read()
            })
            .collect();
        for (i, v) in versions.iter().enumerate() {
            assert_eq!(v.user_count(), 3 + i);
        }
    });

    // A second read while a writer is at work: with a lock that makes new
    // readers queue behind a waiting writer, and a writer that waits for the
    // first read to end, this never completes.
    completes("a second read while a writer waits", || {
        let shared = SharedSettings::new(Settings::new(Config::new(UTC)));
        let writing = AtomicBool::new(false);
        std::thread::scope(|s| {
            let first = shared.read();
            s.spawn(|| {
                writing.store(true, Ordering::SeqCst);
                for i in 0..200 {
                    assert_eq!(shared.handle(TYPE, &type_level(&format!("u{i}"), 5)), Response::Ok);
                }
            });
            while !writing.load(Ordering::SeqCst) {
                std::thread::yield_now();
            }
            for _ in 0..200 {
                let second = shared.read();
                assert!(second.user_count() >= first.user_count());
            }
            drop(first);
        });
        assert_eq!(shared.read().user_count(), 200);
    });
}

/// Writers apply changes, singly and in batches, while readers hold versions
/// for a while (so that writers must copy) and decide with them: a version
/// never changes while held, every version holds a prefix of each writer's
/// changes, and at the end every change is there.
#[test]
fn shared_readers_see_only_prefixes() {
    const WRITERS: usize = 3;
    const WRITES: usize = 300;
    let shared = SharedSettings::new(Settings::new(Config::new(UTC)));
    let finished = AtomicUsize::new(0);
    let message = Message::new(group("g"), "s", at(NOON_UTC));
    std::thread::scope(|scope| {
        for w in 0..WRITERS {
            let (shared, finished) = (&shared, &finished);
            scope.spawn(move || {
                let mut i = 0;
                while i < WRITES {
                    // Writer 0 writes one at a time, the others in batches.
                    let n = if w == 0 { 1 } else { 7.min(WRITES - i) };
                    let batch: Vec<Request> = (i..i + n)
                        .map(|j| Request::parse(TYPE, &type_level(&format!("w{w}u{j}"), 5)).unwrap())
                        .collect();
                    assert!(shared.apply_all(&batch).iter().all(|r| *r == Response::Ok));
                    i += n;
                }
                finished.fetch_add(1, Ordering::SeqCst);
            });
        }
        for _ in 0..2 {
            let (shared, finished, message) = (&shared, &finished, &message);
            scope.spawn(move || {
                let ids: Vec<Vec<String>> = (0..WRITERS)
                    .map(|w| (0..WRITES).map(|j| format!("w{w}u{j}")).collect())
                    .collect();
                let mut last_seen = [0; WRITERS];
                let mut out = Vec::new();
                while finished.load(Ordering::SeqCst) < WRITERS {
                    let version = shared.read();
                    let p = version.prepare(message);
                    let mut seen = Vec::new();
                    for (w, ids) in ids.iter().enumerate() {
                        p.decide_ids_into(ids, &mut out);
                        let prefix = out.iter().take_while(|d| !d.push()).count();
                        assert!(
                            out[prefix..].iter().all(|d| d.push()),
                            "writer {w}'s changes out of order"
                        );
                        assert!(prefix >= last_seen[w], "a change disappeared");
                        last_seen[w] = prefix;
                        seen.push(out.clone());
                    }
                    // Hold the version while writers go on; it does not change.
                    std::thread::sleep(Duration::from_millis(2));
                    for (w, ids) in ids.iter().enumerate() {
                        p.decide_ids_into(ids, &mut out);
                        assert_eq!(out, seen[w], "a held version changed");
                    }
                }
            });
        }
    });
    let settings = shared.into_inner();
    for w in 0..WRITERS {
        for j in 0..WRITES {
            assert_eq!(
                settings.type_level(&format!("w{w}u{j}"), ConversationType::Group),
                Some(Level::Nothing)
            );
        }
    }
    assert_eq!(settings.user_count(), WRITERS * WRITES);
}

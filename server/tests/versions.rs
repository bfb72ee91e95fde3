//! The local backend's settings are shared as the core's `SharedSettings`
//! (docs/service.md, "Durability"): a reader (a get, a chunk of a fanout,
//! the writer's snapshot) holds an immutable version, which no write waits
//! for and no write disturbs; a write is visible to every read after its
//! answer (read your writes); a batch of writes is published whole.

use std::sync::Arc;
use std::time::Duration;

use chrono_tz::UTC;
use dnd_engine::{Config, Request};
use dnd_server::backend::Generation;
use dnd_server::writer::Writer;
use dnd_server::{read, Backend, FileLog, Local, Shared};

fn set(user: &str, level: i64) -> Request {
    Request::parse(
        "/conversation/type/notification/set.json",
        format!("conversationType=3&requestId={user}&unpushLevel={level}").as_bytes(),
    )
    .unwrap()
}

fn get(user: &str) -> Request {
    Request::parse(
        "/conversation/type/notification/get.json",
        format!("conversationType=3&requestId={user}").as_bytes(),
    )
    .unwrap()
}

/// A local backend over a fresh store in `dir`, and its shared settings.
fn local(dir: &std::path::Path) -> (Local, Arc<Shared>) {
    let (log, settings, _) = FileLog::open(dir, Config::new(UTC)).unwrap();
    let shared = Arc::new(Shared::new(settings));
    let (writer, thread) = Writer::start(log, shared.clone(), 1_000).unwrap();
    (Local::new(shared.clone(), writer, thread), shared)
}

/// While a reader holds the settings (as a fanout's chunk does while it
/// decides), a write is made durable, applied and answered without waiting
/// for it; the next read has the write, and the version held does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_held_by_a_reader_never_blocks_a_write() {
    let dir = tempfile::tempdir().unwrap();
    let (backend, shared) = local(dir.path());
    let held = read(&shared);
    let users = held.user_count();
    let answered = tokio::time::timeout(
        Duration::from_secs(10),
        backend.change(set("u1", 5), Generation::Form, String::new()),
    )
    .await
    .expect("a write waited for a reader that holds the settings");
    assert_eq!(answered.code, 200, "{}", answered.json);
    let now = backend.query(get("u1"), Generation::Form, 0).await;
    assert_eq!(now.json, r#"{"code":200,"isMuted":5}"#);
    assert_eq!(
        held.user_count(),
        users,
        "the version held is not changed under its reader"
    );
    drop(held);
    backend.stop().await;
}

/// Four writers, each reading back every write of its own as soon as it is
/// answered, while readers hold versions all along: every read has the
/// writes answered before it, and the store recovers the last of each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answered_write_is_read_back_while_readers_hold_versions() {
    let dir = tempfile::tempdir().unwrap();
    let (backend, shared) = local(dir.path());
    let backend = Arc::new(backend);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let holders: Vec<_> = (0..2)
        .map(|_| {
            let (shared, stop) = (shared.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let version = read(&shared);
                    std::thread::sleep(Duration::from_micros(200));
                    drop(version);
                }
            })
        })
        .collect();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let backend = backend.clone();
            tokio::spawn(async move {
                let user = format!("w{w}");
                for i in 0..60 {
                    let level = [1, 2, 4, 5, -1][i % 5];
                    let a = backend.change(set(&user, level), Generation::Form, String::new()).await;
                    assert_eq!(a.code, 200, "{}", a.json);
                    let got = backend.query(get(&user), Generation::Form, 0).await;
                    assert_eq!(
                        got.json,
                        format!(r#"{{"code":200,"isMuted":{level}}}"#),
                        "{user} write {i}"
                    );
                }
            })
        })
        .collect();
    for w in writers {
        tokio::time::timeout(Duration::from_secs(60), w)
            .await
            .expect("the writes finish")
            .unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    holders.into_iter().for_each(|h| h.join().unwrap());
    backend.stop().await;
    // The last write of each (write 59: level -1), after a restart.
    let (_, recovered, _) = FileLog::open(dir.path(), Config::new(UTC)).unwrap();
    for w in 0..4 {
        let answer = recovered.query(&get(&format!("w{w}"))).unwrap().to_json();
        assert_eq!(answer, r#"{"code":200,"isMuted":-1}"#, "w{w}");
    }
}

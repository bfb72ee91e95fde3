//! Settings shared by threads: one writer applies the platform's requests
//! while fanout threads keep deciding. A reader takes a version
//! (`SharedSettings::read`) and decides against it; a write publishes a new
//! version and never waits for a reader, nor a reader for a write.
//!
//! ```sh
//! cargo run --example shared_across_threads
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use dnd_engine::chrono_tz::UTC;
use dnd_engine::{Config, Conversation, Message, Request, Settings, SharedSettings, Timestamp};

fn main() {
    let shared = Arc::new(SharedSettings::new(Settings::new(Config::new(UTC))));
    let done = Arc::new(AtomicBool::new(false));
    let members: Vec<String> = (0..1000).map(|i| format!("u{i}")).collect();
    let at = Timestamp::from_millis(1_795_400_000_000).expect("a time the zone tables cover");

    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (shared, done, members) = (shared.clone(), done.clone(), members.clone());
            std::thread::spawn(move || {
                let mut fanouts = 0u64;
                let mut decisions = Vec::with_capacity(members.len());
                while !done.load(Ordering::Acquire) {
                    // One version for the whole fanout: later writes do not change it.
                    let settings = shared.read();
                    let message = Message::new(Conversation::Group { group_id: "g" }, "sender", at);
                    settings.prepare(&message).decide_ids_into(&members, &mut decisions);
                    fanouts += 1;
                }
                fanouts
            })
        })
        .collect();

    // The writer: each user mutes group messages; a batch is published as one version.
    for chunk in members.chunks(100) {
        let requests: Vec<Request> = chunk
            .iter()
            .map(|u| {
                let body = format!("conversationType=3&requestId={u}&unpushLevel=5");
                Request::parse("/conversation/type/notification/set.json", body.as_bytes()).expect("a valid request")
            })
            .collect();
        for answer in shared.apply_all(&requests) {
            assert_eq!(answer.code(), 200);
        }
    }
    done.store(true, Ordering::Release);
    let fanouts: u64 = readers.into_iter().map(|r| r.join().expect("a reader")).sum();

    let settings = shared.read();
    let message = Message::new(Conversation::Group { group_id: "g" }, "sender", at);
    let prepared = settings.prepare(&message);
    assert!(members.iter().all(|m| !prepared.decide_id(m).push()));
    println!(
        "{fanouts} fanouts ran while {} users changed their settings",
        members.len()
    );
}

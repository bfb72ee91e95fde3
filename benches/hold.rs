//! Held pushes in a fanout: one group message to 1,000,000 users
//! (`DND_BENCH_USERS` picks other sizes, comma-separated), where 20% have a
//! period (half of them, 10% of all, quiet at the message's time at level 5,
//! so their push is deferred) and 30% a conversation-type level.
//!
//! Three runs per size, per recipient, in the same process:
//! - `plain`: `decide_into`, the fanout as it was;
//! - `hold, nobody deferred`: the same message asking to hold, sent when
//!   nobody is quiet, then `Held::hold_fanout`;
//! - `hold, 10% held`: the message asking to hold inside the quiet time,
//!   `decide_into` then `Held::hold_fanout` into an empty store (each
//!   iteration starts from a new one; making it is not timed).
//!
//! Run: `cargo bench --bench hold`. Figures are in `docs/performance.md`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use dnd_engine::{
    Config, Conversation, ConversationType, DndPeriod, DndWindow, Held, Level, Message, PeriodLevel, Settings,
    TimeOfDay, Timestamp, UserHandle, UserId,
};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

fn world(users: usize) -> (Settings, Vec<UserHandle>) {
    let mut settings = Settings::new(Config::new(chrono_tz::UTC));
    let mut rng = SmallRng::seed_from_u64(24);
    let mut handles = Vec::with_capacity(users);
    for i in 0..users {
        let id = UserId::new(&format!("user{i:08}")).unwrap();
        let h = settings.intern_user(&id).unwrap();
        handles.push(h);
        let roll = rng.gen_range(0..100);
        if roll < 10 {
            // Quiet from 22:00 for 9 hours: the message at 23:30 is inside.
            let window = DndWindow::new(TimeOfDay::new(22, 0, 0).unwrap(), 540).unwrap();
            settings
                .set_period(
                    &id,
                    Some(DndPeriod {
                        window,
                        level: PeriodLevel::Nothing,
                        zone: None,
                    }),
                )
                .unwrap();
        } else if roll < 20 {
            // Quiet from 02:00 for 4 hours: not at 23:30.
            let window = DndWindow::new(TimeOfDay::new(2, 0, 0).unwrap(), 240).unwrap();
            settings
                .set_period(
                    &id,
                    Some(DndPeriod {
                        window,
                        level: PeriodLevel::Nothing,
                        zone: None,
                    }),
                )
                .unwrap();
        }
        if rng.gen_range(0..100) < 30 {
            settings
                .set_type_level(&id, ConversationType::Group, Some(Level::All))
                .unwrap();
        }
    }
    (settings, handles)
}

fn sizes() -> Vec<usize> {
    std::env::var("DND_BENCH_USERS")
        .ok()
        .map(|v| {
            v.split(',')
                .map(|n| n.trim().parse().expect("a number of users"))
                .collect()
        })
        .unwrap_or_else(|| vec![1_000_000])
}

fn bench(c: &mut Criterion) {
    for users in sizes() {
        let (settings, handles) = world(users);
        let quiet: Timestamp = "2026-11-22T23:30:00Z".parse().unwrap();
        let awake: Timestamp = "2026-11-22T12:00:00Z".parse().unwrap();
        let message = Message::new(Conversation::Group { group_id: "g" }, "sender", quiet);
        let held_message = message.with_hold().with_message_id("m");
        let awake_message = held_message.with_time(awake);
        // What is measured is what was meant: 10% held, then nobody.
        let mut out = Vec::new();
        let prepared = settings.prepare(&held_message);
        prepared.decide_into(&handles, &mut out).unwrap();
        let held = Held::new().hold_fanout(&prepared, &handles, &out).unwrap();
        assert!((users / 12..users / 8).contains(&held), "{held} of {users} held");
        let prepared = settings.prepare(&awake_message);
        prepared.decide_into(&handles, &mut out).unwrap();
        assert_eq!(Held::new().hold_fanout(&prepared, &handles, &out).unwrap(), 0);

        let mut group = c.benchmark_group(format!("hold/{users}"));
        group.throughput(Throughput::Elements(users as u64));
        group.sample_size(10).measurement_time(Duration::from_secs(8));
        group.bench_function("plain", |b| {
            let prepared = settings.prepare(&message);
            let mut out = Vec::with_capacity(users);
            b.iter(|| {
                prepared.decide_into(black_box(&handles), &mut out).unwrap();
                black_box(out.len())
            })
        });
        group.bench_function("hold, nobody deferred", |b| {
            let prepared = settings.prepare(&awake_message);
            let mut out = Vec::with_capacity(users);
            b.iter_batched_ref(
                Held::new,
                |held| {
                    prepared.decide_into(black_box(&handles), &mut out).unwrap();
                    held.hold_fanout(&prepared, &handles, &out).unwrap()
                },
                BatchSize::LargeInput,
            )
        });
        group.bench_function("hold, 10% held", |b| {
            let prepared = settings.prepare(&held_message);
            let mut out = Vec::with_capacity(users);
            b.iter_batched_ref(
                Held::new,
                |held| {
                    prepared.decide_into(black_box(&handles), &mut out).unwrap();
                    held.hold_fanout(&prepared, &handles, &out).unwrap()
                },
                BatchSize::LargeInput,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Held pushes in a fanout: one group message to 1,000,000 users
//! (`DND_BENCH_USERS` picks other sizes, comma-separated), where 20% have a
//! period (half of them, 10% of all, quiet at the message's time at level 5,
//! so their push is deferred) and 30% a conversation-type level.
//!
//! Eight runs per size, per fanout, in the same process, each the fanout
//! of `decide_into` alone or with holding, by the one-pass
//! `Held::decide_and_hold` (`one pass`) or by `decide_into` then
//! `Held::hold_fanout` (`two calls`):
//! - `plain`: `decide_into` at 23:30, the fanout as it was;
//! - `not asked, ...`: the same message, not asking to hold, with holding;
//! - `plain at noon`: `decide_into` at 12:00, when nobody is quiet;
//! - `nobody deferred, ...`: the noon message asking to hold;
//! - `10% held, ...`: the 23:30 message asking to hold, into an empty store
//!   (each iteration starts from a new one; making and dropping it is not
//!   timed).
//!
//! `nobody deferred` is compared with `plain at noon` (the same decisions
//! without holding), the others with `plain`. On a loaded, shared machine,
//! `FANOUT_CPU_TIME=1` times by the thread's time on a CPU, as
//! `benches/fanout.rs` does.
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

/// How a run fans out.
#[derive(Clone, Copy)]
enum Way {
    /// `decide_into` alone.
    Plain,
    /// `Held::decide_and_hold`.
    OnePass,
    /// `decide_into`, then `Held::hold_fanout`.
    TwoCalls,
}

/// This thread's time on a CPU so far, from `/proc/thread-self/schedstat`
/// (updated at each scheduler tick: summed over many fanouts).
fn on_cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").expect("FANOUT_CPU_TIME needs Linux");
    Duration::from_nanos(text.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0))
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
        // What is measured is what was meant: 10% held, then nobody, both ways.
        let mut out = Vec::new();
        let prepared = settings.prepare(&held_message);
        let held = Held::new().decide_and_hold(&prepared, &handles, &mut out).unwrap();
        assert!((users / 12..users / 8).contains(&held), "{held} of {users} held");
        assert_eq!(Held::new().hold_fanout(&prepared, &handles, &out).unwrap(), held);
        let prepared = settings.prepare(&awake_message);
        assert_eq!(Held::new().decide_and_hold(&prepared, &handles, &mut out).unwrap(), 0);
        assert_eq!(Held::new().hold_fanout(&prepared, &handles, &out).unwrap(), 0);

        let mut group = c.benchmark_group(format!("hold/{users}"));
        group.throughput(Throughput::Elements(users as u64));
        group.sample_size(10).measurement_time(Duration::from_secs(8));
        let runs: [(&str, &Message<'_>, Way); 8] = [
            ("plain", &message, Way::Plain),
            ("not asked, one pass", &message, Way::OnePass),
            ("not asked, two calls", &message, Way::TwoCalls),
            ("plain at noon", &awake_message, Way::Plain),
            ("nobody deferred, one pass", &awake_message, Way::OnePass),
            ("nobody deferred, two calls", &awake_message, Way::TwoCalls),
            ("10% held, one pass", &held_message, Way::OnePass),
            ("10% held, two calls", &held_message, Way::TwoCalls),
        ];
        for (name, message, way) in runs {
            group.bench_function(name, |b| {
                let prepared = settings.prepare(message);
                let mut out = Vec::with_capacity(users);
                let mut fanout = |held: &mut Held| match way {
                    Way::Plain => {
                        prepared.decide_into(black_box(&handles), &mut out).unwrap();
                        out.len()
                    }
                    Way::OnePass => held.decide_and_hold(&prepared, black_box(&handles), &mut out).unwrap(),
                    Way::TwoCalls => {
                        prepared.decide_into(black_box(&handles), &mut out).unwrap();
                        held.hold_fanout(&prepared, &handles, &out).unwrap()
                    }
                };
                if std::env::var_os("FANOUT_CPU_TIME").is_some() {
                    b.iter_custom(|iters| {
                        let mut time = Duration::ZERO;
                        for _ in 0..iters {
                            let mut held = Held::new();
                            let start = on_cpu();
                            black_box(fanout(&mut held));
                            time += on_cpu() - start;
                        }
                        time
                    });
                } else {
                    b.iter_batched_ref(Held::new, &mut fanout, BatchSize::LargeInput);
                }
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

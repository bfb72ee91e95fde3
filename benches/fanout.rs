//! Fanout benchmarks: one ultra-group message to every member of worlds of
//! 100,000, 1,000,000 and 4,000,000 users (`DND_BENCH_USERS=1000000` picks
//! sizes, comma-separated), and the cost of preparing a message.
//!
//! The world (see `World::generate`): 20% of users with a period (nine in ten
//! in the data center's zone, the rest across five other zones, three of
//! which move their clocks); 30% with a conversation-type level; 5% with a
//! level on the benchmark's ultra group and 1% on its subchannel; an admin
//! default on the group and on the subchannel; and 400 more zones in use,
//! each named by one user's period. The message is sent in the subchannel
//! and mentions ten users. A second ultra group, "crowd", has sparse override
//! maps (20 levels on the group and 5 on its subchannel "lobby", spread over
//! every handle: too few for a presence bitmap), as a large group where a
//! handful of members set a level.
//!
//! Every figure is per recipient (`Throughput::Elements`), and the baseline,
//! the straightforward implementation of `tests/it/naive.rs`, runs in the
//! same process on the same world, after a check that it agrees with the
//! engine on every recipient.
//!
//! A second pair of worlds (`real.rs`): a world users would have, where a
//! few percent customised the group, its subchannel or the conversation
//! type, and the same members with nothing set (group `real N`).
//! `DND_BENCH_WORLDS=real` (or `mixed`) runs one kind only.
//!
//! Run: `cargo bench --bench fanout`. Figures and their reading are in
//! `docs/performance.md`. On a loaded, shared machine, `FANOUT_CPU_TIME=1`
//! times the fanouts by the benchmarking thread's time on a CPU (Linux's
//! scheduler statistics) instead of wall time: the time other processes held
//! the CPU is left out, which wall time on two busy cores cannot do.

use std::hint::black_box;
use std::time::Duration;

use chrono_tz::Tz;
use criterion::{criterion_group, criterion_main, Bencher, Criterion, Throughput};
use dnd_engine::{
    BusChannel, Config, Conversation, ConversationKey, ConversationType, Decision, DndPeriod, DndWindow, Level,
    Mentions, Message, PeriodLevel, Request, Settings, TargetId, TimeOfDay, Timestamp, UserHandle, UserId,
};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

#[path = "../tests/it/naive.rs"]
mod naive;
#[path = "fanout/real.rs"]
mod real;

/// Zones in use besides the data center's and the five above.
const MORE_ZONES: usize = 400;
const DATA_CENTER: Tz = chrono_tz::Asia::Shanghai;
const OTHER_ZONES: [Tz; 5] = [
    chrono_tz::America::New_York,
    chrono_tz::Europe::London,
    chrono_tz::Australia::Sydney,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Asia::Tokyo,
];

struct World {
    settings: Settings,
    naive: naive::Naive,
    ids: Vec<String>,
    handles: Vec<UserHandle>,
    shuffled_ids: Vec<String>,
    shuffled_handles: Vec<UserHandle>,
    mentioned: Vec<String>,
    at: Timestamp,
}

fn level(rng: &mut SmallRng) -> Level {
    [
        Level::All,
        Level::Mentions,
        Level::MentionsOfMe,
        Level::MentionsOfAll,
        Level::Nothing,
    ][rng.gen_range(0..5)]
}

impl World {
    fn generate(users: usize) -> World {
        let mut rng = SmallRng::seed_from_u64(0x0d0d);
        let config = Config::new(DATA_CENTER);
        let mut settings = Settings::new(config);
        let mut naive = naive::Naive::new(DATA_CENTER, &[]);
        let ids: Vec<String> = (0..users).map(|i| format!("user{i:07}")).collect();
        let group = TargetId::new("club").unwrap();
        let bus = BusChannel::new("news").unwrap();
        let mut requests = vec![
            Request::SetUltraGroupDefault {
                group_id: group.clone(),
                bus_channel: None,
                level: Some(Level::Mentions),
            },
            Request::SetUltraGroupDefault {
                group_id: group.clone(),
                bus_channel: Some(bus.clone()),
                level: Some(Level::MentionsOfAll),
            },
        ];
        let mut handles = Vec::with_capacity(users);
        for (i, id) in ids.iter().enumerate() {
            let user_id = UserId::new(id).unwrap();
            // Every member is numbered, as a service that keeps member lists as handles would.
            handles.push(settings.intern_user(&user_id).unwrap());
            if i % (users / MORE_ZONES) == 7 || rng.gen_bool(0.20) {
                let zone = if i % (users / MORE_ZONES) == 7 {
                    Some(chrono_tz::TZ_VARIANTS[i / (users / MORE_ZONES)])
                } else if rng.gen_bool(0.9) {
                    None
                } else {
                    Some(OTHER_ZONES[rng.gen_range(0..5)])
                };
                requests.push(Request::SetPeriod {
                    user_id: user_id.clone(),
                    period: DndPeriod {
                        window: DndWindow::new(
                            TimeOfDay::from_seconds(rng.gen_range(0..86_400)).unwrap(),
                            rng.gen_range(1..=1439),
                        )
                        .unwrap(),
                        level: if rng.gen_bool(0.5) {
                            PeriodLevel::Mentions
                        } else {
                            PeriodLevel::Nothing
                        },
                        zone,
                    },
                });
            }
            if rng.gen_bool(0.30) {
                requests.push(Request::SetTypeLevel {
                    user_id: user_id.clone(),
                    conversation_type: ConversationType::ALL[rng.gen_range(0..4)],
                    level: Some(level(&mut rng)),
                });
            }
            if rng.gen_bool(0.05) {
                requests.push(Request::SetConversationLevel {
                    user_id: user_id.clone(),
                    conversation: ConversationKey::new(ConversationType::UltraGroup, group.clone(), None).unwrap(),
                    level: Some(level(&mut rng)),
                });
            }
            if rng.gen_bool(0.01) {
                requests.push(Request::SetConversationLevel {
                    user_id: user_id.clone(),
                    conversation: ConversationKey::new(ConversationType::UltraGroup, group.clone(), Some(bus.clone()))
                        .unwrap(),
                    level: Some(level(&mut rng)),
                });
            }
        }
        // The sparse group: its own generator, so that the world above is the same as before it.
        let mut sparse = SmallRng::seed_from_u64(0x5a5a);
        let crowd = TargetId::new("crowd").unwrap();
        let lobby = BusChannel::new("lobby").unwrap();
        for (bus, count) in [(None, 20), (Some(lobby), 5)] {
            for _ in 0..count {
                requests.push(Request::SetConversationLevel {
                    user_id: UserId::new(&ids[sparse.gen_range(0..users)]).unwrap(),
                    conversation: ConversationKey::new(ConversationType::UltraGroup, crowd.clone(), bus.clone())
                        .unwrap(),
                    level: Some(level(&mut sparse)),
                });
            }
        }
        for r in &requests {
            assert_eq!(settings.apply(r).code(), 200);
            naive.apply(r);
        }
        let mut order: Vec<usize> = (0..users).collect();
        order.shuffle(&mut rng);
        let mentioned = (0..10).map(|_| ids[rng.gen_range(0..users)].clone()).collect();
        World {
            shuffled_ids: order.iter().map(|&i| ids[i].clone()).collect(),
            shuffled_handles: order.iter().map(|&i| handles[i]).collect(),
            settings,
            naive,
            ids,
            handles,
            mentioned,
            // 23:30 in Shanghai, when many nightly periods are on.
            at: "2026-11-22T23:30:00+08:00".parse().unwrap(),
        }
    }

    /// This world with 10% of its users extended: each of them gets a
    /// weekly schedule (two windows) and a temporary level on the
    /// benchmark's ultra group that is still in force at the message's time.
    fn extended(&self) -> (Settings, naive::Naive) {
        let mut rng = SmallRng::seed_from_u64(0x0e0e);
        let mut settings = self.settings.clone();
        let mut naive = self.naive.clone();
        let windows = r#"[{"days":[1,2,3,4,7],"startTime":"22:00:00","period":540,"level":5},{"days":[5,6],"startTime":"23:30:00","period":480,"level":1}]"#;
        let until = self.at.millis() + 2 * 3_600_000;
        for id in &self.ids {
            if !rng.gen_bool(0.10) {
                continue;
            }
            let schedule = form_urlencoded::Serializer::new(String::new())
                .append_pair("userId", id)
                .append_pair("windows", windows)
                .finish();
            let temporary = format!(
                "conversationType=10&requestId={id}&targetId=club&unpushLevel={}&until={until}",
                level(&mut rng).code()
            );
            for (path, body) in [
                ("/user/blockPushSchedule/set.json", schedule),
                ("/conversation/notification/set.json", temporary),
            ] {
                let r = Request::parse(path, body.as_bytes()).unwrap();
                assert_eq!(settings.apply(&r).code(), 200);
                naive.apply(&r);
            }
        }
        (settings, naive)
    }

    /// This world with the break-through policy in use: 10% of its users list the
    /// benchmark's sender as a VIP (half with scope quiet, half all) and 5%
    /// allow urgent messages.
    fn with_policy(&self) -> (Settings, naive::Naive) {
        let mut rng = SmallRng::seed_from_u64(0x0b0b);
        let mut settings = self.settings.clone();
        let mut naive = self.naive.clone();
        for id in &self.ids {
            let mut bodies = Vec::new();
            if rng.gen_bool(0.10) {
                let scope = if rng.gen_bool(0.5) { "quiet" } else { "all" };
                bodies.push((
                    "/user/vip/set.json",
                    format!("userId={id}&vipUserIds=%5B%22sender%22%5D&scope={scope}"),
                ));
            }
            if rng.gen_bool(0.05) {
                bodies.push(("/user/urgent/set.json", format!("userId={id}&allow=1")));
            }
            for (path, body) in bodies {
                let r = Request::parse(path, body.as_bytes()).unwrap();
                assert_eq!(settings.apply(&r).code(), 200);
                naive.apply(&r);
            }
        }
        (settings, naive)
    }

    fn message<'a>(&'a self, mentioned: &'a [&'a str]) -> Message<'a> {
        Message::new(
            Conversation::UltraGroup {
                group_id: "club",
                bus_channel: Some("news"),
            },
            "sender",
            self.at,
        )
        .with_mentions(Mentions::Users(mentioned))
    }
}

/// This thread's time on a CPU so far, from `/proc/thread-self/schedstat`
/// (Linux updates it at each scheduler tick, every few milliseconds: a
/// fanout of a million recipients takes tens of them).
fn on_cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").expect("FANOUT_CPU_TIME needs Linux");
    Duration::from_nanos(text.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0))
}

/// Times `f` by wall time, or with `FANOUT_CPU_TIME` set by time on a CPU.
fn timed(b: &mut Bencher<'_>, mut f: impl FnMut()) {
    if std::env::var_os("FANOUT_CPU_TIME").is_some() {
        b.iter_custom(|iters| {
            let start = on_cpu();
            for _ in 0..iters {
                f();
            }
            on_cpu() - start
        });
    } else {
        b.iter(f);
    }
}

/// The sizes to run: `DND_BENCH_USERS` (comma-separated), else 100k, 1M and 4M.
fn sizes() -> Vec<usize> {
    std::env::var("DND_BENCH_USERS")
        .ok()
        .map(|v| {
            v.split(',')
                .map(|n| n.trim().parse().expect("DND_BENCH_USERS: numbers"))
                .collect()
        })
        .unwrap_or_else(|| vec![100_000, 1_000_000, 4_000_000])
}

/// Checks the engine against the baseline on every recipient of `world`,
/// through each batch path, before anything is timed.
fn check_agreement(settings: &Settings, naive: &naive::Naive, world: &World, message: &Message<'_>) {
    agree(settings, naive, &world.ids, &world.shuffled_ids, message);
}

/// Checks the engine against the baseline on every recipient, members `ids`
/// in order and `shuffled`, through each batch path (by handle, as bits, by
/// id in both orders).
fn agree(settings: &Settings, naive: &naive::Naive, ids: &[String], shuffled: &[String], message: &Message<'_>) {
    let prepared = settings.prepare(message);
    let mut out: Vec<Decision> = Vec::with_capacity(ids.len());
    let mut bits: Vec<u64> = Vec::new();
    let expected: Vec<naive::NaiveDecision> = ids.iter().map(|id| naive.decide(message, id)).collect();
    // `settings` may be a clone of the world's: its handles are its own.
    let handles: Vec<UserHandle> = ids.iter().map(|id| settings.user(id).unwrap()).collect();
    prepared.decide_into(&handles, &mut out).unwrap();
    for ((id, d), e) in ids.iter().zip(&out).zip(&expected) {
        assert_eq!(naive::as_naive(*d), *e, "recipient {id} by handle");
    }
    prepared.push_bits_into(&handles, &mut bits).unwrap();
    for (i, e) in expected.iter().enumerate() {
        assert_eq!(bits[i / 64] >> (i % 64) & 1 == 1, e.0, "recipient {} as a bit", ids[i]);
    }
    prepared.decide_ids_into(ids, &mut out);
    for ((id, d), e) in ids.iter().zip(&out).zip(&expected) {
        assert_eq!(naive::as_naive(*d), *e, "recipient {id} by id, in order");
    }
    prepared.decide_ids_into(shuffled, &mut out);
    let by_id: std::collections::HashMap<&str, &naive::NaiveDecision> =
        ids.iter().map(String::as_str).zip(&expected).collect();
    for (id, d) in shuffled.iter().zip(&out) {
        assert_eq!(naive::as_naive(*d), *by_id[id.as_str()], "recipient {id} by id");
    }
}

/// Whether to run world `name`: `DND_BENCH_WORLDS` (comma-separated:
/// `mixed` for the world above, `real` for `real.rs`'s), else all.
fn runs(name: &str) -> bool {
    std::env::var("DND_BENCH_WORLDS").map_or(true, |v| v.split(',').any(|w| w.trim() == name))
}

fn fanout(c: &mut Criterion) {
    for users in sizes() {
        if runs("mixed") {
            fanout_of(c, users);
        }
        if runs("real") {
            real_fanout(c, users);
        }
    }
}

/// The world users would have (`real.rs`) and the same members with nothing
/// set, each checked against the baseline on every path first: by handle
/// and by id, in member order and shuffled; the baseline on the first.
fn real_fanout(c: &mut Criterion, users: usize) {
    let mut g = c.benchmark_group(format!("real {users}"));
    g.throughput(Throughput::Elements(users as u64));
    // Flat: the same number of iterations a sample (the baseline takes seconds an iteration at 4M).
    g.sampling_mode(criterion::SamplingMode::Flat);
    let mut out: Vec<Decision> = Vec::with_capacity(users);
    for (name, customised) in [("", true), ("nobody customised, ", false)] {
        let world = real::Real::generate(users, customised);
        let message = world.message();
        agree(&world.settings, &world.naive, &world.ids, &world.shuffled_ids, &message);
        eprintln!(
            "real world{}: {} users; settings heap {:.1} MB ({:.1} MB of it user ids): {:.1} bytes a user besides the ids",
            if customised { "" } else { ", nobody customised" },
            users,
            world.settings.heap_bytes() as f64 / 1e6,
            world.settings.id_bytes() as f64 / 1e6,
            (world.settings.heap_bytes() - world.settings.id_bytes()) as f64 / users as f64,
        );
        let prepared = world.settings.prepare(&message);
        for (order, handles, ids) in [
            ("in order", &world.handles, &world.ids),
            ("shuffled", &world.shuffled_handles, &world.shuffled_ids),
        ] {
            g.sample_size(20);
            g.bench_function(format!("{name}by handle, {order}"), |b| {
                timed(b, || prepared.decide_into(black_box(handles), &mut out).unwrap())
            });
            g.bench_function(format!("{name}by id, {order}"), |b| {
                timed(b, || prepared.decide_ids_into(black_box(ids), &mut out))
            });
            if customised {
                let mut naive_out: Vec<naive::NaiveDecision> = Vec::with_capacity(users);
                g.sample_size(10);
                g.bench_function(format!("baseline (naive), {order}"), |b| {
                    timed(b, || {
                        naive_out.clear();
                        naive_out.extend(black_box(ids).iter().map(|id| world.naive.decide(&message, id)));
                    })
                });
            }
        }
    }
    g.finish();
}

fn fanout_of(c: &mut Criterion, users: usize) {
    let world = World::generate(users);
    let mentioned: Vec<&str> = world.mentioned.iter().map(String::as_str).collect();
    let message = world.message(&mentioned);
    // The baseline must decide exactly as the engine does, or the comparison means nothing.
    check_agreement(&world.settings, &world.naive, &world, &message);
    let prepared = world.settings.prepare(&message);
    let mut out: Vec<Decision> = Vec::with_capacity(users);
    prepared.decide_into(&world.handles, &mut out).unwrap();
    eprintln!(
        "world: {} users, {} pushes, {} zones; settings heap {:.1} MB ({:.1} MB of it user ids): {:.1} bytes a user besides the ids",
        users,
        out.iter().filter(|d| d.push()).count(),
        world.settings.zone_count(),
        world.settings.heap_bytes() as f64 / 1e6,
        world.settings.id_bytes() as f64 / 1e6,
        (world.settings.heap_bytes() - world.settings.id_bytes()) as f64 / users as f64,
    );

    let mut g = c.benchmark_group(format!("fanout {users}"));
    g.sample_size(20);

    if users == 1_000_000 || sizes().len() == 1 {
        prepare_benches(&mut g, &world, &message, &mentioned);
    }

    g.throughput(Throughput::Elements(users as u64));
    let mut naive_out: Vec<naive::NaiveDecision> = Vec::with_capacity(users);
    let mut bits: Vec<u64> = Vec::with_capacity(users / 64 + 1);
    for (order, handles, ids) in [
        ("in order", &world.handles, &world.ids),
        ("shuffled", &world.shuffled_handles, &world.shuffled_ids),
    ] {
        g.sample_size(20);
        g.bench_function(format!("by handle, {order}"), |b| {
            timed(b, || prepared.decide_into(black_box(handles), &mut out).unwrap())
        });
        g.bench_function(format!("push bits by handle, {order}"), |b| {
            b.iter(|| prepared.push_bits_into(black_box(handles), &mut bits).unwrap())
        });
        g.bench_function(format!("by id, {order}"), |b| {
            timed(b, || prepared.decide_ids_into(black_box(ids), &mut out))
        });
        // The baseline writes into a buffer it keeps too, so that neither side pays for growing one.
        g.sample_size(10);
        g.bench_function(format!("baseline (naive), {order}"), |b| {
            timed(b, || {
                naive_out.clear();
                naive_out.extend(black_box(ids).iter().map(|id| world.naive.decide(&message, id)));
            })
        });
    }
    {
        // The same message in the sparse group: every override layer a map
        // too small for a presence bitmap.
        let message = Message::new(
            Conversation::UltraGroup {
                group_id: "crowd",
                bus_channel: Some("lobby"),
            },
            "sender",
            world.at,
        )
        .with_mentions(Mentions::Users(&mentioned));
        check_agreement(&world.settings, &world.naive, &world, &message);
        let prepared = world.settings.prepare(&message);
        g.sample_size(20);
        g.bench_function("by handle, in order, sparse overrides", |b| {
            timed(b, || prepared.decide_into(black_box(&world.handles), &mut out).unwrap())
        });
        g.bench_function("by id, in order, sparse overrides", |b| {
            timed(b, || prepared.decide_ids_into(black_box(&world.ids), &mut out))
        });
    }
    #[cfg(feature = "parallel")]
    {
        let two = std::num::NonZeroUsize::new(2).unwrap();
        g.sample_size(20);
        g.bench_function("by handle, in order, 2 threads", |b| {
            b.iter(|| {
                prepared
                    .decide_into_parallel(black_box(&world.handles), &mut out, two)
                    .unwrap()
            })
        });
    }
    if users == 1_000_000 {
        // The same world with 10% of users extended (schedules and temporary
        // overrides): those users take the full walk.
        let (extended, extended_naive) = world.extended();
        check_agreement(&extended, &extended_naive, &world, &message);
        // A clone is other settings: its handles are its own (the same numbers).
        let handles: Vec<UserHandle> = world.ids.iter().map(|id| extended.user(id).unwrap()).collect();
        let prepared = extended.prepare(&message);
        g.sample_size(20);
        g.bench_function("by handle, in order, 10% extended", |b| {
            timed(b, || prepared.decide_into(black_box(&handles), &mut out).unwrap())
        });
        // The same world with VIP lists and urgent consent (docs/rules.md §10): a message
        // from the VIP of 10% of users, then the same message urgent, allowed by 5%.
        let (policy, policy_naive) = world.with_policy();
        let handles: Vec<UserHandle> = world.ids.iter().map(|id| policy.user(id).unwrap()).collect();
        for (name, message) in [
            ("by handle, in order, sender a VIP of 10%", message),
            (
                "by handle, in order, urgent, 10% VIP and 5% allow",
                message.with_urgent(),
            ),
        ] {
            check_agreement(&policy, &policy_naive, &world, &message);
            let prepared = policy.prepare(&message);
            g.bench_function(name, |b| {
                timed(b, || prepared.decide_into(black_box(&handles), &mut out).unwrap())
            });
        }
    }
    g.finish();
}

/// Preparing a message in each conversation type, with every zone of the
/// world in use: the per-message work that a fanout amortizes and that is
/// the whole cost of a one-to-one message.
fn prepare_benches(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    world: &World,
    ultra: &Message<'_>,
    mentioned: &[&str],
) {
    g.throughput(Throughput::Elements(1));
    let prepared = world.settings.prepare(ultra);
    let one = world.handles[world.handles.len() / 2];
    g.bench_function("one recipient, warm", |b| b.iter(|| prepared.decide(black_box(one))));
    let sender = world.ids[3].as_str();
    let private = Message::new(Conversation::Private, sender, world.at);
    let group = Message::new(Conversation::Group { group_id: "club" }, sender, world.at)
        .with_mentions(Mentions::Users(mentioned));
    let system = Message::new(Conversation::System, sender, world.at);
    for (name, message) in [
        ("private", &private),
        ("group", &group),
        ("system", &system),
        ("ultra group", ultra),
    ] {
        g.bench_function(format!("prepare, {name}"), |b| {
            b.iter(|| world.settings.prepare(black_box(message)))
        });
    }
    // A one-to-one message, whole: prepare, then decide its one recipient
    // (the sender resolved, the recipient's zone converted).
    let recipient = world.handles[world.handles.len() / 3];
    g.bench_function("one-to-one: prepare and decide", |b| {
        b.iter(|| world.settings.prepare(black_box(&private)).decide(black_box(recipient)))
    });
}

criterion_group!(benches, fanout);
criterion_main!(benches);

//! Fanout benchmarks: one ultra-group message to 1,000,000 members.
//!
//! The world (see `World::generate`): 1,000,000 users; 20% with a period (nine
//! in ten in the data center's zone, the rest across five other zones, three
//! of which move their clocks); 30% with a conversation-type level; 5% with a
//! level on the benchmark's ultra group and 1% on its subchannel; an admin
//! default on the group and on the subchannel. The message is sent in the
//! subchannel and mentions ten users.
//!
//! Every figure is per recipient (`Throughput::Elements`), and the baseline,
//! the straightforward implementation of `tests/it/naive.rs`, runs in the
//! same process on the same world, after a check that it agrees with the
//! engine on every recipient.
//!
//! Run: `cargo bench --bench fanout`. Figures and their reading are in
//! `docs/performance.md`. On a loaded, shared machine, `FANOUT_CPU_TIME=1`
//! times the fanouts by the benchmarking thread's time on a CPU (Linux's
//! scheduler statistics) instead of wall time: the time other processes held
//! the CPU is left out, which wall time on two busy cores cannot do.

use std::hint::black_box;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use criterion::{criterion_group, criterion_main, Bencher, Criterion, Throughput};
use dnd_engine::{
    BusChannel, Config, Conversation, ConversationKey, ConversationType, Decision, DndPeriod, DndWindow, Level,
    Mentions, Message, PeriodLevel, Request, Settings, TargetId, TimeOfDay, UserHandle, UserId,
};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

#[path = "../tests/it/naive.rs"]
mod naive;

const USERS: usize = 1_000_000;
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
    at: DateTime<Utc>,
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
    fn generate() -> World {
        let mut rng = SmallRng::seed_from_u64(0x0d0d);
        let config = Config::new(DATA_CENTER);
        let mut settings = Settings::new(config);
        let mut naive = naive::Naive::new(DATA_CENTER, &[]);
        let ids: Vec<String> = (0..USERS).map(|i| format!("user{i:07}")).collect();
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
        let mut handles = Vec::with_capacity(USERS);
        for id in &ids {
            let user_id = UserId::new(id).unwrap();
            // Every member is numbered, as a service that keeps member lists as handles would.
            handles.push(settings.intern_user(&user_id).unwrap());
            if rng.gen_bool(0.20) {
                let zone = if rng.gen_bool(0.9) {
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
        for r in &requests {
            assert_eq!(settings.apply(r).code(), 200);
            naive.apply(r);
        }
        let mut order: Vec<usize> = (0..USERS).collect();
        order.shuffle(&mut rng);
        let mentioned = (0..10).map(|_| ids[rng.gen_range(0..USERS)].clone()).collect();
        World {
            shuffled_ids: order.iter().map(|&i| ids[i].clone()).collect(),
            shuffled_handles: order.iter().map(|&i| handles[i]).collect(),
            settings,
            naive,
            ids,
            handles,
            mentioned,
            // 23:30 in Shanghai, when many nightly periods are on.
            at: DateTime::parse_from_rfc3339("2026-11-22T23:30:00+08:00")
                .unwrap()
                .with_timezone(&Utc),
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
        let until = (self.at + chrono::Duration::hours(2)).timestamp_millis();
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

    /// This world with issue 11's policy in use: 10% of its users list the
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

fn fanout(c: &mut Criterion) {
    let world = World::generate();
    let mentioned: Vec<&str> = world.mentioned.iter().map(String::as_str).collect();
    let message = world.message(&mentioned);
    let prepared = world.settings.prepare(&message);

    // The baseline must decide exactly as the engine does, or the comparison means nothing.
    let mut out: Vec<Decision> = Vec::with_capacity(USERS);
    prepared.decide_into(&world.handles, &mut out);
    for (id, d) in world.ids.iter().zip(&out) {
        assert_eq!(naive::as_naive(*d), world.naive.decide(&message, id), "recipient {id}");
    }
    eprintln!(
        "world: {} users, {} pushes; settings heap {:.1} MB ({:.1} MB of it user ids)",
        USERS,
        out.iter().filter(|d| d.push()).count(),
        world.settings.heap_bytes() as f64 / 1e6,
        world.settings.id_bytes() as f64 / 1e6,
    );

    let mut g = c.benchmark_group("fanout");
    g.sample_size(20);

    // One decision, the same recipient over and over: everything in cache.
    g.throughput(Throughput::Elements(1));
    let one = world.handles[USERS / 2];
    g.bench_function("one recipient, warm", |b| b.iter(|| prepared.decide(black_box(one))));

    // Preparing the message: the per-message work that the fanout amortizes.
    g.bench_function("prepare the message", |b| {
        b.iter(|| world.settings.prepare(black_box(&message)))
    });

    g.throughput(Throughput::Elements(USERS as u64));
    let mut naive_out: Vec<naive::NaiveDecision> = Vec::with_capacity(USERS);
    for (order, handles, ids) in [
        ("in order", &world.handles, &world.ids),
        ("shuffled", &world.shuffled_handles, &world.shuffled_ids),
    ] {
        g.sample_size(20);
        g.bench_function(format!("by handle, {order}"), |b| {
            timed(b, || prepared.decide_into(black_box(handles), &mut out))
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
    // The same world with 10% of users extended (schedules and temporary
    // overrides): those users take the full walk.
    let (extended, extended_naive) = world.extended();
    let prepared = extended.prepare(&message);
    prepared.decide_into(&world.handles, &mut out);
    for (id, d) in world.ids.iter().zip(&out) {
        assert_eq!(
            naive::as_naive(*d),
            extended_naive.decide(&message, id),
            "recipient {id}"
        );
    }
    g.sample_size(20);
    g.bench_function("by handle, in order, 10% extended", |b| {
        timed(b, || prepared.decide_into(black_box(&world.handles), &mut out))
    });
    // The same world with VIP lists and urgent consent (issue 11): a message
    // from the VIP of 10% of users, then the same message urgent, allowed by 5%.
    let (policy, policy_naive) = world.with_policy();
    for (name, message) in [
        ("by handle, in order, sender a VIP of 10%", message),
        (
            "by handle, in order, urgent, 10% VIP and 5% allow",
            message.with_urgent(),
        ),
    ] {
        let prepared = policy.prepare(&message);
        prepared.decide_into(&world.handles, &mut out);
        for (id, d) in world.ids.iter().zip(&out) {
            assert_eq!(naive::as_naive(*d), policy_naive.decide(&message, id), "recipient {id}");
        }
        g.bench_function(name, |b| {
            timed(b, || prepared.decide_into(black_box(&world.handles), &mut out))
        });
    }
    g.finish();
}

criterion_group!(benches, fanout);
criterion_main!(benches);

//! A push to the members of an ultra group of 1,000,000 users, in process:
//! the members kept in the settings (`decide_members`, `write_members` in
//! the `push` and `bits` forms) against the same members given by handle
//! (`decide_into`, the fanout's fastest path) and by id (`decide_ids_into`,
//! what a service does with a list of ids), in the same run. The world: the
//! members joined shuffled (member order is numbering order, not join
//! order), 4.5% with a level on the group, 6% a type level, 10% a period.
//! Every way agrees with `decide_ids_into` before any timing.
//!
//! Run: `cargo bench --bench members`. Figures are in `docs/performance.md`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dnd_engine::push::{write_members, AnswerForm};
use dnd_engine::{Config, Conversation, Message, Settings, Timestamp, UserHandle};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

const USERS: usize = 1_000_000;

fn world() -> (Settings, Vec<String>, Vec<UserHandle>) {
    let mut s = Settings::new(Config::new(chrono_tz::Asia::Shanghai));
    let mut rng = SmallRng::seed_from_u64(22);
    let ids: Vec<String> = (0..USERS).map(|i| format!("user{i:08}")).collect();
    for id in &ids {
        s.intern_user(&dnd_engine::UserId::new(id).unwrap()).unwrap();
    }
    let mut order: Vec<usize> = (0..USERS).collect();
    order.shuffle(&mut rng);
    for &i in &order {
        let r = s.handle(
            "/ultragroup/join.json",
            format!("groupId=club&userId={}", ids[i]).as_bytes(),
        );
        assert_eq!(r.code(), 200);
    }
    for id in &ids {
        let roll = rng.gen_range(0..1000);
        let l = [1, 2, 4, 5][rng.gen_range(0..4)];
        let (path, body) = match roll {
            0..=44 => (
                "/conversation/notification/set.json",
                format!("conversationType=10&requestId={id}&targetId=club&unpushLevel={l}"),
            ),
            45..=104 => (
                "/conversation/type/notification/set.json",
                format!("conversationType=10&requestId={id}&unpushLevel={l}"),
            ),
            105..=204 => (
                "/user/blockPushPeriod/set.json",
                format!("userId={id}&startTime=22:00:00&period=540&level=5"),
            ),
            _ => continue,
        };
        assert_eq!(s.handle(path, body.as_bytes()).code(), 200);
    }
    // Member order: by number, which is `ids`' order here.
    let handles = ids.iter().map(|id| s.user(id).unwrap()).collect();
    (s, ids, handles)
}

fn bench(c: &mut Criterion) {
    let (settings, ids, handles) = world();
    let at: Timestamp = "2026-11-22T23:30:00+08:00".parse().unwrap();
    let message = Message::new(
        Conversation::UltraGroup {
            group_id: "club",
            bus_channel: None,
        },
        "user00000007",
        at,
    );
    let prepared = settings.prepare(&message);
    // Agreement first.
    let mut by_id = Vec::new();
    prepared.decide_ids_into(&ids, &mut by_id);
    let mut members = Vec::with_capacity(USERS);
    let mut walked = Vec::with_capacity(USERS);
    prepared.decide_members(|hs, ds| {
        walked.extend_from_slice(hs);
        members.extend_from_slice(ds);
    });
    assert_eq!(walked, handles);
    assert_eq!(members, by_id);
    let pushes = by_id.iter().filter(|d| d.push()).count();
    let mut out = Vec::new();
    write_members(&prepared, AnswerForm::Push, false, 0, &mut out).unwrap();
    let pushed: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(pushed["push"].as_array().unwrap().len(), pushes);

    let mut group = c.benchmark_group(format!("members/{USERS}"));
    group.throughput(Throughput::Elements(USERS as u64));
    group.sample_size(10).measurement_time(Duration::from_secs(8));
    group.bench_function("by id (decide_ids_into)", |b| {
        let mut out = Vec::with_capacity(USERS);
        b.iter(|| {
            prepared.decide_ids_into(black_box(&ids), &mut out);
            black_box(out.len())
        })
    });
    group.bench_function("by handle (decide_into)", |b| {
        let mut out = Vec::with_capacity(USERS);
        b.iter(|| {
            prepared.decide_into(black_box(&handles), &mut out).unwrap();
            black_box(out.len())
        })
    });
    group.bench_function("members (decide_members)", |b| {
        b.iter(|| {
            let mut n = 0usize;
            prepared.decide_members(|_, ds| n += ds.iter().filter(|d| d.push()).count());
            black_box(n)
        })
    });
    for form in [AnswerForm::Bits, AnswerForm::Push] {
        group.bench_function(format!("members, answer {}", form.as_str()), |b| {
            let mut out = Vec::with_capacity(USERS * 12);
            b.iter(|| {
                out.clear();
                write_members(&prepared, form, false, 0, &mut out).unwrap();
                black_box(out.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Keywords: what one scan of a message's text costs at prepare with many
//! users' keywords, and what keywords cost the fanout of the recipients who
//! have none, against the same fanout with no keywords anywhere, in the same
//! run (`docs/performance.md`).
//!
//! The world: `DND_BENCH_USERS` users (default 200,000), each with a random
//! level for groups; in the keyword world the first half of them (100,000 by
//! default) has 10 keywords each, drawn from a vocabulary of 50,000 made-up words (so some
//! 46,000 distinct patterns); the message is a group message with about
//! 1 KiB of text of vocabulary words and filler, which holds a few users'
//! keywords. The fanout is over the second half (no keywords).
//!
//! `cargo bench --bench keywords`; the ratio to read is "fanout, no keywords
//! anywhere" against "fanout of users without keywords, keywords found". On a
//! loaded, shared machine, `FANOUT_CPU_TIME=1` times each benchmark by its
//! thread's time on a CPU instead of by the wall clock.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Bencher, Criterion, Throughput};
use dnd_engine::chrono_tz::Asia::Shanghai;
use dnd_engine::{Config, Conversation, Keywords, Message, Settings, Timestamp, UserId};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// This thread's time on a CPU so far, from `/proc/thread-self/schedstat`.
fn on_cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").expect("FANOUT_CPU_TIME needs Linux");
    Duration::from_nanos(text.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0))
}

/// Times `f` by wall time, or with `FANOUT_CPU_TIME` set by time on a CPU
/// (each of criterion's iterations then runs `f` `repeat` times and counts
/// their mean, so that a sample lasts several of the scheduler's ticks,
/// which is when Linux updates the time on a CPU).
fn timed<T>(b: &mut Bencher<'_>, repeat: u32, mut f: impl FnMut() -> T) {
    if std::env::var_os("FANOUT_CPU_TIME").is_some() {
        b.iter_custom(|iters| {
            let start = on_cpu();
            for _ in 0..iters * u64::from(repeat) {
                black_box(f());
            }
            (on_cpu() - start) / repeat
        });
    } else {
        b.iter(f);
    }
}

fn word(rng: &mut SmallRng) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "zen", "dor", "qua", "pel", "rim", "tash", "vo", "yu",
    ];
    (0..rng.gen_range(2..5))
        .map(|_| SYLLABLES[rng.gen_range(0..16)])
        .collect()
}

fn world(users: usize, keywords: bool) -> (Settings, Vec<dnd_engine::UserHandle>, Vec<String>) {
    let mut rng = SmallRng::seed_from_u64(7);
    let vocabulary: Vec<String> = (0..50_000).map(|_| word(&mut rng)).collect();
    let mut settings = Settings::new(Config::new(Shanghai));
    let mut rng = SmallRng::seed_from_u64(11);
    // Keywords from a generator of their own, so that both worlds draw the same levels.
    let mut words_rng = SmallRng::seed_from_u64(13);
    let started = Instant::now();
    for i in 0..users {
        let id = UserId::new(&format!("user{i}")).unwrap();
        let level = [-1, 1, 2, 4, 5][rng.gen_range(0..5)];
        let body = format!("conversationType=3&requestId=user{i}&unpushLevel={level}");
        assert_eq!(
            settings
                .handle("/conversation/type/notification/set.json", body.as_bytes())
                .code(),
            200
        );
        if keywords && i < users / 2 {
            let words: Vec<&str> = (0..10)
                .map(|_| vocabulary[words_rng.gen_range(0..vocabulary.len())].as_str())
                .collect();
            settings.set_keywords(&id, &Keywords::new(&words).unwrap()).unwrap();
        }
    }
    if keywords {
        eprintln!(
            "{users} users, {} with 10 keywords each: set in {:?}",
            users / 2,
            started.elapsed()
        );
    }
    let handles = (users / 2..users)
        .map(|i| settings.user(&format!("user{i}")).unwrap())
        .collect();
    (settings, handles, vocabulary)
}

fn text(vocabulary: &[String]) -> String {
    let mut rng = SmallRng::seed_from_u64(3);
    let mut text = String::new();
    while text.len() < 1024 {
        if rng.gen_bool(0.3) {
            text.push_str(&vocabulary[rng.gen_range(0..vocabulary.len())]);
        } else {
            text.push_str(["the", "and", "of", "to", "is", "we", "meeting", "today"][rng.gen_range(0..8)]);
        }
        text.push_str([" ", ", ", ". "][rng.gen_range(0..3)]);
    }
    text.truncate(1024);
    text
}

fn keywords(c: &mut Criterion) {
    let users = std::env::var("DND_BENCH_USERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let (plain, handles, vocabulary) = world(users, false);
    let (keyworded, keyword_handles, _) = world(users, true);
    let text = text(&vocabulary);
    let at: Timestamp = "2026-11-22T12:00:00+08:00".parse().unwrap();
    let message = Message::new(Conversation::Group { group_id: "club" }, "user7", at).with_text(&text);
    let found = keyworded.prepare(&message);
    let mut out = Vec::new();
    found.decide_into(&keyword_handles, &mut out).unwrap();
    let mut plain_out = Vec::new();
    plain.prepare(&message).decide_into(&handles, &mut plain_out).unwrap();
    assert_eq!(
        out, plain_out,
        "recipients without keywords decide as without keywords anywhere"
    );

    let mut g = c.benchmark_group(format!("keywords {users}"));
    g.throughput(Throughput::Elements(1));
    g.bench_function("prepare, group message with 1 KiB text, no keywords anywhere", |b| {
        timed(b, 20_000, || plain.prepare(black_box(&message)))
    });
    g.bench_function(
        format!(
            "prepare, group message with 1 KiB text, {} users x 10 keywords",
            users / 2
        ),
        |b| timed(b, 1000, || keyworded.prepare(black_box(&message))),
    );
    let no_text = Message::new(Conversation::Group { group_id: "club" }, "user7", at);
    g.bench_function("prepare, group message without text", |b| {
        timed(b, 20_000, || keyworded.prepare(black_box(&no_text)))
    });
    g.throughput(Throughput::Elements(handles.len() as u64));
    let p = plain.prepare(&message);
    g.bench_function("fanout, no keywords anywhere", |b| {
        timed(b, 20, || p.decide_into(black_box(&handles), &mut out).unwrap())
    });
    let p = keyworded.prepare(&message);
    g.bench_function("fanout of users without keywords, keywords found", |b| {
        timed(b, 20, || p.decide_into(black_box(&keyword_handles), &mut out).unwrap())
    });
    g.finish();
}

criterion_group!(benches, keywords);
criterion_main!(benches);

//! Deciding a fanout through the C ABI against the same call in Rust, in
//! one run: 1,000,000 recipients (`DND_BENCH_USERS` changes it) by id, in a
//! shuffled order (C strings and the packed form), and by handle, in order.
//!
//! The world: 20% of users with a period (most in the data center's zone),
//! 30% with a conversation-type level, 5% with a level on the ultra group,
//! 1% on its subchannel, admin defaults on both; the message is sent in the
//! subchannel at 23:30 Shanghai time with an @all. The C ABI's settings are
//! the Rust settings saved and restored, and both are checked to decide
//! every recipient alike before anything is timed.
//!
//! The extern functions are called from Rust here, as a C caller calls
//! them: the `unsafe` below keeps the ABI's contract (live buffers of the
//! stated lengths), which each block says.
//!
//! `DND_CPU_TIME=1` times by this thread's time on a CPU rather than by the
//! wall clock, for a machine shared with other work.

use std::ffi::{c_char, CString};
use std::ptr::{null, null_mut};

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Bencher, Criterion};
use dnd_engine::chrono_tz::Asia::Shanghai;
use dnd_engine::push::Push;
use dnd_engine::{Config, ConversationType, Level, Settings, UserHandle, UserId};
use dnd_ffi::*;
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

const PUSH: &str = r#"{"at": "2026-11-22T23:30:00+08:00", "conversationType": 10, "targetId": "ug", "busChannel": "news", "fromUserId": "u1", "mentionedInfo": {"type": 1}, "recipients": []}"#;

fn world(users: usize) -> Settings {
    let config = Config::new(Shanghai).with_app_default(ConversationType::Group, Level::Mentions);
    let mut s = Settings::new(config);
    let mut rng = SmallRng::seed_from_u64(12);
    let levels = [-1, 1, 2, 4, 5];
    let ok =
        |s: &mut Settings, path: &str, body: String| assert_eq!(s.handle(path, body.as_bytes()).code(), 200, "{body}");
    ok(
        &mut s,
        "/ultragroup/notdisturb/set.json",
        "groupId=ug&unpushLevel=1".into(),
    );
    ok(
        &mut s,
        "/ultragroup/notdisturb/set.json",
        "groupId=ug&busChannel=news&unpushLevel=4".into(),
    );
    for i in 0..users {
        let u = format!("u{i}");
        let level = levels[rng.gen_range(0..levels.len())];
        if rng.gen_bool(0.2) {
            let zone = if rng.gen_bool(0.1) {
                "&timezone=America%2FNew_York"
            } else {
                ""
            };
            let (h, len) = (rng.gen_range(0..24), rng.gen_range(1..1440));
            let p = if rng.gen_bool(0.5) { 1 } else { 5 };
            ok(
                &mut s,
                "/user/blockPushPeriod/set.json",
                format!("userId={u}&startTime={h:02}:00:00&period={len}&level={p}{zone}"),
            );
        }
        if rng.gen_bool(0.3) {
            ok(
                &mut s,
                "/conversation/type/notification/set.json",
                format!("conversationType=10&requestId={u}&unpushLevel={level}"),
            );
        }
        if rng.gen_bool(0.05) {
            ok(
                &mut s,
                "/conversation/notification/set.json",
                format!("conversationType=10&requestId={u}&targetId=ug&unpushLevel={level}"),
            );
        }
        if rng.gen_bool(0.01) {
            ok(
                &mut s,
                "/conversation/notification/set.json",
                format!("conversationType=10&requestId={u}&targetId=ug&busChannel=news&unpushLevel={level}"),
            );
        }
        // Every member is numbered (a service interns its member lists).
        s.intern_user(&UserId::new(&u).unwrap()).unwrap();
    }
    s
}

/// This thread's time on a CPU so far (Linux, `/proc/thread-self/schedstat`):
/// on a machine shared with other work, the wall clock measures the others.
fn on_cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").expect("DND_CPU_TIME needs Linux");
    Duration::from_nanos(text.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0))
}

/// Times `f` by wall time, or with `DND_CPU_TIME` set by time on a CPU.
fn timed(b: &mut Bencher<'_>, mut f: impl FnMut()) {
    if std::env::var_os("DND_CPU_TIME").is_some() {
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

fn check(status: DndStatus, error: *mut c_char) {
    if status != DndStatus::Ok {
        // SAFETY: on failure `error` is a NUL-terminated message of the library.
        let message = unsafe { std::ffi::CStr::from_ptr(error) }
            .to_string_lossy()
            .into_owned();
        panic!("{status:?}: {message}");
    }
}

fn abi(c: &mut Criterion) {
    let users: usize = std::env::var("DND_BENCH_USERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let settings = world(users);
    let snapshot = serde_json::to_string(&settings).unwrap();
    let mut restored: *mut DndSettings = null_mut();
    let mut error: *mut c_char = null_mut();
    // SAFETY: the snapshot's bytes and the output pointers are live.
    check(
        unsafe { dnd_settings_restore(snapshot.as_ptr(), snapshot.len(), &mut restored, &mut error) },
        error,
    );

    let mut rng = SmallRng::seed_from_u64(5);
    // Made in the shuffled order, as the C strings below are: both sides
    // read their ids' bytes in the order they were allocated.
    let mut order: Vec<usize> = (0..users).collect();
    order.shuffle(&mut rng);
    let ids: Vec<String> = order.iter().map(|i| format!("u{i}")).collect();
    let cstrings: Vec<CString> = ids.iter().map(|s| CString::new(s.as_str()).unwrap()).collect();
    let pointers: Vec<*const c_char> = cstrings.iter().map(|s| s.as_ptr()).collect();
    let packed: Vec<u8> = ids.iter().flat_map(|s| s.bytes()).collect();
    let ends: Vec<usize> = ids
        .iter()
        .scan(0, |end, s| {
            *end += s.len();
            Some(*end)
        })
        .collect();
    let in_order: Vec<String> = (0..users).map(|i| format!("u{i}")).collect();
    let handles: Vec<UserHandle> = in_order
        .iter()
        .map(|id| settings.user(id).unwrap_or_else(|| panic!("{id}")))
        .collect();
    let mut words = vec![0u64; users];
    let in_order_c: Vec<CString> = in_order.iter().map(|s| CString::new(s.as_str()).unwrap()).collect();
    let in_order_p: Vec<*const c_char> = in_order_c.iter().map(|s| s.as_ptr()).collect();
    // SAFETY: `in_order_p` holds `users` live C strings; `words` has room for `users` handles.
    check(
        unsafe {
            dnd_settings_intern(
                restored,
                in_order_p.as_ptr(),
                null(),
                null(),
                users,
                words.as_mut_ptr(),
                &mut error,
            )
        },
        error,
    );

    let push = Push::from_json(PUSH).unwrap();
    let mentioned = push.mentioned_ids();
    let message = push.message(&mentioned).unwrap();
    let prepared = settings.prepare(&message);
    let push_json = CString::new(PUSH).unwrap();
    let mut from_c: *mut DndPrepared = null_mut();
    // SAFETY: live settings, a NUL-terminated push, live output pointers.
    check(
        unsafe { dnd_settings_prepare(restored, push_json.as_ptr(), &mut from_c, &mut error) },
        error,
    );

    // Both decide every recipient alike, by id and by handle.
    let mut rust_out = Vec::with_capacity(users);
    let mut c_out = vec![DndDecision::default(); users];
    prepared.decide_ids_into(&ids, &mut rust_out);
    // SAFETY: `pointers` holds `users` C strings, `c_out` room for `users` decisions.
    check(
        unsafe {
            dnd_prepared_decide_ids(
                from_c,
                pointers.as_ptr(),
                null(),
                null(),
                users,
                c_out.as_mut_ptr(),
                null_mut(),
                &mut error,
            )
        },
        error,
    );
    assert!(rust_out.iter().zip(&c_out).all(|(&r, &c)| DndDecision::of(r) == c));
    let pushed = c_out.iter().filter(|d| d.push == 1).count();
    assert!(pushed > users / 10 && pushed < users, "{pushed} of {users} pushed");
    prepared.decide_into(&handles, &mut rust_out).unwrap();
    // SAFETY: `words` holds `users` handles, `c_out` room for `users` decisions.
    check(
        unsafe {
            dnd_prepared_decide_handles(
                from_c,
                words.as_ptr(),
                users,
                c_out.as_mut_ptr(),
                null_mut(),
                &mut error,
            )
        },
        error,
    );
    assert!(rust_out.iter().zip(&c_out).all(|(&r, &c)| DndDecision::of(r) == c));

    let mut group = c.benchmark_group(format!("abi/{users}"));
    group.sample_size(10);
    group.bench_function("by id, shuffled: Rust decide_ids_into", |b| {
        timed(b, || prepared.decide_ids_into(&ids, &mut rust_out))
    });
    group.bench_function("by id, shuffled: C ABI, C strings", |b| {
        timed(b, || {
            // SAFETY: as in the check above.
            let status = unsafe {
                dnd_prepared_decide_ids(
                    from_c,
                    pointers.as_ptr(),
                    null(),
                    null(),
                    users,
                    c_out.as_mut_ptr(),
                    null_mut(),
                    null_mut(),
                )
            };
            assert_eq!(status, DndStatus::Ok);
        })
    });
    group.bench_function("by id, shuffled: C ABI, packed", |b| {
        timed(b, || {
            // SAFETY: `packed` holds every id, `ends` their `users` ends.
            let status = unsafe {
                dnd_prepared_decide_ids(
                    from_c,
                    null(),
                    packed.as_ptr(),
                    ends.as_ptr(),
                    users,
                    c_out.as_mut_ptr(),
                    null_mut(),
                    null_mut(),
                )
            };
            assert_eq!(status, DndStatus::Ok);
        })
    });
    group.bench_function("by handle, in order: Rust decide_into", |b| {
        timed(b, || prepared.decide_into(&handles, &mut rust_out).unwrap())
    });
    group.bench_function("by handle, in order: C ABI", |b| {
        timed(b, || {
            // SAFETY: as in the check above.
            let status = unsafe {
                dnd_prepared_decide_handles(
                    from_c,
                    words.as_ptr(),
                    users,
                    c_out.as_mut_ptr(),
                    null_mut(),
                    null_mut(),
                )
            };
            assert_eq!(status, DndStatus::Ok);
        })
    });
    group.finish();
    drop(prepared);
    // SAFETY: both were made by the library and are freed once, unused after.
    unsafe {
        dnd_prepared_free(from_c);
        dnd_settings_free(restored);
    }
}

criterion_group!(benches, abi);
criterion_main!(benches);

//! A generated world of settings requests, every kind of change the
//! service takes (the nine's changes, the until variants, snooze,
//! schedule), as (path, form body); gets of every kind; and pushes at times
//! around the untils. The same seed gives the same world.

use dnd_engine::{Config, Settings};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// The time zone of the world's settings (`Config::time_zone`).
pub const ZONE: &str = "Asia/Shanghai";

/// A user id: mostly plain, every 13th with characters no subject may hold.
pub fn user(i: u32) -> String {
    if i.is_multiple_of(13) {
        format!("u.{i} *>")
    } else {
        format!("u{i}")
    }
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// An `until` around the pushes' times (the night of 2026-11-22/23,
/// +08:00): some expire before a push, some after.
fn until(rng: &mut SmallRng) -> String {
    let hour = rng.gen_range(0..24);
    let day = if rng.gen_bool(0.5) { 22 } else { 23 };
    enc(&format!("2026-11-{day}T{hour:02}:{:02}:00+08:00", rng.gen_range(0..60)))
}

/// `count` changes over `users` users, 50 groups and 10 ultra groups with
/// three subchannels each.
pub fn world(seed: u64, count: usize, users: u32) -> Vec<(&'static str, String)> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let levels = [-1, 0, 1, 2, 4, 5];
    (0..count)
        .map(|_| {
            let u = enc(&user(rng.gen_range(0..users)));
            let level = levels[rng.gen_range(0..levels.len())];
            let maybe_until = |rng: &mut SmallRng| {
                if rng.gen_bool(0.2) {
                    format!("&until={}", until(rng))
                } else {
                    String::new()
                }
            };
            match rng.gen_range(0..100) {
                0..=19 => {
                    let zone = if rng.gen_bool(0.2) {
                        "&timezone=America%2FNew_York"
                    } else {
                        ""
                    };
                    let body = format!(
                        "userId={u}&startTime={:02}:{:02}:00&period={}&level={}{zone}",
                        rng.gen_range(0..24),
                        rng.gen_range(0..60),
                        rng.gen_range(0..1440),
                        if rng.gen_bool(0.5) { 1 } else { 5 }
                    );
                    ("/user/blockPushPeriod/set.json", body)
                }
                20..=22 => ("/user/blockPushPeriod/delete.json", format!("userId={u}")),
                23..=27 => {
                    let body = format!(
                        "userId={u}&until={}&level={}",
                        until(&mut rng),
                        [1, 2, 4, 5][rng.gen_range(0..4)]
                    );
                    ("/user/snooze/set.json", body)
                }
                28 => ("/user/snooze/delete.json", format!("userId={u}")),
                29..=32 => {
                    let first = rng.gen_range(1..=6);
                    let windows = format!(
                        r#"[{{"days":[{first},{}],"startTime":"{:02}:00:00","period":{},"level":{}}}]"#,
                        rng.gen_range(first + 1..=7),
                        rng.gen_range(0..24),
                        rng.gen_range(1..=1440),
                        if rng.gen_bool(0.5) { 2 } else { 5 }
                    );
                    let body = format!("userId={u}&windows={}&timezone=Asia%2FShanghai", enc(&windows));
                    ("/user/blockPushSchedule/set.json", body)
                }
                33 => ("/user/blockPushSchedule/delete.json", format!("userId={u}")),
                34..=69 => {
                    let (t, target) = match rng.gen_range(0..4) {
                        0 => (1, user(rng.gen_range(0..users))),
                        1 => (3, format!("g{}", rng.gen_range(0..50))),
                        2 => (6, "system".to_owned()),
                        _ => (10, format!("ug{}", rng.gen_range(0..10))),
                    };
                    let bus = if t == 10 && rng.gen_bool(0.5) {
                        format!("&busChannel=c{}", rng.gen_range(0..3))
                    } else {
                        String::new()
                    };
                    let body = format!(
                        "conversationType={t}&requestId={u}&targetId={}{bus}&unpushLevel={level}{}",
                        enc(&target),
                        maybe_until(&mut rng)
                    );
                    ("/conversation/notification/set.json", body)
                }
                70..=96 => {
                    let t = [1, 3, 6, 10][rng.gen_range(0..4)];
                    let body = format!(
                        "conversationType={t}&requestId={u}&unpushLevel={level}{}",
                        maybe_until(&mut rng)
                    );
                    ("/conversation/type/notification/set.json", body)
                }
                _ => {
                    let bus = if rng.gen_bool(0.5) {
                        format!("&busChannel=c{}", rng.gen_range(0..3))
                    } else {
                        String::new()
                    };
                    let body = format!(
                        "groupId=ug{}{bus}&unpushLevel={level}{}",
                        rng.gen_range(0..10),
                        maybe_until(&mut rng)
                    );
                    ("/ultragroup/notdisturb/set.json", body)
                }
            }
        })
        .collect()
}

/// Gets of every kind for a sample of users, as (path, body).
pub fn gets(users: u32, step: u32) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for i in (0..users).step_by(step as usize) {
        let u = enc(&user(i));
        out.push(("/user/blockPushPeriod/get.json", format!("userId={u}")));
        out.push(("/user/snooze/get.json", format!("userId={u}")));
        out.push(("/user/blockPushSchedule/get.json", format!("userId={u}")));
        out.push((
            "/conversation/type/notification/get.json",
            format!("conversationType=10&requestId={u}"),
        ));
        out.push((
            "/conversation/notification/get.json",
            format!("conversationType=10&requestId={u}&targetId=ug1&busChannel=c1"),
        ));
        out.push((
            "/ultragroup/notdisturb/get.json",
            format!("groupId=ug{}&busChannel=c{}", i % 10, i % 3),
        ));
    }
    out
}

/// Push objects without recipients, as JSON objects' inner text (so that
/// `recipients` can be written last, as a long push must list it).
pub fn pushes() -> Vec<&'static str> {
    vec![
        r#""at":"2026-11-22T23:30:00+08:00","conversationType":10,"targetId":"ug1","busChannel":"c1","fromUserId":"u5","mentionedInfo":{"type":1}"#,
        r#""at":1795800000000,"conversationType":10,"targetId":"ug2","fromUserId":"u6""#,
        r#""at":"2026-11-23T09:00:00+08:00","conversationType":3,"targetId":"g7","fromUserId":"u7","mentionedInfo":{"type":2,"userIdList":["u1","u2","u3"]}"#,
        r#""at":"2026-11-23T03:15:00+08:00","conversationType":1,"targetId":"u9","fromUserId":"u9""#,
        r#""at":"2026-11-23T12:00:00Z","conversationType":6,"targetId":"system","fromUserId":"admin""#,
    ]
}

/// A push object for `recipients`, recipients last.
pub fn push(fields: &str, recipients: &[String]) -> String {
    format!(
        "{{{fields},\"recipients\":{}}}",
        serde_json::to_string(recipients).unwrap()
    )
}

/// The reference: one `Settings` in [`ZONE`] fed the requests in the
/// order of their sequences (`seqs[i]` is request `i`'s); panics unless
/// each is accepted.
pub fn reference(requests: &[(&str, String)], seqs: &[u64]) -> Settings {
    let mut order: Vec<usize> = (0..requests.len()).collect();
    order.sort_by_key(|&i| seqs[i]);
    let mut settings = Settings::new(Config::new(dnd_engine::parse_zone(ZONE).unwrap()));
    for i in order {
        let (path, body) = &requests[i];
        assert_eq!(settings.handle(path, body.as_bytes()).code(), 200, "{path} {body}");
    }
    settings
}

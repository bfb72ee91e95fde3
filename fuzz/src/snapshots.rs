//! Generation of snapshots from an episode's saved state: valid ones of
//! format 1 (the state without what format 1 lacks) and of format 2 (with
//! fields added that the episode's requests may not have reached: VIP lists,
//! consent, the mention policy, snoozes, schedules, temporary levels), and
//! near-valid ones, each breaking exactly one documented rule of the format
//! (docs/rules.md §6, §8, §10), which the engine must refuse.

use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Map, Value};

use crate::gen::{World, ZONES};
use crate::read::{TOP_2, USER_2};

/// What a generated snapshot must do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Restore, and mean what the oracle reads.
    Valid,
    /// Be refused: it breaks the rule named.
    Broken(&'static str),
}

fn users(v: &mut Value) -> &mut Vec<Value> {
    let top = v.as_object_mut().expect("a saved state is an object");
    top.entry("users").or_insert_with(|| json!([]));
    top.get_mut("users").and_then(Value::as_array_mut).unwrap()
}

fn conversations(v: &mut Value) -> Option<&mut Vec<Value>> {
    v.get_mut("conversations").and_then(Value::as_array_mut)
}

/// The ids listed in `users`.
fn listed(v: &Value) -> Vec<String> {
    v["users"]
        .as_array()
        .map(|u| {
            u.iter()
                .filter_map(|u| u["userId"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A listed user to edit (one of the world's is added when there is none
/// or now and then).
fn some_user<'v>(rng: &mut SmallRng, v: &'v mut Value, w: &World) -> &'v mut Map<String, Value> {
    let ids = listed(v);
    let users = users(v);
    if users.is_empty() || rng.gen_ratio(1, 5) {
        if let Some(id) = w.users.iter().find(|id| !ids.contains(id)) {
            users.push(json!({ "userId": id }));
            return users.last_mut().unwrap().as_object_mut().unwrap();
        }
    }
    let i = rng.gen_range(0..users.len());
    users[i].as_object_mut().unwrap()
}

/// A time in 2020..2030 as epoch milliseconds.
fn until(rng: &mut SmallRng) -> i64 {
    rng.gen_range(1_577_836_800_000i64..1_893_456_000_000)
}

fn temporary(rng: &mut SmallRng) -> Value {
    let level = *[-1, 0, 1, 2, 4, 5].choose(rng).unwrap();
    json!({ "unpushLevel": level, "until": until(rng) })
}

fn window(rng: &mut SmallRng, days: &[u8]) -> Value {
    let start = rng.gen_range(0..86_340);
    json!({
        "days": days,
        "startTime": format!("{:02}:{:02}:{:02}", start / 3600, start / 60 % 60, start % 60),
        "period": rng.gen_range(1..=(86_400 - start) / 60),
        "level": *[1, 2, 4, 5].choose(rng).unwrap(),
    })
}

/// `saved` (format 2) as a valid format-1 snapshot: the fields format 1
/// lacks removed, `format` 1.
pub fn format_1(saved: &Value) -> Value {
    let mut v = saved.clone();
    let top = v.as_object_mut().unwrap();
    top.insert("format".into(), json!(1));
    for &k in TOP_2 {
        top.remove(k);
    }
    for u in users(&mut v) {
        let u = u.as_object_mut().unwrap();
        for &k in USER_2 {
            u.remove(k);
        }
    }
    for c in conversations(&mut v).into_iter().flatten() {
        c.as_object_mut().unwrap().remove("defaultTemporary");
        for s in c
            .get_mut("subchannels")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            s.as_object_mut().unwrap().remove("defaultTemporary");
        }
    }
    v
}

/// `saved` with one to three valid format-2 additions.
pub fn format_2(rng: &mut SmallRng, saved: &Value, w: &World) -> Value {
    let mut v = saved.clone();
    for _ in 0..rng.gen_range(1..=3) {
        match rng.gen_range(0..8) {
            0 => {
                some_user(rng, &mut v, w).insert("urgentAllowed".into(), json!(true));
            }
            1 => {
                let u = some_user(rng, &mut v, w).clone();
                let mut ids = listed(&v);
                ids.shuffle(rng);
                ids.truncate(rng.gen_range(1..=5));
                let scope = if rng.gen() { "quiet" } else { "all" };
                set_user(&mut v, &u, "vip", json!({ "userIds": ids, "scope": scope }));
            }
            2 => {
                let top = v.as_object_mut().unwrap();
                if rng.gen() {
                    top.insert("privateAsMention".into(), json!(true));
                } else {
                    top.insert("mentionAllMaxMembers".into(), json!(rng.gen_range(0..=30)));
                }
            }
            3 => {
                let snooze = json!({ "until": until(rng), "level": *[1, 2, 4, 5].choose(rng).unwrap() });
                some_user(rng, &mut v, w).insert("snooze".into(), snooze);
            }
            4 => {
                let u = some_user(rng, &mut v, w);
                let types = u.entry("temporaryConversationTypes").or_insert_with(|| json!([]));
                let taken: Vec<i64> = types
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|t| t["conversationType"].as_i64())
                    .collect();
                if let Some(&t) = [1i64, 3, 6, 10].iter().find(|t| !taken.contains(t)) {
                    let temp = temporary(rng);
                    types
                        .as_array_mut()
                        .unwrap()
                        .push(json!({ "conversationType": t, "temporary": temp }));
                }
            }
            5 => {
                let temp = temporary(rng);
                let Some(c) = conversations(&mut v).and_then(|c| c.iter_mut().find(|c| c["conversationType"] == 10))
                else {
                    continue;
                };
                let subchannels = c.get_mut("subchannels").and_then(Value::as_array_mut);
                match subchannels {
                    Some(s) if rng.gen() => {
                        s[0].as_object_mut().unwrap().insert("defaultTemporary".into(), temp);
                    }
                    _ => {
                        c.as_object_mut().unwrap().insert("defaultTemporary".into(), temp);
                    }
                }
            }
            6 => {
                // Windows on disjoint days, none past midnight: they never overlap.
                let mut days: Vec<u8> = (1..=7).collect();
                days.shuffle(rng);
                let n = rng.gen_range(1..=3);
                let windows: Vec<Value> = days.chunks(7usize.div_ceil(n)).map(|d| window(rng, d)).collect();
                let mut schedule = json!({ "windows": windows });
                if rng.gen() {
                    schedule["timezone"] = json!(ZONES.choose(rng).unwrap().name());
                }
                let u = some_user(rng, &mut v, w);
                u.remove("period");
                u.insert("schedule".into(), schedule);
            }
            _ => {
                let group = w.groups.choose(rng).unwrap().clone();
                let temp = temporary(rng);
                let u = some_user(rng, &mut v, w);
                let list = u.entry("temporaryConversations").or_insert_with(|| json!([]));
                let list = list.as_array_mut().unwrap();
                if !list
                    .iter()
                    .any(|t| t["conversationType"] == 3 && t["targetId"] == group.as_str())
                {
                    list.push(json!({ "conversationType": 3, "targetId": group, "temporary": temp }));
                }
            }
        }
    }
    v
}

/// Sets `key` on the listed user whose entry is `entry`.
fn set_user(v: &mut Value, entry: &Map<String, Value>, key: &str, value: Value) {
    for u in users(v) {
        if u["userId"] == entry["userId"] {
            u[key] = value;
            return;
        }
    }
}

/// `saved` with a rule of the format broken, and the rule.
pub fn near_valid(rng: &mut SmallRng, saved: &Value, w: &World) -> (Value, &'static str) {
    let mut v = format_2(rng, saved, w);
    let rule = match rng.gen_range(0..18) {
        0 => {
            // Format 1 with one field it lacks, at its default or not.
            v = format_1(&v);
            match rng.gen_range(0..6) {
                0 => v["privateAsMention"] = json!(rng.gen::<bool>()),
                1 => v["mentionAllMaxMembers"] = json!(7),
                2 => {
                    some_user(rng, &mut v, w).insert("urgentAllowed".into(), json!(rng.gen::<bool>()));
                }
                3 => {
                    some_user(rng, &mut v, w).insert("temporaryConversationTypes".into(), json!([]));
                }
                4 => {
                    let snooze = json!({ "until": until(rng), "level": 5 });
                    some_user(rng, &mut v, w).insert("snooze".into(), snooze);
                }
                _ => {
                    let id = w.user(rng).to_owned();
                    let u = some_user(rng, &mut v, w);
                    u.insert("vip".into(), json!({ "userIds": [id], "scope": "all" }));
                }
            }
            "a field of format 2 in format 1"
        }
        1 => {
            v["format"] = json!(*[0, 4, 20].choose(rng).unwrap());
            "a format that is not 1, 2 or 3"
        }
        2..=5 => {
            let ids = listed(&v);
            let u = some_user(rng, &mut v, w);
            let (list, rule): (Value, &'static str) = match rng.gen_range(0..4) {
                0 => (json!(["never-listed-user"]), "a VIP list names a user not in users"),
                1 => (json!([]), "an empty VIP list"),
                2 => {
                    let id = ids
                        .first()
                        .cloned()
                        .unwrap_or_else(|| u["userId"].as_str().unwrap().to_owned());
                    (json!([id, id]), "a VIP list names a user twice")
                }
                _ => (json!(["x".repeat(65)]), "a VIP list names an invalid id"),
            };
            let scope = if rng.gen() { "quiet" } else { "all" };
            u.insert("vip".into(), json!({ "userIds": list, "scope": scope }));
            rule
        }
        6 => {
            // 101 listed users, all on one list.
            let names: Vec<String> = (0..101).map(|i| format!("listed{i}")).collect();
            let owner = some_user(rng, &mut v, w)["userId"].clone();
            let users = users(&mut v);
            users.extend(names.iter().map(|n| json!({ "userId": n })));
            for u in users.iter_mut() {
                if u["userId"] == owner {
                    u["vip"] = json!({ "userIds": names, "scope": "all" });
                }
            }
            "a VIP list of 101 users"
        }
        7 => {
            let u = some_user(rng, &mut v, w);
            let window = window(rng, &[1, 2]);
            u.insert("schedule".into(), json!({ "windows": [window] }));
            u.insert(
                "period".into(),
                json!({ "startTime": "22:00:00", "period": 540, "level": 5 }),
            );
            "a period and a schedule on one user"
        }
        8 => {
            let u = some_user(rng, &mut v, w);
            let k = *["period", "snooze", "vip", "schedule", "urgentAllowed"]
                .choose(rng)
                .unwrap();
            u.insert(k.into(), Value::Null);
            "null for an optional field"
        }
        9 => {
            let temp = json!({ "unpushLevel": *[3, 6, -2].choose(rng).unwrap(), "until": until(rng) });
            some_user(rng, &mut v, w).insert(
                "temporaryConversationTypes".into(),
                json!([{ "conversationType": 3, "temporary": temp }]),
            );
            "a temporary level that is no level"
        }
        10 => {
            let temp = temporary(rng);
            some_user(rng, &mut v, w).insert(
                "temporaryConversations".into(),
                json!([{ "conversationType": 3, "targetId": "g", "busChannel": "c0", "temporary": temp }]),
            );
            "a subchannel of a group"
        }
        11 => {
            let temp = temporary(rng);
            let group = w.groups.choose(rng).unwrap().clone();
            let top = v.as_object_mut().unwrap();
            let list = top.entry("conversations").or_insert_with(|| json!([]));
            list.as_array_mut().unwrap().push(json!({
                "conversationType": *[1, 3, 6].choose(rng).unwrap(),
                "targetId": format!("{group}-nv"),
                "defaultTemporary": temp,
            }));
            "a temporary default on a conversation that is not an ultra group"
        }
        12 => {
            let id = w.user(rng).to_owned();
            let scope = if rng.gen() { json!("loud") } else { json!(1) };
            let u = some_user(rng, &mut v, w);
            u.insert("vip".into(), json!({ "userIds": [id], "scope": scope }));
            "a VIP scope that is none"
        }
        13 => {
            let u = some_user(rng, &mut v, w);
            match rng.gen_range(0..3) {
                0 => u.insert("snooze".into(), json!({ "until": 1, "level": 5, "colour": "red" })),
                1 => {
                    let id = u["userId"].clone();
                    u.insert("vip".into(), json!({ "userIds": [id], "scope": "all", "x": 1 }))
                }
                _ => u.insert(
                    "temporaryConversationTypes".into(),
                    json!([{ "conversationType": 3, "temporary": { "unpushLevel": 5, "until": 1, "why": "" } }]),
                ),
            };
            "an unknown field"
        }
        14 => {
            let u = some_user(rng, &mut v, w);
            match rng.gen_range(0..4) {
                0 => u.insert("vip".into(), json!([["a"], "all"])),
                1 => u.insert("snooze".into(), json!([1_800_000_000_000i64, 5])),
                2 => u.insert(
                    "temporaryConversationTypes".into(),
                    json!([{ "conversationType": 3, "temporary": [5, 1_800_000_000_000i64] }]),
                ),
                _ => u.insert("schedule".into(), json!({ "windows": [[[1, 2], "22:00:00", 60, 5]] })),
            };
            u.remove("period");
            "an array where an object belongs"
        }
        15 => {
            v["mentionAllMaxMembers"] = json!(*[-1i64, 4_294_967_296].choose(rng).unwrap());
            "a most members that is no member count"
        }
        16 => {
            some_user(rng, &mut v, w).insert("urgentAllowed".into(), json!(1));
            "urgentAllowed that is not a boolean"
        }
        _ => {
            let a = temporary(rng);
            let b = temporary(rng);
            some_user(rng, &mut v, w).insert(
                "temporaryConversationTypes".into(),
                json!([{ "conversationType": 6, "temporary": a }, { "conversationType": 6, "temporary": b }]),
            );
            "a temporary type level listed twice"
        }
    };
    (v, rule)
}

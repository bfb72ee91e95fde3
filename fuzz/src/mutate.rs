//! Mutation: of form bodies and of JSON, as values (a field removed,
//! retyped, duplicated, set to a boundary value) and as bytes.

use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Map, Value};

/// The parameter names of the requests, and a few that none has.
pub const KEYS: [&str; 19] = [
    "vipUserIds",
    "scope",
    "allow",
    "windows",
    "userId",
    "requestId",
    "startTime",
    "period",
    "level",
    "timezone",
    "conversationType",
    "targetId",
    "busChannel",
    "unpushLevel",
    "isMuted",
    "groupId",
    "until",
    "signature",
    "",
];

/// Values at and across the boundaries of every parameter, encoded.
const VALUES: [&str; 52] = [
    "%5B%22u0%22%5D",
    "%5B%22u0%22%2C%22u0%22%5D",
    "%5B1%5D",
    "%7B%7D",
    "all",
    "quiet",
    "ALL",
    "1764000000000",
    "2026-11-24T09:00:00%2B08:00",
    "2026-11-24T09:00:00",
    "%5B%7B%22days%22%3A%5B1%2C7%5D%2C%22startTime%22%3A%2222%3A00%3A00%22%2C%22period%22%3A540%2C%22level%22%3A5%7D%5D",
    "%5B%5D",
    "",
    "0",
    "-1",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "10",
    "-0",
    "+1",
    "01",
    "1439",
    "1440",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "1e3",
    "%201",
    "00:00:00",
    "23:59:59",
    "24:00:00",
    "22:00",
    "7:00:00",
    "22:00:00.5",
    "Asia/Shanghai",
    "America/New_York",
    "Mars/Base",
    "UTC",
    "c0",
    "c_0",
    "abcdefghij0123456789x",
    "%FF",
    "%EF%BF%BD",
    "a%EF%BF%BDb",
    "%C3%BC",
    "%0A",
    "2026-11-22T12:00:00Z",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
];

/// Bytes that matter to a form decoder.
const FORM_BYTES: [&[u8]; 10] = [b"&", b"=", b"%", b"%F", b"+", b"%00", b"\xff", b"&&", b"==", b"%E2%82"];

/// Mutates a form body: pairs added, dropped, repeated or rewritten, and bytes.
pub fn form(rng: &mut SmallRng, body: &mut Vec<u8>) {
    for _ in 0..rng.gen_range(1..=3) {
        match rng.gen_range(0..8) {
            0 | 1 => {
                let pair = format!("{}={}", KEYS.choose(rng).unwrap(), VALUES.choose(rng).unwrap());
                if !body.is_empty() {
                    body.push(b'&');
                }
                body.extend_from_slice(pair.as_bytes());
            }
            2 => {
                // Rewrite one value.
                let text = String::from_utf8_lossy(body).into_owned();
                let mut pairs: Vec<String> = text.split('&').map(str::to_owned).collect();
                let i = rng.gen_range(0..pairs.len());
                let key = pairs[i].split('=').next().unwrap_or("").to_owned();
                pairs[i] = format!("{key}={}", VALUES.choose(rng).unwrap());
                *body = pairs.join("&").into_bytes();
            }
            3 => {
                // Drop one pair.
                let text = String::from_utf8_lossy(body).into_owned();
                let mut pairs: Vec<&str> = text.split('&').collect();
                pairs.remove(rng.gen_range(0..pairs.len()));
                *body = pairs.join("&").into_bytes();
            }
            _ => bytes(rng, body, &FORM_BYTES),
        }
    }
}

/// Bytes that matter to a JSON parser.
const JSON_BYTES: [&[u8]; 16] = [
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"-",
    b"0",
    b"e9",
    b"\xff",
    b"\xef\xbb\xbf",
    b" ",
];

/// Mutates a JSON text's bytes.
pub fn json_text(rng: &mut SmallRng, text: &mut Vec<u8>) {
    for _ in 0..rng.gen_range(1..=2) {
        bytes(rng, text, &JSON_BYTES);
    }
}

/// One byte-level change: a byte flipped, a range deleted or repeated, a
/// token inserted, the end cut off.
fn bytes(rng: &mut SmallRng, data: &mut Vec<u8>, tokens: &[&[u8]]) {
    let at = |rng: &mut SmallRng, data: &Vec<u8>| rng.gen_range(0..=data.len());
    match rng.gen_range(0..6) {
        0 if !data.is_empty() => {
            let i = rng.gen_range(0..data.len());
            data[i] ^= 1 << rng.gen_range(0..8);
        }
        1 if !data.is_empty() => {
            let i = rng.gen_range(0..data.len());
            let j = (i + rng.gen_range(1..=8)).min(data.len());
            data.drain(i..j);
        }
        2 if !data.is_empty() => {
            let i = rng.gen_range(0..data.len());
            let j = (i + rng.gen_range(1..=16)).min(data.len());
            let copy = data[i..j].to_vec();
            let k = at(rng, data);
            data.splice(k..k, copy);
        }
        3 => {
            let cut = at(rng, data);
            data.truncate(cut);
        }
        _ => {
            let token = tokens.choose(rng).unwrap();
            let k = at(rng, data);
            data.splice(k..k, token.iter().copied());
        }
    }
}

/// A value at or across some boundary of the protocol's fields.
fn odd_value(rng: &mut SmallRng) -> Value {
    match rng.gen_range(0..24) {
        0 => Value::Null,
        1 => json!(true),
        2 => json!([]),
        3 => json!({}),
        4 => json!(""),
        5 => json!(-1),
        6 => json!(0),
        7 => json!(3),
        8 => json!(5),
        9 => json!(10),
        10 => json!(1440),
        11 => json!(i64::MAX),
        12 => json!(u64::MAX),
        13 => json!(1.5),
        14 => json!(-0.0),
        15 => json!("5"),
        16 => json!("24:00:00"),
        17 => json!("Mars/Base"),
        18 => json!("x".repeat(65)),
        19 if !crate::avoid().fffd => json!("a\u{FFFD}b"),
        19 => json!("a\u{FFFE}b"),
        20 if rng.gen() => json!("c_0"),
        20 => json!("all"),
        21 => json!("9999-12-31T23:59:59Z"),
        22 => json!(-62_135_596_800_001i64),
        _ => json!("\u{0}\n"),
    }
}

/// Mutates a JSON value in one to three places: a field removed, added,
/// renamed or set to an odd value; an array element repeated or removed.
pub fn json_value(rng: &mut SmallRng, value: &mut Value) {
    for _ in 0..rng.gen_range(1..=3) {
        let depth = rng.gen_range(0..5);
        one(rng, value, depth);
    }
}

fn one(rng: &mut SmallRng, value: &mut Value, depth: u32) {
    // An object as the array of its values: the form serde's derived code
    // also takes for a struct, which no documented format has.
    if let (Value::Object(map), true) = (&*value, rng.gen_ratio(1, 16)) {
        let values = map.values().cloned().collect();
        *value = Value::Array(values);
        return;
    }
    match value {
        Value::Object(map) if !map.is_empty() => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = keys.choose(rng).unwrap().clone();
            if depth > 0 && matches!(map[&key], Value::Object(_) | Value::Array(_)) && rng.gen_ratio(3, 4) {
                return one(rng, map.get_mut(&key).unwrap(), depth - 1);
            }
            match rng.gen_range(0..5) {
                0 => {
                    map.remove(&key);
                }
                1 => {
                    map.insert(format!("{key}x"), odd_value(rng));
                }
                2 => {
                    let v = map.remove(&key).unwrap();
                    let other = keys.choose(rng).unwrap().clone();
                    map.insert(other, v);
                }
                _ => {
                    map.insert(key, odd_value(rng));
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let i = rng.gen_range(0..items.len());
            if depth > 0 && rng.gen_ratio(3, 4) {
                return one(rng, &mut items[i], depth - 1);
            }
            match rng.gen_range(0..4) {
                0 => {
                    items.remove(i);
                }
                1 => {
                    let copy = items[i].clone();
                    items.push(copy);
                }
                2 => items[i] = odd_value(rng),
                _ => items.push(odd_value(rng)),
            }
        }
        Value::Object(map) => {
            map.insert("x".into(), odd_value(rng));
        }
        other => *other = odd_value(rng),
    }
}

/// The text of `value` with one of its keys repeated in some object:
/// serde_json's `Value` cannot hold a duplicate key, so it is written in.
pub fn duplicate_key(rng: &mut SmallRng, value: &Value) -> Vec<u8> {
    let mut objects = Vec::new();
    collect_objects(value, &mut objects);
    let Some(object) = objects.choose(rng) else {
        return serde_json::to_vec(value).unwrap();
    };
    let Some((key, v)) = object
        .iter()
        .collect::<Vec<_>>()
        .choose(rng)
        .map(|&(k, v)| (k.clone(), v.clone()))
    else {
        return serde_json::to_vec(value).unwrap();
    };
    let original = serde_json::to_string(&Value::Object((*object).clone())).unwrap();
    let replacement = format!(
        "{{{}:{},{}",
        serde_json::to_string(&key).unwrap(),
        if rng.gen() { v } else { odd_value(rng) },
        &original[1..]
    );
    serde_json::to_string(value)
        .unwrap()
        .replacen(&original, &replacement, 1)
        .into_bytes()
}

fn collect_objects<'v>(value: &'v Value, out: &mut Vec<&'v Map<String, Value>>) {
    match value {
        Value::Object(map) => {
            if !map.is_empty() {
                out.push(map);
            }
            map.values().for_each(|v| collect_objects(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_objects(v, out)),
        _ => {}
    }
}

//! The interner's unit tests: handles, lineages, the arena's chunks.

use super::*;
use crate::model::UserId;

/// The batch lookup takes the first entry whose 9-bit tag matches and
/// confirms it after, and before that tries the entry after the last id
/// found: with thousands of ids, tags collide, so the fallback search is
/// exercised; lists in numbering order (with gaps, unknown ids, repeats
/// and across arena chunks) and shuffled ones take both paths; every
/// answer must equal `get`'s.
#[test]
fn batch_lookups_answer_as_single_ones() {
    let mut interner = Interner::default();
    let n = (1 << CHUNK_SHIFT) + 5000;
    for i in 0..n {
        interner.intern(&UserId::new(&format!("member-{i}")).unwrap()).unwrap();
    }
    let shuffled = (0..10_000).map(|i| i * 7919 % 10_000);
    let in_order = (0..n + 100).filter(|i| i % 97 != 3).flat_map(|i| match i % 1000 {
        500 => vec![i, n + i],
        700 => vec![i, i],
        _ => vec![i],
    });
    let ids: Vec<String> = shuffled.chain(in_order).map(|i| format!("member-{i}")).collect();
    let mut out = [None; 64];
    let mut words = [0; 64];
    let mut cursor = Cursor::default();
    for chunk in ids.chunks(64) {
        interner.get_batch(chunk, &mut out, &mut cursor, &mut words, |i| i as u64 + 1);
        for ((id, got), w) in chunk.iter().zip(out).zip(words) {
            assert_eq!(got, interner.get(id), "{id}");
            assert_eq!(w, got.map_or(0, |h| h.index() as u64 + 1), "{id}");
            assert_eq!(got.is_some(), id["member-".len()..].parse::<usize>().unwrap() < n);
        }
    }
}

/// The id index (the table and the marks) costs at most 12 bytes a
/// user, whatever the count, through every growth of the table.
#[test]
fn the_index_costs_at_most_12_bytes_a_user() {
    let mut interner = Interner::default();
    let mut worst: f64 = 0.0;
    for i in 0..300_000 {
        interner.intern(&UserId::new(&format!("u{i}")).unwrap()).unwrap();
        if i % 1_000 == 999 || i > 299_000 {
            let bytes = interner.index.heap_bytes() + interner.marks.capacity() * 4;
            worst = worst.max(bytes as f64 / (i + 1) as f64);
        }
    }
    assert!(worst <= 12.0, "{worst:.2} bytes a user");
}

/// Ids across several arena chunks are all found, by id and by number,
/// and full chunks hold no slack.
#[test]
fn ids_span_arena_chunks() {
    let mut interner = Interner::default();
    let n = 3 << CHUNK_SHIFT | 17;
    for i in 0..n {
        let h = interner.intern(&UserId::new(&format!("u{i}")).unwrap()).unwrap();
        assert_eq!(h.index(), i);
    }
    assert_eq!(interner.chunks.len(), 4);
    for i in (0..n).step_by(997).chain(n - 3..n) {
        let id = format!("u{i}");
        assert_eq!(interner.get(&id).map(UserHandle::index), Some(i));
        assert_eq!(interner.id_at(i), Some(id.as_str()));
    }
    for full in &interner.chunks[..3] {
        assert_eq!(full.capacity(), full.len());
    }
}

/// When every handle is taken, a request that needs a new user answers
/// 500 and changes nothing, and everything else goes on: tested with a
/// limit of three users rather than 2³².
#[test]
fn a_full_settings_answers_500_and_changes_nothing() {
    let mut s = Settings::with_user_limit(crate::store::Config::new(chrono_tz::UTC), 3);
    let set = |s: &mut Settings, user: &str| {
        let body = format!("conversationType=3&requestId={user}&unpushLevel=5");
        s.handle("/conversation/type/notification/set.json", body.as_bytes())
    };
    for user in ["a", "b", "c"] {
        assert_eq!(set(&mut s, user).code(), 200);
    }
    let before = serde_json::to_string(&s).unwrap();
    let full = set(&mut s, "d");
    assert_eq!(full.code(), 500);
    assert_eq!(
        full.to_json(),
        r#"{"code":500,"errorMessage":"the settings number as many users as they can: no new user can be added"}"#
    );
    let period = "userId=d&startTime=22:00:00&period=60&level=5&timezone=Asia%2FTokyo";
    assert_eq!(
        s.handle("/user/blockPushPeriod/set.json", period.as_bytes()).code(),
        500
    );
    assert_eq!(s.zones.len(), 1, "the refused period's zone was not added");
    assert_eq!(s.intern_user(&UserId::new("d").unwrap()), Err(Error::TooManyUsers));
    assert_eq!(
        serde_json::to_string(&s).unwrap(),
        before,
        "a refused request changed the settings"
    );
    assert_eq!(s.user("d"), None);
    // Known users still change; an unknown user's "not set" needs no number.
    assert_eq!(set(&mut s, "a").code(), 200);
    let unset = "conversationType=3&requestId=d&unpushLevel=0";
    assert_eq!(
        s.handle("/conversation/type/notification/set.json", unset.as_bytes())
            .code(),
        200
    );
    // Shared settings answer the same, and also change nothing.
    let shared = crate::shared::SharedSettings::new(s);
    assert_eq!(shared.intern_user(&UserId::new("d").unwrap()), Err(Error::TooManyUsers));
    let body = "conversationType=3&requestId=e&unpushLevel=5";
    let full = shared.handle("/conversation/type/notification/set.json", body.as_bytes());
    assert_eq!(full.code(), 500);
    assert_eq!(shared.read().user_count(), 3);
}

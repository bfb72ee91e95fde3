//! Sharding (`dnd_engine::shard`): the frozen partition hash, the layout, and
//! the property that N shards, each applying only the requests routed to it,
//! decide exactly as one `Settings` given every request.

use dnd_engine::shard::{fnv1a_64, partition_of, Layout, Partition, Replica, ShardKey, PARTITIONS};
use dnd_engine::{Config, ConversationType, Level, Request, Settings, UserId};
use proptest::prelude::*;

use crate::gen::shard::{request, user_ids};
use crate::gen::{config, message, MessageParts};

/// FNV-1a 64 test vectors (the published ones for "", "a", "foobar") and the
/// partitions they give: any producer in any language must reproduce these.
#[test]
fn the_partition_hash_is_frozen() {
    assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    for (id, p) in [
        ("", 193),
        ("a", 192),
        ("foobar", 153),
        ("alice", 188),
        ("u.822465 *>", 212),
        ("用户", 57),
    ] {
        assert_eq!(partition_of(id), Partition::new(p).unwrap(), "{id:?}");
    }
}

/// Partitions are used evenly by ids that differ only in their last bytes:
/// every partition holds within 25% of its share of 100,000 such ids.
#[test]
fn partitions_are_even() {
    let mut counts = vec![0u32; usize::from(PARTITIONS)];
    for i in 0..100_000 {
        counts[usize::from(partition_of(&format!("user{i}")).get())] += 1;
    }
    let share = 100_000 / u32::from(PARTITIONS);
    assert!(
        counts.iter().all(|&c| c > share * 3 / 4 && c < share * 5 / 4),
        "{counts:?}"
    );
}

/// Every partition belongs to exactly one shard, the shards' ranges are
/// contiguous and in order, and `shard_of` agrees with `partitions`.
#[test]
fn a_layout_covers_every_partition_once() {
    for n in [1, 2, 3, 5, 7, 8, 100, 255, 256] {
        let layout = Layout::new(n).unwrap();
        let mut next = 0;
        for shard in layout.all() {
            let range = layout.partitions(shard);
            assert_eq!(range.start, next, "{n} shards, shard {shard}");
            assert!(!range.is_empty(), "{n} shards, shard {shard} holds nothing");
            for p in range.clone() {
                assert_eq!(layout.shard_of(Partition::new(p).unwrap()), shard);
            }
            next = range.end;
        }
        assert_eq!(next, PARTITIONS);
    }
    assert!(Layout::new(0).is_err());
    assert!(Layout::new(PARTITIONS + 1).is_err());
}

/// A redelivered or replayed sequence changes nothing; the snapshot carries
/// its sequence, and a restored replica skips what it covers.
#[test]
fn a_replica_applies_each_sequence_once_and_its_snapshot_records_it() {
    let alice = UserId::new("alice").unwrap();
    let set = |level| Request::SetTypeLevel {
        user_id: alice.clone(),
        conversation_type: ConversationType::Group,
        level: Some(level),
    };
    let mut replica = Replica::new(Settings::new(Config::new(chrono_tz::UTC)));
    assert_eq!(replica.apply_at(3, &set(Level::Nothing)).map(|r| r.code()), Some(200));
    // A stale redelivery of an older write must not undo the newer one.
    assert!(replica.apply_at(2, &set(Level::All)).is_none());
    assert!(replica.apply_at(3, &set(Level::All)).is_none());
    assert_eq!(
        replica.settings().type_level("alice", ConversationType::Group),
        Some(Level::Nothing)
    );

    let saved = serde_json::to_string(&replica).unwrap();
    assert!(saved.starts_with(r#"{"applied":3,"settings":{"#), "{saved}");
    let mut restored: Replica = serde_json::from_str(&saved).unwrap();
    assert_eq!(restored.applied(), 3);
    assert!(restored.apply_at(3, &set(Level::All)).is_none());
    assert!(restored.skip_to(9));
    assert!(!restored.skip_to(5));
    assert_eq!(
        restored.apply_at(10, &set(Level::Mentions)).map(|r| r.code()),
        Some(200)
    );
    assert_eq!(
        restored.settings().type_level("alice", ConversationType::Group),
        Some(Level::Mentions)
    );

    for bad in [
        r#"{"applied":-1,"settings":{"format":1,"timeZone":"UTC"}}"#,
        r#"{"settings":{"format":1,"timeZone":"UTC"}}"#,
        r#"{"applied":1,"settings":{"format":1,"timeZone":"UTC"},"extra":1}"#,
        r#"{"applied":1,"settings":{"format":1,"timeZone":"Mars/Olympus"}}"#,
    ] {
        assert!(serde_json::from_str::<Replica>(bad).is_err(), "{bad}");
    }
}

/// Decides `m` for every recipient on the recipient's own shard, in chunks
/// split by shard and merged back in recipient order, as a coordinator does.
fn decide_sharded(
    layout: Layout,
    shards: &[Replica],
    m: &MessageParts,
    recipients: &[String],
) -> Vec<dnd_engine::Decision> {
    let msg = m.message();
    let prepared: Vec<_> = shards.iter().map(|s| s.settings().prepare(&msg)).collect();
    let mut merged = Vec::with_capacity(recipients.len());
    for chunk in recipients.chunks(7) {
        let mut per_shard: Vec<(Vec<usize>, Vec<&str>)> = vec![(Vec::new(), Vec::new()); shards.len()];
        for (i, r) in chunk.iter().enumerate() {
            let s = usize::from(layout.shard_of_user(r).0);
            per_shard[s].0.push(i);
            per_shard[s].1.push(r);
        }
        let mut out = vec![None; chunk.len()];
        for (s, (positions, ids)) in per_shard.iter().enumerate() {
            let mut decisions = Vec::new();
            prepared[s].decide_ids_into(ids, &mut decisions);
            for (&i, d) in positions.iter().zip(decisions) {
                out[i] = Some(d);
            }
        }
        merged.extend(out.into_iter().map(|d| d.expect("every recipient decided")));
    }
    merged
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// RULES (any recipient's decision reads only their settings and the
    /// defaults), so: N shards, each applying in log order only the requests
    /// routed to it, decide every message for every recipient as one
    /// `Settings` given every request does; each shard answers its users'
    /// gets as the one node does; and replaying the log again (a redelivery)
    /// changes no shard's snapshot.
    #[test]
    fn n_shards_decide_as_one_settings(
        config in config(),
        shards in 1u16..=8,
        requests in prop::collection::vec(request(), 0..120),
        messages in prop::collection::vec(message(), 1..6),
    ) {
        let layout = Layout::new(shards).unwrap();
        let mut one = Settings::new(config.clone());
        let mut replicas: Vec<Replica> = layout.all().map(|_| Replica::new(Settings::new(config.clone()))).collect();
        for (i, request) in requests.iter().enumerate() {
            let seq = i as u64 + 1;
            let expected = one.apply(request);
            let key = request.shard_key();
            if let ShardKey::User(user) = key {
                prop_assert_eq!(layout.shard_of(partition_of(user.as_str())), layout.shard_of_user(user.as_str()));
            }
            for s in key.shards(layout) {
                let answer = replicas[usize::from(s)].apply_at(seq, request);
                prop_assert_eq!(answer.as_ref(), Some(&expected), "shard {} seq {}", s, seq);
            }
        }
        let saved: Vec<String> = replicas.iter().map(|r| serde_json::to_string(r).unwrap()).collect();
        for (i, request) in requests.iter().enumerate() {
            for s in request.shard_key().shards(layout) {
                prop_assert!(replicas[usize::from(s)].apply_at(i as u64 + 1, request).is_none());
            }
        }
        let again: Vec<String> = replicas.iter().map(|r| serde_json::to_string(r).unwrap()).collect();
        prop_assert_eq!(saved, again);

        let mut recipients = user_ids();
        recipients.push("stranger".into());
        recipients.reverse();
        for m in &messages {
            let msg = m.message();
            let prepared = one.prepare(&msg);
            let expected: Vec<_> = recipients.iter().map(|r| prepared.decide_id(r)).collect();
            prop_assert_eq!(decide_sharded(layout, &replicas, m, &recipients), expected);
        }
    }
}

/// The replicas of `layout`, each fed in log order (from sequence `from`)
/// the requests routed to it; `one` fed every request.
fn feed(layout: Layout, replicas: &mut [Replica], one: &mut Settings, from: u64, requests: &[Request]) {
    for (i, request) in requests.iter().enumerate() {
        let seq = from + i as u64;
        let expected = one.apply(request);
        for s in request.shard_key().shards(layout) {
            let answer = replicas[usize::from(s)].apply_at(seq, request);
            assert_eq!(answer.as_ref(), Some(&expected), "shard {s} seq {seq}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Resharding without a replay: the replicas of `n` shards, fed the
    /// first part of a log, regrouped by partition into `m` shards
    /// (`Replica::regroup`), then fed the rest under the new layout, answer
    /// every get of their users and decide every message for every
    /// recipient as one `Settings` given the whole log; a regrouped
    /// replica survives its own snapshot; and regrouping back to `n` gives
    /// the same snapshots as the replicas that never moved.
    #[test]
    fn regrouped_replicas_decide_as_one_settings(
        config in config(),
        n in 1u16..=8,
        m in 1u16..=8,
        before in prop::collection::vec(request(), 0..100),
        after in prop::collection::vec(request(), 0..40),
        messages in prop::collection::vec(message(), 1..4),
    ) {
        let (old, new) = (Layout::new(n).unwrap(), Layout::new(m).unwrap());
        let mut one = Settings::new(config.clone());
        let mut replicas: Vec<Replica> = old.all().map(|_| Replica::new(Settings::new(config.clone()))).collect();
        feed(old, &mut replicas, &mut one, 1, &before);
        // Every shard covers the same sequence before it is split.
        let at = before.len() as u64;
        for r in &mut replicas {
            r.skip_to(at);
        }
        let sources: Vec<_> = old.all().map(|s| (old.partitions(s), &replicas[usize::from(s.0)])).collect();
        let mut moved: Vec<Replica> = new
            .all()
            .map(|s| Replica::regroup(&sources, new.partitions(s)).unwrap())
            .collect();
        let back: Vec<String> = old
            .all()
            .map(|s| serde_json::to_string(&Replica::regroup(&sources, old.partitions(s)).unwrap()).unwrap())
            .collect();
        let same: Vec<String> = replicas.iter().map(|r| serde_json::to_string(r).unwrap()).collect();
        prop_assert_eq!(back, same);
        for r in &moved {
            prop_assert_eq!(r.applied(), at);
            let saved = serde_json::to_string(r).unwrap();
            let restored: Replica = serde_json::from_str(&saved).unwrap();
            prop_assert_eq!(serde_json::to_string(&restored).unwrap(), saved);
        }
        feed(new, &mut moved, &mut one, at + 1, &after);

        for request in before.iter().chain(&after) {
            let Some(expected) = one.query(request) else { continue };
            for s in request.shard_key().shards(new).take(1) {
                prop_assert_eq!(moved[usize::from(s)].settings().query(request), Some(expected.clone()));
            }
        }
        let mut recipients = user_ids();
        recipients.push("stranger".into());
        for msg in &messages {
            let prepared = one.prepare(&msg.message());
            let expected: Vec<_> = recipients.iter().map(|r| prepared.decide_id(r)).collect();
            prop_assert_eq!(decide_sharded(new, &moved, msg, &recipients), expected);
        }
    }
}

/// Sources that do not cover one sequence, or that leave a partition
/// unowned or own one twice, are refused.
#[test]
fn a_regroup_of_sources_that_do_not_fit_is_refused() {
    let config = Config::new(chrono_tz::UTC);
    let mut a = Replica::new(Settings::new(config.clone()));
    let b = Replica::new(Settings::new(config));
    let all = 0..PARTITIONS;
    assert!(Replica::regroup(&[(all.clone(), &a)], all.clone()).is_ok());
    assert!(Replica::regroup(&[], 0..1).is_err());
    assert!(Replica::regroup(&[(0..100, &a), (100..256, &b)], all.clone()).is_ok());
    let holes = Replica::regroup(&[(0..100, &a), (101..256, &b)], all.clone()).unwrap_err();
    assert!(holes.to_string().contains("no source owns partition 100"), "{holes}");
    let twice = Replica::regroup(&[(0..101, &a), (100..256, &b)], 0..10).unwrap_err();
    assert!(twice.to_string().contains("two sources own partition 100"), "{twice}");
    a.skip_to(5);
    let apart = Replica::regroup(&[(0..100, &a), (100..256, &b)], all).unwrap_err();
    assert!(apart.to_string().contains("sequences 5 and 0"), "{apart}");
}

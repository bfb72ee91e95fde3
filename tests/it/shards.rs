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

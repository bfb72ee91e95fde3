//! The fanout's fast path (the packed record and the per-message table, the
//! override bitmaps, the mention filter, zones converted as first read) is
//! checked against the naive oracle on large, sparse worlds: every batch
//! path, every recipient, in every conversation type.

use chrono::Duration;
use dnd_engine::{Config, Conversation, Decision, Mentions, Message, Request, Settings, Timestamp, UserHandle, UserId};
use proptest::prelude::*;
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::naive::{as_naive, Naive, NaiveDecision};
use crate::support::{at, CONVERSATION, DEFAULT, PERIOD, TYPE};

const LEVELS: [i64; 6] = [-1, 1, 2, 4, 5, 0];

pub(crate) struct World {
    pub(crate) settings: Settings,
    pub(crate) naive: Naive,
    pub(crate) ids: Vec<String>,
    pub(crate) handles: Vec<UserHandle>,
}

pub(crate) fn apply(world: &mut World, path: &str, body: &str) {
    let r = Request::parse(path, body.as_bytes()).unwrap_or_else(|e| panic!("{path} {body}: {e}"));
    assert_eq!(world.settings.apply(&r).code(), 200, "{path} {body}");
    world.naive.apply(&r);
}

/// A world of `users` users: periods in up to 60 zones, type levels,
/// levels on two groups and an ultra group's subchannels (one conversation
/// dense enough for a presence bitmap, others sparse), temporary levels
/// and snoozes for a few (the extended path), admin defaults.
pub(crate) fn world(seed: u64, users: usize) -> World {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut w = World {
        settings: Settings::new(Config::new(chrono_tz::Asia::Shanghai)),
        naive: Naive::new(chrono_tz::Asia::Shanghai, &[]),
        ids: (0..users).map(|i| format!("u{i}")).collect(),
        handles: Vec::new(),
    };
    let zones: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().take(60).map(|z| z.name()).collect();
    let until = at("2026-11-22T16:00:00Z").timestamp_millis() + rng.gen_range(-3_600_000..3_600_000);
    let dense = rng.gen_range(0.02..0.3);
    for i in 0..users {
        let id = w.ids[i].clone();
        w.handles
            .push(w.settings.intern_user(&UserId::new(&id).unwrap()).unwrap());
        if rng.gen_bool(0.4) {
            let zone = if rng.gen_bool(0.5) {
                String::new()
            } else {
                format!("&timezone={}", zones[rng.gen_range(0..zones.len())])
            };
            let (h, m, s) = (rng.gen_range(0..24), rng.gen_range(0..60), rng.gen_range(0..60));
            let body = format!(
                "userId={id}&startTime={h:02}:{m:02}:{s:02}&period={}&level={}{zone}",
                rng.gen_range(1..=1439),
                [1, 5][rng.gen_range(0..2)]
            );
            apply(&mut w, PERIOD, &body);
        }
        for t in [1, 3, 6, 10] {
            if rng.gen_bool(0.3) {
                let level = LEVELS[rng.gen_range(0..6)];
                apply(
                    &mut w,
                    TYPE,
                    &format!("conversationType={t}&requestId={id}&unpushLevel={level}"),
                );
            }
        }
        let conversation = |w: &mut World, rng: &mut SmallRng, p: f64, target: &str| {
            if rng.gen_bool(p) {
                let level = LEVELS[rng.gen_range(0..6)];
                apply(w, CONVERSATION, &format!("{target}&requestId={id}&unpushLevel={level}"));
            }
        };
        conversation(&mut w, &mut rng, dense, "conversationType=10&targetId=club");
        conversation(
            &mut w,
            &mut rng,
            0.002,
            "conversationType=10&targetId=club&busChannel=news",
        );
        conversation(
            &mut w,
            &mut rng,
            dense / 2.0,
            "conversationType=10&targetId=club&busChannel=talk",
        );
        conversation(&mut w, &mut rng, 0.003, "conversationType=3&targetId=team");
        conversation(&mut w, &mut rng, 0.01, "conversationType=1&targetId=u1");
        conversation(&mut w, &mut rng, 0.01, "conversationType=6&targetId=u2");
        if rng.gen_bool(0.02) {
            let level = LEVELS[rng.gen_range(0..5)];
            let body = format!("conversationType=10&requestId={id}&targetId=club&unpushLevel={level}&until={until}");
            apply(&mut w, CONVERSATION, &body);
        }
        if rng.gen_bool(0.01) {
            apply(&mut w, "/user/snooze/set.json", &format!("userId={id}&until={until}"));
        }
    }
    for (bus, level) in [("", 1), ("&busChannel=news", 4), ("&busChannel=talk", 5)] {
        if rng.gen_bool(0.7) {
            apply(&mut w, DEFAULT, &format!("groupId=club{bus}&unpushLevel={level}"));
        }
    }
    w
}

/// An instant in the week from 2026-11-22 (so that periods in many zones
/// are on and off).
pub(crate) fn some_instant(rng: &mut SmallRng) -> Timestamp {
    Timestamp::new(*at("2026-11-22T12:00:00Z") + Duration::seconds(rng.gen_range(0..7 * 86_400))).unwrap()
}

/// Up to 39 of the first `users` users of `w`, drawn with repeats.
pub(crate) fn some_mentioned<'w>(rng: &mut SmallRng, w: &'w World, users: usize) -> Vec<&'w str> {
    (0..rng.gen_range(0..40))
        .map(|_| w.ids[rng.gen_range(0..users)].as_str())
        .collect()
}

/// Every batch path against the oracle for `message`, on every user and on
/// ids the settings do not know.
pub(crate) fn check(w: &World, message: &Message<'_>, rng: &mut SmallRng) {
    let expected: Vec<NaiveDecision> = w.ids.iter().map(|id| w.naive.decide(message, id)).collect();
    let prepared = w.settings.prepare(message);
    let mut out: Vec<Decision> = Vec::new();
    prepared.decide_into(&w.handles, &mut out).unwrap();
    for (i, d) in out.iter().enumerate() {
        assert_eq!(as_naive(*d), expected[i], "{} by handle, {message:?}", w.ids[i]);
    }
    let mut bits = Vec::new();
    prepared.push_bits_into(&w.handles, &mut bits).unwrap();
    assert_eq!(bits.len(), w.handles.len().div_ceil(64));
    for (i, e) in expected.iter().enumerate() {
        assert_eq!(bits[i / 64] >> (i % 64) & 1 == 1, e.0, "{} as a bit", w.ids[i]);
    }
    if !w.handles.len().is_multiple_of(64) {
        assert_eq!(bits[bits.len() - 1] >> (w.handles.len() % 64), 0, "bits past the end");
    }
    // Shuffled, with repeats and strangers.
    let mut order: Vec<usize> = (0..w.ids.len()).chain(0..w.ids.len() / 10).collect();
    order.shuffle(rng);
    let strangers = ["stranger", "u", "u-1"];
    let ids: Vec<&str> = order.iter().map(|&i| w.ids[i].as_str()).chain(strangers).collect();
    prepared.decide_ids_into(&ids, &mut out);
    for (id, d) in ids.iter().zip(&out) {
        assert_eq!(as_naive(*d), w.naive.decide(message, id), "{id} by id");
    }
    let handles: Vec<UserHandle> = order.iter().map(|&i| w.handles[i]).collect();
    prepared.decide_into(&handles, &mut out).unwrap();
    for (&i, d) in order.iter().zip(&out) {
        assert_eq!(as_naive(*d), expected[i], "{} shuffled", w.ids[i]);
    }
    prepared.push_bits_into(&handles, &mut bits).unwrap();
    for (k, &i) in order.iter().enumerate() {
        assert_eq!(
            bits[k / 64] >> (k % 64) & 1 == 1,
            expected[i].0,
            "{} shuffled, as a bit",
            w.ids[i]
        );
    }
    #[cfg(feature = "parallel")]
    {
        let mut parallel = Vec::new();
        prepared
            .decide_into_parallel(&handles, &mut parallel, std::num::NonZeroUsize::new(3).unwrap())
            .unwrap();
        assert_eq!(parallel, out, "in parallel, {message:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// RULES §4 on large, sparse worlds: every recipient's decision through
    /// the fast batch paths is the naive oracle's, in every conversation
    /// type, with and without mentions, @all and disablePush, at instants
    /// spread over a week (so that periods in many zones are on and off).
    #[test]
    fn the_fast_fanout_agrees_with_the_oracle(seed in any::<u64>()) {
        let users = 3_000 + (seed % 5_000) as usize;
        let w = world(seed, users);
        let mut rng = SmallRng::seed_from_u64(seed ^ 0x5eed);
        let instant = some_instant(&mut rng);
        let mut mentioned = some_mentioned(&mut rng, &w, users);
        mentioned.push("nobody");
        let sender = w.ids[rng.gen_range(0..users)].as_str();
        for conversation in [
            Conversation::Private,
            Conversation::System,
            Conversation::Group { group_id: "team" },
            Conversation::UltraGroup { group_id: "club", bus_channel: None },
            Conversation::UltraGroup { group_id: "club", bus_channel: Some("news") },
            Conversation::UltraGroup { group_id: "club", bus_channel: Some("talk") },
        ] {
            for mentions in [Mentions::None, Mentions::All, Mentions::Users(&mentioned)] {
                let message = Message::new(conversation, sender, instant).with_mentions(mentions);
                check(&w, &message, &mut rng);
            }
        }
        let message = Message::new(Conversation::Group { group_id: "team" }, sender, instant).with_push_disabled();
        check(&w, &message, &mut rng);
    }
}

/// The world of `seed` with the break-through policy (§10): a share of the users (from
/// none to a fifth, so that the presence bitmaps run from empty to dense)
/// list one to four of the senders `u0`..`u9` as VIPs, in either scope, and
/// another share allow urgent messages; then some lists are replaced or
/// removed and some consent is taken back, so that bits are cleared as well
/// as set.
pub(crate) fn world_with_policy(seed: u64, users: usize) -> World {
    let mut w = world(seed, users);
    let mut rng = SmallRng::seed_from_u64(seed ^ 0xb1b);
    let (vip, urgent) = (
        [0.0, 0.002, 0.05, 0.2][rng.gen_range(0..4)],
        [0.0, 0.002, 0.05, 0.2][rng.gen_range(0..4)],
    );
    let list = |rng: &mut SmallRng| {
        let senders: std::collections::BTreeSet<String> = (0..rng.gen_range(1..5))
            .map(|_| format!("u{}", rng.gen_range(0..10)))
            .collect();
        let json = serde_json::to_string(&senders.into_iter().collect::<Vec<_>>()).unwrap();
        let scope = ["quiet", "all"][rng.gen_range(0..2)];
        let json: String = form_urlencoded::byte_serialize(json.as_bytes()).collect();
        format!("&vipUserIds={json}&scope={scope}")
    };
    for round in 0..2 {
        for i in 0..users {
            let id = w.ids[i].clone();
            // The second round changes a tenth of what the first set.
            let p = if round == 0 { 1.0 } else { 0.1 };
            if rng.gen_bool(vip * p) {
                let body = match round {
                    0 => list(&mut rng),
                    _ if rng.gen_bool(0.5) => "&vipUserIds=%5B%5D".to_owned(),
                    _ => list(&mut rng),
                };
                apply(&mut w, "/user/vip/set.json", &format!("userId={id}{body}"));
            }
            if rng.gen_bool(urgent * p) {
                apply(
                    &mut w,
                    "/user/urgent/set.json",
                    &format!("userId={id}&allow={}", 1 - round),
                );
            }
        }
    }
    w
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// The break-through rules (§10) through the fast batch paths, on large
    /// worlds where from none to a fifth of the users have VIP lists and allow
    /// urgent messages: every recipient's decision is the naive oracle's, for
    /// messages from a sender somebody lists and from one nobody does (so
    /// that only some recipients leave the table path), urgent or not, in
    /// every conversation type, with and without mentions.
    #[test]
    fn the_fast_fanout_agrees_with_the_oracle_with_vip_lists_and_urgent_consent(seed in any::<u64>()) {
        let users = 3_000 + (seed % 5_000) as usize;
        let w = world_with_policy(seed, users);
        let mut rng = SmallRng::seed_from_u64(seed ^ 0x5eed);
        let instant = some_instant(&mut rng);
        let mut mentioned = some_mentioned(&mut rng, &w, users);
        mentioned.push("nobody");
        for conversation in [
            Conversation::Private,
            Conversation::System,
            Conversation::Group { group_id: "team" },
            Conversation::UltraGroup { group_id: "club", bus_channel: Some("news") },
        ] {
            for (listed, urgent) in [(true, false), (true, true), (false, true), (false, false)] {
                let sender = match listed {
                    true => w.ids[rng.gen_range(0..10)].as_str(),
                    false => w.ids[rng.gen_range(10..users)].as_str(),
                };
                let mentions = [Mentions::None, Mentions::All, Mentions::Users(&mentioned)][rng.gen_range(0..3)];
                let mut message = Message::new(conversation, sender, instant).with_mentions(mentions);
                if urgent {
                    message = message.with_urgent();
                }
                check(&w, &message, &mut rng);
            }
        }
    }
}

/// The world of `seed` (with VIP lists and urgent consent) plus an ultra
/// group, `crowd`, where a handful of members set a level: from 3 to 30 on
/// the group and from 1 to 8 on its subchannel `lobby`, spread over the
/// whole range of handles (the last one included), some set twice or
/// removed again: maps far too sparse for a presence bitmap. Its subchannel
/// `hall` has a dense map (one member in 8), so that a message there meets
/// a sparse conversation layer under a dense subchannel layer, as one in
/// `club`'s sparse subchannel `news` meets the reverse.
fn world_with_a_sparse_crowd(seed: u64, users: usize) -> World {
    let mut w = world_with_policy(seed, users);
    let mut rng = SmallRng::seed_from_u64(seed ^ 0xc0d);
    let spread = |rng: &mut SmallRng, n: usize| -> Vec<usize> {
        (0..n).map(|_| rng.gen_range(0..users)).chain([users - 1]).collect()
    };
    let (on_group, on_lobby) = (rng.gen_range(3..=30), rng.gen_range(1..=8));
    let group = spread(&mut rng, on_group);
    let lobby = spread(&mut rng, on_lobby);
    let hall: Vec<usize> = (0..users).filter(|_| rng.gen_ratio(1, 8)).collect();
    for (target, members) in [("", group), ("&busChannel=lobby", lobby), ("&busChannel=hall", hall)] {
        for i in members {
            let level = LEVELS[rng.gen_range(0..6)];
            let body = format!(
                "conversationType=10&targetId=crowd{target}&requestId={}&unpushLevel={level}",
                w.ids[i]
            );
            apply(&mut w, CONVERSATION, &body);
        }
    }
    w
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    /// RULES §4 for a large group where a handful of members set a level:
    /// on worlds of 20,000 to 50,000 users whose group and subchannel maps
    /// hold a few levels spread over every handle (too sparse for a presence
    /// bitmap, so the fast path asks the maps themselves), every recipient's
    /// decision through every batch path is the naive oracle's: for those
    /// few members (whose level decides) and for everyone else (whom the
    /// table decides), with the other layer sparse, dense or absent, with
    /// and without mentions, from a sender somebody lists as a VIP and
    /// urgent, and with disablePush.
    #[test]
    fn the_fast_fanout_agrees_with_the_oracle_in_a_large_group_with_sparse_overrides(seed in any::<u64>()) {
        let users = 20_000 + (seed % 30_000) as usize;
        let w = world_with_a_sparse_crowd(seed, users);
        let mut rng = SmallRng::seed_from_u64(seed ^ 0x5eed);
        let instant = some_instant(&mut rng);
        let mentioned = some_mentioned(&mut rng, &w, users);
        let sender = w.ids[rng.gen_range(10..users)].as_str();
        let listed = w.ids[rng.gen_range(0..10)].as_str();
        let crowd = |bus_channel| Conversation::UltraGroup { group_id: "crowd", bus_channel };
        for (conversation, mentions) in [
            (crowd(Some("lobby")), Mentions::None),
            (crowd(Some("lobby")), Mentions::Users(&mentioned)),
            (crowd(Some("hall")), Mentions::All),
            (crowd(None), Mentions::Users(&mentioned)),
            (Conversation::UltraGroup { group_id: "club", bus_channel: Some("news") }, Mentions::None),
        ] {
            check(&w, &Message::new(conversation, sender, instant).with_mentions(mentions), &mut rng);
        }
        let message = Message::new(crowd(Some("lobby")), listed, instant).with_mentions(Mentions::Users(&mentioned));
        check(&w, &message, &mut rng);
        check(&w, &message.with_urgent(), &mut rng);
        check(&w, &message.with_push_disabled(), &mut rng);
    }
}

/// The parallel fanout decides as the single-threaded one, for any number
/// of threads and recipients (fewer than one chunk, several, not a multiple).
#[cfg(feature = "parallel")]
#[test]
fn the_parallel_fanout_decides_as_the_single_one() {
    let w = world(7, 5_000);
    let message = Message::new(
        Conversation::UltraGroup {
            group_id: "club",
            bus_channel: Some("talk"),
        },
        "u3",
        at("2026-11-22T23:30:00+08:00"),
    );
    let prepared = w.settings.prepare(&message);
    let (mut one, mut many) = (Vec::new(), Vec::new());
    for n in [0, 1, 63, 64, 65, 1000, 4_999, 5_000] {
        prepared.decide_into(&w.handles[..n], &mut one).unwrap();
        for threads in [1, 2, 3, 8] {
            let threads = std::num::NonZeroUsize::new(threads).unwrap();
            prepared
                .decide_into_parallel(&w.handles[..n], &mut many, threads)
                .unwrap();
            assert_eq!(one, many, "{n} recipients on {threads} threads");
        }
    }
}

//! Properties of the break-through policy (§10), stated from the rules, on random worlds that use
//! every extension (time and policy): the engine against the naive oracle
//! (small worlds and a large, sparse one); a quiet-scope VIP never quieter;
//! urgent with consent; governance; unrelated policy changes nothing;
//! defer against stepping the clock; save and restore.

use chrono::Duration;
use dnd_engine::{Config, Conversation, Decision, Layer, Mentions, Message, Recipient, Request, Settings, Timestamp};
use proptest::prelude::*;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::checks::{agrees_with_the_oracle, deferrals_agree_with_stepping_the_clock};
use crate::gen::policy::{config, parts, policy_request, requests, Parts, RECIPIENTS};
use crate::gen::{self, instant, request, World};
use crate::naive::{as_naive, Naive};
use crate::support::at_time;

/// The accepted requests, applied to settings and to the oracle.
fn world(config: &Config, requests: &[(String, String)]) -> (Settings, Naive) {
    let World { settings, naive, .. } = gen::world(config, requests);
    (settings, naive)
}

/// `requests` followed by `more`.
fn and(requests: &[(String, String)], more: &[(&str, String)]) -> Vec<(String, String)> {
    let more = more.iter().map(|(p, b)| (p.to_string(), b.clone()));
    requests.iter().cloned().chain(more).collect()
}

fn decisions(settings: &Settings, message: &Message<'_>) -> Vec<Decision> {
    gen::decisions(settings, message, &RECIPIENTS)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Every decision, with every time and policy rule in use, equals the
    /// naive walk's: by handle one by one, lazily, in a batch and as push
    /// bits, by id, and in the explanation.
    #[test]
    fn the_engine_agrees_with_the_naive_oracle_on_worlds_with_policy(
        config in config(), requests in requests(30), parts in parts(),
    ) {
        let (settings, naive) = world(&config, &requests);
        agrees_with_the_oracle(&settings, &naive, &parts.message(), &RECIPIENTS)?;
    }

    /// A quiet-scope VIP never makes a decision quieter than the same message
    /// from a non-VIP: when the walk pushes the decision is the same; when it
    /// does not, the message pushes exactly when it would with the
    /// recipient's quiet time (period, schedule, snooze) deleted, and then as that decision.
    #[test]
    fn a_quiet_scope_vip_never_makes_a_decision_quieter(
        config in config(), requests in requests(24), parts in parts(), r in 0usize..5,
    ) {
        let r = RECIPIENTS[r];
        let sender = parts.sender;
        let list = |ids: &str| ("/user/vip/set.json", format!("userId={r}&vipUserIds={ids}&scope=quiet"));
        let (plain, _) = world(&config, &and(&requests, &[list("%5B%5D")]));
        let (vip, _) = world(&config, &and(&requests, &[list(&format!("%5B%22{sender}%22%5D"))]));
        let (quietless, _) = world(&config, &and(&requests, &[
            list("%5B%5D"),
            ("/user/blockPushPeriod/delete.json", format!("userId={r}")),
            ("/user/blockPushSchedule/delete.json", format!("userId={r}")),
            ("/user/snooze/delete.json", format!("userId={r}")),
        ]));
        let m = parts.message();
        let (plain, vip, quietless) = (
            plain.prepare(&m).decide_id(r),
            vip.prepare(&m).decide_id(r),
            quietless.prepare(&m).decide_id(r),
        );
        prop_assert!(vip.push() || !plain.push(), "quieter: {:?} against {:?}", vip, plain);
        if plain.push() || plain.level().is_none() {
            prop_assert_eq!(vip, plain);
        } else if quietless.push() {
            prop_assert_eq!(vip, quietless);
        } else {
            prop_assert_eq!(vip, plain);
        }
    }

    /// An urgent message to a recipient who allows urgent messages pushes,
    /// by layer `urgent`, except for its sender and with `disablePush`;
    /// without consent, urgent decides as not urgent.
    #[test]
    fn urgent_with_consent_always_pushes_except_for_the_sender_and_disable_push(
        config in config(), requests in requests(24), parts in parts(), r in 0usize..7,
    ) {
        let r = RECIPIENTS[r];
        let consent = |allow: u8| ("/user/urgent/set.json", format!("userId={r}&allow={allow}"));
        let (with, _) = world(&config, &and(&requests, &[consent(1)]));
        let (without, _) = world(&config, &and(&requests, &[consent(0)]));
        let mut urgent = parts.message();
        urgent.urgent = true;
        let d = with.prepare(&urgent).decide_id(r);
        if r == parts.sender {
            prop_assert_eq!(d.by(), Layer::Sender);
        } else if parts.disable_push {
            prop_assert_eq!(d.by(), Layer::DisablePush);
        } else {
            prop_assert_eq!((d.push(), d.by(), d.level()), (true, Layer::Urgent, None));
        }
        prop_assert!(!d.push() || with.prepare(&urgent).defer(Recipient::Id(r)).unwrap().is_none());
        let mut calm = urgent;
        calm.urgent = false;
        prop_assert_eq!(without.prepare(&urgent).decide_id(r), without.prepare(&calm).decide_id(r));
    }

    /// Governance only ever turns an @all into no mention: a governed
    /// message decides as the same message without its mention when a rule
    /// holds (more members than the maximum, or a sender who may not), and
    /// as the ungoverned message otherwise; it never adds a push.
    #[test]
    fn governance_only_ever_turns_an_at_all_into_no_mention(
        config in config(), requests in requests(24), parts in parts(), at_all in prop::bool::weighted(0.7),
    ) {
        let parts = Parts { mention: if at_all { 1 } else { parts.mention }, ..parts };
        let (settings, _) = world(&config, &requests);
        let governed = parts.message();
        let ungoverned = Parts { members: None, allowed: true, ..parts }.message();
        let unmentioned = Parts { mention: 0, ..parts }.message();
        let off = parts.mention == 1
            && (!parts.allowed
                || matches!((parts.members, config.mention_all_max_members), (Some(n), Some(max)) if n > max));
        let (g, u, n) = (decisions(&settings, &governed), decisions(&settings, &ungoverned), decisions(&settings, &unmentioned));
        prop_assert_eq!(&g, if off { &n } else { &u });
        for (g, u) in g.iter().zip(&u) {
            prop_assert!(u.push() || !g.push(), "governance added a push");
        }
    }

    /// VIP lists and consents that do not concern the message (its sender is
    /// on no list, it is not urgent) change no decision, deferrals included.
    #[test]
    fn policy_that_does_not_concern_a_message_changes_nothing(
        config in config(), base in prop::collection::vec(request(true), 0..20),
        policy in prop::collection::vec(policy_request(), 0..10), parts in parts(),
    ) {
        let unrelated: Vec<_> = policy.into_iter().filter(|(_, b)| !b.contains("%22boss%22")).collect();
        let (without, _) = world(&config, &base);
        let (with, _) = world(&config, &[base, unrelated].concat());
        let m = Parts { sender: "boss", urgent: false, ..parts }.message();
        let (a, b) = (without.prepare(&m), with.prepare(&m));
        for r in RECIPIENTS {
            prop_assert_eq!(a.decide_deferred_id(r), b.decide_deferred_id(r));
        }
    }

    /// Save and restore decides identically, with every policy in use;
    /// saving the restored state gives the same text.
    #[test]
    fn save_and_restore_decide_identically_with_policy(
        config in config(), requests in requests(30), parts in parts(),
    ) {
        let (settings, _) = world(&config, &requests);
        let saved = serde_json::to_string(&settings).unwrap();
        let restored: Settings = serde_json::from_str(&saved).unwrap();
        prop_assert_eq!(serde_json::to_string(&restored).unwrap(), saved.clone());
        let m = parts.message();
        let (a, b) = (settings.prepare(&m), restored.prepare(&m));
        for r in RECIPIENTS {
            prop_assert_eq!(a.decide_deferred_id(r), b.decide_deferred_id(r));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// With VIPs and urgent messages in play, deciding at `deferUntil`
    /// pushes and no minute of the week before it does; without one, none does.
    #[test]
    fn defer_is_the_earliest_instant_that_pushes_with_policy(
        config in config(), requests in requests(16), parts in parts(), second in 0i64..60_000,
    ) {
        let (settings, _) = world(&config, &requests);
        let m = parts.message();
        let m = at_time(m, *m.at + Duration::milliseconds(second));
        deferrals_agree_with_stepping_the_clock(&settings, &m, &RECIPIENTS)?;
    }
}

/// A large, sparse world: 20,000 users, a few percent with each setting
/// (periods, type and group levels, snoozes, VIP lists of both scopes,
/// urgent consent); every recipient of messages from VIP and other senders,
/// urgent or not, governed or not, decided by the engine (by handle in a
/// batch, and by id) and by the oracle.
#[test]
fn a_large_sparse_world_with_policy_agrees_with_the_oracle() {
    const USERS: usize = 20_000;
    let mut rng = SmallRng::seed_from_u64(11);
    let config = Config::new(chrono_tz::Asia::Shanghai).with_mention_all_max_members(10_000);
    let mut settings = Settings::new(config.clone());
    let mut naive = Naive::of_config(&config);
    let id = |i: usize| format!("m{i}");
    let mut apply = |path: &str, body: String| {
        let r = Request::parse(path, body.as_bytes()).unwrap();
        assert_eq!(settings.apply(&r).code(), 200);
        naive.apply(&r);
    };
    for i in 0..USERS {
        let u = id(i);
        let roll = rng.gen_range(0..100);
        if roll < 5 {
            apply(
                "/user/blockPushPeriod/set.json",
                format!("userId={u}&startTime=18:00:00&period=600&level=5"),
            );
        }
        if (5..8).contains(&roll) {
            apply(
                "/user/snooze/set.json",
                format!("userId={u}&until=2026-11-23T00:00:00Z&level=1"),
            );
        }
        if rng.gen_range(0..100) < 10 {
            let l = [-1, 1, 2, 4, 5][rng.gen_range(0..5)];
            apply(
                "/conversation/type/notification/set.json",
                format!("conversationType=10&requestId={u}&unpushLevel={l}"),
            );
        }
        if rng.gen_range(0..100) < 3 {
            apply(
                "/conversation/notification/set.json",
                format!("conversationType=10&requestId={u}&targetId=club&unpushLevel=5"),
            );
        }
        if rng.gen_range(0..100) < 4 {
            let senders: Vec<String> = (0..rng.gen_range(1..5))
                .map(|_| id(rng.gen_range(0..20)))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let json: String =
                form_urlencoded::byte_serialize(serde_json::to_string(&senders).unwrap().as_bytes()).collect();
            let scope = if rng.gen_bool(0.3) { "all" } else { "quiet" };
            apply(
                "/user/vip/set.json",
                format!("userId={u}&vipUserIds={json}&scope={scope}"),
            );
        }
        if rng.gen_range(0..100) < 2 {
            apply("/user/urgent/set.json", format!("userId={u}&allow=1"));
        }
    }
    apply("/ultragroup/notdisturb/set.json", "groupId=club&unpushLevel=4".into());
    let members: Vec<String> = (0..USERS).map(id).collect();
    let handles: Vec<_> = members.iter().filter_map(|m| settings.user(m)).collect();
    let mut out = Vec::new();
    for (k, sender) in ["m3", "m17", "m5000"].into_iter().enumerate() {
        for (urgent, members_count) in [(false, None), (true, Some(20_000)), (false, Some(10_000))] {
            let mut m = Message::new(
                Conversation::UltraGroup {
                    group_id: "club",
                    bus_channel: None,
                },
                sender,
                Timestamp::new(instant(2 * 1440 + 600 * k as i64)).unwrap(),
            )
            .with_mentions(Mentions::All);
            m.urgent = urgent;
            m.member_count = members_count;
            let p = settings.prepare(&m);
            p.decide_into(&handles, &mut out).unwrap();
            let by_handle: Vec<_> = handles
                .iter()
                .zip(&out)
                .map(|(h, d)| (settings.user_id(*h).unwrap().to_owned(), *d))
                .collect();
            let by_id: std::collections::HashMap<_, _> = by_handle.into_iter().collect();
            for member in &members {
                let d = p.decide_id(member);
                assert_eq!(by_id.get(member).copied().unwrap_or(d), d, "{member}");
                assert_eq!(
                    as_naive(d),
                    naive.decide(&m, member),
                    "{member} from {sender}, urgent {urgent}, {members_count:?}"
                );
            }
        }
    }
}

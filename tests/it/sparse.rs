//! The engine against the naive oracle on a large, sparse world: tens of
//! thousands of users, few of whom set anything; conversations whose level
//! maps are sparse (no bitmap), dense (with one) and pushed across the
//! threshold both ways; fanouts of thousands of recipients, so that batches
//! run in many chunks of 64; enough ids that the interner's 7-bit hash tags
//! collide in every batch, so that the batch lookup's fallback runs; and
//! recipients and mentions the settings have never seen.
//!
//! The six-user worlds of `properties` never reach any of this.

use dnd_engine::Timestamp;
use dnd_engine::{
    BusChannel, Config, Conversation, ConversationKey, ConversationType, Decision, DndPeriod, DndWindow, Level,
    Mentions, Message, PeriodLevel, Request, Settings, TargetId, TimeOfDay, UserHandle, UserId,
};
use proptest::prelude::*;
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::gen::{cases, LEVELS, ZONES};
use crate::naive::{as_naive, Naive};

/// Users the settings number; about 1% of them set anything.
const USERS: usize = 30_000;

/// A level map keeps its bitmap while `span <= entries * 128` (and drops it
/// only below half that density): `docs/design.md`, `LevelMap::DENSITY`.
const DENSITY: usize = 128;

struct World {
    settings: Settings,
    naive: Naive,
    /// `ids[h]` is the id of the user with handle `h`.
    ids: Vec<String>,
    /// Every user who set something (some more than once).
    setters: Vec<usize>,
    rng: SmallRng,
}

fn user(id: &str) -> UserId {
    UserId::new(id).unwrap()
}

impl World {
    /// The world of `seed`: every user numbered, in random order, then a few
    /// hundred settings.
    fn new(seed: u64) -> World {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut config = Config::new(*ZONES.choose(&mut rng).unwrap());
        for _ in 0..rng.gen_range(0..3) {
            config = config.with_app_default(
                *ConversationType::ALL.choose(&mut rng).unwrap(),
                *LEVELS.choose(&mut rng).unwrap(),
            );
        }
        let defaults: Vec<_> = ConversationType::ALL
            .iter()
            .filter_map(|&t| config.app_defaults.get(t).map(|l| (t, l)))
            .collect();
        let mut numbers: Vec<usize> = (0..USERS).collect();
        numbers.shuffle(&mut rng);
        let mut settings = Settings::new(config.clone());
        let ids: Vec<String> = numbers.iter().map(|n| format!("member-{n}")).collect();
        for (h, id) in ids.iter().enumerate() {
            assert_eq!(settings.intern_user(&user(id)).unwrap().index(), h);
        }
        let mut world = World {
            settings,
            naive: Naive::new(config.time_zone, &defaults),
            ids,
            setters: Vec::new(),
            rng,
        };
        // About 1% of the users: a period or a type level.
        for _ in 0..USERS / 100 {
            let h = world.rng.gen_range(0..USERS);
            let request = if world.rng.gen() {
                let start = world.rng.gen_range(0..86_400);
                let minutes = world.rng.gen_range(1..=1439);
                Request::SetPeriod {
                    user_id: user(&world.ids[h]),
                    period: DndPeriod {
                        window: DndWindow::new(TimeOfDay::from_seconds(start).unwrap(), minutes).unwrap(),
                        level: if world.rng.gen() {
                            PeriodLevel::Nothing
                        } else {
                            PeriodLevel::Mentions
                        },
                        zone: world
                            .rng
                            .gen_ratio(1, 3)
                            .then(|| *ZONES.choose(&mut world.rng).unwrap()),
                    },
                }
            } else {
                Request::SetTypeLevel {
                    user_id: user(&world.ids[h]),
                    conversation_type: *ConversationType::ALL.choose(&mut world.rng).unwrap(),
                    level: Some(*LEVELS.choose(&mut world.rng).unwrap()),
                }
            };
            world.apply(h, request);
        }
        // Sparse maps: 40 users spread over all the handles (span ~30,000
        // > 40 * 128). Dense maps: one user in 8 of the first 4,096 handles.
        let sparse = |rng: &mut SmallRng| (0..40).map(|_| rng.gen_range(0..USERS)).collect::<Vec<_>>();
        let dense = |rng: &mut SmallRng| (0..4096).filter(|_| rng.gen_ratio(1, 8)).collect::<Vec<_>>();
        for (t, target, bus, dense_map) in [
            (ConversationType::Group, "sparse", None, false),
            (ConversationType::Group, "dense", None, true),
            (ConversationType::UltraGroup, "ug", None, false),
            (ConversationType::UltraGroup, "ug", Some("sparse"), false),
            (ConversationType::UltraGroup, "ug", Some("dense"), true),
        ] {
            let handles = if dense_map {
                dense(&mut world.rng)
            } else {
                sparse(&mut world.rng)
            };
            world.levels(t, target, bus, &handles);
        }
        // Private conversations: users who set a level for a sender.
        for _ in 0..50 {
            let (h, sender) = (world.rng.gen_range(0..USERS), world.rng.gen_range(0..20));
            let target = world.ids[sender].clone();
            world.levels(ConversationType::Private, &target, None, &[h]);
        }
        for (bus, level) in [(None, Level::Mentions), (Some("dense"), Level::Nothing)] {
            let request = Request::SetUltraGroupDefault {
                group_id: TargetId::new("ug").unwrap(),
                bus_channel: bus.map(|b| BusChannel::new(b).unwrap()),
                level: Some(level),
            };
            world.apply(usize::MAX, request);
        }
        world
    }

    /// Applies `request` (by user `h`, or by an admin when `h` is
    /// `usize::MAX`) to the engine and the oracle.
    fn apply(&mut self, h: usize, request: Request) {
        assert_eq!(self.settings.apply(&request).code(), 200, "{request:?}");
        self.naive.apply(&request);
        if h != usize::MAX {
            self.setters.push(h);
        }
    }

    /// Levels (0 now and then: removed) for `handles` on one conversation.
    fn levels(&mut self, t: ConversationType, target: &str, bus: Option<&str>, handles: &[usize]) {
        let key = ConversationKey::new(
            t,
            TargetId::new(target).unwrap(),
            bus.map(|b| BusChannel::new(b).unwrap()),
        )
        .unwrap();
        for &h in handles {
            let level = (!self.rng.gen_ratio(1, 10)).then(|| *LEVELS.choose(&mut self.rng).unwrap());
            self.set(h, &key, level);
        }
    }

    fn set(&mut self, h: usize, key: &ConversationKey, level: Option<Level>) {
        let request = Request::SetConversationLevel {
            user_id: user(&self.ids[h]),
            conversation: key.clone(),
            level,
        };
        self.apply(h, request);
    }

    /// A fanout: every user who set something, a thousand others, some twice,
    /// and some the settings have never seen; shuffled.
    fn recipients(&mut self) -> Vec<String> {
        let mut r: Vec<String> = self.setters.iter().map(|&h| self.ids[h].clone()).collect();
        for _ in 0..1000 {
            let h = self.rng.gen_range(0..USERS);
            r.push(self.ids[h].clone());
        }
        for k in 0..50 {
            r.push(format!("ghost-{k}"));
        }
        r.shuffle(&mut self.rng);
        r
    }

    /// Decides one message for a large fanout in every way the engine
    /// offers, and checks each answer against the oracle.
    fn check(&mut self, conversation: Conversation<'_>) {
        let recipients = self.recipients();
        let sender = if self.rng.gen_ratio(1, 5) {
            "ghost-sender".to_owned()
        } else {
            recipients.choose(&mut self.rng).unwrap().clone()
        };
        let mentioned: Vec<String> = (0..self.rng.gen_range(0..12))
            .map(|k| match k % 3 {
                0 => format!("ghost-{k}"),
                _ => recipients.choose(&mut self.rng).unwrap().clone(),
            })
            .collect();
        let mentioned: Vec<&str> = mentioned.iter().map(String::as_str).collect();
        let ms = self.rng.gen_range(1_577_836_800_000i64..1_893_456_000_000);
        let mut message = Message::new(conversation, &sender, Timestamp::from_millis(ms).unwrap()).with_mentions(
            match self.rng.gen_range(0..3) {
                0 => Mentions::None,
                1 => Mentions::All,
                _ => Mentions::Users(&mentioned),
            },
        );
        if self.rng.gen_ratio(1, 20) {
            message = message.with_push_disabled();
        }

        let p = self.settings.prepare(&message);
        let single: Vec<_> = recipients.iter().map(|r| p.decide_id(r)).collect();
        for (r, d) in recipients.iter().zip(&single) {
            assert_eq!(
                as_naive(*d),
                self.naive.decide(&message, r),
                "recipient {r}, message {message:?}"
            );
        }
        let mut out = Vec::new();
        p.decide_ids_into(&recipients, &mut out);
        same(&out, &single, &recipients, "decide_ids_into", &message);
        let (handles, known): (Vec<UserHandle>, Vec<_>) = recipients
            .iter()
            .zip(&single)
            .filter_map(|(r, d)| self.settings.user(r).map(|h| (h, *d)))
            .unzip();
        assert!(handles.len() > 10 * 64, "the batches run in many chunks");
        p.decide_into(&handles, &mut out).unwrap();
        assert_eq!(out, known, "decide_into, message {message:?}");
        let mut bits = Vec::new();
        p.push_bits_into(&handles, &mut bits).unwrap();
        for (k, d) in known.iter().enumerate() {
            assert_eq!(
                bits[k / 64] >> (k % 64) & 1 == 1,
                d.push(),
                "push_bits_into, message {message:?}"
            );
        }
        assert_eq!(
            p.decisions(&handles).unwrap().collect::<Vec<_>>(),
            known,
            "decisions(), {message:?}"
        );
        let by_handle: Vec<_> = handles.iter().map(|&h| p.decide(h).unwrap()).collect();
        assert_eq!(by_handle, known, "decide, message {message:?}");
    }

    /// One message in each kind of conversation the world has.
    fn check_all(&mut self) {
        let private_sender = self.ids[self.rng.gen_range(0..20)].clone();
        for conversation in [
            Conversation::Group { group_id: "sparse" },
            Conversation::Group { group_id: "dense" },
            Conversation::Group { group_id: "crossing" },
            Conversation::UltraGroup {
                group_id: "ug",
                bus_channel: None,
            },
            Conversation::UltraGroup {
                group_id: "ug",
                bus_channel: Some("sparse"),
            },
            Conversation::UltraGroup {
                group_id: "ug",
                bus_channel: Some("dense"),
            },
            Conversation::UltraGroup {
                group_id: "ug",
                bus_channel: Some("nobody"),
            },
            Conversation::System,
        ] {
            self.check(conversation);
        }
        // A private message from one of the senders some users set a level for.
        let p = self.settings.prepare(&Message::new(
            Conversation::Private,
            &private_sender,
            Timestamp::from_millis(1_764_000_000_000).unwrap(),
        ));
        for h in 0..USERS {
            let id = &self.ids[h];
            let want = self.naive.decide(p.message(), id);
            assert_eq!(
                as_naive(p.decide_id(id)),
                want,
                "private message from {private_sender} to {id}"
            );
        }
    }
}

/// `got` (from `how`) equals `want`, decision by decision; a failure names
/// the first recipient that differs rather than printing the whole fanout.
fn same(got: &[Decision], want: &[Decision], recipients: &[String], how: &str, message: &Message<'_>) {
    assert_eq!(got.len(), want.len(), "{how}: how many decisions");
    if let Some(i) = (0..got.len()).find(|&i| got[i] != want[i]) {
        panic!(
            "{how}: recipient #{i} {:?} got {:?}, decide_id says {:?}; message {message:?}",
            recipients[i], got[i], want[i]
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(3), ..ProptestConfig::default() })]

    /// On a large, sparse world, every way of deciding agrees with the rules
    /// read straight down, for every recipient, known or not; and keeps
    /// agreeing while a conversation's map goes from sparse to dense (its
    /// bitmap built) and back (dropped).
    #[test]
    fn sparse_world_matches_the_oracle(seed in any::<u64>()) {
        let mut world = World::new(seed);
        world.check_all();

        let key = ConversationKey::new(ConversationType::Group, TargetId::new("crossing").unwrap(), None).unwrap();
        // Sparse: 20 users over the whole span of handles.
        let mut members: Vec<usize> = (0..20).map(|_| world.rng.gen_range(0..USERS)).collect();
        members.push(USERS - 1);
        for &h in &members {
            let level = *LEVELS.choose(&mut world.rng).unwrap();
            world.set(h, &key, Some(level));
        }
        world.check(Conversation::Group { group_id: "crossing" });
        // Dense: enough users that entries * 128 >= the span (30,000).
        let mut distinct: std::collections::HashSet<usize> = members.iter().copied().collect();
        while distinct.len() * DENSITY < USERS {
            let h = world.rng.gen_range(0..USERS);
            let level = *LEVELS.choose(&mut world.rng).unwrap();
            world.set(h, &key, Some(level));
            distinct.insert(h);
        }
        world.check_all();
        // Sparse again: below half the density, removed by level 0.
        let mut members: Vec<usize> = distinct.into_iter().collect();
        members.sort_unstable();
        members.shuffle(&mut world.rng);
        let keep = USERS / DENSITY / 4;
        for &h in &members[keep..] {
            world.set(h, &key, None);
        }
        world.check_all();
    }
}

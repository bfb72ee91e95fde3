//! A world users would have: every user a member of one ultra group, "town";
//! 4.5% of them set a level on the group, 0.9% on its subchannel "square",
//! 6% on the ultra-group conversation type, 10% have a daily period (nine in
//! ten in the data center's zone, the rest in five others). One message in
//! the subchannel, to all of them, from one of them, with no mentions.
//!
//! Beside it, the same members in a world where nobody customised anything:
//! the reference for what customising costs.

use chrono_tz::Tz;
use dnd_engine::{
    BusChannel, Config, Conversation, ConversationKey, ConversationType, DndPeriod, DndWindow, Message, PeriodLevel,
    Request, Settings, TargetId, TimeOfDay, Timestamp, UserHandle, UserId,
};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::{level, naive, DATA_CENTER, OTHER_ZONES};

/// One of the two worlds, its members in order and shuffled.
pub struct Real {
    pub settings: Settings,
    pub naive: naive::Naive,
    pub ids: Vec<String>,
    pub handles: Vec<UserHandle>,
    pub shuffled_ids: Vec<String>,
    pub shuffled_handles: Vec<UserHandle>,
    pub at: Timestamp,
}

impl Real {
    /// `users` members; with `customised`, the mix above, else nothing set.
    pub fn generate(users: usize, customised: bool) -> Real {
        let mut rng = SmallRng::seed_from_u64(0x7e41);
        let mut settings = Settings::new(Config::new(DATA_CENTER));
        let mut naive = naive::Naive::new(DATA_CENTER, &[]);
        let ids: Vec<String> = (0..users).map(|i| format!("m{i:08}")).collect();
        // The shuffled list next to the ordered one in memory, as a request's
        // ids would be, not in the holes the settings' building leaves.
        let mut order: Vec<usize> = (0..users).collect();
        order.shuffle(&mut SmallRng::seed_from_u64(0x5bff));
        let shuffled_ids = order.iter().map(|&i| ids[i].clone()).collect();
        let town = TargetId::new("town").unwrap();
        let square = BusChannel::new("square").unwrap();
        let group = ConversationKey::new(ConversationType::UltraGroup, town.clone(), None).unwrap();
        let sub = ConversationKey::new(ConversationType::UltraGroup, town, Some(square)).unwrap();
        let mut handles = Vec::with_capacity(users);
        let mut requests = Vec::new();
        for id in &ids {
            let user_id = UserId::new(id).unwrap();
            handles.push(settings.intern_user(&user_id).unwrap());
            if !customised {
                continue;
            }
            if rng.gen_bool(0.045) {
                requests.push(Request::SetConversationLevel {
                    user_id: user_id.clone(),
                    conversation: group.clone(),
                    level: Some(level(&mut rng)),
                });
            }
            if rng.gen_bool(0.009) {
                requests.push(Request::SetConversationLevel {
                    user_id: user_id.clone(),
                    conversation: sub.clone(),
                    level: Some(level(&mut rng)),
                });
            }
            if rng.gen_bool(0.06) {
                requests.push(Request::SetTypeLevel {
                    user_id: user_id.clone(),
                    conversation_type: ConversationType::UltraGroup,
                    level: Some(level(&mut rng)),
                });
            }
            if rng.gen_bool(0.10) {
                let zone: Option<Tz> = rng.gen_bool(0.1).then(|| OTHER_ZONES[rng.gen_range(0..5)]);
                requests.push(Request::SetPeriod {
                    user_id: user_id.clone(),
                    period: DndPeriod {
                        window: DndWindow::new(
                            TimeOfDay::from_seconds(rng.gen_range(0..86_400)).unwrap(),
                            rng.gen_range(1..=1439),
                        )
                        .unwrap(),
                        level: if rng.gen_bool(0.5) {
                            PeriodLevel::Mentions
                        } else {
                            PeriodLevel::Nothing
                        },
                        zone,
                    },
                });
            }
            // Apply as we go: the requests of a 4M world would hold a lot.
            for r in requests.drain(..) {
                assert_eq!(settings.apply(&r).code(), 200);
                naive.apply(&r);
            }
        }
        Real {
            shuffled_ids,
            shuffled_handles: order.iter().map(|&i| handles[i]).collect(),
            settings,
            naive,
            ids,
            handles,
            at: "2026-11-22T23:30:00+08:00".parse().unwrap(),
        }
    }

    /// The message: in the subchannel, from the member in the middle.
    pub fn message(&self) -> Message<'_> {
        Message::new(
            Conversation::UltraGroup {
                group_id: "town",
                bus_channel: Some("square"),
            },
            &self.ids[self.ids.len() / 2],
            self.at,
        )
    }
}

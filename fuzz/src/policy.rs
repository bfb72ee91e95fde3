//! Generation for the policy extensions (docs/rules.md §10):
//! VIP lists and urgent consent as typed requests and form bodies, the
//! mention policy of a configuration, and the policy fields of a message.
//! Everything valid here is valid by the rules.

use dnd_engine::{Config, Request, UserId, VipList, VipScope};
use rand::rngs::SmallRng;
use rand::Rng;
use serde_json::Value;

use crate::gen::World;

/// A VIP list of distinct ids: mostly the world's users (so that their
/// messages meet it), now and then a stranger, empty (which removes a
/// list) or of the most ids a list may hold.
pub fn vip_list(rng: &mut SmallRng, w: &World) -> VipList {
    let n = match rng.gen_range(0..12) {
        0 => 0,
        1 => VipList::MAX,
        _ => rng.gen_range(1..=4),
    };
    let mut ids: Vec<String> = Vec::new();
    while ids.len() < n {
        let id = if ids.len() < w.users.len() && rng.gen_ratio(4, 5) {
            w.someone(rng)
        } else {
            format!("vip{}", rng.gen_range(0..200))
        };
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let scope = if rng.gen() { VipScope::Quiet } else { VipScope::All };
    VipList::new(ids.iter().map(|id| UserId::new(id).unwrap()).collect(), scope).expect("distinct, at most 100")
}

/// One of the four policy requests, valid, about the world's ids.
pub fn request(rng: &mut SmallRng, w: &World) -> Request {
    let user_id = UserId::new(&w.someone(rng)).unwrap();
    match rng.gen_range(0..6) {
        0 | 1 => Request::SetVip {
            user_id,
            vip: vip_list(rng, w),
        },
        2 => Request::GetVip { user_id },
        3 | 4 => Request::SetUrgent {
            user_id,
            allow: rng.gen_ratio(2, 3),
        },
        _ => Request::GetUrgent { user_id },
    }
}

/// The path and form parameters of a policy request (one of the ways a
/// client may send it); `None` for any other request.
pub fn form_of(rng: &mut SmallRng, request: &Request) -> Option<(&'static str, Vec<(&'static str, String)>)> {
    Some(match request {
        Request::SetVip { user_id, vip } => {
            let ids: Vec<&str> = vip.user_ids().iter().map(UserId::as_str).collect();
            let text = if rng.gen() {
                serde_json::to_string(&ids).unwrap()
            } else {
                serde_json::to_string_pretty(&ids).unwrap()
            };
            let mut p = vec![("userId", user_id.to_string()), ("vipUserIds", text)];
            match vip.scope() {
                VipScope::Quiet if rng.gen() => {}
                VipScope::Quiet => p.push(("scope", "quiet".into())),
                _ => p.push(("scope", "all".into())),
            }
            ("/user/vip/set.json", p)
        }
        Request::GetVip { user_id } => ("/user/vip/get.json", vec![("userId", user_id.to_string())]),
        Request::SetUrgent { user_id, allow } => {
            let mut p = vec![("userId", user_id.to_string())];
            match allow {
                true => p.push(("allow", "1".into())),
                false if rng.gen() => p.push(("allow", "0".into())),
                false => {}
            }
            ("/user/urgent/set.json", p)
        }
        Request::GetUrgent { user_id } => ("/user/urgent/get.json", vec![("userId", user_id.to_string())]),
        _ => return None,
    })
}

/// `config` with a mention policy, now and then: private chats as mentions,
/// a most members for @all (small, so that messages fall on both sides).
pub fn mention_policy(rng: &mut SmallRng, mut config: Config) -> Config {
    if rng.gen_ratio(1, 3) {
        config = config.with_private_as_mention();
    }
    if rng.gen_ratio(1, 3) {
        let max = match rng.gen_range(0..8) {
            0 => 0,
            1 => u32::MAX,
            _ => rng.gen_range(1..=30),
        };
        config = config.with_mention_all_max_members(max);
    }
    config
}

/// The policy fields of one message.
#[derive(Clone, Copy, Debug)]
pub struct MessagePolicy {
    /// Whether the sender marked it urgent, so that it may break through
    /// for recipients who consented.
    pub urgent: bool,
    /// How many members the conversation has, when the push says so (an
    /// @all counts only up to the configured maximum).
    pub member_count: Option<u32>,
    /// Whether the sender may mention @all; when not, an @all counts as
    /// no mention.
    pub mention_all_allowed: bool,
}

/// Draws a message's policy fields: urgent one time in four, a member
/// count (now and then 0 or `u32::MAX`) one time in two, @all disallowed
/// one time in five.
pub fn message_policy(rng: &mut SmallRng) -> MessagePolicy {
    MessagePolicy {
        urgent: rng.gen_ratio(1, 4),
        member_count: rng.gen_ratio(1, 2).then(|| match rng.gen_range(0..10) {
            0 => 0,
            1 => u32::MAX,
            _ => rng.gen_range(1..=40),
        }),
        mention_all_allowed: !rng.gen_ratio(1, 5),
    }
}

impl MessagePolicy {
    /// Whether any field differs from a message without them.
    pub fn is_set(self) -> bool {
        self.urgent || self.member_count.is_some() || !self.mention_all_allowed
    }

    /// Writes the fields onto a push object: those that are set, and now
    /// and then one at its default.
    pub fn write(self, rng: &mut SmallRng, push: &mut Value) {
        if self.urgent || rng.gen_ratio(1, 4) {
            push["urgent"] = Value::Bool(self.urgent);
        }
        if let Some(n) = self.member_count {
            push["memberCount"] = n.into();
        }
        if !self.mention_all_allowed || rng.gen_ratio(1, 4) {
            push["mentionAllAllowed"] = Value::Bool(self.mention_all_allowed);
        }
    }
}

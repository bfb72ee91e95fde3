//! What users store of issue 11's policy: VIP lists and consent to urgent
//! messages.
//!
//! They live apart from the 16-byte user records, so that a world where
//! nobody uses them, and a message that concerns nobody who does, pays
//! nothing per recipient. Each list is kept twice: as set (the recipient's
//! senders, in order, for the get and the snapshot), and inverted, by
//! sender (`fans`), which is what a message reads: one lookup of its sender
//! when it is prepared, then, only when somebody lists that sender, one
//! probe per recipient. Like the per-user extras, they are keyed by handle
//! number (`UserHandle::number`), never by the handle: a clone or a restore
//! numbers users the same way but issues handles of its own.

use std::hash::BuildHasherDefault;

use hashbrown::{HashMap, HashSet};

use super::Settings;
use crate::interner::UserHandle;
use crate::level_map::HandleHasher;
use crate::model::UserId;
use crate::policy::{VipList, VipScope};
use crate::Error;

type ByNumber<V> = HashMap<u32, V, BuildHasherDefault<HandleHasher>>;

/// The users who list one sender, with the scope of their lists.
pub(crate) type Fans = ByNumber<VipScope>;

/// VIP lists and urgent consent, by handle number.
#[derive(Clone, Debug, Default)]
pub(crate) struct Policies {
    /// Each user's VIP list as set: the senders in order, and the scope.
    lists: ByNumber<(Box<[u32]>, VipScope)>,
    /// For each sender, the users whose lists name them.
    fans: ByNumber<Fans>,
    /// The users who allow urgent messages.
    urgent: HashSet<u32, BuildHasherDefault<HandleHasher>>,
}

impl Policies {
    /// The users who list `sender`, if anyone does.
    #[inline]
    pub(crate) fn fans_of(&self, sender: UserHandle) -> Option<&Fans> {
        self.fans.get(&sender.number())
    }

    /// The users who list the sender with id `sender` (found with `user`), if
    /// anyone does; without a VIP list anywhere, the id is not looked up.
    #[inline]
    pub(crate) fn fans_of_id(&self, sender: &str, user: impl FnOnce(&str) -> Option<UserHandle>) -> Option<&Fans> {
        if self.fans.is_empty() {
            return None;
        }
        self.fans_of(user(sender)?)
    }

    /// Whether anyone allows urgent messages.
    #[inline]
    pub(crate) fn anyone_allows_urgent(&self) -> bool {
        !self.urgent.is_empty()
    }

    /// Whether handle `h` allows urgent messages.
    #[inline]
    pub(crate) fn allows_urgent(&self, h: UserHandle) -> bool {
        self.urgent.contains(&h.number())
    }

    /// Replaces `user`'s list (an empty `senders` removes it).
    fn set_list(&mut self, user: u32, senders: Box<[u32]>, scope: VipScope) {
        if let Some((old, _)) = self.lists.remove(&user) {
            for sender in old.iter() {
                if let Some(fans) = self.fans.get_mut(sender) {
                    fans.remove(&user);
                    if fans.is_empty() {
                        self.fans.remove(sender);
                    }
                }
            }
        }
        if senders.is_empty() {
            return;
        }
        for &sender in senders.iter() {
            self.fans.entry(sender).or_default().insert(user, scope);
        }
        self.lists.insert(user, (senders, scope));
    }

    /// Bytes of heap held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.lists.allocation_size()
            + self.lists.values().map(|(s, _)| s.len() * 4).sum::<usize>()
            + self.fans.allocation_size()
            + self.fans.values().map(HashMap::allocation_size).sum::<usize>()
            + self.urgent.allocation_size()
    }
}

impl Settings {
    /// Sets user `user`'s VIP list, replacing any other; an empty list
    /// removes it. The listed users are numbered (which changes no decision).
    pub fn set_vip_list(&mut self, user: &UserId, list: &VipList) -> Result<(), Error> {
        if list.is_empty() {
            if let Some(h) = self.user(user.as_str()) {
                self.policies.set_list(h.number(), Box::default(), list.scope());
            }
            return Ok(());
        }
        let h = self.intern_user(user)?;
        let senders = list
            .user_ids()
            .iter()
            .map(|id| self.intern_user(id).map(UserHandle::number))
            .collect::<Result<Box<[_]>, Error>>()?;
        self.policies.set_list(h.number(), senders, list.scope());
        Ok(())
    }

    /// User `user`'s VIP list, if they have one.
    pub fn vip_list(&self, user: &str) -> Option<VipList> {
        let (senders, scope) = self.policies.lists.get(&self.user(user)?.number())?;
        let ids = senders
            .iter()
            .filter_map(|&n| UserId::new(self.user_id_at(n as usize)?).ok())
            .collect();
        VipList::new(ids, *scope).ok()
    }

    /// Sets whether user `user` allows urgent messages to push through
    /// their settings.
    pub fn set_urgent_allowed(&mut self, user: &UserId, allow: bool) -> Result<(), Error> {
        if allow {
            let h = self.intern_user(user)?;
            self.policies.urgent.insert(h.number());
        } else if let Some(h) = self.user(user.as_str()) {
            self.policies.urgent.remove(&h.number());
        }
        Ok(())
    }

    /// Whether user `user` allows urgent messages.
    pub fn urgent_allowed(&self, user: &str) -> bool {
        self.user(user).is_some_and(|h| self.policies.allows_urgent(h))
    }
}

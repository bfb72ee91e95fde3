//! What users store of the break-through policy: VIP lists and consent to urgent
//! messages.
//!
//! They live apart from the 8-byte user records, so that a world where
//! nobody uses them, and a message that concerns nobody who does, pays
//! nothing per recipient. Each list is kept twice: as set (the recipient's
//! senders, in order, for the get and the snapshot), and inverted, by
//! sender (`fans`), which is what a message reads: one lookup of its sender
//! when it is prepared, then, only when somebody lists that sender, one
//! probe per recipient. Like the per-user extras, they are keyed by handle
//! number (`UserHandle::number`), never by the handle: a clone or a restore
//! numbers users the same way but issues handles of its own.
//!
//! Two presence bitmaps by handle number, kept on every write: the users
//! who have a VIP list (of anyone), beside the maps, and the users who allow
//! urgent messages, which is the only record of that consent. A message that
//! concerns the policy (its sender is somebody's VIP, or it is urgent and
//! somebody allows that) reads one bit of them per recipient in the
//! fanout's table path, and only the recipients whose bit is set leave it
//! for the general path (which then probes the sender's fans). A bitmap
//! spans up to the highest number that has its bit set: at most one bit per
//! numbered user each (a quarter of a byte a user for both, against the
//! 8-byte record), and nothing while nobody uses the feature. A bitmap per
//! sender would be exact, but costs a bit per user for every sender somebody
//! lists; one "has a list" bitmap sends the users who list other senders to
//! the general path too, where the probe of the fans says no.

use std::hash::BuildHasherDefault;

use hashbrown::HashMap;

use super::Settings;
use crate::error::Error;
use crate::model::policy::{VipList, VipScope};
use crate::model::UserId;
use crate::store::interner::UserHandle;
use crate::store::level_map::HandleHasher;

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
    /// Bit `n` is set exactly when user `n` has a VIP list (`lists` holds `n`).
    listers: Bits,
    /// Bit `n` is set exactly when user `n` allows urgent messages: the one
    /// record of urgent consent.
    consenting: Bits,
}

/// A presence bitmap by handle number: bit `n % 64` of word `n / 64`, no
/// word past the last one with a bit set.
#[derive(Clone, Debug, Default)]
pub(crate) struct Bits(pub(crate) Vec<u64>);

impl Bits {
    pub(crate) fn set(&mut self, n: u32) {
        let (word, bit) = (n as usize / 64, n % 64);
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << bit;
    }

    #[inline]
    pub(crate) fn contains(&self, n: u32) -> bool {
        self.0.get(n as usize / 64).is_some_and(|w| w >> (n % 64) & 1 == 1)
    }

    pub(crate) fn clear(&mut self, n: u32) {
        if let Some(word) = self.0.get_mut(n as usize / 64) {
            *word &= !(1 << (n % 64));
        }
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
        if self.0.is_empty() {
            self.0 = Vec::new();
        }
    }
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
        !self.consenting.0.is_empty()
    }

    /// Whether handle `h` allows urgent messages.
    #[inline]
    pub(crate) fn allows_urgent(&self, h: UserHandle) -> bool {
        self.consenting.contains(h.number())
    }

    /// The presence bitmap of the users who have a VIP list: bit `n % 64` of
    /// word `n / 64` is set exactly when user `n` has one (a number past the
    /// end has none).
    #[inline]
    pub(crate) fn listers(&self) -> &[u64] {
        &self.listers.0
    }

    /// The presence bitmap of the users who allow urgent messages, as
    /// [`listers`](Self::listers).
    #[inline]
    pub(crate) fn consenting(&self) -> &[u64] {
        &self.consenting.0
    }

    /// Records whether user `user` allows urgent messages.
    fn set_urgent(&mut self, user: u32, allow: bool) {
        if allow {
            self.consenting.set(user);
        } else {
            self.consenting.clear(user);
        }
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
            self.listers.clear(user);
            return;
        }
        for &sender in senders.iter() {
            self.fans.entry(sender).or_default().insert(user, scope);
        }
        self.lists.insert(user, (senders, scope));
        self.listers.set(user);
    }

    /// Bytes of heap held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.lists.allocation_size()
            + self.lists.values().map(|(s, _)| s.len() * 4).sum::<usize>()
            + self.fans.allocation_size()
            + self.fans.values().map(HashMap::allocation_size).sum::<usize>()
            + (self.listers.0.capacity() + self.consenting.0.capacity()) * 8
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
            self.policies.set_urgent(h.number(), true);
        } else if let Some(h) = self.user(user.as_str()) {
            self.policies.set_urgent(h.number(), false);
        }
        Ok(())
    }

    /// Whether user `user` allows urgent messages.
    pub fn urgent_allowed(&self, user: &str) -> bool {
        self.user(user).is_some_and(|h| self.policies.allows_urgent(h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit `n` of `bits` (false past the end).
    fn bit(bits: &[u64], n: u32) -> bool {
        bits.get(n as usize / 64).is_some_and(|w| w >> (n % 64) & 1 == 1)
    }

    /// Through lists set, replaced and removed and consent given and taken
    /// back, in any order, each bitmap holds exactly the users who have a
    /// list (who allow urgent messages), and no word past its last set bit.
    #[test]
    fn the_presence_bitmaps_follow_the_maps() {
        let mut p = Policies::default();
        let mut urgent = std::collections::HashSet::new();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n) as u32
        };
        for step in 0..20_000 {
            // Numbers crowd at the bottom now and then, so that words empty.
            let user = if step % 3 == 0 { next(200) } else { next(5_000) };
            match next(4) {
                0 => p.set_list(user, Box::new([next(50), 7]), VipScope::Quiet),
                1 => p.set_list(user, Box::default(), VipScope::All),
                2 => {
                    p.set_urgent(user, true);
                    urgent.insert(user);
                }
                _ => {
                    p.set_urgent(user, false);
                    urgent.remove(&user);
                }
            }
            if step % 1000 == 999 {
                for n in 0..5_100 {
                    assert_eq!(bit(p.listers(), n), p.lists.contains_key(&n), "list of {n}");
                    assert_eq!(bit(p.consenting(), n), urgent.contains(&n), "consent of {n}");
                }
                assert_ne!(p.listers().last(), Some(&0));
                assert_ne!(p.consenting().last(), Some(&0));
            }
        }
        for n in 0..5_000 {
            p.set_list(n, Box::default(), VipScope::Quiet);
            p.set_urgent(n, false);
        }
        assert!(p.listers().is_empty() && p.consenting().is_empty());
        assert_eq!(
            p.listers.0.capacity() + p.consenting.0.capacity(),
            0,
            "emptied bitmaps are freed"
        );
    }
}

//! Muted senders as stored: each user's mute as set (for the get and the
//! snapshot), inverted by sender (so that `prepare` finds who mutes a
//! message's sender with one lookup), and a presence bitmap of the users
//! who mute anybody, which the fanout reads only for a message whose sender
//! somebody mutes.

use chrono::{DateTime, Utc};
use hashbrown::HashMap;

use super::level_map::HandleHasher;
use super::policy_store::Bits;
use super::{Settings, UserHandle};
use crate::error::Error;
use crate::model::muted::MutedSenders;
use crate::model::UserId;

type ByNumber<V> = HashMap<u32, V, std::hash::BuildHasherDefault<HandleHasher>>;

/// The users who mute one sender, each with the end of their mute.
pub(crate) type Muters = ByNumber<Option<DateTime<Utc>>>;

/// One user's mute as stored: the senders (numbers) and the end.
type Mute = (Box<[u32]>, Option<DateTime<Utc>>);

/// Every user's muted senders.
#[derive(Clone, Debug, Default)]
pub(crate) struct Mutes {
    /// By muting user: the senders (numbers) and the end.
    lists: ByNumber<Mute>,
    /// By sender: who mutes them, until when.
    by_sender: ByNumber<Muters>,
    /// The users who mute anybody.
    muters: Bits,
}

impl Mutes {
    fn set(&mut self, user: u32, senders: Box<[u32]>, until: Option<DateTime<Utc>>) {
        if let Some((old, _)) = self.lists.remove(&user) {
            for sender in old.iter() {
                if let Some(muters) = self.by_sender.get_mut(sender) {
                    muters.remove(&user);
                    if muters.is_empty() {
                        self.by_sender.remove(sender);
                    }
                }
            }
        }
        if senders.is_empty() {
            self.muters.clear(user);
            return;
        }
        for &sender in senders.iter() {
            self.by_sender.entry(sender).or_default().insert(user, until);
        }
        self.lists.insert(user, (senders, until));
        self.muters.set(user);
    }

    /// Who mutes the sender with id `sender` (found with `user`), if anyone
    /// does; with no mute anywhere, the id is not looked up.
    #[inline]
    pub(crate) fn muters_of_id(&self, sender: &str, user: impl FnOnce(&str) -> Option<UserHandle>) -> Option<&Muters> {
        if self.by_sender.is_empty() {
            return None;
        }
        self.by_sender.get(&user(sender)?.number())
    }

    /// The presence bitmap of the users who mute anybody.
    pub(crate) fn muters(&self) -> &[u64] {
        &self.muters.0
    }
}

impl Settings {
    /// Replaces the muted senders of user `user` (an empty list clears
    /// them). The senders are numbered, as a VIP list's are.
    pub fn set_muted_senders(&mut self, user: &UserId, muted: &MutedSenders) -> Result<(), Error> {
        if muted.is_empty() {
            if let Some(h) = self.user(user.as_str()) {
                self.mutes.set(h.number(), Box::new([]), None);
            }
            return Ok(());
        }
        let h = self.intern_user(user)?;
        let senders = muted
            .sender_ids()
            .iter()
            .map(|id| self.intern_user(id).map(UserHandle::number))
            .collect::<Result<Box<[_]>, Error>>()?;
        self.mutes.set(h.number(), senders, muted.until());
        Ok(())
    }

    /// The muted senders of user `user` (empty when none).
    pub fn muted_senders(&self, user: &str) -> MutedSenders {
        let Some((senders, until)) = self.user(user).and_then(|h| self.mutes.lists.get(&h.number())) else {
            return MutedSenders::default();
        };
        let ids = senders
            .iter()
            .filter_map(|&n| UserId::new(self.user_id_at(n as usize)?).ok())
            .collect();
        MutedSenders::new(ids, *until).unwrap_or_default()
    }
}

//! The users' repeated-sender settings (`/user/repeat/set.json`), by handle
//! number; a user who set none (or set the default back) has no entry.

use crate::error::Error;
use crate::hold::Repeat;
use crate::model::UserId;
use crate::store::{Settings, UserHandle};

/// The repeated-sender settings that differ from the default.
#[derive(Clone, Debug, Default)]
pub(crate) struct RepeatSettings {
    by_number: hashbrown::HashMap<u32, Repeat>,
    /// How many allow repeated senders: none, and a message looks nothing up.
    allowing: usize,
}

impl RepeatSettings {
    /// Whether nobody allows repeated senders.
    pub(crate) fn is_empty(&self) -> bool {
        self.allowing == 0
    }

    pub(crate) fn get(&self, h: UserHandle) -> Repeat {
        self.by_number.get(&h.number()).copied().unwrap_or_default()
    }

    fn set(&mut self, number: u32, repeat: Repeat) {
        let old = if repeat == Repeat::DEFAULT {
            self.by_number.remove(&number)
        } else {
            self.by_number.insert(number, repeat)
        };
        self.allowing -= usize::from(old.is_some_and(|r| r.allow));
        self.allowing += usize::from(repeat.allow);
    }
}

impl Settings {
    /// Sets user `user`'s repeated-sender setting (both parts at once).
    pub fn set_repeat(&mut self, user: &UserId, repeat: Repeat) -> Result<(), Error> {
        if repeat == Repeat::DEFAULT && self.user(user.as_str()).is_none() {
            return Ok(());
        }
        let h = self.intern_user(user)?;
        self.repeat.set(h.number(), repeat);
        Ok(())
    }

    /// User `user`'s repeated-sender setting ([`Repeat::DEFAULT`] when none is set).
    pub fn repeat(&self, user: &str) -> Repeat {
        self.user(user).map_or(Repeat::DEFAULT, |h| self.repeat.get(h))
    }
}

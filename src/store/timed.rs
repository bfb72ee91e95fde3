//! The settings that carry time: temporary levels on the three set paths,
//! the snooze, the weekly schedule, and dropping what has expired.

use chrono::{DateTime, Utc};

use super::{Settings, UserExtras};
use crate::error::Error;
use crate::model::expiring::{Expiring, Snooze, Temporary};
use crate::model::schedule::WeeklySchedule;
use crate::model::{BusChannel, ConversationKey, ConversationType, Level, TargetId, UserId};

impl Settings {
    /// Sets user `user`'s level for a conversation type to `level` (`None`:
    /// "not set") for messages before `until`; from `until` on, the
    /// permanent level applies again. Replaces any other temporary level there.
    pub fn set_type_level_until(
        &mut self,
        user: &UserId,
        conversation_type: ConversationType,
        level: Option<Level>,
        until: DateTime<Utc>,
    ) -> Result<(), Error> {
        let h = self.intern_user(user)?;
        self.edit_extras(h, |e| {
            e.type_temps[conversation_type.index()] = Some(Temporary { level, until });
        });
        Ok(())
    }

    /// User `user`'s level for a conversation type, permanent and temporary.
    pub fn type_setting(&self, user: &str, conversation_type: ConversationType) -> Expiring {
        let Some(h) = self.user(user) else {
            return Expiring::NONE;
        };
        Expiring {
            permanent: self.record(h).type_level(conversation_type.index()),
            temporary: self
                .extras
                .get(&h.number())
                .and_then(|e| e.type_temps[conversation_type.index()]),
        }
    }

    /// Sets user `user`'s level for a conversation or subchannel to `level`
    /// for messages before `until`, as [`Settings::set_type_level_until`].
    pub fn set_conversation_level_until(
        &mut self,
        user: &UserId,
        key: &ConversationKey,
        level: Option<Level>,
        until: DateTime<Utc>,
    ) -> Result<(), Error> {
        let h = self.intern_user(user)?;
        self.edit_extras(h, |e| {
            let temp = Temporary { level, until };
            match e.conversation_temps.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1 = temp,
                None => e.conversation_temps.push((key.clone(), temp)),
            }
        });
        Ok(())
    }

    /// User `user`'s level for a conversation or subchannel, permanent and temporary.
    pub fn conversation_setting(&self, user: &str, key: &ConversationKey) -> Expiring {
        let Some(h) = self.user(user) else {
            return Expiring::NONE;
        };
        Expiring {
            permanent: self.conversation_level(user, key),
            temporary: self.extras.get(&h.number()).and_then(|e| {
                e.conversation_temp(
                    key.conversation_type(),
                    key.target_id().as_str(),
                    key.bus_channel().map(BusChannel::as_str),
                )
            }),
        }
    }

    /// Sets the admin's default for an ultra group or subchannel to `level`
    /// for messages before `until`, as [`Settings::set_type_level_until`].
    pub fn set_ultra_group_default_until(
        &mut self,
        group: &TargetId,
        bus_channel: Option<&BusChannel>,
        level: Option<Level>,
        until: DateTime<Utc>,
    ) {
        self.edit_entry(ConversationType::UltraGroup, group, bus_channel, |_, default| {
            default.temporary = Some(Temporary { level, until });
        });
    }

    /// The admin's default for an ultra group or subchannel, permanent and temporary.
    pub fn ultra_group_setting(&self, group: &str, bus_channel: Option<&str>) -> Expiring {
        self.entry(ConversationType::UltraGroup, group, bus_channel)
            .map_or(Expiring::NONE, |(_, d)| d)
    }

    /// Sets user `user`'s snooze, replacing any other; `None` removes it.
    /// The snooze stands apart from the period and the schedule.
    pub fn set_snooze(&mut self, user: &UserId, snooze: Option<Snooze>) -> Result<(), Error> {
        let h = match snooze {
            Some(_) => self.intern_user(user)?,
            None => match self.user(user.as_str()) {
                Some(h) => h,
                None => return Ok(()),
            },
        };
        self.edit_extras(h, |e| e.snooze = snooze);
        Ok(())
    }

    /// User `user`'s snooze.
    pub fn snooze(&self, user: &str) -> Option<Snooze> {
        self.extras.get(&self.user(user)?.number())?.snooze
    }

    /// Sets user `user`'s weekly schedule, replacing any other and the period
    /// (a user has one quiet time); `None` removes the schedule only.
    pub fn set_schedule(&mut self, user: &UserId, schedule: Option<WeeklySchedule>) -> Result<(), Error> {
        let h = match schedule {
            Some(_) => self.intern_user(user)?,
            None => match self.user(user.as_str()) {
                Some(h) => h,
                None => return Ok(()),
            },
        };
        if schedule.is_some() {
            self.clear_period(h);
        }
        let stored = schedule.map(|s| {
            let zone = self.zone_index(s.zone());
            (s, zone)
        });
        self.edit_extras(h, |e| e.schedule = stored);
        Ok(())
    }

    /// User `user`'s weekly schedule.
    pub fn schedule(&self, user: &str) -> Option<&WeeklySchedule> {
        self.extras
            .get(&self.user(user)?.number())?
            .schedule
            .as_ref()
            .map(|(s, _)| s)
    }

    /// Drops every temporary level and snooze that is over by `instant`
    /// (its `until` is at or before it), and answers how many it dropped.
    ///
    /// The engine has no clock: a service calls this with its own, for
    /// memory's sake. Decisions for messages at or after `instant` do not
    /// change; messages before it should no longer be decided.
    pub fn drop_expired(&mut self, instant: DateTime<Utc>) -> usize {
        let over = |t: &Temporary| t.until <= instant;
        let mut dropped = 0;
        let handles: Vec<_> = self.extras.keys().map(|&n| self.handle_at(n as usize)).collect();
        for h in handles {
            dropped += self.edit_extras(h, |e: &mut UserExtras| {
                let mut n = 0;
                if e.snooze.is_some_and(|s| s.until <= instant) {
                    e.snooze = None;
                    n += 1;
                }
                for t in &mut e.type_temps {
                    if t.as_ref().is_some_and(over) {
                        *t = None;
                        n += 1;
                    }
                }
                let before = e.conversation_temps.len();
                e.conversation_temps.retain(|(_, t)| !over(t));
                n + before - e.conversation_temps.len()
            });
        }
        let groups = &mut self.conversations[ConversationType::UltraGroup.index()];
        for entry in groups.values_mut() {
            for default in
                std::iter::once(&mut entry.default).chain(entry.subchannels.values_mut().map(|s| &mut s.default))
            {
                if default.temporary.as_ref().is_some_and(over) {
                    default.temporary = None;
                    dropped += 1;
                }
            }
            entry.subchannels.retain(|_, s| !s.is_empty());
        }
        groups.retain(|_, e| !e.is_empty());
        dropped
    }
}

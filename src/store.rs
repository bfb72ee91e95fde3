//! The stored settings: every user's period and levels, every conversation's
//! overrides and defaults, laid out for the fanout loop.
//!
//! Layout, and why:
//! - A user is a dense number (a `u32`, in its [`UserHandle`]) into a `Vec`
//!   of 8-byte packed records holding what every decision reads: the period
//!   and the four conversation-type levels (`record.rs`). A fanout over
//!   handles reads that `Vec` and nothing else per user (and checks each
//!   handle with a compare).
//! - User ids live once, in a chunked string arena, found through a table of
//!   numbers hashed by id: 9.4 to 11.4 bytes per user (an 8-byte entry with
//!   where the id starts and a tag of its hash, in a table 70% to 85% full;
//!   `id_index.rs`) instead of a `String` key (`interner.rs`).
//! - A user's level on a conversation or subchannel lives with the
//!   conversation, in a map from handle to level. A message looks its
//!   conversation up once; each recipient then costs half a byte of the
//!   map's column of levels when the map is dense (read into the fast
//!   path's table key), one bit of a filter when it is sparse, and nothing
//!   when nobody set anything there.
//! - Time zones are numbered; index 0 is the data center's. A message computes
//!   its wall-clock time once per zone, never per recipient.
//!
//! Every mutation here is infallible once its arguments are typed, except for
//! running out of handles, which is checked before anything changes.

use chrono_tz::Tz;
use hashbrown::HashMap;

use crate::model::expiring::{Expiring, Snooze, Temporary};
use crate::model::schedule::WeeklySchedule;
pub(crate) use crate::store::interner::Cursor;
use crate::store::interner::Interner;
pub use crate::store::interner::UserHandle;
use crate::store::level_map::HandleHasher;
pub(crate) use crate::store::level_map::LevelMap;

use crate::error::Error;
use crate::model::{BusChannel, ConversationKey, ConversationType, DndPeriod, Level, TargetId, UserId};

mod config;
mod id_index;
pub(crate) mod interner;
pub(crate) mod keywords;
pub(crate) mod level_map;
pub(crate) mod member_set;
pub(crate) mod members;
mod muted_store;
mod policy_store;
pub(crate) mod record;
mod repeat_store;
mod timed;
pub(crate) mod user_groups;

pub use config::{AppDefaults, Config};
pub(crate) use record::{StoredPeriod, UserRecord};

pub(crate) use muted_store::Muters;
pub(crate) use policy_store::{Fans, Policies};

/// The index of a time zone in the settings' zone table; 0 is the data center's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ZoneIndex(u16);

impl ZoneIndex {
    pub(crate) const DATA_CENTER: ZoneIndex = ZoneIndex(0);

    pub(crate) const fn index(self) -> usize {
        self.0 as usize
    }

    /// The zone numbered `i`, for tests of what is indexed by zone.
    #[cfg(test)]
    pub(crate) const fn numbered(i: usize) -> ZoneIndex {
        ZoneIndex(i as u16)
    }
}

/// What only some users have: their schedule, snooze and temporary levels.
/// A user with anything here has `extended` set in their record.
#[derive(Clone, Debug, Default)]
pub(crate) struct UserExtras {
    pub(crate) snooze: Option<Snooze>,
    /// The schedule and the index of the zone it is read in.
    pub(crate) schedule: Option<(WeeklySchedule, ZoneIndex)>,
    /// Temporary levels per conversation type.
    pub(crate) type_temps: [Option<Temporary>; 4],
    /// Temporary levels on conversations and subchannels.
    pub(crate) conversation_temps: Vec<(ConversationKey, Temporary)>,
}

impl UserExtras {
    fn is_empty(&self) -> bool {
        self.snooze.is_none()
            && self.schedule.is_none()
            && self.type_temps.iter().all(Option::is_none)
            && self.conversation_temps.is_empty()
    }

    /// The temporary level on the conversation `(t, target, bus)`.
    pub(crate) fn conversation_temp(&self, t: ConversationType, target: &str, bus: Option<&str>) -> Option<Temporary> {
        self.conversation_temps
            .iter()
            .find(|(k, _)| {
                k.conversation_type() == t
                    && k.target_id().as_str() == target
                    && k.bus_channel().map(BusChannel::as_str) == bus
            })
            .map(|&(_, temp)| temp)
    }
}

/// What is stored for one subchannel of an ultra group.
#[derive(Clone, Debug, Default)]
pub(crate) struct SubchannelEntry {
    pub(crate) users: LevelMap,
    pub(crate) default: Expiring,
}

/// What is stored for one conversation (type + target).
#[derive(Clone, Debug, Default)]
pub(crate) struct ConversationEntry {
    /// Users' levels on the whole conversation.
    pub(crate) users: LevelMap,
    /// The admin's channel default (ultra groups only).
    pub(crate) default: Expiring,
    /// The subchannels (ultra groups only).
    pub(crate) subchannels: HashMap<Box<str>, SubchannelEntry>,
}

impl SubchannelEntry {
    fn is_empty(&self) -> bool {
        self.users.is_empty() && self.default.is_empty()
    }
}

impl ConversationEntry {
    fn is_empty(&self) -> bool {
        self.users.is_empty() && self.default.is_empty() && self.subchannels.is_empty()
    }
}

/// Everything a decision reads: the configuration and every stored setting.
///
/// Build it once, change it through the typed setters or the settings API
/// ([`crate::api`]), and prepare messages against it with
/// [`Settings::prepare`](crate::Settings::prepare).
///
/// A clone is other settings, with handles of its own: it numbers the same
/// users the same way, but refuses the original's handles (and the original
/// refuses the clone's), since the two may go on to number different users.
#[derive(Clone)]
pub struct Settings {
    pub(crate) config: Config,
    /// Zone table: index 0 is the data center's zone; the rest are the zones
    /// that periods named explicitly, each once.
    pub(crate) zones: Vec<Tz>,
    pub(crate) interner: Interner,
    pub(crate) users: Vec<UserRecord>,
    /// Conversations by type index, then by target id.
    pub(crate) conversations: [HashMap<Box<str>, ConversationEntry>; 4],
    /// What only some users have; see [`UserExtras`].
    /// Keyed by handle number ([`UserHandle::number`]).
    pub(crate) extras: HashMap<u32, UserExtras, std::hash::BuildHasherDefault<HandleHasher>>,
    /// VIP lists and urgent consent (docs/rules.md §10).
    pub(crate) policies: Policies,
    /// Users' keywords.
    pub(crate) keywords: keywords::KeywordStore,
    /// Users' muted senders.
    pub(crate) mutes: muted_store::Mutes,
    /// User groups.
    pub(crate) user_groups: user_groups::UserGroups,
    /// Repeated-sender settings.
    pub(crate) repeat: repeat_store::RepeatSettings,
    /// Groups' and ultra groups' member lists.
    pub(crate) members: members::Members,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("config", &self.config)
            .field("users", &self.users.len())
            .field(
                "conversations",
                &self.conversations.iter().map(HashMap::len).sum::<usize>(),
            )
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Empty settings for an engine set up with `config`.
    pub fn new(config: Config) -> Settings {
        Settings {
            zones: vec![config.time_zone],
            config,
            interner: Interner::default(),
            users: Vec::new(),
            conversations: Default::default(),
            extras: HashMap::default(),
            policies: Policies::default(),
            keywords: keywords::KeywordStore::default(),
            mutes: muted_store::Mutes::default(),
            user_groups: user_groups::UserGroups::default(),
            repeat: Default::default(),
            members: members::Members::default(),
        }
    }

    /// How the engine was set up.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The handle of user `id`, if the settings have seen it.
    #[inline]
    pub fn user(&self, id: &str) -> Option<UserHandle> {
        self.interner.get(id)
    }

    /// The handles of `ids` (at most 64), into `out`, and their records'
    /// words into `words` (0 for an unknown id): as [`Settings::user`] for
    /// each, with the cache misses of the batch overlapped, and the ids that
    /// follow the one before in numbering order found without hashing
    /// (`cursor` carries that one from batch to batch).
    pub(crate) fn users_batch<S: AsRef<str>>(
        &self,
        ids: &[S],
        out: &mut [Option<UserHandle>],
        words: &mut [u64],
        cursor: &mut Cursor,
    ) {
        let records = &self.users;
        let record = |i: usize| records.get(i).map_or(0, |r| r.0);
        self.interner.get_batch(ids, out, cursor, words, record);
    }

    /// The handle of user `id`, numbering the user if it is new. A new user
    /// has no settings; numbering one changes no decision.
    pub fn intern_user(&mut self, id: &UserId) -> Result<UserHandle, Error> {
        let h = self.interner.intern(id)?;
        if h.index() == self.users.len() {
            if self.users.len() == self.users.capacity() {
                // A quarter more, not twice: at most 10 bytes a user where
                // doubling would leave up to 16 (still amortized O(1)).
                self.users.reserve_exact(self.users.len() / 4 + 16);
            }
            self.users.push(UserRecord::EMPTY);
        }
        Ok(h)
    }

    /// The id of the user with handle `h`; `None` if `h` is not a handle of
    /// these settings (see [`UserHandle`]).
    pub fn user_id(&self, h: UserHandle) -> Option<&str> {
        self.interner.id_at(self.interner.check(h).ok()?)
    }

    /// How many users the settings number (with settings or without).
    pub fn user_count(&self) -> usize {
        self.interner.len()
    }

    /// The record of handle `h`, which must have been checked
    /// ([`Settings::check_handle`]); a user who set nothing reads as empty.
    #[inline]
    pub(crate) fn record(&self, h: UserHandle) -> &UserRecord {
        self.users.get(h.index()).unwrap_or(&UserRecord::EMPTY)
    }

    /// The index of `zone` in the zone table, adding it if it is new.
    pub(crate) fn zone_index(&mut self, zone: Option<Tz>) -> ZoneIndex {
        let Some(zone) = zone else {
            return ZoneIndex::DATA_CENTER;
        };
        match self.zones.iter().skip(1).position(|&z| z == zone) {
            Some(i) => ZoneIndex((i + 1) as u16),
            None => {
                // chrono-tz knows some 600 zones, fewer than a zone index
                // can number (`record::MAX_ZONES`) and than a prepared message
                // has slots for (`decide/clock.rs`).
                self.zones.push(zone);
                ZoneIndex((self.zones.len() - 1) as u16)
            }
        }
    }

    /// The zone a stored period is read in, and whether it was named.
    pub(crate) fn zone_of(&self, index: ZoneIndex) -> (Tz, bool) {
        (self.zones[index.index()], index != ZoneIndex::DATA_CENTER)
    }

    /// Sets user `user`'s period, replacing any other and any weekly
    /// schedule (a user has one quiet time); `None` removes the period only.
    pub fn set_period(&mut self, user: &UserId, period: Option<DndPeriod>) -> Result<(), Error> {
        match period {
            Some(p) => {
                // Numbered first: if that fails, the zone table is untouched.
                let h = self.intern_user(user)?;
                let zone = self.zone_index(p.zone);
                self.edit_extras(h, |e| e.schedule = None);
                let record = &mut self.users[h.index()];
                record.set_period(StoredPeriod::new(p.window, p.level, zone));
            }
            None => {
                if let Some(h) = self.user(user.as_str()) {
                    let record = &mut self.users[h.index()];
                    record.set_period(StoredPeriod::NONE);
                }
            }
        }
        Ok(())
    }

    /// Runs `edit` on the extras of handle `h` (which must be numbered),
    /// then keeps the record's `extended` bit and the map in step with them.
    pub(crate) fn edit_extras<T>(&mut self, h: UserHandle, edit: impl FnOnce(&mut UserExtras) -> T) -> T {
        let extras = self.extras.entry(h.number()).or_default();
        let answer = edit(extras);
        let extended = !extras.is_empty();
        if !extended {
            self.extras.remove(&h.number());
        }
        if let Some(record) = self.users.get_mut(h.index()) {
            record.set_extended(extended);
        }
        answer
    }

    /// Clears the period of handle `h`, keeping its `extended` bit.
    pub(crate) fn clear_period(&mut self, h: UserHandle) {
        if let Some(record) = self.users.get_mut(h.index()) {
            record.set_period(StoredPeriod::NONE);
        }
    }

    /// The period of handle `h`, with the zone it is read in.
    pub(crate) fn period_of(&self, h: UserHandle) -> Option<(DndPeriod, Tz)> {
        let stored = self.record(h).period();
        let (zone, named) = self.zone_of(stored.zone);
        Some((
            DndPeriod {
                window: stored.window()?,
                level: stored.level,
                zone: named.then_some(zone),
            },
            zone,
        ))
    }

    /// The daily window of handle `h`'s period as (start, length) in
    /// seconds, with its zone's index, if it has one.
    pub(crate) fn period_span(&self, h: UserHandle) -> Option<(u32, u32, ZoneIndex)> {
        let p = self.record(h).period();
        (p.len > 0).then_some((p.start, p.len, p.zone))
    }

    /// User `user`'s period.
    pub fn period(&self, user: &str) -> Option<DndPeriod> {
        let stored = self.record(self.user(user)?).period();
        let (zone, named) = self.zone_of(stored.zone);
        Some(DndPeriod {
            window: stored.window()?,
            level: stored.level,
            zone: named.then_some(zone),
        })
    }

    /// Sets user `user`'s level for a conversation type; `None` removes it.
    pub fn set_type_level(
        &mut self,
        user: &UserId,
        conversation_type: ConversationType,
        level: Option<Level>,
    ) -> Result<(), Error> {
        let h = match level {
            Some(_) => self.intern_user(user)?,
            None => match self.user(user.as_str()) {
                Some(h) => h,
                None => return Ok(()),
            },
        };
        self.users[h.index()].set_type_level(conversation_type.index(), level);
        if self.extras.contains_key(&h.number()) {
            self.edit_extras(h, |e| e.type_temps[conversation_type.index()] = None);
        }
        Ok(())
    }

    /// User `user`'s level for a conversation type.
    pub fn type_level(&self, user: &str, conversation_type: ConversationType) -> Option<Level> {
        self.record(self.user(user)?).type_level(conversation_type.index())
    }

    /// Sets user `user`'s level for a conversation or an ultra-group
    /// subchannel; `None` removes it.
    pub fn set_conversation_level(
        &mut self,
        user: &UserId,
        key: &ConversationKey,
        level: Option<Level>,
    ) -> Result<(), Error> {
        let handle = match level {
            Some(_) => self.intern_user(user)?,
            None => match self.user(user.as_str()) {
                Some(h) => h,
                None => return Ok(()),
            },
        };
        self.edit_entry(
            key.conversation_type(),
            key.target_id(),
            key.bus_channel(),
            |users, _| {
                match level {
                    Some(l) => users.insert(handle, l),
                    None => users.remove(handle),
                };
            },
        );
        if self.extras.contains_key(&handle.number()) {
            self.edit_extras(handle, |e| e.conversation_temps.retain(|(k, _)| k != key));
        }
        Ok(())
    }

    /// User `user`'s level for a conversation or an ultra-group subchannel.
    pub fn conversation_level(&self, user: &str, key: &ConversationKey) -> Option<Level> {
        let h = self.user(user)?;
        let (users, _) = self.entry(
            key.conversation_type(),
            key.target_id().as_str(),
            key.bus_channel().map(BusChannel::as_str),
        )?;
        users.get(h)
    }

    /// Sets the admin's default for ultra group `group`, or with `bus_channel`
    /// for one of its subchannels; `None` removes it.
    pub fn set_ultra_group_default(
        &mut self,
        group: &TargetId,
        bus_channel: Option<&BusChannel>,
        level: Option<Level>,
    ) {
        self.edit_entry(ConversationType::UltraGroup, group, bus_channel, |_, default| {
            *default = Expiring::permanent(level)
        });
    }

    /// The admin's default for ultra group `group`, or for one of its subchannels.
    pub fn ultra_group_default(&self, group: &str, bus_channel: Option<&str>) -> Option<Level> {
        self.entry(ConversationType::UltraGroup, group, bus_channel)?
            .1
            .permanent
    }

    /// The users' levels and the default stored for a conversation or subchannel.
    pub(crate) fn entry(
        &self,
        conversation_type: ConversationType,
        target: &str,
        bus_channel: Option<&str>,
    ) -> Option<(&LevelMap, Expiring)> {
        let conversation = self.conversations[conversation_type.index()].get(target)?;
        match bus_channel {
            None => Some((&conversation.users, conversation.default)),
            Some(bus) => {
                let sub = conversation.subchannels.get(bus)?;
                Some((&sub.users, sub.default))
            }
        }
    }

    /// Runs `edit` on the users' levels and the default of a conversation or
    /// subchannel, creating the entry if needed and dropping it if it ends empty.
    pub(crate) fn edit_entry(
        &mut self,
        conversation_type: ConversationType,
        target: &TargetId,
        bus_channel: Option<&BusChannel>,
        edit: impl FnOnce(&mut LevelMap, &mut Expiring),
    ) {
        let map = &mut self.conversations[conversation_type.index()];
        let conversation = map.entry_ref(target.as_str()).or_default();
        match bus_channel {
            None => edit(&mut conversation.users, &mut conversation.default),
            Some(bus) => {
                let sub = conversation.subchannels.entry_ref(bus.as_str()).or_default();
                edit(&mut sub.users, &mut sub.default);
                if sub.is_empty() {
                    conversation.subchannels.remove(bus.as_str());
                }
            }
        }
        if conversation.is_empty() {
            map.remove(target.as_str());
        }
    }

    /// How many time zones the settings read periods and schedules in (the
    /// data center's and every zone one names), for measuring.
    pub fn zone_count(&self) -> usize {
        self.zones.len()
    }

    /// Bytes of heap the settings hold, ids included: for measuring.
    pub fn heap_bytes(&self) -> usize {
        let maps: usize = self
            .conversations
            .iter()
            .flat_map(|m| m.values())
            .map(|c| {
                c.users.heap_bytes()
                    + c.subchannels.allocation_size()
                    + c.subchannels
                        .iter()
                        .map(|(k, s)| k.len() + s.users.heap_bytes())
                        .sum::<usize>()
            })
            .sum::<usize>()
            + self
                .conversations
                .iter()
                .map(|m| m.allocation_size() + m.keys().map(|k| k.len()).sum::<usize>())
                .sum::<usize>();
        self.interner.heap_bytes()
            + self.users.capacity() * std::mem::size_of::<UserRecord>()
            + maps
            + self.policies.heap_bytes()
            + self.members.heap_bytes()
    }

    /// Bytes of heap that the user ids themselves take (the arena), for
    /// measuring what the rest costs.
    pub fn id_bytes(&self) -> usize {
        self.interner.id_bytes()
    }
}

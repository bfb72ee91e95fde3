//! The stored settings: every user's period and levels, every conversation's
//! overrides and defaults, laid out for the fanout loop.
//!
//! Layout, and why:
//! - A user is a dense [`UserHandle`] (a `u32`) into a `Vec` of 16-byte
//!   records holding what every decision reads: the period and the four
//!   conversation-type levels. A fanout over handles reads that `Vec` and
//!   nothing else per user.
//! - User ids live once, in one string arena, found through a table of
//!   handles hashed by id: some 14 bytes per user (an 8-byte entry, its
//!   control byte, where the id starts) instead of a `String` key.
//! - A user's level on a conversation or subchannel lives with the
//!   conversation, in a map from handle to level. A message looks its
//!   conversation up once; each recipient then costs one bit of the map's
//!   bitmap when the map is dense, one probe of an integer-keyed map when it
//!   is sparse, and nothing when nobody set anything there.
//! - Time zones are numbered; index 0 is the data center's. A message computes
//!   its wall-clock time once per zone, never per recipient.
//!
//! Every mutation here is infallible once its arguments are typed, except for
//! running out of handles, which is checked before anything changes.

use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

use chrono_tz::Tz;
use hashbrown::{DefaultHashBuilder, HashMap, HashTable};

use crate::model::{
    BusChannel, ConversationKey, ConversationType, DndPeriod, DndWindow, Level, PeriodLevel, TargetId, TimeOfDay,
    UserId,
};
use crate::Error;

/// How the engine is set up: the data center's zone and the application's
/// default level per conversation type (RULES §4.7, §5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The data center's time zone: Asia/Shanghai for the China data center,
    /// UTC for the global one.
    pub time_zone: Tz,
    /// The application's default level for each conversation type.
    pub app_defaults: AppDefaults,
}

impl Config {
    /// A configuration for the data center in `time_zone`, with no app defaults.
    pub fn new(time_zone: Tz) -> Config {
        Config {
            time_zone,
            app_defaults: AppDefaults::default(),
        }
    }

    /// This configuration with the app default for `conversation_type` set to `level`.
    pub fn with_app_default(mut self, conversation_type: ConversationType, level: Level) -> Config {
        self.app_defaults.set(conversation_type, Some(level));
        self
    }
}

/// The application's default level per conversation type. Unset by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppDefaults([Option<Level>; 4]);

impl AppDefaults {
    /// The default for `conversation_type`.
    pub fn get(&self, conversation_type: ConversationType) -> Option<Level> {
        self.0[conversation_type.index()]
    }

    /// Sets (or with `None` clears) the default for `conversation_type`.
    pub fn set(&mut self, conversation_type: ConversationType, level: Option<Level>) {
        self.0[conversation_type.index()] = level;
    }
}

/// A compact handle for a user id, handed out by [`Settings::intern_user`].
///
/// A service that keeps its member lists as handles decides a fanout without
/// hashing a single string. A handle stays valid for the life of the
/// [`Settings`] it came from and across a save and restore of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserHandle(u32);

impl UserHandle {
    /// The handle's number: handles are numbered from 0 in the order users
    /// were first seen.
    pub const fn index(self) -> usize {
        self.0 as usize
    }

    /// The handle numbered `i`; only the settings number users.
    pub(crate) const fn from_index(i: usize) -> UserHandle {
        UserHandle(i as u32)
    }
}

/// The index of a time zone in the settings' zone table; 0 is the data center's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ZoneIndex(u16);

impl ZoneIndex {
    pub(crate) const DATA_CENTER: ZoneIndex = ZoneIndex(0);

    pub(crate) const fn index(self) -> usize {
        self.0 as usize
    }
}

/// A period as stored, 12 bytes, shaped for a test without branches: the
/// window as its start and length in seconds, where a length of 0 means the
/// user has no period (nothing is inside an empty window).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StoredPeriod {
    start: u32,
    len: u32,
    pub(crate) zone: ZoneIndex,
    pub(crate) level: PeriodLevel,
}

impl StoredPeriod {
    const NONE: StoredPeriod = StoredPeriod {
        start: 0,
        len: 0,
        zone: ZoneIndex::DATA_CENTER,
        level: PeriodLevel::Nothing,
    };

    fn new(window: DndWindow, level: PeriodLevel, zone: ZoneIndex) -> StoredPeriod {
        StoredPeriod {
            start: window.start().seconds(),
            len: window.len_seconds(),
            zone,
            level,
        }
    }

    /// The window, if the user has a period.
    pub(crate) fn window(self) -> Option<DndWindow> {
        let minutes = match self.len {
            0 => return None,
            86_400 => DndWindow::WHOLE_DAY_MINUTES,
            len => (len / 60) as u16,
        };
        TimeOfDay::from_seconds(self.start)
            .and_then(|start| DndWindow::new(start, minutes.into()))
            .ok()
    }

    /// Whether wall-clock time `t` is inside the window: the same answer as
    /// [`DndWindow::contains`], in selects rather than branches.
    #[inline(always)]
    pub(crate) fn contains(self, t: TimeOfDay) -> bool {
        let t = t.seconds();
        let since_start = t.wrapping_sub(self.start);
        let since_start = if t < self.start {
            since_start.wrapping_add(86_400)
        } else {
            since_start
        };
        since_start < self.len
    }
}

/// What every decision reads about a user: 16 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct UserRecord {
    pub(crate) period: StoredPeriod,
    pub(crate) type_levels: [Option<Level>; 4],
}

impl UserRecord {
    /// The record of a user who has set nothing.
    pub(crate) const EMPTY: UserRecord = UserRecord {
        period: StoredPeriod::NONE,
        type_levels: [None; 4],
    };
}

/// A hasher for handles: one multiplication. Handles are dense integers that
/// the settings themselves hand out, so there is nothing to defend against,
/// and the low bits of `handle * odd` are a permutation of the handle's.
#[derive(Clone, Copy, Default)]
pub(crate) struct HandleHasher(u64);

impl Hasher for HandleHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Users' levels on one conversation or subchannel, by handle.
///
/// A hash map, and, while the map is dense enough for it to cost no more than
/// 16 bytes per entry (32 before it is dropped again), a bitmap of which
/// handles are in it. A fanout asks the map about every recipient and nearly
/// always hears "no": with the bitmap that answer is one bit, read in handle
/// order when the members are.
///
/// (A byte per handle instead of a bit, to skip the hash probe for the users
/// who are in the map, was tried and measured no faster on the benchmark's
/// world, so the simpler bitmap stays.)
#[derive(Clone, Debug, Default)]
pub(crate) struct LevelMap {
    levels: HashMap<UserHandle, Level, BuildHasherDefault<HandleHasher>>,
    /// Either empty, or bit `h` is set exactly when `levels` holds handle `h`,
    /// for every `h` below `64 * present.len()`, and `levels` holds no
    /// handle at or above that.
    present: Vec<u64>,
    /// The largest handle `levels` has held since it was last empty.
    max: u32,
}

impl LevelMap {
    /// The bitmap is kept while `max + 1 <= len * DENSITY`: 1 bit per handle
    /// is then at most 16 bytes per entry.
    const DENSITY: usize = 128;

    #[inline]
    pub(crate) fn get(&self, h: UserHandle) -> Option<Level> {
        if !self.present.is_empty() {
            let word = self.present.get(h.index() / 64).copied().unwrap_or(0);
            if word >> (h.index() % 64) & 1 == 0 {
                return None;
            }
        }
        self.levels.get(&h).copied()
    }

    pub(crate) fn insert(&mut self, h: UserHandle, level: Level) {
        self.levels.insert(h, level);
        self.max = self.max.max(h.0);
        if !self.reindex() && !self.present.is_empty() {
            let words = self.max as usize / 64 + 1;
            if self.present.len() < words {
                self.present.resize(words, 0);
            }
            self.present[h.index() / 64] |= 1 << (h.index() % 64);
        }
    }

    pub(crate) fn remove(&mut self, h: UserHandle) {
        self.levels.remove(&h);
        if self.levels.is_empty() {
            *self = LevelMap::default();
        } else if !self.reindex() {
            if let Some(word) = self.present.get_mut(h.index() / 64) {
                *word &= !(1 << (h.index() % 64));
            }
        }
    }

    /// Builds or drops the bitmap when the density crosses the threshold:
    /// built as soon as it is dense enough, dropped only once it is half as
    /// dense again, so that a map near the threshold is not rebuilt at every
    /// change. Whether it did either.
    fn reindex(&mut self) -> bool {
        let span = self.max as usize + 1;
        let dense = |slack: usize| span <= self.levels.len() * Self::DENSITY * slack;
        match (self.present.is_empty(), dense(1), dense(2)) {
            (true, true, _) => {
                self.present = vec![0; span.div_ceil(64)];
                for k in self.levels.keys() {
                    self.present[k.index() / 64] |= 1 << (k.index() % 64);
                }
                true
            }
            (false, _, false) => {
                self.present = Vec::new();
                true
            }
            _ => false,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (UserHandle, Level)> + '_ {
        self.levels.iter().map(|(&h, &l)| (h, l))
    }

    fn heap_bytes(&self) -> usize {
        self.levels.allocation_size() + self.present.capacity() * 8
    }
}

/// What is stored for one subchannel of an ultra group.
#[derive(Clone, Debug, Default)]
pub(crate) struct SubchannelEntry {
    pub(crate) users: LevelMap,
    pub(crate) default: Option<Level>,
}

/// What is stored for one conversation (type + target).
#[derive(Clone, Debug, Default)]
pub(crate) struct ConversationEntry {
    /// Users' levels on the whole conversation.
    pub(crate) users: LevelMap,
    /// The admin's channel default (ultra groups only).
    pub(crate) default: Option<Level>,
    /// The subchannels (ultra groups only).
    pub(crate) subchannels: HashMap<Box<str>, SubchannelEntry>,
}

impl SubchannelEntry {
    fn is_empty(&self) -> bool {
        self.users.is_empty() && self.default.is_none()
    }
}

impl ConversationEntry {
    fn is_empty(&self) -> bool {
        self.users.is_empty() && self.default.is_none() && self.subchannels.is_empty()
    }
}

/// User ids, each stored once in one arena, found by id through a hash table
/// of handles.
#[derive(Clone, Default)]
struct Interner {
    /// Every id once, each prefixed by its length as one ASCII character (ids
    /// are at most 64 bytes), so that an entry is read from its start alone.
    arena: String,
    /// Where each handle's entry starts in `arena`.
    starts: Vec<u32>,
    /// Each handle with where its entry starts: a lookup compares the id
    /// with the arena directly, one dependent memory access fewer than going
    /// through `starts`.
    table: HashTable<(UserHandle, u32)>,
    hasher: DefaultHashBuilder,
}

/// Where the id whose entry starts at `start` lies in the arena: after its
/// one-byte length.
#[inline]
fn entry_range(arena: &str, start: u32) -> std::ops::Range<usize> {
    let start = start as usize;
    start + 1..start + 1 + usize::from(arena.as_bytes()[start])
}

/// The id whose entry starts at `start`.
fn entry_at(arena: &str, start: u32) -> &str {
    &arena[entry_range(arena, start)]
}

/// Whether the entry at `start` is `id`, compared as bytes.
#[inline]
fn entry_is(arena: &str, start: u32, id: &str) -> bool {
    arena.as_bytes()[entry_range(arena, start)] == *id.as_bytes()
}

impl Interner {
    #[inline]
    fn get(&self, id: &str) -> Option<UserHandle> {
        let hash = self.hasher.hash_one(id);
        self.table
            .find(hash, |&(_, start)| entry_is(&self.arena, start, id))
            .map(|&(h, _)| h)
    }

    /// The handles of `ids` (at most 64), into `out`: the same answers as
    /// [`get`](Self::get), found in two passes over the batch, each of
    /// independent loads so that their cache misses overlap. The first pass
    /// takes the first table entry whose hash tag matches (nearly always the
    /// right one); the second confirms it against the arena, and searches in
    /// full for the rare id whose first match was another's.
    #[inline]
    fn get_batch<S: AsRef<str>>(&self, ids: &[S], out: &mut [Option<UserHandle>]) {
        let mut starts = [0u32; 64];
        for ((id, slot), start) in ids.iter().zip(out.iter_mut()).zip(starts.iter_mut()) {
            let hash = self.hasher.hash_one(id.as_ref());
            *slot = self.table.find(hash, |_| true).map(|&(h, s)| {
                *start = s;
                h
            });
        }
        for ((id, slot), &start) in ids.iter().zip(out.iter_mut()).zip(&starts) {
            if slot.is_some() && !entry_is(&self.arena, start, id.as_ref()) {
                *slot = self.get(id.as_ref());
            }
        }
    }

    fn id(&self, h: UserHandle) -> Option<&str> {
        self.starts.get(h.index()).map(|&start| entry_at(&self.arena, start))
    }

    fn len(&self) -> usize {
        self.starts.len()
    }

    /// The handle of `id`, numbering it if it is new.
    fn intern(&mut self, id: &UserId) -> Result<UserHandle, Error> {
        let id = id.as_str();
        if let Some(h) = self.get(id) {
            return Ok(h);
        }
        let start = u32::try_from(self.arena.len()).map_err(|_| Error::TooManyUsers)?;
        u32::try_from(self.arena.len() + 1 + id.len()).map_err(|_| Error::TooManyUsers)?;
        let h = UserHandle(u32::try_from(self.starts.len()).map_err(|_| Error::TooManyUsers)?);
        // A UserId is at most 64 bytes: its length is one ASCII character.
        self.arena.push(char::from(id.len() as u8));
        self.arena.push_str(id);
        self.starts.push(start);
        let Interner {
            arena, table, hasher, ..
        } = self;
        table.insert_unique(hasher.hash_one(id), (h, start), |&(_, other)| {
            hasher.hash_one(entry_at(arena, other))
        });
        Ok(h)
    }

    fn heap_bytes(&self) -> usize {
        self.arena.capacity() + self.starts.capacity() * 4 + self.table.allocation_size()
    }
}

/// Everything a decision reads: the configuration and every stored setting.
///
/// Build it once, change it through the typed setters or the settings API
/// ([`crate::api`]), and prepare messages against it with
/// [`Settings::prepare`](crate::Settings::prepare).
#[derive(Clone)]
pub struct Settings {
    pub(crate) config: Config,
    /// Zone table: index 0 is the data center's zone; the rest are the zones
    /// that periods named explicitly, each once.
    pub(crate) zones: Vec<Tz>,
    interner: Interner,
    pub(crate) users: Vec<UserRecord>,
    /// Conversations by type index, then by target id.
    pub(crate) conversations: [HashMap<Box<str>, ConversationEntry>; 4],
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

    /// The handles of `ids` (at most 64), into `out`: as [`Settings::user`]
    /// for each, with the cache misses of the batch overlapped.
    pub(crate) fn users_batch<S: AsRef<str>>(&self, ids: &[S], out: &mut [Option<UserHandle>]) {
        self.interner.get_batch(ids, out);
    }

    /// The handle of user `id`, numbering the user if it is new. A new user
    /// has no settings; numbering one changes no decision.
    pub fn intern_user(&mut self, id: &UserId) -> Result<UserHandle, Error> {
        let h = self.interner.intern(id)?;
        if h.index() == self.users.len() {
            self.users.push(UserRecord::EMPTY);
        }
        Ok(h)
    }

    /// The id of the user with handle `h`.
    pub fn user_id(&self, h: UserHandle) -> Option<&str> {
        self.interner.id(h)
    }

    /// How many users the settings number (with settings or without).
    pub fn user_count(&self) -> usize {
        self.interner.len()
    }

    /// The record of handle `h`; a user who set nothing (or a handle from
    /// other settings) reads as empty.
    #[inline]
    pub(crate) fn record(&self, h: UserHandle) -> &UserRecord {
        self.users.get(h.index()).unwrap_or(&UserRecord::EMPTY)
    }

    fn record_mut(&mut self, user: &UserId) -> Result<&mut UserRecord, Error> {
        let h = self.intern_user(user)?;
        Ok(&mut self.users[h.index()])
    }

    /// The index of `zone` in the zone table, adding it if it is new.
    fn zone_index(&mut self, zone: Option<Tz>) -> ZoneIndex {
        let Some(zone) = zone else {
            return ZoneIndex::DATA_CENTER;
        };
        match self.zones.iter().skip(1).position(|&z| z == zone) {
            Some(i) => ZoneIndex((i + 1) as u16),
            None => {
                // chrono-tz knows some 600 zones: the table never nears u16::MAX.
                self.zones.push(zone);
                ZoneIndex((self.zones.len() - 1) as u16)
            }
        }
    }

    /// The zone a stored period is read in, and whether it was named.
    pub(crate) fn zone_of(&self, index: ZoneIndex) -> (Tz, bool) {
        (self.zones[index.index()], index != ZoneIndex::DATA_CENTER)
    }

    /// Sets user `user`'s period, replacing any other; `None` removes it.
    pub fn set_period(&mut self, user: &UserId, period: Option<DndPeriod>) -> Result<(), Error> {
        match period {
            Some(p) => {
                let zone = self.zone_index(p.zone);
                self.record_mut(user)?.period = StoredPeriod::new(p.window, p.level, zone);
            }
            None => {
                if let Some(h) = self.user(user.as_str()) {
                    self.users[h.index()].period = StoredPeriod::NONE;
                }
            }
        }
        Ok(())
    }

    /// User `user`'s period.
    pub fn period(&self, user: &str) -> Option<DndPeriod> {
        let stored = self.record(self.user(user)?).period;
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
        let record = match level {
            Some(_) => self.record_mut(user)?,
            None => match self.user(user.as_str()) {
                Some(h) => &mut self.users[h.index()],
                None => return Ok(()),
            },
        };
        record.type_levels[conversation_type.index()] = level;
        Ok(())
    }

    /// User `user`'s level for a conversation type.
    pub fn type_level(&self, user: &str, conversation_type: ConversationType) -> Option<Level> {
        self.record(self.user(user)?).type_levels[conversation_type.index()]
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
            *default = level
        });
    }

    /// The admin's default for ultra group `group`, or for one of its subchannels.
    pub fn ultra_group_default(&self, group: &str, bus_channel: Option<&str>) -> Option<Level> {
        self.entry(ConversationType::UltraGroup, group, bus_channel)?.1
    }

    /// The users' levels and the default stored for a conversation or subchannel.
    pub(crate) fn entry(
        &self,
        conversation_type: ConversationType,
        target: &str,
        bus_channel: Option<&str>,
    ) -> Option<(&LevelMap, Option<Level>)> {
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
    fn edit_entry(
        &mut self,
        conversation_type: ConversationType,
        target: &TargetId,
        bus_channel: Option<&BusChannel>,
        edit: impl FnOnce(&mut LevelMap, &mut Option<Level>),
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
        self.interner.heap_bytes() + self.users.capacity() * std::mem::size_of::<UserRecord>() + maps
    }

    /// Bytes of heap that the user ids themselves take (the arena), for
    /// measuring what the rest costs.
    pub fn id_bytes(&self) -> usize {
        self.interner.arena.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The batch lookup takes the first entry whose 7-bit tag matches and
    /// confirms it after: with thousands of ids, tags collide often, so the
    /// fallback search is exercised, and every answer must equal `get`'s.
    #[test]
    fn batch_lookups_answer_as_single_ones() {
        let mut interner = Interner::default();
        for i in 0..5000 {
            interner.intern(&UserId::new(&format!("member-{i}")).unwrap()).unwrap();
        }
        let ids: Vec<String> = (0..10_000).map(|i| format!("member-{}", i * 7919 % 10_000)).collect();
        let mut out = [None; 64];
        for chunk in ids.chunks(64) {
            interner.get_batch(chunk, &mut out);
            for (id, got) in chunk.iter().zip(out) {
                assert_eq!(got, interner.get(id), "{id}");
                assert_eq!(got.is_some(), id["member-".len()..].parse::<u32>().unwrap() < 5000);
            }
        }
    }
}

#[cfg(test)]
mod level_map_tests {
    use super::*;

    /// With its bitmap and without, as it fills and empties, the map answers
    /// as a plain hash map does.
    #[test]
    fn every_index_answers_as_the_map() {
        let mut map = LevelMap::default();
        let mut truth = std::collections::HashMap::new();
        let levels = [
            Level::All,
            Level::Mentions,
            Level::MentionsOfMe,
            Level::MentionsOfAll,
            Level::Nothing,
        ];
        let mut kinds = std::collections::HashSet::new();
        // Sparse first (handles far apart), then dense, then emptied again.
        let steps = (0..200u32)
            .map(|i| (i * 9_973, true))
            .chain((0..20_000u32).map(|i| (i, true)))
            .chain((0..20_000u32).filter(|i| i % 3 != 0).map(|i| (i, false)));
        for (n, (h, insert)) in steps.enumerate() {
            let h = UserHandle(h);
            if insert {
                let level = levels[n % 5];
                map.insert(h, level);
                truth.insert(h, level);
            } else {
                map.remove(h);
                truth.remove(&h);
            }
            kinds.insert(map.present.is_empty());
            if n % 997 == 0 {
                for probe in (0..2_000_000u32).step_by(997).chain(0..300) {
                    let probe = UserHandle(probe);
                    assert_eq!(map.get(probe), truth.get(&probe).copied(), "{probe:?} after step {n}");
                }
            }
        }
        assert_eq!(
            kinds.len(),
            2,
            "the test went through the map with and without its bitmap"
        );
    }
}

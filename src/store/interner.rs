//! User ids, each stored once in a chunked string arena, numbered by dense
//! [`UserHandle`]s and found by id through a hash table of handles.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU32, Ordering};

use hashbrown::DefaultHashBuilder;

use crate::error::Error;
use crate::model::UserId;
use crate::store::id_index::{IdIndex, Probe};
use crate::store::Settings;

/// A compact handle for a user, handed out by
/// [`Settings::intern_user`](crate::Settings::intern_user) and
/// [`Settings::user`](crate::Settings::user).
///
/// A service that keeps its member lists as handles decides a fanout without
/// hashing a single string. A handle is the user's number and the identity of
/// the settings that numbered it, 8 bytes: the settings check both whenever a
/// handle comes back to them, so that a handle from other settings (another
/// `Settings`, a clone, the state before a save and restore) is an error
/// ([`Error::ForeignHandle`]) rather than some other user's decision.
///
/// A handle stays valid for the life of the settings it came from, through
/// every change made to them, and for every version of a
/// [`SharedSettings`](crate::SharedSettings) from the one that numbered it on.
/// A clone, or a restore of a saved state, numbers the same users the same way
/// ([`index`](Self::index) is kept) but is other settings: ask it for its own
/// handles by id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserHandle(
    /// The lineage in the high 32 bits, the number in the low 32: so that a
    /// batch checks a handle with one subtraction and one compare.
    u64,
);

impl UserHandle {
    #[inline(always)]
    const fn new(index: u32, lineage: u32) -> UserHandle {
        UserHandle((lineage as u64) << 32 | index as u64)
    }

    /// The handle's number: handles are numbered from 0 in the order users
    /// were first seen, and a save and restore keeps the numbers.
    #[inline(always)]
    pub const fn index(self) -> usize {
        self.number() as usize
    }

    /// The handle's number, as maps keyed by user store it: without the
    /// lineage, which is the settings' own once a handle is checked (and
    /// which a clone changes while the numbers stay).
    #[inline(always)]
    pub(crate) const fn number(self) -> u32 {
        self.0 as u32
    }

    /// The handle as one word: the lineage above the number.
    #[inline(always)]
    pub(crate) const fn raw(self) -> u64 {
        self.0
    }

    /// The handle as one word, for code that keeps handles outside Rust (a
    /// C caller, a Python list): [`from_bits`](Self::from_bits) makes it a
    /// handle again.
    #[inline(always)]
    pub const fn to_bits(self) -> u64 {
        self.0
    }

    /// The handle whose word [`to_bits`](Self::to_bits) gave. Any word makes
    /// a handle, and the settings check it as they check every handle: one
    /// they did not issue is [`Error::ForeignHandle`], never another user's
    /// decision.
    ///
    /// ```
    /// use dnd_engine::{chrono_tz::UTC, Config, Conversation, Message, Settings, Timestamp, UserHandle, UserId};
    /// let mut settings = Settings::new(Config::new(UTC));
    /// let alice = settings.intern_user(&UserId::new("alice")?)?;
    /// assert_eq!(UserHandle::from_bits(alice.to_bits()), alice);
    ///
    /// let message = Message::new(Conversation::Group { group_id: "g" }, "s", Timestamp::MIN);
    /// assert!(settings.prepare(&message).decide(UserHandle::from_bits(alice.to_bits())).is_ok());
    /// let other = Settings::new(Config::new(UTC));
    /// assert!(other.prepare(&message).decide(alice).is_err());
    /// assert!(settings.prepare(&message).decide(UserHandle::from_bits(alice.to_bits() + 1)).is_err());
    /// # Ok::<(), dnd_engine::Error>(())
    /// ```
    #[inline(always)]
    pub const fn from_bits(bits: u64) -> UserHandle {
        UserHandle(bits)
    }

    #[inline(always)]
    const fn lineage(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// The handle numbered `index` in a line of settings of no account, for
    /// tests of what is keyed by handle.
    #[cfg(test)]
    pub(crate) const fn numbered(index: u32) -> UserHandle {
        UserHandle::new(index, 0)
    }
}

impl std::fmt::Debug for UserHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserHandle")
            .field("index", &self.number())
            .field("lineage", &self.lineage())
            .finish()
    }
}

/// The identity of a line of settings: every `Settings::new`, every restore
/// and every clone starts a new one; the versions that a `SharedSettings`
/// publishes continue one.
///
/// It is the crate's one piece of process-wide state, a counter, and no answer
/// depends on it: only whether a handle is accepted. (After 2³² settings have
/// been made in one process the numbers come round again.)
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Lineage(u32);

impl Lineage {
    fn new() -> Lineage {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        Lineage(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The same line, for a copy that continues it.
    pub(crate) fn same(&self) -> Lineage {
        Lineage(self.0)
    }
}

impl Default for Lineage {
    fn default() -> Lineage {
        Lineage::new()
    }
}

impl Clone for Lineage {
    /// A clone of settings is other settings: it starts a new line, so that
    /// the two, once they number different users, cannot mistake each
    /// other's handles.
    fn clone(&self) -> Lineage {
        Lineage::new()
    }
}

/// How many users' ids one arena chunk holds: 2¹⁶. A chunk is then at most
/// 65 536 × 65 bytes, so that where an id starts in its chunk fits in a `u32`,
/// and the arena as a whole has no limit but memory.
const CHUNK_SHIFT: u32 = 16;

/// Where a batch lookup expects the next id ([`Interner::get_batch`]): the
/// user numbered `next`, whose entry starts at `start` in its chunk (0 if
/// `next` starts a chunk). Any value is safe: a wrong one finds nothing.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Cursor {
    next: u32,
    start: u32,
}

/// Every how many users the interner notes where an entry starts: an id is
/// found by number from the note before it, past at most 15 entries.
const MARK_SHIFT: u32 = 4;

/// User ids, each stored once, found by id through a hash table of handles.
#[derive(Clone, Default)]
pub(crate) struct Interner {
    pub(crate) lineage: Lineage,
    /// Every id once, each prefixed by its length as one ASCII character (ids
    /// are at most 64 bytes), so that an entry is read from its start alone
    /// and the next one follows it. Handle `i`'s entry is in chunk
    /// `i >> CHUNK_SHIFT`; full chunks are shrunk to fit.
    chunks: Vec<String>,
    /// Where the entry of every `2^MARK_SHIFT`th handle starts in its chunk.
    marks: Vec<u32>,
    /// How many users are numbered.
    len: usize,
    /// Each handle's number with where its entry starts and a tag of its
    /// hash: a lookup compares the id with the arena directly.
    index: IdIndex,
    hasher: DefaultHashBuilder,
    /// The most users these settings may number; `None` for every `u32`.
    /// Smaller only in tests, to reach the limit.
    limit: Option<usize>,
}

/// The id numbered `index`, whose entry starts at `start` in its chunk.
#[inline]
fn entry(chunks: &[String], index: u32, start: u32) -> &str {
    let chunk = &chunks[(index >> CHUNK_SHIFT) as usize];
    let start = start as usize;
    &chunk[start + 1..start + 1 + usize::from(chunk.as_bytes()[start])]
}

/// Whether the id numbered `index`, whose entry starts at `start`, is `id`:
/// compared as bytes, which skips the two UTF-8 boundary checks of slicing
/// the chunk as a `str` (the bytes are equal exactly when the strings are).
#[inline]
fn entry_is(chunks: &[String], index: u32, start: u32, id: &str) -> bool {
    let chunk = chunks[(index >> CHUNK_SHIFT) as usize].as_bytes();
    let start = start as usize;
    chunk.get(start + 1..start + 1 + usize::from(chunk[start])) == Some(id.as_bytes())
}

impl Interner {
    /// An interner that numbers at most `limit` users, to test the limit.
    #[cfg(test)]
    pub(crate) fn with_limit(limit: usize) -> Interner {
        Interner {
            limit: Some(limit),
            ..Interner::default()
        }
    }

    #[inline]
    fn handle(&self, index: u32) -> UserHandle {
        UserHandle::new(index, self.lineage.0)
    }

    /// The handle numbered `index`, which must be below [`len`](Self::len).
    pub(crate) fn handle_at(&self, index: usize) -> UserHandle {
        debug_assert!(index < self.len());
        self.handle(index as u32)
    }

    /// Whether `h` is a handle these settings issued and this version numbers.
    #[inline(always)]
    pub(crate) fn owns(&self, h: UserHandle) -> bool {
        h.lineage() == self.lineage.0 && h.index() < self.len
    }

    /// `h`'s number, if these settings issued it and this version numbers it.
    #[inline]
    pub(crate) fn check(&self, h: UserHandle) -> Result<usize, Error> {
        if self.owns(h) {
            Ok(h.index())
        } else {
            Err(self.refusal(h))
        }
    }

    /// Why `h` is refused.
    #[cold]
    pub(crate) fn refusal(&self, h: UserHandle) -> Error {
        if h.lineage() != self.lineage.0 {
            Error::ForeignHandle(h.number())
        } else {
            Error::HandleNotYetNumbered {
                index: h.number(),
                users: self.len(),
            }
        }
    }

    #[inline]
    pub(crate) fn get(&self, id: &str) -> Option<UserHandle> {
        let p = self.index.probe(self.hasher.hash_one(id));
        self.find(p, id)
    }

    #[inline]
    fn find(&self, p: Probe, id: &str) -> Option<UserHandle> {
        self.index
            .find(p, |index, start| entry_is(&self.chunks, index, start, id))
            .map(|(index, _)| self.handle(index))
    }

    /// The handles of `ids` (at most 64), into `out`: the same answers as
    /// [`get`](Self::get); and `record` of each one's number into `words`
    /// (0 for an id not found), read in the same pass as the arena.
    ///
    /// First each id is compared with the entry after `cursor`'s (the last
    /// one found): a member list in numbering order finds its ids there,
    /// in the arena's order, without hashing. The others are found in
    /// passes over the batch, as hash joins do with group prefetching
    /// (`id_index.rs`): the hashes; each one's first slot; the first entry
    /// from there whose tag matches (nearly always the right one, if any);
    /// the length byte of its id in the arena; the comparison, with a search
    /// in full for the rare id whose first match was another's. The passes
    /// that load are tight loops of independent loads, so that their cache
    /// misses overlap.
    #[inline]
    pub(crate) fn get_batch<S: AsRef<str>>(
        &self,
        ids: &[S],
        out: &mut [Option<UserHandle>],
        cursor: &mut Cursor,
        words: &mut [u64],
        record: impl Fn(usize) -> u64,
    ) {
        // Which of `ids` the cursor did not find, and what the passes found for them.
        let mut rest = [0u8; 64];
        let mut left = 0;
        for (k, ((id, slot), w)) in ids.iter().zip(out.iter_mut()).zip(words.iter_mut()).enumerate() {
            *slot = self.at_cursor(cursor, id.as_ref().as_bytes());
            *w = slot.map_or(0, |h| record(h.index()));
            rest[left] = k as u8;
            left += usize::from(slot.is_none());
        }
        let rest = &rest[..left];
        let mut probes = [Probe::default(); 64];
        for (p, &k) in probes.iter_mut().zip(rest) {
            *p = self.index.probe(self.hasher.hash_one(ids[usize::from(k)].as_ref()));
        }
        let mut firsts = [0u64; 64];
        for (f, p) in firsts.iter_mut().zip(&probes[..left]) {
            *f = self.index.first(*p);
        }
        let mut found = [None; 64];
        for ((c, p), &f) in found.iter_mut().zip(&probes[..left]).zip(&firsts) {
            *c = self.index.candidate(*p, f);
        }
        // The arena's byte and the candidate's record, both in one pass.
        let mut lens = [0u8; 64];
        for ((len, c), &k) in lens.iter_mut().zip(&found[..left]).zip(rest) {
            if let Some((index, start)) = *c {
                *len = self.chunks[(index >> CHUNK_SHIFT) as usize].as_bytes()[start as usize];
                words[usize::from(k)] = record(index as usize);
            }
        }
        for (((&k, c), &len), p) in rest.iter().zip(&found).zip(&lens).zip(&probes) {
            let Some((index, start)) = *c else { continue };
            let k = usize::from(k);
            let id = ids[k].as_ref();
            let chunk = self.chunks[(index >> CHUNK_SHIFT) as usize].as_bytes();
            let first = start as usize + 1;
            if chunk.get(first..first + usize::from(len)) == Some(id.as_bytes()) {
                out[k] = Some(self.handle(index));
            } else {
                out[k] = self.find(*p, id);
                words[k] = out[k].map_or(0, |h| record(h.index()));
            }
        }
        // The next batch's cursor: after the last id of this one, if found.
        if let Some(Some(h)) = out[..ids.len()].last() {
            let index = h.index();
            if index as u32 != cursor.next.wrapping_sub(1) {
                let start = self.start_of(index);
                let chunk = self.chunks[index >> CHUNK_SHIFT].as_bytes();
                *cursor = Cursor {
                    next: index as u32 + 1,
                    start: start + 1 + u32::from(chunk[start as usize]),
                };
            }
        }
    }

    /// The handle of the entry after `cursor`'s, if its id is `id`; the
    /// cursor then moves past it.
    #[inline(always)]
    fn at_cursor(&self, cursor: &mut Cursor, id: &[u8]) -> Option<UserHandle> {
        let next = cursor.next as usize;
        if next >= self.len {
            return None;
        }
        let start = match next % (1 << CHUNK_SHIFT) {
            0 => 0,
            _ => cursor.start as usize,
        };
        let chunk = self.chunks[next >> CHUNK_SHIFT].as_bytes();
        let len = usize::from(*chunk.get(start)?);
        if chunk.get(start + 1..start + 1 + len) != Some(id) {
            return None;
        }
        *cursor = Cursor {
            next: cursor.next + 1,
            start: (start + 1 + len) as u32,
        };
        Some(self.handle(next as u32))
    }

    /// Where the entry of the user numbered `index` (below `len`) starts in
    /// its chunk: from the mark before it, past the entries between.
    fn start_of(&self, index: usize) -> u32 {
        let chunk = self.chunks[index >> CHUNK_SHIFT].as_bytes();
        let mark = index >> MARK_SHIFT;
        let mut start = self.marks[mark] as usize;
        for _ in mark << MARK_SHIFT..index {
            start += 1 + usize::from(chunk[start]);
        }
        start as u32
    }

    /// The id numbered `index`, if there is one.
    pub(crate) fn id_at(&self, index: usize) -> Option<&str> {
        if index >= self.len {
            return None;
        }
        Some(entry(&self.chunks, index as u32, self.start_of(index)))
    }

    /// The ids numbered `indices` (each below `len`), into `out`, in order:
    /// as [`id_at`](Self::id_at) for each, with the cache misses of the
    /// batch overlapped: one pass of independent loads reads each one's mark
    /// and the length at it, the walks from there come after.
    pub(crate) fn ids_at<'s>(&'s self, indices: &[usize], out: &mut Vec<&'s str>) {
        out.clear();
        let mut firsts = [(0u32, 0u8); 64];
        for batch in indices.chunks(firsts.len()) {
            for (f, &index) in firsts.iter_mut().zip(batch) {
                let start = self.marks[index >> MARK_SHIFT];
                *f = (start, self.chunks[index >> CHUNK_SHIFT].as_bytes()[start as usize]);
            }
            out.extend(batch.iter().zip(&firsts).map(|(&index, &(start, len))| {
                let chunk = self.chunks[index >> CHUNK_SHIFT].as_bytes();
                let mark = index >> MARK_SHIFT << MARK_SHIFT;
                let mut start = start as usize;
                if index > mark {
                    start += 1 + usize::from(len);
                    for _ in mark + 1..index {
                        start += 1 + usize::from(chunk[start]);
                    }
                }
                entry(&self.chunks, index as u32, start as u32)
            }));
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The handle of `id`, numbering it if it is new; [`Error::TooManyUsers`],
    /// with nothing changed, when every handle is taken.
    pub(crate) fn intern(&mut self, id: &UserId) -> Result<UserHandle, Error> {
        let id = id.as_str();
        if let Some(h) = self.get(id) {
            return Ok(h);
        }
        let index = self.len;
        let full = match self.limit {
            Some(limit) => index >= limit,
            None => u32::try_from(index).is_err(),
        };
        if full {
            return Err(Error::TooManyUsers);
        }
        let chunk_no = index >> CHUNK_SHIFT;
        if chunk_no == self.chunks.len() {
            if let Some(full) = self.chunks.last_mut() {
                full.shrink_to_fit();
            }
            self.chunks.push(String::new());
        }
        let chunk = &mut self.chunks[chunk_no];
        // At most 2¹⁶ entries of at most 65 bytes: the offset fits.
        let start = chunk.len() as u32;
        // A UserId is at most 64 bytes: its length is one ASCII character.
        chunk.push(char::from(id.len() as u8));
        chunk.push_str(id);
        if index.is_multiple_of(1 << MARK_SHIFT) {
            if self.marks.len() == self.marks.capacity() {
                // A quarter more, not twice: the marks' slack stays small.
                self.marks.reserve_exact(self.marks.len() / 4 + 16);
            }
            self.marks.push(start);
        }
        self.len += 1;
        // `index` is below 2³², the limit.
        let index = index as u32;
        let Interner {
            chunks,
            index: table,
            hasher,
            ..
        } = self;
        table.insert(hasher.hash_one(id), index, start, |i, s| {
            hasher.hash_one(entry(chunks, i, s))
        });
        Ok(self.handle(index))
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.id_bytes()
            + self.chunks.capacity() * std::mem::size_of::<String>()
            + self.marks.capacity() * 4
            + self.index.heap_bytes()
    }

    /// Bytes of the arena's chunks: the ids themselves.
    pub(crate) fn id_bytes(&self) -> usize {
        self.chunks.iter().map(String::capacity).sum()
    }
}

/// Handles as the settings check them.
impl Settings {
    /// Whether `h` is a handle of these settings that this version numbers.
    #[inline(always)]
    pub(crate) fn owns(&self, h: UserHandle) -> bool {
        self.interner.owns(h)
    }

    /// This line's handle numbered 0, as a word ([`UserHandle::raw`]): a
    /// handle minus it is the user's number if the handle is of this line,
    /// and 2³² or more (or, wrapping, far more) if it is not.
    #[inline(always)]
    pub(crate) fn first_handle(&self) -> u64 {
        UserHandle::new(0, self.interner.lineage.0).raw()
    }

    /// `Ok` if `h` is a handle of these settings that this version numbers;
    /// otherwise why not.
    #[inline]
    pub(crate) fn check_handle(&self, h: UserHandle) -> Result<(), Error> {
        self.interner.check(h).map(|_| ())
    }

    /// Why the first of `handles` that these settings refuse is refused.
    #[cold]
    pub(crate) fn first_refused(&self, handles: &[UserHandle]) -> Option<Error> {
        let &h = handles.iter().find(|&&h| !self.owns(h))?;
        Some(self.interner.refusal(h))
    }

    /// As [`first_refused`](Self::first_refused), for a list that is
    /// expected to be all these settings' handles: a pass without branches
    /// over each 64 handles (a subtraction and a compare each: see
    /// [`first_handle`](Self::first_handle)) finds the batch of the first
    /// refused one.
    pub(crate) fn refused(&self, handles: &[UserHandle]) -> Option<Error> {
        let (first, count) = (self.first_handle(), self.interner.len as u64);
        let k = handles.chunks(64).position(|batch| {
            batch
                .iter()
                .fold(false, |refused, h| refused | (h.raw().wrapping_sub(first) >= count))
        })?;
        self.first_refused(&handles[k * 64..])
    }

    /// The handle numbered `index`, which must be below the user count.
    pub(crate) fn handle_at(&self, index: usize) -> UserHandle {
        self.interner.handle_at(index)
    }

    /// The id of the user numbered `index`.
    pub(crate) fn user_id_at(&self, index: usize) -> Option<&str> {
        self.interner.id_at(index)
    }

    /// The ids of the users numbered `indices` (each below the user
    /// count), into `out`, in order; a batch's cache misses overlapped.
    pub(crate) fn user_ids_at<'s>(&'s self, indices: &[usize], out: &mut Vec<&'s str>) {
        self.interner.ids_at(indices, out);
    }

    /// A copy that continues these settings' line: it accepts their handles.
    /// Only for copies that stay one history with the original, as the
    /// versions of a [`SharedSettings`](crate::SharedSettings) do.
    pub(crate) fn clone_in_lineage(&self) -> Settings {
        let mut copy = self.clone();
        copy.interner.lineage = self.interner.lineage.same();
        copy
    }

    /// Empty settings that number at most `limit` users, to reach the limit in tests.
    #[cfg(test)]
    pub(crate) fn with_user_limit(config: crate::store::Config, limit: usize) -> Settings {
        let mut settings = Settings::new(config);
        settings.interner = Interner::with_limit(limit);
        settings
    }
}

#[cfg(test)]
mod interner_tests;

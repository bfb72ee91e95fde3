//! User ids, each stored once in one string arena, numbered by dense
//! [`UserHandle`]s and found by id through a hash table of handles.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

use crate::model::UserId;
use crate::Error;

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

/// User ids, each stored once in one arena, found by id through a hash table
/// of handles.
#[derive(Clone, Default)]
pub(crate) struct Interner {
    /// Every id once, each prefixed by its length as one ASCII character (ids
    /// are at most 64 bytes), so that an entry is read from its start alone.
    pub(crate) arena: String,
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
    pub(crate) fn get(&self, id: &str) -> Option<UserHandle> {
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
    pub(crate) fn get_batch<S: AsRef<str>>(&self, ids: &[S], out: &mut [Option<UserHandle>]) {
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

    pub(crate) fn id(&self, h: UserHandle) -> Option<&str> {
        self.starts.get(h.index()).map(|&start| entry_at(&self.arena, start))
    }

    pub(crate) fn len(&self) -> usize {
        self.starts.len()
    }

    /// The handle of `id`, numbering it if it is new.
    pub(crate) fn intern(&mut self, id: &UserId) -> Result<UserHandle, Error> {
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

    pub(crate) fn heap_bytes(&self) -> usize {
        self.arena.capacity() + self.starts.capacity() * 4 + self.table.allocation_size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::UserId;

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

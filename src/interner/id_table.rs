//! The interner's index from id to user: a hash table whose every probe
//! reads one cache line, which holds both the slots' hash tags and their
//! entries.
//!
//! Slots come in groups of eight, one 64-byte line each: a word of eight
//! one-byte tags (8 bits of the id's hash, never 0; 0 is an empty slot),
//! then each slot's user number (4 bytes) and where the user's id starts in
//! its arena chunk (3 bytes: a chunk holds at most 2¹⁶ × 65 bytes). A lookup
//! hashes the id, picks a group with the hash's low bits, finds the slots
//! whose tag matches with a few word operations (no branch per slot), and
//! compares the first candidate's id in the arena; only a full group without
//! the id sends it on to the next group. So a lookup costs one random access
//! to the table and one to the arena (in order, when the ids come in the
//! order they were numbered). A `hashbrown` table of `(number, start)` keeps
//! its tags (control bytes) and its entries apart: two random accesses
//! before the arena.
//!
//! The table holds at most 7/8 of its slots and doubles when full, as
//! `hashbrown` does, with 8 bytes a slot instead of 9 (an 8-byte entry and
//! its control byte). Ids are never removed, so there are no tombstones.

/// How many bits of a slot hold where the entry starts.
pub(super) const START_BITS: u32 = 24;

/// Each byte of a word set to `b`.
const fn repeat(b: u8) -> u64 {
    u64::from_ne_bytes([b; 8])
}

/// A user's number and where their id's entry starts in its chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Entry {
    pub(super) index: u32,
    pub(super) start: u32,
}

/// Eight slots in one cache line: bytes `0..8` are their tags (slot `k`'s
/// in byte `k`, 0 while the slot is empty); bytes `8 + 7k..15 + 7k` are slot
/// `k`'s entry, little-endian: the user's number in the low 4 bytes, where
/// the id starts in the high 3.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(64))]
struct Group([u8; 64]);

impl Group {
    const EMPTY: Group = Group([0; 64]);

    /// The 8 bytes from `at`, as a little-endian word.
    #[inline(always)]
    fn word(&self, at: usize) -> u64 {
        let mut w = [0; 8];
        w.copy_from_slice(&self.0[at..at + 8]);
        u64::from_le_bytes(w)
    }

    #[inline(always)]
    fn tags(&self) -> u64 {
        self.word(0)
    }

    /// The slots whose tag may be `tag`, as the high bit of their byte: the
    /// lowest is always a slot whose tag is; a later one, rarely, may be a
    /// slot just above such a slot whose tag is not (the borrow of the
    /// subtraction), which the comparison of the ids rejects.
    #[inline(always)]
    fn candidates(&self, tag: u8) -> u64 {
        zero_bytes(self.tags() ^ repeat(tag))
    }

    /// Slot `k`'s entry: one unaligned load of the 8 bytes that end with
    /// it (the first of which is the previous slot's, or a tag), shifted.
    #[inline(always)]
    fn entry(&self, k: usize) -> Entry {
        let e = self.word(7 + 7 * (k % 8)) >> 8;
        Entry {
            index: e as u32,
            start: (e >> 32) as u32,
        }
    }

    /// The first empty slot, if any.
    #[inline]
    fn first_empty(&self) -> Option<usize> {
        // The lowest flagged byte of `zero_bytes` is always a true zero.
        match zero_bytes(self.tags()) {
            0 => None,
            bits => Some(bits.trailing_zeros() as usize / 8),
        }
    }

    fn is_full(&self, k: usize) -> bool {
        self.0[k] != 0
    }

    fn put(&mut self, k: usize, tag: u8, e: Entry) {
        self.0[k] = tag;
        let e = u64::from(e.index) | u64::from(e.start) << 32;
        self.0[8 + 7 * k..15 + 7 * k].copy_from_slice(&e.to_le_bytes()[..7]);
    }
}

/// The high bit of each byte of `x` that is zero, and possibly of a byte
/// just above a zero byte whose value is 1 (never below the lowest zero
/// byte): nonzero exactly when `x` has a zero byte.
#[inline(always)]
const fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(repeat(0x01)) & !x & repeat(0x80)
}

/// The tag of a hash: its top byte, 1 for 0 (which marks an empty slot).
#[inline(always)]
fn tag_of(hash: u64) -> u8 {
    ((hash >> 56) as u8).max(1)
}

/// Ids' entries by the ids' hashes (see the module's documentation).
#[derive(Clone, Debug, Default)]
pub(super) struct IdTable {
    /// A power of two of them, or none.
    groups: Vec<Group>,
    /// How many slots are not empty.
    len: usize,
}

impl IdTable {
    /// The first entry, in the probe order of `hash`, whose tag matches it
    /// and for which `is` holds (`is` may also be asked, rarely, about an
    /// entry whose tag does not match, or about an empty slot as user 0
    /// from 0: see [`Group::candidates`]); `None` when a group with an empty
    /// slot has none.
    #[inline]
    pub(super) fn find(&self, hash: u64, mut is: impl FnMut(Entry) -> bool) -> Option<Entry> {
        let mask = self.groups.len().checked_sub(1)?;
        let tag = tag_of(hash);
        let mut g = hash as usize & mask;
        loop {
            let group = &self.groups[g];
            let mut candidates = group.candidates(tag);
            while candidates != 0 {
                let e = group.entry(candidates.trailing_zeros() as usize / 8);
                if is(e) {
                    return Some(e);
                }
                candidates &= candidates - 1;
            }
            if group.first_empty().is_some() {
                return None;
            }
            g = (g + 1) & mask;
        }
    }

    /// Adds `entry` for an id whose hash is `hash` and which the table does
    /// not hold, doubling the table first when it is full; `hash_of` gives
    /// the hash of an entry's id, to place the entries anew.
    pub(super) fn insert(&mut self, hash: u64, entry: Entry, hash_of: impl Fn(Entry) -> u64) {
        debug_assert!(entry.start < 1 << START_BITS);
        if (self.len + 1) * 8 > self.groups.len() * 8 * 7 {
            let doubled = vec![Group::EMPTY; (self.groups.len() * 2).max(2)];
            for group in std::mem::replace(&mut self.groups, doubled) {
                for k in (0..8).filter(|&k| group.is_full(k)) {
                    let e = group.entry(k);
                    place(&mut self.groups, hash_of(e), e);
                }
            }
        }
        place(&mut self.groups, hash, entry);
        self.len += 1;
    }

    /// Bytes of heap held.
    pub(super) fn allocation_size(&self) -> usize {
        self.groups.capacity() * std::mem::size_of::<Group>()
    }
}

/// Puts `entry`, of an id whose hash is `hash`, in the first empty slot of
/// the hash's probe order (there is one: the table is at most 7/8 full).
fn place(groups: &mut [Group], hash: u64, entry: Entry) {
    let mask = groups.len() - 1;
    let mut g = hash as usize & mask;
    loop {
        if let Some(k) = groups[g].first_empty() {
            groups[g].put(k, tag_of(hash), entry);
            return;
        }
        g = (g + 1) & mask;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A group is one cache line.
    #[test]
    fn a_group_is_a_cache_line() {
        assert_eq!(std::mem::size_of::<Group>(), 64);
        assert_eq!(std::mem::align_of::<Group>(), 64);
    }

    /// Entries whose hashes share a group, a tag or both (tag bytes 0, 1
    /// and the value just above a match, which the word test may flag) are
    /// told apart by `is` (the interner's comparison with the arena), found
    /// past the end of the table (the probe wraps), and kept through the
    /// doublings; a hash nobody has is not found.
    #[test]
    fn colliding_entries_are_told_apart_and_survive_growth() {
        let mut table = IdTable::default();
        assert_eq!(table.find(7, |_| true), None);
        // The hash of entry `i`: three tags (top bytes 0 and 1 share tag 1),
        // and all in the table's last group, so that they overflow and wrap.
        let hash = |i: u32| [0u64, 1, 2][i as usize % 3] << 56 | 0xffff;
        let entry = |i: u32| Entry {
            index: i,
            start: (i * 65) % (1 << START_BITS),
        };
        for i in 0..1000 {
            assert_eq!(table.find(hash(i), |e| e.index == i), None);
            table.insert(hash(i), entry(i), |e| hash(e.index));
            assert!(table.len * 8 <= table.groups.len() * 8 * 7);
            if i % 97 == 0 || i < 40 {
                for j in 0..=i {
                    assert_eq!(table.find(hash(j), |e| e.index == j), Some(entry(j)), "{j} after {i}");
                }
            }
        }
        assert_eq!(table.groups.len(), 256);
        assert_eq!(table.allocation_size(), 256 * 64);
        // The first entry whose tag matches, whatever its id: tag 2 is entry 2's.
        assert_eq!(table.find(hash(2), |_| true).map(|e| e.index % 3), Some(2));
        assert_eq!(table.find(3 << 56 | 0xffff, |_| true), None, "no entry has tag 3");
    }
}

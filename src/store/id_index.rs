//! The index from a user id to its number: open addressing with linear
//! probing in one table of 8-byte entries, of any size (not a power of two),
//! kept between 70% and 85% full.
//!
//! An entry packs the user's number, where the id's entry starts in its arena
//! chunk and a 9-bit tag of the id's hash. A lookup starts at the first slot
//! of a bucket of eight, one cache line, and reads on from there: nearly
//! always the entry is in that line. It compares the arena only for an entry
//! whose tag matches: one in 512 of the others. The table costs 8
//! bytes over its fill, 9.4 to 11.4 bytes a user; `hashbrown`'s tables, a
//! power of two buckets of 9 bytes (the entry and its control byte) between
//! 44% and 87.5% full, cost 10.3 to 20.6 and read the control byte and the
//! entry from two places.
//!
//! A batch of lookups takes the work in passes (`Interner::get_batch`): the
//! hashes; every id's first slot; the matching entries; their ids' first
//! bytes in the arena; the comparisons. The passes that load are tight loops
//! of loads independent of one another, so that the processor keeps many of
//! their cache misses in flight at once, as hash joins do with group
//! prefetching.

/// The table of entries: see the module's documentation.
#[derive(Clone, Debug, Default)]
pub(crate) struct IdIndex {
    /// The slots, eight to a cache line: slot `i` is `buckets[i / 8].0[i % 8]`.
    buckets: Vec<Bucket>,
    len: usize,
}

/// Eight slots, one cache line: a lookup starts at the first slot of its
/// hash's bucket, so that the line it loads first holds the entry it seeks
/// unless the bucket overflowed.
#[derive(Clone, Copy, Debug)]
#[repr(align(64))]
struct Bucket([u64; 8]);

/// A slot that holds no entry: no entry is all ones, since no id starts at
/// `START_MASK` in its chunk (a chunk is at most 65,536 × 65 bytes).
const EMPTY: u64 = u64::MAX;
const START_SHIFT: u32 = 32;
const START_MASK: u64 = (1 << 23) - 1;
const TAG_SHIFT: u32 = 55;
const TAG_MASK: u64 = (1 << 9) - 1;

const _A_CHUNK_FITS_THE_START: () = assert!(65_536 * 65 < START_MASK);

/// Where a lookup of one hash starts, and the tag it looks for.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Probe {
    home: usize,
    tag: u64,
}

/// An entry's number and start.
#[inline(always)]
fn split(e: u64) -> (u32, u32) {
    (e as u32, (e >> START_SHIFT & START_MASK) as u32)
}

impl IdIndex {
    /// Where a lookup of `hash` starts: the first slot of the bucket at the
    /// hash's fraction of the table (its high bits), and the tag from its
    /// low bits.
    #[inline(always)]
    pub(crate) fn probe(&self, hash: u64) -> Probe {
        Probe {
            home: (((u128::from(hash) * self.buckets.len() as u128) >> 64) as usize) * 8,
            tag: hash & TAG_MASK,
        }
    }

    fn slots(&self) -> usize {
        self.buckets.len() * 8
    }

    #[inline(always)]
    fn slot(&self, i: usize) -> Option<u64> {
        self.buckets.get(i / 8).map(|b| b.0[i % 8])
    }

    /// The probe's first slot: a load of its own, for a batch to make early
    /// and hand to [`candidate`](Self::candidate).
    #[inline(always)]
    pub(crate) fn first(&self, p: Probe) -> u64 {
        self.slot(p.home).unwrap_or(EMPTY)
    }

    /// The number and start of the first entry from `p` on whose tag
    /// matches, given the probe's `first` slot: nearly always the entry
    /// sought, if it is there (to be confirmed against the arena).
    #[inline(always)]
    pub(crate) fn candidate(&self, p: Probe, first: u64) -> Option<(u32, u32)> {
        match first {
            EMPTY => None,
            e if e >> TAG_SHIFT == p.tag => Some(split(e)),
            _ => self.find(p, |_, _| true),
        }
    }

    /// The number and start of the first entry from `p` on whose tag
    /// matches and for which `is(number, start)` holds; `None` at the first
    /// empty slot.
    #[inline(always)]
    pub(crate) fn find(&self, p: Probe, mut is: impl FnMut(u32, u32) -> bool) -> Option<(u32, u32)> {
        let mut i = p.home;
        loop {
            let e = self.slot(i)?;
            if e == EMPTY {
                return None;
            }
            if e >> TAG_SHIFT == p.tag {
                let (number, start) = split(e);
                if is(number, start) {
                    return Some((number, start));
                }
            }
            i += 1;
            if i == self.slots() {
                i = 0;
            }
        }
    }

    /// Adds the entry of `number`, whose id (hashed to `hash`) starts at
    /// `start` in its chunk; the id must not be in the index. `rehash`
    /// gives the hash of the id of another entry, for growing.
    pub(crate) fn insert(&mut self, hash: u64, number: u32, start: u32, rehash: impl Fn(u32, u32) -> u64) {
        debug_assert!(u64::from(start) < START_MASK);
        if (self.len + 1) * 20 > self.slots() * 17 {
            self.grow(rehash);
        }
        let entry = u64::from(number) | u64::from(start) << START_SHIFT | (hash & TAG_MASK) << TAG_SHIFT;
        let p = self.probe(hash);
        self.place(p, entry);
        self.len += 1;
    }

    /// Puts `entry` in the first empty slot from `p` on (there is one).
    fn place(&mut self, p: Probe, entry: u64) {
        let mut i = p.home;
        while self.buckets[i / 8].0[i % 8] != EMPTY {
            i += 1;
            if i == self.slots() {
                i = 0;
            }
        }
        self.buckets[i / 8].0[i % 8] = entry;
    }

    /// A table 70% full for one entry more, with every entry moved there.
    fn grow(&mut self, rehash: impl Fn(u32, u32) -> u64) {
        let buckets = ((self.len + 1) * 10 / 7).div_ceil(8).max(2);
        let old = std::mem::replace(&mut self.buckets, vec![Bucket([EMPTY; 8]); buckets]);
        for e in old.into_iter().flat_map(|b| b.0).filter(|&e| e != EMPTY) {
            let (number, start) = split(e);
            let p = self.probe(rehash(number, start));
            self.place(p, e);
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.buckets.capacity() * 64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Entries found by their hash, whatever their neighbours and through
    /// growth and wrapping round the end; tags that collide are told apart
    /// by `is`; a missing hash is not found.
    #[test]
    fn entries_are_found_through_growth() {
        // Hashes that collide in their tags and crowd the end of the table.
        let hash = |n: u32| u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15) | u64::MAX << 62 & !TAG_MASK;
        let mut index = IdIndex::default();
        for n in 0..5_000u32 {
            index.insert(hash(n) & !TAG_MASK | 7, n, n * 3, |m, _| hash(m) & !TAG_MASK | 7);
            assert!(index.len * 20 <= index.slots() * 17);
            if n % 499 == 0 {
                for m in 0..=n {
                    let p = index.probe(hash(m) & !TAG_MASK | 7);
                    assert_eq!(index.find(p, |k, _| k == m), Some((m, m * 3)), "{m} of {n}");
                    let candidate = index.candidate(p, index.first(p));
                    assert!(candidate.is_some_and(|(k, _)| k <= n), "{m} of {n}");
                }
                let p = index.probe(hash(n + 1) & !TAG_MASK | 7);
                assert_eq!(index.find(p, |k, _| k == n + 1), None);
            }
        }
        assert!(index.heap_bytes() <= 5_000 * 12, "{}", index.heap_bytes());
    }
}

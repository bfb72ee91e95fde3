//! Users' levels on one conversation or subchannel, keyed by handle.

use std::hash::{BuildHasherDefault, Hasher};

use hashbrown::HashMap;

use crate::model::Level;
use crate::store::interner::UserHandle;

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
/// order when the members are. A map too sparse for the bitmap (a large
/// group where a handful of members set a level) keeps a filter instead: a
/// bitmap of at least 64 bits per entry indexed by a hash of the handle
/// ([`slot`]), with every held handle's bit set; a clear bit is then the
/// same "no" in one bit, and a set one (a held handle, or at most one handle
/// in 32 that shares its bit) is asked of the map.
///
/// (A byte per handle instead of a bit, to skip the hash probe for the users
/// who are in the map, was tried and measured no faster on the benchmark's
/// world, so the simpler bitmap stays.)
#[derive(Clone, Debug, Default)]
pub(crate) struct LevelMap {
    /// By handle number: the handles' lineage is the settings', checked
    /// before a handle gets here.
    levels: HashMap<u32, Level, BuildHasherDefault<HandleHasher>>,
    /// Either empty, or bit `h` is set exactly when `levels` holds handle `h`,
    /// for every `h` below `64 * present.len()`, and `levels` holds no
    /// handle at or above that.
    present: Vec<u64>,
    /// The largest handle `levels` has held since it was last empty.
    max: u32,
    /// Empty exactly when `present` is not or `levels` is; else a power of
    /// two words in which bit [`slot`]`(h, filter_shift(len))` is set for
    /// every handle `h` that `levels` holds (and for some it no longer does:
    /// `stale` counts removals since it was built).
    filter: Vec<u64>,
    stale: usize,
}

/// Which handles a [`LevelMap`] may hold, one bit each.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Presence<'a> {
    /// Exact for every handle: bit `h` of word `h / 64` is set exactly when
    /// the map holds `h` (a handle past the end is not held). What an empty
    /// map and a dense one keep.
    Bitmap(&'a [u64]),
    /// The filter of a sparse map and the shift [`slot`] takes for it: bit
    /// `slot(h, shift)` is set for every handle `h` the map holds.
    Filter(&'a [u64], u32),
}

/// Where the handle numbered `h` sits in a filter of `64 << (58 - shift)`
/// bits: the top bits of `h` times an odd constant (Fibonacci hashing),
/// which spread handles that are close together over the whole filter.
#[inline(always)]
pub(crate) fn slot(h: usize, shift: u32) -> usize {
    ((h as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> shift) as usize
}

/// The shift that [`slot`] takes for a filter of `words` words (a power of two).
fn filter_shift(words: usize) -> u32 {
    58 - words.trailing_zeros()
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
        self.levels.get(&(h.index() as u32)).copied()
    }

    pub(crate) fn insert(&mut self, h: UserHandle, level: Level) {
        self.levels.insert(h.index() as u32, level);
        self.max = self.max.max(h.index() as u32);
        if self.reindex() {
        } else if !self.present.is_empty() {
            let words = self.max as usize / 64 + 1;
            if self.present.len() < words {
                self.present.resize(words, 0);
            }
            self.present[h.index() / 64] |= 1 << (h.index() % 64);
        } else if self.levels.len() > self.filter.len() {
            // Below 64 bits an entry: twice the size.
            self.refilter();
        } else {
            let s = slot(h.index(), filter_shift(self.filter.len()));
            self.filter[s / 64] |= 1 << (s % 64);
        }
    }

    pub(crate) fn remove(&mut self, h: UserHandle) {
        if self.levels.remove(&(h.index() as u32)).is_none() {
            return;
        }
        if self.levels.is_empty() {
            *self = LevelMap::default();
        } else if self.reindex() {
        } else if !self.present.is_empty() {
            if let Some(word) = self.present.get_mut(h.index() / 64) {
                *word &= !(1 << (h.index() % 64));
            }
        } else {
            // The bit may be another handle's too: left set until the
            // stale bits are as many as the entries, then rebuilt.
            self.stale += 1;
            if self.stale > self.levels.len() {
                self.refilter();
            }
        }
    }

    /// Builds the filter afresh: a power of two words, at least one per entry.
    fn refilter(&mut self) {
        let words = self.levels.len().next_power_of_two();
        let shift = filter_shift(words);
        self.filter = vec![0; words];
        for &k in self.levels.keys() {
            let s = slot(k as usize, shift);
            self.filter[s / 64] |= 1 << (s % 64);
        }
        self.stale = 0;
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
                for &k in self.levels.keys() {
                    self.present[k as usize / 64] |= 1 << (k % 64);
                }
                self.filter = Vec::new();
                true
            }
            (false, _, false) => {
                self.present = Vec::new();
                self.refilter();
                true
            }
            _ => false,
        }
    }

    /// How the map answers "do you hold `h`?" in a bit: see [`Presence`].
    #[inline]
    pub(crate) fn presence(&self) -> Presence<'_> {
        match self.filter.is_empty() {
            true => Presence::Bitmap(&self.present),
            false => Presence::Filter(&self.filter, filter_shift(self.filter.len())),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    /// The handle numbers in the map, with their levels.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, Level)> + '_ {
        self.levels.iter().map(|(&h, &l)| (h as usize, l))
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.levels.allocation_size() + (self.present.capacity() + self.filter.capacity()) * 8
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
            let h = UserHandle::numbered(h);
            if insert {
                let level = levels[n % 5];
                map.insert(h, level);
                truth.insert(h, level);
            } else {
                map.remove(h);
                truth.remove(&h);
            }
            kinds.insert((map.present.is_empty(), map.filter.is_empty()));
            // Every held handle is in the bitmap or the filter, whichever the map keeps.
            match map.presence() {
                Presence::Bitmap(_) => assert!(map.filter.is_empty()),
                Presence::Filter(filter, shift) => {
                    assert!(map.present.is_empty());
                    let s = slot(h.index(), shift);
                    let held = truth.contains_key(&h);
                    assert!(!held || filter[s / 64] >> (s % 64) & 1 == 1, "{h:?} after step {n}");
                    for k in truth.keys() {
                        let s = slot(k.index(), shift);
                        assert_eq!(filter[s / 64] >> (s % 64) & 1, 1, "{k:?} after step {n}");
                    }
                    assert!(filter.len().is_power_of_two() && filter.len() >= truth.len());
                    assert!(filter.len() <= 2 * truth.len() + 2 * map.stale, "bounded: {n}");
                }
            }
            if n % 997 == 0 {
                for probe in (0..2_000_000u32).step_by(997).chain(0..300) {
                    let probe = UserHandle::numbered(probe);
                    assert_eq!(map.get(probe), truth.get(&probe).copied(), "{probe:?} after step {n}");
                }
            }
        }
        assert_eq!(
            kinds.len(),
            2,
            "the test went through the map with its bitmap and with its filter"
        );
    }
}

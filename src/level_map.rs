//! Users' levels on one conversation or subchannel, keyed by handle.

use std::hash::{BuildHasherDefault, Hasher};

use hashbrown::HashMap;

use crate::interner::UserHandle;
use crate::model::Level;

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
    /// By handle number: the handles' lineage is the settings', checked
    /// before a handle gets here.
    levels: HashMap<u32, Level, BuildHasherDefault<HandleHasher>>,
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
        self.levels.get(&(h.index() as u32)).copied()
    }

    pub(crate) fn insert(&mut self, h: UserHandle, level: Level) {
        self.levels.insert(h.index() as u32, level);
        self.max = self.max.max(h.index() as u32);
        if !self.reindex() && !self.present.is_empty() {
            let words = self.max as usize / 64 + 1;
            if self.present.len() < words {
                self.present.resize(words, 0);
            }
            self.present[h.index() / 64] |= 1 << (h.index() % 64);
        }
    }

    pub(crate) fn remove(&mut self, h: UserHandle) {
        self.levels.remove(&(h.index() as u32));
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
                for &k in self.levels.keys() {
                    self.present[k as usize / 64] |= 1 << (k % 64);
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

    /// The presence bitmap, exact for every handle (bit `h` of word `h / 64`
    /// is set exactly when the map holds `h`; a handle past the end is not
    /// held), when the map keeps one or is empty.
    #[inline]
    pub(crate) fn bitmap(&self) -> Option<&[u64]> {
        (self.levels.is_empty() || !self.present.is_empty()).then_some(&self.present[..])
    }

    /// Whether the map holds handle `h`: for a map without a bitmap, one
    /// probe of the hash map, which for such a map is small (fewer than one
    /// entry per 128 handles) and stays in cache through a fanout.
    #[inline(always)]
    pub(crate) fn holds(&self, h: UserHandle) -> bool {
        self.levels.contains_key(&(h.index() as u32))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.levels.is_empty()
    }

    /// The handle numbers in the map, with their levels.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, Level)> + '_ {
        self.levels.iter().map(|(&h, &l)| (h as usize, l))
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.levels.allocation_size() + self.present.capacity() * 8
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
            kinds.insert(map.present.is_empty());
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
            "the test went through the map with and without its bitmap"
        );
    }
}

//! Users' levels on one conversation or subchannel, keyed by handle.

use std::hash::{BuildHasherDefault, Hasher};

use hashbrown::HashMap;

use crate::model::Level;
use crate::store::interner::UserHandle;
use crate::store::record::level_of_code;

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
/// While the map is dense enough (at least one handle in 128 of the span it
/// covers holds a level), it is a column of 4-bit codes by handle number,
/// two to a byte ([`code_at`]): a fanout reads each recipient's level there,
/// in handle order when the members are, and the per-message table decides
/// it with the rest of the recipient's layers (`decide/fanout.rs`), so a
/// member who set a level stays on the fast path. Half a byte a handle is
/// at most 64 bytes an entry at the threshold (128 before the column is
/// dropped again).
///
/// A map too sparse for the column (a large group where a handful of
/// members set a level) is a hash map, with a filter: a bitmap of at least
/// 64 bits per entry indexed by a hash of the handle ([`slot`]), with every
/// held handle's bit set; a clear bit is then "not held" in one bit, and a
/// set one (a held handle, or at most one handle in 32 that shares its bit)
/// is asked of the map.
#[derive(Clone, Debug, Default)]
pub(crate) struct LevelMap {
    /// A sparse map's levels by handle number (the handles' lineage is the
    /// settings', checked before a handle gets here); empty while `codes`
    /// is not.
    levels: HashMap<u32, Level, BuildHasherDefault<HandleHasher>>,
    /// A dense map's levels: handle `h`'s code ([`code_at`]) for every `h`
    /// up to `max`; empty while the map is sparse or empty.
    codes: Vec<u8>,
    /// How many handles hold a level.
    len: usize,
    /// The largest handle the map has held since it was last empty.
    max: u32,
    /// Empty exactly when `codes` is not or the map is empty; else a power
    /// of two words in which bit [`slot`]`(h, filter_shift(len))` is set for
    /// every handle `h` that `levels` holds (and for some it no longer does:
    /// `stale` counts removals since it was built).
    filter: Vec<u64>,
    stale: usize,
}

/// How a fanout reads a [`LevelMap`] without asking it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Column<'a> {
    /// Exact for every handle: [`code_at`]`(codes, h)` is the level code of
    /// handle `h` (0 past the end: not set). What an empty map and a dense
    /// one keep.
    Codes(&'a [u8]),
    /// The filter of a sparse map and the shift [`slot`] takes for it: bit
    /// `slot(h, shift)` is set for every handle `h` the map holds.
    Filter(&'a [u64], u32),
}

/// The 4-bit level code of handle number `h` in a column: 0 when not set
/// (or past the end), else [`Level::index`]` + 1`, the code of the type
/// levels in the user record ([`level_of_code`]).
#[inline(always)]
pub(crate) fn code_at(codes: &[u8], h: usize) -> u64 {
    codes.get(h / 2).map_or(0, |&b| u64::from(b >> (h % 2 * 4) & 0xF))
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

/// Sets handle `h`'s code in `codes`, growing it to reach `h`; the old code.
fn set_code(codes: &mut Vec<u8>, h: usize, code: u8) -> u8 {
    if codes.len() <= h / 2 {
        codes.resize(h / 2 + 1, 0);
    }
    let shift = h % 2 * 4;
    let byte = &mut codes[h / 2];
    let old = *byte >> shift & 0xF;
    *byte = (*byte & !(0xF << shift)) | code << shift;
    old
}

/// The code of `level` in a column.
fn code_of(level: Level) -> u8 {
    level.index() as u8 + 1
}

impl LevelMap {
    /// The column is kept while `max + 1 <= len * DENSITY`: half a byte per
    /// handle is then at most 64 bytes per entry.
    const DENSITY: usize = 128;

    #[inline]
    pub(crate) fn get(&self, h: UserHandle) -> Option<Level> {
        if !self.codes.is_empty() {
            return level_of_code(code_at(&self.codes, h.index()));
        }
        self.levels.get(&(h.index() as u32)).copied()
    }

    pub(crate) fn insert(&mut self, h: UserHandle, level: Level) {
        self.max = self.max.max(h.index() as u32);
        if !self.codes.is_empty() && !self.dense(self.len + 1, 2) {
            // Far past the column: it is dropped before it would grow there.
            self.make_sparse();
        }
        let new = match self.codes.is_empty() {
            false => set_code(&mut self.codes, h.index(), code_of(level)) == 0,
            true => self.levels.insert(h.index() as u32, level).is_none(),
        };
        self.len += usize::from(new);
        if self.reindex() || !self.codes.is_empty() {
        } else if self.len > self.filter.len() {
            // Below 64 bits an entry: twice the size.
            self.refilter();
        } else {
            let s = slot(h.index(), filter_shift(self.filter.len()));
            self.filter[s / 64] |= 1 << (s % 64);
        }
    }

    pub(crate) fn remove(&mut self, h: UserHandle) {
        let held = match self.codes.is_empty() {
            false => code_at(&self.codes, h.index()) != 0 && set_code(&mut self.codes, h.index(), 0) != 0,
            true => self.levels.remove(&(h.index() as u32)).is_some(),
        };
        if !held {
            return;
        }
        self.len -= 1;
        if self.len == 0 {
            *self = LevelMap::default();
        } else if self.reindex() || !self.codes.is_empty() {
        } else {
            // The bit may be another handle's too: left set until the
            // stale bits are as many as the entries, then rebuilt.
            self.stale += 1;
            if self.stale > self.len {
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

    /// Whether a map of `len` entries up to `max` is dense enough for the
    /// column, with the threshold `slack` times as far.
    fn dense(&self, len: usize, slack: usize) -> bool {
        (self.max as usize) < len * Self::DENSITY * slack
    }

    /// The column's levels moved to the hash map, and its filter built.
    fn make_sparse(&mut self) {
        self.levels = self.iter().map(|(h, l)| (h as u32, l)).collect();
        self.codes = Vec::new();
        self.refilter();
    }

    /// Builds or drops the column when the density crosses the threshold:
    /// built as soon as it is dense enough, dropped only once it is half as
    /// dense again, so that a map near the threshold is not rebuilt at every
    /// change. Whether it did either.
    fn reindex(&mut self) -> bool {
        match (self.codes.is_empty(), self.dense(self.len, 1), self.dense(self.len, 2)) {
            (true, true, _) => {
                let bytes = (self.max as usize + 1).div_ceil(2);
                let mut codes = Vec::new();
                codes.reserve_exact(bytes);
                codes.resize(bytes, 0);
                for (&k, &l) in &self.levels {
                    set_code(&mut codes, k as usize, code_of(l));
                }
                self.codes = codes;
                self.levels = HashMap::default();
                self.filter = Vec::new();
                true
            }
            (false, _, false) => {
                self.make_sparse();
                true
            }
            _ => false,
        }
    }

    /// How a fanout reads the map: see [`Column`].
    #[inline]
    pub(crate) fn column(&self) -> Column<'_> {
        match self.filter.is_empty() {
            true => Column::Codes(&self.codes),
            false => Column::Filter(&self.filter, filter_shift(self.filter.len())),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the map is a column of codes ([`Column::Codes`], not empty).
    pub(crate) fn is_column(&self) -> bool {
        !self.codes.is_empty()
    }

    /// The handle numbers in the map, with their levels.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, Level)> + '_ {
        let dense = (0..self.codes.len() * 2).filter_map(|h| Some((h, level_of_code(code_at(&self.codes, h))?)));
        dense.chain(self.levels.iter().map(|(&h, &l)| (h as usize, l)))
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.levels.allocation_size() + self.codes.capacity() + self.filter.capacity() * 8
    }
}

#[cfg(test)]
mod level_map_tests {
    use super::*;

    /// With its column and without, as it fills and empties, the map answers
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
        // Sparse first (handles far apart), then dense, then a handle far
        // past the column (which must not grow to reach it), then emptied
        // again.
        let far = 3_000_000_000;
        let steps = (0..200u32)
            .map(|i| (i * 9_973, true))
            .chain((0..20_000u32).map(|i| (i, true)))
            .chain([(far, true), (far, false), (far - 1, true)])
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
            kinds.insert((map.codes.is_empty(), map.filter.is_empty()));
            // Every held handle is in the column or the filter, whichever the map keeps.
            match map.column() {
                Column::Codes(codes) => {
                    assert!(map.filter.is_empty() && map.levels.is_empty());
                    let held = truth.get(&h).copied();
                    assert_eq!(level_of_code(code_at(codes, h.index())), held, "{h:?} after step {n}");
                    assert!(codes.len() <= (map.max as usize + 1).div_ceil(2));
                }
                Column::Filter(filter, shift) => {
                    assert!(map.codes.is_empty());
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
            assert_eq!(map.len, truth.len(), "after step {n}");
            assert!(map.heap_bytes() <= 64 * 1024 + 128 * truth.len(), "after step {n}");
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
            "the test went through the map with its column and with its filter"
        );
    }
}

//! The recipients of held items, numbered in the order first held: an item
//! names its recipient by number (4 bytes), and the recipient's counts (for
//! the detail limit) live here once.
//!
//! The ids are one arena, one after the other in number order (no
//! allocation per recipient), and found through a hash table of numbers
//! whose growth rehashes each id from the arena. A fanout reserves room for
//! the recipients sure to be new before adding them, so that a fanout into
//! an empty store grows the table once.

use std::hash::BuildHasher;

use hashbrown::hash_table::Entry as Slot;
use hashbrown::{DefaultHashBuilder, HashTable};

/// One recipient's counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Where their id starts in the arena, and its length.
    start: usize,
    len: u32,
    /// Items held in detail.
    pub(crate) detailed: u32,
    /// Items folded into a count, for the next digest.
    pub(crate) folded: u64,
    /// The message whose recipients were last held for them (a recipient
    /// given twice is held once).
    pub(crate) last_seq: u64,
}

/// The recipients of held items, by number.
#[derive(Clone, Debug, Default)]
pub(crate) struct Recipients {
    /// Every recipient's id, in number order, without separators.
    ids: String,
    pub(crate) entries: Vec<Entry>,
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl Recipients {
    fn hash(&self, id: &str) -> u64 {
        self.hasher.hash_one(id)
    }

    /// The id of recipient `n` (one of [`number`](Self::number)'s answers).
    #[inline]
    pub(crate) fn id(&self, n: u32) -> &str {
        id_of(&self.ids, &self.entries[n as usize])
    }

    /// The id of recipient `n`, and their counts to change.
    #[inline]
    pub(crate) fn id_and_entry(&mut self, n: u32) -> (&str, &mut Entry) {
        let e = &mut self.entries[n as usize];
        (id_of(&self.ids, e), e)
    }

    /// How many recipients are numbered.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Room for `more` recipients more without growing.
    pub(crate) fn reserve(&mut self, more: usize) {
        self.entries.reserve(more);
        let (ids, entries, hasher) = (&self.ids, &self.entries, &self.hasher);
        self.index
            .reserve(more, |&n| hasher.hash_one(id_of(ids, &entries[n as usize])));
    }

    pub(crate) fn find(&self, id: &str) -> Option<u32> {
        let (ids, entries) = (&self.ids, &self.entries);
        self.index
            .find(self.hash(id), |&n| id_of(ids, &entries[n as usize]) == id)
            .copied()
    }

    /// The number of recipient `id`, numbering them if new.
    ///
    /// # Panics
    /// When 2³² recipients are numbered at once (about 100 GB of items).
    pub(crate) fn number(&mut self, id: &str) -> u32 {
        let hash = self.hash(id);
        let (ids, entries, hasher) = (&mut self.ids, &mut self.entries, &self.hasher);
        match self.index.entry(
            hash,
            |&n| id_of(ids, &entries[n as usize]) == id,
            |&n| hasher.hash_one(id_of(ids, &entries[n as usize])),
        ) {
            Slot::Occupied(o) => *o.get(),
            Slot::Vacant(v) => {
                let n = u32::try_from(entries.len()).expect("fewer than 2^32 recipients held");
                entries.push(Entry {
                    start: ids.len(),
                    len: u32::try_from(id.len()).expect("an id shorter than 4 GiB"),
                    detailed: 0,
                    folded: 0,
                    last_seq: u64::MAX,
                });
                ids.push_str(id);
                v.insert(n);
                n
            }
        }
    }

    /// Keeps the recipients with something held; `renumber[old]` is the new
    /// number of each kept one (`u32::MAX` for the others).
    pub(crate) fn compact(&mut self) -> Vec<u32> {
        let mut renumber = vec![u32::MAX; self.entries.len()];
        let kept = self.entries.iter().filter(|e| e.detailed > 0 || e.folded > 0).count();
        let mut fresh = Recipients {
            ids: String::new(),
            entries: Vec::with_capacity(kept),
            index: HashTable::with_capacity(kept),
            hasher: self.hasher,
        };
        for (old, e) in self.entries.iter().enumerate() {
            if e.detailed > 0 || e.folded > 0 {
                let n = fresh.number(self.id(old as u32));
                renumber[old] = n;
                let new = &mut fresh.entries[n as usize];
                (new.detailed, new.folded, new.last_seq) = (e.detailed, e.folded, e.last_seq);
            }
        }
        fresh.ids.shrink_to_fit();
        *self = fresh;
        renumber
    }
}

/// The id of the recipient with entry `e`, in `ids`.
#[inline]
fn id_of<'a>(ids: &'a str, e: &Entry) -> &'a str {
    &ids[e.start..e.start + e.len as usize]
}

#[cfg(test)]
mod tests {
    use super::Recipients;

    /// Numbering, finding and compacting against a map, across the growth
    /// of the table, with ids of every length (an empty one included).
    #[test]
    fn numbers_find_and_compact_as_a_map_does() {
        let mut r = Recipients::default();
        let mut naive: Vec<String> = Vec::new();
        let id = |i: usize| "u".repeat(i % 7) + &(i * 7919 % 5000).to_string();
        for i in 0..20_000 {
            if i % 5000 == 0 {
                r.reserve(3000);
            }
            let id = id(i);
            let n = r.number(&id) as usize;
            match naive.iter().position(|x| *x == id) {
                Some(p) => assert_eq!(p, n, "{id}"),
                None => {
                    assert_eq!(n, naive.len(), "{id}");
                    naive.push(id.clone());
                }
            }
            assert_eq!(r.id(n as u32), id);
        }
        assert_eq!(r.number(""), naive.len() as u32);
        naive.push(String::new());
        for (n, id) in naive.iter().enumerate() {
            assert_eq!(r.find(id), Some(n as u32));
            assert_eq!(r.id(n as u32), id);
        }
        assert_eq!(r.find("nobody"), None);
        // Keep every third.
        for (n, e) in r.entries.iter_mut().enumerate() {
            e.detailed = u32::from(n % 3 == 0);
        }
        let renumber = r.compact();
        let kept: Vec<&String> = naive.iter().step_by(3).collect();
        assert_eq!(r.len(), kept.len());
        for (old, id) in naive.iter().enumerate() {
            match old % 3 {
                0 => {
                    assert_eq!(renumber[old], (old / 3) as u32);
                    assert_eq!(r.find(id), Some(renumber[old]));
                    assert_eq!(r.id(renumber[old]), id);
                }
                _ => {
                    assert_eq!(renumber[old], u32::MAX);
                    assert_eq!(r.find(id), None);
                }
            }
        }
    }
}

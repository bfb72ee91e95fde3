//! A set of user numbers, kept in ascending order, sized to what it holds:
//! the numbers are cut in blocks of 2¹⁶ by their high half, and each block
//! is a sorted list of its low halves while it holds at most
//! [`LIST_MAX`] of them (2 bytes a member), a bitmap of 2¹⁶ bits (8 KiB)
//! once it holds more. So a group of three costs a few bytes, an ultra
//! group of ten million members among as many users about 1.25 MB, and a
//! join or a quit touches one block: at most [`LIST_MAX`] numbers moved, or
//! one bit. Walking the set gives the numbers in ascending order, the
//! order the fanout reads the users' records best.

use std::collections::BTreeMap;

/// The most numbers a block keeps as a sorted list (8 KiB, as a bitmap).
pub(crate) const LIST_MAX: usize = 4096;
/// Words of a block's bitmap.
const WORDS: usize = 1 << 10;

/// One block of 2¹⁶ numbers.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Block {
    /// The low halves held, ascending.
    List(Vec<u16>),
    /// One bit per low half, and how many are set.
    Bits(Box<[u64; WORDS]>, u32),
}

impl Block {
    fn len(&self) -> usize {
        match self {
            Block::List(l) => l.len(),
            Block::Bits(_, n) => *n as usize,
        }
    }

    fn contains(&self, low: u16) -> bool {
        match self {
            Block::List(l) => l.binary_search(&low).is_ok(),
            Block::Bits(b, _) => b[usize::from(low >> 6)] >> (low & 63) & 1 == 1,
        }
    }

    /// Adds `low`; whether it was new.
    fn insert(&mut self, low: u16) -> bool {
        match self {
            Block::List(l) => match l.binary_search(&low) {
                Ok(_) => false,
                Err(at) => {
                    l.insert(at, low);
                    if l.len() > LIST_MAX {
                        let mut bits = Box::new([0u64; WORDS]);
                        for &x in l.iter() {
                            bits[usize::from(x >> 6)] |= 1 << (x & 63);
                        }
                        *self = Block::Bits(bits, (LIST_MAX + 1) as u32);
                    }
                    true
                }
            },
            Block::Bits(b, n) => {
                let (w, bit) = (usize::from(low >> 6), 1u64 << (low & 63));
                let new = b[w] & bit == 0;
                b[w] |= bit;
                *n += u32::from(new);
                new
            }
        }
    }

    /// Removes `low`; whether it was held. A bitmap holding half of
    /// [`LIST_MAX`] or fewer becomes a list again (the gap keeps a block
    /// at the edge from changing form on every join and quit).
    fn remove(&mut self, low: u16) -> bool {
        match self {
            Block::List(l) => match l.binary_search(&low) {
                Ok(at) => {
                    l.remove(at);
                    true
                }
                Err(_) => false,
            },
            Block::Bits(b, n) => {
                let (w, bit) = (usize::from(low >> 6), 1u64 << (low & 63));
                let held = b[w] & bit != 0;
                b[w] &= !bit;
                *n -= u32::from(held);
                if (*n as usize) <= LIST_MAX / 2 {
                    let list = bits_of(b).collect();
                    *self = Block::List(list);
                }
                held
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Block::List(l) => l.capacity() * 2,
            Block::Bits(..) => WORDS * 8,
        }
    }
}

/// The low halves a bitmap holds, ascending.
fn bits_of(b: &[u64; WORDS]) -> impl Iterator<Item = u16> + '_ {
    b.iter().enumerate().flat_map(|(w, &word)| {
        let mut word = word;
        std::iter::from_fn(move || {
            if word == 0 {
                return None;
            }
            let bit = word.trailing_zeros();
            word &= word - 1;
            Some((w as u32 * 64 + bit) as u16)
        })
    })
}

/// User numbers, ascending, each once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct MemberSet {
    blocks: BTreeMap<u16, Block>,
    len: usize,
}

impl MemberSet {
    /// How many numbers the set holds.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn contains(&self, n: u32) -> bool {
        self.blocks
            .get(&((n >> 16) as u16))
            .is_some_and(|b| b.contains(n as u16))
    }

    /// Adds `n`; whether it was new.
    pub(crate) fn insert(&mut self, n: u32) -> bool {
        let new = self
            .blocks
            .entry((n >> 16) as u16)
            .or_insert_with(|| Block::List(Vec::new()))
            .insert(n as u16);
        self.len += usize::from(new);
        new
    }

    /// Removes `n`; whether it was held.
    pub(crate) fn remove(&mut self, n: u32) -> bool {
        let high = (n >> 16) as u16;
        let Some(block) = self.blocks.get_mut(&high) else {
            return false;
        };
        let held = block.remove(n as u16);
        if block.len() == 0 {
            self.blocks.remove(&high);
        }
        self.len -= usize::from(held);
        held
    }

    /// The numbers, ascending.
    pub(crate) fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.iter_from(0)
    }

    /// The numbers from `first` on, ascending.
    pub(crate) fn iter_from(&self, first: u32) -> impl Iterator<Item = u32> + '_ {
        let start = (first >> 16) as u16;
        self.blocks
            .range(start..)
            .flat_map(|(&high, block)| {
                let base = u32::from(high) << 16;
                let list: &[u16] = match block {
                    Block::List(l) => l,
                    Block::Bits(..) => &[],
                };
                let bits = match block {
                    Block::Bits(b, _) => Some(bits_of(b)),
                    Block::List(_) => None,
                };
                list.iter()
                    .copied()
                    .chain(bits.into_iter().flatten())
                    .map(move |low| base | u32::from(low))
            })
            // Within the first block only: at most 2¹⁶ passed over.
            .skip_while(move |&n| n < first)
    }

    /// Bytes held on the heap (the blocks, and about 16 bytes of tree per block).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.blocks.values().map(|b| b.heap_bytes() + 16).sum()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Joins and quits drawn to cross the list/bitmap edge both ways,
    /// checked against a `BTreeSet` after every step.
    #[test]
    fn agrees_with_a_btree_set_across_the_edge_between_list_and_bitmap() {
        let mut set = MemberSet::default();
        let mut oracle = BTreeSet::new();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for step in 0..40_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Two blocks, dense enough to turn into bitmaps, then thinned.
            let n = (x % 12_000) as u32 + if x & 1 == 0 { 0 } else { 1 << 16 };
            let joining = step < 25_000 || x.is_multiple_of(3);
            if joining {
                assert_eq!(set.insert(n), oracle.insert(n));
            } else {
                assert_eq!(set.remove(n), oracle.remove(&n));
            }
            assert_eq!(set.len(), oracle.len());
            if step.is_multiple_of(997) {
                assert!(set.iter().eq(oracle.iter().copied()), "step {step}");
                let from = n.saturating_sub(5);
                assert!(
                    set.iter_from(from).eq(oracle.range(from..).copied()),
                    "step {step} from {from}"
                );
            }
        }
        assert!(set.iter().eq(oracle.iter().copied()));
        for n in 0..20_000 {
            assert_eq!(set.contains(n), oracle.contains(&n));
        }
        for n in oracle.clone() {
            assert!(set.remove(n));
        }
        assert!(set.is_empty() && set.blocks.is_empty());
    }

    #[test]
    fn a_block_past_the_list_limit_is_a_bitmap_and_back_below_half() {
        let mut set = MemberSet::default();
        for n in 0..=LIST_MAX as u32 {
            set.insert(n * 3);
        }
        assert!(matches!(set.blocks[&0], Block::Bits(..)));
        for n in 0..=(LIST_MAX / 2) as u32 {
            set.remove(n * 3);
        }
        assert!(matches!(set.blocks[&0], Block::List(_)));
        assert_eq!(set.len(), LIST_MAX / 2);
    }
}

//! The members of the user groups a message mentions, resolved once at
//! prepare: a sorted list of handle numbers, and a hashed filter over them
//! (16 bits a member) that the fanout reads one bit of per recipient, so
//! that only members (and about one other recipient in 16) leave its table.

use crate::store::Settings;

const SPREAD: u64 = 0x9E37_79B9_7F4A_7C15;

/// The members of the mentioned groups.
#[derive(Clone, Debug, Default)]
pub(crate) struct GroupMembers {
    members: Vec<u32>,
    filter: Vec<u64>,
    shift: u32,
}

impl GroupMembers {
    /// The members of `groups` in `settings` (groups that do not exist
    /// mention no one).
    pub(crate) fn of(settings: &Settings, groups: &[&str]) -> GroupMembers {
        if groups.is_empty() || !settings.user_groups.any() {
            return GroupMembers::default();
        }
        let mut members: Vec<u32> = groups
            .iter()
            .filter_map(|g| settings.user_groups.members(g))
            .flatten()
            .copied()
            .collect();
        members.sort_unstable();
        members.dedup();
        if members.is_empty() {
            return GroupMembers::default();
        }
        let words = (members.len() / 4).next_power_of_two().max(1);
        let shift = 64 - (words * 64).trailing_zeros();
        let mut filter = vec![0u64; words];
        for &n in &members {
            let b = slot(n, shift);
            filter[b / 64] |= 1 << (b % 64);
        }
        GroupMembers { members, filter, shift }
    }

    /// Whether user number `n` is a member.
    #[inline]
    pub(crate) fn contains(&self, n: u32) -> bool {
        !self.members.is_empty() && self.members.binary_search(&n).is_ok()
    }

    /// The filter's words and shift, for [`slot`].
    pub(crate) fn filter(&self) -> (&[u64], u32) {
        (&self.filter, self.shift)
    }
}

/// The filter bit of user number `n` under `shift`.
#[inline(always)]
pub(crate) fn slot(n: u32, shift: u32) -> usize {
    (u64::from(n).wrapping_mul(SPREAD) >> shift) as usize
}

//! The mention filter: most recipients of a message that mentions users are
//! ruled out without searching the mentioned handles.

use crate::settings::UserHandle;

/// A 1024-bit filter over the handles of the mentioned users. A mentioned
/// recipient always has its bit set; with ten mentions, about one other
/// recipient in a hundred does. So nearly every recipient is ruled out
/// without searching the list.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct MentionFilter([u64; 16]);

impl MentionFilter {
    pub(super) fn of(handles: &[UserHandle]) -> MentionFilter {
        let mut filter = MentionFilter::default();
        for &h in handles {
            let (word, bit) = Self::position(h);
            filter.0[word] |= bit;
        }
        filter
    }

    #[inline(always)]
    fn position(h: UserHandle) -> (usize, u64) {
        let b = (h.index() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54;
        ((b >> 6) as usize, 1 << (b & 63))
    }

    #[inline(always)]
    pub(super) fn may_contain(&self, h: UserHandle) -> bool {
        let (word, bit) = Self::position(h);
        self.0[word] & bit != 0
    }
}

//! Who the message's sender and mentioned users are, as handles: resolved
//! once per message, when the first recipient is decided, not in `prepare`
//! (a one-to-one message in a type that reads no mentions never pays for
//! them, and `prepare` stays a few hundred nanoseconds).

use crate::model::Mentions;
use crate::store::interner::UserHandle;
use crate::store::Settings;

/// How many mentioned users are kept without allocating. A message that
/// mentions more (by id, users the settings know) allocates once, when its
/// first recipient is decided.
const INLINE: usize = 32;

/// The sender and the mentioned users, as handles.
#[derive(Clone, Debug)]
pub(crate) struct Audience {
    pub(crate) sender: Option<UserHandle>,
    /// A filter over the mentioned handles.
    pub(crate) filter: MentionFilter,
    mentioned: Mentioned,
}

/// The handles of the mentioned users, sorted, without duplicates.
// Inline on purpose: the common message mentions a few users, and boxing
// them would allocate once per message.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
enum Mentioned {
    Inline([Option<UserHandle>; INLINE], usize),
    Many(Vec<UserHandle>),
}

impl Audience {
    /// The sender `sender` and, when `counted`, the users `mentions` names,
    /// looked up in `settings`.
    pub(crate) fn of(settings: &Settings, sender: &str, mentions: Mentions<'_>, counted: bool) -> Audience {
        let ids = match mentions {
            Mentions::Users(ids) if counted => ids,
            _ => &[],
        };
        let mut inline = [None; INLINE];
        let mut n = 0;
        let mut many = Vec::new();
        for h in ids.iter().filter_map(|id| settings.user(id)) {
            if n < INLINE {
                inline[n] = Some(h);
                n += 1;
            } else {
                if many.is_empty() {
                    many.extend(inline.iter().flatten());
                }
                many.push(h);
            }
        }
        let mentioned = if many.is_empty() {
            inline[..n].sort_unstable();
            let mut kept = 0;
            for i in 0..n {
                if kept == 0 || inline[i] != inline[kept - 1] {
                    inline[kept] = inline[i];
                    kept += 1;
                }
            }
            inline[kept..].fill(None);
            Mentioned::Inline(inline, kept)
        } else {
            many.sort_unstable();
            many.dedup();
            Mentioned::Many(many)
        };
        let handles = match &mentioned {
            Mentioned::Inline(a, n) => &a[..*n],
            Mentioned::Many(_) => &[][..],
        };
        let mut filter = MentionFilter::default();
        handles.iter().flatten().for_each(|&h| filter.insert(h));
        if let Mentioned::Many(v) = &mentioned {
            v.iter().for_each(|&h| filter.insert(h));
        }
        Audience {
            sender: settings.user(sender),
            filter,
            mentioned,
        }
    }

    /// Whether the handle `h` is mentioned.
    #[inline(always)]
    pub(crate) fn mentions(&self, h: UserHandle) -> bool {
        self.filter.may_contain(h)
            && match &self.mentioned {
                Mentioned::Inline(a, n) => a[..*n].binary_search(&Some(h)).is_ok(),
                Mentioned::Many(v) => v.binary_search(&h).is_ok(),
            }
    }
}

/// A 1024-bit filter over the handles of the mentioned users. A mentioned
/// recipient always has its bit set; with ten mentions, about one other
/// recipient in a hundred does. So nearly every recipient is ruled out
/// without searching the list.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct MentionFilter([u64; 16]);

impl MentionFilter {
    fn insert(&mut self, h: UserHandle) {
        let (word, bit) = Self::position(h);
        self.0[word] |= bit;
    }

    /// The filter's words, for a loop that tests [`position`](Self::position)s itself.
    pub(crate) fn words(&self) -> &[u64; 16] {
        &self.0
    }

    /// The word and bit of handle `h`.
    #[inline(always)]
    pub(crate) fn position(h: UserHandle) -> (usize, u64) {
        let b = (h.index() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54;
        ((b >> 6) as usize, 1 << (b & 63))
    }

    #[inline(always)]
    pub(crate) fn may_contain(&self, h: UserHandle) -> bool {
        let (word, bit) = Self::position(h);
        self.0[word] & bit != 0
    }
}

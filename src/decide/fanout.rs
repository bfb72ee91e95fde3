//! The fanout: many recipients of one prepared message, decided in batches.
//!
//! Most recipients of most messages are not the sender, are not mentioned
//! and have no extended settings. For them the decision depends on seven
//! bits: whether the message falls in their period and the period's level
//! (from their packed record), and the first of their subchannel, conversation
//! and conversation-type levels that is set (the first two from the level
//! maps' columns of 4-bit codes, the last from the record). So `prepare`
//! works out the 128 possible answers once ([`Table`]) and such a recipient
//! costs the read of their 8-byte record and of two half bytes, the window
//! test, two selects and a table lookup: a member who customised the
//! conversation stays on this path. Every other recipient (an extended
//! record; for a layer whose map is too sparse for a column, a bit in that
//! map's filter; a hit in the mention filter, the sender; for a message that
//! concerns VIP lists or urgent consent, a bit in the presence bitmap of the
//! users who have a VIP list or allow urgent messages) is flagged by the same
//! few instructions and decided by the general path
//! (`PreparedMessage::decide_with`), which walks the user layers of `WALK`.
//! The table is built by the same `first_set` over the same slice of `WALK`
//! as the general path; the tests compare both with the naive oracle on
//! large worlds.

use super::audience::MentionFilter;
use super::{Decision, OverrideLayer, PreparedMessage};
use crate::decide::walk::{first_set, Layer, FIRST_LEVEL_LAYER};
use crate::error::Error;
use crate::model::{Level, PeriodLevel};
use crate::store::interner::UserHandle;
use crate::store::level_map::{code_at, slot, Column};
use crate::store::record::{
    level_of_code, window_contains, EXTENDED_SHIFT, LEN_SHIFT, PERIOD_LEVEL_SHIFT, SECONDS_MASK, TYPE_MASK, TYPE_SHIFT,
    ZONE_MASK, ZONE_SHIFT,
};
use crate::store::{Cursor, UserRecord};

#[cfg(feature = "parallel")]
mod threads;

/// How many recipients a batch gathers before deciding them. The gathering
/// loops do nothing but independent loads (hash lookups, user records), so
/// the processor keeps many cache misses in flight at once; interleaved with
/// the decisions' branches it would keep few. 64 measured better than 32
/// for shuffled members.
pub(super) const CHUNK: usize = 64;

/// The decision for a recipient who is decided by the period, the override
/// layers held in columns and the conversation-type level, and is not
/// mentioned, for each value of the seven bits of key that those depend on:
/// whether the message is in the period (bit 6), the period's level (bit
/// 5), and in bits 0..5 the first user layer after the period that holds a
/// level: `0b11_000 | code` the subchannel's, `0b10_000 | code` the
/// conversation's, else the type level's 3-bit code (0 for none).
#[derive(Clone, Copy, Debug)]
pub(super) struct Table {
    decisions: [Decision; 128],
    /// Where the message's conversation type's level sits in the record.
    type_shift: u32,
}

/// Where the gathering loops put a recipient's subchannel and conversation
/// level codes in their record's word: in the six bits above the record's
/// fields, so that the codes are read in the same tight loop of independent
/// loads as the records (their misses overlap) and travel with the word.
const SUB_SHIFT: u32 = 58;
const CONV_SHIFT: u32 = 61;
const RECORD_MASK: u64 = (1 << SUB_SHIFT) - 1;
const _CODES_ABOVE_THE_RECORD: () = assert!(TYPE_SHIFT + 4 * 3 <= SUB_SHIFT);

/// Bits 3..5 of a table key: which layer the code in bits 0..3 is of.
const KEY_CONVERSATION: u64 = 0b10_000;
const KEY_SUBCHANNEL: u64 = 0b11_000;

impl Table {
    /// The table for messages of conversation type `type_index` whose
    /// defaults come to `fallback`, where level `l` pushes to a recipient who
    /// is not mentioned when `pushes[l.index()]`. With `overrides` false (no
    /// override layer of the message is a column), only the keys without an
    /// override level are filled: the others cannot occur.
    pub(super) fn new(type_index: usize, fallback: (Layer, Level), pushes: &[bool; 5], overrides: bool) -> Table {
        let mut decisions = [Decision::SENDER; 128];
        for (key, d) in decisions.iter_mut().enumerate() {
            let layer = key as u64 & 0b11_000;
            if layer == 0b01_000 || (layer != 0 && !overrides) {
                continue;
            }
            let period_level = if key & 32 == 0 {
                PeriodLevel::Mentions
            } else {
                PeriodLevel::Nothing
            };
            let period = (key & 64 != 0).then_some(period_level.level());
            let code = level_of_code(key as u64 & 7);
            let user = match layer {
                KEY_SUBCHANNEL => [period, code, None, None],
                KEY_CONVERSATION => [period, None, code, None],
                _ => [period, None, None, code],
            };
            let (by, level) = first_set(FIRST_LEVEL_LAYER, user, fallback);
            *d = Decision {
                push: pushes[level.index()],
                by,
                level: Some(level),
            };
        }
        Table {
            decisions,
            type_shift: TYPE_SHIFT + 3 * type_index as u32,
        }
    }
}

/// What the fast path reads, for one batch call.
#[derive(Clone, Copy)]
pub(super) struct Fast<'p> {
    prepared: &'p PreparedMessage<'p>,
    decisions: &'p [Decision; 128],
    /// Where the message's conversation type's level sits in the record.
    type_shift: u32,
    /// The level columns of the subchannel and conversation layers (empty
    /// for a layer that is empty or in `sparse`): see `LevelMap`.
    subchannel: &'p [u8],
    conversation: &'p [u8],
    /// The filters (with their shifts) of the subchannel and conversation
    /// layers that are maps too sparse to keep a column (empty for the
    /// others): see `LevelMap`.
    sparse: [(&'p [u64], u32); 2],
    /// The sender's handle index, or `u64::MAX`.
    sender: u64,
    filter: &'p [u64; 16],
    /// For a message that concerns VIP lists (its sender is somebody's VIP),
    /// the presence bitmap of the users who have a VIP list; else empty.
    listers: &'p [u64],
    /// For an urgent message that somebody allows, the presence bitmap of
    /// the users who allow urgent messages; else empty.
    consenting: &'p [u64],
    /// For a message whose text holds somebody's keyword, the presence
    /// bitmap of the users who have keywords; else empty.
    keyworded: &'p [u64],
    /// For a message whose sender somebody mutes, the presence bitmap of
    /// the users who mute anybody; else empty.
    muting: &'p [u64],
    /// For a message that mentions user groups, the hashed filter over
    /// their members and its shift; else empty.
    members: (&'p [u64], u32),
    /// [`decide`](Self::decide)'s `POLICY`: [`NO_POLICY`] when none of the
    /// policy bitmaps and filters may be non-empty, [`KEYWORDS_ONLY`] when
    /// only `keyworded` may be, else [`ALL_POLICIES`].
    policy: u8,
    /// [`decide`](Self::decide)'s `SPARSE`: whether either of `sparse` is.
    any_sparse: bool,
    /// Whether the message has `disablePush`: then nothing but the sender
    /// matters ([`decide_disabled`](Self::decide_disabled)).
    disabled: bool,
}

/// The fast path's modes for the policy bitmaps (`Fast::policy`): none to
/// read; only the keyword holders' (a message whose text holds somebody's
/// keyword, and nothing else that concerns a policy: its own copy of the
/// loop, which reads one bitmap); all of them.
const NO_POLICY: u8 = 0;
const KEYWORDS_ONLY: u8 = 1;
const ALL_POLICIES: u8 = 2;

/// Bit `i` of `bits` (0 past its end), as 0 or 1.
#[inline(always)]
fn bit(bits: &[u64], i: usize) -> u64 {
    bits.get(i / 64).map_or(0, |w| w >> (i % 64) & 1)
}

/// Calls `$body` with `$f` bound to the fast path's `decide` for `$fast`'s
/// mode: one copy of the loop for each, so that a message runs only the
/// checks it needs. `$f` holds its own copy of `$fast`, and `$body`'s
/// closures should take `$f` by `move`: a closure that borrows it makes the
/// loop reload the fields through the borrow (measured: two loads more a
/// recipient).
macro_rules! in_mode {
    ($fast:expr, |$f:ident| $body:expr) => {{
        let fast = $fast;
        match (fast.disabled, fast.policy, fast.any_sparse) {
            (true, _, _) => {
                let $f = move |h: UserHandle, _| fast.decide_disabled(h);
                $body
            }
            (false, NO_POLICY, false) => {
                let $f = move |h, w| fast.decide::<NO_POLICY, false>(h, w);
                $body
            }
            (false, KEYWORDS_ONLY, false) => {
                let $f = move |h, w| fast.decide::<KEYWORDS_ONLY, false>(h, w);
                $body
            }
            (false, NO_POLICY, true) => {
                let $f = move |h, w| fast.decide::<NO_POLICY, true>(h, w);
                $body
            }
            (false, KEYWORDS_ONLY, true) => {
                let $f = move |h, w| fast.decide::<KEYWORDS_ONLY, true>(h, w);
                $body
            }
            (false, _, false) => {
                let $f = move |h, w| fast.decide::<ALL_POLICIES, false>(h, w);
                $body
            }
            (false, _, true) => {
                let $f = move |h, w| fast.decide::<ALL_POLICIES, true>(h, w);
                $body
            }
        }
    }};
}

impl<'p> Fast<'p> {
    /// The fast path for `prepared`.
    pub(super) fn of(prepared: &'p PreparedMessage<'p>) -> Fast<'p> {
        let audience = prepared.audience();
        let layer = |layer: OverrideLayer<'p>| match layer {
            OverrideLayer::Levels(m) => match m.column() {
                Column::Codes(codes) => (codes, (&[][..], 0)),
                Column::Filter(filter, shift) => (&[][..], (filter, shift)),
            },
            _ => (&[][..], (&[][..], 0)),
        };
        let (subchannel, sparse_subchannel) = layer(prepared.subchannel);
        let (conversation, sparse_conversation) = layer(prepared.conversation);
        let sparse = [sparse_subchannel, sparse_conversation];
        Fast {
            prepared,
            decisions: &prepared.table.decisions,
            type_shift: prepared.table.type_shift,
            subchannel,
            conversation,
            sparse,
            sender: audience.sender.map_or(u64::MAX, |h| h.index() as u64),
            filter: audience.filter.words(),
            listers: match prepared.fans {
                Some(_) => prepared.settings.policies.listers(),
                None => &[],
            },
            consenting: match prepared.urgent {
                true => prepared.settings.policies.consenting(),
                false => &[],
            },
            keyworded: match prepared.found.is_empty() {
                true => &[],
                false => prepared.settings.keywords.holders(),
            },
            muting: match prepared.muters {
                Some(_) => prepared.settings.mutes.muters(),
                None => &[],
            },
            members: prepared.groups.filter(),
            policy: match (prepared.special(), prepared.only_keywords_special()) {
                (false, _) => NO_POLICY,
                (true, true) => KEYWORDS_ONLY,
                (true, false) => ALL_POLICIES,
            },
            any_sparse: sparse.iter().any(|(f, _)| !f.is_empty()),
            disabled: prepared.message.disable_push,
        }
    }

    /// The decision for handle `h` of a message with `disablePush`: RULES §4
    /// checks the sender, then `disablePush`, before any layer.
    #[inline(always)]
    fn decide_disabled(&self, h: UserHandle) -> Decision {
        match h.index() as u64 == self.sender {
            true => Decision::SENDER,
            false => Decision::DISABLED,
        }
    }

    /// Whether the filter of a sparse override layer has `h`'s bit, as 0 or
    /// 1: set for every handle the layer holds, and for at most one other
    /// handle in 32 that shares a bit with one (the general path then finds
    /// nothing in the map).
    #[inline(always)]
    fn in_sparse_layer(&self, h: UserHandle) -> u64 {
        let [(sub, sub_shift), (conv, conv_shift)] = self.sparse;
        bit(sub, slot(h.index(), sub_shift)) | bit(conv, slot(h.index(), conv_shift))
    }

    /// Adds to each of `words` the subchannel and conversation level codes
    /// of the user numbered `numbers[k]` (see `SUB_SHIFT`): a tight loop of
    /// independent loads, run only when the message has a column.
    #[inline(always)]
    fn add_codes(&self, numbers: impl Iterator<Item = usize>, words: &mut [u64]) {
        if self.subchannel.is_empty() && self.conversation.is_empty() {
            return;
        }
        for (w, i) in words.iter_mut().zip(numbers) {
            *w |= code_at(self.subchannel, i) << SUB_SHIFT | code_at(self.conversation, i) << CONV_SHIFT;
        }
    }

    /// Decides `handles`, whose records are `words`, onto `out`.
    #[inline(always)]
    pub(super) fn decide_chunk(&self, handles: &[UserHandle], words: &[u64], out: &mut Vec<Decision>) {
        // A copy on the stack, so that the stores to `out` cannot be taken
        // to change what it points to: its fields stay in registers.
        let pairs = handles.iter().zip(words);
        in_mode!(*self, |decide| out.extend(pairs.map(move |(&h, &w)| decide(h, w))))
    }

    /// As [`decide_chunk`](Self::decide_chunk), answering whether some of
    /// `handles` do not push, for holding: the test in the same loop as
    /// the decisions.
    #[inline(always)]
    pub(super) fn decide_chunk_marked(&self, handles: &[UserHandle], words: &[u64], out: &mut Vec<Decision>) -> bool {
        let mut some = false;
        let marks = &mut some;
        let pairs = handles.iter().zip(words);
        in_mode!(*self, |decide| out.extend(pairs.map(move |(&h, &w)| {
            let d = decide(h, w);
            *marks |= !d.push;
            d
        })));
        some
    }

    /// The decision for handle `h`, whose record is `w`; with `POLICY`, a
    /// recipient who has a VIP list (of a message that concerns them),
    /// allows urgent messages (of an urgent one) or has keywords (of a
    /// message whose text holds somebody's) takes the general path,
    /// which knows whether they break through; with `SPARSE`, so does a
    /// recipient whose bit is set in a sparse override layer's filter.
    /// `POLICY` must be `policy`, `SPARSE` `any_sparse`.
    #[inline(always)]
    fn decide<const POLICY: u8, const SPARSE: bool>(&self, h: UserHandle, w: u64) -> Decision {
        let (key, special) = self.key::<POLICY, SPARSE>(h, w);
        if special != 0 {
            self.prepared.decide_special(h, w & RECORD_MASK)
        } else {
            self.decisions[key]
        }
    }

    /// The table key of handle `h`, whose record is `w`, and whether the
    /// recipient leaves the table for the general path (non-zero): see
    /// [`decide`](Self::decide).
    #[inline(always)]
    fn key<const POLICY: u8, const SPARSE: bool>(&self, h: UserHandle, w: u64) -> (usize, u64) {
        let i = h.index();
        let wall = self.prepared.walls.seconds((w >> ZONE_SHIFT & ZONE_MASK) as usize);
        let active = window_contains((w & SECONDS_MASK) as u32, (w >> LEN_SHIFT & SECONDS_MASK) as u32, wall);
        // The first override layer that holds a level, else the type level,
        // as the key's low five bits (see `Table`): selects, not branches.
        let (sub, conv) = (w >> SUB_SHIFT & TYPE_MASK, w >> CONV_SHIFT & TYPE_MASK);
        let layer = if conv != 0 {
            KEY_CONVERSATION | conv
        } else {
            w >> self.type_shift & TYPE_MASK
        };
        let layer = if sub != 0 { KEY_SUBCHANNEL | sub } else { layer };
        let key = usize::from(active) << 6 | ((w >> PERIOD_LEVEL_SHIFT & 1) << 5) as usize | layer as usize;
        let (word, mask) = MentionFilter::position(h);
        // One branch for every reason to leave the table, rarely taken.
        let special =
            (w >> EXTENDED_SHIFT & 1) | u64::from(self.filter[word] & mask != 0) | u64::from(i as u64 == self.sender);
        let special = match POLICY {
            NO_POLICY => special,
            KEYWORDS_ONLY => special | bit(self.keyworded, i),
            _ => {
                special
                    | bit(self.listers, i)
                    | bit(self.consenting, i)
                    | bit(self.keyworded, i)
                    | bit(self.muting, i)
                    | bit(self.members.0, super::groups::slot(i as u32, self.members.1))
            }
        };
        let special = match SPARSE {
            true => special | self.in_sparse_layer(h),
            false => special,
        };
        (key, special)
    }

    /// For holding (`holds.rs`): the record of `h` (one of these settings'
    /// handles) with its level codes, as the gathering loops read it.
    #[inline(always)]
    pub(super) fn word(&self, h: UserHandle) -> u64 {
        let i = h.index();
        self.prepared.settings.record(h).0
            | code_at(self.subchannel, i) << SUB_SHIFT
            | code_at(self.conversation, i) << CONV_SHIFT
    }

    /// For holding (`holds.rs`): for a recipient `h` whose record with its
    /// codes is `w` ([`word`](Self::word)) and whom the table decides, the
    /// table's decision with the period's window state turned over (in it
    /// if the message is not, out of it if it is), and the period's length
    /// in seconds; `None` for a recipient the general path decides.
    #[inline(always)]
    pub(super) fn turned_over(&self, h: UserHandle, w: u64) -> Option<(Decision, u32)> {
        let (key, special) = self.key::<ALL_POLICIES, true>(h, w);
        (special == 0).then(|| (self.decisions[key ^ 64], (w >> LEN_SHIFT & SECONDS_MASK) as u32))
    }
}

impl<'a> PreparedMessage<'a> {
    /// Gathers the records of `chunk` into `words`, with their codes in
    /// `fast`'s columns (see `SUB_SHIFT`), checking on the way that
    /// every handle is these settings' (see [`UserHandle`]): why the first
    /// that is not is refused.
    ///
    /// The check costs one subtraction: a handle minus this line's first
    /// handle is the user's number, which then indexes the records with the
    /// bounds test the gather makes anyway; a handle of another line is 2³²
    /// or more away, past any record.
    #[inline(always)]
    pub(super) fn gather(&self, fast: &Fast<'_>, chunk: &[UserHandle], words: &mut [u64; CHUNK]) -> Result<(), Error> {
        let records = &self.settings.users;
        let first = self.settings.first_handle();
        let mut owned = true;
        let (sub, conv) = (fast.subchannel, fast.conversation);
        for (w, &h) in words.iter_mut().zip(chunk) {
            let i = usize::try_from(h.raw().wrapping_sub(first)).unwrap_or(usize::MAX);
            *w = match records.get(i) {
                // The codes in the same loop: their misses overlap the records'.
                Some(r) => r.0 | code_at(sub, i) << SUB_SHIFT | code_at(conv, i) << CONV_SHIFT,
                None => {
                    owned = false;
                    0
                }
            };
        }
        match owned {
            true => Ok(()),
            false => self.settings.first_refused(chunk).map_or(Ok(()), Err),
        }
    }

    /// Replaces the contents of `out` with the decision for each of
    /// `recipients`, in order. Allocates nothing when `out` has the capacity.
    ///
    /// If one of the handles is not these settings' ([`Error::ForeignHandle`]),
    /// `out` is left empty and the error names it.
    pub fn decide_into(&self, recipients: &[UserHandle], out: &mut Vec<Decision>) -> Result<(), Error> {
        out.clear();
        let mut words = [0u64; CHUNK];
        let fast = Fast::of(self);
        for chunk in recipients.chunks(CHUNK) {
            // Gather first, decide after: see `CHUNK`.
            if let Err(e) = self.gather(&fast, chunk, &mut words) {
                out.clear();
                return Err(e);
            }
            fast.decide_chunk(chunk, &words, out);
        }
        Ok(())
    }

    /// Replaces the contents of `out` with one bit per recipient: bit `i % 64`
    /// of word `i / 64` is set when the message is pushed to `recipients[i]`
    /// (the bits past the last recipient are clear). For callers that need
    /// only push or no push: the same decisions as
    /// [`decide_into`](Self::decide_into), written in an eighth of a byte
    /// each. Allocates nothing when `out` has the capacity. A handle that is
    /// not these settings' is an error, as in `decide_into`, and leaves `out`
    /// empty.
    pub fn push_bits_into(&self, recipients: &[UserHandle], out: &mut Vec<u64>) -> Result<(), Error> {
        out.clear();
        let mut words = [0u64; CHUNK];
        let fast = Fast::of(self);
        for chunk in recipients.chunks(CHUNK) {
            if let Err(e) = self.gather(&fast, chunk, &mut words) {
                out.clear();
                return Err(e);
            }
            let pairs = chunk.iter().zip(&words).enumerate();
            let bits = in_mode!(fast, |decide| pairs.fold(0u64, move |bits, (k, (&h, &w))| bits
                | u64::from(decide(h, w).push) << k));
            out.push(bits);
        }
        Ok(())
    }

    /// As [`decide_into`](Self::decide_into), handing each decision to
    /// `each` with the recipient's position rather than collecting them:
    /// for callers that keep decisions in a form of their own (the C ABI's
    /// four-byte records), which would otherwise be written twice. A handle
    /// that is not these settings' is an error, as in `decide_into`, found
    /// before any decision of its chunk is handed over (those of the
    /// chunks before it have been, in order).
    pub fn decide_each(&self, recipients: &[UserHandle], mut each: impl FnMut(usize, Decision)) -> Result<(), Error> {
        let mut words = [0u64; CHUNK];
        let fast = Fast::of(self);
        for (c, chunk) in recipients.chunks(CHUNK).enumerate() {
            self.gather(&fast, chunk, &mut words)?;
            let pairs = chunk.iter().zip(&words).enumerate();
            let each = &mut each;
            in_mode!(fast, |decide| for (k, (&h, &w)) in pairs {
                each(c * CHUNK + k, decide(h, w))
            });
        }
        Ok(())
    }

    /// As [`decide_into`](Self::decide_into), for recipients given by id.
    pub fn decide_ids_into<S: AsRef<str>>(&self, recipients: &[S], out: &mut Vec<Decision>) {
        out.clear();
        let mut handles = [None; CHUNK];
        let mut words = [0u64; CHUNK];
        let fast = Fast::of(self);
        let mut cursor = Cursor::default();
        for chunk in recipients.chunks(CHUNK) {
            // Look up and gather, then decide: see `CHUNK`.
            self.settings.users_batch(chunk, &mut handles, &mut words, &mut cursor);
            fast.add_codes(handles.iter().map(|h| h.map_or(usize::MAX, |h| h.index())), &mut words);
            let triples = chunk.iter().zip(handles.iter().zip(&words));
            in_mode!(fast, |decide| out.extend(triples.map(move |(id, (&h, &w))| match h {
                Some(h) => decide(h, w),
                None => self.decide_with(h, &UserRecord(w), id.as_ref()),
            })));
        }
    }

    /// The general path, for a recipient the fast path flagged.
    #[cold]
    #[inline(never)]
    fn decide_special(&self, h: UserHandle, w: u64) -> Decision {
        self.decide_with(Some(h), &UserRecord(w), "")
    }
}

#[cfg(test)]
mod tests {
    use super::Fast;
    use crate::decide::Conversation;
    use crate::decide::Message;
    use crate::model::Timestamp;
    use crate::store::Config;
    use crate::store::Settings;

    /// The fanout property on sparse worlds (`tests/it/fanout.rs`) covers the
    /// sparse loop only while its worlds' maps are too sparse for a column:
    /// this pins that a group of that shape takes the filter, and a dense
    /// one the column, whatever the thresholds become.
    #[test]
    fn a_few_levels_in_a_large_group_take_the_sparse_loop() {
        let mut settings = Settings::new(Config::new(chrono_tz::Asia::Shanghai));
        for i in 0..20_000 {
            let body = format!("userId=u{i}&startTime=22:00:00&period=60&level=5");
            assert_eq!(
                settings
                    .handle("/user/blockPushPeriod/set.json", body.as_bytes())
                    .code(),
                200
            );
        }
        for (group, users) in [
            ("crowd", (0..20_000).step_by(1_000).collect::<Vec<_>>()),
            ("club", (0..200).collect()),
        ] {
            for i in users {
                let body = format!("conversationType=10&requestId=u{i}&targetId={group}&unpushLevel=1");
                assert_eq!(
                    settings
                        .handle("/conversation/notification/set.json", body.as_bytes())
                        .code(),
                    200
                );
            }
        }
        let at: Timestamp = "2026-11-22T12:00:00+08:00".parse().unwrap();
        for (group, sparse) in [("crowd", true), ("club", false)] {
            let message = Message::new(
                Conversation::UltraGroup {
                    group_id: group,
                    bus_channel: None,
                },
                "u1",
                at,
            );
            let prepared = settings.prepare(&message);
            let fast = Fast::of(&prepared);
            assert_eq!(fast.any_sparse, sparse, "{group}");
            // A dense group is read from its column: its members stay on the table path.
            assert_eq!(fast.conversation.is_empty(), sparse, "{group}");
        }
    }
}

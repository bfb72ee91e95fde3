//! What holding a deferred push asks of a prepared message: whether a
//! decision not to push has a deferred push at all (without computing its
//! instant, for the common recipient), whether the message mentions a
//! recipient (for a digest's count).

use super::fanout::{Fast, CHUNK};
use super::{Decision, PreparedMessage, UserLayers};
use crate::decide::walk::{Layer, Seen};
use crate::error::Error;
use crate::model::zone::{DAY_SECONDS, WEEK_MS};
use crate::model::Timestamp;
use crate::store::UserHandle;

impl PreparedMessage<'_> {
    /// Whether `decision` (this message's, for the recipient with `handle`,
    /// or the unknown user `id`) is a push deferred: exactly
    /// `self.deferral(handle, id, decision).is_some()`.
    ///
    /// For a recipient whose record is not extended, when no default layer
    /// holds a temporary level and the week after the message is inside the
    /// times the engine decides at, the only thing that changes with time is
    /// whether the message is inside the period's window; a window shorter
    /// than a day is entered and left within the week (at a window edge or
    /// at a clock change), so the push is deferred exactly when the decision
    /// with the period's other state pushes. Everyone else takes the full
    /// defer computation.
    pub(crate) fn holds(&self, handle: Option<UserHandle>, id: &str, decision: Decision) -> bool {
        if decision.push() {
            return false;
        }
        if decision.level().is_none() {
            // Only a mute may end; the sender and `disablePush` stay.
            return decision.by() == Layer::MutedSender && self.deferral(handle, id, decision).is_some();
        }
        let record = self.record_of(handle);
        if record.extended() || self.timed() {
            return self.deferral(handle, id, decision).is_some();
        }
        let Some(h) = handle else {
            // An unknown user has no period and no temporary level.
            return false;
        };
        let period = record.period();
        if period.len == 0 || period.len >= DAY_SECONDS {
            return false;
        }
        let u = self.user_layers(handle, record);
        let other = UserLayers {
            period: match u.period {
                Some(_) => None,
                None => Some(period.level.level()),
            },
            ..u
        };
        let (layer, level) = self.choose(other);
        debug_assert_eq!(Some(h), handle);
        self.decision_at((layer, Some(level)), handle, id).push()
    }

    /// Whether some default layer holds a temporary level, or the week after
    /// the message reaches the end of the times the engine decides at: then
    /// every deferral takes the full computation (see [`holds`](Self::holds)).
    fn timed(&self) -> bool {
        let timed_default = self
            .defaults
            .iter()
            .any(|s| matches!(s, Seen::Level(e) if e.temporary.is_some()));
        timed_default || self.message.at.as_datetime().timestamp_millis() > Timestamp::END_MILLIS - 2 * WEEK_MS
    }

    /// The positions in a fanout by handle (`decisions[i]` for
    /// `recipients[i]`, as [`decide_into`](Self::decide_into) wrote them,
    /// of equal lengths) of the pushes deferred, into `out`, in order:
    /// exactly the `i` for which [`holds`](Self::holds) is true.
    ///
    /// Most decisions push: one pass over the two slices together, one test
    /// each and no branch, checks that every handle is these settings' (a
    /// foreign one is refused, and `out` left empty) and picks out the
    /// others. A recipient the fanout's table decides is deferred exactly
    /// when the table's decision with the period's window turned over
    /// pushes (the argument of [`holds`](Self::holds)): one more table
    /// lookup, their records read in batches of independent loads as the
    /// fanout reads them. The others take `holds`.
    pub(crate) fn deferred_positions(
        &self,
        recipients: &[UserHandle],
        decisions: &[Decision],
        out: &mut Vec<usize>,
    ) -> Result<(), Error> {
        out.clear();
        debug_assert_eq!(recipients.len(), decisions.len());
        let first = self.settings.first_handle();
        let count = self.settings.user_count() as u64;
        for (k, (hs, ds)) in recipients.chunks(CHUNK).zip(decisions.chunks(CHUNK)).enumerate() {
            let (foreign, mut others) = hs.iter().zip(ds).enumerate().fold((0u64, 0u64), |(f, o), (j, (h, d))| {
                (
                    f | u64::from(h.raw().wrapping_sub(first) >= count),
                    o | u64::from(maybe_deferred(*d)) << j,
                )
            });
            if let Some(e) = (foreign != 0).then(|| self.settings.first_refused(hs)).flatten() {
                out.clear();
                return Err(e);
            }
            while others != 0 {
                out.push(k * CHUNK + others.trailing_zeros() as usize);
                others &= others - 1;
            }
        }
        // Keep the deferred, in place.
        let fast = Fast::of(self);
        let timed = self.timed();
        let mut words = [0u64; CHUNK];
        let mut kept = 0;
        for start in (0..out.len()).step_by(CHUNK) {
            let end = out.len().min(start + CHUNK);
            for (w, &i) in words.iter_mut().zip(&out[start..end]) {
                *w = fast.word(recipients[i]);
            }
            for (n, &w) in (start..end).zip(&words) {
                let i = out[n];
                out[kept] = i;
                kept += usize::from(self.deferred_one(&fast, timed, recipients[i], w, decisions[i]));
            }
        }
        out.truncate(kept);
        Ok(())
    }

    /// Decides `recipients` into `decisions` as [`decide_into`](Self::decide_into)
    /// does, the repeated senders read (as [`Repeaters::correct_fanout`]
    /// corrects), and writes into `deferred` the positions of the pushes
    /// deferred (those of [`deferred_positions`](Self::deferred_positions)),
    /// in one pass: each recipient who does not push is tested while their
    /// record is still at hand, and a chunk where everyone pushes costs one
    /// flag set in the loop that decides it.
    ///
    /// A foreign handle is refused, both lists then left empty.
    ///
    /// [`Repeaters::correct_fanout`]: crate::Repeaters::correct_fanout
    pub(crate) fn decide_deferred_into(
        &self,
        recipients: &[UserHandle],
        decisions: &mut Vec<Decision>,
        deferred: &mut Vec<usize>,
    ) -> Result<(), Error> {
        decisions.clear();
        deferred.clear();
        let fast = Fast::of(self);
        let timed = self.timed();
        let mut words = [0u64; CHUNK];
        for (k, chunk) in recipients.chunks(CHUNK).enumerate() {
            if let Err(e) = self.gather(&fast, chunk, &mut words) {
                decisions.clear();
                deferred.clear();
                return Err(e);
            }
            let base = decisions.len();
            if !fast.decide_chunk_marked(chunk, &words, decisions) {
                // Everyone pushes: the usual chunk.
                continue;
            }
            let decided = &mut decisions[base..];
            if let Some(repeaters) = self.repeaters {
                for (d, &h) in decided.iter_mut().zip(chunk) {
                    if !d.push() && repeaters.contains(h) {
                        *d = self.decide_with(Some(h), self.settings.record(h), "");
                    }
                }
            }
            let mut others = decided
                .iter()
                .enumerate()
                .fold(0u64, |o, (j, d)| o | u64::from(maybe_deferred(*d)) << j);
            while others != 0 {
                let j = others.trailing_zeros() as usize;
                others &= others - 1;
                if self.deferred_one(&fast, timed, chunk[j], words[j], decided[j]) {
                    deferred.push(k * CHUNK + j);
                }
            }
        }
        Ok(())
    }

    /// Whether `d`, the decision for `h` (one of these settings' handles)
    /// whose record with its codes is `w`, is a push deferred: the table's
    /// answer turned over when the table decides them (see
    /// [`deferred_positions`](Self::deferred_positions)), else
    /// [`holds`](Self::holds). `timed` is [`timed`](Self::timed).
    #[inline]
    fn deferred_one(&self, fast: &Fast<'_>, timed: bool, h: UserHandle, w: u64, d: Decision) -> bool {
        let general = || self.holds(Some(h), self.settings.user_id(h).unwrap_or(""), d);
        match d.level() {
            None => general(),
            Some(_) if timed => general(),
            Some(_) => match fast.turned_over(h, w) {
                Some((turned, len)) => len != 0 && len < DAY_SECONDS && turned.push(),
                None => general(),
            },
        }
    }

    /// Whether the message mentions the recipient: by id, or by an @all
    /// that counts (RULES §3), in a conversation type that reads mentions.
    pub(crate) fn mentions_recipient(&self, handle: Option<UserHandle>, id: &str) -> bool {
        self.mention_all || self.mentions_me(handle, id)
    }
}

/// Whether decision `d` may be a push deferred: it does not push, and it
/// has a level or is a mute's (which may end; the sender's and
/// `disablePush`'s are for good).
#[inline(always)]
fn maybe_deferred(d: Decision) -> bool {
    !d.push() && (d.level().is_some() || d.by() == Layer::MutedSender)
}

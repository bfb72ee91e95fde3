//! What holding a deferred push asks of a prepared message: whether a
//! decision not to push has a deferred push at all (without computing its
//! instant, for the common recipient), whether the message mentions a
//! recipient (for a digest's count).

use super::{Decision, PreparedMessage, UserLayers};
use crate::decide::walk::Seen;
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
        if decision.push() || decision.level().is_none() {
            return false;
        }
        let record = self.record_of(handle);
        let timed_default = self
            .defaults
            .iter()
            .any(|s| matches!(s, Seen::Level(e) if e.temporary.is_some()));
        let near_end = self.message.at.as_datetime().timestamp_millis() > Timestamp::END_MILLIS - 2 * WEEK_MS;
        if record.extended() || timed_default || near_end {
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

    /// Whether the message mentions the recipient: by id, or by an @all
    /// that counts (RULES §3), in a conversation type that reads mentions.
    pub(crate) fn mentions_recipient(&self, handle: Option<UserHandle>, id: &str) -> bool {
        self.mention_all || self.mentions_me(handle, id)
    }
}

//! Defer: for a decision not to push, the earliest instant in the 7 days
//! after the message's time at which the same message would push to the
//! same recipient, with the settings as stored.
//!
//! The look-ahead ends where the times the engine decides at end (the last
//! millisecond before 2100-01-01T00:00:00Z, [`Timestamp::END_MILLIS`]): past
//! it the zone tables are not known, so no decision there is right. A push
//! that would come only at or after that end is no deferral, as one that
//! would come only after the week is; a deferral is always an instant a
//! [`Timestamp`] holds.
//!
//! Computed exactly, not by stepping: a decision changes with time only
//! where some `until` passes (a temporary level's, a snooze's) or where the
//! wall clock of the recipient's quiet-time zone reaches a window's start or
//! end or jumps at a clock change. Those instants are listed (window edges
//! converted through the zone's offsets, clock changes included), and the
//! full walk is taken at each, in order, until one pushes. Between two of
//! them nothing that the walk reads changes, so no earlier instant can push.

use chrono::{DateTime, Utc};

use crate::decide::walk::{Layer, Seen, WALK};
use crate::decide::{Decision, PreparedMessage, Recipient};
use crate::error::Error;
use crate::model::zone::{mark_crossings, offset_spans, WallTime, DAY_SECONDS, WEEK_MS, WEEK_SECONDS};
use crate::model::Timestamp;
use crate::store::UserHandle;

/// What changes at a deferred push's instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Boundary {
    /// A temporary level at this layer is over.
    Expiry(Layer),
    /// The snooze is over.
    SnoozeEnd,
    /// The recipient's mute of the sender is over.
    MuteEnd,
    /// The wall clock of the quiet time's zone reaches a window's start or end.
    WindowEdge,
    /// The quiet time's zone changes its clocks.
    ClockChange,
}

/// A push deferred: when it would go out, why then, and the decision then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Deferral {
    /// The earliest instant after the message's time at which it would push;
    /// always in the range of a [`Timestamp`] (before 2100-01-01T00:00:00Z).
    pub until: DateTime<Utc>,
    /// What changes at that instant.
    pub because: Boundary,
    /// The decision at that instant (a push).
    pub decision: Decision,
}

impl PreparedMessage<'_> {
    /// The deferred push for `recipient`: `None` when the message pushes now,
    /// for its sender, with `disablePush`, and when it would push at no
    /// instant in the 7 days (604,800,000 ms) after its time that is before
    /// 2100-01-01T00:00:00Z, where the times the engine decides at end.
    ///
    /// Not part of the fanout: a caller that wants it asks for it, per
    /// recipient (the cost is a few walks and, for a user with quiet time,
    /// the zone's offsets over the week).
    ///
    /// An error only for a handle these settings did not issue.
    pub fn defer(&self, recipient: Recipient<'_>) -> Result<Option<Deferral>, Error> {
        let (handle, id) = self.resolve(recipient)?;
        let now = self.decide_for(recipient)?;
        Ok(self.deferral(handle, id, now))
    }

    /// The decision for user `id` and its deferred push, if any: as
    /// [`decide_deferred`](Self::decide_deferred), for a recipient given by
    /// id, which cannot fail.
    pub fn decide_deferred_id(&self, id: &str) -> (Decision, Option<Deferral>) {
        let handle = self.settings().user(id);
        let now = self.decide_id(id);
        (now, self.deferral(handle, id, now))
    }

    /// The decision for `recipient` and its deferred push, if any; an error
    /// only for a handle these settings did not issue.
    pub fn decide_deferred(&self, recipient: Recipient<'_>) -> Result<(Decision, Option<Deferral>), Error> {
        let (handle, id) = self.resolve(recipient)?;
        let now = self.decide_for(recipient)?;
        Ok((now, self.deferral(handle, id, now)))
    }

    pub(crate) fn deferral(&self, handle: Option<UserHandle>, id: &str, now: Decision) -> Option<Deferral> {
        // The sender and disablePush never change; a mute may end.
        if now.push() || (now.level().is_none() && now.by() != Layer::MutedSender) {
            return None;
        }
        let at = self.message().at.as_datetime();
        // The millisecond the decision read. A leap second (23:59:60.x) is
        // read as 23:59:59.x, the wall clock of the second before it, so the
        // look-ahead starts there: the next second's first millisecond is a
        // candidate, not the lower bound.
        let from = at.timestamp() * 1000 + i64::from(at.timestamp_subsec_millis().min(999));
        // Never past the last instant the engine decides at (docs/rules.md §8).
        let to = from.checked_add(WEEK_MS)?.min(Timestamp::END_MILLIS - 1);
        let settings = self.settings();
        let mut candidates: Vec<(i64, Boundary)> = Vec::new();
        // Every stored `until` the walk can read.
        let walk = self.walk(handle, id, at, &|z| self.wall_at(z));
        for (&layer, seen) in WALK.iter().zip(&walk.seen) {
            if let Seen::Level(e) = seen {
                if let Some(t) = e.temporary {
                    candidates.push((t.until.timestamp_millis(), Boundary::Expiry(layer)));
                }
            }
        }
        if let Seen::Muted { until: Some(u), .. } = self.mute(handle) {
            candidates.push((u.timestamp_millis(), Boundary::MuteEnd));
        }
        let extras = handle.and_then(|h| settings.extras.get(&h.number()));
        if let Some(s) = extras.and_then(|e| e.snooze) {
            candidates.push((s.until.timestamp_millis(), Boundary::SnoozeEnd));
        }
        // The quiet time's edges on the wall clock, and its zone's clock changes.
        let mut marks = Vec::new();
        let quiet = match extras.and_then(|e| e.schedule.as_ref()) {
            Some((schedule, z)) => {
                schedule.edges_ms(&mut marks);
                Some((*z, i64::from(WEEK_SECONDS) * 1000))
            }
            None => handle.and_then(|h| settings.period_span(h)).map(|(start, len, z)| {
                if len < DAY_SECONDS {
                    marks.push(i64::from(start) * 1000);
                    marks.push(i64::from((start + len) % DAY_SECONDS) * 1000);
                }
                (z, i64::from(DAY_SECONDS) * 1000)
            }),
        };
        if let Some((z, cycle)) = quiet {
            let mut spans = Vec::new();
            offset_spans(settings.zones[z.index()], from, to, &mut spans);
            candidates.extend(spans.iter().skip(1).map(|&(s, _)| (s, Boundary::ClockChange)));
            let mut edges = Vec::new();
            mark_crossings(&spans, to, cycle, &marks, &mut edges);
            candidates.extend(edges.into_iter().map(|t| (t, Boundary::WindowEdge)));
        }
        candidates.retain(|&(t, _)| from < t && t <= to);
        candidates.sort_unstable_by_key(|&(t, b)| (t, b == Boundary::WindowEdge));
        candidates.dedup_by_key(|&mut (t, _)| t);
        candidates.into_iter().find_map(|(t, because)| {
            let until = DateTime::from_timestamp_millis(t)?;
            let zones = &settings.zones;
            let walk = self.walk(handle, id, until, &|z| WallTime::of(until, zones[z.index()]));
            let decision = self.decision_of(&walk, handle, id);
            decision.push().then_some(Deferral {
                until,
                because,
                decision,
            })
        })
    }
}

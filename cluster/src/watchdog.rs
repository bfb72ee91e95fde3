//! When a shard gives up on its consumer and opens a new one: the decision
//! alone, with the clock passed in, so that it is tested without a network.
//!
//! The shard's feed ([`crate::feed`]) reports every entry's consumer
//! sequence and every failure of its consumer to a [`Watchdog`]; the worker
//! asks it twice a second whether the feed has stalled. A new consumer is
//! opened (under a fresh name, from the sequence after the applied one) when:
//!
//! - **the consumer failed**: the client reported an error (two idle
//!   heartbeats missed, no responders for a pull, the consumer deleted, a
//!   pull that failed after a reconnect) or the message stream ended;
//! - **an entry is missing**: the consumer sequence skipped one (the
//!   consumer acknowledges nothing, so a skipped entry would never come);
//! - **the feed stalled**: the shard has known an entry of its own subjects
//!   past its applied sequence (its read-your-writes marker, acknowledged by
//!   the stream) for [`STALL_PATIENCE`], and no entry has arrived for as
//!   long, heartbeats or not. Both clocks count: an idle shard's last entry
//!   may be an hour old when a read appends a marker, and the marker needs
//!   its own time to arrive.
//!
//! A consumer that is replaced young (before it delivered an entry and
//! within [`YOUNG`] of opening) makes the next one wait: [`backoff`] of the
//! number of young deaths in a row. A server that answers every new
//! consumer with an error at once (no responders, a limit) is then asked
//! every 2 s, not at network speed.
//!
//! Reopening is always safe: entries are applied through
//! `Replica::apply_at`, which skips every sequence already applied.

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

/// How long a feed may stay silent, while an entry past the applied sequence
/// has been known for as long, before it is reopened.
pub const STALL_PATIENCE: Duration = Duration::from_secs(5);

/// A consumer replaced before it delivered an entry and within this time of
/// opening died young: three of the feed's 1-s idle heartbeats, so that one
/// that errs at once counts, and so does one that missed two heartbeats
/// straight away (its next waits a quarter second: nothing to lose on an
/// idle shard).
pub const YOUNG: Duration = Duration::from_secs(3);

/// Why a shard's consumer is replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Why {
    /// The client reported an error for the consumer.
    Failed(String),
    /// The consumer's message stream ended.
    Ended,
    /// The consumer delivered `got` where `expected` was due.
    Gap {
        /// The consumer sequence due.
        expected: u64,
        /// The consumer sequence delivered.
        got: u64,
    },
    /// `known` has been past `applied` for `pending` and nothing arrived for
    /// `quiet`.
    Stalled {
        /// The shard's applied sequence.
        applied: u64,
        /// A sequence of the shard's subjects known to be in the stream.
        known: u64,
        /// How long nothing has arrived.
        quiet: Duration,
        /// How long an entry past `applied` has been known.
        pending: Duration,
    },
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::Failed(e) => write!(f, "the consumer failed: {e}"),
            Why::Ended => f.write_str("the consumer's messages ended"),
            Why::Gap { expected, got } => {
                write!(f, "consumer sequence {got} arrived where {expected} was due")
            }
            Why::Stalled {
                applied,
                known,
                quiet,
                pending,
            } => write!(
                f,
                "sequence {known} is in the stream, {applied} is applied, known past it for {pending:.1?}, and nothing arrived for {quiet:.1?}"
            ),
        }
    }
}

/// The state of one consumer of a shard, as far as recovery needs it.
#[derive(Clone, Debug)]
pub struct Watchdog {
    /// The consumer sequence due next (a new consumer starts at 1).
    next: u64,
    /// When the last entry arrived, or the consumer was opened.
    last: Instant,
    /// When the consumer was opened.
    opened: Instant,
    /// Since when a sequence past the applied one has been known (as first
    /// seen by [`Watchdog::stalled`]), while it is.
    known_since: Option<Instant>,
    /// Consumers in a row replaced young (see [`YOUNG`]).
    young: u32,
    patience: Duration,
}

impl Watchdog {
    /// A watchdog for a consumer opened at `now` that declares a stall after
    /// `patience`.
    pub fn new(patience: Duration, now: Instant) -> Watchdog {
        Watchdog {
            next: 1,
            last: now,
            opened: now,
            known_since: None,
            young: 0,
            patience,
        }
    }

    /// A new consumer was opened at `now`: its sequences start at 1 and its
    /// patience starts over.
    pub fn opened(&mut self, now: Instant) {
        self.next = 1;
        self.last = now;
        self.opened = now;
    }

    /// An entry with `consumer_seq` arrived at `now`: `Ok` to apply it, or
    /// why the consumer must be replaced (the entry is then not applied; the
    /// next consumer delivers it again).
    pub fn entry(&mut self, consumer_seq: u64, now: Instant) -> Result<(), Why> {
        if consumer_seq != self.next {
            return Err(Why::Gap {
                expected: self.next,
                got: consumer_seq,
            });
        }
        self.next += 1;
        self.last = now;
        Ok(())
    }

    /// Whether the feed stalled: `known` (a sequence of the shard's subjects
    /// the stream acknowledged) has been past `applied` for the patience,
    /// and nothing arrived for as long. Called on every tick and whenever
    /// `known` grows: the first call that sees `known` past `applied` starts
    /// its clock, one that sees it caught up stops it.
    pub fn stalled(&mut self, now: Instant, applied: u64, known: u64) -> Option<Why> {
        if known <= applied {
            self.known_since = None;
            return None;
        }
        let since = *self.known_since.get_or_insert(now);
        let quiet = now.saturating_duration_since(self.last);
        let pending = now.saturating_duration_since(since);
        (quiet >= self.patience && pending >= self.patience).then_some(Why::Stalled {
            applied,
            known,
            quiet,
            pending,
        })
    }

    /// The consumer is replaced at `now`: the wait before the first attempt
    /// to open the next one. None, unless this one and those before it died
    /// young ([`YOUNG`]): then [`backoff`] of how many did in a row.
    pub fn replaced(&mut self, now: Instant) -> Duration {
        let young = self.next == 1 && now.saturating_duration_since(self.opened) < YOUNG;
        self.young = if young { self.young.saturating_add(1) } else { 0 };
        self.wait(0)
    }

    /// The wait before attempt `failed + 1` to open the next consumer, after
    /// `failed` attempts failed: the backoff goes on from the young deaths.
    pub fn wait(&self, failed: u32) -> Duration {
        backoff(self.young.saturating_add(failed))
    }
}

/// The wait before attempt `attempt` (0 = the first) to open a consumer:
/// none, then doubling from a quarter second up to two seconds, so that a
/// cluster in an election is not hammered and a healthy one is not waited on.
pub fn backoff(attempt: u32) -> Duration {
    match attempt {
        0 => Duration::ZERO,
        n => Duration::from_millis(250u64 << (n - 1).min(3)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn entries_in_order_are_applied_and_a_skipped_one_replaces_the_consumer() {
        let t0 = Instant::now();
        let mut w = Watchdog::new(STALL_PATIENCE, t0);
        assert_eq!(w.entry(1, t0), Ok(()));
        assert_eq!(w.entry(2, t0), Ok(()));
        assert_eq!(w.entry(4, t0), Err(Why::Gap { expected: 3, got: 4 }));
        // A redelivery of an old consumer sequence is a gap too.
        assert_eq!(w.entry(2, t0), Err(Why::Gap { expected: 3, got: 2 }));
        // A new consumer counts from 1 again.
        w.opened(t0);
        assert_eq!(w.entry(1, t0), Ok(()));
        assert_eq!(w.entry(3, t0), Err(Why::Gap { expected: 2, got: 3 }));
    }

    #[test]
    fn a_silent_feed_is_stalled_once_an_entry_past_the_applied_one_was_known_for_the_patience() {
        let t0 = Instant::now();
        let mut w = Watchdog::new(5 * S, t0);
        // Idle with nothing known past the applied sequence: never stalled.
        assert_eq!(w.stalled(t0 + S, 10, 10), None);
        assert_eq!(w.stalled(t0 + 2 * S, 10, 7), None);
        // Known past it from 2 s on: stalled once known for the patience
        // (nothing has arrived since the start).
        assert_eq!(w.stalled(t0 + 2 * S, 10, 11), None);
        assert_eq!(w.stalled(t0 + 6 * S, 10, 11), None);
        assert_eq!(
            w.stalled(t0 + 7 * S, 10, 11),
            Some(Why::Stalled {
                applied: 10,
                known: 11,
                quiet: 7 * S,
                pending: 5 * S
            })
        );
        // An entry arriving restarts the quiet.
        assert_eq!(w.entry(1, t0 + 8 * S), Ok(()));
        assert_eq!(w.stalled(t0 + 12 * S, 10, 11), None);
        assert!(w.stalled(t0 + 13 * S, 10, 11).is_some());
        // So does a new consumer: it is not replaced again at once.
        w.opened(t0 + 13 * S);
        assert_eq!(w.stalled(t0 + 14 * S, 10, 11), None);
        assert!(w.stalled(t0 + 18 * S, 10, 11).is_some());
        // Caught up, the clock of the known entry stops; a later one starts
        // it again (an entry arrived, so the quiet started over too).
        assert_eq!(w.entry(1, t0 + 19 * S), Ok(()));
        assert_eq!(w.stalled(t0 + 19 * S, 11, 11), None);
        assert_eq!(w.stalled(t0 + 30 * S, 11, 12), None);
        assert_eq!(w.stalled(t0 + 34 * S, 11, 12), None);
        assert_eq!(
            w.stalled(t0 + 35 * S, 11, 12),
            Some(Why::Stalled {
                applied: 11,
                known: 12,
                quiet: 16 * S,
                pending: 5 * S
            })
        );
        // A clock that seems to run backwards is not a stall.
        assert_eq!(w.stalled(t0, 11, 12), None);
    }

    /// An idle shard's last entry is old when a read appends a marker: the
    /// consumer is given the patience to deliver the marker, not replaced
    /// at the first tick after the marker is acknowledged.
    #[test]
    fn a_marker_after_a_quiet_spell_is_given_the_patience_to_arrive() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        // The reviewer's probe: an hour of quiet, a marker known at once.
        assert_eq!(Watchdog::new(5 * S, t0).stalled(t0 + 3600 * S, 10, 11), None);

        let mut w = Watchdog::new(5 * S, t0);
        assert_eq!(w.entry(1, t0), Ok(()));
        // An hour without entries, nothing pending: ticks see nothing.
        for tick in 1..=7200 {
            assert_eq!(w.stalled(t0 + tick * ms(500), 10, 10), None);
        }
        // A read appends a marker, acknowledged as 11 (the worker asks at
        // once), then the ticks go on; the marker is slow to come.
        let marked = t0 + 3600 * S + ms(200);
        assert_eq!(w.stalled(marked, 10, 11), None);
        for tick in 1..10 {
            assert_eq!(w.stalled(marked + tick * ms(500), 10, 11), None, "tick {tick}");
        }
        // It arrives within the patience: nothing was replaced.
        assert_eq!(w.entry(2, marked + ms(4900)), Ok(()));
        assert_eq!(w.stalled(marked + 5 * S, 11, 11), None);

        // Another quiet hour, another marker that never arrives: replaced
        // once it was known for the patience.
        let marked = marked + 7200 * S;
        assert_eq!(w.stalled(marked - S, 11, 11), None);
        assert_eq!(w.stalled(marked, 11, 12), None);
        assert_eq!(w.stalled(marked + ms(4999), 11, 12), None);
        assert!(matches!(
            w.stalled(marked + 5 * S, 11, 12),
            Some(Why::Stalled { pending, .. }) if pending == 5 * S
        ));
    }

    /// A consumer that errs as soon as it is opened is not recreated at
    /// network speed: each young death in a row doubles the wait, up to 2 s.
    #[test]
    fn consumers_replaced_young_make_the_next_wait_longer_each_time() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut w = Watchdog::new(STALL_PATIENCE, t0);
        let mut now = t0;
        let mut waits = Vec::new();
        for _ in 0..6 {
            // Opened, then failed 10 ms later without an entry.
            w.opened(now);
            now += ms(10);
            let wait = w.replaced(now);
            waits.push(wait.as_millis());
            now += wait;
        }
        assert_eq!(waits, [250, 500, 1000, 2000, 2000, 2000]);
        // Failed attempts to open go on from there.
        assert_eq!(w.wait(1), 2 * S);

        // One that delivered an entry resets the count: replaced at once.
        w.opened(now);
        assert_eq!(w.entry(1, now), Ok(()));
        assert_eq!(w.replaced(now + ms(10)), Duration::ZERO);
        assert_eq!(w.wait(1), ms(250));
        // A gap on the first entry is a young death.
        w.opened(now);
        assert!(w.entry(2, now).is_err());
        assert_eq!(w.replaced(now), ms(250));
        // One that lived past YOUNG without an entry (an idle shard whose
        // server died: two missed heartbeats, then some) resets it too.
        w.opened(now);
        assert_eq!(w.replaced(now + YOUNG), Duration::ZERO);
        // Two missed heartbeats straight after opening count as young.
        w.opened(now);
        assert_eq!(w.replaced(now + 2 * S), ms(250));
    }

    #[test]
    fn attempts_to_open_wait_a_little_longer_each_time_up_to_two_seconds() {
        let waits: Vec<u64> = (0..8).map(|a| backoff(a).as_millis() as u64).collect();
        assert_eq!(waits, [0, 250, 500, 1000, 2000, 2000, 2000, 2000]);
        assert_eq!(backoff(u32::MAX), Duration::from_secs(2));
    }

    #[test]
    fn every_reason_says_what_happened() {
        assert_eq!(
            Why::Gap { expected: 3, got: 5 }.to_string(),
            "consumer sequence 5 arrived where 3 was due"
        );
        assert_eq!(
            Why::Failed("missed idle heartbeat".into()).to_string(),
            "the consumer failed: missed idle heartbeat"
        );
        assert_eq!(
            Why::Stalled {
                applied: 1,
                known: 2,
                quiet: 3600 * S,
                pending: 5 * S
            }
            .to_string(),
            "sequence 2 is in the stream, 1 is applied, known past it for 5.0s, and nothing arrived for 3600.0s"
        );
    }
}

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
//! - **the feed stalled**: the shard knows an entry of its own subjects past
//!   its applied sequence (its read-your-writes marker, acknowledged by the
//!   stream) and no entry has arrived for [`STALL_PATIENCE`], heartbeats or
//!   not.
//!
//! Reopening is always safe: entries are applied through
//! `Replica::apply_at`, which skips every sequence already applied.

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

/// How long a feed may stay silent while an entry past the applied sequence
/// is known before it is reopened.
pub const STALL_PATIENCE: Duration = Duration::from_secs(5);

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
    /// `known` is past `applied` and nothing arrived for `quiet`.
    Stalled {
        /// The shard's applied sequence.
        applied: u64,
        /// A sequence of the shard's subjects known to be in the stream.
        known: u64,
        /// How long nothing has arrived.
        quiet: Duration,
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
            Why::Stalled { applied, known, quiet } => write!(
                f,
                "sequence {known} is in the stream, {applied} is applied, and nothing arrived for {quiet:.1?}"
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
    patience: Duration,
}

impl Watchdog {
    /// A watchdog for a consumer opened at `now` that declares a stall after
    /// `patience`.
    pub fn new(patience: Duration, now: Instant) -> Watchdog {
        Watchdog {
            next: 1,
            last: now,
            patience,
        }
    }

    /// A new consumer was opened at `now`: its sequences start at 1 and its
    /// patience starts over.
    pub fn opened(&mut self, now: Instant) {
        self.next = 1;
        self.last = now;
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
    /// the stream acknowledged) is past `applied` and nothing arrived for
    /// the patience.
    pub fn stalled(&self, now: Instant, applied: u64, known: u64) -> Option<Why> {
        let quiet = now.saturating_duration_since(self.last);
        (known > applied && quiet >= self.patience).then_some(Why::Stalled { applied, known, quiet })
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
    fn a_silent_feed_is_stalled_only_with_an_entry_known_past_the_applied_one() {
        let t0 = Instant::now();
        let mut w = Watchdog::new(5 * S, t0);
        // Idle with nothing known past the applied sequence: never stalled.
        assert_eq!(w.stalled(t0 + 3600 * S, 10, 10), None);
        assert_eq!(w.stalled(t0 + 3600 * S, 10, 7), None);
        // Something known past it: stalled only once the patience is over.
        assert_eq!(w.stalled(t0 + 4 * S, 10, 11), None);
        assert_eq!(
            w.stalled(t0 + 5 * S, 10, 11),
            Some(Why::Stalled {
                applied: 10,
                known: 11,
                quiet: 5 * S
            })
        );
        // An entry arriving restarts the patience.
        assert_eq!(w.entry(1, t0 + 4 * S), Ok(()));
        assert_eq!(w.stalled(t0 + 8 * S, 10, 11), None);
        assert!(w.stalled(t0 + 9 * S, 10, 11).is_some());
        // So does a new consumer: it is not replaced again at once.
        w.opened(t0 + 9 * S);
        assert_eq!(w.stalled(t0 + 10 * S, 10, 11), None);
        assert!(w.stalled(t0 + 14 * S, 10, 11).is_some());
        // A clock that seems to run backwards is not a stall.
        assert_eq!(w.stalled(t0, 10, 11), None);
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
        assert!(Why::Stalled {
            applied: 1,
            known: 2,
            quiet: 5 * S
        }
        .to_string()
        .contains("sequence 2 is in the stream, 1 is applied"));
    }
}

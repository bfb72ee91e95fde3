//! The message's wall clock in each zone, converted when first needed.
//!
//! Settings that have seen many zones (a real user base names a few hundred)
//! would make a prepare that converts every zone cost tens of microseconds,
//! which is the whole cost of a one-to-one message. So a prepared message
//! converts none: each zone's reading is worked out the first time a
//! recipient reads in that zone, and kept for the rest of the message. The
//! slots are atomics so that a prepared message can be shared by threads
//! that decide parts of one fanout; a reading is a pure function of the
//! instant and the zone, so two threads that race store the same value.
//!
//! The fast path reads a slot per recipient (one load from a table that
//! stays in the L1 cache) and branches to the conversion only when the slot
//! is still empty, once per zone and message: no time-zone math per
//! recipient.

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::model::zone::WallTime;
use crate::store::ZoneIndex;

/// How many zones the table holds: more than the tz database has (a test in
/// `settings/record.rs` checks it), and the settings' zone table holds each
/// zone once.
pub(crate) const SLOTS: usize = 640;

/// A slot's value: 0 while not yet converted, else `KNOWN | weekday << 17 | seconds`.
const KNOWN: u32 = 1 << 31;
const SECONDS: u32 = (1 << 17) - 1;

/// The message's wall clock per zone of the settings, filled as it is read.
pub(crate) struct Walls<'a> {
    at: DateTime<Utc>,
    zones: &'a [Tz],
    slots: [AtomicU32; SLOTS],
}

impl std::fmt::Debug for Walls<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let known = self.slots.iter().filter(|s| s.load(Ordering::Relaxed) != 0).count();
        f.debug_struct("Walls")
            .field("at", &self.at)
            .field("zones", &self.zones.len())
            .field("converted", &known)
            .finish()
    }
}

impl<'a> Walls<'a> {
    /// The wall clocks of `at` in `zones`, none converted yet.
    #[inline]
    pub(crate) fn new(at: DateTime<Utc>, zones: &'a [Tz]) -> Walls<'a> {
        Walls {
            at,
            zones,
            slots: [const { AtomicU32::new(0) }; SLOTS],
        }
    }

    /// The wall time in zone `z` (Monday midnight for an index the settings
    /// do not have, which no stored period names).
    #[inline]
    pub(crate) fn at(&self, z: ZoneIndex) -> WallTime {
        let v = self.raw(z.index());
        WallTime {
            seconds: v & SECONDS,
            weekday: ((v & !KNOWN) >> 17) as u8,
        }
    }

    /// The wall-clock seconds after midnight in the zone with index `z`.
    #[inline(always)]
    pub(crate) fn seconds(&self, z: usize) -> u32 {
        self.raw(z) & SECONDS
    }

    #[inline(always)]
    fn raw(&self, z: usize) -> u32 {
        match self.slots.get(z) {
            Some(slot) => match slot.load(Ordering::Relaxed) {
                0 => self.convert(z, slot),
                v => v,
            },
            None => KNOWN,
        }
    }

    #[cold]
    #[inline(never)]
    fn convert(&self, z: usize, slot: &AtomicU32) -> u32 {
        let wall = match self.zones.get(z) {
            Some(&zone) => WallTime::of(self.at, zone),
            None => WallTime::MONDAY_MIDNIGHT,
        };
        let v = KNOWN | u32::from(wall.weekday) << 17 | wall.seconds;
        slot.store(v, Ordering::Relaxed);
        v
    }
}

#[cfg(test)]
mod clock_tests {
    use super::*;

    /// Each zone reads as a conversion of its own would, in any order of
    /// asking, and an index past the table reads as Monday midnight.
    #[test]
    fn a_slot_reads_as_the_conversion() {
        let zones: Vec<Tz> = chrono_tz::TZ_VARIANTS.to_vec();
        assert!(zones.len() <= SLOTS);
        let at = DateTime::from_timestamp(1_795_000_000, 0).unwrap();
        let walls = Walls::new(at, &zones);
        for z in (0..zones.len()).rev().chain(0..zones.len()) {
            assert_eq!(
                walls.at(ZoneIndex::numbered(z)),
                WallTime::of(at, zones[z]),
                "{}",
                zones[z]
            );
        }
        assert_eq!(walls.at(ZoneIndex::numbered(zones.len())), WallTime::MONDAY_MIDNIGHT);
        assert_eq!(walls.at(ZoneIndex::numbered(SLOTS + 5)), WallTime::MONDAY_MIDNIGHT);
    }
}

//! What every decision reads about a user, packed into one 8-byte word.
//!
//! Layout of [`UserRecord`] (bit 0 is the lowest):
//!
//! | bits | holds |
//! |---|---|
//! | 0..17 | the period's start, seconds after midnight (0..86,400) |
//! | 17..34 | the period's length in seconds (0 = no period; 86,400 = the whole day) |
//! | 34..44 | the index of the zone it is read in (fewer than [`MAX_ZONES`]) |
//! | 44 | the period's level: 0 = `Mentions`, 1 = `Nothing` |
//! | 45 | `extended`: the user has something in `Settings::extras` |
//! | 46..58 | the four conversation-type levels, 3 bits each: 0 = not set, else `Level::index() + 1` |
//!
//! A fanout in member order reads these words in order and nothing else per
//! user; `decide/fanout.rs` reads the fields straight from the word, with
//! the shifts and masks below.

use crate::model::{DndWindow, Level, PeriodLevel, TimeOfDay};

use super::ZoneIndex;

/// How many zones the zone table can hold: its index has 10 bits. The tz
/// database that chrono-tz carries has about 600 zones, and the table holds
/// each at most once.
pub(crate) const MAX_ZONES: usize = 1 << ZONE_BITS;

pub(crate) const START_SHIFT: u32 = 0;
pub(crate) const LEN_SHIFT: u32 = 17;
pub(crate) const ZONE_SHIFT: u32 = 34;
pub(crate) const PERIOD_LEVEL_SHIFT: u32 = 44;
pub(crate) const EXTENDED_SHIFT: u32 = 45;
pub(crate) const TYPE_SHIFT: u32 = 46;
pub(crate) const SECONDS_MASK: u64 = (1 << 17) - 1;
pub(crate) const ZONE_BITS: u32 = 10;
pub(crate) const ZONE_MASK: u64 = (1 << ZONE_BITS) - 1;
pub(crate) const TYPE_MASK: u64 = 0b111;

/// A period as the record holds it, unpacked: the window as its start and
/// length in seconds, where a length of 0 means the user has no period
/// (nothing is inside an empty window), so that the window test needs no
/// branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StoredPeriod {
    pub(crate) start: u32,
    pub(crate) len: u32,
    pub(crate) zone: ZoneIndex,
    pub(crate) level: PeriodLevel,
}

impl StoredPeriod {
    /// No period.
    pub(crate) const NONE: StoredPeriod = StoredPeriod {
        start: 0,
        len: 0,
        zone: ZoneIndex::DATA_CENTER,
        level: PeriodLevel::Mentions,
    };

    pub(crate) fn new(window: DndWindow, level: PeriodLevel, zone: ZoneIndex) -> StoredPeriod {
        StoredPeriod {
            start: window.start().seconds(),
            len: window.len_seconds(),
            zone,
            level,
        }
    }

    /// The window, if the user has a period.
    pub(crate) fn window(self) -> Option<DndWindow> {
        let minutes = match self.len {
            0 => return None,
            86_400 => DndWindow::WHOLE_DAY_MINUTES,
            len => (len / 60) as u16,
        };
        TimeOfDay::from_seconds(self.start)
            .and_then(|start| DndWindow::new(start, minutes.into()))
            .ok()
    }

    /// Whether wall-clock time `t` is inside the window: the same answer as
    /// [`DndWindow::contains`], in selects rather than branches.
    #[inline(always)]
    pub(crate) fn contains(self, t: u32) -> bool {
        window_contains(self.start, self.len, t)
    }
}

/// Whether wall-clock second `t` is within `len` seconds after `start`,
/// through midnight.
#[inline(always)]
pub(crate) fn window_contains(start: u32, len: u32, t: u32) -> bool {
    let since_start = t.wrapping_sub(start);
    let since_start = if t < start {
        since_start.wrapping_add(86_400)
    } else {
        since_start
    };
    since_start < len
}

/// What every decision reads about a user: 8 bytes (the layout is above).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct UserRecord(pub(crate) u64);

const _RECORD_IS_8_BYTES: () = assert!(std::mem::size_of::<UserRecord>() == 8);

impl UserRecord {
    /// The record of a user who has set nothing.
    pub(crate) const EMPTY: UserRecord = UserRecord(0);

    /// The period (a length of 0 when there is none).
    #[inline]
    pub(crate) fn period(self) -> StoredPeriod {
        let w = self.0;
        StoredPeriod {
            start: ((w >> START_SHIFT) & SECONDS_MASK) as u32,
            len: ((w >> LEN_SHIFT) & SECONDS_MASK) as u32,
            zone: ZoneIndex(((w >> ZONE_SHIFT) & ZONE_MASK) as u16),
            level: if w >> PERIOD_LEVEL_SHIFT & 1 == 0 {
                PeriodLevel::Mentions
            } else {
                PeriodLevel::Nothing
            },
        }
    }

    /// Replaces the period, keeping everything else.
    pub(crate) fn set_period(&mut self, p: StoredPeriod) {
        debug_assert!(p.start < 86_400 && p.len <= 86_400 && p.zone.index() < MAX_ZONES);
        let mask = (SECONDS_MASK << START_SHIFT)
            | (SECONDS_MASK << LEN_SHIFT)
            | (ZONE_MASK << ZONE_SHIFT)
            | (1 << PERIOD_LEVEL_SHIFT);
        let level = u64::from(p.level == PeriodLevel::Nothing);
        self.0 = (self.0 & !mask)
            | u64::from(p.start) << START_SHIFT
            | u64::from(p.len) << LEN_SHIFT
            | (p.zone.index() as u64 & ZONE_MASK) << ZONE_SHIFT
            | level << PERIOD_LEVEL_SHIFT;
    }

    /// Whether the user has anything in `Settings::extras`: such a user
    /// takes the full walk.
    #[inline]
    pub(crate) fn extended(self) -> bool {
        self.0 >> EXTENDED_SHIFT & 1 == 1
    }

    pub(crate) fn set_extended(&mut self, extended: bool) {
        self.0 = (self.0 & !(1 << EXTENDED_SHIFT)) | u64::from(extended) << EXTENDED_SHIFT;
    }

    /// The level for the conversation type with index `t`.
    #[inline]
    pub(crate) fn type_level(self, t: usize) -> Option<Level> {
        level_of_code((self.0 >> (TYPE_SHIFT + 3 * t as u32)) & TYPE_MASK)
    }

    pub(crate) fn set_type_level(&mut self, t: usize, level: Option<Level>) {
        let shift = TYPE_SHIFT + 3 * t as u32;
        let code = level.map_or(0, |l| l.index() as u64 + 1);
        self.0 = (self.0 & !(TYPE_MASK << shift)) | code << shift;
    }
}

/// The level a 3-bit type-level code stands for (0 is "not set").
#[inline]
pub(crate) fn level_of_code(code: u64) -> Option<Level> {
    match code {
        0 => None,
        c => Level::ALL.get(c as usize - 1).copied(),
    }
}

#[cfg(test)]
mod record_tests {
    use super::*;

    /// Every field reads back as written, whatever its neighbours hold.
    #[test]
    fn fields_are_independent() {
        let mut r = UserRecord::EMPTY;
        let levels = [None, Some(Level::All), Some(Level::Nothing), Some(Level::MentionsOfAll)];
        for (i, &l) in levels.iter().cycle().take(4).enumerate() {
            r.set_type_level(i, l);
        }
        r.set_extended(true);
        let p = StoredPeriod {
            start: 86_399,
            len: 86_400,
            zone: ZoneIndex((MAX_ZONES - 1) as u16),
            level: PeriodLevel::Nothing,
        };
        r.set_period(p);
        assert_eq!(r.period(), p);
        assert!(r.extended());
        for (i, &l) in levels.iter().enumerate() {
            assert_eq!(r.type_level(i), l);
        }
        r.set_period(StoredPeriod::NONE);
        r.set_extended(false);
        assert_eq!(r.period(), StoredPeriod::NONE);
        assert!(!r.extended());
        assert_eq!(r.type_level(2), Some(Level::Nothing));
        r.set_type_level(2, None);
        assert_eq!(r.type_level(2), None);
        assert_eq!(r.type_level(1), Some(Level::All));
    }

    /// The zone table can hold every zone chrono-tz knows.
    #[test]
    fn every_zone_fits_the_index() {
        assert!(chrono_tz::TZ_VARIANTS.len() < MAX_ZONES);
    }

    #[test]
    fn the_window_test_matches_the_model() {
        for (start, minutes) in [(0, 1), (79_200, 540), (86_340, 1), (3_600, 1439), (43_200, 720)] {
            let window = DndWindow::new(TimeOfDay::from_seconds(start).unwrap(), minutes).unwrap();
            let p = StoredPeriod::new(window, PeriodLevel::Mentions, ZoneIndex::DATA_CENTER);
            assert_eq!(p.window(), Some(window));
            for t in (0..86_400).step_by(60).chain([start, (start + 59) % 86_400]) {
                let tod = TimeOfDay::from_seconds(t).unwrap();
                assert_eq!(p.contains(t), window.contains(tod), "{window:?} at {t}");
            }
        }
    }
}

//! Wall-clock time and the user period (RULES §5): [`TimeOfDay`], the daily
//! [`DndWindow`] that answers `contains`, the [`DndPeriod`] with its level and
//! zone, and [`parse_zone`].

use std::fmt;
use std::str::FromStr;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::{PeriodLevel, Timestamp};
use crate::error::Error;
use crate::error::Excerpt;

/// Seconds in a day.
const DAY: u32 = 86_400;

/// A wall-clock time of day to the second, 00:00:00 to 23:59:59.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeOfDay(u32);

impl TimeOfDay {
    /// Midnight, 00:00:00.
    pub const MIDNIGHT: TimeOfDay = TimeOfDay(0);

    /// The time `hour:minute:second`.
    pub fn new(hour: u32, minute: u32, second: u32) -> Result<TimeOfDay, Error> {
        if hour < 24 && minute < 60 && second < 60 {
            Ok(TimeOfDay(hour * 3600 + minute * 60 + second))
        } else {
            Err(Error::TimeOfDay(format!("{hour:02}:{minute:02}:{second:02}").into()))
        }
    }

    /// The time `seconds` after midnight; `seconds` must be below 86 400.
    pub fn from_seconds(seconds: u32) -> Result<TimeOfDay, Error> {
        if seconds < DAY {
            Ok(TimeOfDay(seconds))
        } else {
            Err(Error::TimeOfDay(format!("{seconds} s").into()))
        }
    }

    /// The wall-clock time of day of `instant` in `zone`, to the second (a
    /// leap second reads as 23:59:59). `instant` is a [`Timestamp`], so the
    /// zone's tables cover it.
    pub fn of_instant(instant: Timestamp, zone: Tz) -> TimeOfDay {
        use chrono::Timelike;
        let wall = instant.as_datetime().with_timezone(&zone);
        TimeOfDay(wall.num_seconds_from_midnight())
    }

    /// Seconds after midnight, below 86 400.
    pub const fn seconds(self) -> u32 {
        self.0
    }
}

impl FromStr for TimeOfDay {
    type Err = Error;

    /// Parses exactly `HH:MM:SS`, two digits each.
    fn from_str(s: &str) -> Result<TimeOfDay, Error> {
        let bad = || Error::TimeOfDay(Excerpt::new(s));
        let b = s.as_bytes();
        if b.len() != 8 || b[2] != b':' || b[5] != b':' {
            return Err(bad());
        }
        let two = |i: usize| -> Option<u32> {
            let (h, l) = (b[i], b[i + 1]);
            (h.is_ascii_digit() && l.is_ascii_digit()).then(|| u32::from(h - b'0') * 10 + u32::from(l - b'0'))
        };
        match (two(0), two(3), two(6)) {
            (Some(h), Some(m), Some(sec)) => TimeOfDay::new(h, m, sec).map_err(|_| bad()),
            _ => Err(bad()),
        }
    }
}

impl TryFrom<String> for TimeOfDay {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl From<TimeOfDay> for String {
    fn from(t: TimeOfDay) -> String {
        t.to_string()
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        write!(f, "{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    }
}

/// A daily window of wall-clock time: from `start` for `minutes` minutes,
/// half-open, wrapping past midnight (RULES §5).
///
/// A window of 1439 minutes, the longest the API accepts, is the documented
/// "permanent all-day" setting and covers the whole day whatever its start.
///
/// ```
/// use dnd_engine::{DndWindow, TimeOfDay};
/// let night = DndWindow::new("22:00:00".parse()?, 540)?;
/// assert!(night.contains("22:00:00".parse()?));
/// assert!(night.contains("06:59:59".parse()?));
/// assert!(!night.contains("07:00:00".parse()?));
/// # Ok::<(), dnd_engine::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DndWindow {
    start: TimeOfDay,
    minutes: u16,
}

impl DndWindow {
    /// The longest window, which covers the whole day.
    pub const WHOLE_DAY_MINUTES: u16 = 1439;

    /// A window from `start` lasting `minutes`, 1 to 1439.
    pub fn new(start: TimeOfDay, minutes: i64) -> Result<DndWindow, Error> {
        match u16::try_from(minutes) {
            Ok(m @ 1..=Self::WHOLE_DAY_MINUTES) => Ok(DndWindow { start, minutes: m }),
            _ => Err(Error::PeriodMinutes(minutes, "1 to 1439 for a window")),
        }
    }

    /// Where the window starts.
    pub const fn start(self) -> TimeOfDay {
        self.start
    }

    /// How long it lasts, in minutes, as set.
    pub const fn minutes(self) -> u16 {
        self.minutes
    }

    /// How many seconds of each day it covers: all 86 400 for 1439 minutes.
    #[inline]
    pub const fn len_seconds(self) -> u32 {
        if self.minutes == Self::WHOLE_DAY_MINUTES {
            DAY
        } else {
            self.minutes as u32 * 60
        }
    }

    /// Whether the wall-clock time `t` lies in the window.
    #[inline]
    pub const fn contains(self, t: TimeOfDay) -> bool {
        // Distance from the start, forward around the clock.
        let since_start = (t.0 + DAY - self.start.0) % DAY;
        since_start < self.len_seconds()
    }
}

impl fmt::Display for DndWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} + {} min", self.start, self.minutes)?;
        if self.minutes == Self::WHOLE_DAY_MINUTES {
            f.write_str(" (the whole day)")?;
        }
        Ok(())
    }
}

/// A user's global DND period (RULES §5): a daily window, its level, and the
/// zone whose wall clock it is read on (the data center's when `None`).
///
/// In JSON it reads as the request's parameters:
/// `{"startTime":"22:00:00","period":540,"level":5,"timezone":"Asia/Tokyo"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "PeriodRepr", into = "PeriodRepr")]
pub struct DndPeriod {
    /// The daily window.
    pub window: DndWindow,
    /// What may still be pushed inside the window.
    pub level: PeriodLevel,
    /// The period's own IANA zone, if it was given one.
    pub zone: Option<Tz>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PeriodRepr {
    start_time: TimeOfDay,
    period: i64,
    level: PeriodLevel,
    #[serde(
        default,
        deserialize_with = "crate::protocol::shape::optional",
        skip_serializing_if = "Option::is_none"
    )]
    timezone: Option<String>,
}

impl TryFrom<PeriodRepr> for DndPeriod {
    type Error = Error;
    fn try_from(r: PeriodRepr) -> Result<Self, Error> {
        Ok(DndPeriod {
            window: DndWindow::new(r.start_time, r.period)?,
            level: r.level,
            zone: r.timezone.as_deref().map(parse_zone).transpose()?,
        })
    }
}

impl From<DndPeriod> for PeriodRepr {
    fn from(p: DndPeriod) -> PeriodRepr {
        PeriodRepr {
            start_time: p.window.start,
            period: p.window.minutes.into(),
            level: p.level,
            timezone: p.zone.map(|z| z.name().to_owned()),
        }
    }
}

/// Parses an IANA time-zone name.
pub fn parse_zone(name: &str) -> Result<Tz, Error> {
    name.parse::<Tz>().map_err(|_| Error::TimeZone(Excerpt::new(name)))
}

//! Instants: [`Timestamp`], a message's time in the range the time-zone
//! tables cover, and the functions that parse one.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::error::Error;
use crate::error::Excerpt;

/// An instant the engine decides at, such as a message's time: from
/// 1970-01-01T00:00:00Z up to, not including, 2100-01-01T00:00:00Z.
///
/// The upper bound is where the time-zone tables end: chrono-tz holds every
/// zone's transitions up to the end of 2099 and reads later times without
/// daylight saving time, so a message at 23:30 in New York in July 2100 would
/// be read at 22:30 and decided silently wrong. The lower bound is the Unix
/// epoch: message times are milliseconds since it, and no message is older.
/// Every way to make a `Timestamp` checks the range, so a
/// [`Message`](crate::Message), which holds one, is always decided right.
///
/// ```
/// use dnd_engine::Timestamp;
/// let t: Timestamp = "2026-11-22T22:30:00+08:00".parse()?;
/// assert_eq!(t.millis(), 1_795_357_800_000);
/// assert_eq!(Timestamp::from_millis(1_795_357_800_000)?, t);
/// assert!(Timestamp::from_millis(Timestamp::END_MILLIS).is_err()); // 2100-01-01T00:00:00Z
/// assert!(Timestamp::from_millis(-1).is_err());
/// # Ok::<(), dnd_engine::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// The first instant of the range, the Unix epoch.
    pub const MIN: Timestamp = Timestamp(DateTime::UNIX_EPOCH);

    /// 2100-01-01T00:00:00Z in milliseconds since the epoch: the first
    /// instant past the range.
    pub const END_MILLIS: i64 = 4_102_444_800_000;

    /// `instant`, if it lies in the range.
    pub fn new(instant: DateTime<Utc>) -> Result<Timestamp, Error> {
        // `timestamp()` is the whole second, so a leap second (23:59:60 on
        // 2099-12-31) counts as the second before it.
        if instant >= DateTime::UNIX_EPOCH && instant.timestamp() < Self::END_MILLIS / 1000 {
            Ok(Timestamp(instant))
        } else {
            Err(Error::TimeOutOfRange(Excerpt::new(
                &instant.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            )))
        }
    }

    /// The instant `ms` milliseconds after the Unix epoch, if it lies in the range.
    pub fn from_millis(ms: i64) -> Result<Timestamp, Error> {
        if (0..Self::END_MILLIS).contains(&ms) {
            DateTime::from_timestamp_millis(ms)
                .map(Timestamp)
                .ok_or_else(|| Error::TimeOutOfRange(Excerpt::new(&ms.to_string())))
        } else {
            Err(Error::TimeOutOfRange(Excerpt::new(&ms.to_string())))
        }
    }

    /// The instant, as chrono's.
    pub const fn as_datetime(self) -> DateTime<Utc> {
        self.0
    }

    /// Milliseconds since the Unix epoch.
    pub fn millis(self) -> i64 {
        self.0.timestamp_millis()
    }
}

impl FromStr for Timestamp {
    type Err = Error;

    /// Parses milliseconds since the Unix epoch (`1700000000000`) or RFC 3339
    /// with an offset (`2026-11-22T22:30:00+08:00`), then checks the range.
    fn from_str(s: &str) -> Result<Timestamp, Error> {
        if let Ok(ms) = s.parse::<i64>() {
            return Timestamp::from_millis(ms);
        }
        let instant = DateTime::parse_from_rfc3339(s).map_err(|_| Error::Instant(Excerpt::new(s)))?;
        Timestamp::new(instant.with_timezone(&Utc))
    }
}

impl TryFrom<DateTime<Utc>> for Timestamp {
    type Error = Error;
    fn try_from(instant: DateTime<Utc>) -> Result<Self, Error> {
        Timestamp::new(instant)
    }
}

/// A `Timestamp` reads as the chrono instant it holds (`t.timestamp_millis()`,
/// `t.with_timezone(&zone)`); only making one checks the range.
impl std::ops::Deref for Timestamp {
    type Target = DateTime<Utc>;
    fn deref(&self) -> &DateTime<Utc> {
        &self.0
    }
}

impl From<Timestamp> for DateTime<Utc> {
    fn from(t: Timestamp) -> DateTime<Utc> {
        t.0
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC, with as many fractional digits as needed:
    /// `2026-11-22T14:30:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    }
}

/// Parses a message time: milliseconds since the Unix epoch (`1700000000000`)
/// or RFC 3339 with an offset (`2026-11-22T22:30:00+08:00`), in the range of
/// a [`Timestamp`].
///
/// ```
/// use dnd_engine::parse_instant;
/// assert_eq!(parse_instant("0")?.millis(), 0);
/// assert_eq!(parse_instant("1970-01-01T08:00:00+08:00")?.millis(), 0);
/// assert!(parse_instant("yesterday").is_err());
/// assert!(parse_instant("2100-01-01T00:00:00Z").is_err());
/// # Ok::<(), dnd_engine::Error>(())
/// ```
pub fn parse_instant(s: &str) -> Result<Timestamp, Error> {
    s.parse()
}

/// The instant `ms` milliseconds after the Unix epoch, in the range of a
/// [`Timestamp`].
pub fn instant_from_millis(ms: i64) -> Result<Timestamp, Error> {
    Timestamp::from_millis(ms)
}

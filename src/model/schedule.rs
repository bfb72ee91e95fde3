//! The weekly quiet-time schedule: up to 32 windows, each on some ISO
//! weekdays, each with its own level, read on one zone's wall clock.
//!
//! A window belongs to the day it starts on and is half-open on the wall
//! clock: Monday 22:00:00 + 540 minutes covers Monday 22:00:00 through
//! Tuesday 06:59:59.999, and a Sunday window runs into Monday. Windows never
//! overlap anywhere in the week, so at most one holds any wall time.

use crate::protocol::shape::Obj;
use std::fmt;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::model::zone::{WallTime, DAY_SECONDS, WEEK_SECONDS};
use crate::model::{Level, TimeOfDay};

/// The levels a snooze or a schedule window may take: 1, 2, 4 or 5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub enum QuietLevel {
    /// 1: @all and mentions of the recipient still push.
    Mentions,
    /// 2: only mentions of the recipient by id push.
    MentionsOfMe,
    /// 4: only @all pushes.
    MentionsOfAll,
    /// 5: nothing pushes.
    Nothing,
}

impl QuietLevel {
    /// The level for `code`: 1, 2, 4 or 5.
    pub fn from_code(code: i64) -> Result<QuietLevel, Error> {
        match code {
            1 => Ok(QuietLevel::Mentions),
            2 => Ok(QuietLevel::MentionsOfMe),
            4 => Ok(QuietLevel::MentionsOfAll),
            5 => Ok(QuietLevel::Nothing),
            _ => Err(Error::QuietLevel(code)),
        }
    }

    /// The DND level it is.
    #[must_use]
    pub const fn level(self) -> Level {
        match self {
            QuietLevel::Mentions => Level::Mentions,
            QuietLevel::MentionsOfMe => Level::MentionsOfMe,
            QuietLevel::MentionsOfAll => Level::MentionsOfAll,
            QuietLevel::Nothing => Level::Nothing,
        }
    }
}

impl TryFrom<i64> for QuietLevel {
    type Error = Error;
    fn try_from(code: i64) -> Result<Self, Error> {
        QuietLevel::from_code(code)
    }
}

impl From<QuietLevel> for i64 {
    fn from(level: QuietLevel) -> i64 {
        level.level().code()
    }
}

/// The ISO weekdays, 1 Monday to 7 Sunday.
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// The name of ISO weekday `day` (1 Monday ... 7 Sunday).
pub(crate) fn weekday_name(day: u8) -> &'static str {
    WEEKDAYS[usize::from(day.clamp(1, 7) - 1)]
}

/// The most windows a schedule holds.
pub const MAX_WINDOWS: usize = 32;

/// One window of a weekly schedule: on each of `days`, from `start` for
/// `minutes` (1 to 1440: 1440 is the whole day), with `level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Obj<WindowRepr>", into = "WindowRepr")]
pub struct ScheduleWindow {
    /// Bit `d - 1` is set for ISO weekday `d`.
    days: u8,
    start: TimeOfDay,
    minutes: u16,
    level: QuietLevel,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WindowRepr {
    days: Vec<i64>,
    start_time: String,
    period: i64,
    level: i64,
}

/// A window is a JSON object: never the array of its fields.
impl TryFrom<Obj<WindowRepr>> for ScheduleWindow {
    type Error = Error;
    fn try_from(Obj(r): Obj<WindowRepr>) -> Result<Self, Error> {
        let start = r
            .start_time
            .parse::<TimeOfDay>()
            .map_err(|e| Error::Invalid(format!("startTime: {e}")))?;
        let level = QuietLevel::from_code(r.level).map_err(|e| Error::Invalid(format!("level: {e}")))?;
        ScheduleWindow::new(&r.days, start, r.period, level)
    }
}

impl From<ScheduleWindow> for WindowRepr {
    fn from(w: ScheduleWindow) -> WindowRepr {
        WindowRepr {
            days: w.days().map(i64::from).collect(),
            start_time: w.start.to_string(),
            period: w.minutes.into(),
            level: w.level.into(),
        }
    }
}

impl ScheduleWindow {
    /// A window on ISO weekdays `days` (1 Monday ... 7 Sunday; at least one,
    /// no repeats), from `start` for `minutes` (1 to 1440), with `level`.
    pub fn new(days: &[i64], start: TimeOfDay, minutes: i64, level: QuietLevel) -> Result<ScheduleWindow, Error> {
        if days.is_empty() {
            return Err(Error::Invalid("days: at least one weekday is needed".into()));
        }
        let mut mask = 0u8;
        for &d in days {
            if !(1..=7).contains(&d) {
                return Err(Error::Invalid(format!(
                    "days: {d} is not an ISO weekday (1 Monday to 7 Sunday)"
                )));
            }
            let bit = 1 << (d - 1);
            if mask & bit != 0 {
                return Err(Error::Invalid(format!("days: {d} is repeated")));
            }
            mask |= bit;
        }
        let minutes = match u16::try_from(minutes) {
            Ok(m @ 1..=1440) => m,
            _ => return Err(Error::Invalid(format!("period: {minutes} is not 1 to 1440 minutes"))),
        };
        Ok(ScheduleWindow {
            days: mask,
            start,
            minutes,
            level,
        })
    }

    /// The ISO weekdays it starts on, Monday first.
    pub fn days(self) -> impl Iterator<Item = u8> {
        (1..=7u8).filter(move |d| self.days & (1 << (d - 1)) != 0)
    }

    /// Where it starts on the wall clock.
    #[must_use]
    pub const fn start(self) -> TimeOfDay {
        self.start
    }

    /// How many wall-clock minutes it lasts.
    #[must_use]
    pub const fn minutes(self) -> u16 {
        self.minutes
    }

    /// Its level.
    #[must_use]
    pub const fn level(self) -> QuietLevel {
        self.level
    }

    /// Its spans on the week, each as (seconds since Monday 00:00, length in
    /// seconds, ISO weekday).
    fn spans(self) -> impl Iterator<Item = (u32, u32, u8)> {
        self.days().map(move |d| {
            (
                u32::from(d - 1) * DAY_SECONDS + self.start.seconds(),
                u32::from(self.minutes) * 60,
                d,
            )
        })
    }
}

impl fmt::Display for ScheduleWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days: Vec<&str> = self.days().map(weekday_name).collect();
        write!(
            f,
            "{} {} + {} min, level {}",
            days.join(", "),
            self.start,
            self.minutes,
            self.level.level().code()
        )
    }
}

/// A user's weekly quiet-time schedule: its windows and the zone whose wall
/// clock they are read on (the data center's when `None`). In JSON:
/// `{"windows":[...],"timezone":"Europe/Paris"}` (`timezone` optional).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Obj<ScheduleRepr>", into = "ScheduleRepr")]
pub struct WeeklySchedule {
    windows: Vec<ScheduleWindow>,
    zone: Option<Tz>,
    /// Every window's spans, sorted by start: (start, length, window index, ISO weekday).
    spans: Vec<(u32, u32, u8, u8)>,
}

/// Which window of a schedule holds a wall time, and on which day it started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowHit {
    /// The window.
    pub window: ScheduleWindow,
    /// The ISO weekday on which the window started.
    pub day: u8,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScheduleRepr {
    windows: Vec<ScheduleWindow>,
    #[serde(
        default,
        deserialize_with = "crate::protocol::shape::optional",
        skip_serializing_if = "Option::is_none"
    )]
    timezone: Option<String>,
}

/// A schedule is a JSON object: never the array of its fields.
impl TryFrom<Obj<ScheduleRepr>> for WeeklySchedule {
    type Error = Error;
    fn try_from(Obj(r): Obj<ScheduleRepr>) -> Result<Self, Error> {
        let zone = r.timezone.as_deref().map(crate::model::parse_zone).transpose()?;
        WeeklySchedule::new(r.windows, zone)
    }
}

impl From<WeeklySchedule> for ScheduleRepr {
    fn from(s: WeeklySchedule) -> ScheduleRepr {
        ScheduleRepr {
            windows: s.windows,
            timezone: s.zone.map(|z| z.name().to_owned()),
        }
    }
}

impl WeeklySchedule {
    /// A schedule of `windows` (1 to 32, overlapping nowhere in the week)
    /// read in `zone`.
    pub fn new(windows: Vec<ScheduleWindow>, zone: Option<Tz>) -> Result<WeeklySchedule, Error> {
        if windows.is_empty() || windows.len() > MAX_WINDOWS {
            return Err(Error::Invalid(format!(
                "{} windows: a schedule has 1 to {MAX_WINDOWS}",
                windows.len()
            )));
        }
        let mut spans: Vec<(u32, u32, u8, u8)> = windows
            .iter()
            .enumerate()
            .flat_map(|(i, w)| w.spans().map(move |(s, l, d)| (s, l, i as u8, d)))
            .collect();
        spans.sort_unstable();
        for (k, a) in spans.iter().enumerate() {
            let b = spans[(k + 1) % spans.len()];
            // The distance from a's start to the next span's start, forward around the week.
            let gap = if spans.len() == 1 {
                WEEK_SECONDS
            } else {
                (b.0 + WEEK_SECONDS - a.0) % WEEK_SECONDS
            };
            if a.1 > gap {
                return Err(Error::Invalid(format!(
                    "windows[{}] and windows[{}] overlap on {}",
                    a.2.min(b.2),
                    a.2.max(b.2),
                    weekday_name(b.3)
                )));
            }
        }
        Ok(WeeklySchedule { windows, zone, spans })
    }

    /// Parses the `windows` request field: a JSON array of window objects
    /// `{"days":[1,...],"startTime":"HH:MM:SS","period":MINUTES,"level":L}`.
    pub fn parse_windows(json: &str) -> Result<Vec<ScheduleWindow>, Error> {
        let mut de = serde_json::Deserializer::from_str(json);
        let windows: Vec<ScheduleWindow> = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            Error::Invalid(crate::error::bounded(format_args!(
                "windows{}: {}",
                path_suffix(&e.path().to_string()),
                e.inner()
            )))
        })?;
        de.end()
            .map_err(|e| Error::Invalid(crate::error::bounded(format_args!("windows: {e}"))))?;
        Ok(windows)
    }

    /// The windows, as given.
    pub fn windows(&self) -> &[ScheduleWindow] {
        &self.windows
    }

    /// The schedule's own zone, if it was given one.
    pub fn zone(&self) -> Option<Tz> {
        self.zone
    }

    /// The window holding wall time `wall`, if any.
    pub(crate) fn hit(&self, wall: WallTime) -> Option<WindowHit> {
        let t = wall.week_seconds();
        // The last span starting at or before t, or (wrapping) the last of the week.
        let k = self.spans.partition_point(|s| s.0 <= t);
        let s = self.spans[if k == 0 { self.spans.len() - 1 } else { k - 1 }];
        let since = (t + WEEK_SECONDS - s.0) % WEEK_SECONDS;
        (since < s.1).then(|| WindowHit {
            window: self.windows[usize::from(s.2)],
            day: s.3,
        })
    }

    /// The wall-clock readings, in ms since Monday 00:00, at which a window
    /// starts or ends.
    pub(crate) fn edges_ms(&self, out: &mut Vec<i64>) {
        for s in &self.spans {
            out.push(i64::from(s.0) * 1000);
            out.push(i64::from((s.0 + s.1) % WEEK_SECONDS) * 1000);
        }
    }
}

/// serde_path_to_error's path, as it follows a field name: `[2].days`.
fn path_suffix(path: &str) -> String {
    match path {
        "." => String::new(),
        p if p.starts_with('[') => p.to_owned(),
        p => format!(".{p}"),
    }
}

#[cfg(test)]
mod schedule_tests {
    use super::*;

    fn window(days: &[i64], start: &str, minutes: i64) -> ScheduleWindow {
        ScheduleWindow::new(days, start.parse().unwrap(), minutes, QuietLevel::Nothing).unwrap()
    }

    #[test]
    fn a_sunday_window_runs_into_monday_and_overlaps_are_refused() {
        let s = WeeklySchedule::new(vec![window(&[7], "22:00:00", 540)], None).unwrap();
        let hit = s
            .hit(WallTime {
                seconds: 3 * 3600,
                weekday: 0,
            })
            .unwrap();
        assert_eq!(hit.day, 7);
        assert!(s
            .hit(WallTime {
                seconds: 7 * 3600,
                weekday: 0
            })
            .is_none());
        let overlap = WeeklySchedule::new(vec![window(&[7], "22:00:00", 540), window(&[1], "06:00:00", 60)], None);
        assert!(overlap.unwrap_err().to_string().contains("overlap"));
        let touching = WeeklySchedule::new(vec![window(&[7], "22:00:00", 540), window(&[1], "07:00:00", 60)], None);
        assert!(touching.is_ok());
        let whole_week = WeeklySchedule::new(vec![window(&[1, 2, 3, 4, 5, 6, 7], "00:00:00", 1440)], None).unwrap();
        assert!(whole_week
            .hit(WallTime {
                seconds: 86_399,
                weekday: 6
            })
            .is_some());
    }

    #[test]
    fn windows_parse_with_the_place_of_an_error() {
        let err = WeeklySchedule::parse_windows(r#"[{"days":[1],"startTime":"22:00:00","period":60,"level":5},{"days":[8],"startTime":"22:00:00","period":60,"level":5}]"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("windows[1]") && err.contains("8 is not an ISO weekday"),
            "{err}"
        );
        let dup =
            WeeklySchedule::parse_windows(r#"[{"days":[1],"days":[2],"startTime":"22:00:00","period":60,"level":5}]"#);
        assert!(dup.unwrap_err().to_string().contains("duplicate"));
    }
}

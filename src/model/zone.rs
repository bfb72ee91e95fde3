//! Wall clocks: what a message's instant reads as in a zone (the time of day
//! and the weekday, computed once per message and zone), and, for the defer
//! computation, the instants at which a zone's wall clock reaches given
//! readings, through its clock changes.

use chrono::{DateTime, Datelike, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// Seconds in a day.
pub(crate) const DAY_SECONDS: u32 = 86_400;
/// Seconds in a week.
pub(crate) const WEEK_SECONDS: u32 = 7 * DAY_SECONDS;
/// Milliseconds in a week: the span in which a deferred push is looked for.
pub const WEEK_MS: i64 = 604_800_000;

/// An instant as a zone's wall clock reads it: the time of day, to the
/// second, and the ISO weekday.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WallTime {
    /// Seconds after local midnight.
    pub(crate) seconds: u32,
    /// Days after Monday: 0 Monday ... 6 Sunday.
    pub(crate) weekday: u8,
}

impl WallTime {
    pub(crate) const MONDAY_MIDNIGHT: WallTime = WallTime { seconds: 0, weekday: 0 };

    /// The wall time of `instant` in `zone` (a leap second reads as 23:59:59).
    pub(crate) fn of(instant: DateTime<Utc>, zone: Tz) -> WallTime {
        let local = instant.with_timezone(&zone);
        WallTime {
            seconds: local.num_seconds_from_midnight(),
            weekday: local.weekday().num_days_from_monday() as u8,
        }
    }

    /// Seconds since Monday 00:00:00.
    #[inline]
    pub(crate) fn week_seconds(self) -> u32 {
        u32::from(self.weekday) * DAY_SECONDS + self.seconds
    }
}

/// The zone's offset from UTC at `ms` (milliseconds since the epoch), in ms.
fn offset_ms(zone: Tz, ms: i64) -> i64 {
    match DateTime::from_timestamp_millis(ms) {
        Some(t) => i64::from(zone.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc()) * 1000,
        None => 0,
    }
}

/// How far apart two clock changes of a zone are at the least, as the
/// search for them assumes: no zone in the tz database changes its clocks
/// twice within six hours.
const PROBE_MS: i64 = 6 * 3_600_000;

/// The spans of constant offset that cover `[from, to]`: each as its first
/// instant and its offset, both in ms; the first starts at `from`. A clock
/// change is found by probing every six hours and then bisecting to the
/// millisecond at which the new offset starts.
pub(crate) fn offset_spans(zone: Tz, from: i64, to: i64, out: &mut Vec<(i64, i64)>) {
    out.clear();
    let mut start = from;
    let mut offset = offset_ms(zone, from);
    out.push((start, offset));
    while start < to {
        let probe = (start + PROBE_MS).min(to);
        let next = offset_ms(zone, probe);
        if next == offset {
            start = probe;
            continue;
        }
        // The first instant in (start, probe] with the new offset.
        let (mut lo, mut hi) = (start, probe);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if offset_ms(zone, mid) == offset {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        offset = offset_ms(zone, hi);
        out.push((hi, offset));
        start = hi;
    }
}

/// Pushes onto `out` every instant `t` in `(from, to]` at which the wall
/// clock of the zone whose offset spans are `spans` reaches one of `marks`
/// (milliseconds into a cycle of `cycle_ms`, counted from local midnight on
/// a Monday when the cycle is a week) or jumps (the first instant of each
/// span but the first). Between two such instants the wall clock moves
/// steadily and reaches no mark, so anything that depends only on which
/// side of the marks it reads stays the same.
pub(crate) fn mark_crossings(spans: &[(i64, i64)], to: i64, cycle_ms: i64, marks: &[i64], out: &mut Vec<i64>) {
    // 1970-01-01 was a Thursday: three days after a Monday.
    let shift = if cycle_ms == i64::from(WEEK_SECONDS) * 1000 {
        3 * i64::from(DAY_SECONDS) * 1000
    } else {
        0
    };
    let Some(&(from, _)) = spans.first() else {
        return;
    };
    for (i, &(start, offset)) in spans.iter().enumerate() {
        let end = spans.get(i + 1).map_or(to + 1, |&(s, _)| s);
        if i > 0 && start <= to {
            out.push(start);
        }
        let lo = start.max(from + 1);
        for &mark in marks {
            // t such that (t + offset + shift) mod cycle == mark, t >= lo.
            let phase = (mark - offset - shift).rem_euclid(cycle_ms);
            let mut t = lo + (phase - lo).rem_euclid(cycle_ms);
            while t < end && t <= to {
                out.push(t);
                t += cycle_ms;
            }
        }
    }
}

#[cfg(test)]
mod zone_tests {
    use super::*;

    #[test]
    fn new_york_changes_its_clocks_twice_in_2026() {
        let from = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap().timestamp_millis();
        let to = Utc.with_ymd_and_hms(2026, 12, 31, 0, 0, 0).unwrap().timestamp_millis();
        let mut spans = Vec::new();
        offset_spans(chrono_tz::America::New_York, from, to, &mut spans);
        let starts: Vec<String> = spans[1..]
            .iter()
            .map(|&(s, _)| DateTime::from_timestamp_millis(s).unwrap().to_rfc3339())
            .collect();
        assert_eq!(starts, ["2026-03-08T07:00:00+00:00", "2026-11-01T06:00:00+00:00"]);
    }

    #[test]
    fn a_daily_mark_is_crossed_once_a_day_and_the_jump_is_a_crossing() {
        let zone = chrono_tz::America::New_York;
        // Saturday 2026-03-07 12:00 local to Monday 12:00: the clocks go forward on Sunday at 02:00.
        let from = Utc.with_ymd_and_hms(2026, 3, 7, 17, 0, 0).unwrap().timestamp_millis();
        let to = from + 2 * 86_400_000;
        let mut spans = Vec::new();
        offset_spans(zone, from, to, &mut spans);
        let mut out = Vec::new();
        mark_crossings(&spans, to, 86_400_000, &[2 * 3_600_000 + 30 * 60_000], &mut out);
        out.sort_unstable();
        let local: Vec<String> = out
            .iter()
            .map(|&t| {
                DateTime::from_timestamp_millis(t)
                    .unwrap()
                    .with_timezone(&zone)
                    .to_rfc3339()
            })
            .collect();
        // 02:30 is skipped on Sunday: the wall clock jumps past it at the change.
        assert_eq!(
            local,
            ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"],
            "the jump at the change, then Monday's 02:30"
        );
    }
}

//! Properties of time (issue 10), on random worlds that use every extension:
//! the engine against the naive oracle; defer against a stepping oracle; an
//! override at and after its `until`; a one-window schedule against the
//! equivalent period; save and restore.

use chrono::{DateTime, Duration, Timelike, Utc};
use chrono_tz::Tz;
use dnd_engine::{Config, Message, Request, Settings};
use proptest::prelude::*;

use crate::checks::{agrees_with_the_oracle, deferrals_agree_with_stepping_the_clock};
use crate::gen::{self, conversation, instant, mentions, request, ts, World, CLOCK_ZONES, TIME_USERS};

const MENTIONED: [&str; 1] = ["u1"];

/// A world in data-center zone `zone` (no app defaults).
fn world(requests: &[(String, String)], zone: Tz) -> World {
    gen::world(&Config::new(zone), requests)
}

/// A message from `s` of conversation `kind` (`gen::conversation`) with
/// mentions of `mention` (`gen::mentions`), `minutes` after `gen::instant(0)`.
fn message(kind: u8, mention: u8, minutes: i64) -> Message<'static> {
    Message::new(conversation(kind), "s", ts(instant(minutes))).with_mentions(mentions(mention, &MENTIONED))
}

/// `ms` milliseconds into the minute that starts at `minute`; from 60,000
/// on, into the leap second that ends it (23:59:60.x as chrono writes it,
/// :59 with a nanosecond past 10^9).
fn within_the_minute(minute: DateTime<Utc>, ms: i64) -> DateTime<Utc> {
    if ms < 60_000 {
        return minute + Duration::milliseconds(ms);
    }
    let nanos = u32::try_from(ms - 59_000).expect("below 2,000 ms") * 1_000_000;
    let leap = (minute + Duration::seconds(59))
        .naive_utc()
        .with_nanosecond(nanos)
        .expect("a leap second at :59");
    leap.and_utc()
}

fn decisions(settings: &Settings, message: &Message<'_>) -> Vec<dnd_engine::Decision> {
    gen::decisions(settings, message, &TIME_USERS)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Every decision, with every extension in use, equals the naive walk's,
    /// every way the engine decides (`checks::agrees_with_the_oracle`).
    #[test]
    fn the_engine_agrees_with_the_naive_oracle_on_worlds_with_time(
        requests in prop::collection::vec(request(true), 0..24),
        zone in prop::sample::select(&CLOCK_ZONES[..]),
        kind in 0u8..5, mention in 0u8..3, minutes in -1440i64..12 * 1440,
    ) {
        let w = world(&requests, zone.parse().unwrap());
        agrees_with_the_oracle(&w.settings, &w.naive, &message(kind, mention, minutes), &TIME_USERS)?;
    }

    /// Deciding at `deferUntil` pushes; no instant after the message and
    /// before it does (on a minute grid, and 1 ms before it); without one, no
    /// instant in the 7 days pushes (`checks::deferrals_agree_with_stepping_the_clock`).
    #[test]
    fn defer_is_the_earliest_instant_that_pushes(
        requests in prop::collection::vec(request(true), 0..16),
        zone in prop::sample::select(&CLOCK_ZONES[..]),
        kind in 0u8..5, mention in 0u8..3, minutes in -60i64..3 * 1440, second in 0i64..61_000,
    ) {
        let w = world(&requests, zone.parse().unwrap());
        let m = message(kind, mention, minutes);
        let m = m.with_time(ts(within_the_minute(*m.at, second)));
        deferrals_agree_with_stepping_the_clock(&w.settings, &m, &TIME_USERS)?;
    }

    /// A message at or after an override's `until` is decided as if that
    /// override had never been set.
    #[test]
    fn at_and_after_until_an_override_is_as_if_never_set(
        permanent in prop::collection::vec(request(false), 0..16),
        temporary in prop::collection::vec(request(true), 1..6),
        zone in prop::sample::select(&CLOCK_ZONES[..]),
        kind in 0u8..5, mention in 0u8..3, after in 0i64..3 * 1440,
    ) {
        let temporary: Vec<_> = temporary.into_iter().filter(|(_, b)| b.contains("until=")).collect();
        let without = world(&permanent, zone.parse().unwrap()).settings;
        let all: Vec<_> = permanent.iter().cloned().chain(temporary.iter().cloned()).collect();
        let World { settings: with, accepted, .. } = world(&all, zone.parse().unwrap());
        let last_until = accepted.iter().filter_map(|r| match r {
            Request::SetConversationLevelUntil { until, .. }
            | Request::SetTypeLevelUntil { until, .. }
            | Request::SetUltraGroupDefaultUntil { until, .. } => Some(*until),
            Request::SetSnooze { snooze, .. } => Some(snooze.until),
            _ => None,
        }).max();
        let Some(last_until) = last_until else { return Ok(()) };
        let m = message(kind, mention, 0).with_time(ts(last_until + Duration::minutes(after)));
        prop_assert_eq!(decisions(&with, &m), decisions(&without, &m));
    }

    /// A schedule of one window on every day decides as the equivalent period.
    #[test]
    fn a_one_window_all_days_schedule_decides_like_the_period(
        start in 0u32..86_400, minutes in 1i64..=1438, level in prop::sample::select(&[1i64, 5][..]),
        zone in prop::option::of(prop::sample::select(&CLOCK_ZONES[..])),
        kind in 0u8..5, mention in 0u8..3, at in prop::collection::vec(-1440i64..250 * 1440, 8),
    ) {
        let hms = format!("{:02}:{:02}:{:02}", start / 3600, start / 60 % 60, start % 60);
        let tz = zone.map(|z| format!("&timezone={z}")).unwrap_or_default();
        let mut period = Settings::new(Config::new(chrono_tz::America::New_York));
        let mut schedule = period.clone();
        prop_assert_eq!(period.handle("/user/blockPushPeriod/set.json", format!("userId=u1&startTime={hms}&period={minutes}&level={level}{tz}").as_bytes()).code(), 200);
        let windows = format!(r#"[{{"days":[1,2,3,4,5,6,7],"startTime":"{hms}","period":{minutes},"level":{level}}}]"#);
        let body = form_urlencoded::Serializer::new(String::new()).append_pair("userId", "u1").append_pair("windows", &windows).finish() + &tz;
        prop_assert_eq!(schedule.handle("/user/blockPushSchedule/set.json", body.as_bytes()).code(), 200);
        for minutes in at {
            let m = message(kind, mention, minutes);
            prop_assert_eq!(decisions(&period, &m), decisions(&schedule, &m));
        }
    }

    /// Save and restore decides identically, deferrals included, with every
    /// new setting in use; saving the restored state gives the same text.
    #[test]
    fn save_and_restore_decide_identically_with_time(
        requests in prop::collection::vec(request(true), 0..24),
        zone in prop::sample::select(&CLOCK_ZONES[..]),
        kind in 0u8..5, mention in 0u8..3, minutes in -1440i64..12 * 1440,
    ) {
        let settings = world(&requests, zone.parse().unwrap()).settings;
        let saved = serde_json::to_string(&settings).unwrap();
        let restored: Settings = serde_json::from_str(&saved).unwrap();
        prop_assert_eq!(serde_json::to_string(&restored).unwrap(), saved);
        let m = message(kind, mention, minutes);
        let (a, b) = (settings.prepare(&m), restored.prepare(&m));
        for u in TIME_USERS {
            prop_assert_eq!(a.decide_deferred_id(u), b.decide_deferred_id(u));
        }
    }
}

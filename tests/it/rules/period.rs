//! RULES §5, the user period: start time, length and level, the half-open
//! window wrapping past midnight, its zone, clock changes, and message times.

use chrono_tz::{America, Asia, UTC};
use dnd_engine::{Conversation, DndWindow, Error, Layer, Mentions, Message, PeriodLevel, TimeOfDay};

use crate::support::*;

fn window(start: &str, minutes: i64) -> DndWindow {
    DndWindow::new(start.parse().unwrap(), minutes).unwrap()
}

fn t(s: &str) -> TimeOfDay {
    s.parse().unwrap()
}

#[test]
fn s5_start_time_format_and_range() {
    assert_eq!(t("00:00:00").seconds(), 0);
    assert_eq!(t("23:59:59").seconds(), 86_399);
    for bad in [
        "24:00:00",
        "23:60:00",
        "23:59:60",
        "7:00:00",
        "07:00",
        "07:00:00 ",
        "aa:bb:cc",
        "",
        "07-00-00",
        "+7:00:00",
    ] {
        assert_eq!(bad.parse::<TimeOfDay>(), Err(Error::TimeOfDay(bad.into())), "{bad:?}");
    }
}

#[test]
fn s5_period_length_and_level_ranges() {
    assert!(DndWindow::new(TimeOfDay::MIDNIGHT, 1).is_ok());
    assert!(DndWindow::new(TimeOfDay::MIDNIGHT, 1439).is_ok());
    assert!(matches!(
        DndWindow::new(TimeOfDay::MIDNIGHT, 1440),
        Err(Error::PeriodMinutes(1440, _))
    ));
    assert!(matches!(
        DndWindow::new(TimeOfDay::MIDNIGHT, 0),
        Err(Error::PeriodMinutes(0, _))
    ));
    assert!(matches!(
        DndWindow::new(TimeOfDay::MIDNIGHT, -5),
        Err(Error::PeriodMinutes(-5, _))
    ));
    assert_eq!(PeriodLevel::from_code(1), Ok(PeriodLevel::Mentions));
    assert_eq!(PeriodLevel::from_code(5), Ok(PeriodLevel::Nothing));
    for bad in [-1, 0, 2, 4, 6] {
        assert_eq!(PeriodLevel::from_code(bad), Err(Error::PeriodLevel(bad)));
    }
    assert_eq!(
        dnd_engine::parse_zone("Mars/Olympus"),
        Err(Error::TimeZone("Mars/Olympus".into()))
    );
}

#[test]
fn s5_the_window_is_half_open_and_wraps_past_midnight() {
    let night = window("22:00:00", 540);
    assert!(night.contains(t("22:00:00")), "start is inside");
    assert!(night.contains(t("23:59:59")));
    assert!(night.contains(t("00:00:00")), "wraps");
    assert!(night.contains(t("06:59:59")));
    assert!(!night.contains(t("07:00:00")), "end is outside");
    assert!(!night.contains(t("21:59:59")));
    assert!(!night.contains(t("12:00:00")));
}

#[test]
fn s5_the_last_millisecond_before_the_end_is_inside() {
    let s = settings(UTC, &[(PERIOD, "userId=r&startTime=22:00:00&period=540&level=5")]);
    let d = |when| decide(&s, &Message::new(group("g"), "s", at(when)), "r").by();
    assert_eq!(d("2026-11-22T06:59:59.999Z"), Layer::UserPeriod);
    assert_eq!(d("2026-11-22T07:00:00.000Z"), Layer::NothingSet);
    assert_eq!(d("2026-11-22T22:00:00.000Z"), Layer::UserPeriod);
    assert_eq!(d("2026-11-22T21:59:59.999Z"), Layer::NothingSet);
}

#[test]
fn s5_seconds_in_the_start_time_count() {
    let w = window("08:00:30", 1);
    assert!(!w.contains(t("08:00:29")));
    assert!(w.contains(t("08:00:30")));
    assert!(w.contains(t("08:01:29")));
    assert!(!w.contains(t("08:01:30")));
    // The seed's own example: 23:59:59 + 120 min.
    let w = window("23:59:59", 120);
    assert!(w.contains(t("23:59:59")) && w.contains(t("01:59:58")) && !w.contains(t("01:59:59")));
}

#[test]
fn s5_1439_minutes_cover_the_whole_day_whatever_the_start() {
    for start in ["00:00:00", "13:17:05", "23:59:59"] {
        let w = window(start, 1439);
        assert_eq!(w.len_seconds(), 86_400);
        for s in 0..86_400 {
            assert!(
                w.contains(TimeOfDay::from_seconds(s).unwrap()),
                "{start} + 1439 misses {s}"
            );
        }
    }
    // 1438 minutes leave exactly two minutes out.
    let w = window("00:00:00", 1438);
    assert_eq!(
        (0..86_400)
            .filter(|&s| !w.contains(TimeOfDay::from_seconds(s).unwrap()))
            .count(),
        120
    );
}

#[test]
fn s5_the_wall_clock_is_the_data_centers_unless_the_period_names_a_zone() {
    let requests = [
        (PERIOD, "userId=dc&startTime=22:00:00&period=60&level=5"),
        (
            PERIOD,
            "userId=ny&startTime=22:00:00&period=60&level=5&timezone=America%2FNew_York",
        ),
    ];
    // 14:30 UTC is 22:30 in Shanghai and 09:30 in New York.
    let instant = "2026-11-22T14:30:00Z";
    let s = settings(Asia::Shanghai, &requests);
    let msg = Message::new(group("g"), "s", at(instant));
    assert_eq!(decide(&s, &msg, "dc").by(), Layer::UserPeriod);
    assert_eq!(decide(&s, &msg, "ny").by(), Layer::NothingSet);
    // The same settings in the global (UTC) data center: 14:30 is outside.
    let s = settings(UTC, &requests);
    assert_eq!(decide(&s, &msg, "dc").by(), Layer::NothingSet);
    // 03:30 UTC is 22:30 in New York (EST).
    let msg = Message::new(group("g"), "s", at("2026-11-23T03:30:00Z"));
    assert_eq!(decide(&s, &msg, "ny").by(), Layer::UserPeriod);
}

/// Every minute of New York's local day `day` (stepping instants, not wall
/// times), and whether user "r" is inside the period then.
fn active_minutes(s: &dnd_engine::Settings, day: &str) -> Vec<(String, bool)> {
    let start = at(&format!("{day}T00:00:00Z"));
    (0..(36 * 60))
        .map(|m| {
            let instant = start.as_datetime() + chrono::Duration::minutes(m);
            let message = Message::new(group("g"), "s", instant.try_into().unwrap());
            let inside = s.prepare(&message).decide_id("r").by() == Layer::UserPeriod;
            (instant.with_timezone(&America::New_York).to_rfc3339(), inside)
        })
        .filter(|(local, _)| local.starts_with(day))
        .collect()
}

#[test]
fn s5_a_window_in_the_hour_that_spring_forward_skips_is_never_reached() {
    // 2026-03-08: New York goes from 01:59:59 EST to 03:00:00 EDT.
    let s = settings(
        America::New_York,
        &[(PERIOD, "userId=r&startTime=02:00:00&period=60&level=5")],
    );
    let minutes = active_minutes(&s, "2026-03-08");
    assert_eq!(minutes.len(), 23 * 60, "the day is 23 hours long");
    let inside: Vec<_> = minutes.iter().filter(|(_, a)| *a).collect();
    assert!(inside.is_empty(), "{inside:?}");
    // The day after, the window is reached again.
    assert_eq!(active_minutes(&s, "2026-03-09").iter().filter(|(_, a)| *a).count(), 60);

    // A window that straddles the jump: 01:30 + 60 min is inside until 01:59:59 EST, then
    // the clock reads 03:00 EDT, outside.
    let s = settings(
        America::New_York,
        &[(PERIOD, "userId=r&startTime=01:30:00&period=60&level=5")],
    );
    let inside: Vec<_> = active_minutes(&s, "2026-03-08")
        .into_iter()
        .filter(|(_, a)| *a)
        .map(|(t, _)| t)
        .collect();
    assert_eq!(inside.first().map(String::as_str), Some("2026-03-08T01:30:00-05:00"));
    assert_eq!(inside.last().map(String::as_str), Some("2026-03-08T01:59:00-05:00"));
    assert_eq!(inside.len(), 30);
}

#[test]
fn s5_a_window_in_the_hour_that_fall_back_repeats_is_inside_both_times() {
    // 2026-11-01: New York goes from 01:59:59 EDT back to 01:00:00 EST.
    let s = settings(
        America::New_York,
        &[(PERIOD, "userId=r&startTime=01:00:00&period=60&level=5")],
    );
    let inside: Vec<_> = active_minutes(&s, "2026-11-01")
        .into_iter()
        .filter(|(_, a)| *a)
        .map(|(t, _)| t)
        .collect();
    assert_eq!(inside.len(), 120, "{inside:?}");
    assert_eq!(inside[0], "2026-11-01T01:00:00-04:00");
    assert_eq!(inside[59], "2026-11-01T01:59:00-04:00");
    assert_eq!(inside[60], "2026-11-01T01:00:00-05:00");
    assert_eq!(inside[119], "2026-11-01T01:59:00-05:00");
}

#[test]
fn s5_one_period_per_user_a_new_one_replaces_the_old_and_period_zero_removes_it() {
    let mut s = settings(UTC, &[(PERIOD, "userId=r&startTime=10:00:00&period=60&level=5")]);
    let at_ten = Message::new(group("g"), "s", at("2026-11-22T10:30:00Z"));
    let at_noon = Message::new(group("g"), "s", at("2026-11-22T12:30:00Z"));
    assert_eq!(decide(&s, &at_ten, "r").by(), Layer::UserPeriod);
    assert_eq!(
        s.handle(PERIOD, b"userId=r&startTime=12:00:00&period=60&level=5")
            .code(),
        200
    );
    assert_eq!(decide(&s, &at_ten, "r").by(), Layer::NothingSet);
    assert_eq!(decide(&s, &at_noon, "r").by(), Layer::UserPeriod);
    assert_eq!(
        s.handle(PERIOD, b"userId=r&startTime=12:00:00&period=0&level=5").code(),
        200
    );
    assert_eq!(decide(&s, &at_noon, "r").by(), Layer::NothingSet);
    assert_eq!(s.period("r"), None);
}

#[test]
fn s5_period_level_one_pushes_mentions_only() {
    let s = settings(UTC, &[(PERIOD, "userId=r&startTime=00:00:00&period=1439&level=1")]);
    let me = ["r"];
    let plain = Message::new(group("g"), "s", at(NOON_UTC));
    assert!(!decide(&s, &plain, "r").push());
    assert!(decide(&s, &plain.with_mentions(Mentions::Users(&me)), "r").push());
    assert!(decide(&s, &plain.with_mentions(Mentions::All), "r").push());
    // ...and in a private conversation, nothing.
    assert!(!decide(&s, &Message::new(Conversation::Private, "s", at(NOON_UTC)), "r").push());
}

#[test]
fn s5_message_times_are_instants_in_millis_or_rfc3339() {
    assert_eq!(at("1763812800000"), at("2025-11-22T12:00:00Z"));
    assert_eq!(at("2025-11-22T20:00:00+08:00"), at("2025-11-22T12:00:00Z"));
    for bad in [
        "2025-11-22 12:00:00",
        "2025-11-22T12:00:00",
        "noon",
        "",
        "99999999999999999999",
    ] {
        assert!(
            matches!(dnd_engine::parse_instant(bad), Err(Error::Instant(_))),
            "{bad:?}"
        );
    }
}

//! Defer at the end of the range (docs/rules.md §8): the engine decides
//! only up to, not including, 2100-01-01T00:00:00Z, so a deferral names an
//! instant before it, and a push that would come only at or after it is "no
//! deferral" (none that the engine can decide), never an instant out of the
//! range.

use chrono_tz::{America, Tz, UTC};
use dnd_engine::{Config, Decision, Message, Recipient, Settings, Timestamp};

use crate::support::{at, group, settings, PERIOD};

const SNOOZE: &str = "/user/snooze/set.json";
const SCHEDULE: &str = "/user/blockPushSchedule/set.json";
const TYPE: &str = "/conversation/type/notification/set.json";

/// The last instant the engine decides at.
fn last() -> Timestamp {
    Timestamp::from_millis(Timestamp::END_MILLIS - 1).unwrap()
}

/// The deferral's instant for `recipient` of a group message at `when`.
fn defer_until(s: &Settings, when: &str, recipient: &str) -> Option<Timestamp> {
    let m = Message::new(group("g"), "sender", at(when));
    let p = s.prepare(&m);
    assert!(!p.decide_id(recipient).push(), "{recipient} is quiet at {when}");
    let d = p.defer(Recipient::Id(recipient)).unwrap()?;
    Some(Timestamp::new(d.until).unwrap_or_else(|e| panic!("deferUntil {} is out of range: {e}", d.until)))
}

fn schedule(user: &str, windows: &str, zone: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("userId", user)
        .append_pair("windows", windows)
        .append_pair("timezone", zone)
        .finish()
}

/// A period whose end falls at or after 2100-01-01T00:00:00Z defers to no
/// instant; one that ends a minute before it defers to its end.
#[test]
fn a_quiet_time_that_ends_at_or_after_2100_defers_to_no_instant() {
    let s = settings(
        UTC,
        &[
            // 22:00 for two hours: ends exactly at 2100-01-01T00:00:00Z.
            (PERIOD, "userId=edge&startTime=22:00:00&period=120&level=5"),
            // One minute shorter: ends at 23:59, inside the range.
            (PERIOD, "userId=inside&startTime=22:00:00&period=119&level=5"),
            (
                PERIOD,
                "userId=ny&startTime=17:00:00&period=900&level=5&timezone=America/New_York",
            ),
        ],
    );
    let when = "2099-12-31T23:00:00Z";
    assert_eq!(defer_until(&s, when, "edge"), None);
    assert_eq!(defer_until(&s, when, "inside"), Some(at("2099-12-31T23:59:00Z")));
    // 18:00 in New York; the period ends at 08:00 there on 2100-01-01 (13:00Z).
    assert_eq!(defer_until(&s, when, "ny"), None);
    // The explanation names no deferral either.
    let m = Message::new(group("g"), "sender", at(when));
    let text = s.prepare(&m).explain_id("edge").to_string();
    assert!(!text.contains("deferUntil"), "{text}");
    // A day earlier the same periods defer as always, into the next day.
    assert_eq!(
        defer_until(&s, "2099-12-30T23:00:00Z", "edge"),
        Some(at("2099-12-31T00:00:00Z"))
    );
}

/// A snooze that ends on the last millisecond of the range defers to it; a
/// weekly window from Thursday 2099-12-31 into Friday 2100-01-01 defers to
/// no instant, and one that ends on Thursday to its end.
#[test]
fn a_snooze_and_a_schedule_at_the_edge() {
    let windows_over = r#"[{"days":[4],"startTime":"20:00:00","period":300,"level":5}]"#;
    let windows_inside = r#"[{"days":[4],"startTime":"20:00:00","period":239,"level":5}]"#;
    let s = settings(
        UTC,
        &[
            (SNOOZE, &format!("userId=snoozer&until={}", Timestamp::END_MILLIS - 1)),
            (SCHEDULE, &schedule("over", windows_over, "UTC")),
            (SCHEDULE, &schedule("inside", windows_inside, "UTC")),
            (
                SCHEDULE,
                &schedule(
                    "ny",
                    r#"[{"days":[4],"startTime":"15:00:00","period":600,"level":5}]"#,
                    "America/New_York",
                ),
            ),
        ],
    );
    let when = "2099-12-31T22:00:00Z";
    assert_eq!(defer_until(&s, when, "snoozer"), Some(last()));
    assert_eq!(defer_until(&s, when, "over"), None);
    assert_eq!(defer_until(&s, when, "inside"), Some(at("2099-12-31T23:59:00Z")));
    // 17:00 on Thursday in New York, in a window that ends at 01:00 on
    // Friday there (06:00Z on 2100-01-01).
    assert_eq!(defer_until(&s, when, "ny"), None);
}

/// Over the last eight days of the range, hour by hour, for quiet times
/// and temporary levels in several zones: a deferral is always an instant
/// of the range at which the message pushes, after the message's time and
/// at most 7 days later (§8); and whenever a deferral is none, the message
/// pushes at no hour from its time to the end of the range within 7 days.
#[test]
fn near_2100_a_deferral_is_an_instant_of_the_range_that_pushes() {
    let zones: [Tz; 3] = [UTC, America::New_York, chrono_tz::Pacific::Kiritimati];
    for zone in zones {
        let mut config = Config::new(zone);
        config = config.with_app_default(dnd_engine::ConversationType::Group, dnd_engine::Level::All);
        let mut s = Settings::new(config);
        let bodies = [
            (PERIOD, "userId=p&startTime=22:00:00&period=600&level=5".to_string()),
            (PERIOD, "userId=q&startTime=03:00:00&period=1200&level=5".to_string()),
            (
                SCHEDULE,
                schedule(
                    "w",
                    r#"[{"days":[1,3,5],"startTime":"09:00:00","period":1440,"level":5}]"#,
                    zone.name(),
                ),
            ),
            (SNOOZE, format!("userId=z&until={}", Timestamp::END_MILLIS - 3_600_000)),
            (
                TYPE,
                format!(
                    "conversationType=3&requestId=t&unpushLevel=5&until={}",
                    Timestamp::END_MILLIS - 1
                ),
            ),
        ];
        for (path, body) in &bodies {
            assert_eq!(s.handle(path, body.as_bytes()).code(), 200, "{path} {body}");
        }
        let start = Timestamp::END_MILLIS - 8 * 86_400_000;
        for hour in 0..8 * 24 {
            let t = Timestamp::from_millis(start + hour * 3_600_000).unwrap();
            let m = Message::new(group("g"), "sender", t);
            let p = s.prepare(&m);
            for user in ["p", "q", "w", "z", "t"] {
                let (now, d) = p.decide_deferred_id(user);
                let pushes_at = |at: Timestamp| -> Decision { s.prepare(&m.with_time(at)).decide_id(user) };
                match d {
                    Some(d) => {
                        let until = Timestamp::new(d.until)
                            .unwrap_or_else(|e| panic!("{zone} {user} at {t}: deferUntil {}: {e}", d.until));
                        assert!(until > t && until.millis() - t.millis() <= dnd_engine::WEEK_MS);
                        assert!(pushes_at(until).push(), "{zone} {user} at {t}: no push at {until}");
                    }
                    None if !now.push() => {
                        // No hour (nor the range's last instant) within the week pushes.
                        let to = (t.millis() + dnd_engine::WEEK_MS).min(Timestamp::END_MILLIS - 1);
                        let mut probe = t.millis() + 3_600_000;
                        while probe <= to {
                            let at = Timestamp::from_millis(probe).unwrap();
                            assert!(
                                !pushes_at(at).push(),
                                "{zone} {user} at {t}: pushes at {at} but no deferral"
                            );
                            probe += 3_600_000;
                        }
                        assert!(!pushes_at(last()).push() || last().millis() > to);
                    }
                    None => {}
                }
            }
        }
    }
}

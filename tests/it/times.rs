//! The range of times the engine decides at: where the time-zone tables
//! hold (docs/rules.md, §5).

use chrono::{TimeZone, Utc};
use chrono_tz::America::New_York;
use dnd_engine::{Error, Layer, Message, Timestamp};

use crate::support::*;

#[test]
fn times_past_the_zone_tables_are_refused() {
    // The last millisecond of 2099 is decided; 2100-01-01T00:00:00Z is not,
    // however it is written.
    let last = Timestamp::END_MILLIS - 1;
    assert_eq!(
        Timestamp::from_millis(last).unwrap().to_string(),
        "2099-12-31T23:59:59.999Z"
    );
    for refused in [
        Timestamp::from_millis(Timestamp::END_MILLIS),
        Timestamp::from_millis(i64::MAX),
        "4102444800000".parse(),
        "2100-01-01T00:00:00Z".parse(),
        "2100-01-01T08:00:00+08:00".parse(),
        "2099-12-31T19:00:00-05:00".parse(),
        "9999-12-31T23:59:59Z".parse(),
        Timestamp::try_from(Utc.with_ymd_and_hms(2100, 7, 1, 0, 0, 0).unwrap()),
    ] {
        assert!(matches!(refused, Err(Error::TimeOutOfRange(_))), "{refused:?}");
    }
    assert_eq!(
        "2100-01-01T07:59:59.999+08:00"
            .parse::<Timestamp>()
            .map(Timestamp::millis),
        Ok(last)
    );
    // Before the epoch, no message was sent.
    for refused in [
        Timestamp::from_millis(-1),
        Timestamp::from_millis(i64::MIN),
        "1969-12-31T23:59:59.999Z".parse(),
    ] {
        assert!(matches!(refused, Err(Error::TimeOutOfRange(_))), "{refused:?}");
    }
    assert_eq!(Timestamp::from_millis(0), Ok(Timestamp::MIN));
    // The message names the value and the range, and a push names its field.
    let e = "2100-01-01T00:00:00Z".parse::<Timestamp>().unwrap_err().to_string();
    assert_eq!(
        e,
        "\"2100-01-01T00:00:00Z\" is outside the times the engine decides: from 1970-01-01T00:00:00Z up to \
         2100-01-01T00:00:00Z, where the time-zone tables end"
    );
    let push: dnd_engine::push::Push = serde_json::from_str(
        r#"{"at":4102444800000,"conversationType":3,"targetId":"g","fromUserId":"s","recipients":["r"]}"#,
    )
    .unwrap();
    let e = push.message(&[]).unwrap_err().to_string();
    assert!(e.starts_with("push.at: \"4102444800000\" is outside the times"), "{e}");

    // Up to the end, daylight saving time is read from the tables: 22:30 on
    // a July night in New York in 2099 is EDT, inside a 22:00 + 60 window.
    let s = settings(
        chrono_tz::UTC,
        &[(
            PERIOD,
            "userId=r&startTime=22:00:00&period=60&level=5&timezone=America%2FNew_York",
        )],
    );
    let july_night = at("2099-07-02T02:30:00Z");
    assert_eq!(
        july_night.as_datetime().with_timezone(&New_York).to_rfc3339(),
        "2099-07-01T22:30:00-04:00"
    );
    assert_eq!(
        decide(&s, &Message::new(group("g"), "s", july_night), "r").by(),
        Layer::UserPeriod
    );
    // The tables end here: a year later the same instant would read as
    // 21:30 (EST all summer), outside the window, which is why it is refused.
    let july_2100 = Utc.with_ymd_and_hms(2100, 7, 2, 2, 30, 0).unwrap();
    assert_eq!(
        july_2100.with_timezone(&New_York).to_rfc3339(),
        "2100-07-01T21:30:00-05:00"
    );
    assert!(Timestamp::new(july_2100).is_err());
}

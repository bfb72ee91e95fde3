//! Properties of time (issue 10), on random worlds that use every extension:
//! the engine against the naive oracle; defer against a stepping oracle; an
//! override at and after its `until`; a one-window schedule against the
//! equivalent period; save and restore.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use dnd_engine::{Config, Conversation, Decision, Mentions, Message, Request, Settings, Timestamp};
use proptest::prelude::*;

use crate::naive::{as_naive, Naive};

pub const ZONES: [&str; 4] = ["Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Sydney"];
const USERS: [&str; 6] = ["u0", "u1", "u2", "u3", "u4", "s"];

/// Around New York's spring-forward (2026-03-08) so that clock changes are in play.
fn base() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-06T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

pub fn instant(minutes: i64) -> DateTime<Utc> {
    base() + Duration::minutes(minutes)
}

/// One request, as a path and a form body; `until` when `timed`.
pub fn request(timed: bool) -> impl Strategy<Value = (String, String)> {
    let user = prop::sample::select(&USERS[..5]);
    let level = prop::sample::select(&[-1i64, 0, 1, 2, 4, 5][..]);
    let until = (-1440i64..12 * 1440).prop_map(|m| instant(m).timestamp_millis());
    let until = if timed {
        until.prop_map(|u| format!("&until={u}")).boxed()
    } else {
        Just(String::new()).boxed()
    };
    let quiet_level = prop::sample::select(&[1i64, 2, 4, 5][..]);
    let zone = prop::option::of(prop::sample::select(&ZONES[..]));
    let window = (
        prop::collection::btree_set(1u8..=7, 1..4),
        0u32..86_400,
        1i64..=1440,
        quiet_level.clone(),
    )
        .prop_map(|(days, start, minutes, level)| {
            format!(
                r#"{{"days":{:?},"startTime":"{:02}:{:02}:{:02}","period":{minutes},"level":{level}}}"#,
                days.into_iter().collect::<Vec<_>>(),
                start / 3600,
                start / 60 % 60,
                start % 60
            )
        });
    prop_oneof![
        (
            user.clone(),
            0u32..86_400,
            1i64..=1439,
            prop::sample::select(&[1i64, 5][..]),
            zone.clone()
        )
            .prop_map(|(u, start, minutes, level, zone)| (
                "/user/blockPushPeriod/set.json".to_string(),
                format!(
                    "userId={u}&startTime={:02}:{:02}:{:02}&period={minutes}&level={level}{}",
                    start / 3600,
                    start / 60 % 60,
                    start % 60,
                    zone.map(|z| format!("&timezone={z}")).unwrap_or_default()
                )
            )),
        (user.clone(), prop::collection::vec(window, 1..3), zone).prop_map(|(u, windows, zone)| (
            "/user/blockPushSchedule/set.json".to_string(),
            form_urlencoded::Serializer::new(String::new())
                .append_pair("userId", u)
                .append_pair("windows", &format!("[{}]", windows.join(",")))
                .extend_pairs(zone.map(|z| ("timezone", z)))
                .finish()
        )),
        (user.clone(), -1440i64..10 * 1440, quiet_level).prop_map(|(u, m, level)| (
            "/user/snooze/set.json".to_string(),
            format!("userId={u}&until={}&level={level}", instant(m).timestamp_millis())
        )),
        (
            user.clone(),
            prop::sample::select(&[1i64, 3, 10][..]),
            level.clone(),
            until.clone()
        )
            .prop_map(|(u, t, l, until)| (
                "/conversation/type/notification/set.json".to_string(),
                format!("conversationType={t}&requestId={u}&unpushLevel={l}{until}")
            )),
        (
            user,
            prop::sample::select(&["t=3&g=g", "t=10&g=club", "t=10&g=club&b=news", "t=1&g=s"][..]),
            level.clone(),
            until.clone()
        )
            .prop_map(|(u, conv, l, until)| {
                let conv = conv
                    .replace("t=", "conversationType=")
                    .replace("&g=", "&targetId=")
                    .replace("&b=", "&busChannel=");
                (
                    "/conversation/notification/set.json".to_string(),
                    format!("{conv}&requestId={u}&unpushLevel={l}{until}"),
                )
            }),
        (prop::sample::select(&["", "&busChannel=news"][..]), level, until).prop_map(|(b, l, until)| (
            "/ultragroup/notdisturb/set.json".to_string(),
            format!("groupId=club{b}&unpushLevel={l}{until}")
        )),
    ]
}

/// A world: the requests that were accepted, applied to settings and the oracle.
fn world(requests: &[(String, String)], zone: Tz) -> (Settings, Naive, Vec<Request>) {
    let mut settings = Settings::new(Config::new(zone));
    let mut naive = Naive::new(zone, &[]);
    let mut accepted = Vec::new();
    for (path, body) in requests {
        if let Ok(r) = Request::parse(path, body.as_bytes()) {
            assert_eq!(settings.apply(&r).code(), 200, "{path} {body}");
            naive.apply(&r);
            accepted.push(r);
        }
    }
    (settings, naive, accepted)
}

fn conversation(kind: u8) -> Conversation<'static> {
    match kind {
        0 => Conversation::Group { group_id: "g" },
        1 => Conversation::UltraGroup {
            group_id: "club",
            bus_channel: None,
        },
        2 => Conversation::UltraGroup {
            group_id: "club",
            bus_channel: Some("news"),
        },
        _ => Conversation::Private,
    }
}

const MENTIONED: [&str; 1] = ["u1"];

/// `t` as a message time (the tests' times are all in range).
fn ts(t: DateTime<Utc>) -> Timestamp {
    Timestamp::new(t).unwrap()
}

fn message(kind: u8, mention: u8, minutes: i64) -> Message<'static> {
    Message::new(conversation(kind), "s", ts(instant(minutes))).with_mentions(match mention {
        0 => Mentions::None,
        1 => Mentions::All,
        _ => Mentions::Users(&MENTIONED),
    })
}

fn decisions(settings: &Settings, message: &Message<'_>) -> Vec<Decision> {
    let p = settings.prepare(message);
    USERS.iter().map(|u| p.decide_id(u)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Every decision, with every extension in use, equals the naive walk's;
    /// by handle, by id and in the explanation.
    #[test]
    fn the_engine_agrees_with_the_naive_oracle_on_worlds_with_time(
        requests in prop::collection::vec(request(true), 0..24),
        zone in prop::sample::select(&ZONES[..]),
        kind in 0u8..4, mention in 0u8..3, minutes in -1440i64..12 * 1440,
    ) {
        let (settings, naive, _) = world(&requests, zone.parse().unwrap());
        let m = message(kind, mention, minutes);
        let p = settings.prepare(&m);
        let handles: Vec<_> = USERS.iter().filter_map(|u| settings.user(u)).collect();
        let mut out = Vec::new();
        p.decide_into(&handles, &mut out).unwrap();
        for (h, d) in handles.iter().zip(&out) {
            prop_assert_eq!(*d, p.decide(*h).unwrap());
        }
        for u in USERS {
            let d = p.decide_id(u);
            prop_assert_eq!(as_naive(d), naive.decide(&m, u), "recipient {}", u);
            prop_assert_eq!(p.explain_id(u).decision(), d);
        }
    }

    /// Deciding at `deferUntil` pushes; no instant after the message and
    /// before it does (on a minute grid, and 1 ms before it); without one, no
    /// instant in the 7 days pushes.
    #[test]
    fn defer_is_the_earliest_instant_that_pushes(
        requests in prop::collection::vec(request(true), 0..16),
        zone in prop::sample::select(&ZONES[..]),
        kind in 0u8..4, mention in 0u8..3, minutes in -60i64..3 * 1440, second in 0i64..60_000,
    ) {
        let (settings, _, _) = world(&requests, zone.parse().unwrap());
        let m = message(kind, mention, minutes);
        let m = m.with_time(ts(*m.at + Duration::milliseconds(second)));
        let p = settings.prepare(&m);
        let deferrals: Vec<_> = USERS.iter().map(|u| p.decide_deferred_id(u)).collect();
        let step = |t: DateTime<Utc>| decisions(&settings, &m.with_time(ts(t)));
        for (i, (now, d)) in deferrals.iter().enumerate() {
            if let Some(d) = d {
                prop_assert!(!now.push());
                prop_assert!(d.until > *m.at && d.until <= *m.at + Duration::milliseconds(604_800_000));
                prop_assert!(step(d.until)[i].push(), "{} at deferUntil {}", USERS[i], d.until);
                prop_assert_eq!(step(d.until)[i], d.decision);
                prop_assert!(!step(d.until - Duration::milliseconds(1))[i].push() || d.until - Duration::milliseconds(1) <= *m.at);
            }
        }
        // The stepping oracle: every minute of the week after the message.
        for k in 1..=10_080i64 {
            let t = *m.at + Duration::minutes(k);
            let ds = step(t);
            for (i, (now, d)) in deferrals.iter().enumerate() {
                if now.push() || now.level().is_none() {
                    continue;
                }
                match d {
                    Some(d) if t >= d.until => {}
                    _ => prop_assert!(!ds[i].push(), "{} pushes at {} before deferUntil {:?}", USERS[i], t, d.map(|d| d.until)),
                }
            }
        }
    }

    /// A message at or after an override's `until` is decided as if that
    /// override had never been set.
    #[test]
    fn at_and_after_until_an_override_is_as_if_never_set(
        permanent in prop::collection::vec(request(false), 0..16),
        temporary in prop::collection::vec(request(true), 1..6),
        zone in prop::sample::select(&ZONES[..]),
        kind in 0u8..4, mention in 0u8..3, after in 0i64..3 * 1440,
    ) {
        let temporary: Vec<_> = temporary.into_iter().filter(|(_, b)| b.contains("until=")).collect();
        let (without, _, _) = world(&permanent, zone.parse().unwrap());
        let all: Vec<_> = permanent.iter().cloned().chain(temporary.iter().cloned()).collect();
        let (with, _, accepted) = world(&all, zone.parse().unwrap());
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
        zone in prop::option::of(prop::sample::select(&ZONES[..])),
        kind in 0u8..4, mention in 0u8..3, at in prop::collection::vec(-1440i64..250 * 1440, 8),
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
        zone in prop::sample::select(&ZONES[..]),
        kind in 0u8..4, mention in 0u8..3, minutes in -1440i64..12 * 1440,
    ) {
        let (settings, _, _) = world(&requests, zone.parse().unwrap());
        let saved = serde_json::to_string(&settings).unwrap();
        let restored: Settings = serde_json::from_str(&saved).unwrap();
        prop_assert_eq!(serde_json::to_string(&restored).unwrap(), saved);
        let m = message(kind, mention, minutes);
        let (a, b) = (settings.prepare(&m), restored.prepare(&m));
        for u in USERS {
            prop_assert_eq!(a.decide_deferred_id(u), b.decide_deferred_id(u));
        }
    }
}

//! Requests and settings as data: a request round-trips through serde, a
//! saved state is readable and restores exactly, and a restored state or
//! replayed commands decide as the original does.

use chrono_tz::{Asia, UTC};
use dnd_engine::{Config, ConversationType, Level, Request, Settings};
use proptest::prelude::*;

use super::state;
use crate::gen::{change, config, message, RECIPIENTS};
use crate::support::*;

#[test]
fn requests_round_trip_through_serde() {
    let r = Request::parse(
        PERIOD,
        b"userId=u&startTime=22:00:00&period=540&level=5&timezone=Asia%2FTokyo",
    )
    .unwrap();
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(
        json,
        r#"{"request":"setPeriod","userId":"u","period":{"startTime":"22:00:00","period":540,"level":5,"timezone":"Asia/Tokyo"}}"#
    );
    assert_eq!(serde_json::from_str::<Request>(&json).unwrap(), r);
    // Deserializing validates like parsing does.
    for bad in [
        r#"{"request":"setTypeLevel","userId":"u","conversationType":2,"level":5}"#,
        r#"{"request":"setTypeLevel","userId":"","conversationType":3,"level":5}"#,
        r#"{"request":"setTypeLevel","userId":"u","conversationType":3,"level":3}"#,
        r#"{"request":"setConversationLevel","userId":"u","conversation":{"conversationType":3,"targetId":"g","busChannel":"c"},"level":5}"#,
        r#"{"request":"setPeriod","userId":"u","period":{"startTime":"22:00:00","period":1440,"level":5}}"#,
    ] {
        assert!(serde_json::from_str::<Request>(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_saved_state_is_readable_and_restores_exactly() {
    let s = settings_with(
        Config::new(Asia::Shanghai).with_app_default(ConversationType::Group, Level::Mentions),
        &[
            (PERIOD, "userId=alice&startTime=22:00:00&period=540&level=5"),
            (
                PERIOD,
                "userId=bob&startTime=23:00:00&period=60&level=1&timezone=America%2FNew_York",
            ),
            (TYPE, "conversationType=3&requestId=bob&unpushLevel=4"),
            (
                CONVERSATION,
                "conversationType=10&requestId=alice&targetId=club&busChannel=news&unpushLevel=-1",
            ),
            (DEFAULT, "groupId=club&unpushLevel=1"),
        ],
    );
    let json = serde_json::to_string_pretty(&s).unwrap();
    for needle in [
        r#""timeZone": "Asia/Shanghai""#,
        r#""userId": "alice""#,
        r#""timezone": "America/New_York""#,
        r#""busChannel": "news""#,
    ] {
        assert!(json.contains(needle), "{needle} not in {json}");
    }
    let restored: Settings = serde_json::from_str(&json).unwrap();
    assert_eq!(serde_json::to_string_pretty(&restored).unwrap(), json);
    // The numbering survives; the handles are the restored settings' own.
    let (bob, restored_bob) = (s.user("bob").unwrap(), restored.user("bob").unwrap());
    assert_eq!(restored_bob.index(), bob.index(), "handles keep their numbers");
    assert_eq!(restored.user_id(bob), None, "a handle from before the save is refused");
    // Invalid saved states are refused with a reason.
    for (bad, why) in [
        (json.replace("Asia/Shanghai", "Asia/Nowhere"), "time zone"),
        (json.replace(r#""format": 2"#, r#""format": 4"#), "format"),
        (json.replace(r#""unpushLevel": -1"#, r#""unpushLevel": 3"#), "DND level"),
        (json.replace(r#""userId": "bob""#, r#""userId": "alice""#), "twice"),
        (
            json.replace(r#""busChannel": "news""#, r#""busChannel": "ne-ws""#),
            "subchannel id",
        ),
        (json.replace(r#""userId": "bob""#, r#""userId": """#), "user id"),
    ] {
        let e = serde_json::from_str::<Settings>(&bad).unwrap_err().to_string();
        assert!(e.contains(why), "{e}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::gen::cases(256), ..ProptestConfig::default() })]

    /// restore(save(state)) decides exactly as state does, and saves the same.
    #[test]
    fn restore_of_save_decides_the_same(
        config in config(),
        changes in prop::collection::vec(change(), 0..40),
        messages in prop::collection::vec(message(), 1..5),
    ) {
        let s = crate::gen::build(&config, &changes);
        let json = state(&s);
        let restored: Settings = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(state(&restored), json);
        for m in &messages {
            let msg = m.message();
            let (p, q) = (s.prepare(&msg), restored.prepare(&msg));
            for r in RECIPIENTS {
                prop_assert_eq!(p.decide_id(r), q.decide_id(r));
            }
        }
        for c in &changes {
            if let Some(get) = get_for(c) {
                prop_assert_eq!(s.query(&get), restored.query(&get));
            }
        }
    }

    /// Commands that travelled as JSON build the same state as the originals.
    #[test]
    fn serialized_commands_apply_the_same(changes in prop::collection::vec(change(), 0..40)) {
        let direct = crate::gen::build(&Config::new(UTC), &changes);
        let travelled: Vec<Request> = changes
            .iter()
            .map(|c| serde_json::from_str(&serde_json::to_string(c).unwrap()).unwrap())
            .collect();
        prop_assert_eq!(&travelled, &changes);
        prop_assert_eq!(state(&crate::gen::build(&Config::new(UTC), &travelled)), state(&direct));
    }
}

/// The get that reads what change `c` wrote.
fn get_for(c: &Request) -> Option<Request> {
    Some(match c.clone() {
        Request::SetPeriod { user_id, .. } | Request::DeletePeriod { user_id } => Request::GetPeriod { user_id },
        Request::SetConversationLevel {
            user_id, conversation, ..
        } => Request::GetConversationLevel { user_id, conversation },
        Request::SetTypeLevel {
            user_id,
            conversation_type,
            ..
        } => Request::GetTypeLevel {
            user_id,
            conversation_type,
        },
        Request::SetUltraGroupDefault {
            group_id, bus_channel, ..
        } => Request::GetUltraGroupDefault { group_id, bus_channel },
        _ => return None,
    })
}

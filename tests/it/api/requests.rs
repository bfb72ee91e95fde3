//! The nine requests of RULES §6, one test per family (the period, a
//! conversation's level, a type's level, an ultra group's default): set, get,
//! delete; and an unknown path.

use super::{assert_rejects, error_of, fresh, send};
use crate::support::*;

#[test]
fn period_set_get_delete() {
    let mut s = fresh();
    let get = "/user/blockPushPeriod/get.json";
    assert_eq!(
        send(&mut s, get, "userId=u"),
        r#"{"code":200,"data":{"startTime":"","period":0,"unPushLevel":0}}"#
    );
    assert_eq!(
        send(&mut s, PERIOD, "userId=u&startTime=23:59:59&period=120&level=1"),
        r#"{"code":200}"#
    );
    assert_eq!(
        send(&mut s, get, "userId=u"),
        r#"{"code":200,"data":{"startTime":"23:59:59","period":120,"unPushLevel":1}}"#
    );
    // A new period replaces the old one; its zone is kept but not echoed.
    send(
        &mut s,
        PERIOD,
        "userId=u&startTime=22:00:00&period=540&level=5&timezone=Europe%2FBerlin",
    );
    assert_eq!(
        send(&mut s, get, "userId=u"),
        r#"{"code":200,"data":{"startTime":"22:00:00","period":540,"unPushLevel":5}}"#
    );
    assert_eq!(s.period("u").unwrap().zone, Some(chrono_tz::Europe::Berlin));
    assert_eq!(
        send(&mut s, "/user/blockPushPeriod/delete.json", "userId=u"),
        r#"{"code":200}"#
    );
    assert_eq!(
        send(&mut s, get, "userId=u"),
        r#"{"code":200,"data":{"startTime":"","period":0,"unPushLevel":0}}"#
    );
    // period=0 on set removes too.
    send(&mut s, PERIOD, "userId=u&startTime=22:00:00&period=540&level=5");
    send(&mut s, PERIOD, "userId=u&startTime=22:00:00&period=0&level=5");
    assert_eq!(s.period("u"), None);
}

#[test]
fn conversation_level_set_get() {
    let mut s = fresh();
    let get = "/conversation/notification/get.json";
    let q = "conversationType=10&requestId=u&targetId=g";
    assert_eq!(send(&mut s, get, q), r#"{"code":200,"isMuted":0}"#);
    send(&mut s, CONVERSATION, &format!("{q}&unpushLevel=2"));
    assert_eq!(send(&mut s, get, q), r#"{"code":200,"isMuted":2}"#);
    // The subchannel is a separate setting.
    assert_eq!(
        send(&mut s, get, &format!("{q}&busChannel=c1")),
        r#"{"code":200,"isMuted":0}"#
    );
    send(&mut s, CONVERSATION, &format!("{q}&busChannel=c1&unpushLevel=-1"));
    assert_eq!(
        send(&mut s, get, &format!("{q}&busChannel=c1")),
        r#"{"code":200,"isMuted":-1}"#
    );
    send(&mut s, CONVERSATION, &format!("{q}&unpushLevel=0"));
    assert_eq!(send(&mut s, get, q), r#"{"code":200,"isMuted":0}"#);
}

#[test]
fn is_muted_one_alone_means_five_and_loses_to_unpush_level() {
    let mut s = fresh();
    let get = "/conversation/notification/get.json";
    let q = "conversationType=3&requestId=u&targetId=g";
    send(&mut s, CONVERSATION, &format!("{q}&isMuted=1"));
    assert_eq!(send(&mut s, get, q), r#"{"code":200,"isMuted":5}"#);
    send(&mut s, CONVERSATION, &format!("{q}&isMuted=1&unpushLevel=2"));
    assert_eq!(send(&mut s, get, q), r#"{"code":200,"isMuted":2}"#);
    send(&mut s, CONVERSATION, &format!("{q}&isMuted=0"));
    assert_eq!(send(&mut s, get, q), r#"{"code":200,"isMuted":0}"#);
    assert_rejects(CONVERSATION, &format!("{q}&isMuted=2"), "isMuted");
    assert_rejects(CONVERSATION, q, "unpushLevel");
}

#[test]
fn type_level_set_get() {
    let mut s = fresh();
    let get = "/conversation/type/notification/get.json";
    assert_eq!(
        send(&mut s, get, "conversationType=1&requestId=b5NwvIrW8"),
        r#"{"code":200,"isMuted":0}"#
    );
    // The seed's own request.
    assert_eq!(
        send(&mut s, TYPE, "conversationType=1&requestId=b5NwvIrW8&unpushLevel=2"),
        r#"{"code":200}"#
    );
    assert_eq!(
        send(&mut s, get, "conversationType=1&requestId=b5NwvIrW8"),
        r#"{"code":200,"isMuted":2}"#
    );
    assert_eq!(
        send(&mut s, get, "conversationType=3&requestId=b5NwvIrW8"),
        r#"{"code":200,"isMuted":0}"#
    );
}

#[test]
fn ultra_group_default_set_get() {
    let mut s = fresh();
    let get = "/ultragroup/notdisturb/get.json";
    assert_eq!(
        send(&mut s, get, "groupId=abcdefg"),
        r#"{"code":200,"groupId":"abcdefg","busChannel":"","unpushLevel":0}"#
    );
    assert_eq!(
        send(&mut s, DEFAULT, "groupId=abcdefg&unpushLevel=2"),
        r#"{"code":200}"#
    );
    send(&mut s, DEFAULT, "groupId=abcdefg&busChannel=news&unpushLevel=5");
    assert_eq!(
        send(&mut s, get, "groupId=abcdefg"),
        r#"{"code":200,"groupId":"abcdefg","busChannel":"","unpushLevel":2}"#
    );
    assert_eq!(
        send(&mut s, get, "groupId=abcdefg&busChannel=news"),
        r#"{"code":200,"groupId":"abcdefg","busChannel":"news","unpushLevel":5}"#
    );
}

#[test]
fn an_unknown_path_is_a_404() {
    let mut s = fresh();
    let (code, message) = error_of(&send(&mut s, "/user/blockPushPeriod/sett.json", "userId=u"));
    assert_eq!(code, 404);
    assert!(message.contains("sett.json"));
}

//! Muted senders (`docs/rules.md` §11): the requests, the layer (after
//! `disablePush`, before urgent, VIP and mentions), defer at the mute's end,
//! the snapshot, and properties on random worlds with every extension: the
//! engine against the naive oracle, and a muted sender never pushes.

use chrono_tz::Tz;
use dnd_engine::{
    Config, Conversation, ConversationType, Layer, Level, Mentions, Message, Recipient, Request, Settings, Timestamp,
};
use proptest::prelude::*;

use crate::checks::{agrees_with_the_oracle, deferrals_agree_with_stepping_the_clock};
use crate::gen::{self, conversation, instant, mentions, request, World, CLOCK_ZONES};
use crate::support::{get_json, send_form};

fn mute(settings: &mut Settings, user: &str, ids: &str, until: Option<&str>) -> (u16, String) {
    let mut pairs = vec![("userId", user), ("senderIds", ids)];
    pairs.extend(until.map(|u| ("until", u)));
    send_form(settings, "/user/mutedSenders/set.json", &pairs)
}

fn get(settings: &Settings, user: &str) -> String {
    get_json(settings, "/user/mutedSenders/get.json", "userId", user)
}

fn at() -> Timestamp {
    "2026-11-22T12:00:00Z".parse().unwrap()
}

#[test]
fn s11_muted_senders_set_get_and_clear() {
    let mut s = Settings::new(Config::new(chrono_tz::UTC));
    assert_eq!(get(&s, "alice"), r#"{"code":200,"data":{"senderIds":[]}}"#);
    assert_eq!(mute(&mut s, "alice", r#"["bob","carol"]"#, None).0, 200);
    assert_eq!(get(&s, "alice"), r#"{"code":200,"data":{"senderIds":["bob","carol"]}}"#);
    assert_eq!(mute(&mut s, "alice", r#"["bob"]"#, Some("1795000000000")).0, 200);
    assert_eq!(
        get(&s, "alice"),
        r#"{"code":200,"data":{"senderIds":["bob"],"until":1795000000000}}"#
    );
    assert_eq!(mute(&mut s, "alice", "[]", None).0, 200);
    assert_eq!(get(&s, "alice"), r#"{"code":200,"data":{"senderIds":[]}}"#);
}

#[test]
fn s11_every_mute_parameter_is_checked_and_a_refusal_changes_nothing() {
    let mut s = Settings::new(Config::new(chrono_tz::UTC));
    assert_eq!(mute(&mut s, "alice", r#"["bob"]"#, None).0, 200);
    let many = serde_json::to_string(&(0..1001).map(|i| format!("u{i}")).collect::<Vec<_>>()).unwrap();
    for (ids, until, says) in [
        ("", None, "senderIds"),
        ("nope", None, "senderIds"),
        (r#"["a","a"]"#, None, "senderIds[1]"),
        (r#"["a",2]"#, None, "senderIds[1]"),
        (r#"[""]"#, None, "senderIds[0]"),
        (many.as_str(), None, "1001 ids, more than 1000"),
        (r#"["a"]"#, Some("soon"), "until"),
        (r#"["a"]"#, Some("4102444800000"), "until"),
    ] {
        let (code, json) = mute(&mut s, "alice", ids, until);
        assert_eq!(code, 1002, "{ids}: {json}");
        assert!(json.contains(says), "{ids}: {json}");
        assert_eq!(get(&s, "alice"), r#"{"code":200,"data":{"senderIds":["bob"]}}"#);
    }
    let many = serde_json::to_string(&(0..1000).map(|i| format!("u{i}")).collect::<Vec<_>>()).unwrap();
    assert_eq!(mute(&mut s, "alice", &many, None).0, 200);
}

/// Settings where alice pushes everything on groups, allows urgent messages
/// and lists bob as a VIP of scope `all`, and mutes bob until `until`.
fn muting_bob(until: Option<&str>) -> Settings {
    let mut s = Settings::new(Config::new(chrono_tz::UTC));
    for (path, body) in [
        (
            "/conversation/type/notification/set.json",
            "conversationType=3&requestId=alice&unpushLevel=-1",
        ),
        ("/user/urgent/set.json", "userId=alice&allow=1"),
        (
            "/user/vip/set.json",
            "userId=alice&vipUserIds=%5B%22bob%22%5D&scope=all",
        ),
        ("/user/keywords/set.json", "userId=alice&keywords=%5B%22deploy%22%5D"),
    ] {
        assert_eq!(s.handle(path, body.as_bytes()).code(), 200, "{path}");
    }
    assert_eq!(mute(&mut s, "alice", r#"["bob"]"#, until).0, 200);
    s
}

#[test]
fn s11_a_muted_sender_does_not_push_not_urgent_not_as_a_vip_not_as_a_mention() {
    let s = muting_bob(None);
    let m = Message::new(Conversation::Group { group_id: "g" }, "bob", at())
        .with_urgent()
        .with_mentions(Mentions::Users(&["alice"]))
        .with_text("deploy");
    let d = s.prepare(&m).decide_id("alice");
    assert!(!d.push());
    assert_eq!((d.by(), d.level()), (Layer::MutedSender, None));
    // The sender rule and disablePush come first.
    assert_eq!(s.prepare(&m).decide_id("bob").by(), Layer::Sender);
    assert_eq!(
        s.prepare(&m.with_push_disabled()).decide_id("alice").by(),
        Layer::DisablePush
    );
    // Another sender pushes as before; so does bob to someone else.
    let other = Message::new(Conversation::Group { group_id: "g" }, "carol", at());
    assert!(s.prepare(&other).decide_id("alice").push());
    assert!(s.prepare(&m).decide_id("dave").push());
    // In every conversation type.
    for c in [Conversation::Private, Conversation::System] {
        assert_eq!(
            s.prepare(&Message::new(c, "bob", at())).decide_id("alice").by(),
            Layer::MutedSender
        );
    }
}

#[test]
fn s11_a_mute_ends_at_its_until_and_defer_names_the_end() {
    let s = muting_bob(Some("2026-11-22T13:00:00Z"));
    let m = Message::new(Conversation::Group { group_id: "g" }, "bob", at());
    let p = s.prepare(&m);
    let (d, deferral) = p.decide_deferred_id("alice");
    assert_eq!(d.by(), Layer::MutedSender);
    let deferral = deferral.expect("a mute that ends defers");
    assert_eq!(
        deferral.until,
        "2026-11-22T13:00:00Z".parse::<Timestamp>().unwrap().as_datetime()
    );
    assert_eq!(deferral.because, dnd_engine::Boundary::MuteEnd);
    assert_eq!(deferral.decision.by(), Layer::Vip);
    let later = m.with_time("2026-11-22T13:00:00Z".parse().unwrap());
    assert_eq!(s.prepare(&later).decide_id("alice").by(), Layer::Vip);
    // A mute with no end does not defer.
    let s = muting_bob(None);
    assert!(s.prepare(&m).decide_deferred_id("alice").1.is_none());
    // The explanation says so.
    let s = muting_bob(Some("2026-11-22T13:00:00Z"));
    let why = s.prepare(&m).explain(Recipient::Id("alice")).unwrap().to_string();
    assert!(
        why.contains("decides: the recipient mutes the sender until 2026-11-22"),
        "{why}"
    );
    assert!(why.contains("the recipient's mute of the sender ends then"), "{why}");
}

#[test]
fn s11_the_snapshot_keeps_mutes() {
    let s = muting_bob(Some("1795000000000"));
    let saved = serde_json::to_string(&s).unwrap();
    assert!(
        saved.contains(r#""mutedSenders":{"senderIds":["bob"],"until":1795000000000}"#),
        "{saved}"
    );
    let restored: Settings = serde_json::from_str(&saved).unwrap();
    assert_eq!(get(&restored, "alice"), get(&s, "alice"));
    assert_eq!(serde_json::to_string(&restored).unwrap(), saved);
    let stranger = saved.replace(r#""senderIds":["bob"]"#, r#""senderIds":["zed"]"#);
    let e = serde_json::from_str::<Settings>(&stranger).unwrap_err().to_string();
    assert!(e.contains("mutedSenders.senderIds[0]"), "{e}");
    let null = saved.replace(r#""until":1795000000000"#, r#""until":null"#);
    assert!(serde_json::from_str::<Settings>(&null)
        .unwrap_err()
        .to_string()
        .contains("null"));
    let one = saved.replace(r#""format":2"#, r#""format":1"#);
    assert!(serde_json::from_str::<Settings>(&one).is_err());
    // The JSON form of the request reads the same object.
    let r: Request = serde_json::from_str(
        r#"{"request":"setMutedSenders","userId":"a","mutedSenders":{"senderIds":["b"],"until":1795000000000}}"#,
    )
    .unwrap();
    let back: Request = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(r, back);
}

const RECIPIENTS: [&str; 8] = ["u0", "u1", "u2", "u3", "u4", "s", "boss", "stranger"];
const SENDERS: [&str; 3] = ["s", "boss", "u1"];
const MENTIONED: [&str; 2] = ["u1", "u3"];

fn mute_request() -> impl Strategy<Value = (String, String)> {
    (
        prop::sample::select(&RECIPIENTS[..6]),
        prop::sample::subsequence(&SENDERS[..], 0..3),
        prop::option::of(-1440i64..12 * 1440),
    )
        .prop_map(|(u, ids, until)| {
            let json = serde_json::to_string(&ids).unwrap();
            let json: String = form_urlencoded::byte_serialize(json.as_bytes()).collect();
            let until = until.map_or(String::new(), |m| format!("&until={}", instant(m).timestamp_millis()));
            (
                "/user/mutedSenders/set.json".to_string(),
                format!("userId={u}&senderIds={json}{until}"),
            )
        })
}

fn policy_request() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        (
            prop::sample::select(&RECIPIENTS[..6]),
            prop::sample::select(&["all", "quiet"][..])
        )
            .prop_map(|(u, scope)| (
                "/user/vip/set.json".to_string(),
                format!("userId={u}&vipUserIds=%5B%22s%22%2C%22boss%22%5D&scope={scope}")
            )),
        prop::sample::select(&RECIPIENTS[..6])
            .prop_map(|u| ("/user/urgent/set.json".to_string(), format!("userId={u}&allow=1"))),
    ]
}

fn config() -> impl Strategy<Value = Config> {
    (
        prop::sample::select(&CLOCK_ZONES[..]),
        prop::sample::select(&[None, Some(Level::Mentions), Some(Level::MentionsOfMe)][..]),
    )
        .prop_map(|(zone, default)| {
            let mut config = Config::new(zone.parse::<Tz>().unwrap());
            for t in ConversationType::ALL {
                config.app_defaults.set(t, default);
            }
            config
        })
}

fn message(kind: u8, sender: &'static str, mention: u8, minutes: i64, urgent: bool) -> Message<'static> {
    let m = Message::new(conversation(kind), sender, Timestamp::new(instant(minutes)).unwrap())
        .with_mentions(mentions(mention, &MENTIONED));
    if urgent {
        m.with_urgent()
    } else {
        m
    }
}

fn requests() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        prop_oneof![3 => request(true), 1 => mute_request(), 1 => policy_request()],
        0..30,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// With mutes among every other extension, every way of deciding equals
    /// the naive walk.
    #[test]
    fn the_engine_agrees_with_the_naive_oracle_on_worlds_with_mutes(
        config in config(), requests in requests(),
        kind in 0u8..5, sender in prop::sample::select(&SENDERS[..]), mention in 0u8..3,
        minutes in -1440i64..12 * 1440, urgent in any::<bool>(),
    ) {
        let World { settings, naive, .. } = gen::world(&config, &requests);
        agrees_with_the_oracle(&settings, &naive, &message(kind, sender, mention, minutes, urgent), &RECIPIENTS)?;
    }

    /// A muted sender never pushes to the recipient who mutes them, while
    /// the mute is on, whatever else is set (urgent consent, VIP lists,
    /// mentions, levels).
    #[test]
    fn a_muted_sender_never_pushes(
        config in config(), requests in requests(), r in 0usize..5,
        kind in 0u8..5, sender in prop::sample::select(&SENDERS[..]), mention in 0u8..3,
        minutes in -1440i64..12 * 1440, urgent in any::<bool>(),
    ) {
        let mut requests = requests;
        let ids: String = form_urlencoded::byte_serialize(format!("[\"{sender}\"]").as_bytes()).collect();
        requests.push(("/user/mutedSenders/set.json".into(), format!("userId={}&senderIds={ids}", RECIPIENTS[r])));
        let World { settings, .. } = gen::world(&config, &requests);
        let d = settings.prepare(&message(kind, sender, mention, minutes, urgent)).decide_id(RECIPIENTS[r]);
        prop_assert!(!d.push(), "{:?}", d);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// A deferral is the earliest instant that pushes, with mutes that end.
    #[test]
    fn defer_is_the_earliest_instant_that_pushes_with_mutes(
        config in config(), requests in requests(),
        kind in 0u8..5, sender in prop::sample::select(&SENDERS[..]), minutes in -1440i64..12 * 1440,
    ) {
        let World { settings, .. } = gen::world(&config, &requests);
        deferrals_agree_with_stepping_the_clock(&settings, &message(kind, sender, 0, minutes, false), &RECIPIENTS)?;
    }
}

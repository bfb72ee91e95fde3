//! Keywords (`docs/rules.md` §11): the requests, the rules in groups and
//! ultra groups, the explanation, and properties on random worlds that use
//! every extension: the engine against the naive oracle (which searches
//! each recipient's keywords in the text itself), and a keyword never
//! makes a decision quieter.

use chrono_tz::Tz;
use dnd_engine::{
    Config, Conversation, ConversationType, Layer, Level, Mentions, Message, Recipient, Settings, Timestamp,
};
use proptest::prelude::*;

use crate::checks::agrees_with_the_oracle;
use crate::gen::{self, conversation, instant, mentions, request, World, CLOCK_ZONES};
use crate::support::{get_json, send_form};

fn set(settings: &mut Settings, user: &str, keywords: &str) -> (u16, String) {
    send_form(
        settings,
        "/user/keywords/set.json",
        &[("userId", user), ("keywords", keywords)],
    )
}

fn get(settings: &Settings, user: &str) -> String {
    get_json(settings, "/user/keywords/get.json", "userId", user)
}

fn at() -> Timestamp {
    "2026-11-22T12:00:00+08:00".parse().unwrap()
}

fn group_message(text: &str) -> Message<'_> {
    Message::new(Conversation::Group { group_id: "g" }, "s", at()).with_text(text)
}

/// Settings where `alice` pushes only mentions of her (level 2) on groups and ultra groups.
fn mentions_only() -> Settings {
    let mut s = Settings::new(Config::new(chrono_tz::Asia::Shanghai));
    for t in [3, 10] {
        let body = format!("conversationType={t}&requestId=alice&unpushLevel=2");
        assert_eq!(
            s.handle("/conversation/type/notification/set.json", body.as_bytes())
                .code(),
            200
        );
    }
    s
}

#[test]
fn s11_keywords_set_get_and_clear() {
    let mut s = Settings::new(Config::new(chrono_tz::UTC));
    assert_eq!(get(&s, "alice"), r#"{"code":200,"data":{"keywords":[]}}"#);
    assert_eq!(set(&mut s, "alice", r#"["Bob","release","Bob","cafe\u0301"]"#).0, 200);
    // A repeat is kept once; keywords are kept in NFC, in the order given.
    assert_eq!(
        get(&s, "alice"),
        r#"{"code":200,"data":{"keywords":["Bob","release","café"]}}"#
    );
    assert_eq!(set(&mut s, "alice", "[]").0, 200);
    assert_eq!(get(&s, "alice"), r#"{"code":200,"data":{"keywords":[]}}"#);
}

#[test]
fn s11_every_parameter_is_checked_and_a_refusal_changes_nothing() {
    let mut s = Settings::new(Config::new(chrono_tz::UTC));
    assert_eq!(set(&mut s, "alice", r#"["ok"]"#).0, 200);
    let long = format!("[\"{}\"]", "x".repeat(65));
    let exactly = format!("[\"{}\"]", "é".repeat(64));
    let many = serde_json::to_string(&(0..51).map(|i| format!("k{i}")).collect::<Vec<_>>()).unwrap();
    for (keywords, says) in [
        ("", "keywords"),
        ("not json", "keywords"),
        (r#"{"a":1}"#, "keywords"),
        (r#"["a",1]"#, "keywords[1]"),
        (r#"[""]"#, "keywords[0]"),
        (long.as_str(), "keywords[0]: 65 characters"),
        (many.as_str(), "51 keywords, more than 50"),
        (r#"["ok","   "]"#, "keywords[1]"),
        (r#"["...!?"]"#, "no letter, digit or symbol"),
    ] {
        let (code, json) = set(&mut s, "alice", keywords);
        assert_eq!(code, 1002, "{keywords}: {json}");
        assert!(json.contains("keywords") && json.contains(says), "{keywords}: {json}");
        assert_eq!(get(&s, "alice"), r#"{"code":200,"data":{"keywords":["ok"]}}"#);
    }
    let r = s.handle("/user/keywords/set.json", b"keywords=%5B%5D");
    assert_eq!(r.code(), 1002);
    assert!(r.to_json().contains("userId"));
    // 64 characters after NFC, each of two bytes, and a symbol alone, are keywords.
    assert_eq!(set(&mut s, "alice", &exactly).0, 200);
    assert_eq!(set(&mut s, "alice", r#"["c++","🚀","e\u0301"]"#).0, 200);
}

#[test]
fn s11_a_keyword_in_the_text_is_a_mention_in_groups_and_ultra_groups() {
    let mut s = mentions_only();
    assert_eq!(set(&mut s, "alice", r#"["deploy","张三"]"#).0, 200);
    let group = |text| s.prepare(&group_message(text)).decide_id("alice");
    assert!(group("the DEPLOY is done").push());
    assert!(group("请张三看").push());
    assert!(!group("deployment done").push());
    assert!(!group("").push());
    let ultra = Message::new(
        Conversation::UltraGroup {
            group_id: "u",
            bus_channel: Some("ops"),
        },
        "s",
        at(),
    )
    .with_text("deploy now");
    assert!(s.prepare(&ultra).decide_id("alice").push());
    // Not in private or system messages, where mentions are not read.
    for conversation in [Conversation::Private, Conversation::System] {
        let m = Message::new(conversation, "s", at()).with_text("deploy");
        let d = s.prepare(&m).decide_id("alice");
        let plain = s.prepare(&Message::new(conversation, "s", at())).decide_id("alice");
        assert_eq!(d, plain);
    }
}

#[test]
fn s11_levels_1_and_2_push_on_a_keyword_4_and_5_do_not() {
    for (level, pushes) in [(1, true), (2, true), (4, false), (5, false), (-1, true)] {
        let mut s = Settings::new(Config::new(chrono_tz::UTC));
        let body = format!("conversationType=3&requestId=alice&unpushLevel={level}");
        assert_eq!(
            s.handle("/conversation/type/notification/set.json", body.as_bytes())
                .code(),
            200
        );
        assert_eq!(set(&mut s, "alice", r#"["deploy"]"#).0, 200);
        let d = s.prepare(&group_message("deploy!")).decide_id("alice");
        assert_eq!(d.push(), pushes, "level {level}");
        assert_eq!(d.by(), Layer::UserConversationType);
    }
}

#[test]
fn s11_a_keyword_and_an_at_all_together_push_at_level_4() {
    let mut s = Settings::new(Config::new(chrono_tz::UTC));
    let body = "conversationType=3&requestId=alice&unpushLevel=4";
    assert_eq!(
        s.handle("/conversation/type/notification/set.json", body.as_bytes())
            .code(),
        200
    );
    assert_eq!(set(&mut s, "alice", r#"["deploy"]"#).0, 200);
    let m = group_message("deploy").with_mentions(Mentions::All);
    assert!(s.prepare(&m).decide_id("alice").push());
}

#[test]
fn s11_explain_names_the_keyword() {
    let mut s = mentions_only();
    assert_eq!(set(&mut s, "alice", r#"["lunch","Deploy"]"#).0, 200);
    let m = group_message("DEPLOY at noon");
    let p = s.prepare(&m);
    let why = p.explain(Recipient::Id("alice")).unwrap();
    assert!(
        why.to_string()
            .contains(r#"the message's text holds the recipient's keyword "Deploy""#),
        "{why}"
    );
    let json = serde_json::to_value(&why).unwrap();
    assert_eq!(json["keyword"], "Deploy");
    // Mentioned by id: the id, not the keyword, is named.
    let m = group_message("DEPLOY at noon").with_mentions(Mentions::Users(&["alice"]));
    let why = s.prepare(&m).explain(Recipient::Id("alice")).unwrap();
    assert!(why.to_string().contains("the message mentions the recipient"), "{why}");
    assert!(serde_json::to_value(&why).unwrap().get("keyword").is_none());
}

#[test]
fn s11_a_fanout_finds_the_keyword_holders_among_many() {
    let mut s =
        Settings::new(Config::new(chrono_tz::UTC).with_app_default(ConversationType::Group, Level::MentionsOfMe));
    let users: Vec<String> = (0..3000).map(|i| format!("u{i}")).collect();
    for (i, u) in users.iter().enumerate() {
        let _ = s.intern_user(&dnd_engine::UserId::new(u).unwrap()).unwrap();
        if i % 7 == 0 {
            assert_eq!(set(&mut s, u, &format!(r#"["w{}","shared"]"#, i % 50)).0, 200);
        }
    }
    let handles: Vec<_> = users.iter().map(|u| s.user(u).unwrap()).collect();
    for (text, expect) in [
        ("nothing here", Box::new(|_: usize| false) as Box<dyn Fn(usize) -> bool>),
        ("SHARED news", Box::new(|i| i % 7 == 0)),
        (
            "hi w14 and w0",
            Box::new(|i| i % 7 == 0 && (i % 50 == 14 || i % 50 == 0)),
        ),
    ] {
        let p = s.prepare(&group_message(text));
        let mut out = Vec::new();
        p.decide_into(&handles, &mut out).unwrap();
        for (i, d) in out.iter().enumerate() {
            assert_eq!(d.push(), expect(i), "{text}: u{i}");
        }
    }
}

/// Everyone the properties ask about.
const RECIPIENTS: [&str; 8] = ["u0", "u1", "u2", "u3", "u4", "s", "boss", "stranger"];
const SENDERS: [&str; 3] = ["s", "boss", "u1"];
const MENTIONED: [&str; 2] = ["u1", "u3"];
/// Words of several scripts, to make keywords and texts of.
const WORDS: [&str; 14] = [
    "deploy",
    "Deploy",
    "bob",
    "bobby",
    "张三",
    "会议",
    "Straße",
    "STRASSE",
    "привет",
    "राम",
    "रामायण",
    "c++",
    "김철수",
    "สวัสดี",
];
const GLUE: [&str; 6] = [" ", "", "!", "请", "_", "\u{301}"];

fn keyword_request() -> impl Strategy<Value = (String, String)> {
    (
        prop::sample::select(&RECIPIENTS[..6]),
        prop::collection::vec(prop::sample::select(&WORDS[..]), 0..4),
    )
        .prop_map(|(u, words)| {
            let json = serde_json::to_string(&words).unwrap();
            let json: String = form_urlencoded::byte_serialize(json.as_bytes()).collect();
            (
                "/user/keywords/set.json".to_string(),
                format!("userId={u}&keywords={json}"),
            )
        })
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (prop::sample::select(&GLUE[..]), prop::sample::select(&WORDS[..])),
        0..5,
    )
    .prop_map(|parts| parts.into_iter().flat_map(|(g, w)| [g, w]).collect())
}

fn config() -> impl Strategy<Value = Config> {
    (
        prop::sample::select(&CLOCK_ZONES[..]),
        any::<bool>(),
        prop::option::of(0u32..4),
        prop::sample::select(
            &[
                None,
                Some(Level::Mentions),
                Some(Level::MentionsOfAll),
                Some(Level::MentionsOfMe),
            ][..],
        ),
    )
        .prop_map(|(zone, private, max, default)| {
            let mut config = Config::new(zone.parse::<Tz>().unwrap());
            config.private_as_mention = private;
            config.mention_all_max_members = max;
            for t in ConversationType::ALL {
                config.app_defaults.set(t, default);
            }
            config
        })
}

fn message<'a>(kind: u8, sender: &'static str, mention: u8, minutes: i64, text: &'a str) -> Message<'a> {
    Message::new(conversation(kind), sender, Timestamp::new(instant(minutes)).unwrap())
        .with_mentions(mentions(mention, &MENTIONED))
        .with_text(text)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// With keywords among every other extension, every way of deciding
    /// equals the naive walk, which searches each recipient's keywords in
    /// the text on its own.
    #[test]
    fn the_engine_agrees_with_the_naive_oracle_on_worlds_with_keywords(
        config in config(),
        requests in prop::collection::vec(prop_oneof![2 => request(true), 1 => keyword_request()], 0..30),
        kind in 0u8..5, sender in prop::sample::select(&SENDERS[..]), mention in 0u8..3,
        minutes in -1440i64..12 * 1440, text in text(),
    ) {
        let World { settings, naive, .. } = gen::world(&config, &requests);
        agrees_with_the_oracle(&settings, &naive, &message(kind, sender, mention, minutes, &text), &RECIPIENTS)?;
    }

    /// A keyword never makes a decision quieter: with the recipient's
    /// keywords, a message that pushed without them still pushes.
    #[test]
    fn a_keyword_never_makes_a_decision_quieter(
        config in config(),
        requests in prop::collection::vec(request(true), 0..24),
        keywords in keyword_request(),
        kind in 0u8..5, sender in prop::sample::select(&SENDERS[..]), mention in 0u8..3,
        minutes in -1440i64..12 * 1440, text in text(),
    ) {
        let World { settings: plain, .. } = gen::world(&config, &requests);
        let mut with = requests.clone();
        with.push(keywords.clone());
        let World { settings: keyworded, .. } = gen::world(&config, &with);
        let m = message(kind, sender, mention, minutes, &text);
        let (p, k) = (plain.prepare(&m), keyworded.prepare(&m));
        for r in RECIPIENTS {
            let (a, b) = (p.decide_id(r), k.decide_id(r));
            prop_assert!(b.push() || !a.push(), "{}: {:?} without keywords, {:?} with", r, a, b);
            prop_assert_eq!((a.by(), a.level()), (b.by(), b.level()));
        }
    }
}

#[test]
fn s11_the_snapshot_keeps_keywords_and_format_1_refuses_them() {
    let mut s = mentions_only();
    assert_eq!(set(&mut s, "alice", r#"["Deploy","张三"]"#).0, 200);
    let saved = serde_json::to_string(&s).unwrap();
    assert!(saved.contains(r#""keywords":["Deploy","张三"]"#), "{saved}");
    let restored: Settings = serde_json::from_str(&saved).unwrap();
    assert_eq!(get(&restored, "alice"), get(&s, "alice"));
    assert!(restored.prepare(&group_message("deploy")).decide_id("alice").push());
    assert_eq!(serde_json::to_string(&restored).unwrap(), saved);
    let bad = saved.replace(r#""张三""#, r#""   ""#);
    let e = serde_json::from_str::<Settings>(&bad).unwrap_err().to_string();
    assert!(e.contains("keywords"), "{e}");
    let empty = saved.replace(r#"["Deploy","张三"]"#, "[]");
    assert!(serde_json::from_str::<Settings>(&empty)
        .unwrap_err()
        .to_string()
        .contains("keywords"));
    let one = saved.replace(r#""format":2"#, r#""format":1"#);
    assert!(serde_json::from_str::<Settings>(&one)
        .unwrap_err()
        .to_string()
        .contains("keywords"));
}

#[test]
fn s11_a_push_line_carries_the_text() {
    let mut s = mentions_only();
    assert_eq!(set(&mut s, "alice", r#"["deploy"]"#).0, 200);
    let push = dnd_engine::push::Push::from_json(
        r#"{"at":1795000000000,"conversationType":3,"targetId":"g","fromUserId":"s","recipients":["alice"],"text":"Deploy now"}"#,
    )
    .unwrap();
    let m = push.message(&[]).unwrap();
    assert_eq!(m.text, "Deploy now");
    assert!(s.prepare(&m).decide_id("alice").push());
    let e = dnd_engine::push::Push::from_json(
        r#"{"at":1795000000000,"conversationType":3,"targetId":"g","fromUserId":"s","recipients":[],"text":3}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("push.text"), "{e}");
}

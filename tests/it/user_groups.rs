//! User groups (`docs/rules.md` §11): the requests, mentions of groups
//! (members mentioned as by id, also when an @all is governed away), the
//! push's `userGroupIds`, explain, the snapshot, and the engine against the
//! naive oracle on random worlds.

use chrono_tz::Tz;
use dnd_engine::{
    Config, Conversation, ConversationType, Level, Mentions, Message, Recipient, Request, Settings, Timestamp,
};
use proptest::prelude::*;

use crate::checks::agrees_with_the_oracle;
use crate::gen::{self, conversation, instant, mentions, request, World, CLOCK_ZONES};
use crate::support::{get_json, send_form};

fn set(settings: &mut Settings, group: &str, members: &str) -> (u16, String) {
    send_form(
        settings,
        "/usergroup/set.json",
        &[("groupId", group), ("memberIds", members)],
    )
}

fn get(settings: &Settings, group: &str) -> String {
    get_json(settings, "/usergroup/get.json", "groupId", group)
}

fn at() -> Timestamp {
    "2026-11-22T12:00:00Z".parse().unwrap()
}

#[test]
fn s11_user_groups_set_get_and_delete() {
    let mut s = Settings::new(Config::new(chrono_tz::UTC));
    assert_eq!(get(&s, "oncall"), r#"{"code":200,"groupId":"oncall","memberIds":[]}"#);
    assert_eq!(set(&mut s, "oncall", r#"["bob","alice"]"#).0, 200);
    assert_eq!(
        get(&s, "oncall"),
        r#"{"code":200,"groupId":"oncall","memberIds":["bob","alice"]}"#
    );
    assert_eq!(s.handle("/usergroup/delete.json", b"groupId=oncall").code(), 200);
    assert_eq!(get(&s, "oncall"), r#"{"code":200,"groupId":"oncall","memberIds":[]}"#);
}

#[test]
fn s11_every_user_group_parameter_is_checked_and_a_refusal_changes_nothing() {
    let mut s = Settings::new(Config::new(chrono_tz::UTC));
    assert_eq!(set(&mut s, "g", r#"["a"]"#).0, 200);
    let many = serde_json::to_string(&(0..10_001).map(|i| format!("u{i}")).collect::<Vec<_>>()).unwrap();
    for (members, says) in [
        ("", "memberIds"),
        ("x", "memberIds"),
        (r#"["a","a"]"#, "memberIds[1]"),
        (r#"[1]"#, "memberIds[0]"),
        (many.as_str(), "10001 ids, more than 10000"),
    ] {
        let (code, json) = set(&mut s, "g", members);
        assert_eq!(code, 1002, "{json}");
        assert!(json.contains(says), "{json}");
        assert_eq!(get(&s, "g"), r#"{"code":200,"groupId":"g","memberIds":["a"]}"#);
    }
    let r = s.handle("/usergroup/set.json", b"memberIds=%5B%5D");
    assert!(r.code() == 1002 && r.to_json().contains("groupId"));
}

/// Settings where alice and bob push only mentions of them (level 2) on groups.
fn mentions_only() -> Settings {
    let mut s =
        Settings::new(Config::new(chrono_tz::UTC).with_app_default(ConversationType::Group, Level::MentionsOfMe));
    assert_eq!(set(&mut s, "oncall", r#"["alice","bob"]"#).0, 200);
    s
}

#[test]
fn s11_a_member_of_a_mentioned_group_is_mentioned_as_by_id() {
    let s = mentions_only();
    let m = Message::new(Conversation::Group { group_id: "g" }, "s", at()).with_mentioned_groups(&["oncall"]);
    let p = s.prepare(&m);
    assert!(p.decide_id("alice").push() && p.decide_id("bob").push());
    assert!(!p.decide_id("carol").push());
    let why = p.explain(Recipient::Id("alice")).unwrap().to_string();
    assert!(
        why.contains(r#"the message mentions the user group "oncall", of which the recipient is a member"#),
        "{why}"
    );
    // A group that does not exist mentions no one; nor does any in a private message.
    let m = Message::new(Conversation::Group { group_id: "g" }, "s", at()).with_mentioned_groups(&["nobody"]);
    assert!(!s.prepare(&m).decide_id("alice").push());
    let mut s = s;
    let body = "conversationType=1&requestId=alice&unpushLevel=2";
    assert_eq!(
        s.handle("/conversation/type/notification/set.json", body.as_bytes())
            .code(),
        200
    );
    let m = Message::new(Conversation::Private, "s", at()).with_mentioned_groups(&["oncall"]);
    assert!(!s.prepare(&m).decide_id("alice").push());
}

#[test]
fn s11_group_mentions_stay_mentions_when_at_all_is_governed_away() {
    let mut config = Config::new(chrono_tz::UTC).with_app_default(ConversationType::Group, Level::MentionsOfMe);
    config.mention_all_max_members = Some(10);
    let mut s = Settings::new(config);
    assert_eq!(set(&mut s, "oncall", r#"["alice"]"#).0, 200);
    let m = Message::new(Conversation::Group { group_id: "g" }, "s", at())
        .with_mentions(Mentions::All)
        .with_member_count(500)
        .with_mentioned_groups(&["oncall"]);
    let p = s.prepare(&m);
    assert!(p.decide_id("alice").push());
    assert!(!p.decide_id("carol").push());
}

#[test]
fn s11_a_push_carries_user_group_ids() {
    let s = mentions_only();
    let push = dnd_engine::push::Push::from_json(
        r#"{"at":1795000000000,"conversationType":3,"targetId":"g","fromUserId":"s","recipients":["alice"],
            "mentionedInfo":{"type":2,"userIdList":["carol"],"userGroupIds":["oncall"]}}"#,
    )
    .unwrap();
    let ids = push.mentioned_ids();
    let m = push.message(&ids).unwrap();
    assert_eq!(m.mentions, Mentions::Users(&["carol"]));
    assert_eq!(m.mentioned_groups, ["oncall"]);
    assert!(s.prepare(&m).decide_id("alice").push());
    let many: Vec<String> = (0..33).map(|i| format!("g{i}")).collect();
    let text = format!(
        r#"{{"at":1795000000000,"conversationType":3,"targetId":"g","fromUserId":"s","recipients":[],"mentionedInfo":{{"type":1,"userGroupIds":{}}}}}"#,
        serde_json::to_string(&many).unwrap()
    );
    let push = dnd_engine::push::Push::from_json(&text).unwrap();
    let e = push.message(&push.mentioned_ids()).unwrap_err().to_string();
    assert!(e.contains("push.mentionedInfo.userGroupIds"), "{e}");
}

#[test]
fn s11_the_snapshot_keeps_user_groups() {
    let s = mentions_only();
    let saved = serde_json::to_string(&s).unwrap();
    assert!(
        saved.contains(r#""userGroups":[{"groupId":"oncall","memberIds":["alice","bob"]}]"#),
        "{saved}"
    );
    let restored: Settings = serde_json::from_str(&saved).unwrap();
    assert_eq!(get(&restored, "oncall"), get(&s, "oncall"));
    assert_eq!(serde_json::to_string(&restored).unwrap(), saved);
    let stranger = saved.replace(r#"["alice","bob"]"#, r#"["alice","zed"]"#);
    let e = serde_json::from_str::<Settings>(&stranger).unwrap_err().to_string();
    assert!(e.contains("userGroups[0].memberIds[1]"), "{e}");
    let one = saved.replace(r#""format":2"#, r#""format":1"#);
    assert!(serde_json::from_str::<Settings>(&one).is_err());
    let r: Request = serde_json::from_str(r#"{"request":"setUserGroup","groupId":"g","memberIds":["a","b"]}"#).unwrap();
    let back: Request = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(r, back);
}

const RECIPIENTS: [&str; 8] = ["u0", "u1", "u2", "u3", "u4", "s", "boss", "stranger"];
const SENDERS: [&str; 3] = ["s", "boss", "u1"];
const MENTIONED: [&str; 2] = ["u1", "u3"];
const GROUPS: [&str; 3] = ["oncall", "team", "empty"];

fn group_request() -> impl Strategy<Value = (String, String)> {
    (
        prop::sample::select(&GROUPS[..]),
        prop::sample::subsequence(&RECIPIENTS[..7], 0..5),
        any::<bool>(),
    )
        .prop_map(|(g, members, delete)| {
            if delete {
                return ("/usergroup/delete.json".to_string(), format!("groupId={g}"));
            }
            let json = serde_json::to_string(&members).unwrap();
            let json: String = form_urlencoded::byte_serialize(json.as_bytes()).collect();
            (
                "/usergroup/set.json".to_string(),
                format!("groupId={g}&memberIds={json}"),
            )
        })
}

fn config() -> impl Strategy<Value = Config> {
    (
        prop::sample::select(&CLOCK_ZONES[..]),
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
        .prop_map(|(zone, max, default)| {
            let mut config = Config::new(zone.parse::<Tz>().unwrap());
            config.mention_all_max_members = max;
            for t in ConversationType::ALL {
                config.app_defaults.set(t, default);
            }
            config
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// With user groups among every other extension, every way of deciding
    /// equals the naive walk.
    #[test]
    fn the_engine_agrees_with_the_naive_oracle_on_worlds_with_user_groups(
        config in config(),
        requests in prop::collection::vec(prop_oneof![2 => request(true), 1 => group_request()], 0..30),
        kind in 0u8..5, sender in prop::sample::select(&SENDERS[..]), mention in 0u8..3,
        minutes in -1440i64..12 * 1440, groups in prop::sample::subsequence(&GROUPS[..], 0..3),
        members in prop::option::of(0u32..8),
    ) {
        let World { settings, naive, .. } = gen::world(&config, &requests);
        let mut m = Message::new(conversation(kind), sender, Timestamp::new(instant(minutes)).unwrap())
            .with_mentions(mentions(mention, &MENTIONED))
            .with_mentioned_groups(&groups);
        m.member_count = members;
        agrees_with_the_oracle(&settings, &naive, &m, &RECIPIENTS)?;
    }
}

//! Member lists (`docs/rules.md` §13): the platform's membership requests
//! with its documented answers, the snapshot's section, and a message
//! decided for every member against the same message decided for the
//! member ids listed explicitly (and the naive oracle), on random and on
//! large sparse worlds.

use dnd_engine::{Config, Conversation, ConversationType, Decision, Message, Request, Settings, Timestamp, UserHandle};
use proptest::prelude::*;

use crate::gen::{self, conversation, instant, request, ts};
use crate::naive::as_naive;

fn utc() -> Settings {
    Settings::new(Config::new(chrono_tz::UTC))
}

fn exist(s: &Settings, group: &str, user: &str) -> String {
    let body = format!("groupId={group}&userId={user}");
    let r = Request::parse("/ultragroup/member/exist.json", body.as_bytes()).unwrap();
    s.query(&r).unwrap().to_json()
}

fn users(s: &Settings, group: &str) -> String {
    let r = Request::parse("/group/user/query.json", format!("groupId={group}").as_bytes()).unwrap();
    s.query(&r).unwrap().to_json()
}

#[test]
fn s13_ultragroup_join_quit_and_member_exist_answer_as_the_platform_documents() {
    let mut s = utc();
    assert_eq!(exist(&s, "club", "ann"), r#"{"code":200,"status":false}"#);
    let r = s.handle("/ultragroup/join.json", b"groupId=club&userId=ann");
    assert_eq!(r.to_json(), r#"{"code":200}"#);
    assert_eq!(exist(&s, "club", "ann"), r#"{"code":200,"status":true}"#);
    assert_eq!(exist(&s, "club", "bob"), r#"{"code":200,"status":false}"#);
    assert_eq!(exist(&s, "other", "ann"), r#"{"code":200,"status":false}"#);
    // Joining twice is joining once; quitting twice answers 200 both times.
    assert_eq!(
        s.handle("/ultragroup/join.json", b"groupId=club&userId=ann").code(),
        200
    );
    assert_eq!(s.member_count(ConversationType::UltraGroup, "club"), 1);
    for _ in 0..2 {
        let r = s.handle("/ultragroup/quit.json", b"groupId=club&userId=ann");
        assert_eq!(r.to_json(), r#"{"code":200}"#);
    }
    assert_eq!(exist(&s, "club", "ann"), r#"{"code":200,"status":false}"#);
    assert_eq!(s.member_count(ConversationType::UltraGroup, "club"), 0);
}

#[test]
fn s13_group_join_takes_userid_repeated_and_the_query_lists_users_by_id() {
    let mut s = utc();
    assert_eq!(users(&s, "g"), r#"{"code":200,"users":[]}"#);
    let r = s.handle(
        "/group/join.json",
        b"userId=bob&userId=ann&userId=bob&groupId=g&groupName=Team",
    );
    assert_eq!(r.to_json(), r#"{"code":200}"#);
    // Member order: by the users' numbers, the order the settings first saw them.
    assert_eq!(users(&s, "g"), r#"{"code":200,"users":[{"id":"bob"},{"id":"ann"}]}"#);
    assert_eq!(
        s.handle("/group/quit.json", b"userId=bob&userId=zed&groupId=g").code(),
        200
    );
    assert_eq!(users(&s, "g"), r#"{"code":200,"users":[{"id":"ann"}]}"#);
    // A group's members are not an ultra group's of the same id.
    assert_eq!(exist(&s, "g", "ann"), r#"{"code":200,"status":false}"#);
}

#[test]
fn s13_a_bad_membership_request_is_a_1002_naming_the_parameter_and_changes_nothing() {
    let mut s = utc();
    assert_eq!(
        s.handle("/group/join.json", b"userId=ann&groupId=g&groupName=Team")
            .code(),
        200
    );
    let before = serde_json::to_string(&s).unwrap();
    let many: String = (0..1001).map(|i| format!("userId=u{i}&")).collect();
    let long_name = format!("userId=a&groupId=g&groupName={}", "n".repeat(65));
    let cases: Vec<(&str, String, &str)> = vec![
        ("/ultragroup/join.json", "userId=a".into(), "groupId"),
        ("/ultragroup/join.json", "groupId=club".into(), "userId"),
        (
            "/ultragroup/join.json",
            "groupId=club&userId=a&userId=b".into(),
            "userId",
        ),
        (
            "/ultragroup/quit.json",
            format!("groupId=club&userId={}", "x".repeat(65)),
            "userId",
        ),
        ("/ultragroup/member/exist.json", "groupId=&userId=a".into(), "groupId"),
        ("/group/join.json", "groupId=g&groupName=Team".into(), "userId"),
        ("/group/join.json", "userId=a&groupId=g".into(), "groupName"),
        ("/group/join.json", long_name, "groupName"),
        ("/group/join.json", format!("{many}groupId=g&groupName=Team"), "userId"),
        (
            "/group/join.json",
            "userId=a&userId=&groupId=g&groupName=Team".into(),
            "userId",
        ),
        ("/group/quit.json", "userId=ann".into(), "groupId"),
        ("/group/user/query.json", String::new(), "groupId"),
    ];
    for (path, body, name) in cases {
        let r = s.handle(path, body.as_bytes());
        assert_eq!(r.code(), 1002, "{path} {body}");
        assert!(r.to_json().contains(name), "{path}: {}", r.to_json());
        assert_eq!(serde_json::to_string(&s).unwrap(), before, "{path} changed something");
    }
}

#[test]
fn s13_membership_requests_read_from_json_as_from_the_form() {
    let cases = [
        (
            "/ultragroup/join.json",
            "groupId=club&userId=ann",
            r#"{"request":"ultraGroupJoin","groupId":"club","userId":"ann"}"#,
        ),
        (
            "/ultragroup/member/exist.json",
            "groupId=club&userId=ann",
            r#"{"request":"ultraGroupMemberExist","groupId":"club","userId":"ann"}"#,
        ),
        (
            "/group/join.json",
            "userId=a&userId=b&groupId=g&groupName=T",
            r#"{"request":"groupJoin","groupId":"g","userIds":["a","b"]}"#,
        ),
        (
            "/group/quit.json",
            "userId=a&groupId=g",
            r#"{"request":"groupQuit","groupId":"g","userIds":["a"]}"#,
        ),
        (
            "/group/user/query.json",
            "groupId=g",
            r#"{"request":"groupUserQuery","groupId":"g"}"#,
        ),
    ];
    for (path, body, json) in cases {
        let form = Request::parse(path, body.as_bytes()).unwrap();
        assert_eq!(serde_json::to_string(&form).unwrap(), json);
        assert_eq!(serde_json::from_str::<Request>(json).unwrap(), form);
    }
    let e = serde_json::from_str::<Request>(r#"{"request":"groupJoin","groupId":"g","userIds":[]}"#);
    assert!(e.unwrap_err().to_string().contains("userIds"));
}

#[test]
fn s13_member_lists_survive_a_snapshot_in_member_order() {
    let mut s = utc();
    assert_eq!(
        s.handle("/group/join.json", b"userId=b&userId=a&groupId=g&groupName=T")
            .code(),
        200
    );
    assert_eq!(s.handle("/ultragroup/join.json", b"groupId=club&userId=a").code(), 200);
    let saved = serde_json::to_string(&s).unwrap();
    assert!(saved.contains(r#""members":[{"conversationType":3,"targetId":"g","memberIds":["b","a"]},{"conversationType":10,"targetId":"club","memberIds":["a"]}]"#), "{saved}");
    let back: Settings = serde_json::from_str(&saved).unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), saved);
    assert_eq!(users(&back, "g"), users(&s, "g"));
    // A member who is not a user, and a private chat with members, are refused.
    let bad = saved.replace(r#""memberIds":["a"]"#, r#""memberIds":["nobody"]"#);
    assert!(serde_json::from_str::<Settings>(&bad)
        .unwrap_err()
        .to_string()
        .contains("members[1].memberIds[0]"));
    let bad = saved.replace(
        r#""conversationType":10,"targetId":"club""#,
        r#""conversationType":1,"targetId":"club""#,
    );
    assert!(serde_json::from_str::<Settings>(&bad).is_err());
}

/// Every member's decision, through `decide_members`, with its handle.
fn by_members(s: &Settings, message: &Message<'_>) -> Vec<(UserHandle, Decision)> {
    let mut all = Vec::new();
    let n = s
        .prepare(message)
        .decide_members(|hs, ds| all.extend(hs.iter().copied().zip(ds.iter().copied())));
    assert_eq!(n, all.len());
    all
}

/// The members of `message`'s conversation, listed as ids.
fn member_ids(s: &Settings, c: Conversation<'_>) -> Vec<String> {
    match c {
        Conversation::Group { group_id } => s.members(ConversationType::Group, group_id),
        Conversation::UltraGroup { group_id, .. } => s.members(ConversationType::UltraGroup, group_id),
        _ => Vec::new(),
    }
    .into_iter()
    .map(|id| id.as_str().to_owned())
    .collect()
}

/// Joins and quits of `g` and `club` by the world's users and a few more.
fn membership() -> impl Strategy<Value = (String, String)> {
    let who = prop::sample::select(vec!["u0", "u1", "u2", "u3", "u4", "s", "m1", "m2", "m3"]);
    (0u8..4, who.clone(), who).prop_map(|(k, a, b)| match k {
        0 => (
            "/group/join.json".into(),
            format!("userId={a}&userId={b}&groupId=g&groupName=G"),
        ),
        1 => ("/group/quit.json".into(), format!("userId={a}&groupId=g")),
        2 => ("/ultragroup/join.json".into(), format!("groupId=club&userId={a}")),
        _ => ("/ultragroup/quit.json".into(), format!("groupId=club&userId={a}")),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(gen::cases(128)))]

    /// A message decided for every member is the same message decided for
    /// the members listed by id, each the oracle's decision.
    #[test]
    fn deciding_the_members_equals_deciding_their_ids(
        settings in prop::collection::vec(request(true), 0..30),
        joins in prop::collection::vec(membership(), 0..30),
        kind in 0u8..5,
        minutes in 0i64..(3 * 24 * 60),
    ) {
        let requests: Vec<_> = settings.into_iter().chain(joins).collect();
        let world = gen::world(&Config::new(chrono_tz::Asia::Shanghai), &requests);
        let s = &world.settings;
        let c = conversation(kind);
        let message = Message::new(c, "s", ts(instant(minutes)));
        let members = by_members(s, &message);
        let ids = member_ids(s, c);
        prop_assert_eq!(members.len(), ids.len());
        let mut explicit = Vec::new();
        s.prepare(&message).decide_ids_into(&ids, &mut explicit);
        for ((h, d), (id, e)) in members.iter().zip(ids.iter().zip(&explicit)) {
            prop_assert_eq!(s.user_id(*h), Some(id.as_str()));
            prop_assert_eq!(d, e, "{}", id);
            prop_assert_eq!(as_naive(*d), world.naive.decide(&message, id), "{}", id);
        }
    }
}

/// A large sparse world: 60,000 users, 50,000 of them members of an ultra
/// group joined shuffled, a few hundred with levels on it, a subchannel
/// and types, some periods; every member's decision against the explicit
/// ids, for a plain message, a mention and one to a subchannel.
#[test]
fn deciding_the_members_of_a_large_sparse_ultra_group_equals_deciding_their_ids() {
    let mut s = Settings::new(Config::new(chrono_tz::Asia::Shanghai));
    let mut x: u64 = 7;
    let mut next = |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m
    };
    for i in 0..60_000u64 {
        // Numbered in this order; joined in another.
        s.intern_user(&dnd_engine::UserId::new(&format!("u{i}")).unwrap())
            .unwrap();
    }
    for _ in 0..50_000 {
        let u = next(60_000);
        assert_eq!(
            s.handle("/ultragroup/join.json", format!("groupId=club&userId=u{u}").as_bytes())
                .code(),
            200
        );
    }
    for _ in 0..600 {
        let (u, l) = (next(60_000), [-1, 1, 2, 4, 5][next(5) as usize]);
        let body = match next(4) {
            0 => format!("conversationType=10&requestId=u{u}&targetId=club&unpushLevel={l}"),
            1 => format!("conversationType=10&requestId=u{u}&targetId=club&busChannel=news&unpushLevel={l}"),
            2 => format!("conversationType=10&requestId=u{u}&unpushLevel={l}"),
            _ => format!("userId=u{u}&startTime=10:00:00&period=600&level=5"),
        };
        let path = match body.as_bytes()[0] {
            b'u' => "/user/blockPushPeriod/set.json",
            _ if body.contains("targetId") => "/conversation/notification/set.json",
            _ => "/conversation/type/notification/set.json",
        };
        assert_eq!(s.handle(path, body.as_bytes()).code(), 200, "{body}");
    }
    assert_eq!(
        s.handle("/ultragroup/notdisturb/set.json", b"groupId=club&unpushLevel=1")
            .code(),
        200
    );
    let at = Timestamp::from_millis(1_764_000_000_000).unwrap();
    let ids = member_ids(&s, conversation(1));
    assert!(ids.len() > 30_000);
    let mentioned = [ids[5].as_str(), ids[77].as_str()];
    for (c, mentions) in [
        (conversation(1), dnd_engine::Mentions::None),
        (conversation(2), dnd_engine::Mentions::Users(&mentioned)),
        (conversation(1), dnd_engine::Mentions::All),
    ] {
        let message = Message::new(c, ids[3].as_str(), at).with_mentions(mentions);
        let members = by_members(&s, &message);
        let mut explicit = Vec::new();
        s.prepare(&message).decide_ids_into(&ids, &mut explicit);
        assert_eq!(members.len(), ids.len());
        let pushes = explicit.iter().filter(|d| d.push()).count();
        assert!(
            pushes > 0 && pushes < ids.len(),
            "a world where some push and some do not"
        );
        for ((h, d), (id, e)) in members.iter().zip(ids.iter().zip(&explicit)) {
            assert_eq!(s.user_id(*h), Some(id.as_str()));
            assert_eq!(d, e, "{id}");
        }
    }
}

#[test]
fn s13_a_group_join_is_cut_by_partition() {
    use dnd_engine::shard::{partition_of, ShardKey};
    let ids: String = (0..200).map(|i| format!("userId=m{i}&")).collect();
    let join = Request::parse("/group/join.json", format!("{ids}groupId=g&groupName=G").as_bytes()).unwrap();
    let Request::GroupJoin { user_ids, .. } = &join else {
        panic!("a group join")
    };
    assert_eq!(join.shard_key(), ShardKey::Users(user_ids));
    let parts = join.split_by_partition().unwrap();
    assert!(parts.len() > 1);
    let mut all = Vec::new();
    let mut last = None;
    for (p, part) in &parts {
        assert!(last < Some(*p), "partition order");
        last = Some(*p);
        let Request::GroupJoin { user_ids, group_id } = part else {
            panic!("a group join")
        };
        assert_eq!(group_id.as_str(), "g");
        assert!(user_ids.iter().all(|u| partition_of(u.as_str()) == *p));
        all.extend(user_ids.iter().map(|u| u.as_str().to_owned()));
    }
    all.sort();
    let mut want: Vec<String> = user_ids.iter().map(|u| u.as_str().to_owned()).collect();
    want.sort();
    assert_eq!(all, want);
    // Applied apart, the parts make what the whole makes.
    let mut whole = utc();
    assert_eq!(whole.apply(&join).code(), 200);
    let mut cut = utc();
    for (_, part) in parts.iter().rev() {
        assert_eq!(cut.apply(part).code(), 200);
    }
    let mut a = whole.members(ConversationType::Group, "g");
    let mut b = cut.members(ConversationType::Group, "g");
    a.sort();
    b.sort();
    assert_eq!(a, b);
    // An ultra-group join goes to its user's shard; the query to every shard.
    let one = Request::parse("/ultragroup/join.json", b"groupId=c&userId=m1").unwrap();
    assert!(matches!(one.shard_key(), ShardKey::User(u) if u.as_str() == "m1"));
    assert!(one.split_by_partition().is_none());
    let query = Request::parse("/group/user/query.json", b"groupId=g").unwrap();
    assert_eq!(query.shard_key(), ShardKey::Gather);
}

#[test]
fn s13_a_push_without_recipients_is_to_the_members_and_says_its_answer_form() {
    use dnd_engine::push::{AnswerForm, Push};
    let p = Push::from_json(r#"{"at": 0, "conversationType": 10, "targetId": "club", "fromUserId": "s"}"#).unwrap();
    assert!(p.members && p.recipients.is_empty() && p.answer == AnswerForm::Lines);
    let p = Push::from_json(
        r#"{"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "s", "recipients": [], "answer": "bits"}"#,
    )
    .unwrap();
    assert!(!p.members && p.answer == AnswerForm::Bits);
    let e = Push::from_json(r#"{"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "s", "answer": 2}"#);
    assert!(e.unwrap_err().to_string().starts_with("push.answer: "));
    let e = Push::from_json(r#"{"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "s", "answer": "all"}"#);
    assert!(e.unwrap_err().to_string().contains("lines, push or bits"));
    let p = Push::from_json(r#"{"at": 0, "conversationType": 6, "fromUserId": "s"}"#).unwrap();
    let e = p.message(&[]).unwrap_err().to_string();
    assert!(
        e.starts_with("push.recipients: required for a private or system message"),
        "{e}"
    );
}

/// Memberships routed as a cluster routes them (an ultra-group join to its
/// user's shard, a group join cut by partition), then the shards regrouped
/// into another layout: each new shard holds exactly the memberships of
/// the users it keeps, as one settings given everything holds them.
#[test]
fn s13_regrouped_shards_keep_their_own_users_memberships() {
    use dnd_engine::shard::{Layout, Replica};
    let config = Config::new(chrono_tz::UTC);
    let (old, new) = (Layout::new(3).unwrap(), Layout::new(2).unwrap());
    let mut one = Settings::new(config.clone());
    let mut replicas: Vec<Replica> = old.all().map(|_| Replica::new(Settings::new(config.clone()))).collect();
    let mut requests = Vec::new();
    for i in 0..300 {
        requests.push(Request::parse("/ultragroup/join.json", format!("groupId=club&userId=u{i}").as_bytes()).unwrap());
    }
    let ids: String = (0..120).map(|i| format!("userId=u{}&", i * 2)).collect();
    requests.push(Request::parse("/group/join.json", format!("{ids}groupId=g&groupName=G").as_bytes()).unwrap());
    let mut seq = 0;
    for r in &requests {
        assert_eq!(one.apply(r).code(), 200);
        let parts = r.split_by_partition().unwrap_or_else(|| {
            let Request::UltraGroupJoin { user_id, .. } = r else {
                unreachable!()
            };
            vec![(dnd_engine::shard::partition_of(user_id.as_str()), r.clone())]
        });
        for (p, part) in parts {
            seq += 1;
            let s = old.shard_of(p);
            assert!(replicas[usize::from(s.0)].apply_at(seq, &part).is_some());
        }
    }
    for r in &mut replicas {
        r.skip_to(seq);
    }
    let sources: Vec<_> = old
        .all()
        .map(|s| (old.partitions(s), &replicas[usize::from(s.0)]))
        .collect();
    for (t, target) in [(ConversationType::UltraGroup, "club"), (ConversationType::Group, "g")] {
        let mut all: Vec<String> = Vec::new();
        for s in new.all() {
            let moved = Replica::regroup(&sources, new.partitions(s)).unwrap();
            let held: Vec<String> = moved
                .settings()
                .members(t, target)
                .into_iter()
                .map(|u| u.as_str().to_owned())
                .collect();
            assert!(
                held.iter().all(|u| new.shard_of_user(u) == s),
                "{target}: only its own users"
            );
            all.extend(held);
        }
        all.sort();
        let mut want: Vec<String> = one
            .members(t, target)
            .into_iter()
            .map(|u| u.as_str().to_owned())
            .collect();
        want.sort();
        assert_eq!(all, want, "{target}");
    }
}

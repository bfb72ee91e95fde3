//! The generators of the sharding property (`shards`): a wide set of user
//! ids (dots, spaces, wildcards of NATS subjects, non-ASCII) and changes of
//! every kind over them, the time extensions built as a client sends them.

use dnd_engine::Request;
use proptest::prelude::*;

use crate::gen::{any_level, conversation_key, conversation_type, period, ultra_group_default, user_in, GROUPS};

/// Users with awkward ids (dots, spaces, wildcards: no subject could carry
/// them), spread over every partition.
pub fn user_ids() -> Vec<String> {
    let mut ids: Vec<String> = (0..40).map(|i| format!("u{i}")).collect();
    ids.extend(["a.b", "x y", "*", ">", "u.822465 *>", "用户"].map(String::from));
    ids
}

/// Any change of every kind, over the wide user set; gets mixed in, which
/// change nothing.
pub fn request() -> impl Strategy<Value = Request> {
    let user = || user_in(user_ids());
    // The targets of `gen::message`, so that messages meet the settings.
    let targets = [&GROUPS[..], &["u0", "u1"]].concat();
    prop_oneof![
        3 => (user(), period()).prop_map(|(user_id, period)| Request::SetPeriod { user_id, period }),
        1 => user().prop_map(|user_id| Request::DeletePeriod { user_id }),
        1 => user().prop_map(|user_id| Request::GetPeriod { user_id }),
        4 => (user(), conversation_key(targets), any_level()).prop_map(|(user_id, conversation, level)| {
            Request::SetConversationLevel { user_id, conversation, level }
        }),
        3 => (user(), conversation_type(), any_level()).prop_map(|(user_id, conversation_type, level)| {
            Request::SetTypeLevel { user_id, conversation_type, level }
        }),
        2 => ultra_group_default(any_level()),
        5 => extension(),
    ]
}

/// The time extensions (until variants of the three level requests, snooze,
/// schedule, their gets and deletes), built as a client sends them and
/// parsed by the core; untils fall across the messages' years, so about
/// half have expired when a message is decided.
pub fn extension() -> impl Strategy<Value = Request> {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let until = 1_577_836_800_000i64..1_893_456_000_000; // 2020 to 2030
    let code = prop::sample::select(vec![-1i64, 1, 2, 4, 5]);
    let kind = prop::sample::select(vec![(1, "u0"), (3, "g0"), (3, "g1"), (6, "g2"), (10, "g0"), (10, "g1")]);
    let bus = prop::option::of(prop::sample::select(vec!["c0", "c1", "c2"]));
    (
        (prop::sample::select(user_ids()), prop::sample::select(user_ids())),
        0u8..13,
        until,
        code,
        kind,
        bus,
        (1u8..=6, 0u32..24, 1u32..=1440),
    )
        .prop_map(move |((user, vip), which, until, level, (t, target), bus, (day, hour, period))| {
            let u = enc(&user);
            let bus = bus.filter(|_| t == 10).map(|b| format!("&busChannel={b}")).unwrap_or_default();
            let (path, body) = match which {
                0 => (
                    "/conversation/notification/set.json",
                    format!("conversationType={t}&requestId={u}&targetId={target}{bus}&unpushLevel={level}&until={until}"),
                ),
                1 => (
                    "/conversation/type/notification/set.json",
                    format!("conversationType={t}&requestId={u}&unpushLevel={level}&until={until}"),
                ),
                2 => (
                    "/ultragroup/notdisturb/set.json",
                    format!("groupId={target}{bus}&unpushLevel={level}&until={until}"),
                ),
                3 => (
                    "/user/snooze/set.json",
                    format!("userId={u}&until={until}&level={}", level.max(1)),
                ),
                4 => ("/user/snooze/delete.json", format!("userId={u}")),
                5 => ("/user/snooze/get.json", format!("userId={u}")),
                6 => {
                    let windows = format!(
                        r#"[{{"days":[{day},{}],"startTime":"{hour:02}:30:00","period":{period},"level":{}}}]"#,
                        day + 1,
                        if level == 5 { 5 } else { 2 }
                    );
                    (
                        "/user/blockPushSchedule/set.json",
                        format!("userId={u}&windows={}&timezone=America%2FNew_York", enc(&windows)),
                    )
                }
                7 => ("/user/blockPushSchedule/delete.json", format!("userId={u}")),
                8 => ("/user/blockPushSchedule/get.json", format!("userId={u}")),
                // Policy (§10): a VIP list names users of other shards; consent to urgent messages.
                9 => (
                    "/user/vip/set.json",
                    format!(
                        "userId={u}&vipUserIds={}&scope={}",
                        enc(&serde_json::to_string(&[&vip]).unwrap()),
                        if level > 2 { "all" } else { "quiet" }
                    ),
                ),
                10 => ("/user/urgent/set.json", format!("userId={u}&allow={}", u8::from(level > 0))),
                11 => ("/user/vip/get.json", format!("userId={u}")),
                _ => ("/user/urgent/get.json", format!("userId={u}")),
            };
            Request::parse(path, body.as_bytes()).unwrap_or_else(|e| panic!("{path} {body}: {e}"))
        })
}

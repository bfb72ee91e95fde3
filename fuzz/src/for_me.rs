//! Generation for keywords, user groups and muted senders (docs/rules.md
//! §11): the requests, typed and as form bodies, and a message's text and
//! mentioned groups. Everything valid here is valid by the rules.

use dnd_engine::{Keywords, MutedSenders, Request, TargetId, UserId};
use rand::rngs::SmallRng;
use rand::Rng;

use crate::gen::World;

/// Words of several scripts, for keywords and texts: they meet in the text
/// now at a word boundary and now inside a word.
const WORDS: [&str; 16] = [
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
    "ß",
    "_",
];
const GLUE: [&str; 7] = [" ", "", "!", "请", "_", "\u{301}", ", "];

/// The user groups of every world.
pub const GROUPS: [&str; 3] = ["oncall", "team", "all-hands"];

/// Some keywords: 0 to 4 words (none clears), now and then the most a user has.
fn keywords(rng: &mut SmallRng) -> Keywords {
    let n = match rng.gen_range(0..10) {
        0 => 0,
        1 => Keywords::MAX,
        _ => rng.gen_range(1..=4),
    };
    let words: Vec<String> = (0..n)
        .map(|i| match i < 4 {
            true => WORDS[rng.gen_range(0..WORDS.len())].to_owned(),
            false => format!("k{i}"),
        })
        .collect();
    Keywords::new(&words).unwrap_or_default()
}

/// Up to `most` distinct ids of the world's users (and now and then a stranger).
fn ids(rng: &mut SmallRng, w: &World, most: usize) -> Vec<UserId> {
    let n = rng.gen_range(0..=most);
    let mut ids: Vec<String> = Vec::new();
    for _ in 0..n {
        let id = if rng.gen_ratio(4, 5) {
            w.someone(rng)
        } else {
            format!("other{}", rng.gen_range(0..50))
        };
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids.iter().map(|id| UserId::new(id).unwrap()).collect()
}

/// One of the seven requests or a membership request, valid, about the world's ids.
pub fn request(rng: &mut SmallRng, w: &World) -> Request {
    let user_id = UserId::new(&w.someone(rng)).unwrap();
    let group_id = TargetId::new(GROUPS[rng.gen_range(0..GROUPS.len())]).unwrap();
    if rng.gen_ratio(1, 4) {
        return crate::members::request(rng, user_id, group_id);
    }
    match rng.gen_range(0..10) {
        0 | 1 => Request::SetKeywords {
            user_id,
            keywords: keywords(rng),
        },
        2 => Request::GetKeywords { user_id },
        3 | 4 => {
            let until = rng.gen_ratio(1, 2).then(|| {
                chrono::DateTime::from_timestamp_millis(rng.gen_range(1_577_836_800_000i64..1_893_456_000_000)).unwrap()
            });
            Request::SetMutedSenders {
                user_id,
                muted_senders: MutedSenders::new(ids(rng, w, 3), until).expect("distinct, few"),
            }
        }
        5 => Request::GetMutedSenders { user_id },
        6 | 7 => Request::SetUserGroup {
            group_id,
            member_ids: ids(rng, w, 6),
        },
        8 => Request::GetUserGroup { group_id },
        _ => Request::DeleteUserGroup { group_id },
    }
}

/// The path and form parameters of one of these requests; `None` for any other.
pub fn form_of(request: &Request) -> Option<(&'static str, Vec<(&'static str, String)>)> {
    let json = |ids: &[UserId]| serde_json::to_string(&ids.iter().map(UserId::as_str).collect::<Vec<_>>()).unwrap();
    Some(match request {
        Request::SetKeywords { user_id, keywords } => (
            "/user/keywords/set.json",
            vec![
                ("userId", user_id.to_string()),
                ("keywords", serde_json::to_string(keywords).unwrap()),
            ],
        ),
        Request::GetKeywords { user_id } => ("/user/keywords/get.json", vec![("userId", user_id.to_string())]),
        Request::SetMutedSenders { user_id, muted_senders } => {
            let mut p = vec![
                ("userId", user_id.to_string()),
                ("senderIds", json(muted_senders.sender_ids())),
            ];
            if let Some(until) = muted_senders.until() {
                p.push(("until", until.timestamp_millis().to_string()));
            }
            ("/user/mutedSenders/set.json", p)
        }
        Request::GetMutedSenders { user_id } => ("/user/mutedSenders/get.json", vec![("userId", user_id.to_string())]),
        Request::SetUserGroup { group_id, member_ids } => (
            "/usergroup/set.json",
            vec![("groupId", group_id.to_string()), ("memberIds", json(member_ids))],
        ),
        Request::GetUserGroup { group_id } => ("/usergroup/get.json", vec![("groupId", group_id.to_string())]),
        Request::DeleteUserGroup { group_id } => ("/usergroup/delete.json", vec![("groupId", group_id.to_string())]),
        other => return crate::members::form_of(other),
    })
}

/// A message's text: empty one time in three, else a few words and glue.
pub fn text(rng: &mut SmallRng) -> String {
    if rng.gen_ratio(1, 3) {
        return String::new();
    }
    (0..rng.gen_range(1..6))
        .flat_map(|_| [GLUE[rng.gen_range(0..GLUE.len())], WORDS[rng.gen_range(0..WORDS.len())]])
        .collect()
}

/// The user groups a message mentions: none one time in two.
pub fn groups(rng: &mut SmallRng) -> Vec<String> {
    match rng.gen_ratio(1, 2) {
        true => Vec::new(),
        false => GROUPS
            .iter()
            .filter(|_| rng.gen_ratio(1, 2))
            .map(|g| (*g).to_owned())
            .collect(),
    }
}

//! The platform's membership requests (`docs/rules.md` §13), valid, about
//! the world's ids, and their form parameters. A group join or quit names
//! one user: the driver shuffles a form's parameters, and the order of
//! several `userId`s is the order the request keeps.

use dnd_engine::{Request, TargetId, UserId};
use rand::rngs::SmallRng;
use rand::Rng;

/// One of the six membership requests.
pub fn request(rng: &mut SmallRng, user_id: UserId, group_id: TargetId) -> Request {
    match rng.gen_range(0..8) {
        0 | 1 => Request::UltraGroupJoin { group_id, user_id },
        2 => Request::UltraGroupQuit { group_id, user_id },
        3 => Request::UltraGroupMemberExist { group_id, user_id },
        4 | 5 => Request::GroupJoin {
            group_id,
            user_ids: vec![user_id],
        },
        6 => Request::GroupQuit {
            group_id,
            user_ids: vec![user_id],
        },
        _ => Request::GroupUserQuery { group_id },
    }
}

/// The path and form parameters of a membership request; `None` for any other.
pub fn form_of(request: &Request) -> Option<(&'static str, Vec<(&'static str, String)>)> {
    let users = |ids: &[UserId]| ids.iter().map(|u| ("userId", u.to_string())).collect::<Vec<_>>();
    Some(match request {
        Request::UltraGroupJoin { group_id, user_id } => (
            "/ultragroup/join.json",
            vec![("groupId", group_id.to_string()), ("userId", user_id.to_string())],
        ),
        Request::UltraGroupQuit { group_id, user_id } => (
            "/ultragroup/quit.json",
            vec![("groupId", group_id.to_string()), ("userId", user_id.to_string())],
        ),
        Request::UltraGroupMemberExist { group_id, user_id } => (
            "/ultragroup/member/exist.json",
            vec![("groupId", group_id.to_string()), ("userId", user_id.to_string())],
        ),
        Request::GroupJoin { group_id, user_ids } => {
            let mut p = users(user_ids);
            p.push(("groupId", group_id.to_string()));
            p.push(("groupName", "Team".into()));
            ("/group/join.json", p)
        }
        Request::GroupQuit { group_id, user_ids } => {
            let mut p = users(user_ids);
            p.push(("groupId", group_id.to_string()));
            ("/group/quit.json", p)
        }
        Request::GroupUserQuery { group_id } => ("/group/user/query.json", vec![("groupId", group_id.to_string())]),
        _ => return None,
    })
}

//! The platform's membership requests (`docs/rules.md` §13), valid, about
//! the world's ids, and their form parameters. A group join or quit names
//! one user: the driver shuffles a form's parameters, and the order of
//! several `userId`s is the order the request keeps.

use std::collections::HashSet;

use dnd_engine::{Request, TargetId, UserId};
use serde_json::Value;

use crate::read::{array, object, once, string, Obj};
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

/// Checks a snapshot's `members` as the engine's restore does (3 or 10, a
/// target id, each conversation once, 1 or more members, each once and in
/// `ids`). Member lists decide nothing for listed recipients: the oracle
/// checks them and keeps nothing.
pub(crate) fn check_snapshot(top: &Obj, ids: &HashSet<String>) -> Result<(), String> {
    let mut seen = HashSet::new();
    for (i, m) in array(top, "members", "")?.iter().enumerate() {
        let place = format!("members[{i}]");
        let mo = object(m, &place, &["conversationType", "targetId", "memberIds"])?;
        let t = mo.get("conversationType").and_then(Value::as_i64);
        if !matches!(t, Some(3 | 10)) {
            return Err(format!("{place}.conversationType: not 3 or 10"));
        }
        let target = string(mo, "targetId", &place)?;
        TargetId::new(&target).map_err(|e| format!("{place}: {e}"))?;
        once(&mut seen, (t, target), &place)?;
        let list = array(mo, "memberIds", &place)?;
        if list.is_empty() {
            return Err(format!("{place}.memberIds: empty"));
        }
        let mut members = HashSet::new();
        for (k, id) in list.iter().enumerate() {
            let p = format!("{place}.memberIds[{k}]");
            let Value::String(id) = id else {
                return Err(format!("{p} is not a string"));
            };
            once(&mut members, id.clone(), &p)?;
            if !ids.contains(id) {
                return Err(format!("{p}: {id:?} is not in users"));
            }
        }
    }
    Ok(())
}

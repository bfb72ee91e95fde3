//! The platform's membership requests (docs/rules.md §13): who is a member
//! of a group or an ultra group, so that a message to the conversation can
//! be decided for every member without its sender listing them. The
//! platform's paths, parameters and answers, as its server SDKs send and
//! read them.
//!
//! | path | parameters | answer |
//! |---|---|---|
//! | `/ultragroup/join.json` | `groupId`, `userId` (one user) | `{"code":200}` |
//! | `/ultragroup/quit.json` | `groupId`, `userId` (one user) | `{"code":200}` |
//! | `/ultragroup/member/exist.json` | `groupId`, `userId` | `{"code":200,"status":true}` (`false` when not a member) |
//! | `/group/join.json` | `userId` (repeated: 1 to 1,000 users), `groupId`, `groupName` (1 to 64 characters; checked, not kept) | `{"code":200}` |
//! | `/group/quit.json` | `userId` (repeated: 1 to 1,000 users), `groupId` | `{"code":200}` |
//! | `/group/user/query.json` | `groupId` | `{"code":200,"users":[{"id":"u1"},...]}` in member order (`[]` when none) |
//!
//! Joining twice is joining once; quitting a conversation one is not a
//! member of changes nothing and answers 200, as a repeated request must.

use super::extensions::Answer;
use super::{params, Form, Request, Response};
use crate::error::Error;
use crate::model::{ConversationType, UserId};
use crate::store::Settings;

/// The paths of the membership requests.
pub const PATHS: [&str; 6] = [
    "/ultragroup/join.json",
    "/ultragroup/quit.json",
    "/ultragroup/member/exist.json",
    "/group/join.json",
    "/group/quit.json",
    "/group/user/query.json",
];

/// The most users one `/group/join.json` or `/group/quit.json` names, as
/// the platform allows.
pub const MAX_USERS_PER_REQUEST: usize = 1000;

/// The most characters of a group's name (`groupName`), as the platform allows.
const MAX_GROUP_NAME: usize = 64;

/// The repeated `userId` of a group join or quit: 1 to
/// [`MAX_USERS_PER_REQUEST`] user ids.
pub(crate) fn user_ids(name: &'static str, values: &[&str]) -> Result<Vec<UserId>, Error> {
    if values.is_empty() {
        return Err(Error::MissingParameter(name));
    }
    if values.len() > MAX_USERS_PER_REQUEST {
        return Err(Error::Invalid(format!(
            "{} users; at most {MAX_USERS_PER_REQUEST} in one request",
            values.len()
        ))
        .in_parameter(name));
    }
    let mut seen = std::collections::HashSet::with_capacity(values.len());
    let mut ids = Vec::with_capacity(values.len());
    for v in values {
        let id = params::user_id(name, v)?;
        // A user named twice joins (or quits) once.
        if seen.insert(id.as_str().to_owned()) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// The membership request at `path`, or `None` for a path that is not one.
pub(super) fn parse(path: &str, form: &Form<'_>) -> Result<Option<Request>, Error> {
    Ok(Some(match path {
        "/ultragroup/join.json" => Request::UltraGroupJoin {
            group_id: form.target_id("groupId")?,
            user_id: form.user_id("userId")?,
        },
        "/ultragroup/quit.json" => Request::UltraGroupQuit {
            group_id: form.target_id("groupId")?,
            user_id: form.user_id("userId")?,
        },
        "/ultragroup/member/exist.json" => Request::UltraGroupMemberExist {
            group_id: form.target_id("groupId")?,
            user_id: form.user_id("userId")?,
        },
        "/group/join.json" => {
            let user_ids = user_ids("userId", &form.all("userId")?)?;
            let group_id = form.target_id("groupId")?;
            let name = form.required("groupName")?;
            if name.chars().count() > MAX_GROUP_NAME {
                return Err(
                    Error::Invalid(format!("{} characters; at most {MAX_GROUP_NAME}", name.chars().count()))
                        .in_parameter("groupName"),
                );
            }
            Request::GroupJoin { group_id, user_ids }
        }
        "/group/quit.json" => Request::GroupQuit {
            user_ids: user_ids("userId", &form.all("userId")?)?,
            group_id: form.target_id("groupId")?,
        },
        "/group/user/query.json" => Request::GroupUserQuery {
            group_id: form.target_id("groupId")?,
        },
        _ => return Ok(None),
    }))
}

/// Carries out a join or a quit; `None` for any other request.
pub(super) fn apply(settings: &mut Settings, request: &Request) -> Option<Result<(), Error>> {
    use ConversationType::{Group, UltraGroup};
    Some(match request {
        Request::UltraGroupJoin { group_id, user_id } => {
            settings.join(UltraGroup, group_id, std::slice::from_ref(user_id))
        }
        Request::UltraGroupQuit { group_id, user_id } => {
            settings.quit(UltraGroup, group_id, std::slice::from_ref(user_id));
            Ok(())
        }
        Request::GroupJoin { group_id, user_ids } => settings.join(Group, group_id, user_ids),
        Request::GroupQuit { group_id, user_ids } => {
            settings.quit(Group, group_id, user_ids);
            Ok(())
        }
        _ => return None,
    })
}

/// Answers a membership get; `None` for any other request.
pub(super) fn query(settings: &Settings, request: &Request) -> Option<Response> {
    Some(Response::Extension(match request {
        Request::UltraGroupMemberExist { group_id, user_id } => {
            Answer::MemberExists(settings.is_member(ConversationType::UltraGroup, group_id.as_str(), user_id.as_str()))
        }
        Request::GroupUserQuery { group_id } => {
            Answer::GroupUsers(settings.members(ConversationType::Group, group_id.as_str()))
        }
        _ => return None,
    }))
}

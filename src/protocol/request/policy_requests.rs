//! The policy requests (docs/rules.md §10): VIP lists and consent to urgent messages. Same
//! form bodies, validation (1002 naming the parameter, nothing changed on
//! error) and response style as the platform's nine.
//!
//! | path | parameters | answer |
//! |---|---|---|
//! | `/user/vip/set.json` | `userId`, `vipUserIds` (one JSON array of 0 to 100 user ids, none twice; `[]` removes the list), optional `scope` (`quiet`, the default, or `all`) | `{"code":200}` |
//! | `/user/vip/get.json` | `userId` | `{"code":200,"data":{"vipUserIds":[...],"scope":"quiet"}}` (`[]` and `quiet` when none) |
//! | `/user/urgent/set.json` | `userId`, optional `allow` (0 or 1; default 0) | `{"code":200}` |
//! | `/user/urgent/get.json` | `userId` | `{"code":200,"data":{"allow":0}}` |
//! | `/user/keywords/set.json` | `userId`, `keywords` (one JSON array of at most 50 strings, each 1 to 64 characters after NFC with a letter, digit or symbol; `[]` clears) | `{"code":200}` |
//! | `/user/keywords/get.json` | `userId` | `{"code":200,"data":{"keywords":[...]}}` |
//! | `/user/mutedSenders/set.json` | `userId`, `senderIds` (one JSON array of 0 to 1,000 user ids, none twice; `[]` clears), optional `until` (epoch ms or RFC 3339) | `{"code":200}` |
//! | `/usergroup/set.json` | `groupId`, `memberIds` (one JSON array of 0 to 10,000 user ids, none twice; `[]` deletes) | `{"code":200}` |
//! | `/usergroup/get.json` | `groupId` | `{"code":200,"groupId":G,"memberIds":[...]}` (`[]` when none) |
//! | `/usergroup/delete.json` | `groupId` | `{"code":200}` |
//! | `/user/mutedSenders/get.json` | `userId` | `{"code":200,"data":{"senderIds":[...],"until":MS}}` (`until` only when set) |

use serde::Serialize;

use super::extensions::Answer;
use super::{Form, Request, Response};
use crate::error::Error;
use crate::model::id_list::{parse_ids, MAX_GROUP_MEMBERS};
use crate::model::keyword::Keywords;
use crate::model::muted::MutedSenders;
use crate::model::policy::{VipList, VipScope};
use crate::store::Settings;

/// The policy request at `path`, or `None` for a path that is not one.
pub(super) fn parse(path: &str, form: &Form<'_>) -> Result<Option<Request>, Error> {
    Ok(Some(match path {
        "/user/vip/set.json" => {
            let user_id = form.user_id("userId")?;
            let ids = form.parse("vipUserIds", VipList::parse_ids)?;
            let scope = form
                .optional("scope")?
                .map(VipScope::parse)
                .transpose()
                .map_err(|e| e.in_parameter("scope"))?
                .unwrap_or_default();
            let vip = VipList::new(ids, scope).map_err(|e| e.in_parameter("vipUserIds"))?;
            Request::SetVip { user_id, vip }
        }
        "/user/vip/get.json" => Request::GetVip {
            user_id: form.user_id("userId")?,
        },
        "/user/urgent/set.json" => {
            let user_id = form.user_id("userId")?;
            let allow = match form.optional_number("allow")? {
                None | Some(0) => false,
                Some(1) => true,
                Some(n) => return Err(Error::UrgentAllow(n).in_parameter("allow")),
            };
            Request::SetUrgent { user_id, allow }
        }
        "/user/urgent/get.json" => Request::GetUrgent {
            user_id: form.user_id("userId")?,
        },
        "/user/keywords/set.json" => {
            let user_id = form.user_id("userId")?;
            let keywords = form.parse("keywords", Keywords::parse)?;
            Request::SetKeywords { user_id, keywords }
        }
        "/user/keywords/get.json" => Request::GetKeywords {
            user_id: form.user_id("userId")?,
        },
        "/user/mutedSenders/set.json" => {
            let user_id = form.user_id("userId")?;
            let ids = form.parse("senderIds", MutedSenders::parse_ids)?;
            let until = form
                .optional("until")?
                .map(|u| super::extensions::parse_until(u).map_err(|e| e.in_parameter("until")))
                .transpose()?;
            let muted_senders = MutedSenders::new(ids, until).map_err(|e| e.in_parameter("senderIds"))?;
            Request::SetMutedSenders { user_id, muted_senders }
        }
        "/user/mutedSenders/get.json" => Request::GetMutedSenders {
            user_id: form.user_id("userId")?,
        },
        "/usergroup/set.json" => {
            let group_id = form.target_id("groupId")?;
            let member_ids = form.parse("memberIds", |json| parse_ids("memberIds", json, MAX_GROUP_MEMBERS))?;
            Request::SetUserGroup { group_id, member_ids }
        }
        "/usergroup/get.json" => Request::GetUserGroup {
            group_id: form.target_id("groupId")?,
        },
        "/usergroup/delete.json" => Request::DeleteUserGroup {
            group_id: form.target_id("groupId")?,
        },
        _ => return super::repeat_requests::parse(path, form),
    }))
}

/// Carries out a policy change; `None` for any other request.
pub(super) fn apply(settings: &mut Settings, request: &Request) -> Option<Result<(), Error>> {
    Some(match request {
        Request::SetVip { user_id, vip } => settings.set_vip_list(user_id, vip),
        Request::SetUrgent { user_id, allow } => settings.set_urgent_allowed(user_id, *allow),
        Request::SetKeywords { user_id, keywords } => settings.set_keywords(user_id, keywords),
        Request::SetMutedSenders { user_id, muted_senders } => settings.set_muted_senders(user_id, muted_senders),
        Request::SetUserGroup { group_id, member_ids } => settings.set_user_group(group_id, member_ids),
        Request::DeleteUserGroup { group_id } => settings.set_user_group(group_id, &[]),
        _ => return super::repeat_requests::apply(settings, request),
    })
}

/// Answers a policy get; `None` for any other request.
pub(super) fn query(settings: &Settings, request: &Request) -> Option<Response> {
    Some(Response::Extension(match request {
        Request::GetVip { user_id } => Answer::Vip(settings.vip_list(user_id.as_str())),
        Request::GetUrgent { user_id } => Answer::Urgent(settings.urgent_allowed(user_id.as_str())),
        Request::GetKeywords { user_id } => Answer::Keywords(settings.keywords(user_id.as_str())),
        Request::GetMutedSenders { user_id } => Answer::MutedSenders(settings.muted_senders(user_id.as_str())),
        Request::GetUserGroup { group_id } => Answer::UserGroup {
            group_id: group_id.clone(),
            member_ids: settings.user_group(group_id.as_str()),
        },
        _ => return super::repeat_requests::query(settings, request),
    }))
}

/// The VIP get's `data`, its fields in the documented order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct VipData<'a> {
    vip_user_ids: Vec<&'a str>,
    scope: VipScope,
}

impl<'a> VipData<'a> {
    pub(super) fn of(list: Option<&'a VipList>) -> VipData<'a> {
        VipData {
            vip_user_ids: list.map_or_else(Vec::new, |l| l.user_ids().iter().map(|id| id.as_str()).collect()),
            scope: list.map_or(VipScope::Quiet, VipList::scope),
        }
    }
}

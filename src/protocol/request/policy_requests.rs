//! The requests of issue 11: VIP lists and consent to urgent messages. Same
//! form bodies, validation (1002 naming the parameter, nothing changed on
//! error) and response style as the platform's nine.
//!
//! | path | parameters | answer |
//! |---|---|---|
//! | `/user/vip/set.json` | `userId`, `vipUserIds` (one JSON array of 0 to 100 user ids, none twice; `[]` removes the list), optional `scope` (`quiet`, the default, or `all`) | `{"code":200}` |
//! | `/user/vip/get.json` | `userId` | `{"code":200,"data":{"vipUserIds":[...],"scope":"quiet"}}` (`[]` and `quiet` when none) |
//! | `/user/urgent/set.json` | `userId`, optional `allow` (0 or 1; default 0) | `{"code":200}` |
//! | `/user/urgent/get.json` | `userId` | `{"code":200,"data":{"allow":0}}` |

use serde::Serialize;

use super::extensions::Answer;
use super::{Form, Request, Response};
use crate::error::Error;
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
        _ => return super::repeat_requests::parse(path, form),
    }))
}

/// Carries out a policy change; `None` for any other request.
pub(super) fn apply(settings: &mut Settings, request: &Request) -> Option<Result<(), Error>> {
    Some(match request {
        Request::SetVip { user_id, vip } => settings.set_vip_list(user_id, vip),
        Request::SetUrgent { user_id, allow } => settings.set_urgent_allowed(user_id, *allow),
        _ => return super::repeat_requests::apply(settings, request),
    })
}

/// Answers a policy get; `None` for any other request.
pub(super) fn query(settings: &Settings, request: &Request) -> Option<Response> {
    Some(Response::Extension(match request {
        Request::GetVip { user_id } => Answer::Vip(settings.vip_list(user_id.as_str())),
        Request::GetUrgent { user_id } => Answer::Urgent(settings.urgent_allowed(user_id.as_str())),
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

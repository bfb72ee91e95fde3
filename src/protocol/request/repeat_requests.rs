//! The repeated-sender requests. Same form bodies, validation (1002 naming
//! the parameter, nothing changed on error) and response style as the
//! platform's nine.
//!
//! | path | parameters | answer |
//! |---|---|---|
//! | `/user/repeat/set.json` | `userId`, optional `allow` (0 or 1; default 0), optional `windowMinutes` (1 to 60; default 15); a set replaces both | `{"code":200}` |
//! | `/user/repeat/get.json` | `userId` | `{"code":200,"data":{"allow":0,"windowMinutes":15}}` |

use super::extensions::Answer;
use super::{Form, Request, Response};
use crate::error::Error;
use crate::hold::Repeat;
use crate::store::Settings;

/// The paths of the repeated-sender requests.
pub const PATHS: [&str; 2] = ["/user/repeat/set.json", "/user/repeat/get.json"];

/// The repeated-sender request at `path`, or `None` for a path that is not one.
pub(super) fn parse(path: &str, form: &Form<'_>) -> Result<Option<Request>, Error> {
    Ok(Some(match path {
        "/user/repeat/set.json" => {
            let user_id = form.user_id("userId")?;
            let allow = match form.optional_number("allow")? {
                None | Some(0) => false,
                Some(1) => true,
                Some(n) => return Err(Error::UrgentAllow(n).in_parameter("allow")),
            };
            let window = form.optional_number("windowMinutes")?.unwrap_or(15);
            let repeat = Repeat::new(allow, window).map_err(|e| e.in_parameter("windowMinutes"))?;
            Request::SetRepeat { user_id, repeat }
        }
        "/user/repeat/get.json" => Request::GetRepeat {
            user_id: form.user_id("userId")?,
        },
        _ => return super::member_requests::parse(path, form),
    }))
}

/// Carries out a repeated-sender change; `None` for any other request.
pub(super) fn apply(settings: &mut Settings, request: &Request) -> Option<Result<(), Error>> {
    match request {
        Request::SetRepeat { user_id, repeat } => Some(settings.set_repeat(user_id, *repeat)),
        _ => super::member_requests::apply(settings, request),
    }
}

/// Answers a repeated-sender get; `None` for any other request.
pub(super) fn query(settings: &Settings, request: &Request) -> Option<Response> {
    match request {
        Request::GetRepeat { user_id } => Some(Response::Extension(Answer::Repeat(settings.repeat(user_id.as_str())))),
        _ => super::member_requests::query(settings, request),
    }
}

//! The platform's newer JSON API generation (`/v4/...`), as its newest
//! official Python SDK (`ncsdk`) sends it: a JSON object as the body, the
//! conversation type as a string, `channelId` for the target, `subchannelId`
//! for the subchannel and `noDisturbLevel` for the level.
//!
//! Each v4 request maps onto one of the form API's [`Request`]s, so both
//! generations share one set of rules and one store: a write through either is
//! read back through the other. Only the rendering of the answer differs
//! ([`to_json`]): success is `{"code":0}`, a get answers
//! `{"code":0,"result":{"noDisturbLevel":N}}`, and a failure keeps the form
//! API's `{"code":C,"errorMessage":M}`.
//!
//! ```
//! use dnd_engine::{api_v4, Config, Settings};
//! let mut settings = Settings::new(Config::new(chrono_tz::UTC));
//! let set = api_v4::parse("/v4/channel-type/push/set", br#"{"channelType":"3","requestId":"u1","noDisturbLevel":5}"#).unwrap();
//! assert_eq!(api_v4::to_json(&settings.apply(&set)), r#"{"code":0}"#);
//! // Read back through the form API.
//! let form = settings.handle("/conversation/type/notification/get.json", b"conversationType=3&requestId=u1");
//! assert_eq!(form.to_json(), r#"{"code":200,"isMuted":5}"#);
//! ```

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::model::{BusChannel, ConversationKey, ConversationType, Level, TargetId, UserId};
use crate::protocol::request::{Request, Response};

/// The v4 paths served, sets before gets.
pub const PATHS: [&str; 4] = [
    "/v4/channel/push/set",
    "/v4/channel/push/get",
    "/v4/channel-type/push/set",
    "/v4/channel-type/push/get",
];

/// Whether `path` belongs to the v4 generation (answered with [`to_json`]).
pub fn is_v4(path: &str) -> bool {
    path.starts_with("/v4/")
}

/// Decodes and validates the v4 request `body` sent to `path`.
///
/// Unknown fields are ignored, as the form API ignores unknown parameters;
/// every known one is checked and named in the error. An unknown path is
/// [`Error::UnknownPath`].
pub fn parse(path: &str, body: &[u8]) -> Result<Request, Error> {
    if !PATHS.contains(&path) {
        return Err(Error::UnknownPath(path.into()));
    }
    let object = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => object,
        Ok(_) => return Err(Error::field("body", Error::JsonType("a JSON object"))),
        Err(e) => return Err(Error::field("body", Error::Json(e.to_string()))),
    };
    let fields = Fields(&object);
    let conversation_type = fields.conversation_type()?;
    let user_id = UserId::new(fields.string("requestId")?).map_err(|e| e.in_parameter("requestId"))?;
    match path {
        "/v4/channel/push/set" | "/v4/channel/push/get" => {
            let target = TargetId::new(fields.string("channelId")?).map_err(|e| e.in_parameter("channelId"))?;
            let subchannel = fields
                .optional_string("subchannelId")?
                .map(BusChannel::new)
                .transpose()
                .map_err(|e| e.in_parameter("subchannelId"))?;
            let conversation = ConversationKey::new(conversation_type, target, subchannel)
                .map_err(|e| e.in_parameter("subchannelId"))?;
            Ok(if path.ends_with("/set") {
                Request::SetConversationLevel {
                    user_id,
                    conversation,
                    level: fields.level()?,
                }
            } else {
                Request::GetConversationLevel { user_id, conversation }
            })
        }
        _ => Ok(if path.ends_with("/set") {
            Request::SetTypeLevel {
                user_id,
                conversation_type,
                level: fields.level()?,
            }
        } else {
            Request::GetTypeLevel {
                user_id,
                conversation_type,
            }
        }),
    }
}

/// The v4 answer for `response`, as a line of JSON.
pub fn to_json(response: &Response) -> String {
    serde_json::to_string(&V4(response)).unwrap_or_else(|e| format!(r#"{{"code":1000,"errorMessage":"{e}"}}"#))
}

/// The error for a field of the wrong JSON kind: `parameter X: must be Y`.
#[cold]
fn kind(name: &'static str, expected: &'static str) -> Error {
    Error::JsonType(expected).in_parameter(name)
}

/// A v4 request's JSON object.
struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    fn optional_string(&self, name: &'static str) -> Result<Option<&str>, Error> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Err(Error::EmptyParameter(name)),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(kind(name, "a string")),
        }
    }

    fn string(&self, name: &'static str) -> Result<&str, Error> {
        self.optional_string(name)?.ok_or(Error::MissingParameter(name))
    }

    /// `channelType`: a string of digits, as the SDK sends it (a JSON number
    /// is accepted too).
    fn conversation_type(&self) -> Result<ConversationType, Error> {
        const NAME: &str = "channelType";
        let code = match self.0.get(NAME) {
            None | Some(Value::Null) => return Err(Error::MissingParameter(NAME)),
            Some(Value::String(s)) if s.is_empty() => return Err(Error::EmptyParameter(NAME)),
            Some(Value::String(s)) => s.parse::<i64>().map_err(|_| Error::NotANumber {
                name: NAME,
                value: s.as_str().into(),
            })?,
            Some(Value::Number(n)) => n.as_i64().ok_or_else(|| kind(NAME, "a whole number as a string"))?,
            Some(_) => return Err(kind(NAME, "a whole number as a string")),
        };
        ConversationType::from_code(code).map_err(|e| e.in_parameter(NAME))
    }

    /// `noDisturbLevel`: a JSON whole number; 0 removes the setting.
    fn level(&self) -> Result<Option<Level>, Error> {
        const NAME: &str = "noDisturbLevel";
        match self.0.get(NAME) {
            None | Some(Value::Null) => Err(Error::MissingParameter(NAME)),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(code) => Level::from_code(code).map_err(|e| e.in_parameter(NAME)),
                None => Err(kind(NAME, "a whole number")),
            },
            Some(_) => Err(kind(NAME, "a whole number")),
        }
    }
}

/// A [`Response`] in the v4 shape.
struct V4<'a>(&'a Response);

impl Serialize for V4<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Result {
            no_disturb_level: i64,
        }
        let mut map = serializer.serialize_map(None)?;
        match self.0 {
            Response::Error { code, message } => {
                map.serialize_entry("code", code)?;
                map.serialize_entry("errorMessage", message)?;
            }
            Response::Level(level) => {
                map.serialize_entry("code", &0)?;
                map.serialize_entry(
                    "result",
                    &Result {
                        no_disturb_level: Level::code_of(*level),
                    },
                )?;
            }
            // The v4 paths map only onto changes and level gets; any other
            // success (a form request answered in the v4 shape) is a bare 0.
            _ => map.serialize_entry("code", &0)?,
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Config;
    use crate::store::Settings;

    fn answer(settings: &mut Settings, path: &str, body: &str) -> String {
        match parse(path, body.as_bytes()) {
            Ok(request) => to_json(&settings.apply(&request)),
            Err(e) => to_json(&Response::from_error(&e)),
        }
    }

    #[test]
    fn both_generations_share_one_store() {
        let mut s = Settings::new(Config::new(chrono_tz::UTC));
        let set =
            r#"{"channelType":"10","requestId":"u1","channelId":"club","subchannelId":"news","noDisturbLevel":2}"#;
        assert_eq!(answer(&mut s, "/v4/channel/push/set", set), r#"{"code":0}"#);
        let form = s.handle(
            "/conversation/notification/get.json",
            b"conversationType=10&requestId=u1&targetId=club&busChannel=news",
        );
        assert_eq!(form.to_json(), r#"{"code":200,"isMuted":2}"#);
        let ok = s.handle(
            "/conversation/notification/set.json",
            b"conversationType=3&requestId=u1&targetId=g&unpushLevel=5",
        );
        assert_eq!(ok.code(), 200);
        let get = r#"{"channelType":"3","requestId":"u1","channelId":"g"}"#;
        assert_eq!(
            answer(&mut s, "/v4/channel/push/get", get),
            r#"{"code":0,"result":{"noDisturbLevel":5}}"#
        );
        let unset = r#"{"channelType":"1","requestId":"u1"}"#;
        assert_eq!(
            answer(&mut s, "/v4/channel-type/push/get", unset),
            r#"{"code":0,"result":{"noDisturbLevel":0}}"#
        );
    }

    #[test]
    fn errors_name_the_field_and_change_nothing() {
        let mut s = Settings::new(Config::new(chrono_tz::UTC));
        for (body, field) in [
            (
                r#"{"channelType":3,"requestId":"u","noDisturbLevel":3}"#,
                "noDisturbLevel",
            ),
            (
                r#"{"channelType":"7","requestId":"u","noDisturbLevel":5}"#,
                "channelType",
            ),
            (
                r#"{"channelType":"x","requestId":"u","noDisturbLevel":5}"#,
                "channelType",
            ),
            (r#"{"channelType":"3","noDisturbLevel":5}"#, "requestId"),
            (r#"{"channelType":"3","requestId":"","noDisturbLevel":5}"#, "requestId"),
            (
                r#"{"channelType":"3","requestId":"u","noDisturbLevel":"5"}"#,
                "noDisturbLevel",
            ),
            (r#"{"channelType":"3","requestId":"u"}"#, "noDisturbLevel"),
        ] {
            let out = answer(&mut s, "/v4/channel-type/push/set", body);
            assert!(
                out.starts_with(r#"{"code":1002,"#) && out.contains(field),
                "{body} -> {out}"
            );
        }
        let sub = r#"{"channelType":"3","requestId":"u","channelId":"g","subchannelId":"a","noDisturbLevel":5}"#;
        assert!(answer(&mut s, "/v4/channel/push/set", sub).contains("subchannelId"));
        assert!(answer(&mut s, "/v4/channel/push/set", "[1]").contains("JSON object"));
        assert!(answer(&mut s, "/v4/channel/push/set", "{").starts_with(r#"{"code":1002"#));
        assert!(answer(&mut s, "/v4/nothing", "{}").starts_with(r#"{"code":404"#));
        assert_eq!(s.user_count(), 0);
    }
}

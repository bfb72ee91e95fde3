//! Break-through and mention policy (issue 11): the values of VIP lists and
//! urgent messages, and the rule that turns an @all off.
//!
//! - A user's VIP list ([`VipList`]) names up to 100 senders whose messages
//!   reach them through their quiet time (scope [`VipScope::Quiet`]) or
//!   through everything but the sender rule and `disablePush`
//!   ([`VipScope::All`]).
//! - An urgent message ([`Message::with_urgent`](crate::Message::with_urgent))
//!   pushes to every recipient who allows urgent messages, whatever their
//!   layers say. Who may send one, and how often, is the calling service's
//!   decision: the engine trusts the flag.
//! - An @all counts as no mention when the conversation has more members than
//!   the configured maximum, or when its sender may not mention everyone
//!   ([`MentionAllOff`]). The message is never blocked, only the push.

use crate::protocol::shape::Obj;
use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::model::UserId;

/// How far a VIP sender's messages reach through the recipient's settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum VipScope {
    /// Through the quiet time (snooze, period, schedule) only: the message
    /// pushes when the walk pushes, or when the walk without the quiet time
    /// does. The default.
    #[default]
    Quiet,
    /// Through every layer: the message pushes, whatever the layers say
    /// (the sender rule and `disablePush` still come first).
    All,
}

impl VipScope {
    /// The scope named `name` (`quiet` or `all`), as the `scope` parameter gives it.
    pub fn parse(name: &str) -> Result<VipScope, Error> {
        match name {
            "quiet" => Ok(VipScope::Quiet),
            "all" => Ok(VipScope::All),
            _ => Err(Error::VipScope(crate::error::Excerpt::new(name))),
        }
    }

    /// Its name: `quiet` or `all`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            VipScope::Quiet => "quiet",
            VipScope::All => "all",
        }
    }
}

impl fmt::Display for VipScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user's VIP list: 0 to [`VipList::MAX`] distinct user ids and a scope.
/// An empty list is "no list": setting it removes the user's list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Obj<RawVipList>", rename_all = "camelCase")]
pub struct VipList {
    user_ids: Vec<UserId>,
    scope: VipScope,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawVipList {
    user_ids: Vec<UserId>,
    #[serde(default)]
    scope: VipScope,
}

/// A list is a JSON object: never the array of its fields.
impl TryFrom<Obj<RawVipList>> for VipList {
    type Error = Error;
    fn try_from(Obj(raw): Obj<RawVipList>) -> Result<VipList, Error> {
        VipList::new(raw.user_ids, raw.scope)
    }
}

impl VipList {
    /// The most senders a list may name.
    pub const MAX: usize = 100;

    /// The list of `user_ids` with `scope`: at most [`VipList::MAX`] ids, none twice.
    pub fn new(user_ids: Vec<UserId>, scope: VipScope) -> Result<VipList, Error> {
        if user_ids.len() > Self::MAX {
            return Err(too_many(user_ids.len()));
        }
        let mut seen = HashSet::with_capacity(user_ids.len());
        for (i, id) in user_ids.iter().enumerate() {
            if !seen.insert(id.as_str()) {
                return Err(repeated(i, id.as_str()));
            }
        }
        Ok(VipList { user_ids, scope })
    }

    /// Reads `vipUserIds`: one JSON array, in a form field, of 0 to 100
    /// user ids (strings of 1 to 64 bytes), none twice. The error names the
    /// element: `vipUserIds[2]: "boss" is listed twice`.
    pub fn parse_ids(json: &str) -> Result<Vec<UserId>, Error> {
        const MUST_BE: &str = "must be a JSON array of 0 to 100 user ids (strings)";
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| Error::Invalid(format!("vipUserIds: {MUST_BE}; not JSON: {e}")))?;
        let serde_json::Value::Array(items) = value else {
            return Err(Error::Invalid(format!("vipUserIds: {MUST_BE}")));
        };
        if items.len() > Self::MAX {
            return Err(too_many(items.len()));
        }
        let mut ids: Vec<UserId> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let serde_json::Value::String(id) = item else {
                return Err(Error::Invalid(format!("vipUserIds[{i}]: must be a user id (a string)")));
            };
            let id = UserId::new(id).map_err(|e| Error::Invalid(format!("vipUserIds[{i}]: {e}")))?;
            if ids.contains(&id) {
                return Err(repeated(i, id.as_str()));
            }
            ids.push(id);
        }
        Ok(ids)
    }

    /// The senders, in the order given.
    #[must_use]
    pub fn user_ids(&self) -> &[UserId] {
        &self.user_ids
    }

    /// The scope.
    #[must_use]
    pub fn scope(&self) -> VipScope {
        self.scope
    }

    /// Whether the list names no one (and so removes a user's list when set).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.user_ids.is_empty()
    }
}

#[cold]
fn too_many(n: usize) -> Error {
    Error::Invalid(format!("vipUserIds: {n} ids, more than {}", VipList::MAX))
}

#[cold]
fn repeated(i: usize, id: &str) -> Error {
    Error::Invalid(format!("vipUserIds[{i}]: {id:?} is listed twice"))
}

/// Whether a message is urgent and whether its recipient allows urgent
/// messages, as the walk saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Urgency {
    /// The message is not urgent.
    NotUrgent,
    /// The message is urgent; the recipient does not allow urgent messages.
    NotAllowed,
    /// The message is urgent and the recipient allows urgent messages: push.
    Allowed,
}

/// Why a message's @all counts as no mention; both rules may hold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct MentionAllOff {
    /// The message says its sender may not mention everyone
    /// (`"mentionAllAllowed": false`).
    pub not_allowed: bool,
    /// The conversation's member count and the configured maximum, when the
    /// count is above it.
    pub over_maximum: Option<(u32, u32)>,
}

impl MentionAllOff {
    /// Whether either rule holds.
    #[must_use]
    pub const fn is_off(self) -> bool {
        self.not_allowed || self.over_maximum.is_some()
    }
}

impl fmt::Display for MentionAllOff {
    /// The rules that hold, in words.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.not_allowed {
            f.write_str("the sender may not mention everyone (mentionAllAllowed false)")?;
        }
        if let Some((count, max)) = self.over_maximum {
            if self.not_allowed {
                f.write_str(", and ")?;
            }
            write!(
                f,
                "the conversation has {count} members, more than the maximum of {max} for @all"
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod policy_tests {
    use super::*;

    #[test]
    fn vip_ids_are_a_json_array_of_distinct_user_ids() {
        let ok = VipList::parse_ids(r#"["boss", "mum"]"#).unwrap();
        assert_eq!(ok.iter().map(UserId::as_str).collect::<Vec<_>>(), ["boss", "mum"]);
        assert!(VipList::parse_ids("[]").unwrap().is_empty());
        let err = |json: &str| VipList::parse_ids(json).unwrap_err().to_string();
        assert_eq!(err(r#"["a", "b", "a"]"#), r#"vipUserIds[2]: "a" is listed twice"#);
        assert_eq!(err(r#"["a", 7]"#), "vipUserIds[1]: must be a user id (a string)");
        assert!(err(r#"["a", ""]"#).starts_with("vipUserIds[1]: user id"));
        assert!(err(r#"{"a": 1}"#).starts_with("vipUserIds: must be a JSON array"));
        assert!(err("[").contains("not JSON"));
        let hundred: Vec<String> = (0..100).map(|i| format!("\"u{i}\"")).collect();
        assert_eq!(
            VipList::parse_ids(&format!("[{}]", hundred.join(","))).unwrap().len(),
            100
        );
        let many: Vec<String> = (0..101).map(|i| format!("\"u{i}\"")).collect();
        assert_eq!(
            err(&format!("[{}]", many.join(","))),
            "vipUserIds: 101 ids, more than 100"
        );
    }

    #[test]
    fn scopes_are_quiet_and_all() {
        assert_eq!(VipScope::parse("quiet").unwrap(), VipScope::Quiet);
        assert_eq!(VipScope::parse("all").unwrap(), VipScope::All);
        assert!(VipScope::parse("ALL").is_err());
        assert_eq!(VipScope::default(), VipScope::Quiet);
    }
}

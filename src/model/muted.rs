//! A user's muted senders (`docs/rules.md` §11): messages from them do not
//! push to the user, until the mute ends if it has an end.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::model::shape::Obj;
use crate::model::UserId;

/// The senders a user mutes, and when the mute ends (never, without `until`).
///
/// In JSON (a request's and the snapshot's): `{"senderIds": [...], "until":
/// MS}`, `until` left out when the mute does not end.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Obj<RawMutedSenders>", rename_all = "camelCase")]
pub struct MutedSenders {
    sender_ids: Vec<UserId>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "chrono::serde::ts_milliseconds_option"
    )]
    until: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawMutedSenders {
    sender_ids: Vec<UserId>,
    #[serde(default, deserialize_with = "crate::model::shape::optional")]
    until: Option<i64>,
}

impl TryFrom<Obj<RawMutedSenders>> for MutedSenders {
    type Error = Error;
    fn try_from(Obj(raw): Obj<RawMutedSenders>) -> Result<MutedSenders, Error> {
        let until = raw
            .until
            .map(|ms| crate::model::Timestamp::from_millis(ms).map(crate::model::Timestamp::as_datetime))
            .transpose()
            .map_err(|e| Error::Invalid(format!("until: {e}")))?;
        MutedSenders::new(raw.sender_ids, until)
    }
}

impl MutedSenders {
    /// The most senders a user mutes.
    pub const MAX: usize = 1000;

    /// The mute of `sender_ids` (at most [`MutedSenders::MAX`], none twice)
    /// until `until` (never ending without one).
    pub fn new(sender_ids: Vec<UserId>, until: Option<DateTime<Utc>>) -> Result<MutedSenders, Error> {
        if sender_ids.len() > Self::MAX {
            return Err(Error::Invalid(format!(
                "senderIds: {} ids, more than {}",
                sender_ids.len(),
                Self::MAX
            )));
        }
        let mut seen = std::collections::HashSet::with_capacity(sender_ids.len());
        for (i, id) in sender_ids.iter().enumerate() {
            if !seen.insert(id.as_str()) {
                return Err(Error::Invalid(format!(
                    "senderIds[{i}]: {:?} is listed twice",
                    id.as_str()
                )));
            }
        }
        Ok(MutedSenders { sender_ids, until })
    }

    /// The ids of a form field: one JSON array of user ids.
    pub fn parse_ids(json: &str) -> Result<Vec<UserId>, Error> {
        const MUST_BE: &str = "must be a JSON array of 0 to 1000 user ids (strings)";
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| Error::Invalid(format!("senderIds: {MUST_BE}; not JSON: {e}")))?;
        let serde_json::Value::Array(items) = value else {
            return Err(Error::Invalid(format!("senderIds: {MUST_BE}")));
        };
        if items.len() > Self::MAX {
            return Err(Error::Invalid(format!(
                "senderIds: {} ids, more than {}",
                items.len(),
                Self::MAX
            )));
        }
        items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                serde_json::Value::String(id) => {
                    UserId::new(id).map_err(|e| Error::Invalid(format!("senderIds[{i}]: {e}")))
                }
                _ => Err(Error::Invalid(format!("senderIds[{i}]: must be a user id (a string)"))),
            })
            .collect()
    }

    /// The muted senders, in the order given.
    #[must_use]
    pub fn sender_ids(&self) -> &[UserId] {
        &self.sender_ids
    }

    /// When the mute ends, if it does.
    #[must_use]
    pub fn until(&self) -> Option<DateTime<Utc>> {
        self.until
    }

    /// Whether it mutes no one (and so clears a user's mute when set).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.sender_ids.is_empty()
    }
}

//! Ids, each a checked newtype: [`UserId`], [`TargetId`], [`BusChannel`],
//! and [`ConversationKey`], a conversation as a user's setting names it.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ConversationType;
use crate::error::Error;
use crate::error::Excerpt;

/// A validated id: a newtype over `Box<str>` whose `new` accepts `id` when
/// `$valid` holds and answers `$error` otherwise; serde goes through `new`.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, |$id:ident| $valid:expr, $error:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Box<str>);

        impl $name {
            /// Checks `id` against the rule in the type's description.
            pub fn new($id: &str) -> Result<$name, Error> {
                if $valid {
                    Ok($name($id.into()))
                } else {
                    Err($error)
                }
            }

            /// The id.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(s: String) -> Result<Self, Error> {
                $name::new(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0.into()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// The most bytes a user, target or group id may have.
pub const MAX_ID_BYTES: usize = 64;

/// The most characters a subchannel id may have.
pub const MAX_BUS_CHANNEL_LEN: usize = 20;

id_type!(
    /// A user id: 1 to 64 bytes.
    UserId,
    |id| (1..=MAX_ID_BYTES).contains(&id.len()),
    Error::id("user id", id, MAX_ID_BYTES)
);
id_type!(
    /// The id of a conversation's target (a user, a group, an ultra group): 1
    /// to 64 bytes.
    TargetId,
    |id| (1..=MAX_ID_BYTES).contains(&id.len()),
    Error::id("target id", id, MAX_ID_BYTES)
);
id_type!(
    /// An ultra-group subchannel id (`busChannel`): 1 to 20 ASCII letters and
    /// digits.
    BusChannel,
    |id| (1..=MAX_BUS_CHANNEL_LEN).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric()),
    Error::BusChannel(Excerpt::new(id))
);

/// A conversation as a user's setting names it: a type and a target, and for
/// an ultra group optionally one of its subchannels.
///
/// The subchannel can only be given with type 10: the constructor refuses it
/// otherwise, so a key with a subchannel of a regular group cannot exist.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawConversationKey", rename_all = "camelCase")]
pub struct ConversationKey {
    conversation_type: ConversationType,
    target_id: TargetId,
    #[serde(skip_serializing_if = "Option::is_none")]
    bus_channel: Option<BusChannel>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawConversationKey {
    conversation_type: ConversationType,
    target_id: TargetId,
    bus_channel: Option<BusChannel>,
}

impl TryFrom<RawConversationKey> for ConversationKey {
    type Error = Error;
    fn try_from(raw: RawConversationKey) -> Result<Self, Error> {
        ConversationKey::new(raw.conversation_type, raw.target_id, raw.bus_channel)
    }
}

impl ConversationKey {
    /// The conversation `(conversation_type, target_id)`, or with `bus_channel`
    /// one subchannel of the ultra group `target_id`.
    ///
    /// For private and system conversations the target is the other party:
    /// the user or system account whose messages the setting is about.
    pub fn new(
        conversation_type: ConversationType,
        target_id: TargetId,
        bus_channel: Option<BusChannel>,
    ) -> Result<ConversationKey, Error> {
        if bus_channel.is_some() && conversation_type != ConversationType::UltraGroup {
            return Err(Error::BusChannelType(conversation_type.code()));
        }
        Ok(ConversationKey {
            conversation_type,
            target_id,
            bus_channel,
        })
    }

    /// The conversation's type.
    pub fn conversation_type(&self) -> ConversationType {
        self.conversation_type
    }

    /// The conversation's target.
    pub fn target_id(&self) -> &TargetId {
        &self.target_id
    }

    /// The subchannel, for a key that names one.
    pub fn bus_channel(&self) -> Option<&BusChannel> {
        self.bus_channel.as_ref()
    }
}

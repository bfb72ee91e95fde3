//! A digest: one recipient's held items due at one instant, by conversation.
//!
//! As JSON (its `Serialize`): `{"userId", "at", "conversations": [...]}`,
//! with `"folded"` after them when the recipient had items folded into a
//! count; each conversation `{"conversationType", "targetId", "busChannel"
//! (an ultra group's subchannel only), "count", "mentions", "first", "last",
//! "lastFromUserId", "lastMessageId" (when the last message had an id)}`,
//! ordered by `last`, latest first.

use serde::{Serialize, Serializer};

use crate::model::ConversationType;

/// One recipient's held items due at one instant.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Digest {
    /// The recipient.
    pub user_id: String,
    /// When it is due (epoch ms).
    pub at: i64,
    /// Its conversations, the one with the latest message first.
    pub conversations: Vec<DigestConversation>,
    /// How many of the recipient's items were folded into a count (held
    /// beyond the store's detail limit) since their last digest.
    pub folded: u64,
}

impl Digest {
    /// A stable id: the same digest has the same id wherever and however
    /// often it is written (`{at}-{userId}`; at most one digest per
    /// recipient and instant).
    pub fn id(&self) -> String {
        format!("{}-{}", self.at, self.user_id)
    }
}

/// One conversation of a digest.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DigestConversation {
    /// Its type.
    pub conversation_type: ConversationType,
    /// The group or ultra group, or the sender of a private or system message.
    pub target_id: String,
    /// The ultra group's subchannel, if the messages were sent in one.
    pub bus_channel: Option<String>,
    /// How many held messages.
    pub count: u64,
    /// How many of them mention the recipient (by id, or by an @all that counts).
    pub mentions: u64,
    /// The time of the first (epoch ms).
    pub first: i64,
    /// The time of the last (epoch ms).
    pub last: i64,
    /// The sender of the last.
    pub last_from_user_id: String,
    /// The id of the last, if it was given one.
    pub last_message_id: Option<String>,
}

impl Serialize for DigestConversation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Keys<'a> {
            conversation_type: i64,
            target_id: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            bus_channel: Option<&'a str>,
            count: u64,
            mentions: u64,
            first: i64,
            last: i64,
            last_from_user_id: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            last_message_id: Option<&'a str>,
        }
        Keys {
            conversation_type: self.conversation_type.code(),
            target_id: &self.target_id,
            bus_channel: self.bus_channel.as_deref(),
            count: self.count,
            mentions: self.mentions,
            first: self.first,
            last: self.last,
            last_from_user_id: &self.last_from_user_id,
            last_message_id: self.last_message_id.as_deref(),
        }
        .serialize(serializer)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Keys<'a> {
            user_id: &'a str,
            at: i64,
            conversations: &'a [DigestConversation],
            #[serde(skip_serializing_if = "is_zero")]
            folded: u64,
        }
        fn is_zero(n: &u64) -> bool {
            *n == 0
        }
        Keys {
            user_id: &self.user_id,
            at: self.at,
            conversations: &self.conversations,
            folded: self.folded,
        }
        .serialize(serializer)
    }
}

//! The replay protocol's push object: a message and its recipients as JSON,
//! as `dnd replay` reads it and a service's decide endpoint takes it.
//!
//! ```
//! use dnd_engine::push::Push;
//! let push: Push = serde_json::from_str(r#"{"at": 0, "conversationType": 3, "targetId": "g",
//!     "fromUserId": "s", "recipients": ["r"]}"#).unwrap();
//! let ids = push.mentioned_ids();
//! let message = push.message(&ids).unwrap();
//! assert_eq!(message.sender, "s");
//! ```

use serde::Deserialize;

use crate::decide::{Conversation, Message};
use crate::model::{instant_from_millis, parse_instant, ConversationType, Mentions, Timestamp};
use crate::Error;

/// A message line's `push` object.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Push {
    /// When it was sent.
    pub at: At,
    /// The conversation type's code.
    pub conversation_type: i64,
    /// The group or ultra group; not used for private and system messages.
    pub target_id: String,
    /// The subchannel (type 10 only).
    #[serde(default)]
    pub bus_channel: Option<String>,
    /// The sender.
    pub from_user_id: String,
    /// Whom it mentions.
    #[serde(default)]
    pub mentioned_info: Option<MentionedInfo>,
    /// Whether it was sent with `disablePush`.
    #[serde(default)]
    pub disable_push: bool,
    /// The recipients, in order.
    pub recipients: Vec<String>,
}

/// A push's time: milliseconds since the epoch, or RFC 3339 text.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum At {
    /// Milliseconds since the Unix epoch.
    Millis(i64),
    /// RFC 3339 with an offset.
    Text(String),
}

/// A push's `mentionedInfo`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct MentionedInfo {
    /// 1 for @all, 2 for a list of users.
    #[serde(rename = "type")]
    pub kind: i64,
    /// The users, for type 2.
    #[serde(default)]
    pub user_id_list: Vec<String>,
}

impl Push {
    /// The mentioned ids, borrowed, for [`Push::message`].
    pub fn mentioned_ids(&self) -> Vec<&str> {
        self.mentioned_info
            .iter()
            .flat_map(|m| &m.user_id_list)
            .map(String::as_str)
            .collect()
    }

    /// The message, checked; `mentioned` is [`Push::mentioned_ids`].
    pub fn message<'a>(&'a self, mentioned: &'a [&'a str]) -> Result<Message<'a>, Error> {
        let bad = |field: &str, why: String| Error::Push(format!("push.{field}: {why}"));
        let at: Timestamp = match &self.at {
            At::Millis(ms) => instant_from_millis(*ms),
            At::Text(s) => parse_instant(s),
        }
        .map_err(|e| bad("at", e.to_string()))?;
        let conversation_type =
            ConversationType::from_code(self.conversation_type).map_err(|e| bad("conversationType", e.to_string()))?;
        if self.bus_channel.is_some() && conversation_type != ConversationType::UltraGroup {
            return Err(bad(
                "busChannel",
                format!(
                    "a subchannel is given only with conversation type 10, not {}",
                    self.conversation_type
                ),
            ));
        }
        let conversation = match conversation_type {
            ConversationType::Private => Conversation::Private,
            ConversationType::Group => Conversation::Group {
                group_id: &self.target_id,
            },
            ConversationType::System => Conversation::System,
            ConversationType::UltraGroup => Conversation::UltraGroup {
                group_id: &self.target_id,
                bus_channel: self.bus_channel.as_deref(),
            },
        };
        let mentions = match &self.mentioned_info {
            None => Mentions::None,
            Some(m) if m.kind == 1 => Mentions::All,
            Some(m) if m.kind == 2 => Mentions::Users(mentioned),
            Some(m) => {
                return Err(bad(
                    "mentionedInfo.type",
                    format!("{} is not 1 (@all) or 2 (a list of users)", m.kind),
                ))
            }
        };
        Ok(Message {
            conversation,
            sender: &self.from_user_id,
            mentions,
            disable_push: self.disable_push,
            at,
        })
    }
}

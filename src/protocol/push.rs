//! The replay protocol's push object: a message and its recipients as JSON,
//! as `dnd replay` reads it and a service's decide endpoint takes it.
//!
//! ```
//! use dnd_engine::push::Push;
//! let push = Push::from_json(r#"{"at": 0, "conversationType": 3, "targetId": "g",
//!     "fromUserId": "s", "recipients": ["r"]}"#)?;
//! let ids = push.mentioned_ids();
//! let message = push.message(&ids)?;
//! assert_eq!(message.sender, "s");
//!
//! // Errors name the field, and say what it must be.
//! let e = Push::from_json(r#"{"at": 0, "conversationType": "3", "fromUserId": "s", "recipients": []}"#);
//! assert_eq!(e.unwrap_err().to_string(), "push.conversationType: must be an integer (1, 3, 6 or 10)");
//! let push = Push::from_json(r#"{"at": 0, "conversationType": 3, "targetId": "g", "fromUserId": "s", "recipients": ["r", ""]}"#)?;
//! let e = push.message(&[]).unwrap_err().to_string();
//! assert!(e.starts_with("push.recipients[1]: user id"), "{e}");
//! # Ok::<(), dnd_engine::Error>(())
//! ```
//!
//! Reading ([`Push::from_json`], or serde) checks the JSON's shape: every
//! field of the right kind, the required ones present, no unknown or repeated
//! key. [`Push::message`] checks the values by the rules of the settings
//! requests: the time, the conversation type, the ids, the subchannel. Both
//! answer [`Error::Field`], naming the field (`push.recipients[3]`).
//!
//! The answer's side: [`DecisionLine`] writes one recipient's entry of a
//! `decisions` line, the same bytes wherever it is written.

mod answer;
mod de;
mod line;

pub use answer::{lines_refused, write_member_page, write_members, AnswerForm, Compact};
pub use line::DecisionLine;

use serde::de::DeserializeSeed;
use serde::{Deserialize, Deserializer};

use crate::decide::{Conversation, Message};
use crate::error::Error;
use crate::model::{
    instant_from_millis, parse_instant, BusChannel, ConversationType, Mentions, TargetId, Timestamp, UserId,
};

/// A message line's `push` object.
///
/// Deserializing one (with serde, or [`Push::from_json`] for a typed error)
/// checks its shape; [`Push::message`] checks its values.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Push {
    /// When it was sent.
    pub at: At,
    /// The conversation type's code.
    pub conversation_type: i64,
    /// The group or ultra group; not used for private and system messages,
    /// where it may be absent (empty).
    pub target_id: String,
    /// The subchannel (type 10 only).
    pub bus_channel: Option<String>,
    /// The sender.
    pub from_user_id: String,
    /// Whom it mentions.
    pub mentioned_info: Option<MentionedInfo>,
    /// Whether it was sent with `disablePush`.
    pub disable_push: bool,
    /// The recipients, in order.
    pub recipients: Vec<String>,
    /// Whether the message is urgent (`"urgent": true`; absent is `false`).
    pub urgent: bool,
    /// The conversation's member count (`"memberCount"`), if given.
    pub member_count: Option<i64>,
    /// Whether the sender may mention everyone (`"mentionAllAllowed"`;
    /// absent is `true`).
    pub mention_all_allowed: bool,
    /// The message's text, scanned for the recipients' keywords (`"text"`;
    /// absent is empty).
    pub text: String,
    /// Whether the recipients whose push is deferred are held, to be
    /// delivered in a digest (`"hold": true`; absent is `false`).
    pub hold: bool,
    /// The caller's id of the message (`"messageId"`, 1 to 64 bytes), which
    /// a digest names as its conversation's last message.
    pub message_id: Option<String>,
    /// Whether the push goes to every member of its conversation: true
    /// when `recipients` is absent (a group or an ultra group only; the
    /// members are those the settings keep, `docs/rules.md` §13).
    pub members: bool,
    /// The form of the answer (`"answer"`: `lines`, `push` or `bits`;
    /// absent is `lines`).
    pub answer: AnswerForm,
}

/// A push's time: milliseconds since the epoch, or RFC 3339 text.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum At {
    /// Milliseconds since the Unix epoch.
    Millis(i64),
    /// RFC 3339 with an offset.
    Text(String),
}

/// A push's `mentionedInfo`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MentionedInfo {
    /// 1 for @all, 2 for a list of users.
    pub kind: i64,
    /// The users, for type 2.
    pub user_id_list: Vec<String>,
    /// The user groups mentioned (`"userGroupIds"`, at most
    /// [`MAX_MENTIONED_GROUPS`]), with either type: each member is mentioned
    /// as by id, even when an @all counts as no mention.
    pub user_group_ids: Vec<String>,
}

/// The most user groups one message mentions.
pub const MAX_MENTIONED_GROUPS: usize = 32;

impl<'de> Deserialize<'de> for Push {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Push, D::Error> {
        let slot = de::Slot::default();
        de::Expect::new(de::PushObject, &slot, de::Path::Root).deserialize(deserializer)
    }
}

impl Push {
    /// Reads a push object from JSON text, checking its shape: each field of
    /// the right kind, the required ones present (`at`, `conversationType`,
    /// `fromUserId`; `recipients` absent means every member), no unknown or repeated key. The error is an
    /// [`Error::Field`] that names the field.
    pub fn from_json(text: &str) -> Result<Push, Error> {
        let slot = de::Slot::default();
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let read = de::Expect::new(de::PushObject, &slot, de::Path::Root)
            .deserialize(&mut deserializer)
            .and_then(|push| deserializer.end().map(|()| push));
        read.map_err(|e| {
            slot.take()
                .unwrap_or_else(|| Error::field("push", Error::Json(e.to_string())))
        })
    }

    /// The mentioned ids, borrowed, for [`Push::message`].
    pub fn mentioned_ids(&self) -> Vec<&str> {
        self.mentioned_info
            .iter()
            .flat_map(|m| m.user_id_list.iter().chain(&m.user_group_ids))
            .map(String::as_str)
            .collect()
    }

    /// The message, checked by the rules the settings requests follow: `at`
    /// a message time; `conversationType` 1, 3, 6 or 10; `targetId` a target
    /// id for types 3 and 10 (not read for 1 and 6); `busChannel` a subchannel
    /// id, with type 10 only; `fromUserId`, each mentioned id and each
    /// recipient a user id; `mentionedInfo.type` 1 or 2; `memberCount` 0 to
    /// 4294967295; `messageId` 1 to 64 bytes. The error names the first
    /// field that fails, in the order `at`, `conversationType`, `targetId`,
    /// `busChannel`, `fromUserId`, `mentionedInfo`, `memberCount`,
    /// `messageId`, `recipients`.
    ///
    /// `mentioned` is [`Push::mentioned_ids`].
    pub fn message<'a>(&'a self, mentioned: &'a [&'a str]) -> Result<Message<'a>, Error> {
        let at: Timestamp = match &self.at {
            At::Millis(ms) => instant_from_millis(*ms),
            At::Text(s) => parse_instant(s),
        }
        .map_err(|e| Error::field("push.at", e))?;
        let conversation_type = ConversationType::from_code(self.conversation_type)
            .map_err(|e| Error::field("push.conversationType", e))?;
        let grouped = matches!(
            conversation_type,
            ConversationType::Group | ConversationType::UltraGroup
        );
        if grouped {
            TargetId::new(&self.target_id).map_err(|e| Error::field("push.targetId", e))?;
        }
        if let Some(bus_channel) = &self.bus_channel {
            if conversation_type != ConversationType::UltraGroup {
                return Err(Error::field(
                    "push.busChannel",
                    Error::BusChannelType(self.conversation_type),
                ));
            }
            BusChannel::new(bus_channel).map_err(|e| Error::field("push.busChannel", e))?;
        }
        UserId::new(&self.from_user_id).map_err(|e| Error::field("push.fromUserId", e))?;
        // `mentioned` holds the user ids, then the user group ids.
        let users = self.mentioned_info.as_ref().map_or(0, |m| m.user_id_list.len());
        let (mentioned, groups) = mentioned.split_at(users.min(mentioned.len()));
        if let Some(m) = &self.mentioned_info {
            if m.user_group_ids.len() > MAX_MENTIONED_GROUPS {
                return Err(Error::field(
                    "push.mentionedInfo.userGroupIds",
                    Error::Invalid(format!(
                        "{} user groups, more than {MAX_MENTIONED_GROUPS}",
                        m.user_group_ids.len()
                    )),
                ));
            }
            for (i, id) in m.user_group_ids.iter().enumerate() {
                TargetId::new(id).map_err(|e| Error::field(format!("push.mentionedInfo.userGroupIds[{i}]"), e))?;
            }
        }
        let mentions = match &self.mentioned_info {
            None => Mentions::None,
            Some(m) => {
                let mentions = match m.kind {
                    1 => Mentions::All,
                    2 => Mentions::Users(mentioned),
                    other => return Err(Error::field("push.mentionedInfo.type", Error::MentionType(other))),
                };
                for (i, id) in m.user_id_list.iter().enumerate() {
                    check_user_id(id, || format!("push.mentionedInfo.userIdList[{i}]"))?;
                }
                mentions
            }
        };
        let member_count = self
            .member_count
            .map(|n| {
                u32::try_from(n).map_err(|_| {
                    Error::field(
                        "push.memberCount",
                        Error::Invalid(format!(
                            "{n} is not a member count (a whole number from 0 to {})",
                            u32::MAX
                        )),
                    )
                })
            })
            .transpose()?;
        crate::hold::check_message_id(self.message_id.as_deref()).map_err(|e| match e {
            Error::Field { source, .. } => Error::Field {
                path: "push.messageId".into(),
                source,
            },
            e => e,
        })?;
        for (i, id) in self.recipients.iter().enumerate() {
            check_user_id(id, || format!("push.recipients[{i}]"))?;
        }
        if self.members && !grouped {
            return Err(Error::field(
                "push.recipients",
                Error::Invalid(
                    "required for a private or system message (only groups and ultra groups have members)".into(),
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
        let mut message = Message::new(conversation, &self.from_user_id, at)
            .with_mentions(mentions)
            .with_mention_all_allowed(self.mention_all_allowed)
            .with_text(&self.text)
            .with_mentioned_groups(groups);
        message.disable_push = self.disable_push;
        message.urgent = self.urgent;
        message.member_count = member_count;
        message.hold = self.hold;
        message.message_id = self.message_id.as_deref();
        Ok(message)
    }
}

/// Checks `id` as a user id; `path` names it in the error.
fn check_user_id(id: &str, path: impl FnOnce() -> String) -> Result<(), Error> {
    match UserId::new(id) {
        Ok(_) => Ok(()),
        Err(e) => Err(Error::field(path(), e)),
    }
}

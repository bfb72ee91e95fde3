//! A held message: what it takes to decide the same message again at
//! another instant, owned, and its held items.

use crate::decide::{Conversation, Message};
use crate::model::{ConversationType, Mentions, Timestamp};

/// Whom a held message mentions, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum HeldMentions {
    None,
    All,
    Users(Box<[Box<str>]>),
}

/// One held item: a recipient (by number in the store) and the instant it
/// was last found due at (`i64::MIN` before its first evaluation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Item {
    pub(crate) recipient: u32,
    pub(crate) due: i64,
}

/// A message that has held items, owned: every field a decision reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HeldMessage {
    pub(crate) conversation_type: ConversationType,
    /// The group or ultra group; empty for private and system messages.
    pub(crate) target: Box<str>,
    pub(crate) bus_channel: Option<Box<str>>,
    pub(crate) sender: Box<str>,
    pub(crate) mentions: HeldMentions,
    /// The user groups mentioned (group and ultra-group messages only:
    /// elsewhere they mention no one).
    pub(crate) mentioned_groups: Box<[Box<str>]>,
    /// The text scanned for keywords (group and ultra-group messages only:
    /// elsewhere a keyword is no mention); empty for none.
    pub(crate) text: Box<str>,
    pub(crate) urgent: bool,
    pub(crate) member_count: Option<u32>,
    pub(crate) mention_all_allowed: bool,
    pub(crate) at: Timestamp,
    pub(crate) message_id: Option<Box<str>>,
    pub(crate) items: Vec<Item>,
}

impl HeldMessage {
    /// `message`, owned, with no items yet.
    pub(crate) fn of(message: &Message<'_>) -> HeldMessage {
        let (target, bus_channel) = match message.conversation {
            Conversation::Group { group_id } => (group_id, None),
            Conversation::UltraGroup { group_id, bus_channel } => (group_id, bus_channel),
            _ => ("", None),
        };
        let grouped = matches!(
            message.conversation,
            Conversation::Group { .. } | Conversation::UltraGroup { .. }
        );
        HeldMessage {
            conversation_type: message.conversation.conversation_type(),
            target: target.into(),
            bus_channel: bus_channel.map(Into::into),
            sender: message.sender.into(),
            mentions: match message.mentions {
                Mentions::All => HeldMentions::All,
                Mentions::Users(ids) => HeldMentions::Users(ids.iter().map(|&id| id.into()).collect()),
                _ => HeldMentions::None,
            },
            mentioned_groups: match grouped {
                true => message.mentioned_groups.iter().map(|&id| id.into()).collect(),
                false => Box::default(),
            },
            text: match grouped {
                true => message.text.into(),
                false => Box::default(),
            },
            urgent: message.urgent,
            member_count: message.member_count,
            mention_all_allowed: message.mention_all_allowed,
            at: message.at,
            message_id: message.message_id.map(Into::into),
            items: Vec::new(),
        }
    }

    /// The mentioned user ids, then the mentioned user group ids, borrowed,
    /// for [`message_at`](Self::message_at).
    pub(crate) fn mentioned(&self) -> Vec<&str> {
        let users: &[Box<str>] = match &self.mentions {
            HeldMentions::Users(ids) => ids,
            _ => &[],
        };
        users
            .iter()
            .chain(self.mentioned_groups.iter())
            .map(|id| &**id)
            .collect()
    }

    /// The same message, sent at `at`: its mentions (by id and by user
    /// group), text, urgency and sender as held; `mentioned` is
    /// [`mentioned`](Self::mentioned).
    pub(crate) fn message_at<'a>(&'a self, at: Timestamp, mentioned: &'a [&'a str]) -> Message<'a> {
        let (users, groups) = mentioned.split_at(mentioned.len().saturating_sub(self.mentioned_groups.len()));
        let conversation = match self.conversation_type {
            ConversationType::Private => Conversation::Private,
            ConversationType::System => Conversation::System,
            ConversationType::Group => Conversation::Group { group_id: &self.target },
            ConversationType::UltraGroup => Conversation::UltraGroup {
                group_id: &self.target,
                bus_channel: self.bus_channel.as_deref(),
            },
        };
        let mut message = Message::new(conversation, &self.sender, at)
            .with_mentions(match self.mentions {
                HeldMentions::None => Mentions::None,
                HeldMentions::All => Mentions::All,
                HeldMentions::Users(_) => Mentions::Users(users),
            })
            .with_mention_all_allowed(self.mention_all_allowed);
        message.mentioned_groups = groups;
        message.text = &self.text;
        message.urgent = self.urgent;
        message.member_count = self.member_count;
        message.message_id = self.message_id.as_deref();
        message
    }

    /// The conversation as a digest names it: type, target (the sender for
    /// private and system messages) and subchannel.
    pub(crate) fn conversation_key(&self) -> (ConversationType, &str, Option<&str>) {
        let target = match self.conversation_type {
            ConversationType::Private | ConversationType::System => &self.sender,
            _ => &self.target,
        };
        (self.conversation_type, target, self.bus_channel.as_deref())
    }
}

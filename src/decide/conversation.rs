//! What a decision is for: the conversation a message was sent in and the
//! message itself, as the caller describes it.

use super::*;

/// The conversation a message was sent in, as its recipients see it.
///
/// A private or system conversation is named, on the recipient's side, by the
/// other party, which is the sender: so those variants carry no target, and
/// the recipient's conversation level is looked up under the sender's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Conversation<'a> {
    /// A one-to-one message.
    Private,
    /// A message to group `group_id`.
    Group {
        /// The group.
        group_id: &'a str,
    },
    /// A system message.
    System,
    /// A message to ultra group `group_id`, in subchannel `bus_channel` if any.
    UltraGroup {
        /// The ultra group.
        group_id: &'a str,
        /// The subchannel, if the message was sent in one.
        bus_channel: Option<&'a str>,
    },
}

impl Conversation<'_> {
    /// The conversation's type.
    pub const fn conversation_type(&self) -> ConversationType {
        match self {
            Conversation::Private => ConversationType::Private,
            Conversation::Group { .. } => ConversationType::Group,
            Conversation::System => ConversationType::System,
            Conversation::UltraGroup { .. } => ConversationType::UltraGroup,
        }
    }
}

/// One message, as the decision needs it.
///
/// Made by [`Message::new`] and the `with_` methods; later versions may add
/// fields, with defaults that keep today's answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Message<'a> {
    /// Where it was sent.
    pub conversation: Conversation<'a>,
    /// Who sent it.
    pub sender: &'a str,
    /// Whom it mentions.
    pub mentions: Mentions<'a>,
    /// Whether it was sent with `disablePush`.
    pub disable_push: bool,
    /// When it was sent: a [`Timestamp`], in the range the time-zone tables
    /// cover.
    pub at: Timestamp,
    /// Whether it is urgent: it then pushes to every recipient who allows
    /// urgent messages, whatever their layers say (after the sender rule and
    /// `disablePush`). Who may send urgent messages, and how often, is the
    /// calling service's decision; the engine trusts this flag.
    pub urgent: bool,
    /// The conversation's member count, if the caller knows it: with
    /// [`Config::mention_all_max_members`](crate::Config::mention_all_max_members),
    /// an @all in a conversation with more members counts as no mention.
    pub member_count: Option<u32>,
    /// Whether the sender may mention everyone (`true` unless the caller
    /// says otherwise): an @all from a sender who may not counts as no mention.
    pub mention_all_allowed: bool,
    /// The message's text, or the part of it the caller wants scanned for
    /// keywords (empty: none). In a group or ultra-group message, a keyword
    /// of the recipient found in it counts as a mention of the recipient.
    pub text: &'a str,
    /// The user groups the message mentions (`mentionedInfo.userGroupIds`):
    /// in a group or ultra-group message, each member is mentioned as by
    /// id, whatever becomes of an @all.
    pub mentioned_groups: &'a [&'a str],
    /// Whether a recipient whose push is deferred is held, to be delivered
    /// in a digest when it is due ([`Held`](crate::Held)); the decision is
    /// the same either way.
    pub hold: bool,
    /// The caller's id of the message (1 to 64 bytes), which a digest names
    /// as its conversation's last message; checked when it is held.
    pub message_id: Option<&'a str>,
}

impl<'a> Message<'a> {
    /// A message from `sender` in `conversation` at `at`, with no mentions and
    /// pushes allowed.
    pub fn new(conversation: Conversation<'a>, sender: &'a str, at: Timestamp) -> Message<'a> {
        Message {
            conversation,
            sender,
            mentions: Mentions::None,
            disable_push: false,
            at,
            urgent: false,
            member_count: None,
            mention_all_allowed: true,
            text: "",
            mentioned_groups: &[],
            hold: false,
            message_id: None,
        }
    }

    /// This message, mentioning the user groups `groups` (see
    /// [`Message::mentioned_groups`]).
    #[must_use = "a Message is Copy: this returns the changed message and leaves the original alone"]
    pub fn with_mentioned_groups(mut self, groups: &'a [&'a str]) -> Message<'a> {
        self.mentioned_groups = groups;
        self
    }

    /// This message, with text `text` (see [`Message::text`]).
    #[must_use = "a Message is Copy: this returns the changed message and leaves the original alone"]
    pub fn with_text(mut self, text: &'a str) -> Message<'a> {
        self.text = text;
        self
    }

    /// This message, mentioning `mentions`.
    #[must_use = "a Message is Copy: this returns the changed message and leaves the original alone"]
    pub fn with_mentions(mut self, mentions: Mentions<'a>) -> Message<'a> {
        self.mentions = mentions;
        self
    }

    /// This message, sent at `at` instead.
    #[must_use = "a Message is Copy: this returns the changed message and leaves the original alone"]
    pub fn with_time(mut self, at: Timestamp) -> Message<'a> {
        self.at = at;
        self
    }

    /// This message, sent with `disablePush`.
    #[must_use = "a Message is Copy: this returns the changed message and leaves the original alone"]
    pub fn with_push_disabled(mut self) -> Message<'a> {
        self.disable_push = true;
        self
    }

    /// This message, marked urgent (see [`Message::urgent`]).
    #[must_use = "a Message is Copy: this returns the changed message and leaves the original alone"]
    pub fn with_urgent(mut self) -> Message<'a> {
        self.urgent = true;
        self
    }

    /// This message, in a conversation of `members` members (see [`Message::member_count`]).
    #[must_use = "a Message is Copy: this returns the changed message and leaves the original alone"]
    pub fn with_member_count(mut self, members: u32) -> Message<'a> {
        self.member_count = Some(members);
        self
    }

    /// This message, from a sender who may (`true`) or may not mention
    /// everyone (see [`Message::mention_all_allowed`]).
    #[must_use = "a Message is Copy: this returns the changed message and leaves the original alone"]
    pub fn with_mention_all_allowed(mut self, allowed: bool) -> Message<'a> {
        self.mention_all_allowed = allowed;
        self
    }

    /// This message, asking that its deferred pushes be held (see [`Message::hold`]).
    #[must_use = "a Message is Copy: this returns the changed message and leaves the original alone"]
    pub fn with_hold(mut self) -> Message<'a> {
        self.hold = true;
        self
    }

    /// This message, with the caller's id `id` (see [`Message::message_id`]).
    #[must_use = "a Message is Copy: this returns the changed message and leaves the original alone"]
    pub fn with_message_id(mut self, id: &'a str) -> Message<'a> {
        self.message_id = Some(id);
        self
    }
}

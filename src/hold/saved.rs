//! The held items as a save writes them and a restore reads them back:
//! each held message, owned, with its items (recipient and due instant),
//! the recipients' folded counts, and the store's counters. A save of a
//! store restored from it holds the same items, due at the same instants,
//! and releases the same digests.
//!
//! ```
//! use dnd_engine::{chrono_tz, Config, Conversation, Held, Message, Settings};
//! let mut settings = Settings::new(Config::new(chrono_tz::UTC));
//! settings.handle("/user/blockPushPeriod/set.json", b"userId=u&startTime=22:00:00&period=540&level=5");
//! let mut held = Held::new();
//! let message = Message::new(Conversation::Group { group_id: "g" }, "s", "2026-11-22T23:30:00Z".parse()?).with_hold();
//! let prepared = settings.prepare(&message);
//! held.hold(&prepared, [("u", prepared.decide_id("u"))])?;
//!
//! let mut copy = Held::new();
//! for m in held.saved_messages() {
//!     copy.restore_message(m)?;
//! }
//! for (id, n) in held.saved_folded() {
//!     copy.restore_folded(&id, n)?;
//! }
//! copy.restore_counters(held.last_evaluation(), held.dropped());
//! let at = "2026-11-23T08:00:00Z".parse()?;
//! assert_eq!(copy.release(&settings, at), held.release(&settings, at));
//! # Ok::<(), dnd_engine::Error>(())
//! ```

use super::message::{HeldMentions, HeldMessage, Item};
use super::{check_message_id, Held};
use crate::error::Error;
use crate::model::{BusChannel, ConversationType, TargetId, Timestamp, UserId};
use crate::protocol::push::MAX_MENTIONED_GROUPS;

/// Whom a saved held message mentions.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SavedMentions {
    /// Nobody.
    None,
    /// Everyone (@all).
    All,
    /// These users.
    Users(Vec<String>),
}

/// One held item of a saved message: its recipient and the instant it was
/// last found due at (`None` before its first evaluation).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SavedItem {
    /// The recipient.
    pub user_id: String,
    /// When it was last found due (epoch ms), if it was evaluated.
    pub due: Option<i64>,
}

impl SavedItem {
    /// An item of `user_id`, last found due at `due`.
    pub fn new(user_id: impl Into<String>, due: Option<i64>) -> SavedItem {
        SavedItem {
            user_id: user_id.into(),
            due,
        }
    }
}

/// One held message as saved: every field a decision reads, owned, and its
/// items in the order held.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SavedMessage {
    /// Its conversation type.
    pub conversation_type: ConversationType,
    /// The group or ultra group; empty for private and system messages.
    pub target_id: String,
    /// The ultra group's subchannel, if it was sent in one.
    pub bus_channel: Option<String>,
    /// The sender.
    pub from_user_id: String,
    /// Whom it mentions.
    pub mentions: SavedMentions,
    /// The user groups it mentions (`mentionedInfo.userGroupIds`), for a
    /// group or ultra-group message.
    pub mentioned_groups: Vec<String>,
    /// Its text, scanned for keywords, for a group or ultra-group message
    /// (empty: none).
    pub text: String,
    /// Whether it is urgent.
    pub urgent: bool,
    /// The conversation's member count, if it was given.
    pub member_count: Option<u32>,
    /// Whether the sender may mention everyone.
    pub mention_all_allowed: bool,
    /// Its time (epoch ms).
    pub at: i64,
    /// The caller's id of the message, if it was given one.
    pub message_id: Option<String>,
    /// Its items, in the order held; at least one.
    pub items: Vec<SavedItem>,
}

impl SavedMessage {
    /// A message of `conversation_type` in `target_id` (empty for private
    /// and system messages) from `from_user_id` at `at`, mentioning nobody,
    /// not urgent, @all allowed, with no items yet.
    pub fn new(
        conversation_type: ConversationType,
        target_id: impl Into<String>,
        from_user_id: impl Into<String>,
        at: i64,
    ) -> SavedMessage {
        SavedMessage {
            conversation_type,
            target_id: target_id.into(),
            bus_channel: None,
            from_user_id: from_user_id.into(),
            mentions: SavedMentions::None,
            mentioned_groups: Vec::new(),
            text: String::new(),
            urgent: false,
            member_count: None,
            mention_all_allowed: true,
            at,
            message_id: None,
            items: Vec::new(),
        }
    }

    /// `held`, owned, with its items' recipients named.
    fn of(held: &Held, m: &HeldMessage) -> SavedMessage {
        SavedMessage {
            conversation_type: m.conversation_type,
            target_id: m.target.to_string(),
            bus_channel: m.bus_channel.as_deref().map(str::to_owned),
            from_user_id: m.sender.to_string(),
            mentions: match &m.mentions {
                HeldMentions::None => SavedMentions::None,
                HeldMentions::All => SavedMentions::All,
                HeldMentions::Users(ids) => SavedMentions::Users(ids.iter().map(|id| id.to_string()).collect()),
            },
            mentioned_groups: m.mentioned_groups.iter().map(|id| id.to_string()).collect(),
            text: m.text.to_string(),
            urgent: m.urgent,
            member_count: m.member_count,
            mention_all_allowed: m.mention_all_allowed,
            at: m.at.millis(),
            message_id: m.message_id.as_deref().map(str::to_owned),
            items: m
                .items
                .iter()
                .map(|i| SavedItem {
                    user_id: held.recipients.id(i.recipient).to_owned(),
                    due: (i.due != i64::MIN).then_some(i.due),
                })
                .collect(),
        }
    }

    /// Checks every value as a push's are checked; the error names the field.
    fn check(&self) -> Result<(), Error> {
        Timestamp::from_millis(self.at).map_err(|e| Error::field("at", e))?;
        match self.conversation_type {
            ConversationType::Group | ConversationType::UltraGroup => {
                TargetId::new(&self.target_id).map_err(|e| Error::field("targetId", e))?;
            }
            _ if !self.target_id.is_empty() => {
                return Err(Error::field(
                    "targetId",
                    Error::Invalid("a private or system message has no target".into()),
                ))
            }
            _ => {}
        }
        if let Some(bus) = &self.bus_channel {
            if self.conversation_type != ConversationType::UltraGroup {
                return Err(Error::field(
                    "busChannel",
                    Error::BusChannelType(self.conversation_type.code()),
                ));
            }
            BusChannel::new(bus).map_err(|e| Error::field("busChannel", e))?;
        }
        UserId::new(&self.from_user_id).map_err(|e| Error::field("fromUserId", e))?;
        if let SavedMentions::Users(ids) = &self.mentions {
            for (i, id) in ids.iter().enumerate() {
                UserId::new(id).map_err(|e| Error::field(format!("mentions[{i}]"), e))?;
            }
        }
        let grouped = matches!(
            self.conversation_type,
            ConversationType::Group | ConversationType::UltraGroup
        );
        if !grouped && !self.mentioned_groups.is_empty() {
            return Err(Error::field(
                "mentionedUserGroupIds",
                Error::Invalid("only a group or ultra-group message mentions user groups".into()),
            ));
        }
        if self.mentioned_groups.len() > MAX_MENTIONED_GROUPS {
            return Err(Error::field(
                "mentionedUserGroupIds",
                Error::Invalid(format!(
                    "{} user groups, more than {MAX_MENTIONED_GROUPS}",
                    self.mentioned_groups.len()
                )),
            ));
        }
        for (i, id) in self.mentioned_groups.iter().enumerate() {
            TargetId::new(id).map_err(|e| Error::field(format!("mentionedUserGroupIds[{i}]"), e))?;
        }
        if !grouped && !self.text.is_empty() {
            return Err(Error::field(
                "text",
                Error::Invalid("only a group or ultra-group message is scanned for keywords".into()),
            ));
        }
        check_message_id(self.message_id.as_deref())?;
        if self.items.is_empty() {
            return Err(Error::field(
                "items",
                Error::Invalid("a held message has at least one item".into()),
            ));
        }
        let mut seen = hashbrown::HashSet::with_capacity(self.items.len());
        for (i, item) in self.items.iter().enumerate() {
            let place = format!("items[{i}]");
            UserId::new(&item.user_id).map_err(|e| Error::field(format!("{place}.userId"), e))?;
            if !seen.insert(item.user_id.as_str()) {
                return Err(Error::field(
                    format!("{place}.userId"),
                    Error::Invalid(format!("{:?} is held twice for one message", item.user_id)),
                ));
            }
            if let Some(due) = item.due {
                Timestamp::from_millis(due).map_err(|e| Error::field(format!("{place}.due"), e))?;
            }
        }
        Ok(())
    }
}

impl Held {
    /// The held messages, in the order they were held, each owned with its
    /// items: what a save writes, one message at a time.
    pub fn saved_messages(&self) -> impl Iterator<Item = SavedMessage> + '_ {
        self.messages.values().map(|m| SavedMessage::of(self, m))
    }

    /// The recipients with items folded into a count, and the counts, in
    /// the order first held.
    pub fn saved_folded(&self) -> impl Iterator<Item = (String, u64)> + '_ {
        let recipients = &self.recipients;
        (0..recipients.len() as u32)
            .filter(|&n| recipients.entries[n as usize].folded > 0)
            .map(|n| (recipients.id(n).to_owned(), recipients.entries[n as usize].folded))
    }

    /// Restores a saved held message after those restored before (the
    /// order held is the order restored), its items held in detail even
    /// beyond the detail limit (they were when saved). An error naming
    /// the field, with nothing restored, when a value is not one a push
    /// takes, it has no item, or it holds a recipient twice.
    pub fn restore_message(&mut self, saved: SavedMessage) -> Result<(), Error> {
        saved.check()?;
        let mut m = HeldMessage {
            conversation_type: saved.conversation_type,
            target: saved.target_id.into(),
            bus_channel: saved.bus_channel.map(Into::into),
            sender: saved.from_user_id.into(),
            mentions: match saved.mentions {
                SavedMentions::None => HeldMentions::None,
                SavedMentions::All => HeldMentions::All,
                SavedMentions::Users(ids) => HeldMentions::Users(ids.into_iter().map(Into::into).collect()),
            },
            mentioned_groups: saved.mentioned_groups.into_iter().map(Into::into).collect(),
            text: saved.text.into(),
            urgent: saved.urgent,
            member_count: saved.member_count,
            mention_all_allowed: saved.mention_all_allowed,
            at: Timestamp::from_millis(saved.at)?,
            message_id: saved.message_id.map(Into::into),
            items: Vec::with_capacity(saved.items.len()),
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        for item in &saved.items {
            let n = self.recipients.number(&item.user_id);
            self.recipients.entries[n as usize].detailed += 1;
            m.items.push(Item {
                recipient: n,
                due: item.due.unwrap_or(i64::MIN),
            });
        }
        self.by_sender.entry(m.sender.clone()).or_default().insert(seq);
        self.messages.insert(seq, m);
        Ok(())
    }

    /// Restores recipient `user_id`'s folded count (added to any restored
    /// before). An error when the id is not a user id or `count` is 0.
    pub fn restore_folded(&mut self, user_id: &str, count: u64) -> Result<(), Error> {
        UserId::new(user_id)?;
        if count == 0 {
            return Err(Error::Invalid("a folded count of 0 is never saved".into()));
        }
        let n = self.recipients.number(user_id);
        let e = &mut self.recipients.entries[n as usize];
        e.folded = e.folded.saturating_add(count);
        Ok(())
    }

    /// Restores the instant of the last evaluation and the count of items
    /// dropped so far.
    pub fn restore_counters(&mut self, last_evaluation: Option<i64>, dropped: u64) {
        self.last_evaluation = last_evaluation;
        self.dropped = dropped;
    }

    /// The earliest instant an item held in detail was last found due at
    /// (for an item not evaluated yet, the instant its push was deferred
    /// to), if anything is held: when an evaluation may next release a
    /// digest, the settings unchanged. A recipient's folded items go with
    /// their items in detail.
    pub fn next_due(&self) -> Option<i64> {
        self.messages
            .values()
            .flat_map(|m| {
                m.items
                    .iter()
                    .map(move |i| if i.due == i64::MIN { m.at.millis() } else { i.due })
            })
            .min()
    }

    /// Sets the most items per recipient kept in detail (at least 1), for
    /// the items held from now on.
    pub fn set_detail_limit(&mut self, limit: u32) {
        self.limit = limit.max(1);
    }
}

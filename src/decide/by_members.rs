//! Deciding a message for every member of its conversation, as the
//! settings keep them (`docs/rules.md` §13): the members are walked by
//! number in ascending order, a batch at a time, and each batch takes the
//! batch path by handle (`decide_into`), so a conversation of ten million
//! members is decided in the order the users' records lie, with nothing
//! hashed and a batch's buffers the only memory.

use super::{Conversation, Decision, PreparedMessage};
use crate::model::{ConversationType, UserId};
use crate::store::UserHandle;

/// Members decided per batch.
pub const MEMBER_BATCH: usize = 4096;

impl PreparedMessage<'_> {
    /// Decides every member of the message's conversation (a group's or an
    /// ultra group's; private and system messages have none), in member
    /// order: ascending by the users' numbers, as
    /// [`Settings::member_handles`](crate::Settings::member_handles) walks
    /// them. `each` is given a batch of at most [`MEMBER_BATCH`] members and
    /// their decisions, the same as [`decide_into`](Self::decide_into) gives
    /// for them. Returns how many members were decided. Allocates two
    /// batch buffers, whatever the conversation's size.
    ///
    /// ```
    /// use dnd_engine::{chrono_tz, Config, Conversation, Message, Settings, Timestamp};
    /// let mut s = Settings::new(Config::new(chrono_tz::UTC));
    /// s.handle("/ultragroup/join.json", b"groupId=g&userId=a");
    /// s.handle("/ultragroup/join.json", b"groupId=g&userId=b");
    /// s.handle("/conversation/notification/set.json",
    ///     b"conversationType=10&requestId=b&targetId=g&unpushLevel=5");
    /// let at = Timestamp::from_millis(0)?;
    /// let message = Message::new(Conversation::UltraGroup { group_id: "g", bus_channel: None }, "s", at);
    /// let prepared = s.prepare(&message);
    /// let mut pushed = Vec::new();
    /// let n = prepared.decide_members(|members, decisions| {
    ///     for (h, d) in members.iter().zip(decisions) {
    ///         if d.push() { pushed.push(s.user_id(*h).unwrap().to_owned()); }
    ///     }
    /// });
    /// assert_eq!((n, pushed), (2, vec!["a".to_owned()]));
    /// # Ok::<(), dnd_engine::Error>(())
    /// ```
    pub fn decide_members(&self, each: impl FnMut(&[UserHandle], &[Decision])) -> usize {
        self.decide_member_page(0, usize::MAX, each).0
    }

    /// As [`decide_members`](Self::decide_members), for a page: the members
    /// whose numbers ([`UserHandle::number`]) are `first` or more, at most
    /// `limit` of them. Returns how many were decided and, when members
    /// remain past the page, the `first` of the next page.
    pub fn decide_member_page(
        &self,
        first: u32,
        limit: usize,
        mut each: impl FnMut(&[UserHandle], &[Decision]),
    ) -> (usize, Option<u32>) {
        let settings = self.settings();
        let conversation = self.message().conversation;
        let (t, target) = match conversation {
            Conversation::Group { group_id } | Conversation::UltraGroup { group_id, .. } => {
                (conversation.conversation_type(), group_id)
            }
            _ => return (0, None),
        };
        let batch = MEMBER_BATCH.min(limit).max(1);
        let mut handles = Vec::with_capacity(batch.min(settings.member_count(t, target)));
        let mut decisions = Vec::with_capacity(handles.capacity());
        let mut members = settings.member_handles_from(t, target, first).peekable();
        let mut total = 0;
        while total < limit {
            handles.clear();
            handles.extend(members.by_ref().take(batch.min(limit - total)));
            if handles.is_empty() {
                break;
            }
            // The handles are these settings' own: `decide_into` refuses
            // only another settings' handle.
            if self.decide_into(&handles, &mut decisions).is_ok() {
                each(&handles, &decisions);
                total += handles.len();
            }
        }
        (total, members.peek().map(|h| h.number()))
    }

    /// The members of the message's conversation, as ids, in member order
    /// (none for a private or system message).
    pub fn member_ids(&self) -> Vec<UserId> {
        let settings = self.settings();
        match self.message().conversation {
            Conversation::Group { group_id } => settings.members(ConversationType::Group, group_id),
            Conversation::UltraGroup { group_id, .. } => settings.members(ConversationType::UltraGroup, group_id),
            _ => Vec::new(),
        }
    }
}

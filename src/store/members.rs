//! Conversations' member lists, kept where the members' settings are
//! (`docs/rules.md` §13): a group's or an ultra group's members, joined and
//! quit through the platform's membership requests, as a [`MemberSet`] of
//! user numbers per conversation. A message to the conversation with no
//! recipients is decided for every member, walking them by number in
//! ascending order: the order the fanout reads the users' records best.
//!
//! In a sharded deployment each shard keeps only its own users' memberships
//! (a join is routed by the member's id), so that each shard walks its own
//! members and nothing else.

use hashbrown::HashMap;

use super::member_set::MemberSet;
use super::{Settings, UserHandle};
use crate::error::Error;
use crate::model::{ConversationType, TargetId, UserId};

/// Every conversation's members, by conversation type (group or ultra
/// group) and target id.
#[derive(Clone, Debug, Default)]
pub(crate) struct Members {
    /// Index 0: groups (3); 1: ultra groups (10).
    by_type: [HashMap<Box<str>, MemberSet>; 2],
}

/// The slot of a type that has members; `None` for private and system.
fn slot(t: ConversationType) -> Option<usize> {
    match t {
        ConversationType::Group => Some(0),
        ConversationType::UltraGroup => Some(1),
        _ => None,
    }
}

impl Members {
    /// The members of `target` of type `t`, if any joined.
    pub(crate) fn of(&self, t: ConversationType, target: &str) -> Option<&MemberSet> {
        self.by_type[slot(t)?].get(target)
    }

    /// Every conversation with members: its type, target id and members.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (ConversationType, &str, &MemberSet)> {
        let types = [ConversationType::Group, ConversationType::UltraGroup];
        types
            .into_iter()
            .zip(&self.by_type)
            .flat_map(|(t, map)| map.iter().map(move |(g, m)| (t, &**g, m)))
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.by_type
            .iter()
            .flat_map(|m| m.iter())
            .map(|(g, m)| g.len() + m.heap_bytes() + 48)
            .sum()
    }
}

impl Settings {
    /// Adds `users` to the members of conversation `target` of type
    /// `conversation_type` (a group or an ultra group; other types hold no
    /// members and nothing changes). Joining twice is joining once. Each
    /// member is numbered, as a user who sets something is; running out of
    /// numbers is refused before anything changes.
    pub fn join(
        &mut self,
        conversation_type: ConversationType,
        target: &TargetId,
        users: &[UserId],
    ) -> Result<(), Error> {
        let Some(s) = slot(conversation_type) else {
            return Ok(());
        };
        // Number them all first: a refusal changes nothing.
        let numbers = users
            .iter()
            .map(|id| self.intern_user(id).map(UserHandle::number))
            .collect::<Result<Vec<_>, Error>>()?;
        let set = self.members.by_type[s].entry_ref(target.as_str()).or_default();
        for n in numbers {
            set.insert(n);
        }
        Ok(())
    }

    /// Removes `users` from the members of `target`; a user who is not a
    /// member is passed over. The last member's quit forgets the
    /// conversation's list.
    pub fn quit(&mut self, conversation_type: ConversationType, target: &TargetId, users: &[UserId]) {
        let Some(s) = slot(conversation_type) else { return };
        let map = &mut self.members.by_type[s];
        let Some(set) = map.get_mut(target.as_str()) else {
            return;
        };
        for id in users {
            if let Some(h) = self.interner.get(id.as_str()) {
                set.remove(h.number());
            }
        }
        if set.is_empty() {
            map.remove(target.as_str());
        }
    }

    /// Whether `user` is a member of `target`.
    pub fn is_member(&self, conversation_type: ConversationType, target: &str, user: &str) -> bool {
        match (self.members.of(conversation_type, target), self.user(user)) {
            (Some(set), Some(h)) => set.contains(h.number()),
            _ => false,
        }
    }

    /// How many members `target` has.
    pub fn member_count(&self, conversation_type: ConversationType, target: &str) -> usize {
        self.members.of(conversation_type, target).map_or(0, MemberSet::len)
    }

    /// The members of `target`, as handles, in member order: ascending by
    /// the users' numbers (the order in which these settings first saw
    /// them). Nothing when nobody joined.
    pub fn member_handles<'s>(
        &'s self,
        conversation_type: ConversationType,
        target: &str,
    ) -> impl Iterator<Item = UserHandle> + 's {
        self.member_handles_from(conversation_type, target, 0)
    }

    /// The members of `target` whose numbers are `first` or more, as
    /// handles, in member order: a page of [`Settings::member_handles`]
    /// resumed after a member whose number was `first - 1`.
    pub fn member_handles_from<'s>(
        &'s self,
        conversation_type: ConversationType,
        target: &str,
        first: u32,
    ) -> impl Iterator<Item = UserHandle> + 's {
        self.members
            .of(conversation_type, target)
            .into_iter()
            .flat_map(move |set| set.iter_from(first))
            .map(|n| self.handle_at(n as usize))
    }

    /// The members of `target`, as ids, in member order ([`Settings::member_handles`]).
    pub fn members(&self, conversation_type: ConversationType, target: &str) -> Vec<UserId> {
        self.members
            .of(conversation_type, target)
            .into_iter()
            .flat_map(MemberSet::iter)
            .filter_map(|n| UserId::new(self.user_id_at(n as usize)?).ok())
            .collect()
    }
}

//! The saved form of the member lists: one entry per conversation with
//! members, sorted by type and target id, its members in member order
//! (their numbers, ascending), each a user of `users`. An optional section
//! of formats 2 and 3, left out when nobody joined anything; format 1 has
//! none.

use std::collections::HashSet;

use super::format::MembersSnapshot;
use super::{at, once, Obj};
use crate::error::Error;
use crate::model::{ConversationType, TargetId, UserId};
use crate::store::Settings;

impl Settings {
    /// Every conversation's members, as saved; `None` when there are none.
    pub(super) fn members_snapshot(&self) -> Option<Vec<Obj<MembersSnapshot>>> {
        let mut lists: Vec<_> = self.members.iter().collect();
        lists.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        let saved: Vec<_> = lists
            .into_iter()
            .map(|(t, target, set)| {
                Obj(MembersSnapshot {
                    conversation_type: t,
                    target_id: target.to_owned(),
                    member_ids: set
                        .iter()
                        .map(|n| self.user_id_at(n as usize).unwrap_or_default().to_owned())
                        .collect(),
                })
            })
            .collect();
        (!saved.is_empty()).then_some(saved)
    }

    /// Restores the member lists, whose members must all be in `users`
    /// (so they keep their numbers, and the lists their order).
    pub(super) fn restore_members(&mut self, lists: &[Obj<MembersSnapshot>]) -> Result<(), Error> {
        let mut seen = HashSet::new();
        for (i, Obj(m)) in lists.iter().enumerate() {
            let place = format!("members[{i}]");
            if !matches!(
                m.conversation_type,
                ConversationType::Group | ConversationType::UltraGroup
            ) {
                return Err(Error::snapshot(format_args!(
                    "{place}.conversationType: only groups (3) and ultra groups (10) have members"
                )));
            }
            let target = TargetId::new(&m.target_id).map_err(at(&format!("{place}.targetId")))?;
            once(
                &mut seen,
                (m.conversation_type, m.target_id.clone()),
                &format!("{place}.targetId"),
            )?;
            if m.member_ids.is_empty() {
                return Err(Error::snapshot(format_args!(
                    "{place}.memberIds: at least one member (a conversation nobody is in is never saved)"
                )));
            }
            let mut members = HashSet::with_capacity(m.member_ids.len());
            let mut ids = Vec::with_capacity(m.member_ids.len());
            for (k, id) in m.member_ids.iter().enumerate() {
                let member = format!("{place}.memberIds[{k}]");
                if self.user(id).is_none() {
                    return Err(Error::snapshot(format_args!("{member}: {id:?} is not in users")));
                }
                once(&mut members, id.as_str(), &member)?;
                ids.push(UserId::new(id).map_err(at(&member))?);
            }
            self.join(m.conversation_type, &target, &ids)?;
        }
        Ok(())
    }
}

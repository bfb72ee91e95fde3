//! User groups: named sets of users that a message can mention at once
//! (`docs/rules.md` §11). Stored by group id, the members as numbers in the
//! order set; a message resolves the groups it mentions once, at prepare.

use hashbrown::HashMap;

use super::{Settings, UserHandle};
use crate::error::Error;
use crate::model::{TargetId, UserId};

/// Every user group's members, by group id.
#[derive(Clone, Debug, Default)]
pub(crate) struct UserGroups {
    groups: HashMap<Box<str>, Box<[u32]>>,
}

impl UserGroups {
    /// Whether any group exists.
    pub(crate) fn any(&self) -> bool {
        !self.groups.is_empty()
    }

    /// The members of group `id`, if it exists.
    pub(crate) fn members(&self, id: &str) -> Option<&[u32]> {
        self.groups.get(id).map(|m| &m[..])
    }

    /// Every group, in no order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &[u32])> {
        self.groups.iter().map(|(g, m)| (&**g, &m[..]))
    }
}

impl Settings {
    /// Replaces user group `group`'s members (an empty list deletes the
    /// group). The members are numbered, as a VIP list's senders are.
    pub fn set_user_group(&mut self, group: &TargetId, members: &[UserId]) -> Result<(), Error> {
        if members.is_empty() {
            self.user_groups.groups.remove(group.as_str());
            return Ok(());
        }
        let members = members
            .iter()
            .map(|id| self.intern_user(id).map(UserHandle::number))
            .collect::<Result<Box<[_]>, Error>>()?;
        self.user_groups.groups.insert(group.as_str().into(), members);
        Ok(())
    }

    /// The members of user group `group`, in the order set (empty when
    /// there is no such group).
    pub fn user_group(&self, group: &str) -> Vec<UserId> {
        self.user_groups
            .members(group)
            .unwrap_or_default()
            .iter()
            .filter_map(|&n| UserId::new(self.user_id_at(n as usize)?).ok())
            .collect()
    }
}
